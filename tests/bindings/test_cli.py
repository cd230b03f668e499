"""The ``gbdt`` command line: models equal to ``train`` on the same data and parameters, the LibSVM
reader against scikit-learn's, predictions equal to ``Booster.predict``, errors and --quiet."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from bindings import Booster, Dataset, train
from bindings.cli import main, read_libsvm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A binary problem written as CSV (label in the middle), Parquet and LibSVM, plus a TOML config."""
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 4))
    X[rng.random(X.shape) < 0.5] = 0.0
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(400) > 0).astype(float)
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "label": y, "c": X[:, 2], "d": X[:, 3]})
    pcsv.write_csv(table, folder / "train.csv")
    pq.write_table(table, folder / "train.parquet")
    dump_svmlight_file(X, y, str(folder / "train.svm"), zero_based=True)
    (folder / "params.toml").write_text('objective = "binary:logistic"\nmax_depth = 3\nlearning_rate = 0.1\n'
                                        'num_boost_round = 8\neval_metric = ["logloss", "auc"]\nn_jobs = 1\n')
    return folder, X, y


def expected_booster(X, y, rounds=8, **overrides):
    params = dict({"objective": "binary:logistic", "max_depth": 3, "learning_rate": 0.1,
                   "eval_metric": ["logloss", "auc"], "n_jobs": 1}, **overrides)
    return train(params, Dataset(X, y, feature_names=["a", "b", "c", "d"]), rounds)


def test_train_csv_with_config_and_overrides_equals_train(data, capsys):
    folder, X, y = data
    model = folder / "csv.json"
    assert main(["train", str(folder / "train.csv"), "--config", str(folder / "params.toml"),
                 "--set", "learning_rate=0.3", "--num-boost-round", "5", "-o", str(model)]) == 0
    out, err = capsys.readouterr()
    assert "trained 5 rounds on 400 rows" in out and "5/5" in err  # summary and the tqdm bar
    expected = expected_booster(X, y, rounds=5, learning_rate=0.3)
    assert Booster.load_model(model).to_dict()["trees"] == expected.to_dict()["trees"]


def test_parquet_and_json_config_then_predict_equals_booster_predict(data, capsys):
    folder, X, y = data
    config = folder / "params.json"
    config.write_text(json.dumps({"objective": "binary:logistic", "max_depth": 3, "learning_rate": 0.1,
                                  "num_round": 8, "eval_metric": ["logloss", "auc"], "n_jobs": 1}))
    model, preds = folder / "pq.json", folder / "preds.csv"
    assert main(["train", str(folder / "train.parquet"), "--config", str(config), "-o", str(model), "-q"]) == 0
    assert main(["predict", str(model), str(folder / "train.parquet"), "-o", str(preds), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")  # --quiet: no bar, no summary
    expected = expected_booster(X, y)
    np.testing.assert_array_equal(np.loadtxt(preds, delimiter=","), expected.predict(X))
    assert main(["predict", str(model), str(folder / "train.csv"), "--margin"]) == 0  # CSV to stdout
    stdout = capsys.readouterr().out
    np.testing.assert_array_equal(np.array(stdout.split(), dtype=float), expected.predict(X, output_margin=True))


def test_libsvm_reader_matches_sklearn_and_trains_like_its_matrix(data, tmp_path):
    folder, X, y = data
    path = tmp_path / "odd.svm"
    path.write_text("# a comment line\n1 0:1.5 3:-2e-3  # trailing comment\n\n0\n2.5 1:0.25 2:7\n")
    features, labels = read_libsvm(path)
    reference = load_svmlight_file(str(path), zero_based=True)
    np.testing.assert_array_equal(features.toarray(), reference[0].toarray())
    np.testing.assert_array_equal(labels, reference[1])
    assert read_libsvm(path, n_features=10)[0].shape == (3, 10)

    model = tmp_path / "svm.json"
    assert main(["train", str(folder / "train.svm"), "--config", str(folder / "params.toml"), "-o", str(model),
                 "-q"]) == 0
    X_ref, y_ref = load_svmlight_file(str(folder / "train.svm"), zero_based=True, n_features=4)
    np.testing.assert_allclose(X_ref.toarray(), X, rtol=1e-15)  # the file holds X up to its print precision
    expected = train({"objective": "binary:logistic", "max_depth": 3, "learning_rate": 0.1, "n_jobs": 1,
                      "eval_metric": ["logloss", "auc"]}, Dataset(X_ref, y_ref), 8)
    assert Booster.load_model(model).to_dict()["trees"] == expected.to_dict()["trees"]


def test_early_stopping_with_valid_file(data, capsys):
    folder, X, y = data
    model = folder / "es.json"
    assert main(["train", str(folder / "train.csv"), "--config", str(folder / "params.toml"), "--valid",
                 str(folder / "train.csv"), "--early-stopping-rounds", "2", "--num-boost-round", "50",
                 "-o", str(model)]) == 0
    assert "best round" in capsys.readouterr().out
    assert Booster.load_model(model).best_iteration is not None


@pytest.mark.parametrize("argv, message", [
    (["train", "missing.csv"], "no such file"),
    (["train", "{folder}/train.csv", "--set", "max_depth"], "KEY=VALUE"),
    (["train", "{folder}/train.csv", "--set", "max_dpth=3"], "did you mean 'max_depth'"),
    (["train", "{folder}/train.csv", "--label", "nope"], "label column 'nope' not found"),
    (["train", "{folder}/train.csv", "--config", "{folder}/train.csv"], "not valid JSON"),
    (["train", "{folder}/train.csv", "--early-stopping-rounds", "3"], "needs --valid"),
    (["predict", "{folder}/train.csv", "{folder}/train.csv"], "not a gbdt-engine JSON model"),
])
def test_errors_exit_1_with_one_line(data, capsys, argv, message):
    folder = data[0]
    assert main([a.format(folder=folder) for a in argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("gbdt ") and "Traceback" not in err


def test_bad_usage_exits_2():
    with pytest.raises(SystemExit) as info:
        main(["fit", "x.csv"])
    assert info.value.code == 2


def test_bench_and_console_entry_point_in_a_subprocess(data):
    """The module runs as a program (what the ``gbdt`` console script calls) and bench prints its timing."""
    out = subprocess.run([sys.executable, "-m", "bindings.cli", "bench", "--rows", "2000", "--rounds", "3",
                          "--threads", "1", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("bench: 2000 rows x 28 features, 3 rounds, threads=1: train ")
