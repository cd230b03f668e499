"""Learning to rank on Dask: queries stay whole on one worker, and the model (and the ranking
metrics of an evaluation set spread over the workers) equal the single-machine fit's."""
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import cluster
from bindings import Dataset, GBDTRanker, train
from cluster.queries import local_queries, query_aligned

rng = np.random.default_rng(0)
sizes = rng.integers(1, 40, 250)
qid = np.repeat(np.arange(250), sizes)
n = qid.shape[0]
X = rng.normal(size=(n, 5))
y = np.clip(np.round(X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=n)), 0, 3)
query_weight = np.repeat(rng.uniform(0.5, 2.0, 250), sizes)
CHUNKS = (1000, 1700, n - 2700)  # block ends fall inside queries


def test_blocks_move_to_query_boundaries():
    group_ptr = np.concatenate(([0], np.cumsum(sizes)))
    aligned = query_aligned(da.from_array(X, chunks=(CHUNKS, 5)), group_ptr)
    ends = np.cumsum(aligned.chunks[0])
    assert np.isin(ends, group_ptr).all() and ends[-1] == n
    assert all(abs(e - c) < sizes.max() for e, c in zip(ends[:-1], np.cumsum(CHUNKS)[:-1]))
    offsets = np.concatenate(([0], ends[:-1]))
    local, numbers = local_queries(group_ptr, offsets[[0, 2]], np.array(aligned.chunks[0])[[0, 2]])
    expected = np.concatenate([np.arange(*np.searchsorted(group_ptr, [offsets[i], ends[i]])) for i in (0, 2)])
    np.testing.assert_array_equal(numbers, expected)
    np.testing.assert_array_equal(np.diff(local), sizes[expected])


@pytest.mark.parametrize("mode", ["data", "feature"])
@pytest.mark.parametrize("params,weight", [
    ({"objective": "rank:ndcg"}, query_weight),
    ({"objective": "rank:pairwise", "lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": 2}, None),
    ({"objective": "lambdarank"}, None),
    ({"objective": "rank_xendcg"}, query_weight),
])
def test_same_model_and_metrics_as_single_machine(client, params, weight, mode):
    params = {**params, "max_depth": 4, "n_jobs": 1, "eval_metric": ["ndcg@5", "ndcg-"]}
    dw = None if weight is None else da.from_array(weight, chunks=(CHUNKS,))
    head = qid < 80
    booster = cluster.train(client, params, da.from_array(X, chunks=(CHUNKS, 5)),
                            da.from_array(y, chunks=(CHUNKS,)), sample_weight=dw,
                            qid=da.from_array(qid, chunks=(CHUNKS,)),
                            num_boost_round=6, distributed_mode=mode, min_rows_per_worker=1,
                            evals=[(X[head], y[head], "head", None, qid[head])])
    history = {}
    local = train(params, Dataset(X, y, qid=qid, weight=weight), 6,
                  evals=[(Dataset(X[head], y[head], qid=qid[head]), "head")], evals_result=history)
    np.testing.assert_allclose(booster.predict(X), local.predict(X), rtol=1e-6, atol=1e-6)
    for metric in history["head"]:
        np.testing.assert_allclose(booster.evals_result["head"][metric], history["head"][metric], rtol=1e-12)
    assert len(booster.rows_per_worker) == 2


def test_dask_ranker_equals_local_ranker(client):
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcde")).assign(qid=qid), npartitions=3)
    labels = dd.from_pandas(pd.Series(y), npartitions=3)
    ranker = cluster.DaskGBDTRanker(client=client, n_estimators=5, max_depth=3, n_jobs=1, min_rows_per_worker=1)
    ranker.fit(frame, labels)
    local = GBDTRanker(n_estimators=5, max_depth=3, n_jobs=1).fit(X, y, qid=qid)
    np.testing.assert_allclose(ranker.predict(frame).compute(), local.predict(X), rtol=1e-6, atol=1e-6)
    assert ranker.score(frame, labels) == pytest.approx(local.score(X, y, qid=qid), rel=1e-9)
    assert ranker.get_params()["max_depth"] == 3 and ranker.get_params()["min_rows_per_worker"] == 1


def test_ranking_input_errors(client):
    dX, dy = da.from_array(X, chunks=(CHUNKS, 5)), da.from_array(y, chunks=(CHUNKS,))
    with pytest.raises(ValueError, match="needs the queries: pass qid="):
        cluster.train(client, {"objective": "rank:ndcg"}, dX, dy, num_boost_round=1)
    with pytest.raises(ValueError, match="qid must be sorted"):
        cluster.train(client, {"objective": "rank:ndcg"}, dX, dy, qid=qid[::-1], num_boost_round=1)
    with pytest.raises(ValueError, match="lambdarank_unbiased is not supported by cluster.train"):
        cluster.train(client, {"objective": "rank:ndcg", "lambdarank_unbiased": True}, dX, dy, qid=qid,
                      num_boost_round=1)
    with pytest.raises(ValueError, match="weighs whole queries"):
        cluster.train(client, {"objective": "rank:ndcg"}, dX, dy, qid=qid, sample_weight=rng.uniform(1, 2, n),
                      num_boost_round=1, min_rows_per_worker=1)
