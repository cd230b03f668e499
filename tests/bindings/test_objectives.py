"""Objectives (``bindings.objectives``): gradients/hessians against finite differences of the
losses, intercepts against their closed forms."""
import numpy as np
import pytest

from bindings.objectives import OBJECTIVES, Loss, LossParams


def gradients(objective, margin, label, weight, gh, losses):
    OBJECTIVES[objective].gradients(margin, label, weight, gh, losses)


def base_margin(objective, sums, n_outputs):
    return Loss(OBJECTIVES[objective], n_outputs, LossParams(0.0, 1.5, None, 1.0)).initial_margin(sums)


def label_sums(objective, label, weight, n_outputs, losses):
    return Loss(OBJECTIVES[objective], n_outputs, losses).label_sums(label, weight)


def transform(objective, margin):
    return OBJECTIVES[objective].predict(margin)

rng = np.random.default_rng(0)
TWEEDIE_POWER = 1.3
HUBER_SLOPE = 0.7


def losses(objective, margin, label):
    if objective == "reg:squarederror":
        return 0.5 * (margin[:, 0] - label) ** 2
    if objective == "binary:logistic":
        z = margin[:, 0]
        return np.logaddexp(0, z) - label * z
    if objective == "count:poisson":
        return np.exp(margin[:, 0]) - label * margin[:, 0]
    if objective == "reg:gamma":
        return label * np.exp(-margin[:, 0]) + margin[:, 0]
    if objective == "reg:squaredlogerror":
        return 0.5 * (np.log1p(margin[:, 0]) - np.log1p(label)) ** 2
    if objective == "reg:pseudohubererror":
        return HUBER_SLOPE ** 2 * (np.sqrt(1 + ((margin[:, 0] - label) / HUBER_SLOPE) ** 2) - 1)
    if objective == "reg:tweedie":
        rho = TWEEDIE_POWER
        return -label * np.exp((1 - rho) * margin[:, 0]) / (1 - rho) + np.exp((2 - rho) * margin[:, 0]) / (2 - rho)
    logp = margin - np.logaddexp.reduce(margin, axis=1, keepdims=True)
    return -logp[np.arange(len(label)), label.astype(int)]


@pytest.mark.parametrize("objective,k", [("reg:squarederror", 1), ("binary:logistic", 1), ("multi:softprob", 4),
                                         ("count:poisson", 1), ("reg:gamma", 1), ("reg:tweedie", 1),
                                         ("reg:pseudohubererror", 1), ("reg:squaredlogerror", 1)])
def test_gradient_matches_finite_difference(objective, k):
    n = 50
    margin = rng.standard_normal((n, k)) * 2
    label = {"reg:squarederror": rng.standard_normal(n), "binary:logistic": rng.integers(0, 2, n).astype(float),
             "multi:softprob": rng.integers(0, k, n).astype(float),
             "count:poisson": rng.poisson(2.0, n).astype(float), "reg:gamma": rng.gamma(2.0, 1.0, n),
             "reg:tweedie": rng.poisson(1.0, n) * rng.gamma(2.0, 1.0, n),
             "reg:pseudohubererror": rng.standard_normal(n) * 3,
             "reg:squaredlogerror": rng.uniform(0.5, 2.0, n)}[objective]
    if objective == "reg:squaredlogerror":  # where the hessian is positive, so not clipped to 1e-6
        margin = rng.uniform(0.5, 2.0, (n, k))
    weight = rng.uniform(0.5, 2.0, n)
    gh = np.empty((n, k, 2), dtype=np.float32)
    # max_delta_step 0: the plain Poisson hessian
    gradients(objective, margin, label, weight, gh, LossParams(0.0, TWEEDIE_POWER, (0.5,), HUBER_SLOPE))
    eps = 1e-5
    for c in range(k):
        step = np.zeros_like(margin)
        step[:, c] = eps
        lp, l0, lm = (losses(objective, margin + s, label) for s in (step, 0 * step, -step))
        np.testing.assert_allclose(gh[:, c, 0], weight * (lp - lm) / (2 * eps), rtol=1e-4, atol=1e-5)
        second = weight * (lp - 2 * l0 + lm) / eps**2
        if objective == "multi:softprob":  # XGBoost's hessian is 2x the diagonal curvature
            second = 2 * second
        np.testing.assert_allclose(gh[:, c, 1], second, rtol=1e-2, atol=1e-4)


