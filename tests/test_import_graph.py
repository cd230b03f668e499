"""The import graph of the three packages, read from the source (imports inside functions too):
no cycles, and the layer rule of ARCHITECTURE.md (gbdt imports neither bindings nor cluster;
bindings does not import cluster)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gbdt", "bindings", "cluster")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports(name, path, modules):
    """Project modules that module ``name`` (at ``path``) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from package import name``: the submodule ``name`` where there is one, else the package
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        out.update(t for t in targets if t in modules and t != name)
    return out


GRAPH = {name: _imports(name, path, _modules()) for name, path in _modules().items()}


def _cycle_through(start):
    """A list of modules from ``start`` back to it along imports, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(GRAPH[node]):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def test_graph_sees_the_known_imports():
    """The parser finds what the modules import (else the checks below could not fail)."""
    assert {"bindings.dataset", "bindings.categorical", "bindings.features"} <= GRAPH["bindings.booster"]
    assert "bindings.boosting" in GRAPH["cluster.shard"] and "gbdt.objectives" in GRAPH["bindings.objectives"]


def test_no_import_cycles():
    cycles = [" -> ".join(cycle) for cycle in map(_cycle_through, sorted(GRAPH)) if cycle is not None]
    assert cycles == []


def test_layers_import_downward_only():
    upward = [(m, t) for m, targets in GRAPH.items() for t in targets
              if (m.startswith("gbdt") and not t.startswith("gbdt")) or (m.startswith("bindings")
                                                                         and t.startswith("cluster"))]
    assert upward == []
