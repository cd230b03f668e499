"""Shared fixture: run a script in a fresh interpreter, with or without the Numba JIT."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def run_script():
    """``run_script(source, disable_jit) -> parsed JSON`` that the script printed on stdout."""
    root = Path(__file__).resolve().parents[2]

    def run(source, disable_jit):
        env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0")
        out = subprocess.run([sys.executable, "-c", source], env=env, cwd=root, capture_output=True, text=True,
                             timeout=300, check=True)
        return json.loads(out.stdout)

    return run
