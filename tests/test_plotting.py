"""accelboost.plotting: the staged loss against NumPy, and the figure drawn."""

import sys

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import log_loss

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost.plotting import plot_convergence, staged_loss

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture
def regression():
    X, y = make_regression(n_samples=400, n_features=5, noise=5.0, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


def test_staged_loss_is_half_the_squared_error_after_each_stage(regression):
    X, y, _, _ = regression
    model = AccelBoostRegressor(max_iter=15, early_stopping=False).fit(X, y)
    expected = [0.5 * np.mean((y - y.mean()) ** 2)]
    expected += [0.5 * np.mean((y - p) ** 2) for p in model.staged_predict(X)]
    assert_allclose(staged_loss(model, X, y), expected, rtol=1e-10)


def test_staged_loss_of_a_classifier_is_the_log_loss_on_its_labels():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4,
                               random_state=0)
    labels = np.array(["a", "b", "c"])[y]
    model = AccelBoostClassifier(max_iter=10, early_stopping=False).fit(X, labels)
    expected = [log_loss(labels, p, labels=model.classes_)
                for p in model.staged_predict_proba(X)]
    assert_allclose(staged_loss(model, X, labels)[1:], expected, rtol=1e-8)
    with pytest.raises(ValueError, match="labels the estimator was not fitted on"):
        staged_loss(model, X, np.where(labels == "a", "z", labels))


def test_plot_convergence_draws_each_model_and_marks_its_restarts(
    regression, tmp_path
):
    X, y, X_val, y_val = regression
    plain = AccelBoostRegressor(max_iter=30, learning_rate=1.0).fit(X, y)
    nesterov = AccelBoostRegressor(
        max_iter=30, learning_rate=1.0, stage_init="stacking", momentum="nesterov"
    ).fit(X, y)
    assert nesterov.n_restarts_ > 0  # so the markers are exercised
    ax = plot_convergence([plain, nesterov], X, y, X_val, y_val,
                          labels=["plain", "nesterov"])
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {
        "plain (train)", "plain (validation)", "nesterov (train)",
        "nesterov (validation)", "nesterov: restart",
    }
    assert_allclose(lines["nesterov (validation)"].get_ydata(),
                    staged_loss(nesterov, X_val, y_val))
    markers = lines["nesterov: restart"]
    assert_array_equal(markers.get_xdata(), nesterov.restart_stages_ + 1)
    train = staged_loss(nesterov, X, y)
    assert_allclose(markers.get_ydata(), train[nesterov.restart_stages_ + 1])
    path = tmp_path / "convergence.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    plt.close("all")


def test_plot_convergence_uses_the_curves_recorded_with_early_stopping(regression):
    X, y, _, _ = regression
    model = AccelBoostRegressor(
        max_iter=20, early_stopping=True, n_iter_no_change=50,
        validation_fraction=0.2, random_state=0, stage_init="zero",
    ).fit(X, y)
    ax = plot_convergence(model)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert_allclose(lines["zero (train)"].get_ydata(), -model.train_score_)
    assert_allclose(lines["zero (validation)"].get_ydata(), -model.validation_score_)
    plt.close("all")


def test_plot_convergence_rejects_what_it_cannot_draw(regression):
    X, y, _, _ = regression
    model = AccelBoostRegressor(max_iter=5, early_stopping=False).fit(X, y)
    with pytest.raises(ValueError, match="No recorded loss curve"):
        plot_convergence(model)
    with pytest.raises(ValueError, match="Pass X with y"):
        plot_convergence(model, X)
    with pytest.raises(ValueError, match="labels has 2 entries for 1"):
        plot_convergence(model, X, y, labels=["a", "b"])
    plt.close("all")


def test_missing_matplotlib_gives_a_clear_error(regression, monkeypatch):
    X, y, _, _ = regression
    model = AccelBoostRegressor(max_iter=5).fit(X, y)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_convergence(model, X, y)


def test_plot_shape_functions_draws_each_term():
    from accelboost.plotting import plot_shape_functions

    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 4))
    y = 3 * (X[:, 0] > 0) * (X[:, 1] > 0) + 0.3 * np.sin(X[:, 2]) + 0.3 * X[:, 3]
    groups = [[0, 1]] + [[f] for f in range(2, X.shape[1])]
    model = AccelBoostRegressor(max_iter=20, interaction_cst=groups,
                                max_leaf_nodes=6).fit(X, y)
    axes = plot_shape_functions(model)
    assert any(len(t) == 2 for t in model.term_features_)
    assert [ax.get_title() for ax in axes] == model.term_names_
    for ax, features in zip(axes, model.term_features_, strict=True):
        if len(features) == 1:
            (stairs,) = ax.patches
            k = model.term_features_.index(features)
            assert_allclose(stairs.get_data().values,
                            model.shape_function(k).values[:-1])
        else:
            assert ax.collections, "a pair is drawn as a heat map"
    plt.close("all")
