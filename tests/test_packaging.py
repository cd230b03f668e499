"""A wheel (a non-editable install) carries what the package reads at run time: the MovieLens data and its
licence README, which the recommender loader finds inside the installed package."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOVIELENS = "bindings/recommend/data/movielens-latest-small"


def test_wheel_ships_movielens_with_its_licence(tmp_path):
    source = tmp_path / "source"
    # build from a copy: an in-tree build would leave build/ and *.egg-info in the repository
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "tests", "examples", "benchmarks", "build",
                                                                "*.egg-info", "__pycache__", "*.nbi", "*.nbc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("README.txt", "ratings.csv", "movies.csv"):
        assert f"{MOVIELENS}/{name}" in names
    assert "bindings/recommend/movielens.py" in names
