"""Python API of the engine: Dataset, Booster, train, scikit-learn estimators."""
