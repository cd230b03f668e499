"""Small and medium data: warm fit times, a grid search and the cold start, ours against XGBoost and
LightGBM (``python -m benchmarks --tasks small``).

Most fits are small, and a hyper-parameter search runs dozens of them, so this part of the suite
times what a user waits for there:

- fits of 1k x 10, breast cancer 569 x 30, 6k x 8, 50k x 20 and 200k x 28 rows (binary, 200
  trees (``--trees``) of depth 6, 256 bins, learning rate 0.1): each library in a fresh process
  fits once (its compile or load time, reported apart as ``compile s`` = first fit - fastest
  fit), then ``FITS`` more times (fewer for the larger tasks); the fastest counts;
- ``GridSearchCV(estimator, 12 settings, cv=5, n_jobs=2)`` on the 6k rows (half the trees): run twice
  in a fresh process (the first starts the worker processes and loads their code), the second timed;
- the cold start: a fresh process imports the scikit-learn estimator, fits 100 trees on 1k x 10
  rows and predicts them, with Numba's cache filled and, for us, empty (a new cache folder); its
  wall seconds, and the CPU seconds (user + sys) of the process, which other jobs on a shared
  machine inflate less. With the cache filled, the row also times "numba alone"
  (``benchmarks.numba_floor``: scikit-learn's and Numba's imports and one small cached function's
  first call), the floor any Numba-compiled package starts from.

Libraries run in turn, every round (``--repeats``), so a slow phase of the shared machine slows
each of them: ratios are each library's seconds over ours, the ``paired`` one the median over
rounds of the same round's ratio. ``--baseline PATH`` adds our engine from another checkout as
library ``baseline`` (its ``bindings`` and ``gbdt`` first on the path of its processes): a
before/after table in one run. Before the rounds
the sources of our engine's checkouts are byte-compiled, as an install leaves them, and
``python -m bindings.warmup`` fills each one's cache (the child of each library then warms its path).
``--small-rows 1k,grid_search,cold_start`` runs some rows only.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import report
from benchmarks.child import PREFIX

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("ours", "xgboost", "lightgbm")
FITS = 5
TREES, DEPTH, BINS, LEARNING_RATE = 200, 6, 256, 0.1
GRID = {"max_depth": [3, 4, 6], "learning_rate": [0.05, 0.1], "min_child_weight": [1.0, 5.0]}
COLD_TREES, COLD_ROWS = 100, 1000
# task: description
TASKS = {"1k": "binary 1k x 10", "breast_cancer": "breast cancer 569 x 30", "6k": "make_classification 6k x 8",
         "50k": "make_classification 50k x 20", "200k": "binary 200k x 28"}
ROW_TITLES = {**TASKS, "grid_search": "grid search 12 x 5 folds", "cold_start_warm_cache": "cold start, cache",
              "cold_start_empty_cache": "cold start, no cache"}
FITS_OF_LARGE = {"50k": 3, "200k": 2}  # timed fits of the larger tasks (FITS for the others)


def make_data(task):
    """(X, y) float64 of a small task (seed 0)."""
    from sklearn.datasets import load_breast_cancer, make_classification

    from benchmarks.synthetic import binary_task

    if task == "1k":
        return binary_task(1000, 10)
    if task == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    if task == "6k":
        return make_classification(6000, 8, random_state=0)
    if task == "50k":
        return make_classification(50_000, 20, random_state=0)
    return binary_task(200_000, 28)


def estimator(library, threads, **params):
    """The scikit-learn classifier of ``library`` (its binary objective, 256 bins, L2 = 1)."""
    if library in ("ours", "baseline"):
        from bindings import GBDTClassifier

        return GBDTClassifier(max_bin=BINS, n_jobs=threads, **params)
    if library == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(tree_method="hist", max_bin=BINS, n_jobs=threads, **params)
    from lightgbm import LGBMClassifier

    # leaf-wise with 2^depth leaves (of the deepest setting): the depth is the only cap, as for the
    # depthwise libraries; its max_bin leaves out the missing-value bin that XGBoost counts
    params = {"min_child_weight": 1.0, **params}
    return LGBMClassifier(max_bin=BINS - 1, n_jobs=threads, num_leaves=2 ** DEPTH, min_child_samples=1,
                          reg_lambda=1.0, verbose=-1, **params)


def fit_once(library, X, y, threads, trees=TREES):
    """Seconds of one fit of ``trees`` trees."""
    model = estimator(library, threads, n_estimators=trees, max_depth=DEPTH, learning_rate=LEARNING_RATE)
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def grid_search_seconds(library, threads, trees):
    """(first, second) seconds of the grid search on the 6k task, in this process."""
    from sklearn.model_selection import GridSearchCV

    X, y = make_data("6k")
    seconds = []
    for _ in range(2):
        search = GridSearchCV(estimator(library, threads, n_estimators=trees), GRID, cv=5, n_jobs=2)
        start = time.perf_counter()
        search.fit(X, y)
        seconds.append(time.perf_counter() - start)
    return seconds


def measure(spec):
    """Run one child measurement (``spec``: {"kind": "fit" or "grid", "library", "task", "threads",
    "trees"})."""
    if spec["kind"] == "grid":
        first, best = grid_search_seconds(spec["library"], spec["threads"], spec["trees"] // 2)
    else:
        X, y = make_data(spec["task"])
        first = fit_once(spec["library"], X, y, spec["threads"], spec["trees"])
        best = min(fit_once(spec["library"], X, y, spec["threads"], spec["trees"])
                   for _ in range(FITS_OF_LARGE.get(spec["task"], FITS)))
    engine = sys.modules.get("bindings")  # which checkout of our engine ran
    return {"train_s": best, "compile_s": max(first - best, 0.0), "engine": getattr(engine, "__file__", None)}


COLD_SCRIPT = """
import sys, time
start = time.perf_counter()
import numpy as np
from benchmarks.small import estimator
sys.path[:0] = {ours_root!r}
if {library!r} == "numba alone":
    from benchmarks.numba_floor import numba_alone
    numba_alone()
