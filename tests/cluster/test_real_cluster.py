"""A cluster of separate processes started with Dask's command-line tools (``dask scheduler``, two
``dask worker``), as docs/dask.md's "real cluster" text runs them: a Client connected by address
trains the local model in both modes. The processes are stopped in every case; every wait is bounded."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from distributed import Client

import cluster
from bindings import Dataset, train

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


def _start(tmp_path, name, *args):
    """A ``python -m dask <args>`` process (the ``dask`` command with this interpreter), logging to a file."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT), log


def _scheduler_address(path, process):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {process.returncode}")
        try:
            return json.loads(path.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.2)
    raise TimeoutError(f"dask scheduler wrote no {path.name} within {START_TIMEOUT_S} s")


def test_scheduler_and_workers_started_from_the_command_line(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3000, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(float)
    params = {"objective": "binary:logistic", "max_depth": 3}
    local = train(params, Dataset(X, y), 3).predict(X)
    scheduler_file = tmp_path / "scheduler.json"
    processes = []
    try:
        processes.append(_start(tmp_path, "scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                "--no-dashboard", "--scheduler-file", str(scheduler_file)))
        address = _scheduler_address(scheduler_file, processes[0][0])
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            processes.append(_start(tmp_path, f"worker-{i}", "worker", address, "--nthreads", "1", "--host",
                                    "127.0.0.1", "--no-dashboard", "--name", f"worker-{i}"))
        with Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
            for mode in ("data", "feature"):
                bst = cluster.train(client, params, da.from_array(X, chunks=1500), da.from_array(y, chunks=1500),
                                    num_boost_round=3, distributed_mode=mode, min_rows_per_worker=1,
                                    stall_timeout=60)
                assert len(bst.rows_per_worker) == 2
                np.testing.assert_allclose(bst.predict(X), local, rtol=1e-6, atol=1e-6)
            client.shutdown()  # scheduler and workers close themselves (faster than signals)
    except Exception:
        for _, log in processes:
            log.flush()
        logs = "\n".join(f"--- {p.name}:\n{p.read_text()[-2000:]}" for p in sorted(tmp_path.glob("*.log")))
        pytest.fail(f"the command-line cluster failed; its logs:\n{logs}", pytrace=True)
    finally:
        for process, _ in reversed(processes):  # workers first, then the scheduler
            process.terminate()
        for process, log in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()
