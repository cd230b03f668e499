"""Benchmarks against XGBoost, LightGBM and scikit-learn, measured side by side in one process."""
