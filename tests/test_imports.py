"""Every module of gbdt, bindings and cluster imports on its own, as the first module of ours a program
imports: no import cycle depends on which module comes first, and no import is broken. And the layers'
dependency rule holds: gbdt imports the standard library, numpy and numba only; bindings never imports
cluster; nothing imports upward."""
import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gbdt", "bindings", "cluster")

# One interpreter for all modules (a process each would take minutes): before each import every module of
# ours leaves sys.modules, so the module runs first among ours while numpy, numba and dask stay loaded.
SCRIPT = r"""
import importlib, json, pkgutil, sys, traceback
PACKAGES = ("gbdt", "bindings", "cluster")
ABOVE = {"gbdt": ("bindings", "cluster"), "bindings": ("cluster",), "cluster": ()}
names = []
for package in PACKAGES:
    names += [package] + [info.name for info in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                                                      package + ".")]
failures, upward = {}, {}
for name in names:
    for loaded in [m for m in sys.modules if m.split(".")[0] in PACKAGES]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failures[name] = traceback.format_exc(limit=4)
        continue
    above = sorted(m for m in sys.modules if m.split(".")[0] in ABOVE[name.split(".")[0]])
    if above:
        upward[name] = above
print(json.dumps({"modules": names, "failures": failures, "upward": upward}))
"""


def test_every_module_imports_first_without_cycles_or_upward_imports():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
             for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    assert set(report["modules"]) == files, "pkgutil's walk must reach every module file"
    assert report["failures"] == {}, "\n".join(report["failures"].values())
    assert report["upward"] == {}


def test_gbdt_imports_the_standard_library_numpy_and_numba_only():
    allowed = set(sys.stdlib_module_names) | {"numpy", "numba", "llvmlite", "gbdt"}  # llvmlite: numba's backend
    outside = {}
    for path in (ROOT / "gbdt").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops = {node.module.split(".")[0]}
            else:
                continue
            if tops - allowed:
                outside[str(path.relative_to(ROOT))] = sorted(tops - allowed)
    assert outside == {}
