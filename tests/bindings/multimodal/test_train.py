"""bindings.multimodal.train / model: the shapes task is learned in seconds, checkpoints resume
exactly, modality dropout never drops both modalities, the cosine schedule and clipping are applied,
validation keeps the best epoch and stops early, and bad input raises errors that name it."""
import numba
import numpy as np
import pytest
import torch

from bindings.multimodal import (MultimodalNet, Trainer, accuracy, itm_accuracy, make_digits, make_shapes,
                                 missing_modality_accuracy, modality_dropout_masks, retrieval_recall)
from bindings.nn import named_gradients, named_parameters
from gbdt.threads import effective_threads

pytestmark = pytest.mark.usefixtures("one_thread")


def small_model(data, **kwargs):
    return MultimodalNet(len(data.vocab), data.n_classes, data.images.shape[1:], **kwargs)


def test_early_fusion_reaches_90_percent_on_the_shapes_task():
    # About 2 s of training on one thread: 640 steps of 32 pairs.
    train = make_shapes(2048, image_noise=0.05, caption_noise=0.0, seed=0)
    test = make_shapes(400, image_noise=0.05, caption_noise=0.0, seed=1)
    model = small_model(train, fusion="early", dim=32, seed=0)
    Trainer(model, batch_size=32, lr=1e-2, warmup_steps=10, seed=0).fit(train, 10, progress=False)
    result = missing_modality_accuracy(model, test)
    assert result["both"] >= 0.9, result
    # neither modality alone can do it (at best 1/2 from the image, 1/3 from the caption)
    assert result["image only"] < 0.6 and result["text only"] < 0.45, result


def test_checkpoint_resumes_exactly(tmp_path):
    data = make_shapes(96, seed=2)
    settings = dict(batch_size=16, lr=5e-3, warmup_steps=3, modality_dropout=0.2, contrastive_weight=0.5, seed=7)
    straight = Trainer(small_model(data, fusion="cross", dim=8, embed_dim=4, seed=1), **settings).fit(
        data, 2, progress=False)
    first = Trainer(small_model(data, fusion="cross", dim=8, embed_dim=4, seed=1), **settings)
    first.fit(data, 1, progress=False, checkpoint_path=tmp_path / "ckpt.npz")
    resumed = Trainer.load(tmp_path / "ckpt.npz").fit(data, 1, progress=False)
    for name, value in named_parameters(straight.model).items():
        np.testing.assert_array_equal(named_parameters(resumed.model)[name], value, err_msg=name)
    assert resumed.history == straight.history
    assert resumed.model.config == straight.model.config
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)


def test_modality_dropout_drops_one_modality_at_a_time():
    text, image = modality_dropout_masks(40_000, 0.3, np.random.default_rng(3))
    assert (text | image).all()
    assert np.mean(~text) == pytest.approx(0.3, abs=0.01) and np.mean(~image) == pytest.approx(0.3, abs=0.01)
    assert all(m.all() for m in modality_dropout_masks(100, 0.0, np.random.default_rng(3)))


def test_progress_bar_reports_the_loss(capsys):
    data = make_shapes(32, seed=4)
    Trainer(small_model(data, dim=8), batch_size=16).fit(data, 1, progress=True)
    assert "multimodal" in capsys.readouterr().err


def test_bad_input_raises_errors_naming_the_argument():
    data = make_shapes(6, seed=5)
    model = small_model(data, dim=8)
    args = (data.tokens, data.mask, data.images)
    cases = [
        ((data.tokens, data.mask, data.images[:5]), {}, ValueError, "batch sizes differ"),
        ((data.tokens, data.mask, data.images[:, :, :8]), {}, ValueError,
         r"images must have shape \(batch, 3, 16, 16\)"),
        ((data.tokens, np.zeros_like(data.mask), data.images), {}, ValueError, "caption of sample 0 empty"),
        ((data.tokens.astype(float), data.mask, data.images), {}, TypeError, "tokens must be a 2-D integer array"),
        ((list(data.tokens), data.mask, data.images), {}, TypeError, "tokens must be a numpy array"),
        ((data.tokens, data.mask[:, :3], data.images), {}, ValueError, "mask must be a bool array"),
        ((data.tokens, data.mask, data.images.astype(int)), {}, TypeError, "images must be a float array"),
        (args, {"text_present": np.ones(5, bool)}, ValueError, "text_present must be a bool array of shape"),
        (args, {"text_present": np.zeros(6, bool), "image_present": np.zeros(6, bool)}, ValueError, "neither text"),
        ((data.tokens + 1000, data.mask, data.images), {}, ValueError, "tokens must be ids"),
    ]
    for call_args, kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            model.forward(*call_args, **kwargs)
    with pytest.raises(ValueError, match="labels must be in"):
        model.loss_and_backward(*args, data.labels + 3)
    with pytest.raises(ValueError, match="labels must be an int array"):
        model.loss_and_backward(*args, data.labels[:2])
    with pytest.raises(ValueError, match="fusion must be one of"):
        small_model(data, fusion="middle")
    with pytest.raises(ValueError, match="patch"):
        small_model(data, patch=5)
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(model, batch_size=1)
    with pytest.raises(ValueError, match="modality_dropout"):
        Trainer(model, modality_dropout=0.7)
    with pytest.raises(TypeError, match="data must be a PairedData"):
        Trainer(model).fit(args)