else:
    rng = np.random.default_rng(0)
    X = rng.standard_normal(({rows}, 10)); y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    model = estimator({library!r}, {threads}, n_estimators={trees}, max_depth=6)
    model.fit(X, y).predict_proba(X)
print({prefix!r} + repr(time.perf_counter() - start))
"""


def _environment(threads, cache_dir=None):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads),
           "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                                      os.environ.get("PYTHONPATH")]))}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    return env


def run_child(spec, baseline, timeout):
    """``measure(spec)`` in a fresh process; {"error": why} when it fails."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({**spec, "ours_root": str(baseline) if spec["library"] == "baseline" else None}, fh)
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks.small", fh.name], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout,
                              env=_environment(spec["threads"]))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    finally:
        os.unlink(fh.name)
    lines = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]}
    return json.loads(lines[-1][len(PREFIX):])


def cold_start(library, threads, baseline, timeout, empty_cache):
    """Seconds of the cold-start script in a fresh process (an empty Numba cache when ``empty_cache``)."""
    script = COLD_SCRIPT.format(rows=COLD_ROWS, library=library, threads=threads, trees=COLD_TREES, prefix=PREFIX,
                                ours_root=[str(baseline)] if library == "baseline" else [])
    with tempfile.TemporaryDirectory(prefix="gbdt-cold-") as folder:
        env = _environment(threads, folder if empty_cache else None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]}
    # the child's CPU seconds, start to exit: a loaded machine inflates them less than the wall time
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"train_s": float(lines[-1][len(PREFIX):]), "cpu_s": cpu}


def warm_up(libraries, timeout, baseline=None):
    """Ready our engine's checkouts (this one; ``baseline``'s too when it runs) as an install leaves
    them, then fill Numba's cache for their common paths; returns seconds. An install byte-compiles
    the sources (pip does), as XGBoost's and LightGBM's are: without it an environment with
    PYTHONDONTWRITEBYTECODE set compiles ``bindings`` and ``gbdt`` again in every child (~0.1 s of
    CPU a process). Then ``python -m bindings.warmup`` in each checkout."""
    start = time.perf_counter()
    roots = ([ROOT] if "ours" in libraries else []) + ([Path(baseline)] if "baseline" in libraries else [])
    for root in roots:  # ``-m`` from the checkout's root: its own packages come first on the path
        subprocess.run([sys.executable, "-m", "compileall", "-q", "bindings", "gbdt"], cwd=root, capture_output=True,
                       timeout=timeout)
        subprocess.run([sys.executable, "-m", "bindings.warmup"], cwd=root, capture_output=True, timeout=timeout,
                       env=_environment(2))
    if "ours" in libraries:  # the cold start's "numba alone" row loads its function from the cache
        subprocess.run([sys.executable, "-c", "from benchmarks.numba_floor import numba_alone; numba_alone()"],
                       cwd=ROOT, capture_output=True, timeout=timeout, env=_environment(2))
    return time.perf_counter() - start


