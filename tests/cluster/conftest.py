"""One LocalCluster (2 worker processes x 1 thread, as in CI) shared by the cluster tests."""
import pytest
from distributed import Client, LocalCluster


@pytest.fixture(scope="session")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            yield c
