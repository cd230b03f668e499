"""Training loop of :class:`bindings.multimodal.model.MultimodalNet`: mini-batches, modality dropout,
AdamW with warm-up, a tqdm progress bar, seeds and checkpoints (``np.savez``, no pickle).

A :class:`Trainer` owns the model, the optimizer and one random generator (shuffling and modality
dropout). A checkpoint stores all three, so ``Trainer.load(path).fit(data, 1)`` continues exactly where
``fit`` stopped: two epochs in one go equal one epoch, save, load, one epoch.
"""
import contextlib
import json

import numpy as np
from tqdm.auto import tqdm

try:  # optional: BLAS threads are only limited where threadpoolctl is installed
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

from bindings.multimodal.data import PairedData
from bindings.multimodal.model import MultimodalNet
from bindings.nn.optim import AdamW
from bindings.nn.transformer import named_gradients, named_parameters
from bindings.validation import check_int, check_n_jobs, check_number
from gbdt.threads import effective_threads, using_threads

__all__ = ["Trainer", "modality_dropout_masks"]


def modality_dropout_masks(n, probability, rng):
    """(text_present, image_present) (n,) bool: each sample loses its text with ``probability``, else
    its image with ``probability``, never both (so probability must be <= 0.5)."""
    u = rng.random(n)
    return ~(u < probability), ~((u >= probability) & (u < 2 * probability))


class Trainer:
    """Fits a model on :class:`PairedData` with AdamW, modality dropout and an optional contrastive term.

    batch_size : samples per step.  lr, weight_decay, warmup_steps : see :class:`AdamW`.
    modality_dropout : probability in [0, 0.5] of dropping each modality of a training sample.
    contrastive_weight : weight of the InfoNCE term (0: classification only).  seed : shuffling/dropout seed.
    n_jobs : numba and BLAS threads while fitting (None or -1: all cores; default 1: on matrices this small
    extra threads only contend; measured 19 ms per step on one thread against 205 ms on two on a busy two-core machine).
    After :meth:`fit`, ``history`` holds per-step "loss", "classification", "contrastive", "lr".
    """

    def __init__(self, model, *, batch_size=64, lr=3e-3, weight_decay=0.01, warmup_steps=20, modality_dropout=0.0,
                 contrastive_weight=0.0, seed=0, n_jobs=1):
        if not isinstance(model, MultimodalNet):
            raise TypeError(f"model must be a MultimodalNet, got {type(model).__name__}")
        batch_size = check_int(batch_size, "batch_size", low=2)
        # at most 0.5: text and image are never both dropped
        modality_dropout = check_number(modality_dropout, "modality_dropout", low=0.0, high=0.5)
        check_n_jobs(n_jobs)
        self.model = model
        self.settings = dict(batch_size=batch_size, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                             modality_dropout=modality_dropout, contrastive_weight=contrastive_weight, seed=seed,
                             n_jobs=n_jobs)
        self.optimizer = AdamW(named_parameters(model), lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps)
        self.rng = np.random.default_rng(seed)
        self.history = {"loss": [], "classification": [], "contrastive": [], "lr": []}

    def fit(self, data, epochs=1, *, progress=True, checkpoint_path=None):
        """Train for ``epochs`` passes over ``data`` (shuffled each epoch); returns self.

        progress : show a tqdm bar.  checkpoint_path : if given, :meth:`save` there after every epoch.
        """
        if not isinstance(data, PairedData):
            raise TypeError(f"data must be a PairedData, got {type(data).__name__}")
        n_jobs = self.settings["n_jobs"]
        blas = threadpool_limits(effective_threads(n_jobs)) if threadpool_limits else contextlib.nullcontext()
        with using_threads(n_jobs), blas:
            self._run_epochs(data, epochs, progress, checkpoint_path)
        return self

    def _run_epochs(self, data, epochs, progress, checkpoint_path):
        s = self.settings
        n, batch = len(data), s["batch_size"]
        steps_per_epoch = max(1, n // batch)  # a last partial batch is dropped: InfoNCE wants full batches
        params = self.optimizer.params
        contrastive = self.model.children["contrastive"]
        with tqdm(total=epochs * steps_per_epoch, disable=not progress, desc="multimodal", leave=False) as bar:
            for _ in range(epochs):
                order = self.rng.permutation(n)
                for start in range(0, steps_per_epoch * batch, batch):
                    idx = order[start: start + batch]
                    text_present, image_present = modality_dropout_masks(idx.size, s["modality_dropout"], self.rng)
                    self.history["lr"].append(self.optimizer.current_lr())
                    losses = self.model.loss_and_backward(
                        data.tokens[idx], data.mask[idx], data.images[idx], data.labels[idx],
                        text_present=text_present, image_present=image_present,
                        contrastive_weight=s["contrastive_weight"])
                    grads = named_gradients(self.model)
                    self.optimizer.step({name: grads[name] for name in params})
                    contrastive.clamp()
                    for key, value in losses.items():
                        self.history[key].append(value)
                    bar.set_postfix(loss=f"{losses['loss']:.3f}", refresh=False)
                    bar.update()
                if checkpoint_path is not None:
                    self.save(checkpoint_path)

    def save(self, path):
        """Write model parameters, optimizer state, generator state and settings to ``path`` (.npz)."""
        arrays = {f"param/{k}": v for k, v in named_parameters(self.model).items()}
        arrays.update({f"optim/{k}": v for k, v in self.optimizer.state_arrays().items()})
        meta = {"model": self.model.config, "trainer": self.settings, "rng": self.rng.bit_generator.state,
                "history": self.history}
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path):
        """A Trainer (with its model) restored from a checkpoint written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            model = MultimodalNet(**meta["model"])
            trainer = cls(model, **meta["trainer"])
            for name, value in named_parameters(model).items():
                value[...] = f[f"param/{name}"]
            trainer.optimizer.load_state_arrays({k[len("optim/"):]: f[k] for k in f.files if k.startswith("optim/")})
        trainer.rng.bit_generator.state = meta["rng"]
        trainer.history = meta["history"]
        return trainer
