"""Benchmarks against XGBoost, LightGBM and scikit-learn, measured side by side in one run
(``python -m benchmarks``; see benchmarks.suite)."""
