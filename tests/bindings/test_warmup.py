"""``python -m bindings.warmup`` compiles a path once: afterwards fits on it need no compilation."""
import numpy as np

from bindings import Dataset, train
from bindings.cli import build_parser, cmd_warmup
from bindings.warmup import WARMUPS, main, warm_up
from gbdt import grower
from gbdt._jit import compiled_for
from gbdt.grower import TreeGrower


def test_a_warmed_path_grows_compiled_trees_without_compiling(monkeypatch):
    path = WARMUPS[0][0]  # binary, depthwise, one thread
    logged = []
    seconds = warm_up([path], log=logged.append)
    assert list(seconds) == [path] and logged == [f"{path}: {seconds[path]:.1f} s"]
    calls = []
    monkeypatch.setattr(grower, "compiled_for", lambda dispatcher, signature: calls.append(
        compiled_for(dispatcher, signature)) or calls[-1])
    X = np.random.default_rng(0).standard_normal((300, 5))
    booster = train({"objective": "binary:logistic", "max_depth": 3, "n_jobs": 1}, Dataset(X, X[:, 0] > 0), 2)
    assert calls == [True] and booster.num_trees() == 2  # the grower was found compiled: no Python driver
    assert TreeGrower.compiled == "auto"  # restored after the warm-up


def test_the_command_lines_name_the_paths():
    assert build_parser().parse_args(["warmup"]).run is cmd_warmup
    assert main(["--paths", WARMUPS[0][0]]) == 0
