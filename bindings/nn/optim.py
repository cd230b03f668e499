"""Optimizers on named parameter arrays (dict name -> array, updated in place): Adam, AdamW (decoupled
weight decay, Loshchilov & Hutter 2019) and a linear learning-rate warm-up.

One AdamW step at learning rate lr_t = warm-up(step) multiplies each decayed parameter by
(1 - lr_t * weight_decay) and then takes the :class:`Adam` step with lr_t, which is exactly
``torch.optim.AdamW`` under a ``LambdaLR`` warm-up. The state (step, first and second moments) can be
exported as plain arrays for a checkpoint.
"""
import numpy as np

from bindings.validation import check_int, check_number

__all__ = ["Adam", "AdamW", "warmup_lr", "decay_matrices"]


def warmup_lr(step, peak_lr, warmup_steps):
    """Linear warm-up from peak_lr / warmup_steps to peak_lr over ``warmup_steps`` steps, then constant."""
    if warmup_steps <= 0:
        return peak_lr
    return peak_lr * min(1.0, (step + 1) / warmup_steps)


class Adam:
    """Adam (Kingma & Ba) on a dict of parameter arrays, updated in place.

    step(grads, lr) with ``grads`` keyed like ``params`` (e.g. :func:`named_gradients` of the model).
    """

    def __init__(self, params, betas=(0.9, 0.999), eps=1e-8):
        self.params = params
        self.betas = betas
        self.eps = eps
        self._m = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
        self._v = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
        self._t = 0

    def step(self, grads, lr):
        self._t += 1
        b1, b2 = self.betas
        for name, p in self.params.items():
            g = grads[name]
            self._m[name] = b1 * self._m[name] + (1 - b1) * g
            self._v[name] = b2 * self._v[name] + (1 - b2) * g * g
            m_hat = self._m[name] / (1 - b1 ** self._t)
            v_hat = self._v[name] / (1 - b2 ** self._t)
            p -= (lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype)


def decay_matrices(name, value):
    """Default weight-decay rule: decay weight matrices and embeddings (ndim >= 2), not biases, norm gains,
    positions or scales (the usual practice, and CLIP's)."""
    return value.ndim >= 2 and not name.endswith("positions")


class AdamW:
    """AdamW over ``params`` (dict name -> array, updated in place).

    lr : peak learning rate.  betas, eps : Adam's.  weight_decay : decoupled decay factor per unit lr.
    warmup_steps : steps of linear warm-up from lr / warmup_steps to lr (0: none).
    decay : callable (name, array) -> bool choosing the decayed parameters (default :func:`decay_matrices`).
    """

    def __init__(self, params, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, warmup_steps=0,
                 decay=decay_matrices):
        self.lr = check_number(lr, "lr", low=0.0)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0.0)
        self.warmup_steps = check_int(warmup_steps, "warmup_steps", low=0)
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
