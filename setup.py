"""Install the three import packages: gbdt (compiled kernels), bindings (Python API), cluster (Dask)."""
from setuptools import find_packages, setup

DEV = [
    "pytest>=7",
    "scikit-learn>=1.6",  # __sklearn_tags__ (estimator checks see the sparse/NaN tags)
    "xgboost>=3.1",  # its JSON model's vector base score, which format="xgboost" writes
    "lightgbm>=4.0",
    "pandas>=2.0",
    "scipy>=1.10",
    "statsmodels>=0.14",
    "matplotlib>=3.7",
    "torch==2.13.0",
    "implicit>=0.7",
    "mabwiser>=2.7",
    "scikit-surprise>=1.1",
    # the routes out of our models (docs/interop.md): ONNX, skl2onnx pipelines, SHAP, treelite
    "onnx>=1.15",
    "onnxruntime>=1.17",
    "skl2onnx>=1.16",
    "shap>=0.45",
    "treelite>=4.0",
    # runtime dependencies of obp, which .ci/run installs with --no-deps
    "seaborn>=0.12",
    "pyyaml>=6",
    "mypy-extensions>=1.0",
    "tqdm>=4.60",
]

setup(
    name="gbdt-engine",
    version="0.1.0",
    description="Numba-compiled histogram gradient boosting with Python bindings and Dask training",
    packages=find_packages(include=["gbdt", "gbdt.*", "bindings", "bindings.*", "cluster", "cluster.*"]),
    # MovieLens latest-small ships with its licence README (GroupLens allows redistribution under the same terms)
    package_data={"bindings.recommend": ["data/movielens-latest-small/*"]},
    python_requires=">=3.10",
    install_requires=[
        "numba>=0.60", "numpy>=1.24", "dask>=2024.1", "distributed>=2024.1", "pyarrow>=14",
        "tqdm>=4.60",  # progress bar of the `gbdt` command line
    ],
    entry_points={"console_scripts": ["gbdt = bindings.cli:main"]},
    extras_require={"dev": DEV, "bench": DEV + ["psutil"]},
)
