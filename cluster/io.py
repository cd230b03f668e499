"""Reading training data straight into the cluster: Parquet, streamed row group by row group.

``read_parquet`` looks only at the files' footers (schemas and row-group sizes) and returns lazy
columns. A data-parallel fit streams them (``cluster.placement.place_pieces``): each worker is
assigned whole row groups and reads them itself, one at a time, twice: a first pass keeps the labels,
weights, then the leader asks for the sketch's sampled values a few columns at a time (``cluster.sketch``:
a bounded sample, the same rows for any placement; each request reads only those columns), and after the
global bin edges are known a last pass bins each row group and drops it.
So a worker never holds its raw rows, only one row group of them, and float32 columns stay float32
(binning compares them with the float64 edges exactly). Feature-parallel fits and evaluation sets take
the columns as dask arrays (``ParquetSource.to_dask``).
"""
import glob
import os
from collections import namedtuple

import numpy as np

__all__ = ["read_parquet", "ParquetColumns", "ParquetSource", "ParquetColumn"]

ParquetColumns = namedtuple("ParquetColumns", ["X", "y", "weight", "feature_names"])


class ParquetPiece:
    """One row group of one file of a ``ParquetSource``; ``shape`` (n_rows, F) as its features would have."""

    def __init__(self, source, path, row_group, n_rows):
        self.source, self.path, self.row_group = source, path, row_group
        self.shape = (n_rows, len(source.columns))

    def _read(self, columns, file=None):
        """The row group's ``columns`` as an Arrow table (from ``file``, this piece's open
        ``pyarrow.parquet.ParquetFile``, when given)."""
        import pyarrow.parquet as pq
        try:
            return (file or pq.ParquetFile(self.path)).read_row_group(self.row_group, columns=columns)
        except Exception as exc:  # the file changed or vanished since read_parquet, or is corrupt
            raise OSError(f"cannot read row group {self.row_group} of Parquet file {self.path}: {exc}") from exc

    def features(self, indices=None):
        """(n_rows, F) feature values, float32 when every feature column is float32, else float64; only the
        features ``indices`` (positions among the source's columns) when given."""
        names = self.source.columns if indices is None else [self.source.columns[i] for i in indices]
        table = self._read(names)
        out = np.empty((self.shape[0], len(names)), dtype=self.source.dtype)
        for j, column in enumerate(table.columns):  # column by column: no wider copy of the whole group
            out[:, j] = column.to_numpy(zero_copy_only=False)
        del table
        _release_arrow_memory()
        return out

    def bin_into(self, out, edges, n_edges, max_bin):
        """Bin the row group into ``out`` (n_rows, F) uint8 with the bin edges of every feature
        (``gbdt.binning.bin_matrix``'s), read and binned one column at a time: never an (n_rows, F)
        float matrix nor the whole group's Arrow table (56 MB per 500k x 28 float32 rows, more while
        Arrow decodes it), which set a Dask worker's peak memory (docs/benchmarks.md "Dask")."""
        import pyarrow.parquet as pq
        from gbdt.binning import bin_matrix
        file = pq.ParquetFile(self.path)
        for j, name in enumerate(self.source.columns):
            column = self._read([name], file).column(0)
            values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=self.source.dtype)
            out[:, j] = bin_matrix(values.reshape(-1, 1), edges[j:j + 1], n_edges[j:j + 1], max_bin)[:, 0]
            del column, values
        _release_arrow_memory()

    def label_weight(self):
        """(label (n_rows,) float64, weight (n_rows,) float64 or None)."""
        names = [self.source.label] + ([self.source.weight] if self.source.weight is not None else [])
        table = self._read(names)
        values = [np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float64) for c in table.columns]
        del table
        _release_arrow_memory()
        return values[0], values[1] if len(values) > 1 else None


def _release_arrow_memory():
    """Return the memory of freed Arrow tables to the OS: Arrow's default pool (mimalloc or jemalloc)
    keeps it for reuse otherwise, and a worker that has read its row groups then held ~130 MiB more
    for the whole fit (1.5M x 28 float32 rows in 500k-row groups; peak 625 -> 492 MiB measured)."""
    import pyarrow as pa
    pa.default_memory_pool().release_unused()


