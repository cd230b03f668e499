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
changes a result: every chunk sums into its own buffer. The compiled grower
(``gbdt.compiled_grower``) schedules its levels with the compiled twins, ``compiled_thread_schedule``
and ``compiled_busiest_load``, which give the same groups.
"""
import numpy as np

from gbdt._jit import jit


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


@jit
def compiled_thread_schedule(sizes, n_threads):
    """``thread_schedule`` compiled: the same (order, first) for ``sizes`` (C,) int64."""
    n_tasks = sizes.shape[0]
    n_groups = max(1, min(n_threads, n_tasks))
    first = np.zeros(n_groups + 1, dtype=np.int64)
    if n_groups == 1:
        first[1] = n_tasks
        return np.arange(n_tasks), first
    owner = np.empty(n_tasks, dtype=np.int64)
    largest_first = _largest_first(sizes)
    for rank in range(n_tasks):
        seat = rank % (2 * n_groups)
        owner[largest_first[rank]] = min(seat, 2 * n_groups - 1 - seat)
    for task in range(n_tasks):
        first[owner[task] + 1] += 1
    for g in range(n_groups):
        first[g + 1] += first[g]
    order = np.empty(n_tasks, dtype=np.int64)
    next_seat = first[:-1].copy()
    for task in range(n_tasks):  # by group, then task
        order[next_seat[owner[task]]] = task
        next_seat[owner[task]] += 1
    return order, first


@jit
def _largest_first(sizes):
    """(C,) int64 task indices by size, largest first, equal sizes in task order: a bottom-up
    stable merge sort (Numba's np.argsort(kind="mergesort") adds ~1.5 s to a cold compilation)."""
    n = sizes.shape[0]
    order = np.arange(n)
    merged = np.empty(n, dtype=np.int64)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                # the right run's task goes first only when strictly larger: stable
                if j < hi and (i >= mid or sizes[order[j]] > sizes[order[i]]):
                    merged[k] = order[j]
                    j += 1
                else:
                    merged[k] = order[i]
                    i += 1
        order, merged = merged, order
        width *= 2
    return order


@jit
def compiled_busiest_load(sizes, order, first):
    """``busiest_load`` compiled, of the schedule (order, first)."""
    busiest = 0
    for g in range(first.shape[0] - 1):
        load = 0
        for j in range(first[g], first[g + 1]):
            load += sizes[order[j]]
        busiest = max(busiest, load)
    return busiest
