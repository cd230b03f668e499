"""Tasks of unequal size grouped so that every thread gets about the same work.

Numba's ``prange`` splits its range statically into equal counts of iterations, one block per
thread. Row chunks of a tree level are unequal (nodes of every size, each ending in a short
chunk), so with one iteration per chunk the busiest of 2 threads had 1.2-1.3x the mean rows on
levels 2-7 of a 1M-row depth-8 tree, and the busiest of 8 threads 2-2.6x. Kernels instead loop
``for t in prange(n_groups)`` over the groups of ``thread_schedule``: one group per thread, each
about a 1/T share of the rows. Tasks are dealt largest first in snake order (groups 0..G-1, then
G-1..0, ...): on such levels the busiest group carries 1.03x (2 threads) to 1.09x (8-16 threads)
the mean on average, within 0.005 of longest-first onto the least-loaded group, in numpy (the
greedy loop was a Numba kernel: ~0.4 s of a cold first fit). Which thread runs a task never
changes a result: every chunk sums into its own buffer.
"""
import numpy as np


def thread_schedule(sizes, n_threads):
    """(order, first): tasks of ``sizes`` (C,) int64 grouped for ``n_threads`` threads.

    Group g runs tasks ``order[first[g]:first[g + 1]]`` in ascending task order; order (C,) int64
    is a permutation of the tasks, first (G + 1,) int64 with G = min(n_threads, C) (at least 1).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n_tasks = sizes.shape[0]
    n_groups = max(1, min(int(n_threads), n_tasks))
    if n_groups == 1:  # one thread: every task in order (the common small-fit case, called per level)
        return np.arange(n_tasks), np.array([0, n_tasks])
    task = np.arange(n_tasks)
    seat = task % (2 * n_groups)  # the k-th largest task goes to seat k mod 2G, folded back: 0..G-1, G-1..0
    owner = np.empty(n_tasks, dtype=np.int64)
    owner[np.argsort(-sizes, kind="stable")] = np.minimum(seat, 2 * n_groups - 1 - seat)
    order = np.argsort(owner * n_tasks + task)  # by group, then task
    first = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_groups), out=first[1:])
    return order, first


def busiest_load(sizes, schedule):
    """Total size of the heaviest group of ``schedule`` = ``thread_schedule(sizes, ...)`` (0 without tasks)."""
    order, first = schedule
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.shape[0] == 0:
        return 0
    return int(np.add.reduceat(sizes[order], first[:-1]).max())


def contiguous_schedule(sizes, n_threads):
    """first (G + 1,) int64: tasks cut into G = min(n_threads, C) (at least 1) runs of consecutive
    tasks of about equal total size, group g running tasks ``first[g]:first[g + 1]`` in order.
    For tasks whose memory lies in task order (features of a histogram): each thread then streams
    through its own stretch instead of hopping between the tasks ``thread_schedule`` deals it."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n_groups = max(1, min(int(n_threads), sizes.shape[0]))
    cumulative = np.cumsum(sizes)
    total = cumulative[-1] if sizes.shape[0] else 0
    cuts = np.searchsorted(cumulative, total * np.arange(1, n_groups) / n_groups, side="left")
    return np.concatenate(([0], cuts, [sizes.shape[0]])).astype(np.int64)
