"""Interaction data for the recommenders: id mapping and the user x item CSR matrix.

Ids may be of any type (ints, strings, tuples...): ``IdMap`` maps them to codes 0..n-1.
``Interactions`` holds one CSR matrix (users x items, float64, column indices sorted within each
row) plus its transpose, built from a (user, item, value) table or from a scipy sparse matrix.
Memory is linear in the number of interactions.
"""
import numpy as np

from bindings.validation import as_vector

__all__ = ["IdMap", "Interactions", "check_interactions"]

DUPLICATE_RULES = ("last", "first", "sum", "mean", "error")


def ids_1d(values, name):
    """Ids as a 1-D array. Arrays (numpy, pandas) are taken as they are; a list mixing types
    (1 and "1") or holding tuples becomes an object array so no id is coerced into another."""
    if hasattr(values, "__array__"):
        return as_vector(np.asarray(values), name)
    seq = list(values)
    kinds = {type(v) for v in seq}
    if len(kinds) <= 1 and not any(issubclass(kind, tuple) for kind in kinds):
        return as_vector(np.asarray(seq), name)
    arr = np.empty(len(seq), dtype=object)
    for k, v in enumerate(seq):
        arr[k] = v
    return arr


class IdMap:
    """Bijection between original ids (any hashable type) and codes 0..n-1.

    Ids of a sortable numpy dtype (numbers, strings, datetimes) get codes in sorted order;
    other ids (Python objects) in order of first appearance.
    """

    def __init__(self, ids):
        self.ids = np.asarray(ids)
        self._code = {v: c for c, v in enumerate(self.ids.tolist())}
        if len(self._code) != len(self.ids):
            raise ValueError("IdMap ids must be unique")

    @classmethod
    def factorize(cls, values, name="ids"):
        """Return (IdMap of the distinct values, codes (n,) int64 of each value)."""
        arr = ids_1d(values, name)
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{name} contain NaN; every interaction needs a valid id")
        if arr.dtype.kind in "biufUSmM":
            uniq, codes = np.unique(arr, return_inverse=True)
            return cls(uniq), codes.astype(np.int64).ravel()
        table = {}
        codes = np.fromiter((table.setdefault(v, len(table)) for v in arr.tolist()),
                            dtype=np.int64, count=arr.shape[0])
        uniq = np.empty(len(table), dtype=object)
        uniq[:] = list(table)
        return cls(uniq), codes

    def __len__(self):
        return len(self.ids)

    def lookup(self, values):
        """Codes (n,) int64 of ``values`` (a scalar or a sequence); -1 for an id never seen."""
        flat = ids_1d([values] if np.ndim(values) == 0 else values, "ids").tolist()
        return np.fromiter((self._code.get(v, -1) for v in flat), dtype=np.int64, count=len(flat))

    def extended(self, values, name="ids"):
        """This map with the ids of ``values`` it does not hold appended (first appearance
        order), so every existing code stays valid; ``self`` if there is none. Ids of another
        type than the stored ones (a string beside ints) make the id array an object array."""
        arr = ids_1d(values, name)
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{name} contain NaN; every interaction needs a valid id")
        new = [v for v in dict.fromkeys(arr.tolist()) if v not in self._code]
        if not new:
            return self
        added = ids_1d(new, name)
        if added.dtype.kind == self.ids.dtype.kind != "O":
            combined = np.concatenate([self.ids, added])
            if combined.dtype.kind == self.ids.dtype.kind:  # int64 + uint64 would give floats
                return IdMap(combined)
        combined = np.empty(len(self.ids) + len(new), dtype=object)
        for code, value in enumerate(self.ids.tolist() + new):  # tuples stay single ids
            combined[code] = value
        return IdMap(combined)


def _csr_from_sorted(rows, cols, vals, n_rows):
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, cols.astype(np.int32), vals.astype(np.float64)


def _transpose(indptr, indices, data, n_cols):
    """CSR of the transpose, column indices sorted within each row."""
    rows = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
    order = np.lexsort((rows, indices))
    return _csr_from_sorted(indices[order].astype(np.int64), rows[order], data[order], n_cols)


