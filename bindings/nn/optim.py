"""Optimizers on named parameter arrays (dict name -> array, updated in place), gradient clipping and
learning-rate schedules, each equal to its torch counterpart step by step:

- :class:`Adam` (``torch.optim.Adam``: L2 weight decay added to the gradient, optional AMSGrad) and
  :class:`AdamW` (``torch.optim.AdamW``: decoupled weight decay, Loshchilov & Hutter 2019);
- :func:`clip_grad_norm_` (``torch.nn.utils.clip_grad_norm_``);
- :func:`lr_schedule`: linear warm-up followed by a constant rate, a linear decay, an inverse square root
  (Vaswani et al. 2017) or a cosine decay: a multiplier of the peak ``lr`` per step, as ``LambdaLR`` takes.

The learning rate of step ``t`` (0-based) is ``lr * schedule(t)``::

    opt = AdamW(named_parameters(model), lr=1e-3, schedule=lr_schedule("cosine", warmup_steps=100, total_steps=1000))
    for batch in batches:
        model.loss_and_backward(...)
        grads = named_gradients(model)
        clip_grad_norm_(grads, 1.0)
        opt.step(grads)

The state (step, first and second moments) can be exported as plain arrays for a checkpoint.
"""
import math

import numpy as np

from bindings.validation import check_choice, check_int, check_number

__all__ = ["Adam", "AdamW", "clip_grad_norm_", "lr_schedule", "decay_matrices"]

SCHEDULES = ("constant", "linear", "inverse_sqrt", "cosine")


def lr_schedule(kind="constant", *, warmup_steps=0, total_steps=None, min_ratio=0.0):
    """A learning-rate multiplier ``schedule(step) -> float`` for 0-based steps.

    Warm-up: ``(step + 1) / warmup_steps`` for the first ``warmup_steps`` steps (1 at the last), then by ``kind``,
    with ``s = step - warmup_steps`` and ``D = total_steps - warmup_steps``:

    - "constant": 1.
    - "linear": ``1 - (1 - min_ratio) * s / D``, down to ``min_ratio`` at ``total_steps`` and after.
    - "inverse_sqrt": ``sqrt(warmup_steps / (step + 1))`` (Vaswani et al.'s rate divided by its peak; needs warm-up).
    - "cosine": ``min_ratio + (1 - min_ratio) * (1 + cos(pi * s / D)) / 2``, ``min_ratio`` from ``total_steps`` on.

    Equal to torch's ``LinearLR`` warm-up chained (``SequentialLR``) with ``LinearLR`` / ``CosineAnnealingLR``.
    """
    check_choice(kind, "kind", SCHEDULES)
    warmup = check_int(warmup_steps, "warmup_steps", low=0)
    min_ratio = check_number(min_ratio, "min_ratio", low=0.0, high=1.0)
    if kind in ("linear", "cosine"):
        if total_steps is None or check_int(total_steps, "total_steps", low=1) <= warmup:
            raise ValueError(f'total_steps must be an integer > warmup_steps ({warmup}) for the "{kind}" schedule, '
                             f"got {total_steps!r}")
        decay_steps = total_steps - warmup
    if kind == "inverse_sqrt" and warmup == 0:
        raise ValueError('warmup_steps must be >= 1 for the "inverse_sqrt" schedule (its rate peaks there)')

    def schedule(step):
        if step < warmup:
            return (step + 1) / warmup
        if kind == "constant":
            return 1.0
        if kind == "inverse_sqrt":
            return math.sqrt(warmup / (step + 1))
        progress = min(step - warmup, decay_steps) / decay_steps
        if kind == "linear":
            return 1.0 - (1.0 - min_ratio) * progress
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return schedule


def clip_grad_norm_(grads, max_norm, norm_type=2.0):
    """Scale every gradient in place so that their joint ``norm_type``-norm is at most ``max_norm``.

    grads : dict name -> array (or an iterable of arrays), modified in place.  max_norm : float >= 0 or inf.
    norm_type : float >= 1 or ``inf``. Returns the total norm before clipping (float). As torch, the scale is
    ``min(1, max_norm / (total_norm + 1e-6))``.
    """
    if max_norm != math.inf:  # inf, as in torch: measure the norm, clip nothing
        max_norm = check_number(max_norm, "max_norm", low=0.0)
    norm_type = float(norm_type)
    if not norm_type >= 1.0:
        raise ValueError(f"norm_type must be a number >= 1 or inf, got {norm_type!r}")
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    if norm_type == math.inf:
        total = max((float(np.abs(g).max()) for g in arrays if g.size), default=0.0)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in arrays) ** (1.0 / norm_type)
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in arrays:
            g *= g.dtype.type(scale)
    return total


