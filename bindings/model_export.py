"""``Booster.save_model(path, format=...)``: the formats a model is written in and the checks
every format shares (a known format name, a path in an existing folder)."""
import os

from bindings.export_lightgbm import to_lightgbm_text
from bindings.export_xgboost import to_xgboost_json
from bindings.model_format import write_atomic, write_json_atomic
from bindings.validation import check_choice

__all__ = ["FORMATS", "save_model_as"]

# format name -> writer(booster, path); "json" is our own format (bindings.model_format)
WRITERS = {
    "json": lambda booster, path: write_json_atomic(path, booster.to_dict()),
    "xgboost": lambda booster, path: write_json_atomic(path, to_xgboost_json(booster)),
    "lightgbm": lambda booster, path: write_atomic(path, lambda fh: fh.write(to_lightgbm_text(booster))),
}
FORMATS = tuple(WRITERS)


def save_model_as(booster, path, format):
    """Write ``booster`` to ``path`` in ``format`` (one of ``FORMATS``), atomically. Raises
    ValueError for an unknown format (naming the closest one) or a folder that does not exist."""
    check_choice(format, "format", FORMATS)
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise ValueError(f"path {os.fspath(path)!r} is in the folder {folder!r}, which does not exist; create it first")
    WRITERS[format](booster, path)