def _rows(args, libraries, names):
    """{row: {library: [result of each round]}} of the rows ``names`` (fit tasks, "grid_search",
    "cold_start")."""
    rows = {}
    trees = args.trees or TREES
    for _ in range(args.repeats):
        for name in names:
            for library in libraries:
                def add(row, result):
                    rows.setdefault(row, {}).setdefault(library, []).append(result)

                if name in TASKS:
                    spec = {"kind": "fit", "library": library, "task": name, "threads": args.threads, "trees": trees}
                    add(name, run_child(spec, args.baseline, args.timeout))
                elif name == "grid_search":
                    spec = {"kind": "grid", "library": library, "task": "6k", "threads": args.threads, "trees": trees}
                    add(name, run_child(spec, args.baseline, args.timeout))
                else:
                    add("cold_start_warm_cache", cold_start(library, args.threads, args.baseline, args.timeout, False))
                    if library == "ours":  # Numba's own floor, in the same round
                        rows["cold_start_warm_cache"].setdefault("numba alone", []).append(
                            cold_start("numba alone", args.threads, args.baseline, args.timeout, False))
                    if library in ("ours", "baseline"):
                        add("cold_start_empty_cache", cold_start(library, args.threads, args.baseline, args.timeout,
                                                                 True))
    return rows


def summarize(runs):
    """{library: result} of one row: the fastest round, ``train_x_ours`` and the paired ratio."""
    results = {}
    for library, library_runs in runs.items():
        good = [r for r in library_runs if "error" not in r]
        if not good:
            results[library] = library_runs[-1]
            continue
        best = min(good, key=lambda r: r["train_s"])
        results[library] = {**best, "train_s_rounds": [r.get("train_s") for r in library_runs]}
        if "cpu_s" in best:  # cold start: the median CPU seconds of the rounds as well
            results[library]["cpu_s_median"] = statistics.median(r["cpu_s"] for r in good)
    ours = results.get("ours", {})
    for r in results.values():
        if "error" not in r and "train_s" in ours:
            r["train_x_ours"] = r["train_s"] / ours["train_s"]
    return report.add_paired_ratios(results, runs)


def table(rows):
    """The printable table: seconds per library and ratios (peer s / ours: above 1 we are faster)."""
    libraries = list(dict.fromkeys(lib for row in rows.values() for lib in row))
    head = f"{'task':28s}" + "".join(f"{lib + ' s':>13s}" for lib in libraries) + "".join(
        f"{lib + ' / ours':>17s}" for lib in libraries if lib != "ours") + "".join(
        f"{lib + ' compile':>18s}" for lib in libraries)
    lines = [head]
    for name, results in rows.items():
        line = f"{ROW_TITLES.get(name, name):28s}"
        for lib in libraries:
            r = results.get(lib, {})
            line += f"{r['train_s']:13.3f}" if "train_s" in r else f"{'-':>13s}"
        for lib in libraries:
            if lib == "ours":
                continue
            r = results.get(lib, {})
            ratio = r.get("train_x_ours_paired", r.get("train_x_ours"))
            line += f"{ratio:17.2f}" if ratio is not None else f"{'-':>17s}"
        for lib in libraries:
            r = results.get(lib, {})
            line += f"{r['compile_s']:18.2f}" if "compile_s" in r else f"{'-':>18s}"
        lines.append(line)
    for name, results in rows.items():
        if any("cpu_s_median" in r for r in results.values()):
            lines.append(f"{ROW_TITLES.get(name, name)}, CPU s (user + sys of the process, median of the rounds): "
                         + ", ".join(f"{lib} {r['cpu_s_median']:.2f}" for lib, r in results.items()
                                     if "cpu_s_median" in r))
    lines.append("ratios: peer seconds / ours (paired: median over rounds of the same round's ratio); "
                 "compile: first fit - fastest fit (grid search: first run - second)")
    return "\n".join(lines)


def run_small(args):
    """The small-data rows at ``args.threads``: printed, saved as JSON under ``args.out``; returns the payload."""
    from benchmarks.machine import machine_info
    from bindings.model_format import write_json_atomic

    libraries = ["ours"] + (["baseline"] if args.baseline else []) + [lib for lib in LIBRARIES[1:]
                                                                     if lib in args.libraries]
    payload = {"machine": machine_info(), "setting": {"trees": TREES, "depth": DEPTH, "bins": BINS,
                                                      "threads": args.threads, "repeats": args.repeats,
                                                      "baseline": str(args.baseline) if args.baseline else None},
               "warmup_s": warm_up(libraries, args.timeout, args.baseline)}
    names = args.small_rows.split(",") if args.small_rows else list(TASKS) + ["grid_search", "cold_start"]
    unknown = [n for n in names if n not in TASKS and n not in ("grid_search", "cold_start")]
    if unknown:
        raise SystemExit(f"--small-rows: unknown {unknown}; choose from {','.join(TASKS)},grid_search,cold_start")
    payload["rows"] = {name: summarize(runs) for name, runs in _rows(args, libraries, names).items()}
    print(table(payload["rows"]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "small.json", payload)
    print(f"results: {out / 'small.json'}")
    return payload


if __name__ == "__main__":
    child_spec = json.loads(Path(sys.argv[1]).read_text())
    if child_spec["ours_root"]:  # the baseline's bindings and gbdt, imported by the measurement
        sys.path.insert(0, child_spec["ours_root"])
    print(PREFIX + json.dumps(measure(child_spec)), flush=True)
