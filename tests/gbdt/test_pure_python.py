"""The kernels run as plain Python (NUMBA_DISABLE_JIT=1) and give the compiled model's predictions,
so every kernel body is exercised by the interpreter too (coverage, debugging)."""
import numpy as np

SCRIPT = """
import json, numpy as np
import scipy.sparse as sparse
from bindings import Dataset, train
rng = np.random.default_rng(0)
X = rng.standard_normal((300, 4)); X[rng.random(X.shape) < 0.1] = np.nan
y = (np.nan_to_num(X[:, 0]) + X[:, 1] > 0).astype(float)
preds = []
for mode, policy in (("data", "depthwise"), ("feature", "lossguide")):
    params = {"objective": "binary:logistic", "max_depth": 3, "max_bin": 16, "split_mode": mode,
              "grow_policy": policy, "max_leaves": 6, "subsample": 0.9}
    preds.append(train(params, Dataset(X, y), 3).predict(X).tolist())
for method, extra in (("exact", {"monotone_constraints": (1, 0, 0, -1)}), ("approx", {"max_bin": 16})):
    params = {"objective": "binary:logistic", "max_depth": 3, "tree_method": method, "subsample": 0.9, **extra}
    preds.append(train(params, Dataset(X, y), 3, evals=[(Dataset(X, y), "t")]).predict(X).tolist())
# a CSR of density <= 0.1 takes the sparse path (its binning, histograms, routing, CSR prediction)
S = sparse.random(300, 40, density=0.05, random_state=0, format="csr")
S.data[::7] = np.nan
s_y = (np.nan_to_num(S[:, :3].toarray()).sum(axis=1) > 0.1).astype(float)
for extra in ({"subsample": 0.9}, {"use_quantized_grad": True}):
    params = {"objective": "binary:logistic", "max_depth": 3, "max_bin": 16, **extra}
    preds.append(train(params, Dataset(S, s_y), 3, evals=[(Dataset(S, s_y), "t")]).predict(S).tolist())
print(json.dumps(preds))
"""


def test_interpreted_kernels_match_compiled(run_script):
    np.testing.assert_allclose(run_script(SCRIPT, True), run_script(SCRIPT, False), rtol=1e-12, atol=1e-12)
