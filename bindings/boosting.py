"""The boosting loop that local and Dask training share: gradients -> one tree per output ->
margins -> evaluation -> callbacks.

``boost`` drives rows it reaches only through the methods of ``LocalRows`` (rows held in this
process) and evaluation sets through those of ``EvalSet``; ``cluster.shard`` provides the same
methods over the rows of Dask workers. Every parameter arrives resolved (``bindings.params.Params``).
``fit_dataset`` is a whole local fit of one ``Dataset``: ``bindings.train.train`` checks the
arguments and calls it. ``Params.tree_method`` picks the rows and the grower: ``LocalRows`` and
``gbdt.grower.TreeGrower`` (hist), ``ApproxRows`` and ``ApproxGrower`` (bins re-cut before each
tree), ``ExactRows`` and ``gbdt.exact.ExactGrower`` (no bins).
"""
import functools

import numpy as np

from bindings.booster import Booster
from bindings.categorical import categorical_mask, category_edges
from bindings.dataset import aligned_dataset
from bindings.metrics import evaluate
from bindings.row_sampling import round_sample
from bindings.sparse_input import is_sparse
from gbdt.binning import bin_matrix, presorted_bin_edges
from gbdt.dtypes import G_H_DTYPE, IDX_DTYPE
from gbdt.exact import ColumnBlocks, ExactGrower, TreeRows
from gbdt.grower import TreeGrower, sampled_count
from gbdt.leaf_quantile import leaf_residual_quantiles
from gbdt.quantize import gradient_extremes, gradient_scales, quantize_gradients
from gbdt.sparse_histogram import histogram_builder
from gbdt.sparse_partition import row_partition
from gbdt.tree import Forest

__all__ = ["LocalRows", "ExactRows", "RebinnedRows", "ApproxRows", "EvalSet", "boost", "fit_dataset"]


def sample_indices(rng, n, fraction):
    """Sorted int32 indices of a ``fraction`` of range(n) (all of them when fraction == 1)."""
    if fraction >= 1.0:
        return np.arange(n, dtype=IDX_DTYPE)
    return np.sort(rng.choice(n, sampled_count(fraction, n), replace=False)).astype(IDX_DTYPE)


