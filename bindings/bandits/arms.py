"""Arm labels of a policy: any hashable values (``["red", "green"]``, ids, tuples) or, given a
count n, the integers 0..n-1.

The compiled kernels see arm *positions* 0..n_arms-1 (columns of the statistics); ``ArmLabels``
maps labels to positions and back, and keeps the order when arms are added (at the end) or
removed (later arms move up one position).
"""
import numbers
from collections.abc import Hashable, Iterable

import numpy as np

from bindings.validation import check_positive_int

__all__ = ["ArmLabels"]


def _label_array(labels):
    """Labels as a 1-d array: int64 or str when every label has that type, else object."""
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in labels):
        return np.array(labels, dtype=np.int64)
    if all(isinstance(a, str) for a in labels):
        return np.array(labels, dtype=str)
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


class ArmLabels:
    """Labels <-> positions of a policy's arms.

    arms : int n (labels 0..n-1) or a sequence of distinct hashable labels.
    """

    def __init__(self, arms):
        if isinstance(arms, numbers.Integral) and not isinstance(arms, bool):
            labels = list(range(check_positive_int(arms, "arms")))
        elif isinstance(arms, Iterable) and not isinstance(arms, (str, bytes)):
            labels = list(arms)
        else:
            raise TypeError(f"arms must be a number of arms or a sequence of arm labels, got "
                            f"{arms!r}")
        if not labels:
            raise ValueError("arms must name at least one arm")
        for label in labels:
            self._check_hashable(label)
        if len(set(labels)) != len(labels):
            raise ValueError(f"arms must be distinct, got {labels!r}")
        self.labels = labels
        self._reindex()

    @staticmethod
    def _check_hashable(label):
        if not isinstance(label, Hashable):
            raise TypeError(f"an arm label must be hashable (a dict key), got {label!r}")

    def _reindex(self):
        self.position = {label: k for k, label in enumerate(self.labels)}
        # 0..n-1 labels skip the dictionary: positions are the labels themselves.
        self.is_range = all(isinstance(a, numbers.Integral) and not isinstance(a, bool) and a == k
                            for k, a in enumerate(self.labels))
        self.array = _label_array(self.labels)

    def __len__(self):
        return len(self.labels)

    def index_of(self, arm):
        """Position (int) of label ``arm``; ValueError/TypeError for an unknown arm."""
        if self.is_range:
            if isinstance(arm, bool) or not isinstance(arm, numbers.Integral):
                raise TypeError(f"arm must be an integer in [0, {len(self)}), got {arm!r}")
            if not 0 <= arm < len(self):
                raise ValueError(f"arm out of range: arms must be in [0, {len(self)}), got {arm}")
            return int(arm)
        try:
            return self.position[arm]
        except (KeyError, TypeError):
            raise ValueError(f"unknown arm {arm!r}: the policy's arms are {self.labels!r}") from None

    def indices_of(self, arms):
        """(n,) int64 positions of the labels ``arms`` (a sequence or 1-d array)."""
        if self.is_range:
            arms = np.asarray(arms)
            if arms.ndim != 1:
                raise ValueError(f"arms must be 1-d, got shape {arms.shape}")
            if arms.size and not np.issubdtype(arms.dtype, np.integer):
                raise TypeError(f"arms must be integers, got dtype {arms.dtype}")
            if arms.size and (arms.min() < 0 or arms.max() >= len(self)):
                raise ValueError(f"arm out of range: arms must be in [0, {len(self)}), got values "
                                 f"in [{arms.min()}, {arms.max()}]")
            return arms.astype(np.int64)
        if isinstance(arms, np.ndarray) and arms.ndim != 1:
            raise ValueError(f"arms must be 1-d, got shape {arms.shape}")
        # A list, not an array: labels such as tuples must stay whole.
        return np.array([self.index_of(a) for a in arms], dtype=np.int64)

    def labels_of(self, positions):
        """Labels of (n,) int positions, as an array (int64, str or object)."""
        return self.array[positions]

    def add(self, arm):
        """Append label ``arm`` (its position is the new last one)."""
        self._check_hashable(arm)
        if arm in self.position:
            raise ValueError(f"arm {arm!r} already exists")
        self.labels.append(arm)
        self._reindex()

    def remove(self, arm):
        """Drop label ``arm``; return the position it had."""
        position = self.index_of(arm)
        if len(self) == 1:
            raise ValueError("cannot remove the last arm: a policy needs at least one")
        del self.labels[position]
        self._reindex()
        return position
