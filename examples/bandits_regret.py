"""Logarithmic vs linear regret on Bernoulli arms, with the Lai-Robbins lower bound.

Five policies on 5 Bernoulli arms (means 0.1 ... 0.5) for 200,000 rounds, 20 runs each.
UCB1, KL-UCB, Thompson sampling and decaying epsilon-greedy have regret growing like log t
(straight lines on a log-t axis); fixed epsilon-greedy pays epsilon * mean gap every round
(linear). The Lai-Robbins bound C log t, C = sum gap_k / KL(mu_k, mu*), is the asymptotic slope
no consistent policy can beat; the key number is Thompson's late slope d regret / d log t vs C.
Decaying epsilon-greedy (eps_t = 5 K / t) can sit below that slope here because its schedule is
tuned to these large gaps: it is not consistent on every instance (with smaller gaps it locks on
a wrong arm with positive probability), so the bound does not bind it.

Writes examples/figures/bandits_regret.png.

    python examples/bandits_regret.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings.bandits import KLUCB, UCB1, BernoulliArms, BetaThompsonSampling, EpsilonGreedy, simulate  # noqa: E402

HORIZON = 200_000


def main():
    env = BernoulliArms([0.1, 0.2, 0.3, 0.4, 0.5])
    policies = {"epsilon-greedy (0.1)": EpsilonGreedy(5, epsilon=0.1),
                "decaying epsilon-greedy": EpsilonGreedy(5, epsilon=5.0, decay=True),
                "UCB1": UCB1(5), "KL-UCB": KLUCB(5), "Thompson sampling": BetaThompsonSampling(5)}
    checkpoints = np.unique(np.geomspace(10, HORIZON, 120).round())
    result = simulate(policies, env, HORIZON, n_runs=20, seed=0, checkpoints=checkpoints)
    mean = result.mean_regret()
    low, high = result.confidence_band()
    lai_robbins = env.lai_robbins_constant()

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, xscale in zip(axes, ("log", "linear")):
        for i, name in enumerate(result.names):
            ax.plot(result.rounds, mean[i], label=name)
            ax.fill_between(result.rounds, low[i], high[i], alpha=0.25)
        ax.plot(result.rounds, lai_robbins * np.log(result.rounds), "k--",
                label=f"Lai-Robbins {lai_robbins:.1f} log t")
        ax.set_xscale(xscale)
        ax.set_xlabel(f"round t ({xscale} axis)")
        ax.set_ylabel("cumulative regret")
        ax.set_ylim(0, 1.1 * mean[1:, -1].max())
    axes[0].legend(fontsize=8)
    axes[0].set_title("log-t axis: log regret is a straight line")
    axes[1].set_title("linear axis: fixed epsilon grows linearly (off the top)")
    fig.tight_layout()
    fig.savefig("examples/figures/bandits_regret.png", dpi=120)

    late = result.rounds >= HORIZON // 10
    for i, name in enumerate(result.names):
        slope = np.polyfit(np.log(result.rounds[late]), mean[i, late], 1)[0]
        print(f"{name:25s} regret {mean[i, -1]:8.1f}   slope d regret / d log t = {slope:8.1f}")
    ts = result.names.index("Thompson sampling")
    slope = np.polyfit(np.log(result.rounds[late]), mean[ts, late], 1)[0]
    print(f"key number: Thompson late slope {slope:.1f} vs Lai-Robbins constant {lai_robbins:.1f} "
          f"(ratio {slope / lai_robbins:.2f}); fixed epsilon / Thompson final regret "
          f"{mean[0, -1] / mean[ts, -1]:.0f}x")


if __name__ == "__main__":
    main()