class LocalRows:
    """Training rows held in this process: bins, labels, running margins and gradients.

    The boosting loop talks to its rows only through ``compute_gradients``, ``start_round``,
    ``partition``, ``add_round`` and ``replay_round``; ``cluster`` provides the same methods over
    Dask workers.

    Parameters
    ----------
    X_binned : (n, F) uint8 bins; label : (n,); weight : (n,) training weights
    (``Loss.training_weight``) or empty; initial : (K,) initial margin; p : ``Params``;
    n_threads : histogram threads; row_ids : (n,) int64 global indices of these rows (Dask shards
    hold a part; row sampling and gradient rounding are keyed by them), or a function returning them
    (called when first read: a fit without row sampling or quantised gradients never reads them),
    None: 0..n-1; queries : for a ranking objective, the ``Loss.query_gradients`` of these rows' whole queries, else None;
    uniform_histograms : histograms of sparse bins in the dense layout (``histogram_builder``'s
    ``uniform``: Dask shards sum and slice every shard's histograms alike); route_by_columns :
    ``gbdt.histogram.HistogramBuilder``'s (False: no column copy of dense bins only to route rows by).
    """

    def __init__(self, X_binned, label, weight, initial, p, n_threads, row_ids=None, queries=None,
                 uniform_histograms=False, route_by_columns=True):
        self._init_rows(label.shape[0], label, weight, initial, p, row_ids, queries)
        self.X_binned = X_binned  # None: binned before each tree (ApproxRows)
        self.quantization = p.quantization  # None, or the bins and rounding of quantised gradients
        if self.quantization is not None:
            self.quantization.check_rows(label.shape[0])
        self.packed = None
        self.missing_bin = p.max_bin - 1
        self.split_mode, self.n_threads = p.split_mode, n_threads
        self.builder = None if X_binned is None else histogram_builder(X_binned, p.max_bin, p.split_mode, n_threads,
                                                                         uniform_histograms, route_by_columns)

    def _init_rows(self, n_rows, label, weight, initial, p, row_ids, queries):
        """The state every kind of rows keeps: labels, weights, loss, running margins (n, K) and gradients."""
        self.label, self.weight = label, weight
        self.loss = p.loss
        self.queries = queries
        self.leaf_alpha = p.loss.leaf_alpha
        self._row_ids = functools.partial(np.arange, n_rows, dtype=np.int64) if row_ids is None else row_ids
        self.seed = p.seed
        self.iteration = 0
        self.margin = np.empty((n_rows, initial.shape[0]))
        self.margin[:] = initial
        self.gh = np.empty((initial.shape[0], n_rows, 2), dtype=G_H_DTYPE)
        self.sampled = None

    @property
    def row_ids(self):
        """(n,) int64 global indices of these rows, made on first use and kept."""
        if callable(self._row_ids):
            self._row_ids = self._row_ids()
        return self._row_ids

    def compute_gradients(self, iteration):
        """Gradients of every row at the current margin for boosting round ``iteration`` (ranking
        objectives draw their pairs by round)."""
        if self.queries is not None:
            self.queries.gradients(np.ascontiguousarray(self.margin[:, 0]), iteration, self.gh[0])
        else:
            self.loss.gradients(self.margin, self.label, self.weight, self.gh.transpose(1, 0, 2))

    def start_round(self, subsample, iteration):
        """Draw round ``iteration``'s rows: each row with probability ``subsample``, by its global
        index. ``sampled`` stays None when every row is taken: each tree's partition numbers the rows
        itself, so no (n,) int32 copy of 0..n-1 is kept beside it (4 bytes a row)."""
        self.sampled = None  # the last round's rows go before the new ones are drawn
        if subsample < 1.0:
            self.sampled = round_sample(self.margin.shape[0], lambda: self.row_ids, subsample, self.seed, iteration)
        self.iteration = iteration

    @property
    def subsampled(self):
        return self.sampled is not None and self.sampled.shape[0] < self.margin.shape[0]

    def round_rows(self):
        """(m,) int32 ascending positions of the round's rows, in a fresh array (a partition reorders
        its own)."""
        return np.arange(self.margin.shape[0], dtype=np.int32) if self.sampled is None else self.sampled.copy()

    def partition(self, k, scale=None):
        """The round's rows as node 0 of a new tree for output k. Without row sampling the
        partition adds leaf values to the margins itself when the tree is finished. With
        quantised gradients, ``scale`` (s_g, s_h) is given when other shards' rows count too
        (the global extremes, see ``gradient_extremes``); None takes these rows' own."""
        margin = None if self.subsampled else self.margin
        gh, rows = self.gh[k], self.round_rows()
        if self.quantization is not None:
            gh, scale = self._quantized(k, rows, scale or gradient_scales(gh, rows, self.quantization.bins))
        refit = None if self.leaf_alpha is None else functools.partial(self._residual_quantiles, k)
        return row_partition(self.X_binned, gh, rows, self.missing_bin, self.builder, margin, k, gh_scale=scale,
                             leaf_refit=refit)

    def residuals(self, k, rows):
        """(label - margin of output k (m,), training weights (m,) or None) of ``rows`` (m,)."""
        return self.label[rows] - self.margin[rows, k], self.weight[rows] if self.weight.shape[0] else None

    def _residual_quantiles(self, k, rows, starts, stops):
        """(L,) ``leaf_alpha[k]``-quantiles of the (weighted) residuals of output k over the L leaves
        ``rows[starts[j]:stops[j]]``."""
        out = np.empty(starts.shape[0])
        leaf_residual_quantiles(rows, starts, stops, self.label, self.margin, k, self.weight, self.leaf_alpha[k], out)
        return out

    def gradient_extremes(self, k):
        """(max |g|, max h) of output k over the round's rows."""
        return gradient_extremes(self.gh[k], self.round_rows())

    def _quantized(self, k, rows, scale):
        """Output k's gradients of the round's ``rows`` as packed integers at ``scale`` (``gbdt.quantize``),
        and the scale; the stochastic rounding is keyed by the row and one 32-bit key drawn from
        (seed, round, output): one hash round per row instead of three (8.1 -> 3.2 ms per 1M rows)."""
        if self.packed is None:
            self.packed = np.empty(self.X_binned.shape[0], dtype=np.int64)
        key = int(np.random.SeedSequence([self.seed, self.iteration, k]).generate_state(1)[0])
        quantize_gradients(self.gh[k], rows, self.row_ids, *scale, self.quantization.stochastic, (key,),
                           self.packed)
        return self.packed, scale

    def add_round(self, trees):
        """Add the round's trees (one per output) to the training margins, unless the
        partitions already did (no row sampling)."""
        if self.subsampled:
            self.replay_round(trees)

    def replay_round(self, trees):
        """Add trees (one per output) to the margins by predicting them on the binned rows."""
        Forest(trees, range(len(trees)), len(trees)).predict(self.X_binned, self.margin, missing_bin=self.missing_bin)


