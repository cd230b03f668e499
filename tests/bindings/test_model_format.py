"""The JSON model format: round trips, one clear refusal per way a document can depart from the
schema, atomic writes, and no unpickling."""
import copy
import json
import os
import pickle

import numpy as np
import pytest

from bindings import Booster, Dataset, train
from bindings.model_format import validate_model, write_json_atomic

rng = np.random.default_rng(0)
X = rng.standard_normal((200, 3))
y = X[:, 0] - X[:, 1] ** 2


@pytest.fixture(scope="module")
def doc():
    return train({"max_depth": 2}, Dataset(X, y, feature_names=["a", "b", "c"]), 2).to_dict()


def tree(feature, left, right):
    """A tree entry with the given structure and harmless values elsewhere."""
    m = len(feature)
    return {"class": 0, "feature": feature, "threshold": [0.5] * m, "bin_threshold": [1] * m,
            "default_left": [True] * m, "left": left, "right": right, "value": [0.1] * m, "gain": [1.0] * m,
            "cover": [4.0] * m}


def with_change(doc, change):
    bad = copy.deepcopy(doc)
    change(bad)
    return bad


def test_from_dict_round_trip_and_json_file_round_trip(doc, tmp_path):
    booster = Booster.from_dict(doc)
    assert booster.to_dict() == doc
    path = tmp_path / "m.json"
    booster.save_model(path)
    assert Booster.load_model(path).to_dict() == doc
    np.testing.assert_array_equal(Booster.load_model(path).predict(X), booster.predict(X))


BAD_DOCUMENTS = [
    ("format", lambda d: d.update(format="xgboost"), "not a gbdt-engine model"),
    ("version", lambda d: d.update(version=2), "'version' must be 1"),
    ("missing key", lambda d: d.pop("num_feature"), "missing the key 'num_feature'"),
    ("unknown key", lambda d: d.update(extra=1), "unknown keys \\['extra'\\]"),
    ("objective", lambda d: d.update(objective="rank:unknown"), "'objective' must be one of"),
    ("num_class type", lambda d: d.update(num_class="1"), "'num_class' must be an integer >= 1"),
    ("num_feature bool", lambda d: d.update(num_feature=True), "'num_feature' must be an integer"),
    ("feature_names", lambda d: d.update(feature_names=["a", "b"]), "'feature_names' has 2 names"),
    ("feature_names type", lambda d: d.update(feature_names=[1, 2, 3]), "null or a list of strings"),
    ("base_margin", lambda d: d.update(base_margin=[0.0, 1.0]), "'base_margin' has 2 values"),
    ("base_margin nan", lambda d: d.update(base_margin=[float("nan")]), "list of finite numbers"),
    ("best_iteration", lambda d: d.update(best_iteration=5), "best_iteration 5 is not below the 2 rounds"),
    ("loss_params", lambda d: d["loss_params"].update(quantile_alpha=[]), "'loss_params' must be an object"),
    ("trees type", lambda d: d.update(trees={}), "'trees' must be a list"),
    ("rounds", lambda d: d.update(num_class=3, base_margin=[0.0] * 3), "not a whole number of rounds"),
    ("tree type", lambda d: d["trees"].__setitem__(0, [1, 2]), "tree 0 must be an object"),
    ("tree missing key", lambda d: d["trees"][1].pop("cover"), "tree 1 has missing keys \\['cover'\\]"),
    ("class", lambda d: d["trees"][1].update({"class": 1}), "'class' must be 0"),
    ("array type", lambda d: d["trees"][0].update(value=["0.1"] * len(d["trees"][0]["value"])),
     "'value' must be a non-empty list of float64"),
    ("int array of floats", lambda d: d["trees"][0].update(left=[float(v) for v in d["trees"][0]["left"]]),
     "'left' must be a non-empty list of int32"),
    ("empty tree", lambda d: d["trees"][0].update({k: [] for k in d["trees"][0] if k != "class"}), "non-empty"),
    ("lengths", lambda d: d["trees"][0]["gain"].append(0.0), "inconsistent lengths"),
    ("feature id", lambda d: d["trees"][0].update(tree([3, -1, -1], [1, -1, -1], [2, -1, -1])),
     "splits on feature 3, expected -1 \\(leaf\\) or a feature id in \\[0, 3\\)"),
    ("child range", lambda d: d["trees"][0].update(tree([0, -1, -1], [1, -1, -1], [7, -1, -1])),
     "node 0 has right child 7, expected a node id in \\[1, 3\\)"),
    ("root as child", lambda d: d["trees"][0].update(tree([0, -1, -1], [0, -1, -1], [2, -1, -1])),
     "left child 0"),
    ("leaf with child", lambda d: d["trees"][0].update(tree([0, -1, -1], [1, 2, -1], [2, -1, -1])),
     "node 1 has left child 2, expected -1 \\(leaf\\)"),
    ("cycle", lambda d: d["trees"][0].update(tree([0, 1, -1], [1, 1, -1], [2, 2, -1])), "cycle"),
    ("back edge", lambda d: d["trees"][0].update(tree([0, 1, 1, -1, -1], [1, 2, 3, -1, -1], [2, 4, 1, -1, -1])),
     "more than one|parents"),
    ("detached cycle", lambda d: d["trees"][0].update(tree([0, -1, -1, 1, -1], [1, -1, -1, 3, -1],
                                                           [2, -1, -1, 4, -1])),
     "2 of 5 nodes are not reachable from the root"),
    ("non-finite value", lambda d: d["trees"][0]["value"].__setitem__(0, float("inf")), "'value' of node 0"),
    ("zero cover", lambda d: d["trees"][0]["cover"].__setitem__(0, 0.0), "cover"),
]


