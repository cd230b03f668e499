"""bindings.multimodal.data: captions agree with the rendered images, the shapes label needs both
modalities, the digits captions, vocabulary encoding and bad input."""
import numpy as np
import pytest

from bindings.multimodal import PairedData, Vocabulary, make_digits, make_shapes
from bindings.multimodal.data import COLOURS, SHAPES


def test_shapes_captions_describe_the_rendered_image():
    data = make_shapes(200, image_noise=0.0, caption_noise=0.0, seed=0)
    assert data.images.shape == (200, 3, 16, 16) and data.images.dtype == np.float32
    f = data.factors
    for i in range(200):
        words = data.captions[i].split()
        ink = data.images[i].max(axis=0) > 0.5
        ys, xs = np.nonzero(ink)
        colour = data.images[i][:, ink].mean(axis=1)
        named = [c for c in COLOURS if c in words]
        assert named == [list(COLOURS)[f["colour"][i]]]
        np.testing.assert_allclose(colour, COLOURS[named[0]], atol=1e-6)
        assert ("bottom" in words) == (ys.mean() > 8) == bool(f["bottom"][i])
        assert ("right" in words) == (xs.mean() > 8) == bool(f["right"][i])
        small_at_most = (30, 30, 20)[f["shape"][i]]  # pixels of the largest small circle/square/triangle, with margin
        assert ("large" in words) == (ink.sum() > small_at_most) == bool(f["size"][i])
        assert not set(words) & set(SHAPES)  # the caption never names the shape


def test_shapes_groups_are_the_caption_content():
    # one group per (colour, size, vertical, horizontal) words of the caption; the shape never enters
    data = make_shapes(300, caption_noise=0.0, seed=5)
    content = [tuple(w for w in c.split() if w in COLOURS or w in ("small", "large", "top", "bottom", "left", "right"))
               for c in data.captions]
    by_group = {}
    for group, words in zip(data.groups, content):
        by_group.setdefault(group, set()).add(words)
    assert all(len(words) == 1 for words in by_group.values())
    assert len(set(content)) == len(by_group) == 32
    np.testing.assert_array_equal(data.subset(slice(10, 20)).groups, data.groups[10:20])


def test_shapes_label_needs_both_modalities():
    data = make_shapes(3000, seed=1)
    f = data.factors
    np.testing.assert_array_equal(data.labels, (f["shape"] + f["question"]) % 3)
    # Best accuracy knowing one factor: the most frequent label per value of the factor. Colour, size and
    # position are drawn independently of shape and question, so they add nothing.
    def best_accuracy(key):
        return sum(np.bincount(data.labels[key == v]).max() for v in np.unique(key)) / len(data)
    assert 0.5 <= best_accuracy(f["shape"]) < 0.53  # the image alone
    assert 0.33 <= best_accuracy(f["question"]) < 0.36  # the caption alone


def test_shapes_noise_controls():
    clean = make_shapes(50, image_noise=0.0, caption_noise=0.0, seed=2)
    noisy = make_shapes(50, image_noise=0.3, caption_noise=0.5, seed=2)
    np.testing.assert_array_equal(clean.labels, noisy.labels)
    assert np.std(noisy.images - clean.images) == pytest.approx(0.3, rel=0.05)
    changed = np.mean([a != b for c, d in zip(clean.captions, noisy.captions) for a, b in zip(c.split(), d.split())])
    assert 0.3 < changed < 0.55  # half the words redrawn, some redrawn to themselves


def test_digits_captions():
    named = make_digits(name_probability=1.0, caption_noise=0.0, seed=3)
    assert named.images.shape == (1797, 1, 8, 8) and named.n_classes == 10
    words = [c.split()[-1] for c in named.captions]
    assert [named.class_names.index(w) for w in words] == named.labels.tolist()
    anonymous = make_digits(name_probability=0.0, caption_noise=0.0, seed=3)
    assert {c.split()[-1] for c in anonymous.captions} == {"number"}
    assert 0.45 < np.mean(["thick" in c for c in anonymous.captions]) <= 0.5


def test_vocabulary_encode_pads_and_marks_unknown_words():
    vocab = Vocabulary("a red shape".split())
    tokens, mask = vocab.encode(["a red shape", "red", "a blue shape"])
    np.testing.assert_array_equal(tokens, [[2, 3, 4], [3, 0, 0], [2, 1, 4]])
    np.testing.assert_array_equal(mask, tokens != 0)
    assert vocab.encode(["a red shape"], max_len=2)[0].shape == (1, 2)


def test_bad_input_is_named():
    vocab = Vocabulary(["a"])
    with pytest.raises(ValueError, match=r"captions\[1\] is empty"):
        vocab.encode(["a", "  "])
    with pytest.raises(TypeError, match=r"captions\[0\] must be a string"):
        vocab.encode([3])
    with pytest.raises(TypeError, match="captions must be a sequence"):
        vocab.encode("a")
    data = make_shapes(4, seed=4)
    with pytest.raises(ValueError, match="labels has 3 rows but images has 4"):
        PairedData(data.images, data.tokens, data.mask, data.labels[:3], vocab=vocab, class_names=SHAPES)
    with pytest.raises(ValueError, match=r"groups must be an int array of shape \(4,\)"):
        PairedData(data.images, data.tokens, data.mask, data.labels, vocab=vocab, class_names=SHAPES,
                   groups=np.zeros(3, int))
    with pytest.raises(ValueError, match="images must have shape"):
        PairedData(data.images[0], data.tokens, data.mask, data.labels, vocab=vocab, class_names=SHAPES)
    with pytest.raises(ValueError, match="caption_noise"):
        make_shapes(4, caption_noise=2.0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_shapes(0)