class RawRows(LocalRows):
    """Rows whose trees keep raw thresholds only (``tree_method`` "exact" and "approx": no bins
    shared by every tree), so margins are replayed on the raw (n, F) float64 values ``self.X``."""

    def replay_round(self, trees):
        Forest(trees, range(len(trees)), len(trees)).predict(self.X, self.margin)


class ExactRows(RawRows):
    """Training rows of ``tree_method='exact'``: the raw (n, F) float64 matrix, sorted once into
    column blocks (``gbdt.exact.ColumnBlocks``); margins follow each tree on the raw values."""

    def __init__(self, X, label, weight, initial, p, queries=None):
        self._init_rows(X.shape[0], label, weight, initial, p, None, queries)
        self.X = X
        self.blocks = ColumnBlocks.from_dense(X)

    def partition(self, k, scale=None):
        """The gradients of output k and the round's rows, for ``gbdt.exact.ExactGrower``."""
        return TreeRows(self.gh[k], self.round_rows())

    def add_round(self, trees):
        self.replay_round(trees)


class RebinnedRows(RawRows):
    """Rows binned anew before each tree (``tree_method='approx'``): the raw (n, F) float64 values
    ``X`` are kept, and ``rebin`` bins them (dense bins) at the tree's edges. Local training's
    ``ApproxRows`` draws the edges itself; a Dask shard (``cluster.shard``) gets them from the
    leader's sketch over every shard. The rest as ``LocalRows``.
    """

    def __init__(self, X, label, weight, initial, p, n_threads, row_ids=None, queries=None):
        super().__init__(None, label, weight, initial, p, n_threads, row_ids, queries)
        self.X = X
        self.edges = self.n_edges = None

    def rebin(self, edges, n_edges):
        """Bin the rows at ``edges`` (F, max_bin - 1), ``n_edges`` (F,) (``compute_bin_edges``' form)
        for the next tree, and make its histogram builder."""
        max_bin = self.missing_bin + 1
        self.edges, self.n_edges = edges, n_edges
        self.X_binned = self.builder = None  # the last tree's bins go before the new ones are made
        self.X_binned = bin_matrix(self.X, edges, n_edges, max_bin)
        self.builder = histogram_builder(self.X_binned, max_bin, self.split_mode, self.n_threads)


class ApproxRows(RebinnedRows):
    """Training rows of ``tree_method='approx'``: before each tree the features are binned anew at
    weighted quantiles of the current hessians of its output (XGBoost's approx: ``max_bin`` bins,
    the sketch weighted by the hessian), then grown by the histogram kernels.

    dataset : the training ``Dataset`` (dense); the rest as ``LocalRows``.
    """

    def __init__(self, dataset, label, weight, initial, p, n_threads, queries=None):
        super().__init__(dense_raw(dataset, "dtrain", "approx", categorical=True), label, weight, initial, p,
                         n_threads, queries=queries)
        self.categories = dataset.categories
        self.blocks = ColumnBlocks.from_dense(self.X)  # sorted once: each tree's sketch needs no sort

    def partition(self, k, scale=None):
        """Bin the rows at the hessian-weighted quantiles of output k, then ``LocalRows.partition``."""
        max_bin = self.missing_bin + 1
        edges, n_edges = presorted_bin_edges(self.X, self.blocks.col_ptr, self.blocks.col_row, max_bin,
                                             self.gh[k, :, 1].astype(np.float64))
        self.rebin(*category_edges(edges, n_edges, self.categories, max_bin))
        return super().partition(k, scale)


