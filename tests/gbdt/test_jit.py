"""Kernels create their Numba dispatchers on first use, and compiled callers still call (or inline)
them; kernels pickle by reference."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from gbdt import histogram
from gbdt._jit import jit

KERNELS = """
from gbdt._jit import jit


@jit(inline=True)
def inlined_square(x):
    return x * x


@jit
def called_cube(x):
    return x * x * x


@jit
def square_plus_cube(x):
    return inlined_square(x) + called_cube(x)
"""

FRESH_PROCESS = """
import gc, json, sys
import bindings
from numba.core.registry import CPUDispatcher
from gbdt._jit import Kernel
ours = [o for o in gc.get_objects() if isinstance(o, CPUDispatcher) and o.py_func.__module__.startswith("gbdt")]
n_kernels = sum(isinstance(o, Kernel) for o in gc.get_objects())
sys.path.insert(0, {folder!r})
import cubes
created_before_call = "dispatcher" in vars(cubes.square_plus_cube)
print(json.dumps({{"dispatchers_after_import": len(ours), "kernels": n_kernels, "created_before_call": created_before_call,
                  "value": cubes.square_plus_cube(1.5), "caller": len(cubes.square_plus_cube.signatures),
                  "callee": len(cubes.called_cube.signatures), "inlined": len(cubes.inlined_square.signatures)}}))
"""


@pytest.fixture(scope="module")
def fresh_process(tmp_path_factory):
    """What a fresh process with an empty Numba cache reports after ``import bindings`` and after
    calling a compiled kernel that calls one kernel and inlines another."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / "cubes.py").write_text(KERNELS)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(folder / "cache"), NUMBA_DISABLE_JIT="0")
    run = subprocess.run([sys.executable, "-c", FRESH_PROCESS.format(folder=str(folder))], env=env,
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(run.stdout)


def test_importing_the_kernels_creates_no_dispatcher(fresh_process):
    assert fresh_process["dispatchers_after_import"] == 0 and fresh_process["kernels"] > 100
    assert not fresh_process["created_before_call"]


def test_a_compiled_caller_calls_a_kernel_and_inlines_an_inline_one(fresh_process):
    assert fresh_process["value"] == 1.5 ** 2 + 1.5 ** 3
    assert fresh_process["caller"] == 1 and fresh_process["callee"] == 1  # the callee compiled on its own
    assert fresh_process["inlined"] == 0  # its body was inlined into the caller: never compiled by itself


@pytest.mark.parametrize("kernel", [histogram.compiled_chunk_nodes, histogram.build_histograms])
def test_kernels_pickle_by_reference(kernel):
    assert pickle.loads(pickle.dumps(kernel)) is kernel


def test_a_kernel_that_is_not_its_module_attribute_does_not_pickle():
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(jit(histogram.compiled_chunk_nodes.py_func))
