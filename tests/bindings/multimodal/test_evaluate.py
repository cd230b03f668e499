"""bindings.multimodal.model encoders and bindings.multimodal.evaluate: per-modality embeddings are the
ones the contrastive loss trains, retrieval over a gallery and recall agree, zero-shot prompts against a
brute-force twin and after training, image-text matching accuracy against a direct count, bad input."""
import numpy as np
import pytest

from bindings.multimodal import (MultimodalNet, Trainer, itm_accuracy, make_digits, make_shapes, recall_at_k, retrieve,
                                 retrieval_recall, sample_hard_negatives, zero_shot_accuracy, zero_shot_predict)

pytestmark = pytest.mark.usefixtures("one_thread")
TEMPLATES = ("a thin handwritten {}", "a thick handwritten {}")


def small_model(data, **kwargs):
    return MultimodalNet(len(data.vocab), data.n_classes, data.images.shape[1:], dim=8, embed_dim=6, seed=0,
                         dtype=np.float64, **kwargs)


def test_encoders_give_the_embeddings_the_contrastive_loss_trains():
    data = make_shapes(10, seed=0)
    model = small_model(data, text_layers=1, image_layers=1)
    text, image = model.encode_text(data.tokens, data.mask), model.encode_image(data.images)
    assert text.shape == image.shape == (10, 6)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, rtol=1e-12)
    model.loss(data.tokens, data.mask, data.images, data.labels, contrastive_weight=1.0)
    t_unit, _, v_unit, _ = model.children["contrastive"]._saved
    np.testing.assert_allclose(text, t_unit, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(image, v_unit, rtol=1e-12, atol=1e-12)
    # one sample at a time gives the same rows: nothing leaks across the batch (padding included)
    for i in (0, 7):
        np.testing.assert_allclose(model.encode_text(data.tokens[i:i + 1], data.mask[i:i + 1])[0], text[i], atol=1e-12)
        np.testing.assert_allclose(model.encode_image(data.images[i:i + 1])[0], image[i], atol=1e-12)


def test_gallery_retrieval_agrees_with_recall():
    data = make_shapes(30, seed=1)
    model = small_model(data)
    gallery = model.encode_image(data.images)
    indices, _ = retrieve(model.encode_text(data.tokens, data.mask), gallery, 5)
    hits = np.mean([i in row for i, row in enumerate(indices)])
    assert hits == pytest.approx(retrieval_recall(model, data, ks=(5,))["text_to_image@5"])
    assert retrieval_recall(model, data) == recall_at_k(model.encode_text(data.tokens, data.mask), gallery)


def test_zero_shot_predict_matches_a_brute_force_twin():
    data = make_digits(name_probability=1.0, seed=2).subset(slice(0, 40))
    model = small_model(data)
    got = zero_shot_predict(model, data.images, data.vocab, data.class_names, TEMPLATES)
    class_embeddings = []
    for name in data.class_names:  # one prompt at a time, CLIP's ensembling written out
        prompts = [model.encode_text(*data.vocab.encode([t.format(name)]))[0] for t in TEMPLATES]
        mean = np.mean(prompts, axis=0)
        class_embeddings.append(mean / np.linalg.norm(mean))
    images = model.encode_image(data.images)
    expected = [int(np.argmax([image @ c for c in class_embeddings])) for image in images]
    np.testing.assert_array_equal(got, expected)


def test_zero_shot_classifies_digits_from_named_captions():
    # Half the training captions name the digit; after contrastive training the prompt "a thin handwritten
    # seven" lies nearest the images of sevens. Chance is 0.1; measured 0.90.
    train, test = make_digits(name_probability=0.5, caption_noise=0.0, seed=0).split(1400)
    model = MultimodalNet(len(train.vocab), 10, train.images.shape[1:], dim=32, seed=0)
    Trainer(model, batch_size=32, lr=1e-2, warmup_steps=10, contrastive_weight=1.0).fit(train, 8, progress=False)
    assert zero_shot_accuracy(model, test, TEMPLATES) > 0.8


@pytest.mark.parametrize("negatives", ["hard", "random"])
def test_itm_accuracy_counts_the_matching_heads_answers(negatives):
    data = make_shapes(12, seed=3)
    model = small_model(data, fusion="albef", fusion_layers=1)
    got = itm_accuracy(model, data, negatives=negatives, seed=4, batch_size=7)
    n = len(data)
    if negatives == "hard":
        logits = np.exp(model.children["contrastive"].log_scale[0]) * (
            model.encode_text(data.tokens, data.mask) @ model.encode_image(data.images).T)
    else:
        logits = np.zeros((n, n))
    negative_text, negative_image = sample_hard_negatives(logits, np.random.default_rng(4), data.groups)
    assert np.all(data.groups[negative_text] != data.groups) and np.all(data.groups[negative_image] != data.groups)
    correct = 0
    for i in range(n):
        for t, v, matched in ((i, i, True), (negative_text[i], i, False), (i, negative_image[i], False)):
            logit = model.itm_logits(data.tokens[t:t + 1], data.mask[t:t + 1], data.images[v:v + 1])[0]
            correct += (logit[1] > logit[0]) == matched
    assert got == pytest.approx(correct / (3 * n), abs=1e-12)


def test_bad_input_is_named():
    data = make_shapes(4, seed=5)
    model = small_model(data)
    cases = [
        (lambda: model.encode_text(data.tokens, data.mask[:, :2]), ValueError, "mask must be a bool array"),
        (lambda: model.encode_text(data.tokens, np.zeros_like(data.mask)), ValueError, "caption of sample 0 empty"),
        (lambda: model.encode_image(data.images[:, :1]), ValueError, "images must have shape"),
        (lambda: model.encode_image(list(data.images)), TypeError, "images must be a numpy array"),
        (lambda: zero_shot_predict(model, data.images, data.vocab, ["red"], "a red shape"), ValueError, "templates"),
        (lambda: zero_shot_predict(model, data.images, data.vocab, ["circle"], "a {}"), ValueError,
         r"prompt words \['circle'\] are not in the vocabulary"),
        (lambda: model.itm_logits(data.tokens, data.mask, data.images), ValueError, 'needs fusion="albef"'),
        (lambda: itm_accuracy(model, data, negatives="easy"), ValueError, "negatives must be"),
        (lambda: model.loss(data.tokens, data.mask, data.images, data.labels, itm_weight=1.0), ValueError,
         'needs fusion="albef"'),
    ]
    albef = small_model(data, fusion="albef", fusion_layers=1)
    cases.append((lambda: albef.loss(data.tokens, data.mask, data.images, data.labels, itm_weight=1.0), TypeError,
                  "rng must be a numpy Generator"))
    cases.append((lambda: albef.loss(data.tokens, data.mask, data.images, data.labels, itm_weight=1.0,
                                     rng=np.random.default_rng(0), itm_groups=np.zeros(3, int)), ValueError,
                  r"itm_groups must have shape \(4,\)"))
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
