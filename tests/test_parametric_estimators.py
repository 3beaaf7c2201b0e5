"""StackedBoostRegressor and StackedBoostClassifier: stage starts, the
equivalences that define them, parity with scikit-learn, clear errors."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from accelboost import StackedBoostClassifier, StackedBoostRegressor
from accelboost.parametric._network import forward
from accelboost.parametric.optimizers import KFAC, Adam


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def _fits_equal(a, b):
    assert len(a.stages_) == len(b.stages_)
    for params_a, params_b in zip(a.stages_, b.stages_, strict=True):
        for theta_a, theta_b in zip(params_a, params_b, strict=True):
            np.testing.assert_array_equal(theta_a, theta_b)


@pytest.mark.parametrize("batch_size", [None, 64])
def test_linear_stacking_with_zero_momentum_is_zero_init_bit_for_bit(
        diabetes, batch_size):
    X, _, y, _ = diabetes
    kwargs = dict(learner="linear", max_iter=15, batch_size=batch_size,
                  random_state=3)
    zero = StackedBoostRegressor(stage_init="zero", **kwargs).fit(X, y)
    stacked = StackedBoostRegressor(stage_init="stacking", momentum=0.0,
                                    **kwargs).fit(X, y)
    _fits_equal(zero, stacked)
    np.testing.assert_array_equal(zero.predict(X), stacked.predict(X))
    moving = StackedBoostRegressor(stage_init="stacking", momentum=0.5,
                                   **kwargs).fit(X, y)
    assert not np.array_equal(moving.predict(X), zero.predict(X))


def test_stacking_starts_at_momentum_times_the_previous_learner(diabetes):
    X, _, y, _ = diabetes
    model = StackedBoostRegressor(momentum=0.3, max_iter=3, random_state=0).fit(X, y)
    previous = model.stages_[-1]
    start = model._start_learner(previous, None, None)
    Z = model._standardize(X)
    np.testing.assert_allclose(
        forward(start, Z, "relu"), 0.3 * forward(previous, Z, "relu"), rtol=1e-12
    )
    np.testing.assert_array_equal(start[0], previous[0])  # hidden layer copied
    model.set_params(momentum=0.0)
    assert not forward(model._start_learner(previous, None, None), Z, "relu").any()


def test_mlp_stacking_first_stage_is_zero_init(diabetes):
    X, _, y, _ = diabetes
    kwargs = dict(max_iter=1, random_state=5)
    zero = StackedBoostRegressor(stage_init="zero", **kwargs).fit(X, y)
    stacked = StackedBoostRegressor(stage_init="stacking", **kwargs).fit(X, y)
    _fits_equal(zero, stacked)
    random = StackedBoostRegressor(stage_init="random", **kwargs).fit(X, y)
    assert not np.array_equal(random.stages_[0][-1], zero.stages_[0][-1])


def test_mup_at_the_base_width_is_standard(diabetes):
    X, _, y, _ = diabetes
    kwargs = dict(hidden_layer_sizes=(16, 16), base_width=16, max_iter=4,
                  random_state=0, optimizer="sgd", learning_rate=0.05)
    standard = StackedBoostRegressor(parameterization="standard", **kwargs).fit(X, y)
    mup = StackedBoostRegressor(parameterization="mup", **kwargs).fit(X, y)
    _fits_equal(standard, mup)
    wide = StackedBoostRegressor(parameterization="mup",
                                 **{**kwargs, "base_width": 4}).fit(X, y)
    assert not np.array_equal(wide.predict(X), mup.predict(X))


def test_integer_weights_are_repeated_rows_and_zero_weights_removed_rows(diabetes):
    X, _, y, _ = diabetes
    X, y = X[:60], y[:60]
    weights = np.tile([0, 1, 2], 20)
    kwargs = dict(max_iter=5, batch_size=None, random_state=0,
                  hidden_layer_sizes=(8,))
    weighted = StackedBoostRegressor(**kwargs).fit(X, y, sample_weight=weights)
    repeated = StackedBoostRegressor(**kwargs).fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-7)


def test_staged_predict_ends_at_predict(diabetes):
    X, X_test, y, _ = diabetes
    model = StackedBoostRegressor(max_iter=7, random_state=0).fit(X, y)
    staged = list(model.staged_predict(X_test))
    assert len(staged) == model.n_iter_ == 7
    np.testing.assert_allclose(staged[-1], model.predict(X_test), rtol=1e-12)
    np.testing.assert_allclose(
        staged[2], model.predict(X_test, iteration_range=(0, 3)), rtol=1e-12
    )
    assert len(model.loss_curve_) == 7 * model.steps_per_stage
    assert model.train_score_.shape == (8,)
    # Every range keeps the baseline (as the trees do): split at stage 3.
    first, last = (model.predict(X_test, iteration_range=r) for r in [(0, 3), (3, 7)])
    np.testing.assert_allclose(first + last - model._y_mean, staged[-1], rtol=1e-10)
    for bad in [(0.5, 2), (0,), (True, 2), (2, 1)]:
        with pytest.raises(ValueError, match="iteration_range"):
            model.predict(X_test, iteration_range=bad)


def test_early_stopping_predicts_with_the_best_stage(diabetes):
    X, X_val, y, y_val = diabetes
    model = StackedBoostRegressor(
        max_iter=200, learning_rate=0.01, n_iter_no_change=5, random_state=0
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert 5 < model.n_iter_ < 200
    assert model.best_iteration_ < model.n_iter_
    # The best validation score is the loss of what predict returns
    # (squared error of the standardized targets): no off-by-one.
    half_mse = 0.5 * np.mean((model.predict(X_val) - y_val) ** 2)
    np.testing.assert_allclose(-model.validation_score_.max(),
                               half_mse / np.var(y), rtol=1e-10)
    staged = list(model.staged_predict(X_val))
    np.testing.assert_array_equal(staged[model.best_iteration_ - 1],
                                  model.predict(X_val))


def test_linear_kfac_newton_step_is_least_squares(diabetes):
    X, _, y, _ = diabetes
    model = StackedBoostRegressor(
        learner="linear", optimizer=KFAC(learning_rate=1.0, damping=1e-9),
        batch_size=None, steps_per_stage=1, max_iter=1, random_state=0,
    ).fit(X, y)
    reference = LinearRegression().fit(X, y)
    # One step: the Newton step of a quadratic is its minimum (up to the
    # damping, on diabetes' nearly collinear serum features).
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-9)


def test_regressor_accuracy_is_on_par_with_least_squares(diabetes):
    X, X_test, y, y_test = diabetes
    model = StackedBoostRegressor(random_state=0, max_iter=30).fit(X, y)
    reference = LinearRegression().fit(X, y)
    assert model.score(X_test, y_test) > reference.score(X_test, y_test) - 0.15


def test_classifier_parity_with_scikit_learn():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    ours = StackedBoostClassifier(random_state=0).fit(X_train, y_train)
    mlp = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(32,), max_iter=2000, random_state=0)).fit(X_train, y_train)
    logistic = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X_train, y_train)
    ours_score = ours.score(X_test, y_test)
    assert ours_score >= min(mlp.score(X_test, y_test),
                             logistic.score(X_test, y_test)) - 0.02


def test_multiclass_probabilities_and_labels():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["a", "b", "c"])[y]
    model = StackedBoostClassifier(max_iter=30, random_state=0).fit(X, labels)
    proba = model.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.decision_function(X).shape == (150, 3)
    assert model.score(X, labels) > 0.9
    assert set(model.predict(X)) <= set(labels)
    last = list(model.staged_predict_proba(X))[-1]
    np.testing.assert_allclose(last, proba)


@pytest.mark.parametrize("learner", ["mlp", "linear"])
def test_input_gradient_matches_finite_differences(learner):
    X, y = load_iris(return_X_y=True)
    model = StackedBoostClassifier(learner=learner, max_iter=5,
                                   activation="tanh", random_state=0).fit(X, y)
    gradients = model.input_gradient(X[:10])
    assert gradients.shape == (10, 3, 4)
    eps = 1e-5
    for j in range(4):
        step = np.zeros(4)
        step[j] = eps
        numeric = (model.decision_function(X[:10] + step)
                   - model.decision_function(X[:10] - step)) / (2 * eps)
        np.testing.assert_allclose(gradients[:, :, j], numeric, rtol=1e-5, atol=1e-7)


def test_regressor_input_gradient_of_a_linear_learner_is_coef(diabetes):
    X, _, y, _ = diabetes
    model = StackedBoostRegressor(learner="linear", max_iter=5,
                                  random_state=0).fit(X, y)
    gradients = model.input_gradient(X[:4])
    np.testing.assert_allclose(gradients[:, 0, :], np.tile(model.coef_, (4, 1)),
                               rtol=1e-12)
    np.testing.assert_allclose(model.predict(X), X @ model.coef_ + model.intercept_,
                               rtol=1e-10)


def test_divergence_warns_and_keeps_the_stages_before(diabetes):
    X, _, y, _ = diabetes
    model = StackedBoostRegressor(optimizer="sgd", learning_rate=1e6,
                                  max_iter=20, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged at stage"):
        model.fit(X, y)
    assert model.n_iter_ < 20
    assert np.all(np.isfinite(model.predict(X)))


def test_callbacks_can_stop_the_fit(diabetes):
    X, _, y, _ = diabetes
    seen = []

    def stop_at_two(info):
        seen.append((info.stage, info.train_score))
        return info.stage == 2

    model = StackedBoostRegressor(max_iter=10, random_state=0).fit(
        X, y, callbacks=[stop_at_two])
    assert model.n_iter_ == 3
    assert [stage for stage, _ in seen] == [0, 1, 2]
    assert seen[-1][1] == model.train_score_[-1]


def test_optimizer_instances_and_their_learning_rate(diabetes):
    X, _, y, _ = diabetes
    given = StackedBoostRegressor(optimizer=Adam(learning_rate=0.01), max_iter=3,
                                  random_state=0).fit(X, y)
    named = StackedBoostRegressor(optimizer="adam", learning_rate=0.01, max_iter=3,
                                  random_state=0).fit(X, y)
    _fits_equal(given, named)
    with pytest.raises(ValueError, match="learning_rate must be None"):
        StackedBoostRegressor(optimizer=Adam(), learning_rate=0.1).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"stage_init": "agbm"}, "stage_init"),
        ({"momentum": 1.5}, "momentum"),
        ({"parameterization": "ntk"}, "parameterization"),
        ({"loss": "log_loss"}, "loss"),
    ],
)
def test_bad_parameters_are_named(diabetes, params, match):
    X, _, y, _ = diabetes
    with pytest.raises(ValueError, match=match):
        StackedBoostRegressor(**params).fit(X, y)


def test_bad_data_gets_clear_errors(diabetes):
    X, _, y, _ = diabetes
    with pytest.raises(ValueError, match="NaN"):
        StackedBoostRegressor().fit(np.where(X > 0.05, np.nan, X), y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        StackedBoostRegressor().fit(X, np.where(y > 200, np.inf, y))
    model = StackedBoostRegressor(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :5])
    with pytest.raises(AttributeError, match="learner='linear'"):
        model.coef_  # noqa: B018
    with pytest.raises(ValueError, match="iteration_range"):
        model.predict(X, iteration_range=(0, 5))
    with pytest.raises(ValueError, match="poisson"):
        StackedBoostRegressor(loss="poisson").fit(X, -y)
    with pytest.raises(ValueError, match="one class"):
        StackedBoostClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="not fitted on"):
        StackedBoostClassifier(max_iter=2).fit(
            X, y > 150, X_val=X[:5], y_val=np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="non-zero"):
        StackedBoostRegressor().fit(X, y, sample_weight=np.zeros(len(y)))


def test_poisson_predicts_positive_means():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    model = StackedBoostRegressor(loss="poisson", max_iter=20,
                                  random_state=0).fit(X, y)
    prediction = model.predict(X)
    assert np.all(prediction > 0)
    assert np.corrcoef(prediction, np.exp(0.5 * X[:, 0]))[0, 1] > 0.9


def test_a_failed_refit_keeps_the_fitted_model(diabetes):
    X, X_test, y, _ = diabetes
    model = StackedBoostRegressor(max_iter=3, random_state=0).fit(X, y)
    before = model.predict(X_test)
    model.set_params(hidden_layer_sizes=(4, 0))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        model.fit(X * 10, y)
    with pytest.raises(ValueError, match="features"):
        model.fit(X[:, :3], y, X_val=X[:5], y_val=y[:5])
    np.testing.assert_array_equal(model.predict(X_test), before)


def test_a_finite_blow_up_is_a_divergence_too(diabetes):
    X, _, y, _ = diabetes
    for model in [
        StackedBoostRegressor(optimizer=KFAC(damping=1e-3), batch_size=64,
                              max_iter=5, random_state=0),
        StackedBoostRegressor(learning_rate=1e6, max_iter=5, random_state=0),
    ]:
        with pytest.warns(ConvergenceWarning, match="diverged at stage"):
            model.fit(X, y)
        assert model.score(X, y) > -0.01  # no runaway stage kept


def test_loss_curve_watches_fixed_rows_not_the_batches(diabetes):
    from accelboost.diagnostics import detect_catapults

    X, _, y, _ = diabetes
    model = StackedBoostRegressor(max_iter=30, batch_size=8, optimizer="sgd",
                                  learning_rate=1e-4, random_state=0).fit(X, y)
    assert len(model.loss_curve_) == len(model.batch_loss_curve_) == 300
    # A small step size: the training loss only creeps down, and the
    # watched curve shows no catapult, while single batches jump about.
    assert detect_catapults(model).count == 0
    assert detect_catapults(model.batch_loss_curve_).count > 0
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_kfac_mlps_start_from_a_tiny_output_layer(diabetes):
    X, _, y, _ = diabetes
    model = StackedBoostRegressor(optimizer="kfac", stage_init="zero",
                                  max_iter=2, random_state=0).fit(X, y)
    start = model._start_learner(None, [1.0, 1.0], np.random.default_rng(0),
                                 nudge_output=True)
    assert 0 < np.abs(start[-1][:-1]).max() < 1e-2
    assert not start[-1][-1].any()  # the bias stays zero
    linear = dict(learner="linear", optimizer="kfac", max_iter=4, random_state=0)
    _fits_equal(
        StackedBoostRegressor(stage_init="zero", **linear).fit(X, y),
        StackedBoostRegressor(stage_init="stacking", momentum=0.0,
                              **linear).fit(X, y),
    )


def test_poisson_refuses_negative_validation_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = rng.poisson(1.0, size=50)
    with pytest.raises(ValueError, match="non-negative y_val"):
        StackedBoostRegressor(loss="poisson").fit(X, y, X_val=X[:5],
                                                  y_val=-np.ones(5))


def test_huge_targets_are_scaled_without_overflow(diabetes):
    X, X_test, y, _ = diabetes
    small = StackedBoostRegressor(max_iter=3, random_state=0).fit(X, y)
    huge = StackedBoostRegressor(max_iter=3, random_state=0).fit(X, y * 1e300)
    np.testing.assert_allclose(huge.predict(X_test) / 1e300, small.predict(X_test),
                               rtol=1e-10)
