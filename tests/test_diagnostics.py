"""accelboost.diagnostics: catapults against constructed curves and a plain
reference of the rule, AGOP against functions whose gradient is known."""

import dataclasses
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.naive_bayes import GaussianNB

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost.diagnostics import (
    Catapults,
    agop,
    agop_alignment,
    detect_catapults,
    true_agop,
)
from accelboost.parametric import StackedBoostClassifier, StackedBoostRegressor

# -- catapults ----------------------------------------------------------------

SPIKE_STARTS = (80, 150, 220)
#: Each injected spike multiplies three steps: up, peak (x5), down.
SPIKE_SHAPE = (3.0, 5.0, 2.5)


def smooth_curve(noise=0.03, n=300, seed=0):
    """A decreasing training loss with a few percent of multiplicative noise."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (0.1 + np.exp(-t / 60)) * (1 + noise * rng.standard_normal(n))


def with_spikes(curve):
    curve = curve.copy()
    for start in SPIKE_STARTS:
        curve[start : start + len(SPIKE_SHAPE)] *= SPIKE_SHAPE
    return curve


def reference_catapults(losses, factor, window, return_level):
    """The rule written the slow, obvious way: (starts, peaks, first divergence)."""
    starts, peaks, divergence = [], [], None
    k = 1
    while k < len(losses):
        level = min(losses[max(0, k - window) : k])
        if losses[k] <= factor * level:
            k += 1
            continue
        back = None
        for j in range(k + 1, min(len(losses), k + window + 1)):
            if losses[j] <= return_level * level:
                back = j
                break
        if back is None:
            divergence = k if divergence is None else divergence
            k += window + 1
            continue
        starts.append(k)
        peaks.append(k + int(np.argmax(losses[k:back])))
        k = back
    return starts, peaks, divergence


def test_a_noisy_smooth_curve_has_no_catapult():
    found = detect_catapults(smooth_curve())
    assert found.count == 0
    assert not found.diverged
    assert found.divergence_start is None
    assert found.positions.shape == found.heights.shape == (0,)


@pytest.mark.parametrize("seed", range(5))
def test_noise_of_ten_percent_is_not_a_catapult_but_spikes_in_it_are(seed):
    # Noise as a loss on fixed rows wobbles under SGD: never a spike, while
    # x5 spikes in the same noise are all found, at their peaks.
    noisy = smooth_curve(noise=0.10, seed=seed)
    assert detect_catapults(noisy).count == 0
    found = detect_catapults(with_spikes(noisy))
    assert found.count == 3
    assert_array_equal(found.starts, SPIKE_STARTS)


def test_injected_spikes_are_found_at_their_peaks_with_their_heights():
    clean = smooth_curve()
    found = detect_catapults(with_spikes(clean))
    assert found.count == 3
    assert not found.diverged
    assert_array_equal(found.starts, SPIKE_STARTS)
    assert_array_equal(found.positions, np.add(SPIKE_STARTS, 1))
    # Each peak over the minimum of the 10 steps before its spike: 5 times
    # the loss, give or take the noise and the curve's decrease.
    levels = [clean[s - 10 : s].min() for s in SPIKE_STARTS]
    assert_allclose(found.heights, 5 * clean[found.positions] / levels)
    assert_allclose(found.heights, 5.0, rtol=0.15)
    # Each spike is the three injected steps; it ends where the loss fell back.
    assert_array_equal(found.ends, np.add(SPIKE_STARTS, len(SPIKE_SHAPE)))


def test_a_loss_that_jumps_up_and_stays_is_a_divergence_not_a_catapult():
    curve = smooth_curve()
    curve[100:] *= 5
    found = detect_catapults(curve)
    assert found.count == 0
    assert found.diverged
    assert found.divergence_start == 100


def test_catapults_before_a_divergence_are_still_counted():
    curve = with_spikes(smooth_curve())
    curve[260:] *= 6
    found = detect_catapults(curve)
    assert found.count == 3
    assert found.diverged
    assert found.divergence_start == 260


def test_return_level_one_asks_the_loss_back_to_where_it_rose_from():
    curve = np.array([1.0] * 5 + [5.0, 1.5, 1.5, 1.5, 1.5] + [1.5] * 10)
    # 1.5 is under the spike threshold (2 x 1.0): the spike fell back.
    assert detect_catapults(curve).count == 1
    strict = detect_catapults(curve, return_level=1.0)
    assert strict.count == 0
    assert strict.diverged
    assert strict.divergence_start == 5
    back = curve.copy()
    back[8] = 1.0  # at (not under) the level it rose from
    assert detect_catapults(back, return_level=1.0).count == 1


def test_consecutive_spike_steps_form_one_catapult():
    curve = np.array([1.0, 1.0, 1.0, 3.0, 6.0, 4.0, 3.0, 1.0, 0.9, 0.9])
    found = detect_catapults(curve)
    assert found.count == 1
    assert found.starts.tolist() == [3]
    assert found.positions.tolist() == [4]
    assert found.ends.tolist() == [7]
    assert_allclose(found.heights, [6.0])


def test_a_rise_before_the_fall_back_is_the_same_catapult():
    curve = np.array([1.0, 1.0, 1.0, 5.0, 1.5, 7.0, 0.9, 0.9, 0.9])
    # Under the threshold at step 4: two catapults by default.
    assert detect_catapults(curve).positions.tolist() == [3, 5]
    # Only back at the reference at step 6: one, peaking at step 5.
    strict = detect_catapults(curve, return_level=1.0)
    assert strict.positions.tolist() == [5]
    assert strict.ends.tolist() == [6]


def test_the_reference_is_the_minimum_of_the_window_before_the_spike():
    curve = [4.0, 3.0, 2.0, 1.5, 9.0, 6.0, 1.4, 1.3, 1.2]
    found = detect_catapults(curve, window=3)
    assert found.positions.tolist() == [4]
    assert_allclose(found.heights, [9.0 / 1.5])
    # With a window of 1 the reference is the step before (1.5 as well),
    # but then 6.0 > 2 x 9.0 is false and the spike must fall back in 1 step.
    found = detect_catapults(curve, window=1)
    assert found.count == 0
    assert found.diverged


def test_a_spike_must_fall_back_within_the_window():
    curve = np.array([1.0] * 5 + [4.0] * 6 + [0.9] * 10)
    # Six steps up, back at step 11: 6 steps after the start.
    assert detect_catapults(curve, window=6).count == 1
    short = detect_catapults(curve, window=5)
    assert short.count == 0
    assert short.diverged


def test_a_spike_exactly_at_factor_times_the_reference_is_not_one():
    curve = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    assert detect_catapults(curve).count == 0
    curve[2] = 2.0001
    assert detect_catapults(curve).count == 1
    assert detect_catapults(curve, factor=2.5).count == 0


def test_the_first_step_has_no_history_and_the_last_has_no_future():
    assert detect_catapults([10.0, 1.0, 1.0]).count == 0
    end = detect_catapults([1.0, 1.0, 1.0, 5.0])
    assert end.count == 0
    assert end.diverged  # up at the end of the curve: it did not come back
    assert detect_catapults([1.0, 5.0, 1.0]).positions.tolist() == [1]


def test_a_spike_from_a_zero_loss_has_infinite_height():
    found = detect_catapults([1.0, 0.0, 0.5, 0.0])
    assert found.count == 1
    assert found.heights[0] == np.inf


@pytest.mark.parametrize("window", [1, 2, 3, 7, 10])
@pytest.mark.parametrize("return_level", [None, 1.0])
def test_the_rule_agrees_with_a_plain_reference(window, return_level):
    rng = np.random.default_rng(window)
    n_catapults, n_diverged = 0, 0
    for _ in range(30):
        curve = smooth_curve(noise=0.05, n=120, seed=int(rng.integers(1 << 30)))
        for start in rng.choice(115, size=2, replace=False):
            # Spikes as long as the window, or one step longer.
            length = int(rng.integers(1, window + 2))
            curve[start : start + length] *= rng.uniform(1.5, 6.0)
        found = detect_catapults(curve, window=window, return_level=return_level)
        starts, peaks, divergence = reference_catapults(
            curve, 2.0, window, 2.0 if return_level is None else return_level
        )
        assert found.starts.tolist() == starts
        assert found.positions.tolist() == peaks
        assert found.divergence_start == divergence
        assert found.diverged == (divergence is not None)
        n_catapults += found.count
        n_diverged += found.diverged
    # The cases compared hold both catapults and divergences.
    assert n_catapults > 10
    assert 0 < n_diverged < 30


def test_catapults_is_frozen_with_read_only_arrays():
    found = detect_catapults(with_spikes(smooth_curve()))
    assert isinstance(found, Catapults)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.count = 0
    with pytest.raises(ValueError, match="read-only"):
        found.positions[0] = 0


def test_an_estimator_gives_its_loss_curve_or_minus_its_train_score():
    curve = with_spikes(smooth_curve())
    expected = detect_catapults(curve).positions
    from_curve = detect_catapults(SimpleNamespace(loss_curve_=list(curve)))
    assert_array_equal(from_curve.positions, expected)
    from_scores = detect_catapults(SimpleNamespace(train_score_=-curve))
    assert_array_equal(from_scores.positions, expected)
    # The optimizer steps' losses come first when both are recorded.
    both = SimpleNamespace(loss_curve_=curve, train_score_=-smooth_curve())
    assert_array_equal(detect_catapults(both).positions, expected)


def test_a_fitted_accelboost_estimator_gives_its_stage_losses():
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = X[:, 0] + X[:, 1] ** 2
    model = AccelBoostRegressor(max_iter=15, early_stopping=True,
                                validation_fraction=None, n_threads=1,
                                random_state=0).fit(X, y)
    assert len(model.train_score_) == 16
    found = detect_catapults(model)
    assert found.count == 0
    assert not found.diverged


def test_estimators_without_a_usable_loss_curve_are_refused():
    with pytest.raises(NotFittedError):
        detect_catapults(AccelBoostRegressor())
    X, y = np.arange(10.0).reshape(-1, 1), np.arange(10.0)
    with pytest.raises(TypeError, match="records no loss curve"):
        detect_catapults(LinearRegression().fit(X, y))
    unscored = SimpleNamespace(train_score_=np.array([]), scoring="loss")
    with pytest.raises(ValueError, match="train_score_ is empty"):
        detect_catapults(unscored)
    r2 = SimpleNamespace(train_score_=np.array([0.1, 0.5]), scoring="r2")
    with pytest.raises(ValueError, match="'r2' score"):
        detect_catapults(r2)
    # GradientBoosting records the loss itself, not minus the loss.
    positive = SimpleNamespace(train_score_=np.array([3.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="not minus the loss"):
        detect_catapults(positive)


@pytest.mark.parametrize(
    "losses, match",
    [
        ([1.0, np.nan, 0.5], "non-finite loss \\(at step 1"),
        ([1.0, 0.5, np.inf], "non-finite loss \\(at step 2"),
        ([1.0], "needs at least 2"),
        ([], "needs at least 2"),
        ([[1.0, 0.5], [0.4, 0.3]], "must be 1-D"),
        ([1.0, -0.5], "negative loss"),
    ],
)
def test_bad_curves_are_refused(losses, match):
    with pytest.raises(ValueError, match=match):
        detect_catapults(losses)


def test_a_curve_of_text_is_refused():
    with pytest.raises(TypeError, match="array of numbers"):
        detect_catapults(["a", "b"])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"factor": 1.0}, ValueError, "factor must be a float in the range \\(1.0"),
        ({"factor": 0.5}, ValueError, "factor must be"),
        ({"factor": np.nan}, ValueError, "factor must be"),
        ({"factor": "2"}, TypeError, "factor must be a float"),
        ({"window": 0}, ValueError, "window must be an int in the range \\[1"),
        ({"window": 2.5}, TypeError, "window must be an int"),
        ({"window": True}, TypeError, "window must be an int"),
        ({"return_level": 0.0}, ValueError, "return_level must be"),
        ({"return_level": 2.5}, ValueError, "range \\(0.0, 2.0\\]"),
    ],
)
def test_bad_parameters_are_refused(params, error, match):
    with pytest.raises(error, match=match):
        detect_catapults([1.0, 0.5, 0.2], **params)


def test_numpy_integers_are_accepted():
    found = detect_catapults([1.0, 1.0, 5.0, 1.0], factor=np.float32(2.0),
                             window=np.int64(2))
    assert found.count == 1


# -- AGOP ---------------------------------------------------------------------

W = np.array([1.5, -2.0, 0.0, 0.5])
#: Three outputs of a linear map x -> W3 x.
W3 = np.array([[1.0, 0.0, 2.0, -1.0], [0.5, 1.0, 0.0, 0.0], [0.0, -3.0, 1.0, 2.0]])


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(300, 4))


class ExactLinear:
    """A model that knows its input gradient (as the parametric learners do)."""

    def __init__(self, weights):
        self.weights = np.atleast_2d(weights)

    def predict(self, X):
        raise AssertionError("the exact method must not call predict")

    def input_gradient(self, X):
        return np.broadcast_to(self.weights, (len(X), *self.weights.shape))


class Cube:
    """f(x) = sum x^3: central differences give 3 x^2 + h^2, so the step shows."""

    def __init__(self, max_bins=None):
        if max_bins is not None:
            self.max_bins = max_bins

    def predict(self, X):
        return (X**3).sum(axis=1)


def cube_agop(X, steps):
    gradient = 3 * X**2 + steps**2
    return gradient.T @ gradient / len(X)


def one_bin(X, bins):
    lo, hi = np.percentile(X, [1, 99], axis=0)
    return (hi - lo) / bins


def test_exact_agop_of_a_linear_model_is_w_w_transposed(X):
    assert_allclose(agop(ExactLinear(W), X), np.outer(W, W), rtol=1e-12)
    assert_allclose(agop(ExactLinear(W), X, method="exact"), np.outer(W, W),
                    rtol=1e-12)


def test_finite_differences_of_a_linear_function_are_exact(X):
    G = agop(lambda X: X @ W, X)
    assert_allclose(G, np.outer(W, W), rtol=1e-9, atol=1e-12)
    # The exact method's model, differentiated numerically instead.
    linear = SimpleNamespace(predict=lambda X: X @ W, input_gradient=None)
    assert_allclose(agop(linear, X, method="finite_differences"), G)


def test_agop_of_a_fitted_linear_regression_uses_predict(X):
    y = X @ W + 3.0
    model = LinearRegression().fit(X, y)
    assert_allclose(agop(model, X), np.outer(model.coef_, model.coef_),
                    rtol=1e-9, atol=1e-12)
    assert_allclose(agop(model, X), np.outer(W, W), rtol=1e-9, atol=1e-12)


def test_agop_of_a_multi_output_linear_map_is_w_transposed_w(X):
    expected = W3.T @ W3
    assert_allclose(agop(ExactLinear(W3), X), expected, rtol=1e-12)
    assert_allclose(agop(lambda X: X @ W3.T, X), expected, rtol=1e-9, atol=1e-12)
    assert_allclose(true_agop(lambda X: np.broadcast_to(W3, (len(X), 3, 4)), X),
                    expected, rtol=1e-12)


def test_the_default_step_is_one_bin_of_the_models_max_bins(X):
    assert_allclose(agop(Cube(max_bins=16), X), cube_agop(X, one_bin(X, 16)),
                    rtol=1e-9)
    # Without max_bins: 255 bins, the trees' default.
    assert_allclose(agop(Cube(), X), cube_agop(X, one_bin(X, 255)), rtol=1e-9)
    assert_allclose(agop(Cube().predict, X), cube_agop(X, one_bin(X, 255)),
                    rtol=1e-9)


def test_a_given_step_is_used_for_all_features_or_per_feature(X):
    assert_allclose(agop(Cube(), X, step=0.3), cube_agop(X, np.full(4, 0.3)),
                    rtol=1e-9)
    steps = np.array([0.1, 0.2, 0.4, 0.05])
    assert_allclose(agop(Cube(), X, step=steps), cube_agop(X, steps), rtol=1e-9)


def test_a_constant_feature_still_gets_a_positive_step(X):
    constant = X.copy()
    constant[:, 2] = 7.0
    G = agop(lambda X: X @ W3.T, constant)
    assert_allclose(G, W3.T @ W3, rtol=1e-6, atol=1e-9)


def test_agop_with_all_rows_matches_the_exact_gradient(X):
    # Central differences are exact for a quadratic: grad of sum x^2 is 2x.
    def square(X):
        return (X**2).sum(axis=1)

    expected = true_agop(lambda X: 2 * X, X)
    assert_allclose(agop(square, X, max_samples=None), expected, rtol=1e-9)
    assert_allclose(agop(square, X, max_samples=len(X)), expected, rtol=1e-9)


def test_the_row_subsample_follows_random_state(X):
    def square(X):
        return (X**2).sum(axis=1)

    first = agop(square, X, max_samples=50, random_state=0)
    assert_array_equal(first, agop(square, X, max_samples=50, random_state=0))
    assert not np.allclose(first, agop(square, X, max_samples=50, random_state=1))
    assert not np.allclose(first, agop(square, X, max_samples=None))
    generator = agop(square, X, max_samples=50,
                     random_state=np.random.default_rng(0))
    assert generator.shape == (4, 4)


@pytest.fixture(scope="module")
def trees():
    """Boosted trees on y = 3 x0 + 2 [x1 > 0]; x2 is noise it never splits on."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 3))
    y = 3 * X[:, 0] + 2 * (X[:, 1] > 0) + 0.05 * rng.standard_normal(400)
    model = AccelBoostRegressor(max_iter=20, max_depth=2, min_samples_leaf=30,
                                max_bins=63, importance_type="split",
                                n_threads=1, random_state=0).fit(X, y)
    return model, X


