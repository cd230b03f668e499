"""The distributed sketch picks the same rows, hence the same edges, for every placement."""
import numpy as np
import pytest

from bindings.row_sampling import hashed_row_mask
from cluster.sketch import RowSample, merge_samples, sampling_rate
from gbdt.binning import compute_bin_edges

rng = np.random.default_rng(3)
X = rng.standard_normal((30000, 4))
X[rng.random(X.shape) < 0.1] = np.nan
w = rng.uniform(0.5, 2.0, 30000)


def shards_of(bounds):
    """Per shard (blocks, offsets, weights) for row blocks split at ``bounds``, dealt round robin to 2 shards."""
    cuts = list(zip([0] + bounds, bounds + [X.shape[0]]))
    shards = [cuts[0::2], cuts[1::2]]
    return [([X[a:b] for a, b in s], [a for a, _ in s], np.concatenate([w[a:b] for a, b in s])) for s in shards if s]


def sketch_edges(shards, weighted, rate, request_bytes=8 << 20):
    """Edges merged from one RowSample per shard, the leader asking for columns as a fit does."""
    samples = [(RowSample(blocks, offsets, weight if weighted else None, rate, seed=5), blocks)
               for blocks, offsets, weight in shards]
    return merge_samples([(s.ids, s.weight) for s, _ in samples],
                         lambda features: [s.columns(blocks, features) for s, blocks in samples],
                         X.shape[1], 64, seed=0, request_bytes=request_bytes)


def test_hashed_sample_has_the_requested_rate_and_ignores_placement():
    ids = np.arange(1_000_000)
    keep = hashed_row_mask(ids, 0.2, 7)
    assert abs(keep.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / ids.shape[0])
    assert np.array_equal(keep[123_456:200_000], hashed_row_mask(ids[123_456:200_000], 0.2, 7))
    assert not np.array_equal(keep, hashed_row_mask(ids, 0.2, 8))
    assert hashed_row_mask(ids[:10], 1.0, 0).all()
    assert sampling_rate(100) == 1.0 and sampling_rate(400_000) == 0.5


@pytest.mark.parametrize("weighted", [True, False])
def test_any_chunking_and_placement_gives_the_same_edges(weighted):
    """Unweighted samples are merged without putting their rows in order: the edges still agree."""
    edges = [sketch_edges(shards_of(bounds), weighted, 0.3) for bounds in ([], [7000], [1000, 2500, 17000, 29000])]
    for e, n in edges[1:]:
        np.testing.assert_array_equal(e, edges[0][0])
        np.testing.assert_array_equal(n, edges[0][1])


@pytest.mark.parametrize("weighted", [True, False])
def test_full_rate_equals_single_machine_edges(weighted):
    e, n = sketch_edges(shards_of([9000, 21000]), weighted, 1.0)
    e_local, n_local = compute_bin_edges(X, 64, w if weighted else None, seed=0)
    np.testing.assert_array_equal(e, e_local)
    np.testing.assert_array_equal(n, n_local)


@pytest.mark.parametrize("weighted", [True, False])
def test_columns_asked_one_at_a_time_give_the_same_edges(weighted):
    """A request budget below one column's values: the leader asks for each feature alone."""
    samples = [(RowSample(blocks, offsets, weight if weighted else None, 1.0, seed=5), blocks)
               for blocks, offsets, weight in shards_of([9000, 21000])]
    asked = []

    def columns(features):
        asked.append(list(features))
        return [s.columns(blocks, features) for s, blocks in samples]

    e, n = merge_samples([(s.ids, s.weight) for s, _ in samples], columns, X.shape[1], 64, seed=0, request_bytes=1)
    assert asked == [[f] for f in range(X.shape[1])]
    e_local, n_local = compute_bin_edges(X, 64, w if weighted else None, seed=0)
    np.testing.assert_array_equal(e, e_local)
    np.testing.assert_array_equal(n, n_local)


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("request_bytes", [8 << 20, 1])
def test_csr_blocks_merge_to_the_dense_twins_edges(weighted, request_bytes):
    """CSR row blocks send their sampled rows' entries; at full rate the merged edges are the dense
    twin's (implicit zeros count as values, stored NaN are missing), whole or a column at a time."""
    sp = pytest.importorskip("scipy.sparse")
    dense = np.where(rng.random(X.shape) < 0.7, 0.0, X)  # NaN kept where stored
    csr = sp.csr_matrix(dense)
    cuts = [(0, 9000), (9000, 21000), (21000, X.shape[0])]
    shards = [[cuts[0], cuts[2]], [cuts[1]]]
    samples = [(RowSample([csr[a:b] for a, b in s], [a for a, _ in s],
                          np.concatenate([w[a:b] for a, b in s]) if weighted else None, 1.0, seed=5),
                [csr[a:b] for a, b in s]) for s in shards]
    e, n = merge_samples([(s.ids, s.weight) for s, _ in samples],
                         lambda features: [s.columns(blocks, features) for s, blocks in samples],
                         X.shape[1], 64, seed=0, request_bytes=request_bytes, stored=csr.nnz)
    e_local, n_local = compute_bin_edges(dense, 64, w if weighted else None, seed=0)
    np.testing.assert_array_equal(e, e_local)
    np.testing.assert_array_equal(n, n_local)
