"""The running training margins that gradients are computed from equal the model's own predictions.

Without row sampling the partition adds each leaf's value to its rows (``RowPartition.finish``),
with sampling the round's trees are predicted on the binned rows: either way, after every round
the margin must equal ``predict(output_margin=True)`` of the trees so far, or the next trees fit
wrong gradients (bottom-up gamma pruning once broke this for rows of partly partitioned subtrees).
"""
import importlib

import numpy as np
import pytest

from benchmarks.synthetic import binary_task, multiclass_task
from bindings import Dataset, train

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
    local_rows = importlib.import_module("bindings.train").LocalRows
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
