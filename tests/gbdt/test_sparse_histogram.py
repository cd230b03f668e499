"""Histograms from the non-zeros against a naive numpy twin over the dense bins, in the compact layout."""
import numpy as np
import pytest
import scipy.sparse as sp

from gbdt import sparse_histogram
from gbdt.binning import compute_bin_edges
from gbdt.histogram import compact_bin_offsets
from gbdt.quantize import HIGH_WORD
from gbdt.sparse_binning import bin_csr_sparse
from gbdt.sparse_histogram import SparseHistogramBuilder, histogram_builder
from gbdt.threads import using_threads


def sparse_data(n=3000, n_features=9, seed=0, max_bin=32):
    """(SparseBins, dense (n, F) bins, gh (n, 2) float32) of a CSR with NaN, stored zeros, a
    column without zeros and an empty column."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=0.2, random_state=seed, format="lil")
    X[:, 4] = rng.standard_normal((n, 1)) + 5.0  # every row stored
    X[:, 7] = 0.0
    X = X.tocsr()
    X.data[::17] = np.nan
    X.data[3::29] = 0.0
    dense = X.toarray()
    edges, n_edges = compute_bin_edges(dense, max_bin)
    bins = bin_csr_sparse(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, n_features, edges,
                          n_edges, max_bin)
    dense_bins = np.repeat(bins.zero_bin[None, :], n, axis=0)
    for f in range(n_features):
        stored = ~np.isnan(dense[:, f]) & (dense[:, f] != 0)
        dense_bins[stored, f] = np.searchsorted(edges[f, :n_edges[f]], dense[stored, f])
        dense_bins[np.isnan(dense[:, f]), f] = max_bin - 1
    gh = np.column_stack([rng.standard_normal(n), rng.uniform(0.1, 1.0, n)]).astype(np.float32)
    return bins, dense_bins, gh


def assert_features_close(got, want, offsets, features):
    """The compact histograms (nodes, bins, 2) ``got`` equal ``want`` on each of ``features``' slices
    ``offsets[f]:offsets[f + 1]`` (the bins of features not built are left unread)."""
    for f in features:
        np.testing.assert_allclose(got[:, offsets[f]:offsets[f + 1]], want[:, offsets[f]:offsets[f + 1]],
                                   rtol=1e-12, atol=1e-9)


def naive_compact(dense_bins, values, rows, starts, stops, n_value_bins, missing_bin):
    """(N, T, ...) sums of ``values`` (n, ...) per node and compact bin, by np.add.at."""
    offsets = compact_bin_offsets(n_value_bins)
    out = np.zeros((len(starts), offsets[-1]) + values.shape[1:], dtype=values.dtype)
    for j, (s, e) in enumerate(zip(starts, stops)):
        idx = rows[s:e]
        for f in range(dense_bins.shape[1]):
            b = dense_bins[idx, f].astype(np.int64)
            b[b == missing_bin] = n_value_bins[f]  # the missing bin is the feature's last
            np.add.at(out[j], offsets[f] + b, values[idx])
    return out


def node_layout(n, rng):
    """A permuted row partition (m,) int32 of most rows, cut into 4 nodes."""
    rows = rng.permutation(n)[: n - 100].astype(np.int32)
    starts, stops = [0, 700, 701, 2000], [700, 701, 2000, n - 100]
    return rows, starts, stops


def by(walk, monkeypatch):
    """Make every build walk the columns' entries or the rows'."""
    monkeypatch.setattr(sparse_histogram.SparseHistogramBuilder, "by_rows", lambda self, starts, stops: walk == "rows")


@pytest.fixture(params=["columns", "rows"])
def walk(request, monkeypatch):
    """Every build from the columns' entries, or from the rows'."""
    by(request.param, monkeypatch)
    return request.param


def test_histograms_match_naive_twin(walk):
    bins, dense_bins, gh = sparse_data()
    rows, starts, stops = node_layout(bins.n_rows, np.random.default_rng(1))
    features = np.array([0, 2, 4, 5, 7, 8], dtype=np.int32)
    builder = SparseHistogramBuilder(bins, n_threads=2)
    got = builder.build(gh, rows, starts, stops, features)
    want = naive_compact(dense_bins, gh.astype(np.float64), rows, starts, stops, bins.n_value_bins, bins.missing_bin)
    assert_features_close(got, want, builder.bin_offsets, features)



def test_zero_bin_of_a_node_without_zeros_is_exactly_empty(walk):
    """A node whose rows all have an entry outside feature 4's zero bin (as the right child of a
    split on it) gets an exact zero there, not a rounding residue of total - entries."""
    bins, dense_bins, gh = sparse_data()
    gh *= (10.0 ** np.random.default_rng(3).uniform(-8, 4, (bins.n_rows, 1))).astype(np.float32)  # sums round
    builder = SparseHistogramBuilder(bins, n_threads=2)
    # rows out of order: the node's total then sums in another order than its entries
    rows = np.random.default_rng(2).permutation(np.flatnonzero(dense_bins[:, 4] > bins.zero_bin[4])).astype(np.int32)
    got = builder.build(gh, rows, [0], [rows.shape[0]], np.arange(bins.shape[1], dtype=np.int32))
    assert 0 < rows.shape[0] < bins.n_rows
    assert (got[0, builder.bin_offsets[4] + bins.zero_bin[4]] == 0.0).all()


def test_packed_histograms_are_exact_integer_sums(walk):
    """Quantised gradients: the zero bin by subtraction is exact, so every bin equals the twin's."""
    bins, dense_bins, _ = sparse_data(seed=3)
    rng = np.random.default_rng(4)
    g_q, h_q = rng.integers(-8, 9, bins.n_rows), rng.integers(0, 17, bins.n_rows)
    packed = g_q * HIGH_WORD + h_q
    rows, starts, stops = node_layout(bins.n_rows, rng)
    features = np.arange(bins.shape[1], dtype=np.int32)
    got = SparseHistogramBuilder(bins, n_threads=2).build_packed(packed, rows, starts, stops, features)
    want = naive_compact(dense_bins, packed, rows, starts, stops, bins.n_value_bins, bins.missing_bin)
    np.testing.assert_array_equal(got, want)
    dequantised = SparseHistogramBuilder(bins, n_threads=2).build(packed, rows, starts, stops, features,
                                                                  scale=(0.5, 0.25))
    naive_pairs = np.stack([g_q * 0.5, h_q * 0.25], axis=1)
    np.testing.assert_allclose(dequantised, naive_compact(dense_bins, naive_pairs, rows, starts, stops,
                                                          bins.n_value_bins, bins.missing_bin), rtol=1e-15)


