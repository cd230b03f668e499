"""The running training margins that gradients are computed from equal the model's own predictions.

Without row sampling the partition adds each leaf's value to its rows (``RowPartition.finish``),
with sampling the round's trees are predicted on the binned rows: either way, after every round
the margin must equal ``predict(output_margin=True)`` of the trees so far, or the next trees fit
wrong gradients (bottom-up gamma pruning once broke this for rows of partly partitioned subtrees).
"""
import numpy as np
import pytest

from benchmarks.synthetic import binary_task, multiclass_task
from bindings import Dataset, train
from bindings.boosting import LocalRows

CASES = {
    "depthwise": {"max_depth": 6},
    "gamma": {"max_depth": 6, "gamma": 2.0, "min_child_weight": 5.0},
    "max_leaves": {"max_depth": 7, "max_leaves": 20},
    "lossguide": {"max_depth": 0, "grow_policy": "lossguide", "max_leaves": 24, "gamma": 1.0},
    "monotone": {"max_depth": 5, "monotone_constraints": [1, -1] + [0] * 8},
    "sampled": {"max_depth": 5, "subsample": 0.7, "colsample_bytree": 0.6},
    "quantized": {"max_depth": 6, "use_quantized_grad": True},
    "feature_mode": {"max_depth": 6, "split_mode": "feature"},
    "multiclass": {"objective": "multi:softprob", "num_class": 3, "max_depth": 4},
}


@pytest.mark.parametrize("case", CASES)
def test_training_margins_equal_predictions_after_every_round(case, monkeypatch):
    params = {"objective": "binary:logistic", "learning_rate": 0.3, "n_jobs": 2, **CASES[case]}
    if case == "multiclass":
        X, y = multiclass_task(8000, 10, n_classes=3, seed=3)
    else:
        X, y = binary_task(8000, 10, missing_fraction=0.05, seed=3)
    local_rows = LocalRows
    margins = []
    add_round = local_rows.add_round

    def recording(self, trees):
        add_round(self, trees)
        margins.append(self.margin.copy())

    monkeypatch.setattr(local_rows, "add_round", recording)
    booster = train(params, Dataset(X, y), 8)
    assert len(margins) == 8
    for r, margin in enumerate(margins):
        expected = booster.predict(X, output_margin=True, iteration_range=(0, r + 1)).reshape(margin.shape)
        np.testing.assert_allclose(margin, expected, rtol=0, atol=1e-9, err_msg=f"round {r}")


@pytest.mark.parametrize("subsample", [1.0, 0.8])
def test_missing_values_alone_left_on_binned_and_raw_rows(subsample, monkeypatch):
    """Missing values that carry the signal under a monotone constraint make splits that send
    missing values alone left (bin -1, raw threshold -inf): the partition, the binned replay of
    a subsampled round, the binned eval set and raw prediction all route them alike."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 3000)
    missing = rng.random(3000) < 0.3
    X = np.c_[np.where(missing, np.nan, x), rng.standard_normal(3000)]
    y = np.where(missing, -3.0, 2.0) + 0.1 * x + rng.standard_normal(3000) * 0.3
    local_rows = LocalRows
    margins = []
    add_round = local_rows.add_round
    monkeypatch.setattr(local_rows, "add_round", lambda self, trees: (add_round(self, trees),
                                                                      margins.append(self.margin[:, 0].copy())))
    params = {"objective": "reg:squarederror", "max_depth": 2, "monotone_constraints": [1, 0], "learning_rate": 0.5,
              "subsample": subsample}
    history = {}
    booster = train(params, Dataset(X, y), 4, evals=[(Dataset(X, y), "train")], evals_result=history)
    assert sum(int((t.bin_threshold[t.feature >= 0] == -1).sum()) for t in booster.trees) >= 2
    for r, margin in enumerate(margins):
        np.testing.assert_allclose(margin, booster.predict(X, output_margin=True, iteration_range=(0, r + 1)),
                                   rtol=0, atol=1e-9)
    assert history["train"]["rmse"][-1] == pytest.approx(np.sqrt(np.mean((booster.predict(X) - y) ** 2)), rel=1e-9)
