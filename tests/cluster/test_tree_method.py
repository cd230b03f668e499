"""tree_method on Dask: exact is refused, as XGBoost refuses it (its column blocks need every row in
one process), and so is approx for now; both before any worker is contacted."""
import numpy as np
import pytest

from cluster import DaskGBDTRegressor, train


@pytest.mark.parametrize("method", ["exact", "approx"])
def test_train_refuses_local_only_methods(method):
    X, y = np.zeros((8, 2)), np.arange(8.0)
    with pytest.raises(ValueError, match=f"tree_method='{method}' is not supported on Dask"):
        train(None, {"tree_method": method}, X, y, num_boost_round=2)


def test_estimator_refuses_exact():
    with pytest.raises(ValueError, match="tree_method='exact' is not supported on Dask"):
        DaskGBDTRegressor(tree_method="exact", n_estimators=2).fit(np.zeros((8, 2)), np.arange(8.0))
