"""Off-policy estimators: bias, standard deviation and RMSE against the number of logged rounds.

Logged data come from a softmax logging policy on a 4-action contextual problem with Bernoulli
rewards; the target policy is a sharper softmax of the true reward model. The reward model given
to DM / DR / Switch-DR is deliberately biased (true rewards shrunk towards 0.5 plus noise), which
is what separates them: DM inherits the model's bias at every n, IPS is unbiased but has the
largest variance, SNIPS trades a little bias for much less variance, DR removes DM's bias with
SNIPS-like variance. Clipped IPS (clip = 5) and Switch-DR (tau = 5) cut variance at the price of
a bias that does not shrink with n, so they win only at small n. 300 replications per sample
size; the |bias| of the unbiased estimators is at the Monte Carlo noise level, sd / sqrt(300).

Writes examples/figures/bandits_ope.png; the key number is each estimator's RMSE at n = 1,000.

    python examples/bandits_ope.py
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bindings.bandits import (direct_method, doubly_robust, inverse_propensity_score,  # noqa: E402
                              self_normalized_ips, switch_doubly_robust)

SIZES = [100, 300, 1000, 3000, 10000]
REPLICATIONS = 300
N_ACTIONS = 4


def softmax_rows(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logged_round(n, rng, theta, behaviour_coef):
    """Logged data of n rounds, the biased reward model, and the true value of the target."""
    x = rng.standard_normal((n, theta.shape[0]))
    q = 1 / (1 + np.exp(-x @ theta))
    behaviour = 0.8 * softmax_rows(x @ behaviour_coef) + 0.2 / N_ACTIONS
    target = softmax_rows(3 * x @ theta)
    actions = (behaviour.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    rewards = (rng.random(n) < q[np.arange(n), actions]).astype(float)
    model = 0.5 + 0.6 * (q - 0.5) + 0.05 * rng.standard_normal(q.shape)
    data = dict(actions=actions, rewards=rewards, propensities=behaviour[np.arange(n), actions],
                target_probs=target)
    return data, model, float((target * q).sum(axis=1).mean())


ESTIMATORS = {
    "IPS": lambda d, m: inverse_propensity_score(**d),
    "clipped IPS (5)": lambda d, m: inverse_propensity_score(**d, clip=5.0),
    "SNIPS": lambda d, m: self_normalized_ips(**d),
    "DM": lambda d, m: direct_method(**d, reward_model=m),
    "DR": lambda d, m: doubly_robust(**d, reward_model=m),
    "Switch-DR (5)": lambda d, m: switch_doubly_robust(**d, reward_model=m, tau=5.0),
}


def main():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((3, N_ACTIONS))
    behaviour_coef = rng.standard_normal((3, N_ACTIONS))
    errors = {name: np.empty((len(SIZES), REPLICATIONS)) for name in ESTIMATORS}
    for i, n in enumerate(SIZES):
        for r in range(REPLICATIONS):
            data, model, truth = logged_round(n, rng, theta, behaviour_coef)
            for name, estimate in ESTIMATORS.items():
                errors[name][i, r] = estimate(data, model).value - truth
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, err in errors.items():
        axes[0].plot(SIZES, np.abs(err.mean(axis=1)), marker="o", label=name)
        axes[1].plot(SIZES, err.std(axis=1), marker="o", label=name)
        axes[2].plot(SIZES, np.sqrt((err**2).mean(axis=1)), marker="o", label=name)
    for ax, title in zip(axes, ("|bias|", "standard deviation", "RMSE")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("logged rounds n")
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("examples/figures/bandits_ope.png", dpi=120)
    at = SIZES.index(1000)
    print("key number, RMSE at n = 1,000: " + ", ".join(
        f"{name} {np.sqrt((err[at]**2).mean()):.4f}" for name, err in errors.items()))


if __name__ == "__main__":
    main()