def test_successive_batches_do_not_see_each_others_rows(walk):
    """Rows marked for one batch are not counted in the next (stamped marks, never cleared)."""
    bins, dense_bins, gh = sparse_data(seed=5)
    rng = np.random.default_rng(6)
    builder = SparseHistogramBuilder(bins, n_threads=2)
    features = np.arange(bins.shape[1], dtype=np.int32)
    for _ in range(3):
        rows, starts, stops = node_layout(bins.n_rows, rng)
        rows, starts, stops = rows[:1500], starts[:2], stops[:2]  # a batch of fewer rows than the last
        got = builder.build(gh, rows, starts, stops, features)
        want = naive_compact(dense_bins, gh.astype(np.float64), rows, starts, stops, bins.n_value_bins,
                             bins.missing_bin)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_rows_and_columns_give_the_same_bits(monkeypatch):
    """Both walks add the same values in the same order (rows ascending within every node)."""
    bins, _, gh = sparse_data(seed=9)
    gh *= (10.0 ** np.random.default_rng(3).uniform(-8, 4, (bins.n_rows, 1))).astype(np.float32)  # sums round
    rows, starts, stops = node_layout(bins.n_rows, np.random.default_rng(10))
    for j in range(len(starts)):  # rows ascending within each node, as a partition keeps them
        rows[starts[j]:stops[j]].sort()
    features = np.arange(bins.shape[1], dtype=np.int32)
    got = []
    for walk in ("columns", "rows"):
        by(walk, monkeypatch)
        got.append(SparseHistogramBuilder(bins, n_threads=2).build(gh, rows, starts, stops, features))
    np.testing.assert_array_equal(got[0], got[1])


def test_thread_count_does_not_change_a_bit(walk):
    bins, _, gh = sparse_data(seed=7)
    rows, starts, stops = node_layout(bins.n_rows, np.random.default_rng(8))
    features = np.arange(bins.shape[1], dtype=np.int32)
    with using_threads(1):
        one = SparseHistogramBuilder(bins, n_threads=1).build(gh, rows, starts, stops, features)
    two = SparseHistogramBuilder(bins, n_threads=2).build(gh, rows, starts, stops, features)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("sparse", [True, False])
def test_builder_follows_the_bins(sparse):
    bins, dense_bins, _ = sparse_data(n=200)
    builder = histogram_builder(bins if sparse else dense_bins, 32, "data", 2)
    assert type(builder).__name__ == ("SparseHistogramBuilder" if sparse else "HistogramBuilder")
    assert builder.empty(3).shape == ((3, builder.bin_offsets[-1], 2) if sparse else (3, 9, 32, 2))


def test_small_batches_walk_the_rows():
    """Rows for batches of few rows or of one node per thread; columns for the root."""
    bins, _, _ = sparse_data(n=1000)
    two = SparseHistogramBuilder(bins, n_threads=2)
    assert not two.by_rows(np.array([0]), np.array([1000]))  # the root
    assert not two.by_rows(np.array([0]), np.array([600]))  # one node, more than half the rows
    assert two.by_rows(np.array([0]), np.array([400]))  # lossguide's small nodes
    assert two.by_rows(np.array([0, 300]), np.array([300, 900]))  # a level of two nodes
    assert SparseHistogramBuilder(bins, n_threads=1).by_rows(np.array([0]), np.array([900]))


def test_uniform_view_equals_the_dense_builder():
    """``uniform=True``: the sparse builder's histograms in the dense layout (what Dask shards
    exchange) equal the dense ``HistogramBuilder``'s over the twin bins: packed integer sums bit for
    bit, float sums to rounding (the zero bin by subtraction), every unused bin an exact zero."""
    bins, dense_bins, gh = sparse_data(seed=5)
    rng = np.random.default_rng(6)
    rows, starts, stops = node_layout(bins.n_rows, rng)
    features = np.arange(bins.shape[1], dtype=np.int32)
    uniform = histogram_builder(bins, 32, "data", 2, uniform=True)
    dense = histogram_builder(dense_bins, 32, "data", 2)
    got = uniform.build(gh, rows, starts, stops, features, out=uniform.empty(4, 0))
    assert got.shape == (4, 9, 32, 2)
    np.testing.assert_allclose(got, dense.build(gh, rows, starts, stops, features), rtol=1e-6, atol=1e-9)
    packed = rng.integers(-8, 9, bins.n_rows) * HIGH_WORD + rng.integers(0, 17, bins.n_rows)
    np.testing.assert_array_equal(uniform.build_packed(packed, rows, starts, stops, features),
                                  dense.build_packed(packed, rows, starts, stops, features))
    unused = np.arange(32)[None, :] >= bins.n_value_bins[:, None]
    unused[:, -1] = False  # the missing bin
    assert (got[:, unused] == 0).all() and unused.any()
