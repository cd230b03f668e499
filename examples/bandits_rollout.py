"""Staged roll-out of a new policy with high-confidence stop rules.

A current policy serves a 4-armed Bernoulli bandit; a candidate is rolled out as a canary whose
traffic share climbs 1% -> 5% -> 20% -> 50%. Each step logs 5,000 rounds from the mixture, whose
propensities are known (share * candidate + (1 - share) * current), and adds them to the log:

- guardrail at every step: roll back as soon as ``should_deploy(current, candidate)`` proves the
  current policy better (empirical-Bernstein bounds, delta = 0.05);
- promotion to 100% only when ``should_deploy(candidate, current)`` proves the candidate better;
  at 50% share the roll-out waits (at most 6 more steps) for that proof.

Rows of different steps carry their own propensities, so the whole log serves both bounds (the
bounds treat the rows as independent, an approximation once shares depend on earlier steps).
Run for a better and for a worse candidate; the figure shows both bounds step by step and the
key number is where each candidate ends.

Writes examples/figures/bandits_rollout.png.

    python examples/bandits_rollout.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings.bandits import should_deploy  # noqa: E402

ARM_MEANS = np.array([0.30, 0.45, 0.50, 0.55])
CURRENT = np.array([0.10, 0.60, 0.20, 0.10])       # value 0.46
BETTER = np.array([0.05, 0.05, 0.20, 0.70])        # value 0.52
WORSE = np.array([0.60, 0.20, 0.10, 0.10])         # value 0.38
SHARES = [0.01, 0.05, 0.20, 0.50]
ROUNDS_PER_STEP = 5000
MAX_WAIT = 6


def roll_out(candidate, rng):
    """Run the staged roll-out: [(share, candidate lower, current upper)] and the outcome."""
    history = []
    logged = {"actions": [], "rewards": [], "propensities": []}
    schedule = SHARES + [SHARES[-1]] * MAX_WAIT
    for share in schedule:
        logging = share * candidate + (1 - share) * CURRENT
        actions = rng.choice(4, size=ROUNDS_PER_STEP, p=logging)
        logged["actions"].append(actions)
        logged["rewards"].append((rng.random(ROUNDS_PER_STEP) < ARM_MEANS[actions]).astype(float))
        logged["propensities"].append(logging[actions])
        data = {k: np.concatenate(v) for k, v in logged.items()}
        n = data["actions"].shape[0]
        new, old = np.tile(candidate, (n, 1)), np.tile(CURRENT, (n, 1))
        promote = should_deploy(new, old, 0.05, **data)
        history.append((share, promote.new_lower, promote.baseline_upper))
        if should_deploy(old, new, 0.05, **data).deploy:
            return history, f"rolled back at {share:.0%} share"
        if share == SHARES[-1] and promote.deploy:
            return history, "promoted to 100%"
    return history, f"held at {SHARES[-1]:.0%} share (not proven better)"


def main():
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, (name, candidate) in zip(axes, [("better candidate", BETTER),
                                            ("worse candidate", WORSE)]):
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
        print(f"key number: {name} -> {outcome} after {len(history)} steps")
    axes[0].set_ylabel("policy value")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("examples/figures/bandits_rollout.png", dpi=120)


if __name__ == "__main__":
    main()