def test_an_absent_caption_is_ignored():
    # With text_present False the caption is replaced by the missing embedding: its content, even an
    # empty mask row, changes nothing, and the other samples are unaffected by it.
    data = make_shapes(4, seed=6)
    model = small_model(data, dim=8, fusion="cross")
    present = np.array([True, False, True, True])
    logits = model.forward(data.tokens, data.mask, data.images, text_present=present)
    other_tokens, empty_mask = data.tokens.copy(), data.mask.copy()
    other_tokens[1] = data.tokens[0]
    empty_mask[1] = False
    np.testing.assert_array_equal(model.forward(other_tokens, empty_mask, data.images, text_present=present), logits)
    all_present = model.forward(data.tokens, data.mask, data.images)
    np.testing.assert_allclose(all_present[[0, 2, 3]], logits[[0, 2, 3]], rtol=1e-6)


def test_modality_dropout_keeps_a_caption_only_model_useful():
    # Digits whose captions name the digit half of the time: text alone can reach 0.55. Trained on both
    # modalities only, the model never learns to answer from the caption alone.
    train, test = make_digits(name_probability=0.5, caption_noise=0.0, seed=0).split(1400)
    text_only = {}
    for dropout in (0.0, 0.3):
        model = small_model(train, dim=32, seed=0)
        Trainer(model, batch_size=32, lr=1e-2, warmup_steps=10, modality_dropout=dropout, seed=0).fit(
            train, 8, progress=False)
        text_only[dropout] = accuracy(model, test, "text only")
    assert text_only[0.3] > 0.45 and text_only[0.3] > text_only[0.0] + 0.1, text_only


def test_contrastive_training_aligns_the_embeddings():
    train, test = make_shapes(1024, seed=8), make_shapes(400, seed=9)
    model = small_model(train, dim=32, seed=0)
    Trainer(model, batch_size=32, lr=1e-2, warmup_steps=10, contrastive_weight=1.0, seed=0).fit(
        train, 4, progress=False)
    recall = retrieval_recall(model, test)
    # chance is 10 / 400 = 0.025; captions shared by ~12 test images cap it near 0.77
    assert recall["text_to_image@10"] > 0.5 and recall["image_to_text@10"] > 0.5, recall


def test_fit_runs_on_n_jobs_threads_and_restores_the_setting(kernel_paths):
    """n_jobs=1 runs every step on one thread through the serial compilations of the threaded kernels, and
    trains the model n_jobs=2 trains; the caller's thread count comes back."""
    data = make_shapes(32, seed=10)
    seen = []

    class Spy(MultimodalNet):
        def loss_and_backward(self, *args, **kwargs):
            seen.append(numba.get_num_threads())
            return super().loss_and_backward(*args, **kwargs)

    outer = numba.config.NUMBA_NUM_THREADS  # the one_thread fixture restores its own setting afterwards
    numba.set_num_threads(outer)
    losses = {}
    for n_jobs in (1, 2):
        seen.clear()
        kernel_paths.clear()
        model = Spy(len(data.vocab), 3, (3, 16, 16), dim=8, fusion="cross", text_layers=1)
        trainer = Trainer(model, batch_size=16, n_jobs=n_jobs, contrastive_weight=0.5).fit(data, 1, progress=False)
        assert seen == [effective_threads(n_jobs)] * 2 and numba.get_num_threads() == outer
        assert kernel_paths and set(kernel_paths) == {effective_threads(n_jobs) == 1}
        losses[n_jobs] = trainer.history["loss"]
    np.testing.assert_allclose(losses[1], losses[2], rtol=1e-5)
    with pytest.raises(ValueError, match="n_jobs"):
        Trainer(Spy(len(data.vocab), 3, (3, 16, 16), dim=8), n_jobs=0)


def test_public_namespace_exports_the_api():
    import bindings.multimodal as api

    assert api.MultimodalNet is MultimodalNet and api.Trainer is Trainer
    assert all(hasattr(api, name) for name in api.__all__)


def test_cosine_schedule_runs_over_the_first_fits_steps():
    data = make_shapes(64, seed=11)
    trainer = Trainer(small_model(data, dim=8), batch_size=16, lr=1e-2, warmup_steps=3, schedule="cosine",
                      min_lr=1e-4).fit(data, 3, progress=False)
    assert trainer.settings["total_steps"] == 12
    # torch's warm-up + cosine (SequentialLR(LinearLR, CosineAnnealingLR)) over the same 12 steps
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-2)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / 3, end_factor=1.0, total_iters=2),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=9, eta_min=1e-4)], milestones=[3])
    expected = []
    for _ in range(12):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(trainer.history["lr"], expected, rtol=1e-12)


