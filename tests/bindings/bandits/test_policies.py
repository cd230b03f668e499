"""Bandit policies: the shared interface, arm labels, agreement with MABWiser (UCB1, epsilon-greedy,
LinUCB expectations) and scikit-learn (ridge coefficients), action probabilities against closed
forms and numerical integration (scipy), statistical checks of learning and of logarithmic
regret, the hybrid reward-model policy, and bad input."""
import numpy as np
import pytest
from mabwiser.mab import MAB, LearningPolicy
from scipy import integrate, stats
from scipy.special import softmax
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

from bindings.bandits import (KLUCB, UCB1, UCBV, BernoulliArms, BetaThompsonSampling, DiscountedThompsonSampling,
                              DiscountedUCB, EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling, LinUCB,
                              RewardModelEpsilonGreedy, SlidingWindowUCB, Softmax, simulate)

NON_CONTEXTUAL = [
    lambda s: EpsilonGreedy(3, epsilon=0.2, random_state=s),
    lambda s: EpsilonGreedy(3, epsilon=2.0, decay=True, random_state=s),
    lambda s: UCB1(3, random_state=s), lambda s: UCBV(3, random_state=s),
    lambda s: KLUCB(3, random_state=s), lambda s: BetaThompsonSampling(3, random_state=s),
    lambda s: GaussianThompsonSampling(3, noise_sd=0.5, random_state=s),
    lambda s: Softmax(3, temperature=0.1, random_state=s),
    lambda s: DiscountedUCB(3, discount=0.99, random_state=s),
    lambda s: DiscountedThompsonSampling(3, discount=0.99, random_state=s),
    lambda s: SlidingWindowUCB(3, window=200, random_state=s),
]
POLICY_IDS = [type(make(0)).__name__ + ("-decay" if i == 1 else "") for i, make in enumerate(NON_CONTEXTUAL)]
MEANS = np.array([0.2, 0.5, 0.7])


def play(policy, rounds=200, seed=0):
    rng = np.random.default_rng(seed)
    arms, rewards = [], []
    for _ in range(rounds):
        arm = policy.select()
        reward = float(rng.random() < MEANS[arm])
        policy.update(arm, reward)
        arms.append(arm)
        rewards.append(reward)
    return np.array(arms), np.array(rewards)


@pytest.mark.parametrize("make", NON_CONTEXTUAL, ids=POLICY_IDS)
def test_interface_seeded_and_batch_update_equals_loop(make):
    arms, rewards = play(make(11))
    again, _ = play(make(11))
    np.testing.assert_array_equal(arms, again)  # random_state fixes the whole trajectory
    looped = make(0)
    for a, r in zip(arms, rewards):
        looped.update(int(a), r)
    batched = make(0).update_batch(arms, rewards)
    np.testing.assert_allclose(batched.stats, looped.stats, atol=1e-12)
    assert batched.n_rounds == looped.n_rounds == len(arms)
    choices = batched.select_batch(50)
    assert choices.shape == (50,) and choices.min() >= 0 and choices.max() < 3
    # Asking for probabilities or expectations leaves the next choices unchanged.
    probe = make(0).update_batch(arms, rewards)
    probe.action_probabilities(n_samples=50)
    probe.predict_expectations()
    np.testing.assert_array_equal(probe.select_batch(50), make(0).update_batch(arms, rewards).select_batch(50))
    batched.reset()
    assert batched.n_rounds == 0 and not batched.stats.any()


@pytest.mark.parametrize("make", NON_CONTEXTUAL, ids=POLICY_IDS)
def test_every_policy_learns(make):
    """Over 8 seeds of 3,000 rounds, each policy's regret is well below a uniformly random
    player's, 3000 * mean gap = 700: the upper end of a 99.9% t interval is under 60% of it
    (the forgetting UCBs keep exploring by design and sit near half of it)."""
    result = simulate([make(None)], BernoulliArms(MEANS), 3000, n_runs=8, seed=21, checkpoints=[3000])
    regret = result.regret[0, :, -1]
    upper = regret.mean() + stats.t.ppf(0.999, 7) * regret.std(ddof=1) / np.sqrt(8)
    assert upper < 0.6 * 3000 * np.mean(MEANS.max() - MEANS)


def ucb1_finite_time_bound(means, horizons):
    """Auer, Cesa-Bianchi & Fischer (2002), Theorem 1: UCB1's expected regret after n rounds is
    at most sum_k 8 ln n / gap_k + (1 + pi^2 / 3) sum_k gap_k over the suboptimal arms."""
    gaps = means.max() - means
    gaps = gaps[gaps > 0]
    return 8 * np.log(horizons) * np.sum(1 / gaps) + (1 + np.pi ** 2 / 3) * gaps.sum()