def test_agop_of_trees_is_zero_on_a_feature_they_never_split_on(trees):
    model, X = trees
    assert model.feature_importances_[2] == 0  # the premise
    G = agop(model, X)
    assert_array_equal(G[2], 0.0)
    assert_array_equal(G[:, 2], 0.0)
    assert G[0, 0] > 0 and G[1, 1] > 0
    assert_array_equal(G, G.T)
    assert np.linalg.eigvalsh(G).min() >= -1e-9 * np.abs(G).max()


def test_agop_of_trees_differentiates_predict_over_one_of_their_bins(trees):
    model, X = trees
    assert_allclose(agop(model, X), agop(model.predict, X, step=one_bin(X, 63)))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_agop_of_a_classifier_differentiates_its_decision_function(n_classes):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5][: n_classes - 1])
    model = AccelBoostClassifier(max_iter=20, n_threads=1, random_state=0)
    model.fit(X, y)
    step = one_bin(X, 255)
    G = agop(model, X)
    assert_allclose(G, agop(model.decision_function, X, step=step))
    assert not np.allclose(G, agop(model.predict_proba, X, step=step))
    assert G.shape == (3, 3)
    assert np.linalg.eigvalsh(G).min() >= -1e-9 * np.abs(G).max()


def test_a_classifier_without_decision_function_gives_probabilities(X):
    y = (X[:, 0] > 0).astype(int)
    model = GaussianNB().fit(X, y)
    assert_allclose(agop(model, X, step=0.1),
                    agop(model.predict_proba, X, step=0.1))


