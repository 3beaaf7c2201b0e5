"""Behaviour of AccelBoostRegressor / AccelBoostClassifier as users see it."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    log_loss,
    mean_poisson_deviance,
    mean_squared_error,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost._threads import MIN_PARALLEL_CELLS, fit_n_threads

COMMON = dict(
    learning_rate=0.1,
    max_iter=60,
    max_leaf_nodes=15,
    min_samples_leaf=20,
    l2_regularization=0.5,
    max_bins=255,
    early_stopping=False,
)


def _regression(n_samples=4000, random_state=0):
    X, y = make_regression(
        n_samples=n_samples, n_features=8, n_informative=6, noise=5.0,
        random_state=random_state,
    )
    y = y + 10 * np.sin(X[:, 0])  # something for trees to find
    return train_test_split(X, y, test_size=0.3, random_state=0)


def _classification(n_classes, n_samples=4000):
    X, y = make_classification(
        n_samples=n_samples, n_features=10, n_informative=6, n_classes=n_classes,
        n_clusters_per_class=2, random_state=0,
    )
    return train_test_split(X, y, test_size=0.3, random_state=0)


# -- parity with HistGradientBoosting -------------------------------------------
@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_regression_loss_matches_hist_gradient_boosting(loss):
    X_tr, X_te, y_tr, y_te = _regression()
    ours = AccelBoostRegressor(loss=loss, **COMMON).fit(X_tr, y_tr)
    peer = HistGradientBoostingRegressor(loss=loss, **COMMON).fit(X_tr, y_tr)
    metric = mean_squared_error if loss == "squared_error" else (
        lambda a, b: np.mean(np.abs(a - b))
    )
    ours_loss = metric(y_te, ours.predict(X_te))
    peer_loss = metric(y_te, peer.predict(X_te))
    assert ours_loss <= 1.01 * peer_loss


def test_poisson_loss_matches_hist_gradient_boosting():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(4000, 6))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * np.abs(X[:, 1])))
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    ours = AccelBoostRegressor(loss="poisson", **COMMON).fit(X_tr, y_tr)
    peer = HistGradientBoostingRegressor(loss="poisson", **COMMON).fit(X_tr, y_tr)
    ours_loss = mean_poisson_deviance(y_te, ours.predict(X_te))
    peer_loss = mean_poisson_deviance(y_te, peer.predict(X_te))
    assert ours_loss <= 1.01 * peer_loss


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classification_loss_matches_hist_gradient_boosting(n_classes):
    X_tr, X_te, y_tr, y_te = _classification(n_classes)
    ours = AccelBoostClassifier(**COMMON).fit(X_tr, y_tr)
    peer = HistGradientBoostingClassifier(**COMMON).fit(X_tr, y_tr)
    ours_loss = log_loss(y_te, ours.predict_proba(X_te))
    peer_loss = log_loss(y_te, peer.predict_proba(X_te))
    assert ours_loss <= 1.01 * peer_loss
    assert ours.predict_proba(X_te).shape == (len(y_te), n_classes)


def test_training_loss_decreases_every_stage():
    X_tr, _, y_tr, _ = _regression()
    # early stopping on the training data only, never triggered: it records
    # train_score_ for every stage
    params = {**COMMON, "early_stopping": True, "validation_fraction": None,
              "n_iter_no_change": 1000}
    model = AccelBoostRegressor(**params).fit(X_tr, y_tr)
    assert model.n_iter_ == COMMON["max_iter"]
    assert model.validation_score_.size == 0
    assert model.train_score_.shape == (COMMON["max_iter"] + 1,)
    assert_allclose(
        model.train_score_[-1],
        -0.5 * np.mean((y_tr - model.predict(X_tr)) ** 2),
        rtol=1e-10,
    )
    # train_score_ is minus the loss: Newton steps on squared error with
    # shrinkage 0.1 never raise it.
    assert np.all(np.diff(model.train_score_) > 0)


# -- determinism ---------------------------------------------------------------
def _node_arrays(model):
    return [tree.copy() for tree in model._ensemble.trees]


@pytest.mark.parametrize("n_classes", [None, 3])
def test_one_and_two_threads_give_the_same_model(n_classes):
    # Enough cells that the two-thread fit does run on two threads.
    n_samples = 2 * MIN_PARALLEL_CELLS // 8
    if n_classes is None:
        X, _, y, _ = _regression(n_samples)
        X[::7, 2] = np.nan
        make = AccelBoostRegressor
    else:
        X, _, y, _ = _classification(n_classes, n_samples)
        make = AccelBoostClassifier
    assert fit_n_threads(2, *X.shape) == 2
    params = {**COMMON, "max_iter": 15}
    one = make(n_threads=1, **params).fit(X, y)
    two = make(n_threads=2, **params).fit(X, y)
    for a, b in zip(_node_arrays(one), _node_arrays(two), strict=True):
        assert_array_equal(a, b)
    assert_array_equal(one.predict(X), two.predict(X))


# -- staged predictions, warm start, pickling ---------------------------------
def test_staged_predict_ends_at_predict_and_has_one_entry_per_stage():
    X_tr, X_te, y_tr, _ = _regression()
    model = AccelBoostRegressor(**COMMON).fit(X_tr, y_tr)
    staged = list(model.staged_predict(X_te))
    assert len(staged) == model.n_iter_
    assert_array_equal(staged[-1], model.predict(X_te))
    # the first stage is the baseline plus one shrunk tree
    first = AccelBoostRegressor(**{**COMMON, "max_iter": 1}).fit(X_tr, y_tr)
    assert_array_equal(staged[0], first.predict(X_te))


def test_staged_predict_proba_matches_predict_proba():
    X_tr, X_te, y_tr, _ = _classification(3)
    model = AccelBoostClassifier(**COMMON).fit(X_tr, y_tr)
    staged = list(model.staged_predict_proba(X_te))
    assert len(staged) == model.n_iter_
    assert_allclose(staged[-1], model.predict_proba(X_te), rtol=0, atol=0)
    labels = list(model.staged_predict(X_te))
    assert_array_equal(labels[-1], model.predict(X_te))


@pytest.mark.parametrize("n_classes", [None, 2, 3])
def test_warm_start_50_then_25_equals_75(n_classes):
    if n_classes is None:
        X, _, y, _ = _regression()
        make = AccelBoostRegressor
    else:
        X, _, y, _ = _classification(n_classes)
        make = AccelBoostClassifier
    # scores recorded (training data, never stopping) to compare them too
    params = {**COMMON, "random_state": 0, "early_stopping": True,
              "validation_fraction": None, "n_iter_no_change": 1000}
    at_once = make(**{**params, "max_iter": 75}).fit(X, y)
    warm = make(**{**params, "max_iter": 50, "warm_start": True}).fit(X, y)
    warm.set_params(max_iter=75).fit(X, y)
    assert warm.n_iter_ == 75
    for a, b in zip(_node_arrays(at_once), _node_arrays(warm), strict=True):
        assert_array_equal(a, b)
    method = "predict" if n_classes is None else "decision_function"
    assert_array_equal(getattr(warm, method)(X), getattr(at_once, method)(X))
    assert_array_equal(warm.train_score_, at_once.train_score_)


def test_warm_start_with_smaller_max_iter_is_an_error_that_keeps_the_model():
    X, _, y, _ = _regression()
    model = AccelBoostRegressor(**{**COMMON, "warm_start": True}).fit(X, y)
    before = model.predict(X)
    with pytest.raises(ValueError, match="max_iter=10 must be larger"):
        model.set_params(max_iter=10).fit(X, y)
    assert model.n_iter_ == COMMON["max_iter"]
    assert_array_equal(model.predict(X), before)


def test_pickled_model_predicts_identically():
    X_tr, X_te, y_tr, _ = _classification(3)
    X_te = X_te.copy()
    X_te[::5, 0] = np.nan
    model = AccelBoostClassifier(**COMMON).fit(X_tr, y_tr)
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict_proba(X_te), model.predict_proba(X_te))
    assert_array_equal(loaded.predict(X_te), model.predict(X_te))


# -- early stopping ---------------------------------------------------------------
def test_early_stopping_stops_when_validation_loss_stalls():
    X_tr, _, y_tr, _ = _regression(n_samples=3000)
    model = AccelBoostRegressor(
        learning_rate=0.5, max_iter=500, early_stopping=True,
        n_iter_no_change=5, validation_fraction=0.2, random_state=0,
    ).fit(X_tr, y_tr)
    assert model.n_iter_ < 500
    scores = model.validation_score_
    assert scores.shape == model.train_score_.shape == (model.n_iter_ + 1,)
    # the last n_iter_no_change scores did not beat the one before them
    assert np.max(scores[-5:]) <= scores[-6] + model.tol


def test_early_stopping_auto_depends_on_size_and_validation_set():
    X, _, y, _ = _regression(n_samples=3000)
    model = AccelBoostRegressor(max_iter=5).fit(X, y)
    assert model.validation_score_.size == model.train_score_.size == 0  # off
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, random_state=0)
    model = AccelBoostRegressor(max_iter=5).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert model.validation_score_.shape == (6,)
    expected = -0.5 * np.mean((y_val - model.predict(X_val)) ** 2)
    assert_allclose(model.validation_score_[-1], expected, rtol=1e-10)


def test_early_stopping_with_a_scorer():
    X_tr, _, y_tr, _ = _classification(2)
    model = AccelBoostClassifier(
        max_iter=300, early_stopping=True, scoring="accuracy", n_iter_no_change=3,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert model.n_iter_ < 300
    assert np.all((model.validation_score_ >= 0) & (model.validation_score_ <= 1))


# -- scikit-learn tooling --------------------------------------------------------
def test_pipeline_grid_search_and_cross_validation():
    X_tr, X_te, y_tr, y_te = _classification(2, n_samples=1500)
    pipe = make_pipeline(StandardScaler(), AccelBoostClassifier(max_iter=20))
    search = GridSearchCV(
        pipe, {"accelboostclassifier__learning_rate": [0.05, 0.3]}, cv=3
    ).fit(X_tr, y_tr)
    assert search.best_params_["accelboostclassifier__learning_rate"] in (0.05, 0.3)
    assert search.score(X_te, y_te) > 0.8
    scores = cross_val_score(AccelBoostRegressor(max_iter=20), *_regression()[::2])
    assert scores.shape == (5,) and np.all(scores > 0.5)


def test_feature_names_are_remembered_and_checked():
    import pandas as pd  # in the test extra

    X, _, y, _ = _regression(n_samples=500)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = AccelBoostRegressor(max_iter=5).fit(frame, y)
    assert_array_equal(model.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"f0": "other"}))


# -- missing values ----------------------------------------------------------------
def test_missing_values_are_learned_and_routed():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 3))
    missing = rng.rand(3000) < 0.3
    X[missing, 0] = np.nan
    y = np.where(missing, 5.0, X[:, 1])  # the target says where NaN was
    model = AccelBoostRegressor(max_iter=100, learning_rate=0.3).fit(X, y)
    pred = model.predict(X)
    assert np.abs(pred[missing] - 5.0).max() < 0.2
    # unseen NaN in a feature without missing training values: no garbage
    X_new = X[:10].copy()
    X_new[:, 2] = np.nan
    assert np.all(np.isfinite(model.predict(X_new)))


# -- bad input: clear errors before any kernel runs --------------------------------
@pytest.fixture
def data():
    X, _, y, _ = _regression(n_samples=200)
    return X, y


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_is_rejected(data, bad):
    X, y = data
    y = y.copy()
    y[3] = bad
    with pytest.raises(ValueError, match="Input y contains (NaN|infinity)"):
        AccelBoostRegressor().fit(X, y)


@pytest.mark.parametrize("loss, early_stopping", [
    ("squared_error", False), ("squared_error", True), ("huber", True),
    ("absolute_error", False),
])
def test_targets_and_weights_whose_loss_overflows_are_rejected(loss,
                                                               early_stopping):
    # Found by fuzzing: y ~ 1e150 weighted 1e200 overflows float64; the fit
    # went on from a NaN baseline (or an infinite loss) to NaN predictions.
    X = np.linspace(0.0, 1.0, 40).reshape(-1, 1)
    y = np.linspace(-1.0, 2.0, 40) * 1e150
    previous = AccelBoostRegressor(loss=loss, max_iter=3).fit(X, y / 1e150)
    expected = previous.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning before the error
        with pytest.raises(ValueError, match="not finite.*Rescale them"):
            previous.set_params(early_stopping=early_stopping).fit(
                X, y, sample_weight=np.full(40, 1e200))
    assert_array_equal(previous.predict(X), expected)  # the model is kept
    model = AccelBoostRegressor(loss=loss, max_iter=3).fit(X, y)  # unweighted
    assert np.isfinite(model.predict(X)).all()


def test_inf_in_X_is_rejected(data):
    X, y = data
    X = X.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        AccelBoostRegressor().fit(X, y)


def test_wrong_shapes_are_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="Expected 2D array"):
        AccelBoostRegressor().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        AccelBoostRegressor().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        AccelBoostRegressor().fit(X, y, sample_weight=np.ones(len(y) + 1))


def test_single_class_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        AccelBoostClassifier().fit(X, np.zeros(len(X)))


def test_continuous_target_is_rejected_by_classifier(data):
    X, y = data
    with pytest.raises(ValueError, match="Unknown label type"):
        AccelBoostClassifier().fit(X, y)


def test_negative_or_all_zero_sample_weights_are_rejected(data):
    X, y = data
    weights = np.ones(len(y))
    weights[0] = -1
    negative = "Negative values in data passed to `sample_weight`"
    with pytest.raises(ValueError, match=negative):
        AccelBoostRegressor().fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match="(no positive entry|at least one non-zero)"):
        AccelBoostRegressor().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"loss": "hinge"}, "'loss' parameter"),
        ({"quantile": 1.0}, "'quantile' parameter"),
        ({"power": 2.0}, "'power' parameter"),
        ({"learning_rate": 0}, "'learning_rate' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"max_leaf_nodes": 1}, "'max_leaf_nodes' parameter"),
        ({"max_bins": 1024}, "'max_bins' parameter"),
        ({"min_samples_leaf": 0}, "'min_samples_leaf' parameter"),
        ({"l2_regularization": -1}, "'l2_regularization' parameter"),
        ({"validation_fraction": 1.5}, "'validation_fraction' parameter"),
        ({"n_threads": 0}, "'n_threads' parameter"),
        ({"early_stopping": "yes"}, "'early_stopping' parameter"),
    ],
)
def test_out_of_range_parameters_are_rejected(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        AccelBoostRegressor(**params).fit(X, y)


def test_poisson_rejects_negative_targets(data):
    X, y = data
    with pytest.raises(ValueError, match="non-negative y"):
        AccelBoostRegressor(loss="poisson").fit(X, y)


def test_predict_with_wrong_number_of_features_is_rejected(data):
    X, y = data
    model = AccelBoostRegressor(max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="has 7 features, but AccelBoostRegressor"):
        model.predict(X[:, :7])


def test_predict_before_fit_is_rejected(data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AccelBoostClassifier().predict(data[0])


def test_failed_refit_keeps_the_fitted_model(data):
    X, y = data
    model = AccelBoostRegressor(max_iter=5, warm_start=True).fit(X, y)
    before = model.predict(X)
    bad_y = y.copy()
    bad_y[0] = np.nan
    with pytest.raises(ValueError):
        model.set_params(max_iter=10).fit(X, bad_y)
    assert model.n_iter_ == 5
    assert_array_equal(model.predict(X), before)


# -- interaction constraints ------------------------------------------------------
def _features_of_paths(nodes):
    """The set of features split on along each root-to-leaf path."""
    out, stack = [], [(0, frozenset())]
    while stack:
        i, used = stack.pop()
        if nodes[i]["is_leaf"]:
            out.append(used)
            continue
        used = used | {int(nodes[i]["feature_idx"])}
        stack += [(int(nodes[i]["left"]), used), (int(nodes[i]["right"]), used)]
    return out


INTERACTION_TASKS = [
    "squared_error", "absolute_error", "poisson", "binary", "multiclass"
]
INTERACTION_POLICIES = [
    dict(stage_init="zero"),
    dict(stage_init="stacking", momentum="nesterov"),
    dict(stage_init="agbm"),
]


@pytest.mark.parametrize("task", INTERACTION_TASKS)
@pytest.mark.parametrize("policy", INTERACTION_POLICIES)
def test_no_tree_mixes_two_interaction_groups(task, policy):
    rng = np.random.RandomState(len(task))
    X = rng.normal(size=(1500, 7))
    f = X[:, 0] * X[:, 3] + np.sin(X[:, 1] * X[:, 5]) + X[:, 2] * X[:, 6]
    groups = [{0, 1}, {2, 3, 4}]  # 5 and 6 form a third group
    params = dict(max_iter=15, max_leaf_nodes=8, min_samples_leaf=5,
                  interaction_cst=[list(g) for g in groups], **policy)
    if task in ("binary", "multiclass"):
        y = np.digitize(f, [0.0] if task == "binary" else [-0.5, 0.5])
        model = AccelBoostClassifier(**params).fit(X, y)
    else:
        y = np.exp(f / 3) if task == "poisson" else f
        model = AccelBoostRegressor(loss=task, **params).fit(X, y)
    all_groups = groups + [{5, 6}]
    used_any = set()
    for nodes in model._ensemble.trees:
        used = frozenset().union(*_features_of_paths(nodes))
        used_any |= used
        # Disjoint groups: the whole tree stays inside one of them.
        assert any(used <= group for group in all_groups), used
    assert len(used_any) > 3  # the fit did use several groups


def test_pairwise_paths_use_at_most_two_features():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 5))
    y = X[:, 0] * X[:, 1] * X[:, 2] + X[:, 3]
    model = AccelBoostRegressor(max_iter=10, interaction_cst="pairwise").fit(X, y)
    paths = [p for nodes in model._ensemble.trees for p in _features_of_paths(nodes)]
    assert max(len(p) for p in paths) == 2


def test_no_interactions_matches_hist_gradient_boosting():
    X_tr, X_te, y_tr, y_te = _regression()
    params = dict(COMMON, interaction_cst="no_interactions")
    ours = AccelBoostRegressor(stage_init="zero", **params).fit(X_tr, y_tr)
    peer = HistGradientBoostingRegressor(**params).fit(X_tr, y_tr)
    for nodes in ours._ensemble.trees:
        assert len(frozenset().union(*_features_of_paths(nodes))) == 1
    ours_loss = mean_squared_error(y_te, ours.predict(X_te))
    peer_loss = mean_squared_error(y_te, peer.predict(X_te))
    assert ours_loss <= 1.01 * peer_loss


@pytest.mark.parametrize(
    "cst, match",
    [
        ([[0, 9]], r"integer indices in \[0, n_features - 1\] = \[0, 7\]"),
        ([3], "must be a sequence of tuples or lists"),
        ("triples", "'interaction_cst' parameter"),
    ],
)
def test_bad_interaction_constraints_are_rejected(cst, match):
    X_tr, _, y_tr, _ = _regression(200)
    with pytest.raises(ValueError, match=match):
        AccelBoostRegressor(interaction_cst=cst, max_iter=2).fit(X_tr, y_tr)


# -- more than 255 bins -------------------------------------------------------------
def test_finer_bins_resolve_finer_curves():
    # A curve with more wiggles than 255 quantile bins can follow: with 1,023
    # bins the same one-feature boosting fits it closer, on held-out rows too.
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, size=(30_000, 2))
    y = np.sign(np.sin(250 * X[:, 0])) + 0.1 * rng.normal(size=len(X))
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    params = dict(max_iter=60, learning_rate=0.5, max_leaf_nodes=31,
                  interaction_cst="no_interactions", early_stopping=False)
    coarse = AccelBoostRegressor(max_bins=255, **params).fit(X_tr, y_tr)
    fine = AccelBoostRegressor(max_bins=1023, **params).fit(X_tr, y_tr)
    assert fine._bin_mapper.transform(X_te).dtype == np.uint16
    coarse_mse = mean_squared_error(y_te, coarse.predict(X_te))
    fine_mse = mean_squared_error(y_te, fine.predict(X_te))
    assert fine_mse < 0.8 * coarse_mse, (fine_mse, coarse_mse)


@pytest.mark.parametrize("restart", [None, "gradient"])
def test_a_diverging_fit_warns_and_names_the_restart(restart):
    X, y = make_classification(2000, random_state=0)
    # Uncapped leaves: the default cap keeps even this fit from diverging.
    model = AccelBoostClassifier(
        stage_init="stacking", momentum=0.99, restart=restart, learning_rate=1.0,
        max_leaf_nodes=4, max_iter=200, early_stopping=False, max_delta_step=None,
    )
    with pytest.warns(ConvergenceWarning, match="use restart='function'"):
        model.fit(X, y)
    # The fitted model is kept, diverged as it is.
    assert model.n_iter_ == 200


def test_the_function_restart_fit_does_not_warn():
    X, y = make_classification(2000, random_state=0)
    model = AccelBoostClassifier(
        stage_init="stacking", momentum=0.99, restart="function",
        learning_rate=1.0, max_leaf_nodes=4, max_iter=200, early_stopping=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    # What the warning watches: the training loss ended below its start.
    start = log_loss(y, np.full(len(y), y.mean()))
    assert log_loss(y, model.predict_proba(X)) < start


def test_internal_scoring_of_a_dataframe_does_not_warn_about_names():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(500, 3)), columns=["a", "b", "c"])
    y = X["a"] + rng.normal(size=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = AccelBoostRegressor(max_iter=30, early_stopping=True, scoring="r2")
        model.fit(X, y)
    assert len(model.validation_score_) == model.n_iter_ + 1
    # The user's own predict on an array still gets scikit-learn's warning.
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.predict(X.to_numpy())


@pytest.mark.parametrize("stage_init", ["zero", "stacking", "agbm"])
def test_feature_importances_follow_the_splits(stage_init):
    X, y = make_regression(600, 6, n_informative=2, shuffle=False, random_state=0)
    model = AccelBoostRegressor(max_iter=40, max_leaf_nodes=4, stage_init=stage_init,
                                random_state=0).fit(X, y)
    gain = model.feature_importances_
    assert gain.shape == (6,) and np.all(gain >= 0)
    assert_allclose(gain.sum(), 1.0)
    assert set(np.argsort(gain)[-2:]) == {0, 1}  # the informative features
    # Split counts: the inner nodes of the packed predictor trees, per feature.
    nodes, _, _ = model._ensemble._plain()
    inner = nodes[nodes["left"] != 0]
    expected = np.bincount(inner["feature_idx"].astype(np.intp), minlength=6)
    model.set_params(importance_type="split")
    assert_array_equal(model.feature_importances_, expected)


def test_feature_importances_of_a_model_without_splits_are_zero():
    X = np.zeros((100, 3))
    y = np.arange(100) % 2
    model = AccelBoostClassifier(max_iter=5).fit(X, y)
    assert_array_equal(model.feature_importances_, np.zeros(3))


@pytest.mark.parametrize("stage_init", ["zero", "stacking", "agbm"])
def test_iteration_range_is_the_model_of_its_stages(stage_init):
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    model = AccelBoostRegressor(
        max_iter=12, max_leaf_nodes=4, stage_init=stage_init, learning_rate=0.5,
        early_stopping=False, random_state=0,
    ).fit(X, y)
    staged = list(model.staged_predict(X))
    for k in (0, 1, 5, 12):
        expected = staged[k - 1] if k else np.full(len(y), model._ensemble.baseline[0])
        assert_allclose(model.predict(X, iteration_range=(0, k)), expected,
                        rtol=1e-12, atol=1e-9)
    # Leaving out the first stages leaves out their trees (weighted as in
    # the model of all 12 stages), the baseline kept.
    whole = model.predict(X, iteration_range=(0, 12))
    tail = model.predict(X, iteration_range=(4, 12))
    coef = model.stage_coef_
    per_stage = len(coef) // 12
    left_out = np.zeros(len(y))
    for stage in range(4):
        for role, out in enumerate(model._ensemble.stage_outputs(X, stage)):
            left_out += coef[stage * per_stage + role] * out[:, 0]
    assert_allclose(whole - tail, left_out, rtol=1e-9, atol=1e-9)
    assert np.abs(left_out).max() > 1.0


def test_predict_defaults_to_the_best_iteration_after_early_stopping():
    X, y = make_regression(n_samples=600, n_features=5, noise=30.0, random_state=1)
    X_tr, X_val, y_tr, y_val = X[:400], X[400:], y[:400], y[400:]
    common = dict(max_leaf_nodes=3, stage_init="stacking", momentum=0.5,
                  learning_rate=0.5, random_state=0)
    stopped = AccelBoostRegressor(max_iter=500, early_stopping=True,
                                  n_iter_no_change=15, **common)
    stopped.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    best = stopped.best_iteration_
    assert 0 < best < stopped.n_iter_
    assert best == np.argmax(stopped.validation_score_)
    # The default model is the first best_iteration_ stages: the same trees
    # and coefficients as a fit that stops there.
    short = AccelBoostRegressor(max_iter=best, early_stopping=False, **common)
    short.fit(X_tr, y_tr)
    assert_array_equal(stopped.predict(X_val), short.predict(X_val))
    assert_array_equal(stopped.stage_coef_, short.stage_coef_)
    assert_array_equal(stopped.feature_importances_, short.feature_importances_)
    # Every stage is still there, and reachable.
    full = stopped.predict(X_val, iteration_range=(0, stopped.n_iter_))
    assert not np.array_equal(full, stopped.predict(X_val))
    assert len(list(stopped.staged_predict(X_val))) == stopped.n_iter_


@pytest.mark.parametrize("bad", [(0, 99), (3, 2), (-1, 2), (0,), "ab", (0.5, 2)])
def test_iteration_range_out_of_bounds_is_rejected(bad):
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    model = AccelBoostRegressor(max_iter=5, early_stopping=False).fit(X, y)
    with pytest.raises(ValueError, match="iteration_range must be a pair of ints"):
        model.predict(X, iteration_range=bad)


def test_eval_set_records_every_metric_after_every_stage():
    X, y = make_classification(n_samples=600, n_features=6, random_state=0)
    X_tr, X_a, X_b = X[:400], X[400:500], X[500:]
    y_tr, y_a, y_b = y[:400], y[400:500], y[500:]
    weights = np.linspace(0.5, 2.0, 100)
    model = AccelBoostClassifier(max_iter=15, max_leaf_nodes=4, early_stopping=False,
                                 random_state=0)
    model.fit(X_tr, y_tr, eval_set=[(X_a, y_a), (X_b, y_b, weights)],
              eval_metric=["loss", "roc_auc"])
    assert set(model.evals_result_) == {"validation_0", "validation_1"}
    # The recorded values are the model's own after each stage.
    for name, X_e, y_e, w in (("validation_0", X_a, y_a, None),
                              ("validation_1", X_b, y_b, weights)):
        record = model.evals_result_[name]
        assert len(record["log_loss"]) == len(record["roc_auc"]) == 15
        staged = list(model.staged_predict_proba(X_e))
        assert_allclose(record["log_loss"],
                        [log_loss(y_e, p, sample_weight=w) for p in staged],
                        rtol=1e-10)
        assert_allclose(record["roc_auc"],
                        [roc_auc_score(y_e, p[:, 1], sample_weight=w)
                         for p in staged])
    # Without eval_set the record is empty; eval_set does not change the fit.
    plain = AccelBoostClassifier(max_iter=15, max_leaf_nodes=4, early_stopping=False,
                                 random_state=0).fit(X_tr, y_tr)
    assert plain.evals_result_ == {}
    assert_array_equal(plain.predict_proba(X_b), model.predict_proba(X_b))


def test_callbacks_read_evals_result_and_can_stop_on_it():
    X, y = make_regression(n_samples=400, n_features=5, noise=20.0, random_state=0)
    seen = []

    def stop_when_worse(info):
        losses = info.estimator.evals_result_["validation_0"]["squared_error"]
        seen.append(len(losses))
        return len(losses) > 3 and losses[-1] > min(losses[:-1])

    model = AccelBoostRegressor(max_iter=300, learning_rate=0.9, early_stopping=False)
    model.fit(X[:300], y[:300], eval_set=[(X[300:], y[300:])],
              callbacks=[stop_when_worse])
    assert seen == list(range(1, model.n_iter_ + 1))
    assert model.n_iter_ < 300


@pytest.mark.parametrize(
    "eval_set, error, match",
    [
        ((np.zeros((5, 3)), np.zeros(5)), TypeError, "must be a list"),
        ([np.zeros((5, 3))], TypeError, r"eval_set\[0\] must be a pair"),
        ([(np.zeros((5, 4)), np.zeros(5))], ValueError, "X has 4 features"),
    ],
)
def test_bad_eval_set_is_rejected(eval_set, error, match):
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    with pytest.raises(error, match=match):
        AccelBoostRegressor(max_iter=3).fit(X, y, eval_set=eval_set)


@pytest.mark.parametrize("class_weight", [{"a": 1.0, "b": 5.0, "c": 0.5}, "balanced"])
def test_class_weight_is_sample_weight_by_class(class_weight):
    X, y = make_classification(n_samples=500, n_features=5, n_informative=3,
                               n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0)
    labels = np.array(["a", "b", "c"])[y]
    base = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    counts = np.bincount(y)
    if class_weight == "balanced":
        per_class = len(y) / (3 * counts)
    else:
        per_class = np.array([class_weight[c] for c in "abc"])
    common = dict(max_iter=10, early_stopping=True, random_state=0)
    weighted = AccelBoostClassifier(class_weight=class_weight, **common)
    weighted.fit(X, labels, sample_weight=base)
    explicit = AccelBoostClassifier(**common)
    explicit.fit(X, labels, sample_weight=base * per_class[y])
    assert_array_equal(weighted.predict_proba(X), explicit.predict_proba(X))
    assert_array_equal(weighted.validation_score_, explicit.validation_score_)


def test_balanced_class_weight_raises_minority_recall():
    X, y = make_classification(n_samples=2000, n_features=6, weights=[0.95, 0.05],
                               flip_y=0.02, random_state=3)
    common = dict(max_iter=50, max_leaf_nodes=8, random_state=0, early_stopping=False)
    plain = AccelBoostClassifier(**common).fit(X[:1500], y[:1500])
    balanced = AccelBoostClassifier(class_weight="balanced", **common)
    balanced.fit(X[:1500], y[:1500])

    def recall(model):
        minority = y[1500:] == 1
        return np.mean(model.predict(X[1500:])[minority] == 1)

    assert recall(balanced) > recall(plain)


def test_log_loss_at_learning_rate_one_stays_near_the_best_rate():
    # Near-separable classes: Newton leaves with tiny hessians take huge
    # steps. The default leaf-step cap and the best-iteration predict keep
    # plain stumps at learning rate 1.0 close to the slower rates.
    X, y = make_classification(n_samples=20_000, n_features=10, n_informative=4,
                               class_sep=2.5, flip_y=0.0, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)

    def held_out(learning_rate, **params):
        model = AccelBoostClassifier(
            max_leaf_nodes=2, stage_init="zero", learning_rate=learning_rate,
            max_iter=3000, early_stopping=True, n_iter_no_change=100,
            random_state=0, **params,
        ).fit(X_tr, y_tr)
        return log_loss(y_te, model.predict_proba(X_te))

    best_rate = min(held_out(0.1), held_out(0.3))
    at_one = held_out(1.0)
    assert at_one <= 1.03 * best_rate
    assert at_one < held_out(1.0, max_delta_step=None)  # the cap is what helps


@pytest.mark.parametrize("sampling", [{"subsample": 0.5}, {"max_features": 0.4}])
def test_sampling_is_seeded_by_random_state(sampling):
    X, y = make_regression(n_samples=500, n_features=8, noise=10.0, random_state=0)
    common = dict(max_iter=15, early_stopping=False, **sampling)

    def fit(seed, **params):
        return AccelBoostRegressor(random_state=seed, **common, **params).fit(X, y)

    a, b, c = fit(0), fit(0), fit(1)
    assert_array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict(X), c.predict(X))
    # Sampling is on: the full model differs; a full share is no sampling.
    full = AccelBoostRegressor(random_state=0, max_iter=15, early_stopping=False)
    assert not np.array_equal(a.predict(X), full.fit(X, y).predict(X))
    off = {name: 1.0 for name in sampling}
    no_sampling = AccelBoostRegressor(random_state=0, max_iter=15,
                                      early_stopping=False, **off)
    assert_array_equal(no_sampling.fit(X, y).predict(X), full.predict(X))


def test_max_features_draws_at_each_node():
    X, y = make_regression(n_samples=400, n_features=10, random_state=0)
    model = AccelBoostRegressor(max_features=0.1, max_iter=5, max_leaf_nodes=8,
                                early_stopping=False, random_state=0).fit(X, y)
    # One feature per search, drawn anew: a tree still splits on several.
    features = [set(tree["feature_idx"][tree["is_leaf"] == 0])
                for tree in model._ensemble.trees]
    assert max(len(f) for f in features) > 1
