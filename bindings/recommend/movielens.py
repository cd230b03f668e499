"""Load the MovieLens "latest-small" data set (GroupLens, University of Minnesota).

The package ships its ratings.csv and movies.csv (links.csv and tags.csv are left out) with the data
set's README.txt in ``bindings/recommend/data/movielens-latest-small``, under GroupLens' licence: research
use, no endorsement, no commercial use, redistribution under the same terms (see that README.txt).
"""
import csv
from pathlib import Path

import numpy as np

__all__ = ["movielens_path", "load_movielens_ratings", "load_movielens_genres"]

DATA = Path(__file__).resolve().parent / "data" / "movielens-latest-small"


def movielens_path(root=None):
    """Folder of the data set: ``root`` (another copy of movielens-latest-small) or the one in the package."""
    return DATA if root is None else Path(root)


def load_movielens_ratings(root=None):
    """(user ids, movie ids, ratings, timestamps), each (100836,), from ratings.csv."""
    path = movielens_path(root) / "ratings.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; pass root= the movielens-latest-small folder")
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return (table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2],
            table[:, 3].astype(np.int64))


def load_movielens_genres(root=None):
    """(movie ids (n,), genre names (g,), 0/1 genre matrix (n, g)) from movies.csv."""
    path = movielens_path(root) / "movies.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; pass root= the movielens-latest-small folder")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    movie_ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
    genre_lists = [row[2].split("|") for row in rows]
    names = sorted({g for genres in genre_lists for g in genres})
    column = {g: c for c, g in enumerate(names)}
    matrix = np.zeros((len(rows), len(names)))
    for r, genres in enumerate(genre_lists):
        matrix[r, [column[g] for g in genres]] = 1.0
    return movie_ids, np.array(names), matrix
