"""Every dtype of the engine in one place.

- ``X_BINNED_DTYPE``: bin index of one (row, feature) cell; ``max_bin`` <= 256 bins incl. the missing bin.
- ``G_H_DTYPE``: per-row gradients and hessians (float32 halves memory traffic; sums are float64).
- ``HIST_DTYPE``: histogram accumulators (float64 so 1M-row sums do not lose precision).
- ``IDX_DTYPE``: row indices inside the partition of a tree's rows.
"""
import numpy as np

X_BINNED_DTYPE = np.uint8
G_H_DTYPE = np.float32
HIST_DTYPE = np.float64
IDX_DTYPE = np.int32
MAX_BINS = 256
