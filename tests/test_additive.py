"""The additive estimators: exact tables, the pair phase, bags, and errors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_squared_error

from accelboost import (
    AccelBoostClassifier,
    AccelBoostRegressor,
    AdditiveBoostClassifier,
    AdditiveBoostRegressor,
)
from accelboost.additive import _as_codes


def make_data(n=4000, seed=0, interaction=True):
    """Main effects on x0, x1, a pure interaction of x2 and x3, noise x4."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    X[rng.random(n) < 0.05, 1] = np.nan
    y = np.sin(2 * X[:, 0]) + np.nan_to_num(X[:, 1], nan=1.5) ** 2 / 2
    if interaction:
        y = y + np.sign(X[:, 2]) * np.sign(X[:, 3])
    return X, y + rng.normal(scale=0.3, size=n)


def bag_raw(model, X):
    """The bags' average raw prediction, from their trees (main effects)."""
    codes = _as_codes(model._bin_mapper.transform(X), model._bin_mapper.missing_bin_)
    return np.mean([bag._raw_predict(codes) for bag in model._bags], axis=0)


@pytest.mark.parametrize("n_bags", [1, 3])
def test_main_effect_tables_equal_the_bags_trees(n_bags):
    X, y = make_data(interaction=False)
    model = AdditiveBoostRegressor(interactions=0, n_bags=n_bags, random_state=0,
                                   max_iter=300).fit(X, y)
    assert_allclose(model.predict(X), bag_raw(model, X)[:, 0], rtol=0, atol=1e-10)
    assert len(model.n_iter_) == n_bags


def test_plain_additive_equals_plain_one_feature_boosting():
    """With momentum 0, one bag and no pairs, the model is HGB-style boosting
    with interaction_cst="no_interactions" (to the order of additions)."""
    X, y = make_data(n=2000, interaction=False)
    params = dict(learning_rate=0.3, max_iter=60, max_leaf_nodes=3,
                  min_samples_leaf=20, max_bins=200, early_stopping=False)
    additive = AdditiveBoostRegressor(stage_init="zero", interactions=0, n_bags=1,
                                      random_state=0, **params).fit(X, y)
    plain = AccelBoostRegressor(stage_init="zero", interaction_cst="no_interactions",
                                random_state=0, **params).fit(X, y)
    X_test, _ = make_data(n=1000, seed=1, interaction=False)
    assert_allclose(additive.predict(X_test), plain.predict(X_test), atol=1e-10)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_terms_sum_to_the_raw_prediction_and_are_centred(task):
    X, y = make_data()
    if task == "regression":
        model = AdditiveBoostRegressor(interactions=2, random_state=0, max_iter=200)
    else:
        y = np.digitize(y, [1.0] if task == "binary" else [0.5, 1.5])
        model = AdditiveBoostClassifier(interactions=2, random_state=0, max_iter=200)
    model.fit(X, y)
    terms = model.predict_terms(X)
    raw = model.decision_function(X) if task != "regression" else model.predict(X)
    assert_allclose(model.intercept_ + terms.sum(axis=1), raw, rtol=0, atol=1e-10)
    # Each term has weighted mean zero over the training data.
    assert_allclose(terms.mean(axis=0), 0.0, atol=1e-9)
    assert len(model.term_names_) == terms.shape[1]


def test_pair_phase_finds_and_fits_a_pure_interaction():
    X, y = make_data()
    X_test, y_test = make_data(seed=1)
    mains = AdditiveBoostRegressor(interactions=0, random_state=0).fit(X, y)
    pairs = AdditiveBoostRegressor(interactions=1, random_state=0).fit(X, y)
    assert pairs.pairs_ == [(2, 3)]
    assert (2, 3) in pairs.term_features_
    # The interaction has variance 1, the noise 0.09.
    assert mean_squared_error(y_test, mains.predict(X_test)) > 0.9
    assert mean_squared_error(y_test, pairs.predict(X_test)) < 0.3
    importances = pairs.term_importances()
    assert np.argmax(importances) == pairs.term_features_.index((2, 3))


def test_given_pairs_are_used_as_given():
    X, y = make_data()
    model = AdditiveBoostRegressor(interactions=[[3, 2], (0, 4)], random_state=0,
                                   max_iter=200).fit(X, y)
    assert model.pairs_ == [(2, 3), (0, 4)]
    assert set(model.term_features_) <= {(f,) for f in range(5)} | {(2, 3), (0, 4)}


def test_shape_functions_read_like_predict_terms():
    X, y = make_data()
    model = AdditiveBoostRegressor(interactions=1, random_state=0,
                                   max_iter=200).fit(X, y)
    contributions = model.predict_terms(X)
    for k, term in enumerate(model.term_features_):
        shape = model.shape_function(k)
        assert shape.term == term and shape.name == model.term_names_[k]
        cells = []
        for f, edges in zip(term, shape.thresholds, strict=True):
            assert edges[-1] == np.inf and np.all(np.diff(edges) > 0)
            assert shape.values.shape[len(cells)] == len(edges) + 1  # + NaN cell
            cell = np.searchsorted(edges, X[:, f], side="left")
            cells.append(np.where(np.isnan(X[:, f]), len(edges), cell))
        assert_allclose(shape.values[tuple(cells)], contributions[:, k], atol=1e-12)