def test_cox_gradient_matches_finite_differences_row_by_row():
    """Cox's partial likelihood couples the rows (risk sets), so each row is perturbed alone:
    gradient and diagonal hessian of sum over events of [log sum_{t_j >= t_i} e^(m_j) - m_i],
    times the row weights. Distinct times: with ties the kernel, as XGBoost's, counts for a row
    only the tied events before it in the stable time order (the XGBoost comparison covers ties)."""
    n = 40
    time = rng.permutation(n) + 1.0
    label = np.where(rng.random(n) < 0.6, time, -time)
    margin = rng.standard_normal((n, 1))
    weight = rng.uniform(0.5, 2.0, n)

    def loss(m):
        events = label > 0
        risk = np.array([np.exp(m[time >= t]).sum() for t in time[events]])
        return float((np.log(risk) - m[events]).sum())

    gh = np.empty((n, 1, 2), dtype=np.float32)
    gradients("survival:cox", margin, label, weight, gh, LossParams(0.0, 1.5, (0.5,), 1.0))
    eps = 1e-4
    for i in range(n):
        step = np.zeros(n)
        step[i] = eps
        lp, l0, lm = (loss(margin[:, 0] + s) for s in (step, 0 * step, -step))
        assert gh[i, 0, 0] == pytest.approx(weight[i] * (lp - lm) / (2 * eps), rel=1e-4, abs=1e-5)
        assert gh[i, 0, 1] == pytest.approx(weight[i] * (lp - 2 * l0 + lm) / eps**2, rel=1e-2, abs=1e-4)


