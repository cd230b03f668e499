"""A plain-Python reading of a ``Tree``, the independent reference for routing tests."""
import numpy as np


def routes_left(tree, node, v):
    """Whether value ``v`` goes left at ``node``, decoded from the Tree in Python."""
    if np.isnan(v):
        return tree.default_left[node]
    if tree.is_categorical[node]:
        return int(v) in tree.left_categories(node)
    return v <= tree.threshold[node]


def leaf_of(tree, x):
    """The leaf that row ``x`` (F,) reaches from the root."""
    node = 0
    while tree.feature[node] >= 0:
        node = tree.left[node] if routes_left(tree, node, x[tree.feature[node]]) else tree.right[node]
    return node