@pytest.mark.parametrize("name", ["ucb1", "thompson"])
def test_regret_grows_logarithmically_over_8_seeds(name):
    """8 seeds, 5 Bernoulli arms, T = 1,000, 5,000, 50,000. Linear regret would keep its
    per-round rate; here the rate over the last 45,000 rounds is under a quarter of the rate of
    the first 5,000 (log T growth gives ~0.05-0.15). Regret / ln T stays bounded: UCB1 under
    Auer et al.'s finite-time bound, Thompson sampling under 1.5 times Lai & Robbins' constant
    (the asymptotic slope no consistent policy beats, which it attains)."""
    env = BernoulliArms([0.1, 0.3, 0.5, 0.6, 0.7])
    policy = UCB1(5) if name == "ucb1" else BetaThompsonSampling(5)
    rounds = np.array([1000, 5000, 50000])
    result = simulate([policy], env, int(rounds[-1]), n_runs=8, seed=5, checkpoints=rounds)
    regret = result.regret[0]  # (8, 3)
    mean = regret.mean(axis=0)
    sem = regret.std(axis=0, ddof=1) / np.sqrt(8)
    late_rate = (mean[2] - mean[1]) / (rounds[2] - rounds[1])
    assert late_rate < 0.25 * mean[1] / rounds[1]
    per_log = mean / np.log(rounds)
    if name == "ucb1":
        assert np.all(mean + 3 * sem < ucb1_finite_time_bound(env.means_table[0], rounds))
    else:
        assert np.all(per_log < 1.5 * env.lai_robbins_constant())
        assert per_log.max() / per_log.min() < 2


def test_arm_labels_and_predict_expectations_equal_mabwiser():
    """String labels; UCB1 indices and epsilon-greedy (epsilon 0) means equal MABWiser's
    predict_expectations after the same history, also after add_arm / remove_arm."""
    labels = ["red", "green", "blue"]
    rng = np.random.default_rng(1)
    arms = np.array(labels)[rng.integers(0, 3, 300)]
    rewards = rng.random(300)

    def reference(policy, arms_now, decisions, values):
        mab = MAB(arms=list(arms_now), learning_policy=policy, seed=0)
        mab.fit(decisions, values)
        return mab.predict_expectations()

    for alpha in (1.0, 0.3):
        ours = UCB1(labels, exploration=alpha).update_batch(arms, rewards)
        expected = reference(LearningPolicy.UCB1(alpha=alpha), labels, arms, rewards)
        got = ours.predict_expectations()
        assert list(got) == labels
        np.testing.assert_allclose([got[a] for a in labels], [expected[a] for a in labels], rtol=1e-12)
        assert ours.select() == max(expected, key=expected.get)
    greedy = EpsilonGreedy(labels, epsilon=0.0).update_batch(arms, rewards)
    expected = reference(LearningPolicy.EpsilonGreedy(epsilon=0.0), labels, arms, rewards)
    np.testing.assert_allclose([greedy.predict_expectations()[a] for a in labels],
                               [expected[a] for a in labels], rtol=1e-12)

    # A new arm joins with no observations; MABWiser refitted on the whole history agrees.
    ours = UCB1(labels).update_batch(arms, rewards).add_arm("yellow")
    assert ours.predict_expectations()["yellow"] == np.inf and ours.select() == "yellow"
    more = np.array(labels + ["yellow"])[rng.integers(0, 4, 200)]
    more_rewards = rng.random(200)
    ours.update_batch(more, more_rewards)
    expected = reference(LearningPolicy.UCB1(alpha=1.0), labels + ["yellow"], np.r_[arms, more],
                         np.r_[rewards, more_rewards])
    got = ours.predict_expectations()
    np.testing.assert_allclose([got[a] for a in expected], list(expected.values()), rtol=1e-12)
    # Removing an arm forgets it: MABWiser fitted on the other arms' rounds agrees.
    ours.remove_arm("green")
    keep = np.r_[arms, more] != "green"
    expected = reference(LearningPolicy.UCB1(alpha=1.0), ["red", "blue", "yellow"], np.r_[arms, more][keep],
                         np.r_[rewards, more_rewards][keep])
    got = ours.predict_expectations()
    assert ours.arms == ["red", "blue", "yellow"]
    np.testing.assert_allclose([got[a] for a in expected], list(expected.values()), rtol=1e-12)
    assert set(ours.select_batch(100)) <= {"red", "blue", "yellow"}


