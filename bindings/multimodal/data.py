"""Paired image-caption data sets generated in code, a word vocabulary, and the paired-data container.

Two data sets, no downloads:

* :func:`make_shapes` renders a coloured circle, square or triangle on a noisy 16x16 canvas and writes
  a templated caption that describes size, colour and position (never the shape) and ends with one of
  two questions: "what shape is it" (label = the shape) or "what shape comes next" (label = the next
  shape in the cycle circle -> square -> triangle -> circle). The label needs both modalities:
  the image alone answers at most 1/2 of the questions right, the caption alone 1/3.
* :func:`make_digits` pairs scikit-learn's bundled 8x8 digits with captions that name the digit only
  with probability ``name_probability`` (the rest say "a handwritten number"): the modalities are
  complementary rather than jointly required.

Images are float32 arrays (n, channels, height, width) in [0, 1] plus noise; captions are strings,
encoded by :class:`Vocabulary` into padded token ids and a mask (True for real tokens).
"""

import numpy as np

from bindings.validation import check_int, check_number, check_positive_int, check_probability

__all__ = ["Vocabulary", "PairedData", "make_shapes", "make_digits", "SHAPES", "COLOURS"]

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (1.0, 0.1, 0.1), "green": (0.1, 0.9, 0.1), "blue": (0.15, 0.2, 1.0), "yellow": (1.0, 0.9, 0.1)}
_SIZES = {"small": 2.6, "large": 4.2}  # radius in pixels on a 16-pixel canvas
_QUESTIONS = (("what shape is it", "name this shape", "which shape is shown"),
              ("what shape comes next", "name the next shape", "which shape follows it"))
_OPENINGS = ("a", "there is a", "this picture shows a")
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_PAD, _UNK = "<pad>", "<unk>"


class Vocabulary:
    """Word <-> id table; id 0 pads, id 1 stands for unknown words. Captions are split on white space."""

    def __init__(self, words):
        unique = list(dict.fromkeys(w for w in words if w not in (_PAD, _UNK)))
        self.words = [_PAD, _UNK] + unique
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, captions, max_len=None):
        """Token ids (n, T) int64, padded with 0, and the mask (n, T) bool of real tokens.

        T is the longest caption, or ``max_len`` (longer captions are cut). Raises ValueError for an
        empty caption: it would have no token to pool over.
        """
        if isinstance(captions, str) or not hasattr(captions, "__len__"):
            raise TypeError(f"captions must be a sequence of strings, got {type(captions).__name__}")
        split = []
        for i, caption in enumerate(captions):
            if not isinstance(caption, str):
                raise TypeError(f"captions[{i}] must be a string, got {type(caption).__name__}")
            words = caption.split()
            if not words:
                raise ValueError(f"captions[{i}] is empty; every caption needs at least one word")
            split.append(words)
        length = max((len(w) for w in split), default=1) if max_len is None else int(max_len)
        tokens = np.zeros((len(split), length), np.int64)
        for i, words in enumerate(split):
            ids = [self.index.get(w, 1) for w in words[:length]]
            tokens[i, : len(ids)] = ids
        return tokens, tokens != 0


