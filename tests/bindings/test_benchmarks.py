"""The benchmark suite runs end to end and reports sane numbers (correctness only: no timing asserts)."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from benchmarks.child import current_rss_mib, peak_rss_mib, reset_peak
from benchmarks.peers import DEFAULT_LIBRARIES, LIBRARIES, Setting, timed_fit_predict
from benchmarks.suite import main
from benchmarks.tasks import TASKS, score


def test_quick_binary_run_reports_every_library(tmp_path, capsys):
    """``python -m benchmarks --quick --tasks binary`` on a tiny size: every library ran in its own
    process, times and ratios are positive and finite, predictions line up with the labels."""
    main(["--quick", "--tasks", "binary", "--scale", "0.1", "--trees", "5", "--depth", "4", "--threads", "1",
          "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "suite.json").read_text())
    assert (tmp_path / "suite.png").stat().st_size > 0
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["versions"]["xgboost"]
    assert saved["compile_s"] > 0 and "error" not in saved["cold_start"]
    task = saved["tasks"]["binary"]
    assert (task["rows"], task["features"], task["metric"]) == (2000, 28, "auc")
    results = task["results"]
    assert set(results) == set(DEFAULT_LIBRARIES)
    for library, r in results.items():
        assert "error" not in r, (library, r)
        for key in ("train_s", "predict_s", "train_x_ours", "predict_x_ours", "peak_rss_mib"):
            assert math.isfinite(r[key]) and r[key] > 0, (library, key, r[key])
        assert r["train_s_rounds"] == [r["train_s"]]
        assert r["peak_rss_mib"] >= r["rss_data_mib"] and math.isfinite(r["train_mem_mib"])
        assert 0.6 < r["metric"] <= 1.0, (library, r["metric"])  # a misaligned prediction gives ~0.5
    assert results["ours"]["train_x_ours"] == 1.0
    table = capsys.readouterr().out
    assert all(library in table for library in DEFAULT_LIBRARIES) and "train x ours" in table


def test_exact_run_compares_with_xgboost_exact_only(tmp_path, capsys):
    """``--tree-method exact``: only the libraries with that method run (ours, XGBoost), saved apart
    from the hist suite; XGBoost's exact and ours grow the same trees, so the AUCs agree."""
    main(["--quick", "--tasks", "binary", "--scale", "0.05", "--trees", "3", "--depth", "3", "--threads", "1",
          "--tree-method", "exact", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "suite-exact.json").read_text())
    assert saved["setting"]["tree_method"] == "exact" and not (tmp_path / "suite.json").exists()
    results = saved["tasks"]["binary"]["results"]
    assert set(results) == {"ours", "xgboost"}
    assert results["xgboost"]["metric"] == pytest.approx(results["ours"]["metric"], abs=1e-6)
    assert math.isfinite(results["xgboost"]["train_mem_x_ours"])
    out = capsys.readouterr().out
    assert "lightgbm has no tree_method='exact'" in out and "MiB x ours" in out


@pytest.mark.parametrize("task_name", ["multiclass", "regression", "quantile"])
def test_every_library_learns_multiclass_and_regression(task_name):
    """Each library's parameter translation works for the other objectives: predictions have the
    objective's shape and beat the best constant prediction on the test rows."""
    task = TASKS[task_name]
    X, y, X_test, y_test = task.make(quick=True, scale=0.1)
    setting = Setting(task.objective, 10, 3, 64, 1, n_classes=task.n_classes, learning_rate=0.3)
    if task.objective == "multiclass":
        prior = np.bincount(y.astype(int), minlength=task.n_classes) / len(y)
        constant = score(task, y_test, np.tile(prior, (len(y_test), 1)))
    elif task.objective == "quantile":  # the best constant: the training labels' 90% quantile
        constant = score(task, y_test, np.full(len(y_test), np.quantile(y, 0.9)))
    else:
        constant = score(task, y_test, np.full(len(y_test), y.mean()))
    for library in [name for name, lib in LIBRARIES.items() if task.objective in lib.objectives]:
        _, _, pred = timed_fit_predict(library, X, y, X_test, setting)
        pred = np.asarray(pred)
        if task.objective == "multiclass":
            assert pred.shape == (len(y_test), task.n_classes), library
            np.testing.assert_allclose(pred.sum(axis=1), 1.0, rtol=1e-5, err_msg=library)
        else:
            assert pred.shape == (len(y_test),), library
        assert score(task, y_test, pred) < 0.97 * constant, (library, score(task, y_test, pred), constant)


