"""Terms of additive models: exact decomposition, shape functions, importances."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from accelboost import AccelBoostClassifier, AccelBoostRegressor


def _data(n=2000, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    X[rng.rand(n) < 0.1, 2] = np.nan
    f = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 / 2 + np.nan_to_num(X[:, 2], nan=1.0)
    f = f + 0.5 * X[:, 0] * X[:, 3]
    return X, f + 0.2 * rng.normal(size=n)


MODELS = {
    "main effects": dict(interaction_cst="no_interactions", max_leaf_nodes=8),
    "pairs": dict(interaction_cst="pairwise", max_leaf_nodes=6),
    "stumps, no constraint": dict(max_leaf_nodes=2),
    "depth 2, no constraint": dict(max_depth=2, max_leaf_nodes=None),
    "nesterov": dict(interaction_cst="no_interactions", stage_init="stacking",
                     momentum="nesterov"),
    "agbm": dict(interaction_cst="no_interactions", stage_init="agbm"),
}


def _fit(task, params, n=2000):
    X, y = _data(n)
    common = dict(max_iter=30, learning_rate=0.3, random_state=0,
                  early_stopping=False, **params)
    if task == "regression":
        return X, y, AccelBoostRegressor(**common).fit(X, y)
    labels = np.digitize(y, [1.0] if task == "binary" else [0.5, 1.5])
    return X, labels, AccelBoostClassifier(**common).fit(X, labels)


def _raw(model, X):
    if isinstance(model, AccelBoostRegressor):
        return model.predict(X)  # squared error: the identity link
    return model.decision_function(X)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
@pytest.mark.parametrize("name", list(MODELS))
def test_terms_sum_to_the_raw_prediction(task, name):
    X, _, model = _fit(task, MODELS[name])
    terms = model.predict_terms(X)
    n_terms = len(model.term_features_)
    assert terms.shape[:2] == (len(X), n_terms)
    assert all(1 <= len(t) <= 2 for t in model.term_features_)
    assert_allclose(model.intercept_ + terms.sum(axis=1), _raw(model, X),
                    rtol=0, atol=1e-10)
    if "no_interactions" in MODELS[name].values() or name.startswith("stumps"):
        assert all(len(t) == 1 for t in model.term_features_)


@pytest.mark.parametrize("name", ["main effects", "pairs"])
def test_shape_function_is_the_term_on_each_bin(name):
    X, _, model = _fit("regression", MODELS[name])
    binned = model._bin_mapper.transform(X)
    missing_bin = model._bin_mapper.missing_bin_
    terms = model.predict_terms(X)
    for k, features in enumerate(model.term_features_):
        shape = model.shape_function(k)
        assert shape.term == features and shape.name == model.term_names_[k]
        # Row r's bin along each feature; the NaN bin is the last entry.
        index = tuple(
            np.where(binned[:, f] == missing_bin, shape.values.shape[axis] - 1,
                     binned[:, f])
            for axis, f in enumerate(features)
        )
        assert_array_equal(shape.values[index], terms[:, k])
        for f, thresholds in zip(features, shape.thresholds, strict=True):
            assert len(thresholds) == model._bin_mapper.n_bins_non_missing_[f]
            assert thresholds[-1] == np.inf


def test_term_importances_are_mean_absolute_contributions_on_training_rows():
    X, _, model = _fit("regression", MODELS["pairs"])
    expected = np.abs(model.predict_terms(X)).mean(axis=0)
    assert_allclose(model.term_importances(), expected, rtol=1e-10)


def test_weighted_importances_weigh_the_rows():
    X, y = _data()
    w = np.random.RandomState(1).uniform(0, 3, size=len(y))
    model = AccelBoostRegressor(interaction_cst="no_interactions", max_iter=20,
                                early_stopping=False).fit(X, y, sample_weight=w)
    expected = np.average(np.abs(model.predict_terms(X)), axis=0, weights=w)
    assert_allclose(model.term_importances(), expected, rtol=1e-10)


def test_terms_are_named_after_the_features():
    X, y = _data()
    frame = pd.DataFrame(X, columns=["age", "income", "height", "score"])
    model = AccelBoostRegressor(interaction_cst=[[0, 3]], max_iter=20).fit(frame, y)
    assert "age & score" in model.term_names_
    assert model.shape_function("age & score").values.ndim == 2
    with pytest.raises(ValueError, match="Unknown term 'weight'"):
        model.shape_function("weight")
    with pytest.raises(ValueError, match="term must be a name or an index"):
        model.shape_function(len(model.term_names_))


def test_a_model_with_deeper_interactions_has_no_terms():
    X, y = _data()
    model = AccelBoostRegressor(max_iter=5, max_leaf_nodes=31).fit(X, y)
    with pytest.raises(ValueError, match="not a sum of main effects and pairs"):
        model.predict_terms(X)
    with pytest.raises(ValueError, match="not a sum of main effects and pairs"):
        model.term_importances()


def test_a_refit_with_as_many_trees_has_its_own_terms():
    X, y = _data()
    model = AccelBoostRegressor(max_iter=10, interaction_cst="no_interactions")
    assert all(len(t) == 1 for t in model.fit(X, y).term_features_)
    model.set_params(interaction_cst="pairwise", max_leaf_nodes=6).fit(X, y)
    assert any(len(t) == 2 for t in model.term_features_)
    assert_allclose(model.intercept_ + model.predict_terms(X).sum(axis=1),
                    model.predict(X), rtol=0, atol=1e-10)

