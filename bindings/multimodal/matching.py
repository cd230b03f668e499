"""Image-text matching (ITM) negatives mined from the contrastive similarities, as ALBEF does (Li et al. 2021).

For each image of a batch one caption is drawn from the *other* captions with probability proportional to
exp(similarity), and for each caption one other image likewise: captions the contrastive head already finds
close are drawn most often, so the matching head learns from hard negatives::

    P(negative caption j | image i) = exp(s[j, i]) / sum_{m != i} exp(s[m, i])    (j != i)
    P(negative image j | caption i) = exp(s[i, j]) / sum_{m != i} exp(s[i, m])    (j != i)

with s the (N, N) logits of :meth:`bindings.multimodal.alignment.ContrastiveHead.logits` (rows: captions).
Generated captions repeat, and a caption that describes another image as well as its own is a false
negative there; ``groups`` marks such samples, which are then never drawn as each other's negatives
(a row whose every other sample shares its group falls back to all of them).
"""
import numpy as np

__all__ = ["negative_probabilities", "sample_hard_negatives"]


def negative_probabilities(logits, groups=None):
    """Row-wise softmax of ``logits`` (N, N) float over the off-diagonal entries outside row i's group
    (``groups`` (N,) int or None); the excluded entries are 0.

    Returns (N, N) float64, every row summing to 1 (N >= 2)."""
    z = np.array(logits, np.float64)
    if groups is not None:
        same = groups[:, None] == groups[None, :]
        only_own_group = same.all(axis=1)
        z[same & ~only_own_group[:, None]] = -np.inf
    np.fill_diagonal(z, -np.inf)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def sample_hard_negatives(logits, rng, groups=None):
    """One hard negative per row and per column of the (N, N) caption x image ``logits`` (N >= 2).

    rng : numpy Generator.  groups : (N,) int or None, samples never drawn as each other's negatives.
    Returns (negative_text (N,) int64: a caption index j != i for each image i, negative_image (N,)
    int64: an image index j != i for each caption i).
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1] or logits.shape[0] < 2:
        raise ValueError(f"logits must be a square (N, N) matrix with N >= 2, got shape {logits.shape}")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != logits.shape[:1]:
            raise ValueError(f"groups must have shape ({logits.shape[0]},) (one per pair), got {groups.shape}")
    out = []
    for p in (negative_probabilities(logits.T, groups), negative_probabilities(logits, groups)):
        # inverse-CDF draw per row; a u that rounds up to the row total goes to the last column with p > 0
        cdf = np.cumsum(p, axis=1)
        u = rng.random(p.shape[0])[:, None] * cdf[:, -1:]
        drawn = (cdf <= u).sum(axis=1)
        last_possible = p.shape[1] - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
        out.append(np.where(drawn < p.shape[1], drawn, last_possible))
    return out[0], out[1]