def test_every_ranker_beats_a_constant_ranking():
    """Each library that runs the rank task (ours as XGBoost's rank:ndcg and as LightGBM's lambdarank)
    ranks the test queries better than a constant score (documents in their given order)."""
    task = TASKS["rank"]
    X, y, X_test, y_test = task.make(quick=True, scale=0.1)
    setting = Setting(task.objective, 10, 3, 64, 1, learning_rate=0.3)
    constant = score(task, y_test, np.zeros(len(y_test)))
    rankers = [name for name, lib in LIBRARIES.items() if task.objective in lib.objectives]
    assert "ours-lambdarank" in rankers
    for library in rankers:
        _, _, pred = timed_fit_predict(library, X, y, X_test, setting)
        assert score(task, y_test, pred) > constant + 0.05, (library, score(task, y_test, pred), constant)


def test_peak_memory_sees_a_freed_allocation_and_resets():
    """The child's memory probe: a 64 MiB array touched then freed raises the peak by >= 64 MiB
    over the RSS before it; resetting brings the peak back to the current RSS."""
    if not reset_peak():
        pytest.skip("this OS has no resettable peak RSS (/proc/self/clear_refs)")
    before = current_rss_mib()
    block = np.ones(64 * 2 ** 20 // 8)
    del block
    assert peak_rss_mib() >= before + 63
    assert reset_peak() and peak_rss_mib() < before + 32


def test_repeats_interleave_libraries_and_report_paired_ratios(monkeypatch):
    """Each round runs every library once in turn (a slow phase then hits every library of the
    round); a failed library is not run again; the fastest run is kept with the fastest predict,
    and the paired ratio is the median over rounds of a library's time over ours in that round."""
    from argparse import Namespace

    from benchmarks import report, suite

    train = {"ours": [2.0, 4.0, 1.0], "xgboost": [3.0, 4.0, 3.0], "lightgbm": [1.0]}
    calls = []

    def fake_child(library, setting, data_dir, timeout, policy):
        k = sum(1 for c in calls if c == library)
        calls.append(library)
        if library == "lightgbm" and k == 1:
            return {"error": "killed"}, None
        return {"train_s": train[library][k], "predict_s": 0.5 - 0.1 * k, "train_mem_mib": 1.0,
                "peak_rss_mib": 2.0}, np.full(3, k)

    monkeypatch.setattr(suite, "run_child", fake_child)
    args = Namespace(repeats=3, timeout=1.0, omp_wait_policy="passive")
    runs = suite.interleaved_runs(["ours", "xgboost", "lightgbm"], None, None, args)
    assert calls == ["ours", "xgboost", "lightgbm", "ours", "xgboost", "lightgbm", "ours", "xgboost"]
    best, pred = suite.fastest(runs["ours"])
    assert (best["train_s"], best["predict_s"], pred.tolist()) == (1.0, pytest.approx(0.3), [2, 2, 2])
    assert suite.fastest(runs["lightgbm"]) == ({"error": "killed"}, None)
    results = {lib: suite.fastest(r)[0] for lib, r in runs.items()}
    report.add_ratios(results)
    report.add_paired_ratios(results, {lib: [r for r, _ in runs[lib]] for lib in runs})
    assert results["xgboost"]["train_x_ours"] == 3.0  # fastest over fastest
    assert results["xgboost"]["train_x_ours_paired"] == 1.5  # median of 3/2, 4/4, 3/1
    assert results["ours"]["train_x_ours_paired"] == 1.0
    assert "train_x_ours_paired" not in results["lightgbm"]
    assert "paired" in report.task_table("t", "auc", {k: {**v, "metric": 0.8} for k, v in results.items()
                                                        if "error" not in v})


def test_sparse_benchmark_shapes_and_paths(capsys):
    """``benchmarks.sparse``'s shapes are what it says (words a row, positives, exclusive one-hot
    columns, density), take the paths its docstring names, and a run reports every library."""
    from benchmarks.sparse import onehot_task, run_shape, text_task, wide_task
    from bindings import Dataset

    X, y = text_task(4000)
    assert X.shape == (4000, 5000) and 10 < X.nnz / 4000 < 14 and 0.005 < y.mean() < 0.03
    np.testing.assert_allclose(np.asarray(X.multiply(X).sum(axis=1)).ravel(), 1.0)  # tf-idf rows, l2-normalised
    X_hot, y_hot = onehot_task(4000)
    assert X_hot.shape == (4000, 3000) and (X_hot.getnnz(axis=1) == 30).all() and set(X_hot.data) == {1.0}
    assert 0.05 < y_hot.mean() < 0.2
    X_wide, _ = wide_task(400)
    assert abs(X_wide.nnz / X_wide.shape[0] / X_wide.shape[1] - 0.6) < 0.01
    for data, path in ((X, "SparseBins"), (X_hot, "BundledBins"), (X_wide, "ndarray")):
        dataset = Dataset(data, np.zeros(data.shape[0]))
        assert type(dataset.binned(*dataset.bin_edges(64), 64)).__name__ == path
    results = run_shape("onehot", 3000, 1000, Setting("binary", 5, 3, 64, 1), None, 1)
    assert set(results) == {"ours", "xgboost", "lightgbm"}
    for library, r in results.items():
        assert "error" not in r, (library, r)
        assert r["train_s"] > 0 and math.isfinite(r["train_mem_mib"]) and 0.55 < r["auc"] <= 1.0, (library, r)
    assert results["ours"]["path"] == "BundledBins" and "x faster peer" in capsys.readouterr().out


def test_small_rows_time_each_library_in_its_own_process(tmp_path, monkeypatch, capsys):
    """``--tasks small``: every library fits the 1k task in a child process; times, compile times and
    ratios are positive and finite, the table names the task (the warm-up is left out: it compiles)."""
    import benchmarks.small as small

    monkeypatch.setattr(small, "warm_up", lambda libraries, timeout, baseline: 0.0)
    payload = main(["--tasks", "small", "--small-rows", "1k", "--trees", "4", "--libraries", "xgboost,lightgbm",
                    "--threads", "1", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "small.json").read_text())["rows"]["1k"]
    assert set(results) == {"ours", "xgboost", "lightgbm"} == set(payload["rows"]["1k"])
    for library, r in results.items():
        assert "error" not in r, (library, r)
        assert math.isfinite(r["train_s"]) and r["train_s"] > 0 and r["compile_s"] >= 0
        assert math.isfinite(r["train_x_ours"]) and r["train_x_ours"] > 0
    assert results["ours"]["engine"].startswith(str(small.ROOT))
    assert small.TASKS["1k"] in capsys.readouterr().out


def test_cold_start_row_reports_the_child_processes_cpu_seconds():
    """The cold-start row: wall and CPU seconds of each round's fresh process (XGBoost's script: no
    compile), the median CPU seconds in the summary and a line of the table."""
    import benchmarks.small as small

    rounds = [small.cold_start("xgboost", 1, None, 300, False) for _ in range(2)]
    for r in rounds:
        assert "error" not in r, r
        # the process imports scikit-learn and XGBoost: CPU time well above nothing, and finite
        assert 0.1 < r["cpu_s"] < 1000 and 0 < r["train_s"]
    summary = small.summarize({"ours": rounds, "xgboost": rounds})
    assert summary["xgboost"]["cpu_s_median"] == pytest.approx(sum(r["cpu_s"] for r in rounds) / 2)
    assert f"CPU s (user + sys of the process, median of the rounds): ours {summary['ours']['cpu_s_median']:.2f}" \
        in small.table({"cold_start_warm_cache": summary})


def test_cold_start_times_numba_alone_as_its_floor():
    """The "numba alone" script of the cold-start row imports scikit-learn and Numba and runs one cached
    function (its sum of ten ones), in a fresh process, nothing of ours imported."""
    import benchmarks.small as small
    from benchmarks.numba_floor import numba_alone

    assert numba_alone() == 10.0
    result = small.cold_start("numba alone", 1, None, 300, False)
    assert "error" not in result, result
    assert 0.1 < result["cpu_s"] < 1000 and 0 < result["train_s"]
    script = small.COLD_SCRIPT.format(rows=1, library="numba alone", threads=1, trees=1, prefix="", ours_root=[])
    done = subprocess.run([sys.executable, "-c", script + "\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
                           "('bindings', 'gbdt', 'cluster')))"], cwd=small.ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def test_dask_benchmark_writes_the_synthetic_rows_to_parquet(tmp_path):
    """``benchmarks.dask --parquet``'s files hold the generator's rows, file by file, as float32 features
    and a float64 label, in row groups of at most ROWS_PER_GROUP rows."""
    pq = pytest.importorskip("pyarrow.parquet")
    from benchmarks import dask as dask_benchmark
    from benchmarks.synthetic import binary_task

    names = dask_benchmark.write_parquet(str(tmp_path), 1234, 3)
    files = sorted(tmp_path.glob("*.parquet"))
    assert len(files) == 3 and names == [f"f{j}" for j in range(28)]
    tables = [pq.read_table(f) for f in files]
    assert sum(t.num_rows for t in tables) == 1234
    X0, y0 = binary_task(tables[0].num_rows, seed=1)
    np.testing.assert_array_equal(np.column_stack([tables[0][n].to_numpy() for n in names]), X0.astype(np.float32))
    np.testing.assert_array_equal(tables[0]["y"].to_numpy(), y0)
    assert tables[0].schema.field("f0").type == "float" and tables[0].schema.field("y").type == "double"
