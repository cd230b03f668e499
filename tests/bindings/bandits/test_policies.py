"""Bandit policies: the shared interface, agreement with MABWiser (UCB1, LinUCB) and scikit-learn
(ridge coefficients), the hybrid reward-model policy, and bad input."""
import numpy as np
import pytest
from mabwiser.mab import MAB, LearningPolicy
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

from bindings.bandits import (KLUCB, UCB1, UCBV, BetaThompsonSampling, DiscountedThompsonSampling, DiscountedUCB,
                              EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling, LinUCB,
                              RewardModelEpsilonGreedy, SlidingWindowUCB, Softmax)
from gbdt.kernels.bandits import select as K
from gbdt.kernels.bandits.sampling import new_gamma_cache

NON_CONTEXTUAL = [
    lambda s: EpsilonGreedy(3, epsilon=0.2, random_state=s),
    lambda s: EpsilonGreedy(3, epsilon=2.0, decay=True, random_state=s),
    lambda s: UCB1(3, random_state=s), lambda s: UCBV(3, random_state=s),
    lambda s: KLUCB(3, random_state=s), lambda s: BetaThompsonSampling(3, random_state=s),
    lambda s: GaussianThompsonSampling(3, noise_sd=0.5, random_state=s),
    lambda s: Softmax(3, temperature=0.1, random_state=s),
    lambda s: DiscountedUCB(3, discount=0.95, random_state=s),
    lambda s: DiscountedThompsonSampling(3, discount=0.95, random_state=s),
    lambda s: SlidingWindowUCB(3, window=20, random_state=s),
]


def play(policy, rounds=200, seed=0):
    rng = np.random.default_rng(seed)
    means = np.array([0.2, 0.5, 0.7])
    arms, rewards = [], []
    for _ in range(rounds):
        arm = policy.select()
        reward = float(rng.random() < means[arm])
        policy.update(arm, reward)
        arms.append(arm)
        rewards.append(reward)
    return np.array(arms), np.array(rewards)


@pytest.mark.parametrize("make", NON_CONTEXTUAL, ids=lambda make: type(make(0)).__name__)
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
    assert np.bincount(arms, minlength=3)[2] > np.bincount(arms, minlength=3)[0]
    batched.reset()
    assert batched.n_rounds == 0 and not batched.stats.any()


def test_ucb1_indices_equal_mabwiser():
    rng = np.random.default_rng(1)
    arms = rng.integers(0, 4, 300)
    rewards = rng.random(300)
    for alpha in (1.0, 0.3):
        ours = UCB1(4, c=alpha).update_batch(arms, rewards)
        mab = MAB(arms=[0, 1, 2, 3], learning_policy=LearningPolicy.UCB1(alpha=alpha), seed=0)
        mab.fit(arms, rewards)
        expected = mab.predict_expectations()
        scores = np.empty(4)
        K.arm_scores(K.UCB, ours.params, ours.stats, ours.rng, new_gamma_cache(4), scores)
        np.testing.assert_allclose(scores, [expected[k] for k in range(4)], rtol=1e-12)
        assert ours.select() == max(expected, key=expected.get)


def test_linucb_scores_equal_mabwiser_and_coef_equals_ridge():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((400, 5))
    arms = rng.integers(0, 3, 400)
    y = x @ rng.standard_normal(5) + 0.1 * rng.standard_normal(400)
    ours = LinUCB(3, 5, alpha=0.7, ridge=2.0).update_batch(arms, y, x)
    mab = MAB(arms=[0, 1, 2], learning_policy=LearningPolicy.LinUCB(alpha=0.7, l2_lambda=2.0),
              seed=0)
    mab.fit(arms, y, x)
    test_x = rng.standard_normal((20, 5))
    expected = mab.predict_expectations(test_x)
    ours_choice = ours.select_batch(contexts=test_x)
    np.testing.assert_array_equal(ours_choice, [max(e, key=e.get) for e in expected])
    for k in range(3):
        ridge = Ridge(alpha=2.0, fit_intercept=False).fit(x[arms == k], y[arms == k])
        np.testing.assert_allclose(ours.coef_[k], ridge.coef_, rtol=1e-9)


def test_linear_thompson_learns_and_is_seeded():
    rng = np.random.default_rng(3)
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    policy = LinearThompsonSampling(3, 2, v=0.3, random_state=5)
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
    """The greedy part is any fit/predict regressor; a tree learns arm-context interactions
    that no single linear model of the features could."""
    rng = np.random.default_rng(4)
    policy = RewardModelEpsilonGreedy(DecisionTreeRegressor(max_depth=4, random_state=0), 2, 1,
                                      epsilon=0.1, refit_every=50, random_state=0)
    correct = []
    for t in range(1500):
        x = rng.standard_normal(1)
        best = int(x[0] > 0)  # arm 1 pays when x > 0, arm 0 otherwise
        arm = policy.select(x)
        policy.update(arm, float(arm == best) + 0.1 * rng.standard_normal(), x)
        correct.append(arm == best)
    assert np.mean(correct[-500:]) > 0.85  # epsilon = 0.1 caps it near 0.95
    predicted = policy.predict_rewards(np.array([[-2.0], [2.0]]))
    assert predicted.shape == (2, 2)
    assert predicted[0, 0] > predicted[0, 1] and predicted[1, 1] > predicted[1, 0]
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
    with pytest.raises(ValueError, match="n_arms must be a positive integer"):
        UCB1(0)
    with pytest.raises(ValueError, match=r"epsilon must be a finite number in \[0.0, 1.0\]"):
        EpsilonGreedy(3, epsilon=1.5)
    with pytest.raises(ValueError, match=r"discount must be a finite number in \(0.0, 1.0\]"):
        DiscountedUCB(3, discount=0.0)
    with pytest.raises(TypeError, match="window must be a positive integer"):
        SlidingWindowUCB(3, window=2.5)
    with pytest.raises(ValueError, match=r"alpha must be a finite number in \[0.0, inf\]"):
        LinUCB(2, 3, alpha=-1.0)
    linear = LinUCB(2, 3)
    with pytest.raises(ValueError, match="needs contexts of 3 features"):
        linear.select()
    with pytest.raises(ValueError, match="context must have 3 features"):
        linear.select(np.ones(4))
    with pytest.raises(ValueError, match="context must be finite"):
        linear.update(0, 1.0, np.array([1.0, np.nan, 0.0]))
