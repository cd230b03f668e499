"""Every command and snippet in README.md and docs/*.md runs as written.

The fenced ```python blocks of one file run in order in one fresh interpreter (later blocks use the
names of earlier ones), in a temporary directory so the files they write go nowhere; ```bash / ```sh
blocks run with ``bash -e`` in a temporary directory where ``examples/`` and ``benchmarks/`` are the
repository's, so ``python examples/x.py`` and ``python -m benchmarks.x`` resolve as in a clone.
Both see this checkout first on ``PYTHONPATH`` (the ``gbdt`` console script included).

A block preceded by ``<!-- no-test: why -->`` (installs, long benchmarks) is not run; its Python
must still compile and every script or module its commands name must exist, so a renamed file
cannot leave a stale command behind. ```text blocks are output and never run.
"""
import ast
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "ARCHITECTURE.md"]
RUNNABLE = {"python": "python", "bash": "shell", "sh": "shell"}
NO_TEST = re.compile(r"^<!--\s*no-test:\s*(?P<why>\S.*?)\s*-->$")
SNIPPET_TIMEOUT_S = 300  # a hang guard: the slowest page (logistic CV) takes ~60-120 s on a loaded 2-core machine


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the first code line
    kind: str  # "python" or "shell"
    code: str
    skip_reason: str | None

    @property
    def name(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path):
    """The runnable fenced blocks of one Markdown file, in order."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = re.match(r"^```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        kind = RUNNABLE.get(opening.group(1))
        if kind:
            previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = NO_TEST.match(previous)
            blocks.append(Block(path, i + 2, kind, "\n".join(lines[i + 1:end]) + "\n",
                                marker.group("why") if marker else None))
        i = end + 1
    return blocks


ALL_BLOCKS = [b for path in DOC_FILES if path.exists() for b in fenced_blocks(path)]
RUN_PYTHON = sorted({b.path for b in ALL_BLOCKS if b.kind == "python" and not b.skip_reason})
RUN_SHELL = [b for b in ALL_BLOCKS if b.kind == "shell" and not b.skip_reason]
SKIPPED = [b for b in ALL_BLOCKS if b.skip_reason]

# Runs each block in one namespace named __main__, so a block's `if __name__ == "__main__":` guard
# holds here while Dask's spawned worker processes, which re-import this file as __mp_main__, run nothing.
# Blank lines before each block make tracebacks give the Markdown file's line numbers.
RUNNER = """
import json, sys, time
if __name__ == "__main__":
    namespace = {"__name__": "__main__"}
    for path, line, code in json.load(open(sys.argv[1])):
        start = time.perf_counter()
        exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
        print(f"--- {path}:{line} ran in {time.perf_counter() - start:.1f} s", flush=True)
"""


def _environment():
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _run(args, cwd, what):
    done = subprocess.run(args, cwd=cwd, env=_environment(), capture_output=True, text=True,
                          timeout=SNIPPET_TIMEOUT_S)
    assert done.returncode == 0, f"{what} failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def _shell_dir(tmp_path):
    for name in ("examples", "benchmarks"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


@pytest.mark.parametrize("path", RUN_PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_snippets_run_in_order(path, tmp_path):
    blocks = [(str(b.path), b.line, b.code) for b in ALL_BLOCKS
              if b.path == path and b.kind == "python" and not b.skip_reason]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "runner.py").write_text(RUNNER)
    _run([sys.executable, "runner.py", "blocks.json"], tmp_path, f"the Python blocks of {path.name}")


@pytest.mark.parametrize("block", RUN_SHELL, ids=lambda b: b.name)
def test_shell_commands_run(block, tmp_path):
    _run(["bash", "-euo", "pipefail", "-c", block.code], _shell_dir(tmp_path), block.name)


def _named_targets(command):
    """(scripts, modules) that shell code runs with ``python path.py`` / ``python -m module``."""
    scripts, modules = [], []
    for line in command.splitlines():
        words = [""]
        for token in shlex.shlex(line, posix=True, punctuation_chars=True):  # drops # comments
            if token in (";", "&&", "||", "|", "&"):
                words.append("")
            else:
                words[-1] += " " + token
        for simple in words:
            argv = simple.split()
            if len(argv) >= 3 and argv[0] in ("python", "python3") and argv[1] == "-m":
                modules.append(argv[2])
            elif len(argv) >= 2 and argv[0] in ("python", "python3") and argv[1].endswith(".py"):
                scripts.append(argv[1])
    return scripts, modules


@pytest.mark.parametrize("block", SKIPPED, ids=lambda b: b.name)
def test_blocks_not_run_still_name_real_code(block):
    if block.kind == "python":
        ast.parse(block.code, filename=block.name)
        return
    scripts, modules = _named_targets(block.code)
    for script in scripts:
        assert (ROOT / script).is_file(), f"{block.name} runs {script}, which does not exist"
    for module in modules:
        if module in ("pip", "pytest"):
            continue
        top = module.split(".")[0]
        assert (ROOT / top).is_dir() or importlib.util.find_spec(top), f"{block.name}: no module {module}"
        assert importlib.util.find_spec(module) is not None, f"{block.name} runs -m {module}, which does not exist"


def test_markdown_links_point_at_files():
    """Relative links in the README and docs name files that exist (anchors and URLs are not followed)."""
    for path in DOC_FILES:
        if not path.exists():
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            assert (path.parent / target.split("#")[0]).exists(), f"{path.name} links to missing {target}"


def test_parameters_page_lists_every_parameter_and_alias():
    """docs/parameters.md has a table row for every training parameter, naming its aliases."""
    from bindings.params import ALIASES, DEFAULTS

    rows = {line.split("|")[1].strip(): line for line in (ROOT / "docs" / "parameters.md").read_text().splitlines()
            if line.startswith("| `")}
    assert set(DEFAULTS) <= {name.strip("`") for name in rows}, set(DEFAULTS) - {name.strip("`") for name in rows}
    for alias, name in ALIASES.items():
        assert f"`{alias}`" in rows[f"`{name}`"].split("|")[2], f"the row of {name} lacks its alias {alias}"


def test_readme_is_a_front_door_with_the_ci_commands():
    """The README stays under 200 lines, and its test command is what .ci/run runs."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    ci = (ROOT / ".ci" / "run").read_text()
    ci_commands = [line.strip() for line in ci.splitlines()
                   if re.match(r"\s*python -m (pip install -e|pip install --no-deps|pytest)", line)]
    assert len(ci_commands) == 3, ci_commands
    for command in ci_commands:
        assert command in readme, f"the README's test command lacks `{command}` that .ci/run runs"
