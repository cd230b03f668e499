"""Shared fixtures: run a script in a fresh interpreter, with or without the Numba JIT; compare a
script's kernels run compiled here with the same script interpreted."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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


@pytest.fixture
def interpreted_matches_compiled(run_script):
    """``check(script, rtol, atol)``: ``script`` leaves a list ``result`` of its kernels' outputs (lists);
    it runs compiled in this process and interpreted (``NUMBA_DISABLE_JIT``) in a fresh one, and
    every output must agree to ``rtol``/``atol``."""

    def check(script, rtol, atol):
        compiled = {}
        exec(script, compiled)
        interpreted = run_script(script + "print(json.dumps(result))", True)
        assert len(interpreted) == len(compiled["result"])
        for a, b in zip(compiled["result"], interpreted):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)

    return check