@pytest.mark.parametrize("change,message", [case[1:] for case in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS])
def test_every_departure_from_the_schema_is_refused_with_its_reason(doc, change, message):
    with pytest.raises(ValueError, match=message):
        Booster.from_dict(with_change(doc, change))


def test_load_model_names_the_file_and_refuses_non_json(doc, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(with_change(doc, lambda d: d.pop("trees"))))
    with pytest.raises(ValueError, match=f"{path} is missing the key 'trees'"):
        Booster.load_model(path)
    path.write_bytes(b"\x00\xff not json")
    with pytest.raises(ValueError, match="not a gbdt-engine JSON model"):
        Booster.load_model(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object, got list"):
        Booster.load_model(path)


class _Marker:
    """Unpickling this creates a file: proof that a loader ran pickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Marker(str(marker))))
    with pytest.raises(ValueError, match="not a gbdt-engine JSON model"):
        Booster.load_model(path)
    assert not marker.exists()


def test_save_is_atomic_a_failed_write_leaves_the_old_file(doc, tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    booster = Booster.from_dict(doc)
    booster.save_model(path)
    before = path.read_bytes()

    def fail_midway(obj, fh):
        fh.write('{"format": "gbdt-engine-model", "trun')
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        booster.save_model(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind


def test_atomic_write_replaces_and_keeps_the_usual_file_mode(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    path = tmp_path / "doc.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert os.stat(path).st_mode == os.stat(plain).st_mode
    assert sorted(os.listdir(tmp_path)) == ["doc.json", "plain"]


def test_validate_returns_the_trees_with_their_classes(doc):
    trees = validate_model(doc)
    assert [k for k, _ in trees] == [0, 0]
    np.testing.assert_array_equal(trees[1][1].left, doc["trees"][1]["left"])


def test_tuples_are_accepted_as_arrays(doc):
    """Dask's msgpack turns the lists of an in-memory model dict into tuples (cluster resume)."""
    def as_tuples(v):
        if isinstance(v, dict):
            return {k: as_tuples(x) for k, x in v.items()}
        return tuple(as_tuples(x) for x in v) if isinstance(v, list) else v

    assert Booster.from_dict(as_tuples(doc)).to_dict() == doc
