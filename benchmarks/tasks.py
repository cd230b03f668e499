"""The benchmark tasks: shape, objective and test metric of each, at full and at ``--quick`` size.

A task's data are drawn once per run from ``benchmarks.synthetic`` (seed 0): ``rows`` training
rows followed by ``test_rows`` test rows of the same distribution.
"""
from dataclasses import dataclass

from benchmarks.peers import QUANTILE_ALPHA
from benchmarks.synthetic import binary_task, multiclass_task, query_ids, ranking_task, regression_task

# metric on the test rows, per objective; auc and ndcg are higher-is-better
METRIC = {"binary": "auc", "regression": "rmse", "multiclass": "mlogloss", "quantile": f"quantile@{QUANTILE_ALPHA:g}",
          "rank": "ndcg@10"}
# peak bytes of a run (data drawn in the parent, loaded in a child, binned copies) per float64 cell
MEMORY_PER_CELL = 8 * 2.5


@dataclass(frozen=True)
class Task:
    """One data set. ``quick_rows``/``quick_test_rows`` replace the sizes under ``--quick``."""

    name: str
    objective: str
    rows: int
    test_rows: int
    features: int
    quick_rows: int
    quick_test_rows: int
    n_classes: int = 1
    missing: float = 0.0
    description: str = ""

    def sizes(self, quick=False, scale=1.0):
        """(training rows, test rows) at full or quick size, times ``scale`` (at least 100 each)."""
        rows, test_rows = (self.quick_rows, self.quick_test_rows) if quick else (self.rows, self.test_rows)
        return max(int(rows * scale), 100), max(int(test_rows * scale), 100)

    def memory_bytes(self, quick=False, scale=1.0):
        """Estimated peak memory of one run of this task, bytes."""
        return sum(self.sizes(quick, scale)) * self.features * MEMORY_PER_CELL

    @property
    def metric(self):
        return METRIC[self.objective]

    def make(self, quick=False, scale=1.0):
        """(X, y, X_test, y_test): float64 features (NaN = missing) and labels."""
        rows, test_rows = self.sizes(quick, scale)
        n = rows + test_rows
        if self.objective == "binary":
            X, y = binary_task(n, self.features, self.missing, seed=0)
        elif self.objective in ("regression", "quantile"):
            X, y = regression_task(n, self.features, self.missing, seed=0)
        elif self.objective == "rank":  # queries: benchmarks.synthetic.query_ids of each part's rows
            X, y = ranking_task(n, self.features, self.missing, seed=0)
        else:
            X, y = multiclass_task(n, self.features, self.n_classes, self.missing, seed=0)
        return X[:rows], y[:rows], X[rows:], y[rows:]


TASKS = {t.name: t for t in (
    Task("binary", "binary", 1_000_000, 100_000, 28, 20_000, 5_000, description="binary 1M x 28"),
    Task("binary_nan", "binary", 1_000_000, 100_000, 28, 20_000, 5_000, missing=0.1,
         description="binary 1M x 28, 10% NaN"),
    Task("regression", "regression", 1_000_000, 100_000, 28, 20_000, 5_000, description="regression 1M x 28"),
    Task("quantile", "quantile", 1_000_000, 100_000, 28, 20_000, 5_000,
         description="90% quantile regression 1M x 28 (pinball loss)"),
    Task("multiclass", "multiclass", 200_000, 50_000, 28, 10_000, 5_000, n_classes=10,
         description="multiclass 200k x 28, 10 classes"),
    Task("wide", "binary", 100_000, 20_000, 500, 4_000, 1_000, description="wide binary 100k x 500"),
    Task("tall", "binary", 4_000_000, 100_000, 10, 80_000, 5_000, description="tall binary 4M x 10"),
    Task("rank", "rank", 1_000_000, 100_000, 28, 20_000, 5_000,
         description="ranking 1M x 28 in 10k queries, relevance 0-4 (ours rank:ndcg, LightGBM lambdarank)"),
)}


def available_memory_bytes():
    """MemAvailable from /proc/meminfo, or None where it cannot be read (then no task is skipped)."""
    try:
        with open("/proc/meminfo") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None


def score(task, y_test, pred):
    """Test metric of ``task`` (``task.metric``) for predictions as ``peers.predict`` returns them."""
    import numpy as np

    from bindings.metrics import evaluate
    from bindings.query_groups import group_pointer

    group_ptr = group_pointer(None, query_ids(len(y_test)), len(y_test)) if task.objective == "rank" else None
    return evaluate(task.metric, y_test, np.asarray(pred, dtype=np.float64), group_ptr=group_ptr)
