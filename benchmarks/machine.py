"""What a benchmark ran on: CPU model, cores, memory, Python and library versions, our commit."""
import os
import platform
import subprocess
import sys
from pathlib import Path

from benchmarks.peers import version

VERSIONED = ("numpy", "numba", "xgboost", "lightgbm", "scikit-learn")


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _memory_gib():
    try:
        with open("/proc/meminfo") as fh:
            return round(next(int(line.split()[1]) for line in fh if line.startswith("MemTotal:")) / 2 ** 20, 1)
    except (OSError, StopIteration):
        return None


def _commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info():
    """A JSON-ready dict describing this machine and the software measured."""
    return {"cpu": cpu_model(), "cores": usable_cores(), "logical_cpus": os.cpu_count(), "memory_gib": _memory_gib(),
            "platform": platform.platform(), "python": sys.version.split()[0], "commit": _commit(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "versions": {name: version(name) for name in VERSIONED}}