def test_absolute_and_quantile_gradients():
    """Sign-like gradients (0 at a tie for absolute error; 1 - alpha from the tie up for the pinball
    loss) with unit hessians, times the weights."""
    margin = np.array([[1.0], [2.0], [3.0]])
    label, weight = np.array([2.0, 2.0, 2.0]), np.array([1.0, 2.0, 0.5])
    gh = np.empty((3, 1, 2), dtype=np.float32)
    gradients("reg:absoluteerror", margin, label, weight, gh, LossParams(0.0, 1.5, (0.9,), 1.0))
    np.testing.assert_array_equal(gh[:, 0, 0], [-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(gh[:, 0, 1], weight)
    gradients("reg:quantileerror", margin, label, weight, gh, LossParams(0.0, 1.5, (0.75,), 1.0))
    np.testing.assert_array_equal(gh[:, 0, 0], [-0.75, 0.5, 0.125])
    np.testing.assert_array_equal(gh[:, 0, 1], weight)
    # several quantiles: output k takes the k-th
    gh2 = np.empty((3, 2, 2), dtype=np.float32)
    two = LossParams(0.0, 1.5, (0.75, 0.25), 1.0)
    gradients("reg:quantileerror", np.hstack([margin, margin]), label, weight, gh2, two)
    np.testing.assert_array_equal(gh2[:, 0, 0], [-0.75, 0.5, 0.125])
    np.testing.assert_array_equal(gh2[:, 1, 0], [-0.25, 1.5, 0.375])


def test_base_margin_and_transform():
    losses = LossParams(0.0, 1.5, (0.5,), 1.0)

    def sums(objective, label, weight, n_classes=1):
        return label_sums(objective, np.array(label), None if weight is None else np.array(weight), n_classes, losses)

    m = base_margin("binary:logistic", sums("binary:logistic", [1.0, 1, 1, 0], None), 1)
    assert transform("binary:logistic", np.array([m]))[0] == pytest.approx(0.75)
    assert base_margin("reg:squarederror", sums("reg:squarederror", [1.0, 0.75], [1.0, 3.0]), 1)[0] == 0.8125
    # softmax: log class shares (weighted, at least 1e-6) less their mean; classes absent from the labels too
    softmax = sums("multi:softprob", [0.0, 2, 2, 0, 0], [1.0, 1, 2, 1, 1], 4)
    np.testing.assert_array_equal(softmax, [6.0, 6.0, 0.0, 0.0, 3.0, 0.0, 3.0, 0.0])
    log_share = np.log([0.5, 1e-6, 0.5, 1e-6])
    np.testing.assert_allclose(base_margin("multi:softprob", softmax, 4), log_share - log_share.mean(), rtol=1e-12)
    # log-link objectives: the log of the weighted label mean, predicted back as exp(margin)
    m = base_margin("reg:gamma", sums("reg:gamma", [1.0, 4.0], [3.0, 1.0]), 1)
    assert m[0] == pytest.approx(np.log(1.75)) and transform("reg:tweedie", np.array([m]))[0] == pytest.approx(1.75)
    # pseudo-Huber: one Newton step from 0, -sum w g / sum w h with g = -y / s, h = 1 / s^3, s = sqrt(1 + y^2)
    y, w = np.array([1.0, -2.0, 4.0]), np.array([1.0, 2.0, 0.5])
    s = np.sqrt(1 + y**2)
    expected = np.sum(w * y / s) / np.sum(w / s**3)
    huber = base_margin("reg:pseudohubererror", sums("reg:pseudohubererror", y, w), 1)[0]
    assert huber == pytest.approx(expected, rel=1e-6)
    p = transform("multi:softprob", rng.standard_normal((5, 3)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def _accepted_labels(objective, n):
    """Labels ``objective`` accepts, read from its ``Labels``: classes 0..2, 0/1, or values in [0.5, 3);
    relevance 0/1 for ranking (every gain and rank:map take them)."""
    labels = objective.labels
    if labels.below_classes:
        return rng.integers(0, 3, n).astype(float)
    if labels.high < np.inf or objective.queries:
        return rng.integers(0, 2, n).astype(float)
    return rng.uniform(0.5, 3.0, n)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_of_the_table_trains_evaluates_and_round_trips(name, tmp_path):
    """What the table says of an objective is all that training, evaluation, prediction, the model
    format and the estimators need: each entry trains, evaluates its default metric on the binned
    evaluation margins as on the predicted ones, saves and loads, travels to Dask workers by name,
    is taken by the estimator of its task, and its label domain is enforced. Ranking objectives
    train over queries (30 of 10 rows) and are evaluated over them."""
    import pickle

    from bindings import Booster, Dataset, GBDTClassifier, GBDTRanker, GBDTRegressor, train
    from bindings.metrics import evaluate
    from bindings.params import resolve_params

    objective = OBJECTIVES[name]
    X = rng.standard_normal((300, 3))
    y = _accepted_labels(objective, 300)
    group = np.full(30, 10) if objective.queries else None
    params = {"objective": name, "max_depth": 2, "n_jobs": 1,
              **({"num_class": 3} if objective.outputs == "classes" else {}),
              **({"quantile_alpha": [0.3, 0.7]} if objective.outputs == "quantiles" else {})}
    p = resolve_params(params)
    assert pickle.loads(pickle.dumps(p)).loss.objective is objective
    history = {}
    booster = train(params, Dataset(X, y, group=group), 3, evals=[(Dataset(X, y, group=group), "train")],
                    evals_result=history)
    metric, values = next(iter(history["train"].items()))  # LightGBM's ranking objectives: ndcg@1..5
    assert (metric, len(values)) == (p.metrics[0], 3)
    margin = booster.predict(X, output_margin=True).reshape(300, p.loss.outputs)
    queries = None if group is None else np.concatenate(([0], np.cumsum(group)))
    assert values[-1] == pytest.approx(evaluate(metric, y, objective.metric_input(margin), None, queries, p.ndcg_gain),
                                       rel=1e-9, abs=1e-12)
    booster.save_model(tmp_path / "model.json")
    np.testing.assert_array_equal(Booster.load_model(tmp_path / "model.json").predict(X), booster.predict(X))
    if objective.task == "regression":
        estimator = GBDTRegressor(objective=name, n_estimators=3, max_depth=2, n_jobs=1, **{
            k: v for k, v in params.items() if k == "quantile_alpha"}).fit(X, y)
    elif objective.task == "ranking":
        estimator = GBDTRanker(objective=name, n_estimators=3, max_depth=2, n_jobs=1).fit(X, y, group=group)
    else:
        estimator = GBDTClassifier(n_estimators=3, max_depth=2, n_jobs=1).fit(X, y)
        assert estimator.booster_.num_class == (3 if objective.task == "multiclass" else 1)
    if objective.task in ("regression", "ranking") or objective.link == "logit" or objective.outputs == "classes":
        np.testing.assert_array_equal(estimator.booster_.predict(X, output_margin=True),
                                      booster.predict(X, output_margin=True))
    if objective.labels.low > -np.inf:
        with pytest.raises(ValueError, match=f"dtrain labels must be .* for {name}"):
            train(params, Dataset(X, y - 10.0, group=group), 1)
    if objective.queries:  # relevance degrees (rank:pairwise takes any finite label), and queries
        with pytest.raises(ValueError, match="dtrain labels must be"):
            train({**params, "objective": "rank:ndcg"}, Dataset(X, y - 10.0, group=group), 1)
        with pytest.raises(ValueError, match="no query groups"):
            train(params, Dataset(X, y), 1)


def test_an_entry_with_an_unknown_description_is_refused():
    """A misspelt field of a new entry raises when the table is built, instead of falling back."""
    from bindings.objectives import Objective

    kernel = OBJECTIVES["reg:squarederror"].gradients
    with pytest.raises(ValueError, match="intercept must be one of"):
        Objective("reg:new", kernel, intercept="newtn")
    with pytest.raises(ValueError, match="link must be one of"):
        Objective("reg:new", kernel, link="probit")
    with pytest.raises(ValueError, match="quantile intercept and leaf quantiles go together"):
        Objective("reg:new", kernel, intercept="quantile")
    with pytest.raises(ValueError, match="query gradients .* and queries go together"):
        Objective("rank:new", kernel, queries=True)
