"""Contextual vs context-blind policies on linear contextual arms, and the GBDT hybrid.

5 arms, contexts x ~ N(0, I_5), arm k pays x . theta_k + N(0, 0.1^2), 3,000 rounds. LinUCB and
linear Thompson sampling learn theta_k (one ridge regression per arm) and their regret flattens;
UCB1 and Thompson sampling cannot see the context, every arm has mean 0 to them, and their regret
grows linearly. The hybrid ``RewardModelEpsilonGreedy`` uses our ``bindings.GBDTRegressor`` as
the greedy part (refit every 500 rounds, epsilon = 0.05); it chooses in batches of 100 contexts,
as a deployed model would, since one GBDT prediction per round would dominate the run time.

Writes examples/figures/bandits_contextual.png; the key number is LinUCB's final regret as a
fraction of UCB1's.

    python examples/bandits_contextual.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings import GBDTRegressor  # noqa: E402
from bindings.bandits import (UCB1, GaussianThompsonSampling, LinearContextualArms,  # noqa: E402
                              LinearThompsonSampling, LinUCB, RewardModelEpsilonGreedy, simulate)

HORIZON = 3000
BATCH = 100


def hybrid_regret(env, run):
    """Cumulative regret (HORIZON,) of the GBDT hybrid choosing BATCH contexts at a time."""
    rng = np.random.default_rng([0, run])
    policy = RewardModelEpsilonGreedy(GBDTRegressor(n_estimators=50, max_depth=4), env.n_arms,
                                      env.n_features, epsilon=0.05, refit_every=500,
                                      random_state=run)
    regret = []
    for _ in range(HORIZON // BATCH):
        contexts = rng.standard_normal((BATCH, env.n_features))
        arms = policy.select_batch(contexts=contexts)
        means = contexts @ env.theta.T
        rewards = means[np.arange(BATCH), arms] + env.noise_sd * rng.standard_normal(BATCH)
        policy.update_batch(arms, rewards, contexts)
        regret.extend(means.max(axis=1) - means[np.arange(BATCH), arms])
    return np.cumsum(regret)


def main():
    env = LinearContextualArms(np.random.default_rng(0).standard_normal((5, 5)), noise_sd=0.1)
    result = simulate({"LinUCB": LinUCB(5, 5, alpha=1.0),
                       "linear Thompson": LinearThompsonSampling(5, 5, v=0.2),
                       "UCB1 (no context)": UCB1(5),
                       "Gaussian Thompson (no context)": GaussianThompsonSampling(5)},
                      env, HORIZON, n_runs=16, seed=0, checkpoints=HORIZON)
    hybrid = np.array([hybrid_regret(env, run) for run in range(3)])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    low, high = result.confidence_band()
    for i, name in enumerate(result.names):
        ax.plot(result.rounds, result.mean_regret()[i], label=name)
        ax.fill_between(result.rounds, low[i], high[i], alpha=0.25)
    ax.plot(np.arange(1, HORIZON + 1), hybrid.mean(axis=0), "k--",
            label="GBDT hybrid (epsilon 0.05, batches of 100)")
    ax.set_yscale("log")
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative regret (log scale)")
    ax.set_title("linear contextual arms: 5 arms, 5 features")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("examples/figures/bandits_contextual.png", dpi=120)
    final = result.final_regret()
    final["GBDT hybrid"] = hybrid[:, -1].mean()
    print(", ".join(f"{k} {v:.0f}" for k, v in final.items()))
    print(f"key number: LinUCB regret / UCB1 regret = "
          f"{final['LinUCB'] / final['UCB1 (no context)']:.3f}")


if __name__ == "__main__":
    main()