def test_the_model_does_not_depend_on_the_thread_count():
    X, y = make_data()
    fits = [
        AdditiveBoostClassifier(interactions=2, n_bags=2, random_state=0,
                                max_iter=150, n_threads=t).fit(X, y > 1)
        for t in (1, 2)
    ]
    assert_array_equal(fits[0].decision_function(X), fits[1].decision_function(X))
    assert fits[0].term_features_ == fits[1].term_features_


def test_bags_differ_and_average():
    X, y = make_data()
    one = AdditiveBoostRegressor(interactions=0, n_bags=1, random_state=0,
                                 max_iter=200)
    three = AdditiveBoostRegressor(interactions=0, n_bags=3, random_state=0,
                                   max_iter=200)
    one.fit(X, y)
    three.fit(X, y)
    assert len({int(n) for n in three.n_iter_}) > 1 or not np.array_equal(
        three._bags[0].predict(X), three._bags[1].predict(X)
    )
    assert not np.allclose(one.predict(X), three.predict(X))


def test_accuracy_is_on_par_with_one_feature_histgradientboosting():
    X, y = make_data(n=8000, interaction=False)
    X_test, y_test = make_data(n=4000, seed=1, interaction=False)
    ours = AdditiveBoostRegressor(interactions=0, random_state=0).fit(X, y)
    hgb = HistGradientBoostingRegressor(
        interaction_cst="no_interactions", max_iter=2000, early_stopping=True,
        validation_fraction=0.15, n_iter_no_change=50, random_state=0,
    ).fit(X, y)
    ours_mse = mean_squared_error(y_test, ours.predict(X_test))
    hgb_mse = mean_squared_error(y_test, hgb.predict(X_test))
    assert ours_mse <= 1.03 * hgb_mse


@pytest.mark.parametrize(
    "interactions",
    [[(0, 0)], [(0, 5)], [(0,)], [("a", 1)]],
)
def test_invalid_pairs_are_named(interactions):
    X, y = make_data(n=300)
    with pytest.raises(ValueError, match="interactions must be an int or a list of"):
        AdditiveBoostRegressor(interactions=interactions).fit(X, y)


def test_unknown_term_is_named():
    X, y = make_data(n=300)
    model = AdditiveBoostRegressor(interactions=0, max_iter=20).fit(X, y)
    with pytest.raises(ValueError, match="Unknown term 'nope'"):
        model.shape_function("nope")
    with pytest.raises(ValueError, match="term must be a name or an index"):
        model.shape_function(99)


def test_plot_shape_functions_draws_every_term():
    import matplotlib

    matplotlib.use("Agg")
    from accelboost.plotting import plot_shape_functions

    X, y = make_data()
    model = AdditiveBoostRegressor(interactions=1, random_state=0,
                                   max_iter=100).fit(X, y)
    axes = plot_shape_functions(model)
    assert [ax.get_title() for ax in axes] == model.term_names_


def test_stage_counts_and_curves_follow_both_phases():
    X, y = make_data()
    model = AdditiveBoostRegressor(interactions=1, random_state=0,
                                   max_iter=300).fit(X, y)
    bag = model._bags[0]
    curve = model.validation_score_[0]
    # The curve: the baseline, every main-effect stage, every pair stage.
    assert_array_equal(curve[: bag.n_iter_ + 1], bag.validation_score_)
    pair_curve = curve[bag.n_iter_ + 1 :]
    # Pair stages are kept up to the best validation score of the phase.
    kept = model.n_iter_[0] - bag.n_iter_
    assert 0 < kept <= len(pair_curve)
    assert pair_curve[kept - 1] >= pair_curve.max() - model.tol


def test_without_early_stopping_every_stage_is_kept():
    X, y = make_data(n=150)
    model = AdditiveBoostRegressor(interactions=1, max_iter=40, n_bags=2,
                                   random_state=0)
    model.fit(X, y)  # "auto": no early stopping below 200 samples
    assert_array_equal(model.n_iter_, [80, 80])
    assert model.validation_score_[0].size == 0


@pytest.mark.parametrize("estimator", [AdditiveBoostClassifier, AccelBoostClassifier])
def test_a_failed_refit_keeps_the_fitted_model(estimator):
    # The refit's validation accepts 2 features, then y of one class fails:
    # before, n_features_in_ was left at 2 and predict on 3 features failed.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    model = estimator(max_iter=5, random_state=0).fit(X, y)
    expected = model.predict_proba(X)
    with pytest.raises(ValueError, match="only one class"):
        model.fit(X[:, :2], np.zeros(120))
    assert model.n_features_in_ == 3
    np.testing.assert_array_equal(model.predict_proba(X), expected)
