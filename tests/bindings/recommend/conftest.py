"""Fixtures shared by the recommender tests."""
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture
def single_threaded_blas():
    """implicit warns (and slows down) when BLAS runs its own threads beside its OpenMP ones."""
    with threadpool_limits(1, "blas"):
        yield