class PairedData:
    """Images, captions (as tokens + mask) and integer labels of n paired samples.

    images : (n, C, H, W) float.  tokens : (n, T) int.  mask : (n, T) bool, every row with a True.
    labels : (n,) int in [0, n_classes).  captions, class_names, vocab: kept for display and encoding.
    factors : optional dict name -> (n,) array of the generating factors (shape, question, ...).
    groups : optional (n,) int: samples of one group have captions that describe each other's images as
    well as their own, so image-text matching never uses one as another's negative (None: all distinct).
    """

    def __init__(self, images, tokens, mask, labels, *, vocab, class_names, captions=None, factors=None,
                 groups=None):
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"images must have shape (n, channels, height, width), got {images.shape}")
        tokens, mask, labels = np.asarray(tokens), np.asarray(mask, bool), np.asarray(labels)
        for name, arr in (("tokens", tokens), ("mask", mask), ("labels", labels)):
            if arr.shape[0] != images.shape[0]:
                raise ValueError(f"{name} has {arr.shape[0]} rows but images has {images.shape[0]}; "
                                 "every sample needs one image, one caption and one label")
        if tokens.shape != mask.shape or tokens.ndim != 2:
            raise ValueError(f"tokens and mask must both be (n, T), got {tokens.shape} and {mask.shape}")
        if not mask.any(axis=1).all():
            raise ValueError("mask has an all-False row: every caption needs at least one token")
        self.images = images.astype(np.float32, copy=False)
        self.tokens, self.mask, self.labels = tokens.astype(np.int64, copy=False), mask, labels.astype(np.int64)
        self.vocab, self.class_names = vocab, tuple(class_names)
        self.captions = list(captions) if captions is not None else None
        self.factors = {k: np.asarray(v) for k, v in (factors or {}).items()}
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (images.shape[0],) or not np.issubdtype(groups.dtype, np.integer):
                raise ValueError(f"groups must be an int array of shape ({images.shape[0]},), got "
                                 f"{groups.dtype} {groups.shape}")
        self.groups = groups

    def __len__(self):
        return self.images.shape[0]

    @property
    def n_classes(self):
        return len(self.class_names)

    def subset(self, index):
        """The samples at ``index`` (array of ints or a slice) as a new PairedData."""
        index = np.arange(len(self))[index]
        captions = None if self.captions is None else [self.captions[i] for i in index]
        return PairedData(self.images[index], self.tokens[index], self.mask[index], self.labels[index],
                          vocab=self.vocab, class_names=self.class_names, captions=captions,
                          factors={k: v[index] for k, v in self.factors.items()},
                          groups=None if self.groups is None else self.groups[index])

    def split(self, n_first):
        """(first ``n_first`` samples, the rest)."""
        return self.subset(slice(0, n_first)), self.subset(slice(n_first, None))


def _shape_mask(shape, cx, cy, radius, size):
    """Boolean (size, size) mask of a shape centred at (cx, cy) in pixel coordinates."""
    y, x = np.mgrid[0:size, 0:size] + 0.5
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return dx * dx + dy * dy <= radius * radius
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.8 * radius
    # triangle, apex up: the half-width grows from 0 at the apex to ~radius at the base
    return (dy >= -radius) & (dy <= 0.8 * radius) & (np.abs(dx) <= 0.55 * (dy + radius))


def _corrupt(words, vocabulary_words, probability, rng):
    """Replace each word by a random vocabulary word with ``probability`` (caption noise)."""
    hit = rng.random(len(words)) < probability
    return [vocabulary_words[rng.integers(len(vocabulary_words))] if h else w for w, h in zip(words, hit)]


def _shapes_vocabulary():
    words = [w for text in _OPENINGS for w in text.split()] + list(_SIZES) + list(COLOURS)
    words += "shape at the top bottom left right .".split()
    words += [w for group in _QUESTIONS for text in group for w in text.split()]
    return Vocabulary(words)


