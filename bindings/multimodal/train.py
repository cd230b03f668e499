"""Training loop of :class:`bindings.multimodal.model.MultimodalNet`: mini-batches, modality dropout,
AdamW with warm-up and a constant or cosine schedule, gradient clipping, a validation split with
best-epoch selection and early stopping, a tqdm progress bar, seeds and checkpoints (``np.savez``, no pickle).

A :class:`Trainer` owns the model, the optimizer and one random generator (shuffling, modality
dropout, hard negatives). A checkpoint stores all three, so ``Trainer.load(path).fit(data, 1)`` continues
exactly where ``fit`` stopped: two epochs in one go equal one epoch, save, load, one epoch (without
validation data; with it every ``fit`` ends on its best epoch's parameters).
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
from bindings.nn.optim import AdamW, clip_grad_norm_, lr_schedule
from bindings.nn.transformer import named_gradients, named_parameters
from bindings.validation import check_choice, check_int, check_n_jobs, check_number
from gbdt.threads import effective_threads, using_threads

__all__ = ["Trainer", "modality_dropout_masks"]


def modality_dropout_masks(n, probability, rng):
    """(text_present, image_present) (n,) bool: each sample loses its text with ``probability``, else
    its image with ``probability``, never both (so probability must be <= 0.5)."""
    u = rng.random(n)
    return ~(u < probability), ~((u >= probability) & (u < 2 * probability))


class Trainer:
    """Fits a model on :class:`PairedData` with AdamW, modality dropout, contrastive and matching terms.

    batch_size : samples per step.  lr, weight_decay : peak learning rate and decoupled decay of :class:`AdamW`.
    warmup_steps : linear warm-up steps.  schedule : "constant" (warm-up, then lr) or "cosine" (warm-up, then
    cosine decay to ``min_lr`` at ``total_steps``; see :func:`bindings.nn.optim.lr_schedule`).
    total_steps : end of the cosine decay (None: the steps of the first :meth:`fit`).
    max_grad_norm : clip the global gradient norm to this (None: no clipping).
    modality_dropout : probability in [0, 0.5] of dropping each modality of a training sample.
    contrastive_weight : weight of the InfoNCE term.  itm_weight : weight of the image-text matching term
    (fusion="albef"; hard negatives drawn from the trainer's generator, never from the sample's
    :attr:`PairedData.groups`).  seed : shuffling/dropout seed.
    n_jobs : numba and BLAS threads while fitting (None or -1: all cores; default 1: on matrices this small
    extra threads only contend; measured 19 ms per step on one thread against 205 ms on two on a busy two-core machine).
    After :meth:`fit`, ``history`` holds per-step "loss", "classification", "contrastive", "itm", "lr",
    "grad_norm" (before clipping) and per-epoch "validation_loss"; ``best_epoch`` (1-based, counted over
    every fit) and ``best_validation_loss`` the epoch whose parameters the model holds.
    """

    def __init__(self, model, *, batch_size=64, lr=3e-3, weight_decay=0.01, warmup_steps=20, schedule="constant",
                 total_steps=None, min_lr=0.0, max_grad_norm=None, modality_dropout=0.0, contrastive_weight=0.0,
                 itm_weight=0.0, seed=0, n_jobs=1):
        if not isinstance(model, MultimodalNet):
            raise TypeError(f"model must be a MultimodalNet, got {type(model).__name__}")
        batch_size = check_int(batch_size, "batch_size", low=2)
        warmup_steps = check_int(warmup_steps, "warmup_steps", low=0)
        check_choice(schedule, "schedule", ("constant", "cosine"))
        if total_steps is not None:
            total_steps = check_int(total_steps, "total_steps", low=1)
        lr = check_number(lr, "lr", low=0.0, low_open=True)
        min_lr = check_number(min_lr, "min_lr", low=0.0, high=lr)
        if max_grad_norm is not None:
            max_grad_norm = check_number(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
        # at most 0.5: text and image are never both dropped
        modality_dropout = check_number(modality_dropout, "modality_dropout", low=0.0, high=0.5)
        contrastive_weight = check_number(contrastive_weight, "contrastive_weight", low=0.0)
        itm_weight = check_number(itm_weight, "itm_weight", low=0.0)
        if itm_weight > 0:
            model._require_itm_head()
        check_n_jobs(n_jobs)
        self.model = model
        self.settings = dict(batch_size=batch_size, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                             schedule=schedule, total_steps=total_steps, min_lr=min_lr, max_grad_norm=max_grad_norm,
                             modality_dropout=modality_dropout, contrastive_weight=contrastive_weight,
                             itm_weight=itm_weight, seed=seed, n_jobs=n_jobs)
        # the trainer sets the optimizer's lr before every step (its own warm-up stays off)
        self.optimizer = AdamW(named_parameters(model), lr=lr, weight_decay=weight_decay, warmup_steps=0)
        self.rng = np.random.default_rng(seed)
        self.history = {"loss": [], "classification": [], "contrastive": [], "itm": [], "lr": [], "grad_norm": [],
                        "validation_loss": []}
        self.epochs_done, self.best_epoch, self.best_validation_loss = 0, None, None
        self._best_params = None

    def learning_rate(self, step):
        """Learning rate of optimizer step ``step`` (0-based) under the schedule (set by :meth:`fit`)."""
        return self.settings["lr"] * self._lr_multiplier(step)

    def fit(self, data, epochs=1, *, validation_data=None, early_stopping_rounds=None, progress=True,
            checkpoint_path=None):
        """Train for ``epochs`` passes over ``data`` (shuffled each epoch); returns self.

        validation_data : PairedData scored after every epoch by the training loss (both modalities, no
        dropout; fixed-seed matching negatives), never trained on; the model ends holding the parameters of
        the epoch with the lowest validation loss.  early_stopping_rounds : stop once that many epochs pass
        without a new best (needs validation_data).  progress : show a tqdm bar.
        checkpoint_path : if given, :meth:`save` there after every epoch.
        """
        if not isinstance(data, PairedData):
            raise TypeError(f"data must be a PairedData, got {type(data).__name__}")
        epochs = check_int(epochs, "epochs", low=1)
        if validation_data is not None and not isinstance(validation_data, PairedData):
            raise TypeError(f"validation_data must be a PairedData or None, got {type(validation_data).__name__}")
        if early_stopping_rounds is not None:
            early_stopping_rounds = check_int(early_stopping_rounds, "early_stopping_rounds", low=1)
            if validation_data is None:
                raise ValueError("early_stopping_rounds needs validation_data to score the epochs on")
        s = self.settings
        if s["schedule"] == "cosine" and s["total_steps"] is None:
            s["total_steps"] = self.optimizer.step_count + epochs * self._steps_per_epoch(data)
        # built once per fit, before any step: a schedule it cannot serve is refused here
        self._lr_multiplier = lr_schedule(s["schedule"], warmup_steps=s["warmup_steps"],
                                          total_steps=s["total_steps"], min_ratio=s["min_lr"] / s["lr"])
        n_jobs = self.settings["n_jobs"]
        blas = threadpool_limits(effective_threads(n_jobs)) if threadpool_limits else contextlib.nullcontext()
        with using_threads(n_jobs), blas:
            self._run_epochs(data, epochs, validation_data, early_stopping_rounds, progress, checkpoint_path)
        if validation_data is not None:
            for name, value in named_parameters(self.model).items():
                value[...] = self._best_params[name]
        return self

    def _steps_per_epoch(self, data):
        # a last partial batch is dropped: InfoNCE wants full batches
        return max(1, len(data) // self.settings["batch_size"])

    def _loss_kwargs(self, data, rows, rng):
        s = self.settings
        groups = None if data.groups is None else data.groups[rows]
        return dict(contrastive_weight=s["contrastive_weight"], itm_weight=s["itm_weight"], rng=rng, itm_groups=groups)

    def validation_loss(self, data):
        """Mean training loss over ``data`` in batches of batch_size, both modalities present, no dropout;
        the matching negatives come from a fixed seed so every epoch is scored on the same draw."""
        rng, batch, total = np.random.default_rng(0), self.settings["batch_size"], 0.0
        for start in range(0, len(data), batch):
            part = slice(start, start + batch)
            labels = data.labels[part]
            total += labels.size * self.model.loss(data.tokens[part], data.mask[part], data.images[part], labels,
                                                   **self._loss_kwargs(data, part, rng))["loss"]
        return total / len(data)

    def _run_epochs(self, data, epochs, validation_data, early_stopping_rounds, progress, checkpoint_path):
        s = self.settings
        n, batch = len(data), s["batch_size"]
        steps_per_epoch = self._steps_per_epoch(data)
        params = self.optimizer.params
        contrastive = self.model.children["contrastive"]
        with tqdm(total=epochs * steps_per_epoch, disable=not progress, desc="multimodal", leave=False) as bar:
            for _ in range(epochs):
                order = self.rng.permutation(n)
                for start in range(0, steps_per_epoch * batch, batch):
                    idx = order[start: start + batch]
                    text_present, image_present = modality_dropout_masks(idx.size, s["modality_dropout"], self.rng)
                    self.optimizer.lr = self.learning_rate(self.optimizer.step_count)
                    self.history["lr"].append(self.optimizer.lr)
                    losses = self.model.loss_and_backward(
                        data.tokens[idx], data.mask[idx], data.images[idx], data.labels[idx],
                        text_present=text_present, image_present=image_present,
                        **self._loss_kwargs(data, idx, self.rng))
                    model_grads = named_gradients(self.model)
                    grads = {name: model_grads[name] for name in params}
                    grad_norm = clip_grad_norm_(grads, np.inf if s["max_grad_norm"] is None else s["max_grad_norm"])
                    self.optimizer.step(grads)
                    contrastive.clamp()
                    for key, value in losses.items():
                        self.history[key].append(value)
                    self.history["grad_norm"].append(grad_norm)
                    bar.set_postfix(loss=f"{losses['loss']:.3f}", refresh=False)
                    bar.update()
                self.epochs_done += 1
                stop = validation_data is not None and self._score_epoch(validation_data, early_stopping_rounds)
                if checkpoint_path is not None:
                    self.save(checkpoint_path)
                if stop:
                    break

    def _score_epoch(self, validation_data, early_stopping_rounds):
        """Record the validation loss, keep the best parameters; True when early stopping should stop."""
        loss = self.validation_loss(validation_data)
        self.history["validation_loss"].append(loss)
        if self.best_validation_loss is None or loss < self.best_validation_loss:
            self.best_epoch, self.best_validation_loss = self.epochs_done, loss
            self._best_params = {k: v.copy() for k, v in named_parameters(self.model).items()}
        return early_stopping_rounds is not None and self.epochs_done - self.best_epoch >= early_stopping_rounds

    def save(self, path):
        """Write model parameters, optimizer state, generator state, the best epoch's parameters and
        settings to ``path`` (.npz)."""
        arrays = {f"param/{k}": v for k, v in named_parameters(self.model).items()}
        arrays.update({f"optim/{k}": v for k, v in self.optimizer.state_arrays().items()})
        arrays.update({f"best/{k}": v for k, v in (self._best_params or {}).items()})
        meta = {"model": self.model.config, "trainer": self.settings, "rng": self.rng.bit_generator.state,
                "history": self.history, "epochs_done": self.epochs_done, "best_epoch": self.best_epoch,
                "best_validation_loss": self.best_validation_loss}
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
            best = {k[len("best/"):]: np.array(f[k]) for k in f.files if k.startswith("best/")}
        trainer._best_params = best or None
        trainer.rng.bit_generator.state = meta["rng"]
        trainer.history = meta["history"]
        trainer.epochs_done, trainer.best_epoch = meta["epochs_done"], meta["best_epoch"]
        trainer.best_validation_loss = meta["best_validation_loss"]
        return trainer
