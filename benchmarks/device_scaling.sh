#!/usr/bin/env bash
# Dask scaling on a many-core machine (16 cores): 1 -> 2 -> 4 -> 8 workers x 1 thread, ours and xgboost.dask,
# 10M rows x 28 float32 read from 10 Parquet files, 20 trees of depth 6; prints wall time, peak memory per
# worker and parallel efficiency in one table. Meant to finish in under 8 minutes there (it writes ~1.2 GB of
# Parquet to $TMPDIR first). Smaller runs: ROWS=200000 TREES=3 benchmarks/device_scaling.sh; the leader's split
# search too (before reduce-scatter): LIBRARIES=ours,ours-leader,xgboost.dask
#
#   benchmarks/device_scaling.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-10000000}"
TREES="${TREES:-20}"
WORKERS="${WORKERS:-1,2,4,8}"
# idle OpenMP threads wait passively: spinning waits of one worker's pool starve the others' (benchmarks.suite)
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
python - <<'PY'
import os
import numpy, numba, dask, distributed, xgboost
print(f"cores {os.cpu_count()}; numpy {numpy.__version__}, numba {numba.__version__}, dask {dask.__version__}, "
      f"distributed {distributed.__version__}, xgboost {xgboost.__version__}")
PY
timeout 900 python -m benchmarks.dask --parquet --rows "$ROWS" --trees "$TREES" --workers "$WORKERS" --files 10 \
    --libraries "${LIBRARIES:-ours,xgboost.dask}"
