"""The JSON model format: its schema, a validator that refuses anything else, and atomic writes.

A model file is one JSON object (``format = "gbdt-engine-model"``, ``version = 1``)::

    {"format": "gbdt-engine-model", "version": 1,
     "objective": one of bindings.objectives.OBJECTIVES | "custom",
     "num_class": K (int >= 1), "num_feature": F (int >= 1),
     "feature_names": [F strings] | null,
     "base_margin": [K floats], "best_iteration": int | null, "best_score": float | null,
     "trees": [{"class": k, "feature": [...], "threshold": [...], "bin_threshold": [...],
                "default_left": [...], "left": [...], "right": [...], "value": [...],
                "gain": [...], "cover": [...]}, ...]}

``trees`` holds the rounds in order, K trees per round, tree i predicting class ``i % K``. Each
tree is a struct of arrays over its m nodes (node 0 the root, see ``gbdt.tree``): ``feature``
(int, -1 for a leaf, else < F), ``threshold`` (go left when ``x <= threshold``; ``Infinity``
when every value goes left), ``bin_threshold`` (int), ``default_left`` (bool, where NaN goes),
``left``/``right`` (child node ids in 1..m-1, -1 for a leaf), ``value`` (output incl. learning
rate), ``gain`` (split gain), ``cover`` (hessian sum, > 0 on split nodes). Every node but the root
has exactly one parent and is reachable from the root. Models with categorical features add
``"categories": {"<feature index>": [category values]}`` and, in trees with categorical splits,
``cat_begin``/``cat_end`` (per node) and ``cat_bits`` (uint32 words of the left category sets; see
``gbdt.tree``). Models trained with a built-in objective add ``"loss_params": {"max_delta_step": x,
"tweedie_variance_power": x, "quantile_alpha": [x, ...] or null, "huber_slope": x}`` (the loss's own
parameters, which exports to other formats write). Floats use Python's shortest round-trip
repr, so save -> load -> predict is bit-identical. Files are parsed as JSON only, never unpickled.
"""
import json
import numbers
import os
import tempfile

import numpy as np

from bindings.categorical import validate_tree_categories
from bindings.objectives import OBJECTIVES, LossParams
from gbdt.tree import Tree

__all__ = ["FORMAT", "VERSION", "validate_model", "tree_levels", "loss_params_dict", "validate_loss_params",
           "write_json_atomic", "write_atomic"]

FORMAT = "gbdt-engine-model"
VERSION = 1
MODEL_OBJECTIVES = tuple(OBJECTIVES) + ("custom",)


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_list(v):
    """A JSON array: a list, or a tuple (Dask's msgpack turns an in-memory model dict's lists into tuples)."""
    return isinstance(v, (list, tuple))


def _optional(check):
    return lambda v: v is None or check(v)


# top-level key -> (test of the value, what is expected); ``feature_names``/``base_margin``
# lengths and ``trees`` are checked further below
TOP_LEVEL = {
    "format": (lambda v: v == FORMAT, f"the string {FORMAT!r}"),
    "version": (lambda v: v == VERSION, f"{VERSION}"),
    "objective": (lambda v: v in MODEL_OBJECTIVES, f"one of {MODEL_OBJECTIVES}"),
    "num_class": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "num_feature": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "feature_names": (_optional(lambda v: _is_list(v) and all(isinstance(s, str) for s in v)),
                      "null or a list of strings"),
    "base_margin": (lambda v: _is_list(v) and all(_is_number(b) and np.isfinite(b) for b in v),
                    "a list of finite numbers"),
    "best_iteration": (_optional(lambda v: _is_int(v) and v >= 0), "null or an integer >= 0"),
    "best_score": (_optional(_is_number), "null or a number"),
    "trees": (lambda v: _is_list(v), "a list of trees"),
}

# numpy kinds a tree array may parse to, per Tree field dtype kind
ARRAY_KINDS = {"i": ("i", "u"), "f": ("i", "u", "f"), "b": ("b",)}


