"""The logistic kernels run as plain Python (NUMBA_DISABLE_JIT=1) and give the compiled results, so every
kernel body (dense and CSR branches, all three solvers, isotonic and threshold kernels) is exercised by
the interpreter too."""
import numpy as np

SCRIPT = """
import json, numpy as np, scipy.sparse as sp
from bindings.logistic.calibration import IsotonicCalibrator
from bindings.logistic.regression import LogisticRegression
from bindings.logistic.thresholds import roc_curve
rng = np.random.default_rng(0)
X = rng.standard_normal((60, 4)) * (rng.random((60, 4)) < 0.7)
y2 = (X[:, 0] - X[:, 1] + rng.standard_normal(60) > 0).astype(int)
y3 = np.digitize(X[:, 0] + rng.standard_normal(60), [-0.5, 0.5])
out = []
for data in (X, sp.csr_matrix(X)):
    for penalty, solver, y in (("l2", "newton", y2), ("l2", "lbfgs", y3), ("elasticnet", "newglmnet", y2),
                               ("l1", "newglmnet", y3)):
        model = LogisticRegression(penalty, C=0.5, l1_ratio=0.5, solver=solver, tol=1e-8, max_iter=100)
        out.append(model.fit(data, y).predict_proba(data).ravel().tolist())
out.append(LogisticRegression(None, tol=1e-10).fit(X, y2).summary()["std err"].tolist())
out.append(IsotonicCalibrator().fit(X[:, 0], y2.astype(float)).predict(X[:, 0]).tolist())
out.append(np.concatenate(roc_curve(y2, np.round(X[:, 0], 1))[:2]).tolist())
print(json.dumps(out))
"""


def test_interpreted_kernels_match_compiled(run_script):
    for interpreted, compiled in zip(run_script(SCRIPT, True), run_script(SCRIPT, False)):
        # libm and LLVM round exp/log a little differently; the solvers then stop at slightly different points
        np.testing.assert_allclose(np.array(interpreted), np.array(compiled), rtol=1e-6, atol=1e-9)
