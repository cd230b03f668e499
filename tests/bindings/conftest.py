"""Fixtures shared by the bindings tests."""
import numba
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture
def one_thread():
    """Tiny matmuls and kernels: numba and BLAS threads would only contend (ms per call on a busy machine)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    with threadpool_limits(1):
        yield
    numba.set_num_threads(previous)