def make_shapes(n, *, image_size=16, image_noise=0.1, caption_noise=0.05, seed=0):
    """Coloured shapes with question captions; label = the shape, or the next shape (see module doc).

    n : number of pairs.  image_size : canvas side in pixels (>= 12).
    image_noise : standard deviation of Gaussian pixel noise.  caption_noise : probability that a
    caption word is replaced by a random vocabulary word.  seed : generator seed.
    Returns a :class:`PairedData` with images (n, 3, image_size, image_size), 3 classes (SHAPES) and
    factors "shape", "colour" (index into COLOURS), "size" (0 small), "bottom", "right", "question", and
    groups = the caption's content (colour, size, position; 32 groups), which the shape does not change.
    """
    n = check_positive_int(n, "n")
    check_int(image_size, "image_size", low=12)  # smaller shapes are not told apart
    check_number(image_noise, "image_noise", low=0.0)
    caption_noise = check_probability(caption_noise, "caption_noise")
    rng, noise_rng = np.random.default_rng(seed).spawn(2)  # noise levels leave the samples unchanged
    vocab = _shapes_vocabulary()
    content = vocab.words[2:]
    scale = image_size / 16.0
    images = np.zeros((n, 3, image_size, image_size), np.float32)
    labels = np.empty(n, np.int64)
    factors = {k: np.empty(n, np.int64) for k in ("shape", "colour", "size", "bottom", "right", "question")}
    captions = []
    for i in range(n):
        shape = int(rng.integers(len(SHAPES)))
        colour = list(COLOURS)[rng.integers(len(COLOURS))]
        size = list(_SIZES)[rng.integers(len(_SIZES))]
        vertical, horizontal = ("top", "bottom")[rng.integers(2)], ("left", "right")[rng.integers(2)]
        question = int(rng.integers(2))
        cx = (4.0 if horizontal == "left" else 12.0) * scale + rng.uniform(-1, 1)
        cy = (4.5 if vertical == "top" else 11.5) * scale + rng.uniform(-1, 1)
        mask = _shape_mask(SHAPES[shape], cx, cy, _SIZES[size] * scale, image_size)
        images[i] = mask[None] * np.asarray(COLOURS[colour], np.float32)[:, None, None]
        labels[i] = (shape + question) % len(SHAPES)
        for key, value in zip(factors, (shape, list(COLOURS).index(colour), list(_SIZES).index(size),
                                        vertical == "bottom", horizontal == "right", question)):
            factors[key][i] = value
        words = (f"{_OPENINGS[rng.integers(len(_OPENINGS))]} {size} {colour} shape at the {vertical} "
                 f"{horizontal} . {_QUESTIONS[question][rng.integers(3)]}").split()
        captions.append(" ".join(_corrupt(words, content, caption_noise, noise_rng)))
    images += noise_rng.normal(0.0, image_noise, images.shape).astype(np.float32)
    tokens, mask = vocab.encode(captions)
    groups = factors["colour"] * 8 + factors["size"] * 4 + factors["bottom"] * 2 + factors["right"]
    return PairedData(images, tokens, mask, labels, vocab=vocab, class_names=SHAPES, captions=captions,
                      factors=factors, groups=groups)


def make_digits(*, name_probability=0.5, caption_noise=0.05, image_noise=0.0, seed=0):
    """scikit-learn's 1797 8x8 digits (scaled to [0, 1]) with generated captions; label = the digit.

    A caption reads "a thin|thick handwritten <digit word>" (thick = more ink than the median) and names
    the digit with probability ``name_probability``, otherwise says "number". caption_noise and
    image_noise as in :func:`make_shapes`. Rows are shuffled by ``seed``. Needs scikit-learn.
    """
    from sklearn.datasets import load_digits  # the only user of scikit-learn here: import on demand

    name_probability = check_probability(name_probability, "name_probability")
    caption_noise = check_probability(caption_noise, "caption_noise")
    rng, noise_rng = np.random.default_rng(seed).spawn(2)
    digits = load_digits()
    order = rng.permutation(len(digits.target))
    images = (digits.images[order] / 16.0).astype(np.float32)[:, None]
    labels = digits.target[order]
    thick = images.sum(axis=(1, 2, 3)) > np.median(images.sum(axis=(1, 2, 3)))
    vocab = Vocabulary("a thin thick handwritten number".split() + list(_DIGIT_WORDS))
    content = vocab.words[2:]
    captions = []
    for i, label in enumerate(labels):
        name = _DIGIT_WORDS[label] if rng.random() < name_probability else "number"
        words = ["a", "thick" if thick[i] else "thin", "handwritten", name]
        captions.append(" ".join(_corrupt(words, content, caption_noise, noise_rng)))
    images += noise_rng.normal(0.0, image_noise, images.shape).astype(np.float32)
    tokens, mask = vocab.encode(captions)
    return PairedData(images, tokens, mask, labels, vocab=vocab, class_names=_DIGIT_WORDS, captions=captions)
