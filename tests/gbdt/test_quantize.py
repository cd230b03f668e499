"""Quantised gradients: the hash against a numpy splitmix64, rounding and packing against numpy,
integer histograms against np.add.at of the dequantised values, in both split modes."""
import numpy as np
import pytest

from gbdt import histogram
from gbdt.hashing import hashed_uniforms
from gbdt.histogram import HistogramBuilder
from gbdt.quantize import dequantize_histograms, gradient_scales, quantize_gradients


def numpy_splitmix(row_ids, seeds):
    """uint64 hash of every row id: splitmix64 of the id with each seed mixed in turn."""
    z = row_ids.astype(np.uint64)
    with np.errstate(over="ignore"):
        for seed in seeds:
            z = z + np.uint64(0x9E3779B97F4A7C15) * np.uint64(seed + 1)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
    return z


def numpy_quantize(gh, rows, row_ids, scale_g, scale_h, stochastic, seeds):
    """(g_q, h_q) int64 of ``rows`` by the formula in gbdt.quantize's docstring."""
    if stochastic:
        bits = numpy_splitmix(row_ids[rows], seeds)
        u_g = (bits >> np.uint64(32)).astype(np.float64) / 2.0 ** 32
        u_h = (bits & np.uint64(0xFFFFFFFF)).astype(np.float64) / 2.0 ** 32
    else:
        u_g = u_h = 0.5
    g = gh[rows, 0].astype(np.float64)
    h = gh[rows, 1].astype(np.float64)
    return np.floor(g / scale_g + u_g).astype(np.int64), np.floor(h / scale_h + u_h).astype(np.int64)


def unpack(packed):
    h_q = packed & 0xFFFFFFFF
    return (packed - h_q) >> 32, h_q


@pytest.fixture
def gradients():
    rng = np.random.default_rng(0)
    n = 20_000
    gh = np.empty((n, 2), dtype=np.float32)
    gh[:, 0] = rng.standard_normal(n)
    gh[:, 1] = rng.uniform(0.0, 0.25, n)
    rows = np.sort(rng.choice(n, 15_000, replace=False)).astype(np.int32)
    return gh, rows, np.arange(n, dtype=np.int64) + 1_000  # global ids of a shard that starts at row 1000


def test_hash_matches_numpy_splitmix():
    ids = np.arange(0, 10_000_000, 997, dtype=np.int64)
    got = np.empty(ids.shape[0])
    hashed_uniforms(ids, (3, 11), got)
    expected = (numpy_splitmix(ids, (3, 11)) >> np.uint64(11)).astype(np.float64) / 2.0 ** 53
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("bins", [2, 4, 16])
def test_scales_map_the_extremes_to_the_end_bins(gradients, bins):
    gh, rows, _ = gradients
    scale_g, scale_h = gradient_scales(gh, rows, bins)
    assert scale_g == pytest.approx(np.abs(gh[rows, 0].astype(np.float64)).max() / (bins // 2), rel=1e-12)
    assert scale_h == pytest.approx(gh[rows, 1].astype(np.float64).max() / bins, rel=1e-12)
    assert gradient_scales(np.zeros((4, 2), np.float32), np.arange(4, dtype=np.int32), bins) == (1.0, 1.0)


@pytest.mark.parametrize("stochastic", [True, False])
def test_quantised_pairs_match_numpy(gradients, stochastic):
    gh, rows, row_ids = gradients
    scale_g, scale_h = gradient_scales(gh, rows, 4)
    packed = np.full(gh.shape[0], -7, dtype=np.int64)
    quantize_gradients(gh, rows, row_ids, scale_g, scale_h, stochastic, (5, 2, 0), packed)
    g_q, h_q = unpack(packed[rows])
    expected_g, expected_h = numpy_quantize(gh, rows, row_ids, scale_g, scale_h, stochastic, (5, 2, 0))
    np.testing.assert_array_equal(g_q, expected_g)
    np.testing.assert_array_equal(h_q, expected_h)
    assert g_q.min() >= -2 and g_q.max() <= 2 and h_q.min() >= 0 and h_q.max() <= 4
    outside = np.setdiff1d(np.arange(gh.shape[0]), rows)
    assert (packed[outside] == -7).all()  # rows outside the tree are left alone


def test_stochastic_rounding_is_unbiased(gradients):
    gh, rows, row_ids = gradients
    scale_g, scale_h = gradient_scales(gh, rows, 4)
    packed = np.empty(gh.shape[0], dtype=np.int64)
    quantize_gradients(gh, rows, row_ids, scale_g, scale_h, True, (1, 0, 0), packed)
    g_q, h_q = unpack(packed[rows])
    # each rounding error lies in (-1, 1) scale units with mean 0: the sum's error is ~ sqrt(m) / 2 units
    tolerance = 5 * np.sqrt(rows.shape[0]) / 2
    assert abs(g_q.sum() - (gh[rows, 0] / scale_g).sum()) < tolerance
    assert abs(h_q.sum() - (gh[rows, 1] / scale_h).sum()) < tolerance
    nearest = np.empty_like(packed)
    quantize_gradients(gh, rows, row_ids, scale_g, scale_h, False, (1, 0, 0), nearest)
    assert not np.array_equal(packed[rows], nearest[rows])


@pytest.mark.parametrize("mode", ["data", "feature"])
def test_integer_histograms_match_numpy(gradients, monkeypatch, mode):
    monkeypatch.setattr(histogram, "ROWS_PER_CHUNK", 900)  # several chunks per node
    gh, rows, row_ids = gradients
    rng = np.random.default_rng(1)
    X = rng.integers(0, 32, size=(gh.shape[0], 5)).astype(np.uint8)
    scale = gradient_scales(gh, rows, 4)
    packed = np.empty(gh.shape[0], dtype=np.int64)
    quantize_gradients(gh, rows, row_ids, *scale, True, (0, 0, 0), packed)
    starts, stops = [0, 6000, 6100], [6000, 6100, 15_000]
    features = np.array([0, 2, 3, 4], dtype=np.int32)
    got = HistogramBuilder(X, 32, mode, n_threads=2).build(packed, rows, starts, stops, features, scale=scale)
    g_q, h_q = unpack(packed)
    for j, (s, e) in enumerate(zip(starts, stops)):
        idx = rows[s:e]
        for f in features:
            expected = np.zeros((32, 2))
            np.add.at(expected[:, 0], X[idx, f], g_q[idx])
            np.add.at(expected[:, 1], X[idx, f], h_q[idx])
            np.testing.assert_array_equal(got[j, f], expected * np.array(scale))


def test_dequantize_handles_negative_gradient_sums():
    packed = np.array([[[-5 * 2 ** 32 + 7, 3 * 2 ** 32 + 0, 0]]], dtype=np.int64)
    out = np.full((1, 1, 3, 2), np.nan)
    dequantize_histograms(packed, np.array([0], dtype=np.int32), 0.5, 0.25, out)
    np.testing.assert_array_equal(out[0, 0], [[-2.5, 1.75], [1.5, 0.0], [0.0, 0.0]])
