"""Put in-memory data on a Dask cluster's workers the way a user's loaded data would be.

``da.from_array`` on a numpy array embeds every block in the task graph, so the client ships the
whole array through the scheduler (Dask warns about the "large graph"). Here the blocks are
scattered straight to the workers instead, row block i of X and of y to the same worker, workers
taken in turn. Scattered with ``hash=False`` (a fresh key per call): with content-hashed keys, scattering
the same array again right after its previous copy was released races with that release in Dask, which
then forgets the new block (3 in 50 scatter/submit/release loops here, without any fit).
"""
import dask.array as da
import numpy as np


def scattered_blocks(client, X, y, n_blocks):
    """(dX, dy): dask arrays of X (n, F) and y (n,) in ``n_blocks`` row blocks, already on the workers."""
    workers = sorted(client.scheduler_info()["workers"])
    bounds = np.linspace(0, X.shape[0], n_blocks + 1).astype(int)
    x_parts, y_parts = [], []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        fx, fy = client.scatter([X[lo:hi], y[lo:hi]], workers=[workers[i % len(workers)]], hash=False)
        x_parts.append(da.from_delayed(fx, shape=(hi - lo, X.shape[1]), dtype=X.dtype))
        y_parts.append(da.from_delayed(fy, shape=(hi - lo,), dtype=y.dtype))
    return da.concatenate(x_parts), da.concatenate(y_parts)
