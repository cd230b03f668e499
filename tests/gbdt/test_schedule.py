"""Thread groups of unequal tasks: a permutation in ascending runs, loads near the best possible."""
import numpy as np
import pytest

from gbdt.schedule import busiest_load, compiled_busiest_load, compiled_thread_schedule, contiguous_schedule, thread_schedule


def level_chunk_sizes(rng, n_nodes=60, chunk=32768):
    """Chunk sizes of a deep tree level: nodes of every size, each cut into chunks with a short last one."""
    sizes = []
    for n in rng.integers(1, 120_000, size=n_nodes):
        sizes += [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])
    return np.array(sizes, dtype=np.int64)


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_groups_cover_every_task_once_and_balance_rows(n_threads):
    sizes = level_chunk_sizes(np.random.default_rng(n_threads))
    order, first = thread_schedule(sizes, n_threads)
    assert first[0] == 0 and first[-1] == sizes.shape[0] and len(first) == n_threads + 1
    np.testing.assert_array_equal(np.sort(order), np.arange(sizes.shape[0]))
    loads = [sizes[order[first[g]:first[g + 1]]].sum() for g in range(n_threads)]
    for g in range(n_threads):
        assert np.all(np.diff(order[first[g]:first[g + 1]]) > 0)  # each group runs its chunks in order
    # largest first, dealt in snake order: the busiest group exceeds the mean by at most the largest task
    assert max(loads) <= sizes.sum() / n_threads + sizes.max()
    # numba's static split into equal counts, for comparison, is much worse on such levels
    static = max(block.sum() for block in np.array_split(sizes, n_threads))
    assert max(loads) <= static
    assert busiest_load(sizes, (order, first)) == max(loads)


def test_fewer_tasks_than_threads_and_no_tasks():
    order, first = thread_schedule(np.array([5, 7]), 8)
    assert list(first) == [0, 1, 2] and sorted(order) == [0, 1]
    order, first = thread_schedule(np.zeros(0, dtype=np.int64), 4)
    assert order.shape == (0,) and list(first) == [0, 0]
    assert busiest_load(np.zeros(0, dtype=np.int64), thread_schedule(np.zeros(0, dtype=np.int64), 4)) == 0


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_contiguous_runs_cover_the_tasks_in_order_and_balance(n_threads):
    """Runs of consecutive tasks, each within one task of an equal share (feature sizes of Zipf
    columns: a few large, many small), and never more runs than tasks."""
    sizes = (50_000 / np.arange(1, 500)).astype(np.int64) + 3
    first = contiguous_schedule(sizes, n_threads)
    assert first[0] == 0 and first[-1] == sizes.shape[0] and len(first) == n_threads + 1
    assert np.all(np.diff(first) >= 0)
    loads = np.add.reduceat(sizes, first[:-1])[np.diff(first) > 0]
    assert loads.max() <= sizes.sum() / n_threads + sizes.max()
    assert list(contiguous_schedule(np.array([4, 9]), 8)) == [0, 1, 2]
    assert list(contiguous_schedule(np.zeros(0, dtype=np.int64), 4)) == [0, 0]


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_compiled_twin_gives_the_same_groups(n_threads):
    rng = np.random.default_rng(10 + n_threads)
    for sizes in (level_chunk_sizes(rng), rng.integers(0, 4, 37), np.zeros(0, dtype=np.int64), np.array([5])):
        sizes = np.asarray(sizes, dtype=np.int64)
        expected = thread_schedule(sizes, n_threads)
        got = compiled_thread_schedule(sizes, n_threads)
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e)
        assert compiled_busiest_load(sizes, *got) == busiest_load(sizes, expected)
