"""Benchmark: dense L2 logistic regression, ours (L-BFGS and Newton) vs scikit-learn's lbfgs.

Same data, same C, same ``tol`` (both stop on the largest gradient entry of the sample-normalised
objective, scikit-learn's ``gtol``), same thread count for Numba, BLAS and OpenMP. Prints wall times,
the speed ratio sklearn / ours, iterations and the objective each reached; writes a bar chart.

    python -m benchmarks.logistic --rows 1000000 --features 50 --threads 2
"""
import argparse
import os

from benchmarks.timing import fastest_of


def make_data(n_rows, n_features, seed=0):
    """Correlated Gaussian features and labels drawn from a logistic model (no separation)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    X[:, 1:] += 0.5 * X[:, :-1]  # neighbouring features correlated, as real designs are
    beta = rng.normal(scale=0.3, size=n_features)
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-(X @ beta - 0.5)))).astype(np.float64)
    return X, y


def objective(X, y, coef, intercept, C):
    """scikit-learn's objective divided by C * n: mean log-loss + ||coef||^2 / (2 C n)."""
    import numpy as np

    z = X @ coef.ravel() + intercept[0]
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * coef.ravel() @ coef.ravel() / (C * len(y)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--tol", type=float, nargs="+", default=[1e-4, 1e-6])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--figure", default=os.path.join(os.path.dirname(__file__), "figures", "logistic.png"))
    args = parser.parse_args()
    # Thread pools are sized when numba, OpenBLAS and OpenMP load: fix them before any import. A pool
    # larger than the threads used (set_num_threads) ran 1.5x slower on a busy machine.
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads starve a shared machine

    import numba
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from threadpoolctl import threadpool_limits

    from bindings.logistic import LogisticRegression

    numba.set_num_threads(args.threads)
    X, y = make_data(args.rows, args.features)
    LogisticRegression(solver="lbfgs", max_iter=3).fit(X[:5000], y[:5000])  # compile outside the timings
    LogisticRegression(solver="newton", max_iter=3).fit(X[:5000], y[:5000])
    print(f"{args.rows} x {args.features} dense, C={args.C}, {args.threads} threads (numba, BLAS, OpenMP)")
    print(f"{'tol':>7} {'solver':>16} {'seconds':>8} {'iters':>6} {'objective':>18} {'sklearn/ours':>13}")
    rows = []
    with threadpool_limits(limits=args.threads):
        for tol in args.tol:
            peer = SkLogisticRegression(C=args.C, solver="lbfgs", tol=tol, max_iter=1000)
            t_sk, sk = fastest_of(lambda: peer.fit(X, y), args.repeats)
            print(f"{tol:7.0e} {'sklearn lbfgs':>16} {t_sk:8.2f} {sk.n_iter_[0]:6d} "
                  f"{objective(X, y, sk.coef_, sk.intercept_, args.C):18.12f} {1.0:13.2f}")
            for solver in ("lbfgs", "newton"):
                t, ours = fastest_of(lambda: LogisticRegression(C=args.C, solver=solver, tol=tol, max_iter=1000,
                                                           n_jobs=args.threads).fit(X, y), args.repeats)
                print(f"{tol:7.0e} {'ours ' + solver:>16} {t:8.2f} {ours.n_iter_:6d} "
                      f"{objective(X, y, ours.coef_, ours.intercept_, args.C):18.12f} {t_sk / t:13.2f}")
                rows.append((tol, solver, t_sk, t))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"tol={tol:.0e}\n{solver}" for tol, solver, _, _ in rows]
    ax.bar(labels, [t_sk / t for _, _, t_sk, t in rows], color="tab:blue")
    ax.axhline(1.0, color="black", lw=1, ls="--")
    ax.set_ylabel("speed-up over sklearn lbfgs")
    ax.set_title(f"L2 logistic regression, {args.rows}x{args.features}, {args.threads} threads")
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.figure), exist_ok=True)
    fig.savefig(args.figure, dpi=110)
    print("figure:", args.figure)


if __name__ == "__main__":
    main()