class ParquetSource:
    """The feature columns of Parquet files, not read yet: pass it as ``X`` to ``cluster.train``.

    Attributes: files (paths), pieces (``ParquetPiece`` per row group, in file order), columns (feature
    names), label, weight (column names), dtype (float32 or float64), shape (rows, features).
    """

    def __init__(self, files, columns, label, weight, dtype, row_groups):
        self.files, self.columns, self.label, self.weight, self.dtype = files, list(columns), label, weight, dtype
        self.pieces = [ParquetPiece(self, path, i, n) for path, sizes in zip(files, row_groups)
                       for i, n in enumerate(sizes) if n]
        self.shape = (sum(p.shape[0] for p in self.pieces), len(self.columns))

    def to_dask(self):
        """(X, y, weight or None) as dask arrays with aligned row blocks (read through dask)."""
        import dask.dataframe as dd
        df = dd.read_parquet(self.files, engine="pyarrow")
        picked = self.columns + [self.label] + ([self.weight] if self.weight is not None else [])
        table = df[picked].astype(np.float64).to_dask_array(lengths=True)
        k = len(self.columns)
        return table[:, :k], table[:, k], table[:, k + 1] if self.weight is not None else None


class ParquetColumn:
    """The label or weight column of a ``ParquetSource`` (pass as ``y``/``sample_weight`` with it)."""

    def __init__(self, source, name):
        self.source, self.name = source, name
        self.shape = (source.shape[0],)


def _files(path):
    if isinstance(path, (list, tuple)):
        return sorted(str(p) for p in path)
    path = str(path)
    if os.path.isdir(path):
        return sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    return sorted(glob.glob(path))


def read_parquet(path, label, *, weight=None, columns=None):
    """Features, label and (optional) weight columns of Parquet files on a file system the workers share.

    Parameters
    ----------
    path : a file, a directory (its ``*.parquet`` files, recursively), a glob, or a list of files.
    label : name of the label column; weight : name of a weight column or None.
    columns : feature columns (default: every other numeric column).

    Returns ``ParquetColumns(X, y, weight, feature_names)``: X a ``ParquetSource`` (shape (n, F)),
    y and weight ``ParquetColumn``s of it (weight None without a weight column); ``cluster.train``
    streams them (see the module docstring), ``X.to_dask()`` gives dask arrays for anything else.
    Raises ValueError for no files, a missing column, a label, weight or feature column that is
    not numeric, or files whose schemas differ in those columns (naming the file).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    files = _files(path)
    if not files:
        raise ValueError(f"path matches no Parquet files: {path!r}")
    metas = [pq.ParquetFile(f) for f in files]
    schema = metas[0].schema_arrow
    missing = [c for c in [label, weight] + list(columns or []) if c is not None and c not in schema.names]
    if missing:
        raise ValueError(f"columns {missing} are not in the Parquet data; it has {schema.names}")

    def numeric(name):
        t = schema.field(name).type
        return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)

    if columns is None:
        columns = [c for c in schema.names if c not in (label, weight) and numeric(c)]
    if not columns:
        raise ValueError("no numeric feature columns to train on")
    picked = list(columns) + [label] + ([weight] if weight is not None else [])
    bad = [c for c in picked if not numeric(c)]
    if bad:
        raise ValueError(f"columns {bad} are not numeric (types {[str(schema.field(c).type) for c in bad]}); "
                         "label, weight and features must be numbers")
    for f, meta in zip(files[1:], metas[1:]):
        other = meta.schema_arrow
        differ = [c for c in picked if c not in other.names or other.field(c).type != schema.field(c).type]
        if differ:
            raise ValueError(f"Parquet file {f} has another schema than {files[0]} in columns {differ}: "
                             f"{[str(other.field(c).type) if c in other.names else 'missing' for c in differ]} "
                             f"instead of {[str(schema.field(c).type) for c in differ]}")
    float32 = all(schema.field(c).type == pa.float32() for c in columns)
    row_groups = [[meta.metadata.row_group(i).num_rows for i in range(meta.num_row_groups)] for meta in metas]
    source = ParquetSource(files, columns, label, weight, np.float32 if float32 else np.float64, row_groups)
    if not source.pieces:
        raise ValueError(f"the Parquet files at {path!r} have no rows")
    return ParquetColumns(source, ParquetColumn(source, label), ParquetColumn(source, weight) if weight else None,
                          [str(c) for c in columns])