def test_integer_count_and_mixed_labels():
    assert UCB1(3).arms == [0, 1, 2]
    policy = EpsilonGreedy([("a", 1), 7, "x"], epsilon=1.0, random_state=0)
    policy.update(("a", 1), 1.0).update(7, 0.0).update_batch([("a", 1), "x"], [1.0, 0.5])
    assert set(policy.select_batch(200).tolist()) == {("a", 1), 7, "x"}
    np.testing.assert_allclose(list(policy.predict_expectations().values()), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(policy.action_probabilities(), [1 / 3] * 3)


def test_sliding_window_remove_arm_matches_brute_force_window():
    """After remove_arm, the window statistics equal sums over the last W rounds (a numpy twin),
    the removed arm's rounds still occupying their slots until they leave."""
    rng = np.random.default_rng(2)
    window = 30
    history_arms = rng.integers(0, 4, 100)
    history_rewards = rng.random(100)
    policy = SlidingWindowUCB(4, window=window).update_batch(history_arms, history_rewards)
    policy.remove_arm(1)
    later_arms = np.array([0, 2, 3])[rng.integers(0, 3, 17)]  # labels of the remaining arms
    later_rewards = rng.random(17)
    policy.update_batch(later_arms, later_rewards)
    all_arms = np.r_[history_arms, later_arms][-window:]
    all_rewards = np.r_[history_rewards, later_rewards][-window:]
    for position, label in enumerate([0, 2, 3]):
        chosen = all_arms == label
        assert policy.stats[0, position] == chosen.sum()
        assert policy.stats[1, position] == pytest.approx(all_rewards[chosen].sum(), abs=1e-12)


def test_exact_action_probabilities_match_closed_forms_and_select_frequencies():
    rng = np.random.default_rng(3)
    arms = rng.integers(0, 3, 60)
    rewards = (rng.random(60) < MEANS[arms]).astype(float)
    greedy = EpsilonGreedy(3, epsilon=0.3).update_batch(arms, rewards)
    best = np.nanargmax(greedy.means)
    np.testing.assert_allclose(greedy.action_probabilities(), 0.1 + 0.7 * (np.arange(3) == best), atol=1e-15)
    decaying = EpsilonGreedy(3, epsilon=5.0, decay=True).update_batch(arms, rewards)
    eps = min(1.0, 5.0 * 3 / 60)
    np.testing.assert_allclose(decaying.action_probabilities(), eps / 3 + (1 - eps) * (np.arange(3) == best))
    boltzmann = Softmax(3, temperature=0.2).update_batch(arms, rewards)
    np.testing.assert_allclose(boltzmann.action_probabilities(), softmax(boltzmann.means / 0.2), rtol=1e-12)
    # Ties split the mass: two arms with identical statistics.
    tied = UCB1(3).update_batch([0, 1, 2, 0, 1], [1.0, 1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(tied.action_probabilities(), [0.5, 0.5, 0.0])
    assert UCB1(3).action_probabilities().tolist() == [1.0, 0.0, 0.0]  # unplayed arm first
    # select draws with these probabilities: frequencies over 20,000 draws within 5 SE.
    for policy in (greedy, boltzmann, tied, EpsilonGreedy(3, epsilon=0.5).update_batch([0, 1, 2], [1.0, 1.0, 0.0])):
        probs = policy.action_probabilities()
        freq = np.bincount(policy.select_batch(20000), minlength=3) / 20000
        assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / 20000) + 1e-12)
    with_contexts = greedy.action_probabilities(np.zeros((4, 2)))
    assert with_contexts.shape == (4, 3) and np.allclose(with_contexts, greedy.action_probabilities())


def gaussian_max_probabilities(means, sds):
    """P(arm k has the largest of independent N(means, sds^2)), by numerical integration."""
    out = []
    for k in range(len(means)):
        def density(x, k=k):
            others = [stats.norm.cdf(x, means[j], sds[j]) for j in range(len(means)) if j != k]
            return stats.norm.pdf(x, means[k], sds[k]) * np.prod(others)
        out.append(integrate.quad(density, -np.inf, np.inf, epsabs=1e-12)[0])
    return np.array(out)


def test_thompson_probabilities_within_their_standard_error_of_integration():
    """Monte-Carlo probabilities of Thompson sampling against numerical integration of the
    posteriors (scipy): every arm within 4.5 of its stated standard errors."""
    rewards = [1.0] * 6 + [0.0] * 4 + [1.0] * 9 + [0.0] * 5  # arm 0: 6 of 10, arm 1: 9 of 14
    beta = BetaThompsonSampling(2, random_state=0).update_batch([0] * 10 + [1] * 14, rewards)
    probs, std = beta.action_probabilities(n_samples=20000, return_std=True)
    # P(X1 > X0) = integral of f1(x) F0(x), X0 ~ Beta(7, 5), X1 ~ Beta(10, 6)
    exact = integrate.quad(lambda x: stats.beta.pdf(x, 10, 6) * stats.beta.cdf(x, 7, 5), 0, 1, epsabs=1e-12)[0]
    assert abs(probs[1] - exact) < 4.5 * std[1] and probs.sum() == pytest.approx(1.0)
    assert std[1] == pytest.approx(np.sqrt(probs[1] * (1 - probs[1]) / 20000))

    gauss = GaussianThompsonSampling(3, noise_sd=1.0, prior_sd=10.0, random_state=0)
    gauss.update_batch([0, 0, 1, 1, 1, 2], [0.1, 0.5, 0.4, 0.2, 0.9, 0.2])
    precision = 1 / 100 + gauss.stats[0]
    exact = gaussian_max_probabilities(gauss.stats[1] / precision, 1 / np.sqrt(precision))
    probs, std = gauss.action_probabilities(n_samples=20000, return_std=True)
    assert np.all(np.abs(probs - exact) < 4.5 * std)

    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 2))
    lin = LinearThompsonSampling(3, 2, exploration=0.5, random_state=0)
    lin.update_batch(rng.integers(0, 3, 50), x @ np.array([1.0, -1.0]) + 0.1 * rng.standard_normal(50), x)
    context = np.array([0.3, -0.2])
    # Scores are independent N(x . theta_k, (v s_k)^2).
    mean = lin.coef_ @ context
    sd = 0.5 * np.sqrt(np.einsum("i,kij,j->k", context, lin.a_inv, context))
    probs, std = lin.action_probabilities(context, n_samples=20000, return_std=True)
    assert np.all(np.abs(probs - gaussian_max_probabilities(mean, sd)) < 4.5 * std + 1e-12)