def test_gradients_are_clipped_to_the_global_norm():
    data = make_shapes(64, seed=12)
    trainer = Trainer(small_model(data, dim=8), batch_size=16, max_grad_norm=0.05, contrastive_weight=1.0)
    raw_norms, clipped_norms = [], []
    step = trainer.optimizer.step

    def spy(grads):  # the gradients the optimizer receives, after clipping
        clipped_norms.append(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads.values())))
        step(grads)

    def backward_spy(*args, **kwargs):  # the model's gradients right after backward, before clipping
        out = loss_and_backward(*args, **kwargs)
        grads = named_gradients(trainer.model).values()
        raw_norms.append(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)))
        return out

    loss_and_backward = trainer.model.loss_and_backward
    trainer.model.loss_and_backward = backward_spy
    trainer.optimizer.step = spy
    trainer.fit(data, 1, progress=False)
    np.testing.assert_allclose(trainer.history["grad_norm"], raw_norms, rtol=1e-6)
    assert np.all(np.array(raw_norms) > 0.05)  # every step was clipped, to the bound
    np.testing.assert_allclose(clipped_norms, 0.05, rtol=1e-5)


def test_validation_keeps_the_best_epoch_and_stops_early():
    # 32 training pairs and a large step overfit quickly: the validation loss turns up, training stops
    # two epochs after its minimum, and the model ends holding the parameters of that epoch.
    train, valid = make_shapes(32, seed=13), make_shapes(64, seed=14)
    trainer = Trainer(small_model(train, dim=16), batch_size=16, lr=3e-2, warmup_steps=0, contrastive_weight=0.5)
    trainer.fit(train, 40, validation_data=valid, early_stopping_rounds=2, progress=False)
    history = trainer.history["validation_loss"]
    assert trainer.epochs_done < 40 and len(history) == trainer.epochs_done
    assert trainer.best_epoch == int(np.argmin(history)) + 1 == trainer.epochs_done - 2
    assert trainer.best_validation_loss == min(history)
    assert trainer.validation_loss(valid) == pytest.approx(min(history), rel=1e-6)


def test_checkpoint_keeps_the_best_epoch(tmp_path):
    train, valid = make_shapes(32, seed=15), make_shapes(32, seed=16)
    trainer = Trainer(small_model(train, dim=8, fusion="albef", fusion_layers=1), batch_size=16, itm_weight=1.0)
    trainer.fit(train, 2, validation_data=valid, progress=False, checkpoint_path=tmp_path / "ckpt.npz")
    loaded = Trainer.load(tmp_path / "ckpt.npz")
    assert (loaded.best_epoch, loaded.best_validation_loss) == (trainer.best_epoch, trainer.best_validation_loss)
    assert loaded.history == trainer.history
    for name, value in trainer._best_params.items():
        np.testing.assert_array_equal(loaded._best_params[name], value, err_msg=name)


def test_trainer_settings_are_checked():
    data = make_shapes(8, seed=17)
    model = small_model(data, dim=8)
    cases = [
        (dict(schedule="linear"), ValueError, "schedule must be one of"),
        (dict(max_grad_norm=0.0), ValueError, "max_grad_norm"),
        (dict(total_steps=0), ValueError, "total_steps"),
        (dict(itm_weight=1.0), ValueError, 'needs fusion="albef"'),
        (dict(contrastive_weight=-1.0), ValueError, "contrastive_weight"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            Trainer(model, **kwargs)
    with pytest.raises(ValueError, match="early_stopping_rounds needs validation_data"):
        Trainer(model).fit(data, 1, early_stopping_rounds=2, progress=False)
    with pytest.raises(TypeError, match="validation_data must be a PairedData"):
        Trainer(model).fit(data, 1, validation_data=(data.tokens,), progress=False)


def test_albef_matching_head_learns_from_hard_negatives():
    # About 6 s on one thread. Answering "not matched" always scores 2/3 (1 positive : 2 negatives); the head
    # must compare the caption's colour, size and position with the image's. Measured 0.83 hard, 0.89 random.
    train, test = make_shapes(1024, image_noise=0.05, caption_noise=0.0, seed=20), make_shapes(
        200, image_noise=0.05, caption_noise=0.0, seed=21)
    model = small_model(train, fusion="albef", dim=16, fusion_layers=1, seed=0)
    Trainer(model, batch_size=32, lr=3e-3, warmup_steps=10, contrastive_weight=0.2, itm_weight=5.0).fit(
        train, 12, progress=False)
    hard, random = itm_accuracy(model, test), itm_accuracy(model, test, negatives="random")
    assert hard > 0.75 and random > 0.8, (hard, random)
