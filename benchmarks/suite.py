"""Benchmark suite: this engine, XGBoost, LightGBM and scikit-learn HGB side by side.

Same data, trees, depth, bins and threads for every library (XGBoost with tree_method="hist",
scikit-learn's HistGradientBoosting).

    python -m benchmarks                      # every task at full size, all usable cores
    python -m benchmarks --quick --threads 2  # every task shrunk (CI-sized)
    python -m benchmarks --tasks binary,wide --trees 50 --depth 6
    python -m benchmarks --scaling 1,2,4,8,16 # train time against threads (figure)
    python -m benchmarks --tasks small        # small and medium data, a grid search, the cold start
    python -m benchmarks --tasks binary --tree-method exact   # XGBoost's exact method, ours and XGBoost's

Each (library, task) runs in a fresh process (``benchmarks.child``) so that its peak memory is its
own; thread pools are sized in that process's environment before any import, and OpenMP threads
(of every library: Numba's omp layer, XGBoost, LightGBM, scikit-learn) wait passively by default.
Spinning waits starve when the cores are shared: 20k x 28, 20 trees, 2 threads on this 2-core
machine under load ~8 took 24.5 s for us (0.6 s on 1 thread), 2-5 s for XGBoost; with
OMP_WAIT_POLICY=PASSIVE 0.65 s and 0.26 s. ``--omp-wait-policy active`` suits an idle machine.

Before the first child, this process fits our engine on a tiny sample so that the Numba on-disk
cache is warm; that compile time, and a fresh process's first fit with the warm cache (cold start), are reported apart.
Prints one table per task (peer seconds over ours: above 1 we are faster) and saves JSON and a
figure with machine info under benchmarks/results/. ``main(argv)`` is the entry point.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from benchmarks import report
from benchmarks.child import PREFIX
from benchmarks.machine import machine_info, usable_cores
from benchmarks.peers import (DEFAULT_LIBRARIES, LIBRARIES, OUR_VARIANTS, TREE_METHODS, Setting, installed,
                              timed_fit_predict)
from benchmarks.tasks import TASKS, available_memory_bytes, score

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
QUICK_TREES, QUICK_DEPTH = 20, 6
COLD_START_ROWS = 1000


def parse_args(argv, prog="python -m benchmarks"):
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", help=f"comma-separated, from {','.join(TASKS)} (default: all; binary with --scaling); "
                                    "or 'small': small and medium data, a grid search and the cold start "
                                    "(benchmarks.small)")
    ap.add_argument("--baseline", type=Path, help="with --tasks small: also time our engine from this checkout")
    ap.add_argument("--small-rows", help="with --tasks small: comma-separated rows to run (default: all)")
    ap.add_argument("--libraries", default=",".join(DEFAULT_LIBRARIES),
                    help=f"comma-separated, from {','.join(LIBRARIES)} (default: {','.join(DEFAULT_LIBRARIES)})")
    ap.add_argument("--quick", action="store_true", help="shrink every task; 20 trees, depth 6 unless given")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every task's rows by this")
    ap.add_argument("--threads", type=int, default=usable_cores(), help="threads for every library")
    ap.add_argument("--trees", type=int, help="boosting rounds (default 100, 20 with --quick)")
    ap.add_argument("--depth", type=int, help="tree depth (default 8, 6 with --quick)")
    ap.add_argument("--bins", type=int, default=256)
    ap.add_argument("--split-mode", default="auto", choices=["auto", "data", "feature"], help="ours only")
    ap.add_argument("--tree-method", default="hist", choices=TREE_METHODS,
                    help="split finding (XGBoost's names); exact and approx run ours and XGBoost only, and "
                         "exact ignores --bins")
    ap.add_argument("--repeats", type=int, default=1,
                    help="rounds of fresh runs, every library once per round; the fastest run is kept and, "
                         "from 2, the median over rounds of each library's time over ours in the same round")
    ap.add_argument("--scaling", help="comma-separated thread counts: train time against threads instead")
    ap.add_argument("--omp-wait-policy", default="passive", choices=["passive", "active", "default"],
                    help="OMP_WAIT_POLICY of every library's process (default passive: see the module docstring)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds one measuring process may take")
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON and the figure")
    args = ap.parse_args(argv)
    if args.tasks == "small":
        args.libraries = _names(ap, args.libraries, LIBRARIES, "--libraries")
        return args
    args.tasks = _names(ap, args.tasks or ("binary" if args.scaling else ",".join(TASKS)), TASKS, "--tasks")
    args.libraries = _names(ap, args.libraries, LIBRARIES, "--libraries")
    if args.trees is None:
        args.trees = QUICK_TREES if args.quick else 100
    if args.depth is None:
        # scikit-learn splits nodes in Python: 2^8-leaf trees on small data would dominate a quick run
        args.depth = QUICK_DEPTH if args.quick else 8
    for name in ("threads", "trees", "depth", "bins", "repeats"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if not 2 <= args.bins <= 256:
        ap.error(f"--bins must be in [2, 256] (scikit-learn's limit), got {args.bins}")
    if not args.scale > 0:
        ap.error(f"--scale must be > 0, got {args.scale}")
    if args.scaling is not None:
        try:
            args.scaling = sorted({int(t) for t in args.scaling.split(",") if t.strip()})
        except ValueError:
            ap.error(f"--scaling must be comma-separated integers such as 1,2,4, got {args.scaling!r}")
        if not args.scaling or args.scaling[0] < 1:
            ap.error(f"--scaling needs thread counts >= 1, got {args.scaling}")
    return args


def _names(ap, text, known, option):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        ap.error(f"{option}: unknown {unknown or 'empty list'}; choose from {','.join(known)}")
    return names


def _setting(args, task, threads):
    return Setting(task.objective, args.trees, args.depth, args.bins, threads, n_classes=task.n_classes,
                   split_mode=args.split_mode, tree_method=args.tree_method)


def run_child(library, setting, data_dir, timeout, wait_policy="passive"):
    """Fit and predict ``library`` on the data in ``data_dir`` in a fresh process, with OpenMP's
    ``wait_policy`` ("default": the environment's).

    Returns (result dict of ``benchmarks.child``, predictions) or ({"error": why}, None).
    """
    pred_path = Path(data_dir) / f"pred_{library}.npy"
    spec_path = Path(data_dir) / f"spec_{library}.json"
    spec_path.write_text(json.dumps({"library": library, "setting": asdict(setting), "data": str(data_dir),
                                     "pred": str(pred_path)}))
    threads = str(setting.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "NUMBA_NUM_THREADS": threads,
           "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if wait_policy != "default":
        env["OMP_WAIT_POLICY"] = wait_policy.upper()
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks.child", str(spec_path)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}, None
    lines = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"error": tail}, None
    return json.loads(lines[-1][len(PREFIX):]), np.load(pred_path)


def interleaved_runs(libraries, setting, data_dir, args):
    """{library: [(result, predictions), ...]} of ``args.repeats`` rounds, each round running every
    library once in turn in a fresh process, so that a slow phase of a shared machine slows every
    library of that round rather than all runs of one library. A library that fails is not run
    again: its last entry is ``({"error": ...}, None)``."""
    runs = {library: [] for library in libraries}
    for _ in range(args.repeats):
        for library in libraries:
            if not runs[library] or runs[library][-1][1] is not None:
                runs[library].append(run_child(library, setting, data_dir, args.timeout, args.omp_wait_policy))
    return runs


def fastest(runs):
    """(result, predictions) of the fastest (by train seconds) of a library's runs, with the fastest
    predict of any of them; the error when one failed."""
    if runs[-1][1] is None:
        return runs[-1]
    result, pred = min(runs, key=lambda run: run[0]["train_s"])
    return {**result, "predict_s": min(r["predict_s"] for r, _ in runs)}, pred


def save_task_data(task, quick, scale, folder):
    """Draw ``task``'s data into ``folder`` as .npy; returns (y_test, rows, test_rows)."""
    X, y, X_test, y_test = task.make(quick, scale)
    for name, array in (("X", X), ("y", y), ("X_test", X_test)):
        np.save(Path(folder) / f"{name}.npy", array)
    return y_test, X.shape[0], X_test.shape[0]


def warm_up(args, tasks, libraries):
    """Fit and predict with our engine (each of its variants in ``libraries``) on 1000 rows of each
    objective's task with each split mode in this process, so that the children load compiled
    kernels from the Numba cache: with the compiled grower, and with ``args.threads`` threads
    where a task's fits use them (enough cells for ``gbdt.threads.fit_threads``, enough rows for
    a threaded prediction), else one thread's kernels would be all that is warm. Returns seconds."""
    from bindings.warmup import compiled_growth
    from gbdt.threads import SERIAL_FIT_CELLS, SERIAL_PREDICT_ROWS

    start = time.perf_counter()
    one_per_objective = {task.objective: task for task in tasks}  # kernels are compiled per objective
    for task in one_per_objective.values():
        full_rows, _ = task.sizes(args.quick, args.scale)
        threaded = args.threads > 1 and full_rows * task.features >= SERIAL_FIT_CELLS
        rows = max(COLD_START_ROWS, SERIAL_FIT_CELLS // task.features + 1) if threaded else COLD_START_ROWS
        X, y, X_test, _ = task.make(quick=True, scale=rows / task.quick_rows)
        X_test = np.tile(X_test, (-(-SERIAL_PREDICT_ROWS // X_test.shape[0]), 1))  # a threaded prediction too
        for name in sorted(OUR_VARIANTS & set(libraries)):
            if task.objective not in LIBRARIES[name].objectives:
                continue
            for mode in ("data", "feature"):
                with compiled_growth():
                    timed_fit_predict(name, X, y, X_test, replace(_setting(args, task, args.threads), trees=2,
                                                                   split_mode=mode))
    return time.perf_counter() - start


def cold_start(args):
    """Import + first fit of our engine on 1000 binary rows in a fresh process (warm Numba cache)."""
    task = TASKS["binary"]
    with tempfile.TemporaryDirectory(prefix="gbdt-bench-") as folder:
        save_task_data(task, True, COLD_START_ROWS / task.quick_rows, folder)
        result, _ = run_child("ours", replace(_setting(args, task, args.threads), trees=10), folder, args.timeout,
                              args.omp_wait_policy)
    return result


def select_tasks(args, notes):
    """The requested tasks that fit in the available memory; a note for each one skipped."""
    free = available_memory_bytes()
    chosen = []
    for name in args.tasks:
        need = TASKS[name].memory_bytes(args.quick, args.scale)
        if free is not None and need > free:
            notes.append(f"task {name} skipped: needs ~{need / 2 ** 30:.1f} GiB, {free / 2 ** 30:.1f} GiB available")
        else:
            chosen.append(TASKS[name])
    return chosen


def select_libraries(args, notes):
    chosen = [lib for lib in args.libraries if installed(lib)]
    notes.extend(f"{lib} not installed: left out" for lib in args.libraries if lib not in chosen)
    without = [lib for lib in chosen if args.tree_method not in LIBRARIES[lib].tree_methods]
    notes.extend(f"{lib} has no tree_method={args.tree_method!r}: left out" for lib in without)
    return [lib for lib in chosen if lib not in without]


def run_task(args, task, libraries, threads_list):
    """{threads: {library: result}} for one task; every library runs on the same saved data."""
    by_threads = {}
    libraries = [lib for lib in libraries if task.objective in LIBRARIES[lib].objectives]
    with tempfile.TemporaryDirectory(prefix="gbdt-bench-") as folder:
        y_test, rows, test_rows = save_task_data(task, args.quick, args.scale, folder)
        for threads in threads_list:
            runs = interleaved_runs(libraries, _setting(args, task, threads), folder, args)
            results = {}
            for lib in libraries:
                result, pred = fastest(runs[lib])
                if pred is not None:
                    result["metric"] = score(task, y_test, pred)
                    result["train_s_rounds"] = [r["train_s"] for r, _ in runs[lib]]
                results[lib] = result
            report.add_ratios(results)
            by_threads[threads] = report.add_paired_ratios(results, {lib: [r for r, _ in runs[lib]] for lib in runs})
    return by_threads, rows, test_rows


def _header(task, rows, test_rows):
    return {"description": task.description, "objective": task.objective, "rows": rows, "test_rows": test_rows,
            "features": task.features, "n_classes": task.n_classes, "missing": task.missing, "metric": task.metric}


def _payload(args, notes):
    setting = {k: getattr(args, k) for k in ("trees", "depth", "bins", "threads", "split_mode", "tree_method", "quick",
                                             "scale", "repeats", "omp_wait_policy")}
    return {"machine": machine_info(), "setting": setting, "notes": notes, "tasks": {}}


def run_suite(args):
    """Every task at ``args.threads``: tables printed, JSON and figure saved; returns the payload."""
    notes = []
    tasks, libraries = select_tasks(args, notes), select_libraries(args, notes)
    payload = _payload(args, notes)
    if "ours" in libraries:
        payload["compile_s"] = warm_up(args, tasks, libraries)
        payload["cold_start"] = cold_start(args)
        cold = payload["cold_start"]
        print(f"ours: warm-up fits in this process (compiling unless the Numba cache is warm) "
              f"{payload['compile_s']:.1f} s; fresh process with a warm cache: " +
              (f"import {cold['import_s']:.1f} s + first fit on {COLD_START_ROWS} rows {cold['train_s']:.2f} s"
               if "error" not in cold else f"failed: {cold['error']}"))
    bins = "every distinct value (exact)" if args.tree_method == "exact" else f"{args.bins} bins"
    method = "" if args.tree_method == "hist" else f"tree_method={args.tree_method}, "
    print(f"{method}{args.trees} trees, depth {args.depth}, {bins}, {args.threads} threads; "
          f"ratios are peer seconds / ours (> 1: we are faster)")
    for task in tasks:
        by_threads, rows, test_rows = run_task(args, task, libraries, [args.threads])
        payload["tasks"][task.name] = {**_header(task, rows, test_rows), "results": by_threads[args.threads]}
        title = f"\n{task.description}: {rows} train rows, {test_rows} test rows"
        print(report.task_table(title, task.metric, by_threads[args.threads]), flush=True)
    name = "suite" if args.tree_method == "hist" else f"suite-{args.tree_method}"
    return _save(args, payload, name, report.suite_figure)


def run_scaling(args):
    """Train time of every library at each thread count of ``args.scaling`` (capped at the cores)."""
    notes = []
    wanted = args.scaling
    cores = usable_cores()
    threads_list = [t for t in wanted if t <= cores]
    if len(threads_list) < len(wanted):
        notes.append(f"thread counts {[t for t in wanted if t not in threads_list]} left out: "
                     f"this machine has {cores} usable cores")
    tasks, libraries = select_tasks(args, notes), select_libraries(args, notes)
    payload = _payload(args, notes)
    payload["threads"] = threads_list
    if OUR_VARIANTS & set(libraries):
        payload["compile_s"] = warm_up(args, tasks, libraries)
    for task in tasks:
        by_threads, rows, test_rows = run_task(args, task, libraries, threads_list)
        results = {lib: {str(t): by_threads[t][lib] for t in threads_list} for lib in libraries}
        payload["tasks"][task.name] = {**_header(task, rows, test_rows), "results": results}
        print(f"\n{task.description}: {rows} train rows; train s by threads")
        print(f"{'library':10s}" + "".join(f"{t:>9d}" for t in threads_list))
        for lib, runs in results.items():
            print(f"{lib:10s}" + "".join(f"{runs[str(t)].get('train_s', float('nan')):9.2f}" for t in threads_list))
    return _save(args, payload, "scaling", report.scaling_figure)


def _save(args, payload, name, figure):
    for note in payload["notes"]:
        print(f"note: {note}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from bindings.model_format import write_json_atomic

    write_json_atomic(out / f"{name}.json", payload)
    path = figure(payload, out / f"{name}.png")
    print(f"results: {out / f'{name}.json'}; figure: {path}")
    return payload


def main(argv=None, prog="python -m benchmarks"):
    """Run the suite (or the thread scaling with ``--scaling``) for command-line ``argv`` (default
    sys.argv[1:]); ``prog`` names the command in help and errors. Returns the saved payload."""
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    if args.tasks == "small":
        from benchmarks.small import run_small

        return run_small(args)
    return run_scaling(args) if args.scaling else run_suite(args)
