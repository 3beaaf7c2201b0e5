"""monotonic_cst and interaction_cst: parameters, and what the models obey."""

import numpy as np
import pandas as pd
import pytest

from accelboost import AccelBoostClassifier, AccelBoostRegressor

REGRESSION_LOSSES = sorted(
    AccelBoostRegressor._parameter_constraints["loss"][0].options
)
POLICIES = [
    dict(stage_init="zero"),
    dict(stage_init="stacking", momentum=0.5),
    dict(stage_init="stacking", momentum="nesterov"),
    dict(stage_init="agbm"),
]
POLICY_IDS = ["zero", "stacking", "nesterov", "agbm"]


def _monotone_problem(n=600, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    # Rises with x0 and falls with x1 on average, but noisy and non-monotone
    # locally, so unconstrained trees break both.
    y = (X[:, 0] + np.sin(6 * X[:, 0]) - X[:, 1] + 0.8 * np.sin(5 * X[:, 1])
         + X[:, 2] * X[:, 3] + rng.normal(scale=0.5, size=n))
    return X, y


def _along(model, X, feature, method):
    """Predictions on a grid of ``feature``, the others fixed at rows of X."""
    grid = np.linspace(-2.5, 2.5, 60)
    rows = np.repeat(X[:25], len(grid), axis=0)
    rows[:, feature] = np.tile(grid, 25)
    return getattr(model, method)(rows).reshape(25, len(grid))


def _check_monotone(model, X, method):
    increasing = np.diff(_along(model, X, 0, method), axis=1)
    decreasing = np.diff(_along(model, X, 1, method), axis=1)
    assert increasing.min() >= 0, increasing.min()
    assert decreasing.max() <= 0, decreasing.max()


def _targets(loss, y):
    if loss in ("poisson", "gamma", "tweedie"):
        return np.exp(0.5 * y)
    return y


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_regressors_are_monotone_along_constrained_features(loss, policy):
    X, y = _monotone_problem()
    params = {"quantile": 0.7} if loss == "quantile" else {}
    model = AccelBoostRegressor(
        loss=loss, monotonic_cst=[1, -1, 0, 0], max_iter=30, learning_rate=0.3,
        max_leaf_nodes=8, min_samples_leaf=5, early_stopping=False, **params,
        **policy,
    ).fit(X, _targets(loss, y))
    _check_monotone(model, X, "predict")


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_binary_classifier_is_monotone_along_constrained_features(policy):
    X, y = _monotone_problem()
    model = AccelBoostClassifier(
        monotonic_cst=[1, -1, 0, 0], max_iter=30, learning_rate=0.5,
        max_leaf_nodes=8, min_samples_leaf=5, early_stopping=False, **policy,
    ).fit(X, y > np.median(y))
    _check_monotone(model, X, "decision_function")


def test_unconstrained_trees_are_not_monotone_here():
    # The check above can fail: without constraints this problem breaks it.
    X, y = _monotone_problem()
    model = AccelBoostRegressor(max_iter=30, learning_rate=0.3, max_leaf_nodes=8,
                                min_samples_leaf=5, early_stopping=False).fit(X, y)
    with pytest.raises(AssertionError):
        _check_monotone(model, X, "predict")


def test_constraints_by_feature_name():
    X, y = _monotone_problem()
    frame = pd.DataFrame(X, columns=["up", "down", "a", "b"])
    by_name = AccelBoostRegressor(monotonic_cst={"up": 1, "down": -1}, max_iter=20,
                                  early_stopping=False).fit(frame, y)
    by_position = AccelBoostRegressor(monotonic_cst=[1, -1, 0, 0], max_iter=20,
                                      early_stopping=False).fit(X, y)
    np.testing.assert_array_equal(by_name.predict(frame), by_position.predict(X))


@pytest.mark.parametrize(
    "monotonic_cst, match",
    [
        ([1, 2, 0, 0], "must be an array-like of -1, 0 or 1"),
        ([1, 0], "has shape"),
        ({"up": 1}, "not fitted on data with feature names"),
    ],
)
def test_bad_monotonic_constraints_are_rejected(monotonic_cst, match):
    X, y = _monotone_problem(100)
    with pytest.raises(ValueError, match=match):
        AccelBoostRegressor(monotonic_cst=monotonic_cst).fit(X, y)


def test_monotonic_constraints_need_a_binary_or_regression_task():
    X, y = _monotone_problem(300)
    with pytest.raises(ValueError, match="not supported for multiclass"):
        AccelBoostClassifier(monotonic_cst=[1, 0, 0, 0]).fit(X, np.digitize(y, [-1, 1]))


def test_categorical_features_cannot_be_monotonic():
    X, y = _monotone_problem(300)
    frame = pd.DataFrame(X)
    frame[3] = pd.Categorical(np.round(X[:, 3]).astype(int))
    with pytest.raises(ValueError, match="Categorical features cannot have monotonic"):
        AccelBoostRegressor(monotonic_cst=[0, 0, 0, 1]).fit(frame, y)
