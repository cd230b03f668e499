"""Parquet straight into a Dask fit: the same model as training on the same table in memory."""
import numpy as np
import pandas as pd
import pytest

import cluster
from bindings import Dataset, train


def test_parquet_fit_equals_in_memory_fit(client, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((3000, 4)), columns=list("abcd"))
    frame["name"] = "x"  # a text column is skipped
    frame["w"] = rng.uniform(0.5, 2, 3000)
    frame["y"] = (frame["a"] - frame["b"] > 0).astype(float)
    for i, start in enumerate(range(0, 3000, 1000)):
        frame.iloc[start:start + 1000].to_parquet(tmp_path / f"part-{i}.parquet", engine="pyarrow", row_group_size=500)
    X, y, w, names = cluster.read_parquet(str(tmp_path / "*.parquet"), label="y", weight="w")
    assert names == list("abcd") and X.shape == (3000, 4)
    bst = cluster.train(client, {"objective": "binary:logistic", "max_depth": 3}, X, y, sample_weight=w,
                        num_boost_round=5, feature_names=names, min_rows_per_worker=1)
    local = train({"objective": "binary:logistic", "max_depth": 3},
                  Dataset(frame[list("abcd")], frame["y"], weight=frame["w"]), 5)
    np.testing.assert_allclose(bst.predict(frame[list("abcd")]), local.predict(frame[list("abcd")]), atol=1e-6)
    assert bst.feature_names == list("abcd")


def test_unknown_column_is_named(tmp_path):
    pd.DataFrame({"a": [1.0, 2.0], "y": [0.0, 1.0]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"columns \['label'\] are not in the Parquet data"):
        cluster.read_parquet(str(tmp_path / "t.parquet"), label="label")