def test_categorical_features_get_no_gradient():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 4, 300), rng.normal(size=300)])
    y = X[:, 0] + X[:, 1]
    model = AccelBoostRegressor(max_iter=10, categorical_features=[0],
                                n_threads=1).fit(X, y)
    # A whole step moves a code to the next category: not a derivative.
    G = agop(model, X, step=1.0)
    assert_array_equal(G[0], 0.0)
    assert_array_equal(G[:, 0], 0.0)
    assert G[1, 1] > 0


def test_a_dataframe_keeps_its_feature_names(X):
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = LinearRegression().fit(frame, frame @ W)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "X does not have valid feature names"
        G = agop(model, frame)
    assert_allclose(G, np.outer(W, W), rtol=1e-9, atol=1e-12)


def test_agop_errors(X, trees):
    model, X_trees = trees
    with pytest.raises(ValueError, match="method must be one of"):
        agop(ExactLinear(W), X, method="jacobian")
    with pytest.raises(TypeError, match="has no input_gradient|needs a model"):
        agop(LinearRegression().fit(X, X @ W), X, method="exact")
    # The model's own validation speaks for the wrong number of features.
    with pytest.raises(ValueError, match="X has 2 features, but AccelBoost"):
        agop(model, X_trees[:, :2])
    with pytest.raises(ValueError, match="input_gradient\\(X\\) must have shape"):
        agop(ExactLinear(W), X[:, :3])
    with pytest.raises(ValueError, match="step must be positive"):
        agop(Cube(), X, step=-0.1)
    with pytest.raises(ValueError, match="step must be positive"):
        agop(Cube(), X, step=[0.1, 0.1, np.nan, 0.1])
    with pytest.raises(ValueError, match="shape \\(n_features,\\) = \\(4,\\)"):
        agop(Cube(), X, step=[0.1, 0.1])
    with pytest.raises(ValueError, match="max_samples must be an int"):
        agop(Cube(), X, max_samples=0)
    with pytest.raises(TypeError, match="max_samples must be an int"):
        agop(Cube(), X, max_samples=0.5)
    with pytest.raises(ValueError, match="Expected 2D array"):
        agop(Cube(), X[:, 0])
    with pytest.raises(ValueError, match="must return shape"):
        agop(lambda X: X[:10, 0], X)
    with pytest.raises(ValueError, match="non-finite"):
        agop(lambda X: np.full(len(X), np.nan), X)
    with pytest.raises(TypeError, match="not callable"):
        agop(object(), X)