def test_linucb_scores_equal_mabwiser_and_coef_equals_ridge():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((400, 5))
    arms = rng.integers(0, 3, 400)
    y = x @ rng.standard_normal(5) + 0.1 * rng.standard_normal(400)
    labels = np.array(["a", "b", "c"])
    ours = LinUCB(list(labels), 5, exploration=0.7, ridge=2.0).update_batch(labels[arms], y, x)
    mab = MAB(arms=list(labels), learning_policy=LearningPolicy.LinUCB(alpha=0.7, l2_lambda=2.0), seed=0)
    mab.fit(labels[arms], y, x)
    test_x = rng.standard_normal((20, 5))
    expected = mab.predict_expectations(test_x)
    got = ours.predict_expectations(test_x)
    for e, g in zip(expected, got):
        np.testing.assert_allclose([g[a] for a in labels], [e[a] for a in labels], rtol=1e-9)
    np.testing.assert_array_equal(ours.select_batch(contexts=test_x), [max(e, key=e.get) for e in expected])
    probs = ours.action_probabilities(test_x)
    np.testing.assert_array_equal(probs.argmax(axis=1), [list(labels).index(max(e, key=e.get)) for e in expected])
    assert set(np.unique(probs)) <= {0.0, 1.0}
    for k in range(3):
        ridge = Ridge(alpha=2.0, fit_intercept=False).fit(x[arms == k], y[arms == k])
        np.testing.assert_allclose(ours.coef_[k], ridge.coef_, rtol=1e-9)
    ours.remove_arm("b").add_arm("d")
    assert ours.arms == ["a", "c", "d"]
    arm_c = Ridge(alpha=2.0, fit_intercept=False).fit(x[arms == 2], y[arms == 2])
    np.testing.assert_allclose(ours.coef_[1], arm_c.coef_, rtol=1e-9)
    np.testing.assert_allclose(ours.coef_[2], 0.0)


def test_linear_thompson_learns_and_is_seeded():
    rng = np.random.default_rng(3)
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    policy = LinearThompsonSampling(3, 2, exploration=0.3, random_state=5)
    for _ in range(600):
        x = rng.standard_normal(2)
        arm = policy.select(x)
        policy.update(arm, theta[arm] @ x + 0.1 * rng.standard_normal(), x)
    np.testing.assert_allclose(policy.coef_, theta, atol=0.15)
    contexts = rng.standard_normal((30, 2))
    first = LinearThompsonSampling(3, 2, random_state=9).select_batch(contexts=contexts)
    second = LinearThompsonSampling(3, 2, random_state=9).select_batch(contexts=contexts)
    np.testing.assert_array_equal(first, second)