def _merge_duplicates(users, items, values, rule):
    """Sort by (user, item) and apply the duplicate ``rule``; returns the merged triple."""
    order = np.lexsort((items, users))  # stable: duplicates keep their input order
    users, items, values = users[order], items[order], values[order]
    new_pair = np.ones(users.shape[0], dtype=bool)
    new_pair[1:] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
    if new_pair.all():
        return users, items, values
    if rule == "error":
        k = int(np.argmin(new_pair))
        raise ValueError(f"duplicate (user, item) pairs, e.g. codes ({users[k]}, {items[k]}); "
                         "pass duplicates='last', 'first', 'sum' or 'mean' to merge them")
    starts = np.flatnonzero(new_pair)
    if rule == "first":
        merged = values[starts]
    elif rule == "last":
        merged = values[np.r_[starts[1:], values.shape[0]] - 1]
    else:
        merged = np.add.reduceat(values, starts)
        if rule == "mean":
            merged = merged / np.diff(np.r_[starts, values.shape[0]])
    return users[starts], items[starts], merged


class Interactions:
    """A users x items matrix of ratings or implicit feedback with its id maps.

    Attributes: ``users``/``items`` (IdMap), ``indptr``/``indices``/``data`` (CSR, users x items),
    ``item_indptr``/``item_indices``/``item_data`` (CSR of the transpose), ``shape``, ``nnz``.
    Build with ``from_table`` or ``from_csr``.
    """

    def __init__(self, indptr, indices, data, users, items):
        self.users, self.items = users, items
        self.shape = (len(users), len(items))
        self.indptr, self.indices, self.data = indptr, indices, data
        self.item_indptr, self.item_indices, self.item_data = _transpose(
            indptr, indices, data, self.shape[1])

    @property
    def nnz(self):
        return int(self.data.shape[0])

    @classmethod
    def from_table(cls, users, items, values=None, *, duplicates="last"):
        """Build from parallel 1-D arrays (e.g. DataFrame columns) of ids and values.

        values : ratings or interaction strengths; None means 1 for every pair (implicit feedback).
        duplicates : what a repeated (user, item) pair becomes: 'last' (default: the later row of
            the table wins, e.g. a re-rating), 'first', 'sum' (counts), 'mean', or 'error'.
        """
        if duplicates not in DUPLICATE_RULES:
            raise ValueError(f"duplicates must be one of {DUPLICATE_RULES}; got {duplicates!r}")
        user_arr, item_arr = ids_1d(users, "users"), ids_1d(items, "items")
        n = user_arr.shape[0]
        if n == 0:
            raise ValueError("no interactions: users, items and values are empty")
        vals = np.ones(n) if values is None else as_vector(values, "values")
        if item_arr.shape[0] != n or vals.shape[0] != n:
            raise ValueError(f"users, items and values must have the same length; got {n}, "
                             f"{item_arr.shape[0]} and {vals.shape[0]}")
        if vals.dtype.kind not in "biuf":
            raise TypeError(f"values must be numeric; got dtype {vals.dtype}")
        vals = vals.astype(np.float64)
        bad = ~np.isfinite(vals)
        if bad.any():
            raise ValueError(f"values contain {int(bad.sum())} NaN/inf entries (first at row "
                             f"{int(np.argmax(bad))}); drop or impute them first")
        user_map, user_codes = IdMap.factorize(user_arr, "users")
        item_map, item_codes = IdMap.factorize(item_arr, "items")
        u, i, v = _merge_duplicates(user_codes, item_codes, vals, duplicates)
        indptr, indices, data = _csr_from_sorted(u, i, v, len(user_map))
        return cls(indptr, indices, data, user_map, item_map)

    @classmethod
    def from_csr(cls, matrix, *, user_ids=None, item_ids=None):
        """Build from a scipy sparse matrix (users x items); stored zeros are dropped and
        duplicate entries summed (scipy's rule). Ids default to the row/column numbers."""
        if not hasattr(matrix, "tocsr"):
            raise TypeError(f"matrix must be a scipy sparse matrix; got {type(matrix).__name__}")
        csr = matrix.tocsr(copy=True).astype(np.float64)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        if csr.nnz == 0:
            raise ValueError("no interactions: the matrix has no non-zero entry")
        if not np.isfinite(csr.data).all():
            raise ValueError("matrix contains NaN/inf entries; drop or impute them first")
        n_users, n_items = csr.shape
        users = IdMap(np.arange(n_users) if user_ids is None else user_ids)
        items = IdMap(np.arange(n_items) if item_ids is None else item_ids)
        if len(users) != n_users or len(items) != n_items:
            raise ValueError(f"user_ids/item_ids must have {n_users}/{n_items} entries; got "
                             f"{len(users)}/{len(items)}")
        return cls(csr.indptr.astype(np.int64), csr.indices.astype(np.int32), csr.data,
                   users, items)

    def to_table(self):
        """(user ids (nnz,), item ids (nnz,), values (nnz,) float64) of the stored entries in CSR
        order (by user code, then item code): the entry numbering of ``subset`` and of the
        cross-validation folds."""
        return self.users.ids[self.row_users()], self.items.ids[self.indices], self.data.copy()

    def subset(self, entries):
        """Interactions of the stored entries at positions ``entries`` (int array into
        ``to_table`` order); ids absent from those entries are dropped from the maps."""
        users, items, values = self.to_table()
        entries = as_vector(entries, "entries")
        if entries.dtype.kind not in "iu":
            raise TypeError(f"entries must be integer positions; got dtype {entries.dtype}")
        return Interactions.from_table(users[entries], items[entries], values[entries])

    def with_rows(self, side, ids, others, values=None):
        """A copy where every id in ``ids`` has its whole row replaced by the given entries.

        side : 'users' (rows are users, ``others`` item ids) or 'items' (rows are items,
            ``others`` user ids). ids, others, values : parallel (n,) arrays; values default 1.
        Ids new to the map are appended (existing codes stay valid); entries whose other id is
        unknown are dropped (add that id on its own side first); a repeated pair keeps its last
        value. Returns (Interactions, codes (m,) int64 of the distinct replaced ids).
        """
        if side not in ("users", "items"):
            raise ValueError(f"side must be 'users' or 'items'; got {side!r}")
        by_user = side == "users"
        ids = ids_1d(ids, side)
        others = ids_1d(others, "items" if by_user else "users")
        values = np.ones(ids.shape[0]) if values is None else as_vector(values, "values")
        if others.shape[0] != ids.shape[0] or values.shape[0] != ids.shape[0]:
            raise ValueError(f"{side}, their entries and values must have the same length; got "
                             f"{ids.shape[0]}, {others.shape[0]} and {values.shape[0]}")
        if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
            raise ValueError("values must be finite numbers")
        own_map = (self.users if by_user else self.items).extended(ids, side)
        other_map = self.items if by_user else self.users
        codes = own_map.lookup(ids)
        other = other_map.lookup(others)
        if by_user:
            indptr, indices, data = self.indptr, self.indices, self.data
        else:
            indptr, indices, data = self.item_indptr, self.item_indices, self.item_data
        old_rows = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
        replaced = np.zeros(len(own_map), dtype=bool)
        replaced[codes] = True
        keep_old, keep_new = ~replaced[old_rows], other >= 0
        rows, cols, vals = _merge_duplicates(
            np.concatenate([old_rows[keep_old], codes[keep_new]]),
            np.concatenate([indices[keep_old].astype(np.int64), other[keep_new]]),
            np.concatenate([data[keep_old], values[keep_new].astype(np.float64)]), "last")
        csr = _csr_from_sorted(rows, cols, vals, len(own_map))
        if by_user:
            result = Interactions(*csr, own_map, self.items)
        else:
            result = Interactions(*_transpose(*csr, len(self.users)), self.users, own_map)
        return result, np.flatnonzero(replaced)

    def with_ids(self, side, ids):
        """A copy with the ids of ``ids`` that ``side`` ('users' or 'items') lacks appended,
        without interactions (e.g. new items known only by their features)."""
        if side == "users":
            users = self.users.extended(ids, side)
            pad = np.full(len(users) - self.shape[0], self.indptr[-1])
            return Interactions(np.concatenate([self.indptr, pad]), self.indices, self.data,
                                users, self.items)
        if side != "items":
            raise ValueError(f"side must be 'users' or 'items'; got {side!r}")
        return Interactions(self.indptr, self.indices, self.data, self.users,
                            self.items.extended(ids, side))

    def row_users(self):
        """User code (nnz,) int64 of every stored entry, in CSR order."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))

    def to_scipy(self):
        """The users x items matrix as scipy.sparse.csr_matrix (scipy imported lazily)."""
        from scipy.sparse import csr_matrix

        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def check_interactions(interactions):
    """``interactions`` itself if it is an Interactions, else a TypeError saying how to make one."""
    if not isinstance(interactions, Interactions):
        raise TypeError("fit expects an Interactions (Interactions.from_table or from_csr); "
                        f"got {type(interactions).__name__}")
    return interactions