def test_true_agop_of_one_and_several_outputs(X):
    assert_allclose(true_agop(lambda X: np.tile(W, (len(X), 1)), X),
                    np.outer(W, W), rtol=1e-12)
    with pytest.raises(ValueError, match="must have shape"):
        true_agop(lambda X: np.ones((len(X), 3)), X)
    with pytest.raises(ValueError, match="non-finite"):
        true_agop(lambda X: np.full_like(X, np.nan), X)
    with pytest.raises(TypeError, match="must be callable"):
        true_agop(np.ones((300, 4)), X)


def test_a_stacked_boost_gives_its_exact_gradient_and_its_step_losses(X):
    y = X @ W + 0.1 * np.random.default_rng(0).standard_normal(len(X))
    model = StackedBoostRegressor(learner="linear", max_iter=10, random_state=0)
    model.fit(X, y)
    G = agop(model, X)
    assert_allclose(G, np.outer(model.coef_, model.coef_), rtol=1e-9, atol=1e-12)
    assert_allclose(agop(model, X, method="finite_differences"), G,
                    rtol=1e-9, atol=1e-12)
    found = detect_catapults(model)  # one loss per optimizer step
    assert_array_equal(found.positions, detect_catapults(model.loss_curve_).positions)
    assert len(model.loss_curve_) == 10 * model.steps_per_stage


