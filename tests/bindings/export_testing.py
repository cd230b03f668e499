"""Small models of every objective for the export tests, their data, and rows on the thresholds.

The features are float32 values (XGBoost, ONNX and treelite read float32; a float64 between two
float32 values is rounded before their comparison): three continuous columns with NaN (their
split thresholds are training values, so rows sit exactly on them), one column of ten distinct
values k / 3 (its thresholds are midpoints, which float32 cannot hold, so the exports must round
them the right way) and, on request, a categorical column of 8 string categories with NaN.
"""
import numpy as np
import pandas as pd

from bindings import Dataset, train
from bindings.objectives import OBJECTIVES as TABLE

N_ROWS = 300
NAMES = ["a", "b", "c", "grid", "kind"]
CATEGORIES = [f"k{i}" for i in range(8)]

# objective -> (extra parameters, label function of the signal s and a random generator)
OBJECTIVES = {
    "reg:squarederror": ({}, lambda s, r: s + 0.1 * r.standard_normal(s.shape[0])),
    "binary:logistic": ({}, lambda s, r: (s > 0).astype(float)),
    "binary:logitraw": ({}, lambda s, r: (s > 0).astype(float)),
    "reg:logistic": ({}, lambda s, r: 1 / (1 + np.exp(-s))),
    "multi:softprob": ({"num_class": 3}, lambda s, r: np.digitize(s, [-1, 1]).astype(float)),
    "multi:softmax": ({"num_class": 3}, lambda s, r: np.digitize(s, [-1, 1]).astype(float)),
    "count:poisson": ({}, lambda s, r: r.poisson(np.exp(s / 2)).astype(float)),
    "reg:gamma": ({}, lambda s, r: np.exp(s / 2) * r.gamma(2.0, 0.5, s.shape[0])),
    "reg:tweedie": ({"tweedie_variance_power": 1.3}, lambda s, r: r.poisson(np.exp(s / 2)) * 0.7),
    "reg:absoluteerror": ({}, lambda s, r: s + r.standard_normal(s.shape[0])),
    "reg:quantileerror": ({"quantile_alpha": 0.8}, lambda s, r: s + r.standard_normal(s.shape[0])),
    "multi-quantile": ({"objective": "reg:quantileerror", "quantile_alpha": [0.2, 0.5, 0.9]},
                       lambda s, r: s + r.standard_normal(s.shape[0])),
    "reg:pseudohubererror": ({"huber_slope": 2.0}, lambda s, r: s + r.standard_normal(s.shape[0])),
    "reg:squaredlogerror": ({}, lambda s, r: np.exp(s / 2)),
    "binary:hinge": ({}, lambda s, r: (s > 0).astype(float)),
    "survival:cox": ({}, lambda s, r: np.exp(-s / 2) * np.where(r.random(s.shape[0]) < 0.2, -1, 1)),
    # learning to rank, over queries of 10 rows (``fit``): relevance 0..3, 0/1 for rank:map
    "rank:pairwise": ({}, lambda s, r: np.digitize(s + r.standard_normal(s.shape[0]), [-1, 0, 1]).astype(float)),
    "rank:ndcg": ({}, lambda s, r: np.digitize(s + r.standard_normal(s.shape[0]), [-1, 0, 1]).astype(float)),
    "rank:map": ({}, lambda s, r: (s + r.standard_normal(s.shape[0]) > 0).astype(float)),
    "lambdarank": ({}, lambda s, r: np.digitize(s + r.standard_normal(s.shape[0]), [-1, 0, 1]).astype(float)),
    "rank_xendcg": ({}, lambda s, r: np.digitize(s + r.standard_normal(s.shape[0]), [-1, 0, 1]).astype(float)),
}
QUERY_SIZE = 10


def features(n=N_ROWS, seed=0, categorical=False):
    """A DataFrame with the columns of ``NAMES`` (``kind`` only when ``categorical``)."""
    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((n, 3)).astype(np.float32).astype(np.float64)
    numeric[rng.random(numeric.shape) < 0.1] = np.nan
    frame = pd.DataFrame(numeric, columns=NAMES[:3])
    frame["grid"] = (rng.integers(0, 10, n) / 3).astype(np.float32).astype(np.float64)
    if categorical:
        codes = rng.integers(0, len(CATEGORIES), n)
        kind = np.array(CATEGORIES, dtype=object)[codes]
        kind[rng.random(n) < 0.1] = None
        frame["kind"] = pd.Categorical(kind, categories=CATEGORIES)
    return frame


def signal(frame):
    """The label's signal: two numeric columns, the integer column and, if present, a set of categories."""
    s = 1.5 * np.nan_to_num(frame["a"].to_numpy()) - np.nan_to_num(frame["b"].to_numpy()) \
        + 0.9 * (frame["grid"].to_numpy() - 1.5)
    if "kind" in frame:
        s = s + 1.5 * frame["kind"].isin(["k1", "k4", "k6"]).to_numpy() - 1.0 * frame["kind"].isna().to_numpy()
    return s


def fit(objective, categorical=False, rounds=4, seed=0, **params):
    """(booster, training frame) of a small model of ``objective`` (a key of ``OBJECTIVES``); ranking
    objectives train over consecutive queries of ``QUERY_SIZE`` rows."""
    extra, label = OBJECTIVES[objective]
    frame = features(seed=seed, categorical=categorical)
    y = label(signal(frame), np.random.default_rng(seed + 1))
    p = {"objective": objective, "max_depth": 3, "learning_rate": 0.5, "n_jobs": 1, "max_bin": 32,
         **extra, **params}
    group = np.full(N_ROWS // QUERY_SIZE, QUERY_SIZE) if TABLE[p["objective"]].queries else None
    return train(p, Dataset(frame, y, group=group), rounds), frame


def codes(frame):
    """(n, F) float64 of ``frame`` with the categorical column as its codes (NaN for missing):
    the input of an exported model."""
    out = frame.copy()
    if "kind" in out:
        out["kind"] = out["kind"].cat.codes.to_numpy().astype(np.float64)
        out.loc[out["kind"] < 0, "kind"] = np.nan
    return out.to_numpy(dtype=np.float64)


def threshold_rows(booster, X):
    """Rows of X (n, F) with each numeric split's feature set to the float32 values next to its
    finite threshold on both sides (and the threshold itself where it is a float32 value): the inputs
    where a float32 threshold chosen wrongly would change the decision."""
    rows = []
    for tree in booster.trees:
        for j in np.flatnonzero((tree.feature >= 0) & ~tree.is_categorical & np.isfinite(tree.threshold)):
            t = tree.threshold[j]
            below = np.float32(t) if np.float32(t) <= t else np.nextafter(np.float32(t), np.float32(-np.inf))
            for value in {float(below), float(np.nextafter(below, np.float32(np.inf)))}:
                row = X[len(rows) % X.shape[0]].copy()
                row[tree.feature[j]] = value
                rows.append(row)
    return np.array(rows)


def frame_of(X):
    """The DataFrame (categorical ``kind`` by value) of a codes matrix X (n, 4 or 5): what our model predicts on."""
    frame = pd.DataFrame(X[:, :4], columns=NAMES[:4])
    if X.shape[1] == 5:
        frame["kind"] = pd.Categorical.from_codes(np.nan_to_num(X[:, 4], nan=-1).astype(int), CATEGORIES)
    return frame