def validate_model(doc, source="model"):
    """Raise ValueError naming the first way ``doc`` departs from the schema; return the trees as
    a list of (class, Tree). ``source`` names the document in messages (a path, "model")."""
    if not isinstance(doc, dict):
        raise ValueError(f"{source} is not a gbdt-engine model: expected a JSON object, got {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise ValueError(f"{source} is not a gbdt-engine model (missing format={FORMAT!r})")
    for key, (check, expected) in TOP_LEVEL.items():
        if key not in doc:
            raise ValueError(f"{source} is missing the key {key!r}")
        if not check(doc[key]):
            raise ValueError(f"{source}: {key!r} must be {expected}, got {doc[key]!r:.80}")
    unknown = sorted(set(doc) - set(TOP_LEVEL) - {"categories", "loss_params"})  # optional keys
    if unknown:
        raise ValueError(f"{source} has unknown keys {unknown}; expected only {sorted(TOP_LEVEL)}")
    n_class, n_feature = doc["num_class"], doc["num_feature"]
    if doc["feature_names"] is not None and len(doc["feature_names"]) != n_feature:
        raise ValueError(f"{source}: 'feature_names' has {len(doc['feature_names'])} names, "
                         f"num_feature is {n_feature}")
    if len(doc["base_margin"]) != n_class:
        raise ValueError(f"{source}: 'base_margin' has {len(doc['base_margin'])} values, num_class is {n_class}")
    trees = doc["trees"]
    if len(trees) % n_class:
        raise ValueError(f"{source}: {len(trees)} trees is not a whole number of rounds of num_class={n_class}")
    if doc["best_iteration"] is not None and doc["best_iteration"] >= len(trees) // n_class:
        raise ValueError(f"{source}: best_iteration {doc['best_iteration']} is not below the "
                         f"{len(trees) // n_class} rounds")
    return [(i % n_class, _validate_tree(entry, i, n_class, n_feature, f"{source}: tree {i}"))
            for i, entry in enumerate(trees)]


def _validate_tree(entry, index, n_class, n_feature, where):
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object, got {type(entry).__name__}")
    expected_keys = {"class", *Tree.DTYPES} | (set(Tree.CATEGORICAL_DTYPES) if "cat_begin" in entry else set())
    missing, unknown = sorted(expected_keys - set(entry)), sorted(set(entry) - expected_keys)
    if missing or unknown:
        raise ValueError(f"{where} has missing keys {missing} / unknown keys {unknown}")
    if not _is_int(entry["class"]) or entry["class"] != index % n_class:
        raise ValueError(f"{where}: 'class' must be {index % n_class} (trees are stored K={n_class} per round), "
                         f"got {entry['class']!r}")
    columns = {}
    for name, dtype in Tree.DTYPES.items():
        values = entry[name]
        array = np.asarray(values) if _is_list(values) and values else None
        if array is None or array.ndim != 1 or array.dtype.kind not in ARRAY_KINDS[np.dtype(dtype).kind]:
            raise ValueError(f"{where}: {name!r} must be a non-empty list of {np.dtype(dtype).name} values")
        columns[name] = array
    lengths = {name: a.shape[0] for name, a in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"{where}: node arrays have inconsistent lengths {lengths}")
    tree = Tree.from_lists(**columns, **validate_tree_categories(entry, columns["feature"], where))
    _validate_nodes(tree, columns, n_feature, where)
    return tree


def _validate_nodes(tree, columns, n_feature, where):
    m = tree.n_nodes
    feature, left, right = tree.feature, tree.left, tree.right
    split = feature >= 0
    # int arrays are range-checked before the cast to int32 can wrap them
    bad = np.nonzero((columns["feature"] < -1) | (columns["feature"] >= n_feature))[0]
    if bad.size:
        raise ValueError(f"{where}: node {bad[0]} splits on feature {columns['feature'][bad[0]]}, "
                         f"expected -1 (leaf) or a feature id in [0, {n_feature})")
    for name in ("left", "right"):
        ids = columns[name]
        bad = np.nonzero(np.where(split, (ids < 1) | (ids >= m), ids != -1))[0]
        if bad.size:
            raise ValueError(f"{where}: node {bad[0]} has {name} child {ids[bad[0]]}, expected "
                             f"{'a node id in [1, ' + str(m) + ')' if split[bad[0]] else '-1 (leaf)'}")
    for name in ("value", "gain", "cover"):
        bad = np.nonzero(~np.isfinite(getattr(tree, name)))[0]
        if bad.size:
            raise ValueError(f"{where}: {name!r} of node {bad[0]} is not finite")
    bad = np.nonzero(np.isnan(tree.threshold) | (tree.cover < 0) | (split & (tree.cover <= 0)))[0]
    if bad.size:
        raise ValueError(f"{where}: node {bad[0]} has a NaN threshold or a cover that is negative "
                         "(or zero on a split node)")
    parents = np.bincount(np.concatenate([left[split], right[split]]), minlength=m)
    if (parents > 1).any():
        raise ValueError(f"{where}: node {np.argmax(parents > 1)} has {parents.max()} parents "
                         "(a cycle or a shared child); a tree node has exactly one")
    reached = sum(level.shape[0] for level in tree_levels(feature, left, right))
    if reached != m:
        raise ValueError(f"{where}: {m - reached} of {m} nodes are not reachable from the root (a cycle or "
                         "detached nodes)")


def tree_levels(feature, left, right):
    """Node ids of a valid tree level by level from the root: a list of int arrays (depth = len - 1)."""
    levels = [np.zeros(1, dtype=np.int64)]
    while True:
        split = levels[-1][feature[levels[-1]] >= 0]
        if split.shape[0] == 0:
            return levels
        levels.append(np.concatenate([left[split], right[split]]).astype(np.int64))


def loss_params_dict(losses):
    """A ``LossParams`` as the JSON-ready ``loss_params`` object of a model document."""
    alphas = losses.quantile_alpha
    return {**losses._asdict(), "quantile_alpha": None if alphas is None else list(alphas)}


def validate_loss_params(value, source="model"):
    """The ``LossParams`` of a model document's optional ``loss_params`` object (None when absent)."""
    if value is None:
        return None
    if not (isinstance(value, dict) and set(value) == set(LossParams._fields)
            and all(_is_number(value[k]) for k in LossParams._fields if k != "quantile_alpha")
            and (value["quantile_alpha"] is None or (_is_list(value["quantile_alpha"]) and value["quantile_alpha"]
                                                     and all(_is_number(a) for a in value["quantile_alpha"])))):
        raise ValueError(f"{source}: 'loss_params' must be an object with the numbers {list(LossParams._fields)} "
                         f"(quantile_alpha a non-empty list or null), got {value!r:.80}")
    alphas = value["quantile_alpha"]
    return LossParams(**{**value, "quantile_alpha": None if alphas is None else tuple(alphas)})


def write_json_atomic(path, doc):
    """Write ``doc`` as JSON to ``path`` atomically (``write_atomic``)."""
    write_atomic(path, lambda fh: json.dump(doc, fh))


def write_atomic(path, write):
    """Call ``write(fh)`` on a text file that then becomes ``path``: a temporary file in the same
    directory and ``os.replace``, so readers see the old file or the complete new one, never a
    partial write."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would (0666 minus umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