class ApproxGrower:
    """``TreeGrower`` (or ``grower_class``, a subclass: the Dask leader's) over the bins that ``rows``
    (``ApproxRows``, or the Dask leader's rows) made for the tree being grown, their ``edges`` and
    ``n_edges``; the tree keeps raw thresholds only (``bin_threshold`` -1: its bins are its own)."""

    def __init__(self, rows, max_bin, growth, monotone, categorical, interactions, grower_class=TreeGrower):
        self.rows, self.max_bin, self.grower_class = rows, max_bin, grower_class
        self.args = growth, monotone, categorical, interactions

    def grow(self, partition, features, rng=None):
        grower = self.grower_class(self.rows.edges, self.rows.n_edges + 1, self.max_bin - 1, *self.args)
        tree = grower.grow(partition, features, rng)
        tree.bin_threshold[:] = -1
        return tree


def dense_raw(dataset, argument, method="exact", categorical=False):
    """The (n, F) float64 raw features of ``dataset`` for ``tree_method`` ``method``; ValueError for
    the input it cannot take (sparse matrices; categorical features unless ``categorical``)."""
    if is_sparse(dataset.data):
        raise ValueError(f"tree_method={method!r} needs dense {argument} (it keeps the raw values: every implicit "
                         "zero of a sparse matrix); use tree_method='hist' (served sparse) or pass a dense array")
    if dataset.categories and not categorical:
        raise ValueError(f"tree_method='exact' does not support categorical features (in {argument}: "
                         f"{sorted(dataset.categories)}), as XGBoost's; use tree_method='hist' or 'approx'")
    return dataset.data


class EvalSet:
    """An evaluation Dataset binned with the training edges (raw, for trees without bins:
    ``edges`` None), with its running margin; metrics see ``objective.metric_input`` of it
    (ranking metrics over its queries, NDCG with ``gain``: ``Params.ndcg_gain``)."""

    def __init__(self, dataset, name, edges, n_edges, max_bin, initial, objective, gain="exponential"):
        self.dataset, self.name, self.objective = dataset, name, objective
        self.gain = gain
        if edges is None:
            data = dataset.data
            self.X, self.missing_bin = (data.toarray() if is_sparse(data) else data), None
        else:
            self.X, self.missing_bin = dataset.binned(edges, n_edges, max_bin), max_bin - 1
        self.margin = np.empty((dataset.num_row, initial.shape[0]))
        self.margin[:] = initial

    def add_round(self, forest):
        """Add a round's trees (a ``Forest``) to the running margin."""
        forest.predict(self.X, self.margin, missing_bin=self.missing_bin)

    def scores(self, metrics):
        """{metric: value} at the current margin."""
        pred = self.objective.metric_input(self.margin)
        return {m: evaluate(m, self.dataset.label, pred, self.dataset.weight, self.dataset.group_ptr, self.gain)
                for m in metrics}


def fit_dataset(p, dtrain, num_boost_round, evals, callbacks, n_threads):
    """Train on Dataset ``dtrain`` (labels checked) with resolved parameters ``p``; ``evals`` a list
    of (Dataset, name). Returns (Booster, evaluation history)."""
    loss = p.loss
    weight = dtrain.weight if dtrain.weight is not None else np.empty(0)
    weight = loss.training_weight(dtrain.label, weight)
    initial = loss.initial_margin(loss.label_sums(dtrain.label, weight), dtrain.label, weight)
    queries = loss.query_gradients(dtrain.label, weight, dtrain.group_ptr) if loss.objective.queries else None
    if p.tree_method == "exact":
        edges = n_edges = None
        rows = ExactRows(dense_raw(dtrain, "dtrain"), dtrain.label, weight, initial, p, queries=queries)
    elif p.tree_method == "approx":
        edges = n_edges = None
        rows = ApproxRows(dtrain, dtrain.label, weight, initial, p, n_threads, queries=queries)
    else:
        edges, n_edges = dtrain.bin_edges(p.max_bin, seed=p.seed)
        X_binned = dtrain.binned(edges, n_edges, p.max_bin)
        rows = LocalRows(X_binned, dtrain.label, weight, initial, p, n_threads, queries=queries)
    booster = Booster(loss.objective.name, loss.outputs, dtrain.num_col, initial, dtrain.feature_names,
                      n_jobs=p.n_jobs)
    booster.categories = dtrain.categories
    booster.loss_params = loss.recorded_params
    eval_sets = [EvalSet(aligned_dataset(d, dtrain.categories), name, edges, n_edges, p.max_bin, initial,
                         loss.objective, p.ndcg_gain) for d, name in evals]
    history = boost(p, rows, booster, edges, n_edges, num_boost_round, eval_sets, callbacks)
    return booster, history