def test_exact_and_finite_differences_agree_on_a_stacked_classifier(X):
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    model = StackedBoostClassifier(max_iter=5, hidden_layer_sizes=(8,),
                                   random_state=0).fit(X, y)
    G = agop(model, X)
    assert_allclose(agop(model, X, method="finite_differences", step=1e-5), G,
                    rtol=1e-6, atol=1e-9 * np.abs(G).max())


# -- alignment ----------------------------------------------------------------


def test_a_matrix_is_aligned_with_itself_and_its_multiples():
    A = np.outer(W, W) + np.eye(4)
    assert agop_alignment(A, A) == pytest.approx(1.0)
    assert agop_alignment(A, 2 * A) == pytest.approx(1.0)
    assert agop_alignment(A, -A) == pytest.approx(-1.0)


def test_orthogonal_matrices_have_zero_alignment():
    assert agop_alignment(np.diag([1.0, 0.0]), np.diag([0.0, 3.0])) == 0.0


def test_alignment_is_symmetric_and_between_0_and_1_for_psd_matrices():
    rng = np.random.default_rng(0)
    for _ in range(10):
        P, Q = rng.normal(size=(2, 5, 5))
        A, B = P @ P.T, Q @ Q.T
        rho = agop_alignment(A, B)
        assert rho == pytest.approx(agop_alignment(B, A))
        assert 0.0 <= rho <= 1.0
        assert rho == pytest.approx(
            np.trace(A @ B) / np.sqrt(np.trace(A @ A) * np.trace(B @ B))
        )


def test_alignment_errors():
    with pytest.raises(ValueError, match="same shape"):
        agop_alignment(np.eye(3), np.eye(4))
    with pytest.raises(ValueError, match="B is zero"):
        agop_alignment(np.eye(3), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="A is zero"):
        agop_alignment(np.zeros((3, 3)), np.eye(3))
    with pytest.raises(ValueError, match="2-D"):
        agop_alignment(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="non-finite"):
        agop_alignment(np.full((2, 2), np.nan), np.eye(2))


def test_a_model_fitted_to_a_target_aligns_with_its_true_agop(X):
    y = X @ W
    model = LinearRegression().fit(X, y)
    G_true = true_agop(lambda X: np.tile(W, (len(X), 1)), X)
    assert agop_alignment(agop(model, X), G_true) == pytest.approx(1.0)
    assert agop_alignment(np.eye(4), G_true) < 0.9
