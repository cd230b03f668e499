"""Per-arm reward statistics of a multi-armed bandit, updated in place.

Layout of ``stats`` (3, n_arms) float64, shared by every non-contextual policy::

    stats[0, k]  pulls of arm k      (discounted: sum of gamma^age)
    stats[1, k]  sum of its rewards  (discounted likewise)
    stats[2, k]  sum of squared rewards

Three ways of forgetting share this layout, so every index (UCB, Thompson, ...) reads
the same three rows whatever the forgetting:

- stationary: ``discount = 1`` and no window;
- discounted (Garivier & Moulines 2011): every round all rows are multiplied by ``discount``;
- sliding window of the last W rounds: ring buffers ``window_arms`` / ``window_rewards``
  (W,) hold what is in the window, and the round that leaves it is subtracted.
"""
from gbdt._jit import jit


@jit
def update_arm_stats(stats, arm, reward, discount):
    """Add one (arm, reward) observation to ``stats`` (3, n_arms), forgetting by ``discount``."""
    if discount < 1.0:
        for row in range(3):
            for k in range(stats.shape[1]):
                stats[row, k] *= discount
    stats[0, arm] += 1.0
    stats[1, arm] += reward
    stats[2, arm] += reward * reward


@jit
def update_window_stats(stats, window_arms, window_rewards, n_seen, arm, reward):
    """Add one observation to sliding-window ``stats``; evict the one that falls out of the window.

    window_arms : (W,) int64 ring buffer of arms; window_rewards : (W,) float64 of rewards.
    n_seen : observations added before this one (the ring position is ``n_seen % W``).
    """
    width = window_arms.shape[0]
    slot = n_seen % width
    if n_seen >= width:
        old_arm = window_arms[slot]
        old_reward = window_rewards[slot]
        stats[0, old_arm] -= 1.0
        stats[1, old_arm] -= old_reward
        stats[2, old_arm] -= old_reward * old_reward
    window_arms[slot] = arm
    window_rewards[slot] = reward
    stats[0, arm] += 1.0
    stats[1, arm] += reward
    stats[2, arm] += reward * reward


@jit
def observe(stats, window_arms, window_rewards, n_seen, arm, reward, discount):
    """One observation: the windowed update when a window exists, else the discounted one."""
    if window_arms.shape[0] > 0:
        update_window_stats(stats, window_arms, window_rewards, n_seen, arm, reward)
    else:
        update_arm_stats(stats, arm, reward, discount)


@jit
def observe_batch(stats, window_arms, window_rewards, n_seen, arms, rewards, discount):
    """Apply ``observe`` to (n,) ``arms``/``rewards`` in order, as n sequential rounds."""
    for i in range(arms.shape[0]):
        observe(stats, window_arms, window_rewards, n_seen + i, arms[i], rewards[i], discount)
