"""One matrix layout for dense and CSR inputs of the logistic-regression kernels.

A *packed* matrix is the triple ``(data, indices, indptr)`` plus its ``width`` (number of columns):

- dense:  ``data = X.ravel()`` of a C-contiguous (n_lines, width) float64 array, ``indices`` and
  ``indptr`` None. Line r is ``data[r * width:(r + 1) * width]``.
- sparse: the CSR arrays, ``data`` float64 (nnz,), ``indices`` int64 (nnz,), ``indptr`` int64 (n_lines + 1,).

``indptr is None`` marks the dense case. Numba prunes that test at compile time, so each kernel is
compiled once per format and its dense loops carry no sparse branch (a run-time branch stopped LLVM from
optimising the dense dot product: 1.5-2x slower).
A CSC matrix, or the Fortran-order ravel of a dense one, is the packing of the transpose, so the same
helpers give coordinate descent its column access::

    rows of X   (fit, predict)         -> pack X          (C order / CSR)
    columns of X (coordinate descent)  -> pack X.T        (F order / CSC)

"""
import numpy as np
from numba import prange

from gbdt._jit import jit


@jit
def packed_n_lines(data, indptr, width):
    """Number of lines (rows of the packed matrix)."""
    if indptr is None:
        return data.shape[0] // width if width > 0 else 0
    return indptr.shape[0] - 1


@jit
def packed_dot(data, indices, indptr, width, r, v):
    """Dot product of line ``r`` with the dense vector ``v`` (width,)."""
    if indptr is None:
        # Four partial sums: without fastmath LLVM keeps a single serial chain of additions (one add
        # latency per entry); four independent chains and unsigned indices run ~25% faster. The order is
        # fixed, so results stay deterministic.
        start = np.uint64(r * width)
        w = np.uint64(width)
        four = np.uint64(4)
        tail = w - w % four
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for j in range(np.uint64(0), tail, four):
            k = start + j
            s0 += data[k] * v[j]
            s1 += data[k + np.uint64(1)] * v[j + np.uint64(1)]
            s2 += data[k + np.uint64(2)] * v[j + np.uint64(2)]
            s3 += data[k + np.uint64(3)] * v[j + np.uint64(3)]
        for j in range(tail, w):
            s0 += data[start + j] * v[j]
        return (s0 + s1) + (s2 + s3)
    total = 0.0
    for k in range(indptr[r], indptr[r + 1]):
        total += data[k] * v[indices[k]]
    return total


@jit
def packed_axpy(data, indices, indptr, width, r, a, out):
    """``out += a * line r``; out (width,) float64."""
    if indptr is None:
        start = r * width
        for j in range(width):
            out[j] += a * data[start + j]
    else:
        for k in range(indptr[r], indptr[r + 1]):
            out[indices[k]] += a * data[k]


@jit
def packed_gram_rows(data, indices, indptr, width, h, lo, hi, out):
    """Add ``sum_{lo <= r < hi} h[r] [x_r, 1] [x_r, 1]^T`` (upper triangle) to ``out`` (width + 1, width + 1).

    The trailing 1 is the intercept column. Dense rows go in pairs with unsigned indices: both let
    LLVM vectorise the update of a row of ``out`` (about 5x faster than one signed row at a time).
    """
    w = np.uint64(width)
    if indptr is None:
        r = lo
        while r < hi:
            pair = r + 1 < hi
            s0 = np.uint64(r * width)
            s1 = s0 + w if pair else s0
            h0 = h[r]
            h1 = h[r + 1] if pair else 0.0
            for j in range(w):
                a0 = h0 * data[s0 + j]
                a1 = h1 * data[s1 + j]
                row = out[j]
                for k in range(j, w):
                    row[k] += a0 * data[s0 + k] + a1 * data[s1 + k]
                row[w] += a0 + a1
            out[w, w] += h0 + h1
            r += 2
    else:
        for r in range(lo, hi):
            a = h[r]
            start, stop = indptr[r], indptr[r + 1]
            for kj in range(start, stop):
                j = indices[kj]
                axj = a * data[kj]
                for kk in range(start, stop):
                    if indices[kk] >= j:
                        out[j, indices[kk]] += axj * data[kk]
                out[j, width] += axj
            out[width, width] += a


@jit(parallel=True)
def packed_matvec(data, indices, indptr, width, vectors, out):
    """``out[r, k] = line_r . vectors[k]`` for every line r; vectors (K, width), out (n_lines, K)."""
    n_lines = out.shape[0]
    n_vec = vectors.shape[0]
    for r in prange(n_lines):
        for k in range(n_vec):
            out[r, k] = packed_dot(data, indices, indptr, width, r, vectors[k])


@jit(parallel=True)
def packed_square_weighted(data, indices, indptr, width, weight, out):
    """``out[r] = sum_j weight[j] * line_r[j]**2``: diagonal curvature of each column for coordinate descent.

    weight (width,) float64, out (n_lines,) float64.
    """
    for r in prange(out.shape[0]):
        total = 0.0
        if indptr is None:
            start = r * width
            for j in range(width):
                x = data[start + j]
                total += weight[j] * x * x
        else:
            for k in range(indptr[r], indptr[r + 1]):
                total += weight[indices[k]] * data[k] * data[k]
        out[r] = total


def pack_dense(X):
    """Pack a 2-D float64 array by rows (C order); returns (data, indices, indptr, width)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return X.reshape(-1), None, None, X.shape[1]


def pack_csr(data, indices, indptr, width):
    """Pack CSR arrays (any integer index dtype); returns (data, indices, indptr, width)."""
    return (np.ascontiguousarray(data, dtype=np.float64), np.ascontiguousarray(indices, dtype=np.int64),
            np.ascontiguousarray(indptr, dtype=np.int64), int(width))


@jit
def csr_transpose(data, indices, indptr, width, t_data, t_indices, t_indptr):
    """Transpose CSR (n_lines, width) into CSR (width, n_lines) = the CSC of the input.

    t_data (nnz,), t_indices (nnz,), t_indptr (width + 1,) are filled in place.
    """
    n_lines = indptr.shape[0] - 1
    t_indptr[:] = 0
    for k in range(indptr[n_lines]):
        t_indptr[indices[k] + 1] += 1
    for j in range(width):
        t_indptr[j + 1] += t_indptr[j]
    fill = t_indptr[:-1].copy()
    for r in range(n_lines):
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            t_data[fill[j]] = data[k]
            t_indices[fill[j]] = r
            fill[j] += 1


def transpose_packed(packed):
    """Column packing (the packing of X.T) of a row packing; copies the data once."""
    data, indices, indptr, width = packed
    if indptr is None:
        n = packed_n_lines(data, indptr, width)
        X_T = np.ascontiguousarray(data.reshape(n, width).T)
        return X_T.reshape(-1), indices, indptr, n
    n = indptr.shape[0] - 1
    t_data = np.empty_like(data)
    t_indices = np.empty_like(indices)
    t_indptr = np.empty(width + 1, dtype=np.int64)
    csr_transpose(data, indices, indptr, width, t_data, t_indices, t_indptr)
    return t_data, t_indices, t_indptr, n
