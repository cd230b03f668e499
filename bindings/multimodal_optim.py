"""AdamW (decoupled weight decay, Loshchilov & Hutter 2019) with linear warm-up, on named parameter arrays.

One step at learning rate lr_t = warm-up(step) multiplies each decayed parameter by (1 - lr_t * weight_decay)
and then takes the Adam step of :class:`bindings.transformer.Adam` with lr_t, which is exactly
``torch.optim.AdamW`` under a ``LambdaLR`` warm-up. The state (step, first and second moments) can be
exported as plain arrays for a checkpoint.
"""
import numbers

import numpy as np

from bindings.transformer import Adam, warmup_lr

__all__ = ["AdamW", "decay_matrices"]


def decay_matrices(name, value):
    """Default weight-decay rule: decay weight matrices and embeddings (ndim >= 2), not biases, norm gains,
    positions or scales (the usual practice, and CLIP's)."""
    return value.ndim >= 2 and not name.endswith("positions")


def _check_non_negative(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class AdamW:
    """AdamW over ``params`` (dict name -> array, updated in place).

    lr : peak learning rate.  betas, eps : Adam's.  weight_decay : decoupled decay factor per unit lr.
    warmup_steps : steps of linear warm-up from lr / warmup_steps to lr (0: none).
    decay : callable (name, array) -> bool choosing the decayed parameters (default :func:`decay_matrices`).
    """

    def __init__(self, params, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, warmup_steps=0,
                 decay=decay_matrices):
        self.lr = _check_non_negative(lr, "lr")
        self.weight_decay = _check_non_negative(weight_decay, "weight_decay")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, numbers.Integral) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
        self.warmup_steps = int(warmup_steps)
        self.params = params
        self.decayed = [name for name, value in params.items() if decay(name, value)]
        self._adam = Adam(params, betas=betas, eps=eps)
        self.step_count = 0

    def current_lr(self):
        """Learning rate of the next step."""
        return warmup_lr(self.step_count, self.lr, self.warmup_steps)

    def step(self, grads):
        """One update from ``grads`` (dict keyed like ``params``)."""
        missing = set(self.params) - set(grads)
        if missing:
            raise ValueError(f"grads lacks the parameters {sorted(missing)}")
        lr = self.current_lr()
        for name in self.decayed:
            self.params[name] *= self.params[name].dtype.type(1.0 - lr * self.weight_decay)
        self._adam.step(grads, lr)
        self.step_count += 1

    def state_arrays(self):
        """The optimizer state as a flat dict of arrays: "step", "m/<name>", "v/<name>"."""
        out = {"step": np.array(self.step_count)}
        out.update({f"m/{k}": v for k, v in self._adam._m.items()})
        out.update({f"v/{k}": v for k, v in self._adam._v.items()})
        return out

    def load_state_arrays(self, arrays):
        """Restore the state written by :meth:`state_arrays` (same parameter names)."""
        self.step_count = int(arrays["step"])
        self._adam._t = self.step_count
        for name in self.params:
            self._adam._m[name] = np.array(arrays[f"m/{name}"], np.float64)
            self._adam._v[name] = np.array(arrays[f"v/{name}"], np.float64)
