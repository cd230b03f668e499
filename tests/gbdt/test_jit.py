"""Kernels create their Numba dispatchers on first use, and compiled callers still call (or inline)
them; kernels pickle by reference."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gbdt import histogram
from gbdt._jit import jit


@jit(inline=True)
def _inlined_square(x):
    return x * x


@jit
def _called_cube(x):
    return x * x * x


@jit
def _square_plus_cube(x):
    return _inlined_square(x) + _called_cube(x)


COUNT_DISPATCHERS = """
import gc, json
import bindings
from numba.core.registry import CPUDispatcher
from gbdt._jit import Kernel
from gbdt.histogram import build_histograms_data_parallel as kernel
print(json.dumps([sum(isinstance(o, CPUDispatcher) and o.py_func.__module__.startswith(("gbdt", "bindings"))
                      for o in gc.get_objects()),
                  sum(isinstance(o, Kernel) for o in gc.get_objects()), type(kernel.parallel.dispatcher).__name__]))
"""


def test_importing_the_kernels_creates_no_dispatcher():
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_DISABLE_JIT="0")
    run = subprocess.run([sys.executable, "-c", COUNT_DISPATCHERS], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    dispatchers, kernels, created = json.loads(run.stdout)
    assert dispatchers == 0 and kernels > 100 and created == "CPUDispatcher"


def test_a_compiled_caller_calls_a_kernel_and_inlines_an_inline_one():
    assert "dispatcher" not in vars(_square_plus_cube)  # not called yet: nothing created
    x = np.float64(1.5)
    assert _square_plus_cube(x) == x * x + x * x * x
    assert _square_plus_cube.signatures and _called_cube.signatures  # the callee compiled on its own
    assert not _inlined_square.signatures  # its body was inlined: never compiled by itself
    assert _inlined_square.targetoptions["inline"] == "always"


@pytest.mark.parametrize("kernel", [histogram.compiled_chunk_nodes, histogram.build_histograms])
def test_kernels_pickle_by_reference(kernel):
    assert pickle.loads(pickle.dumps(kernel)) is kernel


def test_a_kernel_that_is_not_its_module_attribute_does_not_pickle():
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(jit(_called_cube.py_func))
