"""Staged roll-out of a new policy with high-confidence stop rules and alpha spending.

A current policy serves a 4-armed Bernoulli bandit; a candidate is rolled out as a canary whose
traffic share climbs 1% -> 5% -> 20% -> 50% and then stays at 50% for up to 6 more steps: a
schedule fixed in advance, so the logging policy of every step is known before it runs. Each step
logs 5,000 rounds from the mixture share * candidate + (1 - share) * current, whose action
probabilities are the propensities and, for every action of every round, the ``logging_probs``
that give the empirical-Bernstein bounds their weight range (not the largest weight observed).

Each step is a look of two ``SequentialRollout`` tests on the whole log so far, each spending its
delta = 0.05 over the 10 planned looks (Bonferroni, 0.005 per look):

- guardrail: roll back as soon as the current policy is proven better than the candidate;
- promotion: promote to 100% once the candidate is proven better (from the 50% share on).

So over the whole roll-out a candidate that is not better is promoted with probability <= 0.05
(and one that is not worse rolled back with probability <= 0.05), however many looks it takes;
testing 10 times at 0.05 each, as this example did before, only promised 0.5. The example runs a
better and a worse candidate (figure: both bounds step by step), then 200 roll-outs of a
candidate exactly as good as the current policy: the key number is its false-promotion rate.

Writes examples/figures/bandits_rollout.png.

    PYTHONPATH=. python examples/bandits_rollout.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _figures import save_figure  # noqa: E402

from bindings.bandits import SequentialRollout  # noqa: E402

ARM_MEANS = np.array([0.30, 0.45, 0.50, 0.55])
CURRENT = np.array([0.10, 0.60, 0.20, 0.10])       # value 0.455
BETTER = np.array([0.05, 0.05, 0.20, 0.70])        # value 0.52
WORSE = np.array([0.60, 0.20, 0.10, 0.10])         # value 0.38
SAME = np.array([0.19, 0.30, 0.39, 0.12])          # value 0.453: not better than CURRENT
SHARES = [0.01, 0.05, 0.20, 0.50]
ROUNDS_PER_STEP = 5000
MAX_WAIT = 6
SCHEDULE = SHARES + [SHARES[-1]] * MAX_WAIT
DELTA = 0.05


def roll_out(candidate, rng, rounds_per_step=ROUNDS_PER_STEP):
    """Run the staged roll-out: [(share, candidate lower, current upper)] and the outcome."""
    promotion = SequentialRollout(DELTA, max_looks=len(SCHEDULE))
    guardrail = SequentialRollout(DELTA, max_looks=len(SCHEDULE))
    history = []
    logged = {"actions": [], "rewards": [], "propensities": [], "logging_probs": []}
    for share in SCHEDULE:
        logging = share * candidate + (1 - share) * CURRENT
        actions = rng.choice(4, size=rounds_per_step, p=logging)
        logged["actions"].append(actions)
        logged["rewards"].append((rng.random(rounds_per_step) < ARM_MEANS[actions]).astype(float))
        logged["propensities"].append(logging[actions])
        logged["logging_probs"].append(np.tile(logging, (rounds_per_step, 1)))
        data = {k: np.concatenate(v) for k, v in logged.items()}
        n = data["actions"].shape[0]
        new, old = np.tile(candidate, (n, 1)), np.tile(CURRENT, (n, 1))
        promote = promotion.look(new, old, **data)
        history.append((share, promote.new_lower, promote.baseline_upper))
        if guardrail.look(old, new, **data).deploy:
            return history, f"rolled back at {share:.0%} share"
        if share == SHARES[-1] and promote.deploy:
            return history, "promoted to 100%"
    return history, f"held at {SHARES[-1]:.0%} share (not proven better)"


def main():
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, (name, candidate) in zip(axes, [("better candidate", BETTER), ("worse candidate", WORSE)]):
        history, outcome = roll_out(candidate, rng)
        tries = np.arange(1, len(history) + 1)
        ax.plot(tries, [h[1] for h in history], "o-", label="candidate lower bound")
        ax.plot(tries, [h[2] for h in history], "s-", label="current policy upper bound")
        ax.axhline(candidate @ ARM_MEANS, color="tab:blue", ls=":", label="candidate true value")
        ax.axhline(CURRENT @ ARM_MEANS, color="tab:orange", ls=":", label="current true value")
        for t, (share, lower, _) in zip(tries, history):
            ax.annotate(f"{share:.0%}", (t, lower), textcoords="offset points", xytext=(0, -14),
                        ha="center", fontsize=8)
        ax.set_xticks(tries)
        ax.set_title(f"{name}: {outcome}")
        ax.set_xlabel("roll-out step (5,000 more logged rounds each; share annotated)")
        print(f"{name} -> {outcome} after {len(history)} steps")
    axes[0].set_ylabel("policy value (bounds at delta 0.05 / 10 looks, halved per side)")
    axes[0].legend(fontsize=8)
    save_figure(fig, "bandits_rollout")

    # A candidate exactly as good as the current policy must be promoted at most 5% of the time.
    # 1,000-round steps keep the 200 roll-outs quick; the guarantee does not depend on the size.
    trials = 200
    promoted = sum(roll_out(SAME, np.random.default_rng([1, r]), 1000)[1] == "promoted to 100%"
                   for r in range(trials))
    rate = promoted / trials
    print(f"key number: a candidate as good as the current one promoted in {promoted} of {trials} "
          f"roll-outs ({rate:.3f}, allowed {DELTA} + 3 SE = {DELTA + 3 * np.sqrt(DELTA * (1 - DELTA) / trials):.3f})")


if __name__ == "__main__":
    main()
