"""Fixtures shared by every test package."""
import pytest

import gbdt._jit as jit_module


@pytest.fixture
def kernel_paths(monkeypatch):
    """A list that records, for every call of a parallel kernel from Python, whether it took the serial
    compilation (True) or the threaded one (False): what ``gbdt._jit.ThreadedKernel`` decides."""
    taken = []
    decide = jit_module.serial_kernels

    def recording():
        serial = decide()
        taken.append(serial)
        return serial

    monkeypatch.setattr(jit_module, "serial_kernels", recording)
    return taken
