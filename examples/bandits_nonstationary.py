"""Forgetting vs stationary policies on abruptly changing and on slowly drifting arms.

Left: 3 Bernoulli arms whose means are permuted every 5,000 rounds (25,000 rounds). Stationary
Thompson sampling keeps trusting old evidence after a change; discounted Thompson (gamma = 0.995)
and the sliding-window / discounted UCBs forget it. Right: the same policies on sinusoidally
drifting means. 16 runs each, 95% bands. UCB1 (c = 1) stays adaptive too: the indices of its
suboptimal arms hover at the best arm's mean, so it samples them often enough to notice a change,
while the forgetting UCBs pay for re-exploring every window with gaps this large (0.3).
The key number is the regret of discounted Thompson sampling relative to stationary Thompson
sampling on the changing arms.

Writes examples/figures/bandits_nonstationary.png.

    python examples/bandits_nonstationary.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bindings.bandits import (UCB1, BetaThompsonSampling, DiscountedThompsonSampling, DiscountedUCB,  # noqa: E402
                              DriftingArms, PiecewiseStationaryArms, SlidingWindowUCB, simulate)

SEGMENT = 5000


def policies():
    return {"Thompson": BetaThompsonSampling(3),
            "discounted Thompson (0.995)": DiscountedThompsonSampling(3, discount=0.995),
            "UCB1": UCB1(3),
            "discounted UCB (0.998)": DiscountedUCB(3, discount=0.998),
            "sliding-window UCB (1000)": SlidingWindowUCB(3, window=1000)}


def main():
    table = [[0.8, 0.5, 0.2], [0.2, 0.5, 0.8], [0.5, 0.8, 0.2], [0.8, 0.2, 0.5], [0.2, 0.8, 0.5]]
    changing = PiecewiseStationaryArms(table, [SEGMENT * s for s in range(len(table))])
    drifting = DriftingArms([0.5, 0.5, 0.5], amplitude=0.3, period=10000)
    horizon = SEGMENT * len(table)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    finals = {}
    for ax, (title, env) in zip(axes, [("abrupt changes every 5,000 rounds", changing),
                                       ("sinusoidal drift, period 10,000", drifting)]):
        result = simulate(policies(), env, horizon, n_runs=16, seed=0)
        low, high = result.confidence_band()
        for i, name in enumerate(result.names):
            ax.plot(result.rounds, result.mean_regret()[i], label=name)
            ax.fill_between(result.rounds, low[i], high[i], alpha=0.25)
        if env is changing:
            for s in range(1, len(table)):
                ax.axvline(SEGMENT * s, color="grey", lw=0.5, ls=":")
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.set_ylabel("cumulative regret")
        finals[title] = result.final_regret()
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("examples/figures/bandits_nonstationary.png", dpi=120)
    for title, final in finals.items():
        print(title + ": " + ", ".join(f"{k} {v:.0f}" for k, v in final.items()))
    final = finals["abrupt changes every 5,000 rounds"]
    print(f"key number: discounted / stationary Thompson regret on changing arms = "
          f"{final['discounted Thompson (0.995)'] / final['Thompson']:.2f}")


if __name__ == "__main__":
    main()
