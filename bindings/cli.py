"""The ``gbdt`` command line: ``train``, ``predict``, ``bench`` and ``warmup`` sub-commands.

Data files: CSV (``.csv``, ``.tsv``; read with pyarrow.csv), Parquet (``.parquet``, ``.pq``) and
LibSVM text (``.svm``, ``.libsvm``, ``.txt``: ``label idx:val ...``; indices are 0-based column
numbers, as XGBoost reads them; absent entries are zeros). ``--format`` overrides the extension.
For CSV and Parquet the label is the column named by ``--label`` (default ``label``, else the
first column). Parameters come from a TOML or JSON ``--config`` file (flat keys: training
parameters plus ``num_boost_round`` and ``early_stopping_rounds``); flags override the file.

    gbdt train train.csv --config params.toml --set max_depth=4 --valid valid.csv -o model.json
    gbdt predict model.json test.csv -o predictions.csv
    gbdt bench --rows 200000 --features 28 --rounds 50
    gbdt warmup    # once after install: compile the common paths into Numba's cache (bindings.warmup)
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bindings.booster import Booster
from bindings.callbacks import TrainingCallback
from bindings.dataset import Dataset
from bindings.train import train
from bindings.validation import check_positive_int

__all__ = ["main", "build_parser", "read_libsvm", "read_data", "ProgressBar"]

FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".svm": "libsvm",
           ".libsvm": "libsvm", ".txt": "libsvm"}
RUN_KEYS = {"num_boost_round": "num_boost_round", "num_round": "num_boost_round",
            "early_stopping_rounds": "early_stopping_rounds"}


class UsageError(Exception):
    """A problem with the command line, the files or the data, reported as one line on stderr."""


# ----- reading data --------------------------------------------------------------------------
def read_libsvm(path, n_features=None):
    """(CSR features (n, F), labels (n,)) from LibSVM text ``label idx:val ...`` (``#`` comments).

    ``n_features``: at least this many columns (a model's feature count at predict time).
    """
    import scipy.sparse

    lines = [line.split("#", 1)[0] for line in Path(path).read_text().splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise UsageError(f"{path}: no data lines")
    nnz = np.array([line.count(":") for line in lines], dtype=np.int64)
    try:
        numbers = np.array(" ".join(lines).replace(":", " ").split(), dtype=np.float64)
    except ValueError as exc:
        raise UsageError(f"{path}: not LibSVM text (label idx:val ...; qid is not supported): {exc}") from None
    starts = np.r_[0, np.cumsum(1 + 2 * nnz)[:-1]]
    if numbers.size != int((1 + 2 * nnz).sum()):
        raise UsageError(f"{path}: every entry after the label must be idx:val")
    is_label = np.zeros(numbers.size, dtype=np.bool_)
    is_label[starts] = True
    pairs = numbers[~is_label]
    index, values = pairs[0::2], pairs[1::2]
    if index.size and (index.min() < 0 or not np.array_equal(index, np.floor(index))):
        raise UsageError(f"{path}: feature indices must be non-negative integers")
    width = max(int(index.max()) + 1 if index.size else 1, n_features or 0)
    X = scipy.sparse.csr_matrix((values, index.astype(np.int64), np.r_[0, np.cumsum(nnz)]),
                                shape=(len(lines), width))
    return X, numbers[starts]


def _read_table(path, fmt):
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    import pyarrow.csv as pcsv

    options = pcsv.ParseOptions(delimiter="\t") if Path(path).suffix == ".tsv" else None
    return pcsv.read_csv(path, parse_options=options)


def _label_column(table, label):
    if label is not None and label.lstrip("-").isdigit():
        return table.column_names[int(label)]
    if label is not None:
        if label not in table.column_names:
            raise UsageError(f"label column {label!r} not found; columns are {table.column_names}")
        return label
    return "label" if "label" in table.column_names else table.column_names[0]


def read_data(path, fmt=None, label=None, model=None):
    """(features, labels or None) from a data file.

    Training (``model`` None): the label column is required. Prediction: the model's feature
    names pick the columns when the file has them all; otherwise the label column, when there,
    is dropped and the remaining columns are the features.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: unknown file type {path.suffix!r}; pass --format csv|parquet|libsvm")
    if fmt == "libsvm":
        return read_libsvm(path, None if model is None else model.num_feature)
    table = _read_table(path, fmt)
    names = model.feature_names if model is not None else None
    if names and all(name in table.column_names for name in names):
        target = label if label in table.column_names else None
        return table.select(names), _label_values(table, target)
    if model is not None and table.num_columns == model.num_feature:
        return table, None  # no label column: every column is a feature
    target = _label_column(table, label)
    return table.drop_columns([target]), _label_values(table, target)


def _label_values(table, name):
    if name is None:
        return None
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


# ----- parameters ------------------------------------------------------------------------------
def _parse_value(text):
    """A --set value: JSON when it parses (numbers, true/false, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load_config(path):
    """Flat dict from a TOML (``.toml``) or JSON file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            with open(path, "rb") as fh:
                config = tomllib.load(fh)
        else:
            config = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such config file") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors
        raise UsageError(f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(config, dict):
        raise UsageError(f"{path}: the config must be a table/object of parameters")
    return config


def training_settings(args):
    """(params, num_boost_round, early_stopping_rounds): config file < flags."""
    config = load_config(args.config) if args.config else {}
    run = {"num_boost_round": 100, "early_stopping_rounds": None}
    params = {}
    for key, value in config.items():
        if key in RUN_KEYS:
            run[RUN_KEYS[key]] = value
        else:
            params[key] = value
    for item in args.set or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        params[key] = _parse_value(value)
    if args.objective is not None:
        params["objective"] = args.objective
    if args.threads is not None:
        params["n_jobs"] = args.threads
    for key in ("num_boost_round", "early_stopping_rounds"):
        if getattr(args, key) is not None:
            run[key] = getattr(args, key)
    return params, int(run["num_boost_round"]), run["early_stopping_rounds"]


# ----- progress --------------------------------------------------------------------------------
class ProgressBar(TrainingCallback):
    """A tqdm bar over the boosting rounds, showing the latest evaluation results."""

    def __init__(self, total, disable=False, file=None):
        self.total, self.disable, self.file = total, disable, file
        self.bar = None

    def before_training(self, booster):
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, unit="round", disable=self.disable, file=self.file or sys.stderr)
        return booster

    def after_iteration(self, booster, iteration, evals_log):
        self.bar.update(1)
        if evals_log:
            self.bar.set_postfix({f"{d}-{m}": f"{v[-1]:.5g}" for d, ms in evals_log.items() for m, v in ms.items()},
                                 refresh=False)
        return False

    def after_training(self, booster):
        self.bar.close()
        return booster


# ----- sub-commands ----------------------------------------------------------------------------
def _say(args, text):
    if not args.quiet:
        print(text)


def cmd_train(args):
    params, rounds, early = training_settings(args)
    X, y = read_data(args.data, args.format, args.label)
    dtrain = Dataset(X, y)
    evals = []
    if args.valid:
        Xv, yv = read_data(args.valid, args.format, args.label)
        evals = [(Dataset(Xv, yv), "valid")]
    if early is not None and not evals:
        raise UsageError("--early-stopping-rounds needs --valid")
    start = time.perf_counter()
    booster = train(params, dtrain, rounds, evals=evals, early_stopping_rounds=early,
                    callbacks=[ProgressBar(rounds, disable=args.quiet)])
    seconds = time.perf_counter() - start
    booster.save_model(args.output)
    summary = f"trained {booster.num_boosted_rounds()} rounds on {dtrain.num_row} rows in {seconds:.2f} s"
    if booster.best_iteration is not None:
        summary += f"; best round {booster.best_iteration} (valid score {booster.best_score:.6g})"
    _say(args, f"{summary}; model written to {args.output}")
    return 0


def cmd_predict(args):
    booster = Booster.load_model(args.model)
    X, _ = read_data(args.data, args.format, args.label, model=booster)
    pred = booster.predict(X, output_margin=args.margin)
    out = sys.stdout if args.output in (None, "-") else open(args.output, "w")
    try:
        np.savetxt(out, pred.reshape(pred.shape[0], -1), fmt="%.17g", delimiter=",")
    finally:
        if out is not sys.stdout:
            out.close()
    if out is not sys.stdout:
        _say(args, f"{pred.shape[0]} predictions written to {args.output}")
    return 0


def cmd_bench(args):
    """Time Dataset + train and predict on a synthetic binary task (thresholds, a product, a sine)."""
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.rows, args.features))
    logit = 1.5 * (X[:, 0] > 0.3) - X[:, 1] * X[:, 2 % args.features] + np.sin(2 * X[:, 3 % args.features])
    y = (rng.random(args.rows) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    params = {"objective": "binary:logistic", "max_depth": 6, "max_bin": 256, "n_jobs": args.threads}
    train(params, Dataset(X[:500], y[:500]), 2)  # compile / load the kernels outside the timing
    start = time.perf_counter()
    booster = train(params, Dataset(X, y), args.rounds, callbacks=[ProgressBar(args.rounds, disable=args.quiet)])
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    booster.predict(X)
    predict_s = time.perf_counter() - start
    threads = "all" if args.threads is None else args.threads
    print(f"bench: {args.rows} rows x {args.features} features, {args.rounds} rounds, threads={threads}: "
          f"train {train_s:.3f} s ({train_s / max(args.rounds, 1) * 1e3:.1f} ms/round), "
          f"predict {predict_s:.3f} s ({args.rows / max(predict_s, 1e-9):.3g} rows/s)")
    return 0


def _positive_int(text):
    """argparse type: the text as an int >= 1 (argparse shows the message of an ArgumentTypeError only)."""
    try:
        return check_positive_int(int(text), "the value")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser():
    parser = argparse.ArgumentParser(prog="gbdt", description="Gradient-boosted trees: train, predict, bench.")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p):
        p.add_argument("--format", choices=sorted(set(FORMATS.values())), help="data format (default: by extension)")
        p.add_argument("--label", help="label column name or index for CSV/Parquet (default: 'label', else the first)")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    t = sub.add_parser("train", help="train a model and write it as JSON")
    t.add_argument("data", help="training data file")
    t.add_argument("-o", "--output", default="model.json", help="model path (default: model.json)")
    t.add_argument("--config", help="TOML or JSON file of parameters")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="a parameter (repeatable; overrides --config)")
    t.add_argument("--objective", help="shortcut for --set objective=...")
    t.add_argument("--num-boost-round", type=_positive_int, help="boosting rounds (default 100)")
    t.add_argument("--early-stopping-rounds", type=_positive_int, help="stop when --valid stalls this long")
    t.add_argument("--valid", help="validation data file (evaluated every round)")
    t.add_argument("--threads", type=_positive_int, help="threads (n_jobs)")
    data_options(t)
    t.set_defaults(run=cmd_train)

    p = sub.add_parser("predict", help="predict with a JSON model")
    p.add_argument("model", help="model written by 'gbdt train'")
    p.add_argument("data", help="data file (a label column, if present, is ignored)")
    p.add_argument("-o", "--output", help="CSV of predictions (default: stdout)")
    p.add_argument("--margin", action="store_true", help="raw margins instead of probabilities/values")
    data_options(p)
    p.set_defaults(run=cmd_predict)

    b = sub.add_parser("bench", help="time training and prediction on synthetic data")
    b.add_argument("--rows", type=_positive_int, default=100_000)
    b.add_argument("--features", type=_positive_int, default=28)
    b.add_argument("--rounds", type=_positive_int, default=20)
    b.add_argument("--threads", type=_positive_int, help="threads (default: all)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(run=cmd_bench)

    w = sub.add_parser("warmup", help="compile the common training and prediction paths once (after install)")
    w.set_defaults(run=cmd_warmup)
    return parser


def cmd_warmup(args):
    """``bindings.warmup.main`` with every path."""
    from bindings.warmup import main as warmup_main

    return warmup_main([])


def main(argv=None):
    """Run the command line; returns the exit status (0 ok, 1 bad data/parameters, 2 bad usage)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, ValueError, TypeError, OSError) as exc:
        print(f"gbdt {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
