"""One (library, task) fit and predict in a fresh process, with its own peak memory.

    python -m benchmarks.child SPEC.json

SPEC names the library, the ``Setting`` and a folder holding X.npy, y.npy, X_test.npy. The
process imports the library, loads the data, records its RSS, fits, predicts ``PREDICT_CALLS`` times,
writes the predictions to ``SPEC["pred"]`` (.npy) and prints one line ``RESULT {json}`` with seconds
and MiB.
Thread pools are sized by the caller through the environment (OMP_NUM_THREADS, NUMBA_NUM_THREADS).

Memory is read from /proc/self/status (Linux): VmRSS now, VmHWM the peak, which writing "5" to
/proc/self/clear_refs resets to the current RSS. ``ru_maxrss`` is not used where VmHWM exists: a
child started by vfork/exec inherits its parent's peak in ``ru_maxrss``, so a large parent would
show in every child.
"""
import importlib
import json
import resource
import sys
import time
from pathlib import Path

PREFIX = "RESULT "
# predict calls per run, the fastest reported (the first is reported too): one call of the same forest
# on the same rows took 0.09 or 0.15-0.18 s at random on the 2-core VM, for every library
PREDICT_CALLS = 5


def _status_mib(field):
    """A /proc/self/status field (kB) in MiB, or None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


def _ru_maxrss_mib():
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def current_rss_mib():
    """Resident set size now (MiB); the peak so far where the current value cannot be read."""
    rss = _status_mib("VmRSS")
    return _ru_maxrss_mib() if rss is None else rss


def peak_rss_mib():
    """Peak resident set size (MiB) since start or since the last ``reset_peak``."""
    peak = _status_mib("VmHWM")
    return _ru_maxrss_mib() if peak is None else peak


def reset_peak():
    """Restart the peak-RSS counter at the current RSS; False where the OS does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _status_mib("VmHWM") is not None


def measure(spec):
    """Run ``spec`` in this process; returns the result dict that ``main`` prints."""
    import numpy as np

    from benchmarks.peers import LIBRARIES, Setting

    library = LIBRARIES[spec["library"]]
    setting = Setting(**spec["setting"])
    start = time.perf_counter()
    importlib.import_module(library.module)
    import_s = time.perf_counter() - start
    data = Path(spec["data"])
    X, y, X_test = (np.load(data / f"{name}.npy") for name in ("X", "y", "X_test"))
    rss_data = current_rss_mib()
    peak_before = peak_rss_mib()
    exact = reset_peak()
    start = time.perf_counter()
    model = library.fit(X, y, setting)
    train_s = time.perf_counter() - start
    train_peak = peak_rss_mib()
    predict_times = []
    for _ in range(PREDICT_CALLS):
        start = time.perf_counter()
        pred = library.predict(model, X_test, setting)
        predict_times.append(time.perf_counter() - start)
    np.save(spec["pred"], np.asarray(pred, dtype=np.float64))
    return {"import_s": import_s, "train_s": train_s, "predict_s": min(predict_times),
            "first_predict_s": predict_times[0], "rss_data_mib": rss_data,
            "train_mem_mib": train_peak - rss_data, "peak_rss_mib": max(peak_before, peak_rss_mib()),
            # False: the peak could not be reset, so train_mem_mib may include loading the data
            "memory_exact": exact}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m benchmarks.child SPEC.json")
    result = measure(json.loads(Path(argv[0]).read_text()))
    print(PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
