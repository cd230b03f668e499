"""Timing a fit on a machine that others may share: the fastest of a few repeats."""
import time


def fastest_of(fit, repeats):
    """(fastest seconds, result of the last call) over ``repeats`` calls of ``fit()``."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        best = min(best, time.perf_counter() - start)
    return best, result