def test_hybrid_reward_model_policy_with_sklearn_regressor():
    """The greedy part is any fit/predict regressor; a tree learns the arm-context interaction
    (arm "on" pays x, "off" pays 0) that no linear model of the features could."""
    rng = np.random.default_rng(4)
    policy = RewardModelEpsilonGreedy(DecisionTreeRegressor(max_depth=4, random_state=0), ["off", "on"], 1,
                                      epsilon=0.1, refit_every=50, random_state=0)
    np.testing.assert_allclose(policy.action_probabilities(np.ones(1)), [0.5, 0.5])
    correct = []
    for t in range(1500):
        x = rng.standard_normal(1)
        best = "on" if x[0] > 0 else "off"
        arm = policy.select(x)
        policy.update(arm, (x[0] if arm == "on" else 0.0) + 0.1 * rng.standard_normal(), x)
        correct.append(arm == best)
    # Random play is right half the time, epsilon = 0.1 caps it at 0.95; mistakes left are
    # near x = 0, where the tree's steps are coarse (and they cost little).
    assert np.mean(correct[-500:]) > 0.75
    predicted = policy.predict_rewards(np.array([[-2.0], [2.0]]))
    assert predicted.shape == (2, 2)
    assert predicted[0, 0] > predicted[0, 1] and predicted[1, 1] > predicted[1, 0]
    np.testing.assert_allclose(policy.action_probabilities(np.array([[-2.0], [2.0]])), [[0.95, 0.05], [0.05, 0.95]])
    assert policy.predict_expectations(np.array([2.0]))["on"] == pytest.approx(predicted[1, 1])
    policy.add_arm("auto")  # refit at once: the one-hot code has a new column
    assert policy.predict_rewards(np.array([[2.0]])).shape == (1, 3)
    policy.remove_arm("off")
    assert policy.arms == ["on", "auto"] and policy.predict_rewards(np.array([[2.0]])).shape == (1, 2)
    with pytest.raises(TypeError, match="reward_model must have fit"):
        RewardModelEpsilonGreedy(object(), 2, 1)


def test_bad_input_raises_clear_errors():
    policy = BetaThompsonSampling(3)
    with pytest.raises(ValueError, match="arm out of range"):
        policy.update(3, 1.0)
    with pytest.raises(TypeError, match="arm must be an integer"):
        policy.update(1.5, 1.0)
    with pytest.raises(ValueError, match="reward must be finite"):
        policy.update(0, float("nan"))
    with pytest.raises(ValueError, match=r"reward must be in \[0.0, 1.0\]"):
        policy.update(0, 2.0)
    with pytest.raises(ValueError, match="arms and rewards must be 1-d of equal length"):
        policy.update_batch([0, 1], [1.0])
    with pytest.raises(ValueError, match="arms must be a positive integer"):
        UCB1(0)
    with pytest.raises(ValueError, match="epsilon must be a finite number in"):
        EpsilonGreedy(3, epsilon=1.5)
    with pytest.raises(ValueError, match="discount must be a finite number in"):
        DiscountedUCB(3, discount=0.0)
    with pytest.raises(TypeError, match="window must be a positive integer"):
        SlidingWindowUCB(3, window=2.5)
    with pytest.raises(ValueError, match="exploration must be a finite number in"):
        UCB1(3, exploration=-1.0)
    with pytest.raises(ValueError, match="exploration must be a finite number in"):
        LinUCB(2, 3, exploration=-1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        UCB1(3, c=1.0)  # the old name is gone
    labelled = UCB1(["red", "green"])
    with pytest.raises(ValueError, match="unknown arm 'blue'"):
        labelled.update("blue", 1.0)
    with pytest.raises(ValueError, match="arm 'red' already exists"):
        labelled.add_arm("red")
    with pytest.raises(ValueError, match="arms must be distinct"):
        UCB1(["red", "red"])
    with pytest.raises(TypeError, match="must be hashable"):
        UCB1([["red"], "green"])
    with pytest.raises(TypeError, match="arms must be a number of arms or a sequence"):
        UCB1("red")
    with pytest.raises(ValueError, match="cannot remove the last arm"):
        UCB1(["red"]).remove_arm("red")
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        policy.action_probabilities(n_samples=0)
    linear = LinUCB(2, 3)
    with pytest.raises(ValueError, match="needs contexts of 3 features"):
        linear.select()
    with pytest.raises(ValueError, match="context must have 3 features"):
        linear.select(np.ones(4))
    with pytest.raises(ValueError, match="context must be finite"):
        linear.update(0, 1.0, np.array([1.0, np.nan, 0.0]))