def boost(p, rows, booster, edges, n_edges, num_boost_round, eval_sets, callbacks, grower_class=TreeGrower):
    """The boosting loop over ``rows`` (LocalRows or a distributed equivalent); fills ``booster``
    up to ``num_boost_round`` rounds, evaluating ``p.metrics`` on ``eval_sets``. Rounds already in
    ``booster`` (a resumed fit) are replayed into the margins first, then training continues.
    grower_class : ``TreeGrower`` or a subclass (the Dask leader's, whose shards search the splits); with
    ``tree_method='approx'`` each tree's grower is one, over that tree's edges (``ApproxGrower``).

    Returns the evaluation history ``{eval name: {metric: [value per round]}}`` of the new rounds.
    """
    n_outputs, growth, metrics = p.loss.outputs, p.growth, p.metrics
    monotone = p.constraints.monotone_vector(booster.num_feature, booster.feature_names)
    categorical = categorical_mask(booster.categories, booster.num_feature)
    if (monotone[categorical] != 0).any():
        raise ValueError(f"monotone_constraints on categorical features {np.flatnonzero(categorical & (monotone != 0))}"
                         "; categories have no order, so constrain numeric features only")
    interactions = p.constraints.interaction_matrix(booster.num_feature, booster.feature_names)
    if p.tree_method == "exact":
        grower = ExactGrower(rows.X, rows.blocks, growth, monotone, interactions)
    elif p.tree_method == "approx":
        grower = ApproxGrower(rows, p.max_bin, growth, monotone, categorical, interactions, grower_class)
    else:
        grower = grower_class(edges, n_edges + 1, p.max_bin - 1, growth, monotone, categorical, interactions)
    per_level = growth.colsample_bylevel < 1.0 or growth.colsample_bynode < 1.0
    feature_rng = np.random.default_rng([p.seed, 2])
    history = {es.name: {m: [] for m in metrics} for es in eval_sets}
    done = booster.num_boosted_rounds()
    for r in range(done):
        sample_indices(feature_rng, booster.num_feature, p.sampling.colsample_bytree)  # as drawn by an unbroken fit
        trees = booster.trees[r * n_outputs:(r + 1) * n_outputs]
        rows.replay_round(trees)
        replayed = Forest(trees, range(n_outputs), n_outputs)
        for es in eval_sets:
            es.add_round(replayed)
    for cb in callbacks:
        cb.before_training(booster)
    for iteration in range(done, num_boost_round):
        rows.compute_gradients(iteration)
        rows.start_round(p.sampling.subsample, iteration)
        features = sample_indices(feature_rng, booster.num_feature, p.sampling.colsample_bytree)
        # each tree samples levels and nodes with its own generator, so a resumed fit needs no replay
        trees = [grower.grow(rows.partition(k), features,
                             np.random.default_rng([p.seed, 3, iteration, k]) if per_level else None)
                 for k in range(n_outputs)]
        booster.append_round(trees)
        rows.add_round(trees)
        new_round = Forest(trees, range(n_outputs), n_outputs) if eval_sets else None
        for es in eval_sets:
            es.add_round(new_round)
            for m, value in es.scores(metrics).items():
                history[es.name][m].append(value)
        if any([cb.after_iteration(booster, iteration, history) for cb in callbacks]):
            break
    for cb in callbacks:
        cb.after_training(booster)
    booster.evals_result = history
    return history
