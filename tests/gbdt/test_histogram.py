"""Histogram kernels against a naive numpy twin; both strategies bit-identical."""
import numpy as np
import pytest

from gbdt import histogram
from gbdt.histogram import HistogramBuilder, flat_view, subtract_histograms


def naive_histograms(X_binned, gh, rows, starts, stops, n_bins):
    out = np.zeros((len(starts), X_binned.shape[1], n_bins, 2))
    for j, (s, e) in enumerate(zip(starts, stops)):
        idx = rows[s:e]
        for f in range(X_binned.shape[1]):
            b = X_binned[idx, f]
            np.add.at(out[j, f, :, 0], b, gh[idx, 0].astype(np.float64))
            np.add.at(out[j, f, :, 1], b, gh[idx, 1].astype(np.float64))
    return out


@pytest.fixture
def data(monkeypatch):
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 700)  # several chunks per node in small data
    rng = np.random.default_rng(0)
    n, F, B = 5000, 7, 32
    X = rng.integers(0, B, size=(n, F)).astype(np.uint8)
    gh = rng.standard_normal((n, 2)).astype(np.float32)
    rows = rng.permutation(n).astype(np.int32)[:4000]
    return X, gh, rows, B


@pytest.mark.parametrize("mode", ["data", "feature", "auto"])
def test_histograms_match_naive(data, mode):
    X, gh, rows, B = data
    starts, stops = [0, 2500, 2600], [2500, 2600, 4000]
    builder = HistogramBuilder(X, B, mode, n_threads=2)
    features = np.arange(X.shape[1], dtype=np.int32)
    got = builder.build(gh, rows, starts, stops, features)
    np.testing.assert_allclose(got, naive_histograms(X, gh, rows, starts, stops, B), rtol=1e-12, atol=1e-9)


def test_data_and_feature_modes_are_bit_identical(data):
    X, gh, rows, B = data
    features = np.array([0, 2, 3, 6], dtype=np.int32)
    hists = [HistogramBuilder(X, B, mode, n_threads=2).build(gh, rows, [0, 1234], [1234, 4000], features)
             for mode in ("data", "feature")]
    np.testing.assert_array_equal(hists[0][:, features], hists[1][:, features])


def test_subtraction_gives_the_sibling(data):
    X, gh, rows, B = data
    features = np.arange(X.shape[1], dtype=np.int32)
    builder = HistogramBuilder(X, B, "data", n_threads=2)
    parent = builder.build(gh, rows, [0], [4000], features)
    small = builder.build(gh, rows, [0], [1500], features)
    sibling = np.empty_like(small)
    offsets = np.arange(X.shape[1] + 1, dtype=np.int64) * B
    subtract_histograms(flat_view(parent), np.array([0]), flat_view(small), features, offsets, flat_view(sibling))
    np.testing.assert_allclose(sibling, naive_histograms(X, gh, rows, [1500], [4000], B), atol=1e-9)


def test_chunking_covers_every_row_once():
    lo, hi, node, first = histogram.chunk_nodes(np.array([0, 10, 10]), np.array([10, 10, 100_000]))
    assert first.tolist() == [0, 1, 2, 2 + -(-99_990 // histogram.ROWS_PER_CHUNK)]
    assert (hi - lo).sum() == 100_000 and node[-1] == 2


def test_single_chunk_levels_chunk_as_the_general_rule_does():
    """Nodes of at most ROWS_PER_CHUNK rows (the shortcut) get the chunks that the general rule gives them
    when a larger node follows."""
    rng = np.random.default_rng(2)
    sizes = rng.integers(0, histogram.ROWS_PER_CHUNK + 1, 50)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    stops = starts + sizes
    short = histogram.chunk_nodes(starts, stops)
    general = histogram.chunk_nodes(np.r_[starts, stops[-1]], np.r_[stops, stops[-1] + 3 * histogram.ROWS_PER_CHUNK])
    for got, full in zip(short[:3], general[:3]):
        np.testing.assert_array_equal(got, full[:50])
    np.testing.assert_array_equal(short[3], general[3][:51])
