"""Finite-difference gradient check shared by the multimodal tests."""
import numpy as np


def assert_gradients_match_finite_differences(loss, params, grads, rng, per_tensor=3, h=1e-6, tol=1e-6):
    """Central differences of ``loss()`` (float, float64 model) against ``grads`` for a few entries of
    every tensor in ``params`` (dict name -> array, perturbed in place and restored).

    ``grads`` must hold the analytic gradients at the unperturbed parameters (copies: loss() may
    overwrite the model's gradient arrays).
    """
    assert set(grads) == set(params), set(grads) ^ set(params)
    for name, p in params.items():
        for flat in rng.choice(p.size, size=min(per_tensor, p.size), replace=False):
            idx = np.unravel_index(flat, p.shape)
            keep = p[idx]
            p[idx] = keep + h
            up = loss()
            p[idx] = keep - h
            down = loss()
            p[idx] = keep
            numeric = (up - down) / (2 * h)
            assert abs(grads[name][idx] - numeric) <= tol * max(1.0, abs(numeric)), (name, idx, grads[name][idx], numeric)