def decay_matrices(name, value):
    """Default weight-decay rule of :class:`AdamW`: decay weight matrices and embeddings (ndim >= 2), not
    biases, norm gains, positions or scales (the usual practice, and CLIP's)."""
    return value.ndim >= 2 and not name.endswith("positions")


def _decay_all(name, value):
    return True


class Adam:
    """Adam (Kingma & Ba 2015) over ``params`` (dict name -> array, updated in place), as ``torch.optim.Adam``.

    lr : peak learning rate.  betas, eps : Adam's.  weight_decay : L2 penalty added to the gradient
    (``g + weight_decay * p``) of the parameters ``decay`` selects.  amsgrad : use the running maximum of the
    second moment (Reddi et al. 2018).  schedule : callable step -> lr multiplier (:func:`lr_schedule`),
    None for a constant rate.  warmup_steps : shorthand for ``schedule=lr_schedule("constant", warmup_steps=...)``.
    decay : callable (name, array) -> bool choosing the decayed parameters (default: all, as torch).

    ``step(grads)`` takes the gradients keyed like ``params`` (e.g. :func:`named_gradients` of the model).
    """

    _decoupled = False

    def __init__(self, params, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 schedule=None, warmup_steps=0, decay=_decay_all):
        self.lr = check_number(lr, "lr", low=0.0)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(check_number(b, "betas", low=0.0, high=1.0, high_open=True) for b in betas)
        self.eps = check_number(eps, "eps", low=0.0)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0.0)
        self.amsgrad = bool(amsgrad)
        warmup_steps = check_int(warmup_steps, "warmup_steps", low=0)
        if schedule is not None and warmup_steps:
            raise ValueError("pass either schedule or warmup_steps (a shorthand for a warm-up schedule), not both")
        self.schedule = schedule if schedule is not None else lr_schedule("constant", warmup_steps=warmup_steps)
        if not callable(self.schedule):
            raise TypeError(f"schedule must be a callable step -> multiplier, got {type(schedule).__name__}")
        self.params = params
        self.decayed = [name for name, value in params.items() if decay(name, value)]
        self._m = {k: np.zeros(v.shape) for k, v in params.items()}
        self._v = {k: np.zeros(v.shape) for k, v in params.items()}
        self._v_max = {k: np.zeros(v.shape) for k, v in params.items()} if self.amsgrad else {}
        self.step_count = 0

    def current_lr(self):
        """Learning rate of the next step."""
        return self.lr * self.schedule(self.step_count)

    def step(self, grads):
        """One update from ``grads`` (dict keyed like ``params``)."""
        missing = set(self.params) - set(grads)
        if missing:
            raise ValueError(f"grads lacks the parameters {sorted(missing)}")
        lr = self.current_lr()
        self.step_count += 1
        b1, b2 = self.betas
        correction1 = 1.0 - b1 ** self.step_count
        correction2 = 1.0 - b2 ** self.step_count
        decayed = set(self.decayed) if self.weight_decay else set()
        for name, p in self.params.items():
            g = np.asarray(grads[name], np.float64)
            if name in decayed:
                if self._decoupled:
                    p *= p.dtype.type(1.0 - lr * self.weight_decay)
                else:
                    g = g + self.weight_decay * p
            m, v = self._m[name], self._v[name]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            if self.amsgrad:
                np.maximum(self._v_max[name], v, out=self._v_max[name])
                v = self._v_max[name]
            p -= (lr / correction1 * m / (np.sqrt(v) / math.sqrt(correction2) + self.eps)).astype(p.dtype)

    def state_arrays(self):
        """The optimizer state as a flat dict of arrays: "step", "m/<name>", "v/<name>" (and "v_max/<name>")."""
        out = {"step": np.array(self.step_count)}
        for prefix, moments in (("m", self._m), ("v", self._v), ("v_max", self._v_max)):
            out.update({f"{prefix}/{k}": v for k, v in moments.items()})
        return out

    def load_state_arrays(self, arrays):
        """Restore the state written by :meth:`state_arrays` (same parameter names)."""
        self.step_count = int(arrays["step"])
        for prefix, moments in (("m", self._m), ("v", self._v), ("v_max", self._v_max)):
            for name in moments:
                moments[name] = np.array(arrays[f"{prefix}/{name}"], np.float64)


class AdamW(Adam):
    """AdamW over ``params`` (dict name -> array, updated in place), as ``torch.optim.AdamW``: each decayed
    parameter is first multiplied by ``1 - lr_t * weight_decay``, then takes the Adam step.

    Parameters as :class:`Adam`, with ``weight_decay=0.01`` (torch's default) and ``decay`` defaulting to
    :func:`decay_matrices` (weight matrices only; pass ``decay=lambda name, value: True`` for torch's
    all-parameter decay).
    """

    _decoupled = True

    def __init__(self, params, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False,
                 schedule=None, warmup_steps=0, decay=decay_matrices):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         schedule=schedule, warmup_steps=warmup_steps, decay=decay)
