"""The Dask client a fit runs on: the one given, the current one, or an embedded LocalCluster.

The embedded cluster (2 worker processes x 1 thread by default, no dashboard) is started on first
use and reused by later fits in the same process; it is closed at interpreter exit. For a real
cluster, connect first: ``Client("tcp://scheduler:8786")`` makes it the current client.
"""
import atexit

from distributed import Client, LocalCluster, get_client

_embedded = {}


def embedded_client(n_workers=2, threads_per_worker=1):
    """A client of this process's embedded LocalCluster (started once)."""
    key = (n_workers, threads_per_worker)
    if key not in _embedded:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                               dashboard_address=None)
        client = Client(cluster, set_as_default=False)
        client.wait_for_workers(n_workers)
        _embedded[key] = (cluster, client)
        atexit.register(close_embedded)
    return _embedded[key][1]


def close_embedded():
    """Close every embedded cluster (also run at exit)."""
    while _embedded:
        cluster, client = _embedded.popitem()[1]
        client.close()
        cluster.close()


def resolve_client(client=None):
    """``client`` if given, else the current default client, else the embedded LocalCluster's."""
    if client is not None:
        if not isinstance(client, Client):
            raise TypeError(f"client must be a distributed.Client or None, got {type(client).__name__}")
        return client
    try:
        return get_client()
    except ValueError:
        return embedded_client()


def worker_info(client):
    """{address: info} of every worker, asked from the scheduler now. (``Client.scheduler_info()``
    can return a cached identity without workers: the client's periodic refresh overwrites it.)"""
    return client.sync(client.scheduler.identity, n_workers=-1)["workers"]
