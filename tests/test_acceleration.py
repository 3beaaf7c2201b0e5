"""Accelerated boosting as users see it: exactness, the restart safeguard,
acceleration with weak learners, early stopping and warm start."""

import pickle

import numpy as np
import pytest
from conftest import _walk_tree
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from accelboost import AccelBoostClassifier, AccelBoostRegressor


def _problem(n=2000, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6))
    f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 - X[:, 4]
    y_reg = f + 0.3 * rng.normal(size=n)
    y_clf = (rng.rand(n) < 1 / (1 + np.exp(-2 * f))).astype(int)
    return X, y_reg, y_clf


def _tree_outputs(model, X):
    """Each tree's raw value at each row, by a plain-Python walk."""
    ensemble = model._ensemble
    out = np.empty((X.shape[0], len(ensemble.trees)))
    for j, nodes in enumerate(ensemble.trees):
        out[:, j] = [nodes[_walk_tree(nodes, row, False)]["value"] for row in X]
    return out


def _reference_stacking(model, X, beta_of_stage, scale_of_stage=lambda t: 1.0):
    """DESIGN 2.2 in NumPy: d_t = beta_t d + nu s_t b_t, F_t = F + d_t
    (s_t: the backtracking factor of stage t, 1 unless a step was halved)."""
    b = _tree_outputs(model, X)
    F = np.full(len(X), model._ensemble.baseline[0])
    d = np.zeros(len(X))
    path = []
    for t in range(b.shape[1]):
        d = beta_of_stage(t) * d + model.learning_rate * scale_of_stage(t) * b[:, t]
        F = F + d
        path.append(F.copy())
    return path


def _nesterov_betas(restart_stages, n):
    """beta_t of Nesterov's schedule, its counter reset at restart stages."""
    betas, lam_prev, lam = [], 0.0, 1.0
    for t in range(n):
        if t in restart_stages or t == 0:
            lam_prev, lam = 0.0, 1.0
            betas.append(0.0)
            continue
        lam_prev, lam = lam, (1 + np.sqrt(1 + 4 * lam**2)) / 2
        betas.append((lam_prev - 1) / lam if lam_prev else 0.0)
    return betas


# -- exactness -------------------------------------------------------------------
@pytest.mark.parametrize("restart", ["function", "gradient", None])
@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_zero_momentum_is_plain_boosting_bit_for_bit(task, restart):
    X, y_reg, y_clf = _problem(600)
    if task == "regression":
        make, y = AccelBoostRegressor, y_reg
    else:
        make = AccelBoostClassifier
        y = y_clf if task == "binary" else np.digitize(y_reg, [-1, 1])
    params = dict(max_iter=30, max_leaf_nodes=8, learning_rate=0.3, restart=restart)
    plain = make(stage_init="zero", **params).fit(X, y)
    stacked = make(stage_init="stacking", momentum=0.0, **params).fit(X, y)
    for a, b in zip(plain._ensemble.trees, stacked._ensemble.trees, strict=True):
        assert_array_equal(a, b)
    assert_array_equal(plain.stage_coef_, stacked.stage_coef_)
    method = "predict" if task == "regression" else "decision_function"
    assert_array_equal(getattr(plain, method)(X), getattr(stacked, method)(X))
    assert stacked.n_restarts_ == 0


@pytest.mark.parametrize("momentum", [0.8, "nesterov"])
@pytest.mark.parametrize("restart", [None, "function"])
def test_stacking_predictions_follow_the_numpy_recursion(momentum, restart):
    X, y, _ = _problem(400)
    model = AccelBoostRegressor(
        stage_init="stacking", momentum=momentum, restart=restart, max_iter=40,
        max_leaf_nodes=4, learning_rate=0.5,
    ).fit(X, y)
    restarts = set(model._restart_stages)
    if momentum == "nesterov":
        betas = _nesterov_betas(restarts, model.n_iter_)
    else:
        betas = [0.0 if t == 0 or t in restarts else momentum
                 for t in range(model.n_iter_)]
    path = _reference_stacking(model, X[:150], lambda t: betas[t])
    assert_allclose(model.predict(X[:150]), path[-1], rtol=0, atol=1e-10)
    for ours, reference in zip(model.staged_predict(X[:150]), path, strict=True):
        assert_allclose(ours, reference, rtol=0, atol=1e-10)


def test_agbm_predictions_follow_the_numpy_recursion():
    X, y, _ = _problem(400)
    eta, gamma = 0.3, 0.2
    model = AccelBoostRegressor(
        stage_init="agbm", agbm_gamma=gamma, restart=None, max_iter=25,
        max_leaf_nodes=4, learning_rate=eta,
    ).fit(X[:300], y[:300])
    b = _tree_outputs(model, X)
    f = h = np.full(len(X), model._ensemble.baseline[0])
    for m in range(model.n_iter_):
        theta = 2 / (m + 2)
        g = (1 - theta) * f + theta * h
        f, h = g + eta * b[:, 2 * m], h + gamma * eta / theta * b[:, 2 * m + 1]
    assert model.stage_coef_.shape == (2 * model.n_iter_,)
    assert_allclose(model.predict(X), f, rtol=0, atol=1e-10)
    assert_allclose(list(model.staged_predict(X))[-1], f, rtol=0, atol=1e-10)


# -- the restart safeguard -------------------------------------------------------
def _staged_training_losses(model, X, y):
    y = np.asarray(y, dtype=float)
    raws = [np.tile(model._ensemble.baseline, (len(X), 1))]
    raws += list(model._ensemble.staged_raw_predict(X))
    return np.array([model._loss(y, raw) for raw in raws]), raws


@settings(max_examples=30, deadline=None)
@given(
    loss=st.sampled_from(
        ["squared_error", "absolute_error", "poisson", "binary", "multiclass"]
    ),
    stage_init=st.sampled_from(["stacking", "agbm"]),
    learning_rate=st.floats(0.05, 1.0),
    momentum=st.one_of(st.floats(0.0, 0.99), st.just("nesterov")),
    leaves=st.sampled_from([2, 4, 8]),
    seed=st.integers(0, 1000),
    restart=st.sampled_from(["function", "validation"]),
)
def test_function_restart_never_lets_momentum_raise_the_training_loss(
    loss, stage_init, learning_rate, momentum, leaves, seed, restart
):
    X, y_reg, y_clf = _problem(300, seed)
    X_val, y_reg_val, y_clf_val = _problem(100, seed + 1)
    params = dict(
        stage_init=stage_init, momentum=momentum, restart=restart,
        learning_rate=learning_rate, max_leaf_nodes=leaves, max_iter=30,
        min_samples_leaf=5, early_stopping=False,
    )
    if loss in ("binary", "multiclass"):
        if loss == "binary":
            y, y_val = y_clf, y_clf_val
        else:
            y, y_val = np.digitize(y_reg, [-1, 1]), np.digitize(y_reg_val, [-1, 1])
        model = AccelBoostClassifier(**params).fit(X, y, X_val=X_val, y_val=y_val)
    else:
        y, y_val = y_reg, y_reg_val
        if loss == "poisson":
            y, y_val = np.exp(y / 2), np.exp(y_val / 2)
        model = AccelBoostRegressor(loss=loss, **params).fit(
            X, y, X_val=X_val, y_val=y_val
        )
    losses, raws = _staged_training_losses(model, X, y)
    assert all(np.all(np.isfinite(raw)) for raw in raws)
    if model._ensemble.policy.accelerated:
        # every stage: momentum steps are redone plain, plain steps backtracked
        # (1e-12 relative: the replayed losses may differ in the last bits)
        rises = np.flatnonzero(np.diff(losses) > 1e-12 * np.abs(losses[:-1]))
        assert rises.size == 0, (rises, losses[rises], losses[rises + 1])


def test_backtracking_stops_a_logistic_blow_up_after_momentum():
    # Momentum pushes the scores far out; a plain Newton step there, with
    # tiny hessians, overshoots. Without the safeguard the loss explodes.
    # The default leaf-step cap alone prevents this blow-up; uncapped
    # leaves test the restart rule itself.
    X, _, y = _problem()
    params = dict(
        stage_init="stacking", momentum=0.5, learning_rate=1.0, max_leaf_nodes=4,
        max_iter=120, early_stopping=False, max_delta_step=None,
    )
    with pytest.warns(ConvergenceWarning, match="use restart='function'"):
        unguarded = AccelBoostClassifier(restart=None, **params).fit(X, y)
    losses, _ = _staged_training_losses(unguarded, X, y)
    assert losses.max() > 10 * losses[0]
    plain = AccelBoostClassifier(
        learning_rate=1.0, max_leaf_nodes=4, max_iter=120, early_stopping=False,
        max_delta_step=None,
    ).fit(X, y)
    model = AccelBoostClassifier(restart="function", **params).fit(X, y)
    losses, raws = _staged_training_losses(model, X, y)
    assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])
    # and the momentum did not make the model worse than plain boosting's
    assert losses[-1] <= _staged_training_losses(plain, X, y)[0][-1]
    stages = model._ensemble.stages
    halved = [t for t, s in enumerate(stages) if s.step_scale < 1.0]
    assert halved
    # each kept scale is the largest power of 2 that does not raise the loss
    for t in halved:
        scale = stages[t].step_scale
        assert scale == 0.0 or np.log2(scale) == round(np.log2(scale))
        bigger = raws[t][:, 0] + (raws[t + 1][:, 0] - raws[t][:, 0]) * 2
        assert model._loss(y.astype(float), bigger[:, None]) > losses[t]
    # the predictions follow the NumPy recursion with those scales
    restarts = set(model._restart_stages)
    betas = [0.0 if t == 0 or t in restarts else 0.5 for t in range(len(stages))]
    path = _reference_stacking(
        model, X[:200], lambda t: betas[t], lambda t: stages[t].step_scale
    )
    assert_allclose(model.decision_function(X[:200]), path[-1], rtol=0, atol=1e-10)


# -- acceleration with weak learners ----------------------------------------------
def _trees_to_reach(model, X, y, target):
    losses, _ = _staged_training_losses(model, X, y)
    hits = np.flatnonzero(losses[1:] <= target)
    return hits[0] + 1 if hits.size else None


@pytest.mark.parametrize("task", ["squared_error", "log_loss"])
def test_nesterov_reaches_plain_400_tree_loss_in_half_the_stumps(task):
    X, y_reg, y_clf = _problem()
    make, y = (AccelBoostRegressor, y_reg) if task == "squared_error" else (
        AccelBoostClassifier, y_clf
    )
    common = dict(max_iter=400, max_leaf_nodes=2, early_stopping=False)
    plain_final = {}
    for lr in (0.1, 0.3, 1.0):
        plain = make(learning_rate=lr, stage_init="zero", **common).fit(X, y)
        plain_final[lr] = _staged_training_losses(plain, X, y)[0][-1]
    best_lr = min(plain_final, key=plain_final.get)
    accelerated = make(
        learning_rate=best_lr, stage_init="stacking", momentum="nesterov",
        restart="function", **common,
    ).fit(X, y)
    n_trees = _trees_to_reach(accelerated, X, y, plain_final[best_lr])
    assert n_trees is not None and n_trees <= 200, n_trees


# -- early stopping, warm start, pickling ------------------------------------------
def test_early_stopping_scores_the_model_not_the_look_ahead_point():
    X, y, _ = _problem(1500)
    X_tr, y_tr, X_val, y_val = X[:1000], y[:1000], X[1000:], y[1000:]
    model = AccelBoostRegressor(
        stage_init="stacking", momentum=0.9, learning_rate=0.3, max_iter=300,
        max_leaf_nodes=8, n_iter_no_change=15, early_stopping=True,
    ).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    staged = [model._ensemble.baseline[0] + 0 * y_val] + list(
        model.staged_predict(X_val)
    )
    expected = [-0.5 * np.mean((y_val - p) ** 2) for p in staged]
    assert_allclose(model.validation_score_, expected, rtol=1e-10)
    assert model.best_iteration_ == int(np.argmax(expected))
    assert model.n_iter_ < 300
    # patience survives a restart: no stop within n_iter_no_change of one
    if model._restart_stages:
        assert model.n_iter_ - model._restart_stages[-1] >= 15


@pytest.mark.parametrize(
    "params",
    [
        dict(stage_init="stacking", momentum="nesterov", restart="function"),
        dict(stage_init="stacking", momentum=0.9, restart="gradient"),
        dict(stage_init="agbm", restart="function"),
    ],
)
# Momentum 0.9 with the gradient restart diverges here; that is not the point.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_continues_the_recursion(params):
    X, _, y = _problem(800)
    common = dict(max_leaf_nodes=4, learning_rate=0.5, random_state=0, **params)
    at_once = AccelBoostClassifier(max_iter=75, **common).fit(X, y)
    warm = AccelBoostClassifier(max_iter=50, warm_start=True, **common).fit(X, y)
    # pickling in between keeps the momentum state
    warm = pickle.loads(pickle.dumps(warm))
    warm.set_params(max_iter=75).fit(X, y)
    assert warm.n_restarts_ == at_once.n_restarts_
    for a, b in zip(warm._ensemble.trees, at_once._ensemble.trees, strict=True):
        assert_array_equal(a, b)
    assert_array_equal(warm.stage_coef_, at_once.stage_coef_)
    assert_array_equal(warm.decision_function(X), at_once.decision_function(X))


@pytest.mark.parametrize(
    "change",
    [
        dict(stage_init="stacking"),
        dict(restart="gradient"),
        dict(momentum_offset=3),
        dict(hybrid_patience=4),
    ],
)
def test_warm_start_cannot_change_the_policy(change):
    X, y, _ = _problem(300)
    model = AccelBoostRegressor(
        max_iter=5, warm_start=True, stage_init="stacking", momentum=0.5
    ).fit(X, y)
    if "stage_init" in change:
        model = AccelBoostRegressor(max_iter=5, warm_start=True).fit(X, y)
    before = model.predict(X)
    with pytest.raises(ValueError, match="warm_start cannot change stage_init"):
        model.set_params(max_iter=10, **change).fit(X, y)
    assert model.n_iter_ == 5
    assert_array_equal(model.predict(X), before)


# -- momentum rules: offset, hybrid, validation restart, leaf cap -------------
def _stacking(**params):
    common = dict(max_leaf_nodes=8, learning_rate=0.3, random_state=0,
                  stage_init="stacking")
    return AccelBoostRegressor(**{**common, **params})


def test_momentum_offset_takes_plain_steps_first():
    X, y, _ = _problem(1500)
    model = _stacking(max_iter=40, momentum=0.6, momentum_offset=10,
                      restart=None).fit(X, y)
    momentum = model.stage_momentum_
    # Stages 1..10 are plain, stage 11 starts the momentum afresh (beta 0).
    assert_array_equal(momentum[:11], 0.0)
    assert_array_equal(momentum[11:], 0.6)
    plain = _stacking(max_iter=10, stage_init="zero").fit(X, y)
    offset = _stacking(max_iter=10, momentum=0.6, momentum_offset=10).fit(X, y)
    assert_array_equal(offset.predict(X), plain.predict(X))


def test_hybrid_switches_to_plain_for_good_after_patience():
    X, y, _ = _problem(3000)
    X_tr, y_tr, X_val, y_val = X[:600], y[:600], X[600:], y[600:]
    patience = 5
    # Nesterov with large steps on few rows overfits soon: the switch happens.
    model = _stacking(max_iter=150, momentum="nesterov", learning_rate=0.8,
                      hybrid_patience=patience, early_stopping=False).fit(
        X_tr, y_tr, X_val=X_val, y_val=y_val
    )
    scores = model.validation_score_
    assert len(scores) == model.n_iter_ + 1  # every stage scored, no stop
    stale = np.flatnonzero(
        [np.argmax(scores[: k + 1]) < k - patience for k in range(len(scores))]
    )
    assert stale.size, "the test needs a fit whose validation score stalls"
    switch = stale[0]  # stages fitted when the rule first fires
    momentum = model.stage_momentum_
    assert np.any(momentum[:switch] > 0)
    assert_array_equal(momentum[switch:], 0.0)


def test_hybrid_that_never_fires_changes_nothing():
    X, y, _ = _problem(2000)
    common = dict(max_iter=30, momentum="nesterov", validation_fraction=0.2)
    hybrid = _stacking(hybrid_patience=1000, early_stopping=False, **common)
    # The same held-out rows, through early stopping that never stops.
    reference = _stacking(early_stopping=True, n_iter_no_change=1000, **common)
    # Early stopping predicts with its best iteration: compare all 30 stages.
    every_stage = (0, common["max_iter"])
    assert_array_equal(hybrid.fit(X, y).predict(X),
                       reference.fit(X, y).predict(X, iteration_range=every_stage))
    assert_array_equal(hybrid.validation_score_, reference.validation_score_)


def test_validation_restart_drops_momentum_after_a_worse_score():
    X, y, _ = _problem(2000)
    model = _stacking(max_iter=120, momentum=0.8, learning_rate=0.6,
                      restart="validation", early_stopping=False,
                      validation_fraction=0.3).fit(X, y)
    scores = model.validation_score_
    momentum = model.stage_momentum_
    fell = [
        s for s in range(1, model.n_iter_)
        if scores[s + 1] < scores[s] and momentum[s] > 0
    ]
    assert fell, "the test needs a fit whose validation score falls"
    # The function guard's restarts redo a stage plain; the others are the
    # stages whose validation score fell.
    guard = [s for s in model.restart_stages_ if s not in fell]
    assert_array_equal(np.sort(np.concatenate([guard, fell])), model.restart_stages_)
    assert all(momentum[s] == 0.0 for s in guard)
    for s in fell:
        if s + 1 < model.n_iter_:
            assert momentum[s + 1] == 0.0  # the next stage starts afresh


def test_rules_that_read_scores_hold_out_data_without_early_stopping():
    X, y, _ = _problem(500)
    model = _stacking(max_iter=5, restart="validation", early_stopping=False).fit(
        X, y
    )
    assert len(model.validation_score_) == 6 and model.n_iter_ == 5
    plain = _stacking(max_iter=5, stage_init="zero", restart="validation",
                      early_stopping=False).fit(X, y)
    assert len(plain.validation_score_) == 0  # no momentum, nothing to watch


def test_max_delta_step_caps_every_leaf():
    X, y, _ = _problem(1000)
    y = 50 * y  # large Newton steps
    cap = 2.0
    model = _stacking(max_iter=10, stage_init="zero", max_delta_step=cap).fit(X, y)
    for nodes in model._ensemble.trees:
        leaves = nodes["is_leaf"].astype(bool)
        assert np.all(np.abs(nodes["value"][leaves]) <= cap)
    assert any(
        np.isclose(np.abs(nodes["value"][nodes["is_leaf"].astype(bool)]), cap).any()
        for nodes in model._ensemble.trees
    )
    loose = _stacking(max_iter=10, stage_init="zero", max_delta_step=1e9).fit(X, y)
    free = _stacking(max_iter=10, stage_init="zero").fit(X, y)
    assert_array_equal(loose.predict(X), free.predict(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"stage_init": "momentum"}, "'stage_init' parameter"),
        ({"momentum": 1.0}, "'momentum' parameter"),
        ({"momentum": "adam"}, "'momentum' parameter"),
        ({"restart": "always"}, "'restart' parameter"),
        ({"agbm_gamma": 0.0}, "'agbm_gamma' parameter"),
        ({"momentum_offset": -1}, "'momentum_offset' parameter"),
        ({"hybrid_patience": 0}, "'hybrid_patience' parameter"),
        ({"max_delta_step": 0.0}, "'max_delta_step' parameter"),
    ],
)
def test_bad_acceleration_parameters_are_rejected(params, match):
    X, y, _ = _problem(100)
    with pytest.raises(ValueError, match=match):
        AccelBoostRegressor(**params).fit(X, y)


# -- stage_init="auto": momentum from the tree size ------------------------------
@pytest.mark.parametrize(
    "tree, explicit",
    [
        (dict(max_leaf_nodes=2), dict(stage_init="stacking", momentum=0.5)),
        (dict(max_depth=1), dict(stage_init="stacking", momentum=0.5)),
        (dict(max_leaf_nodes=4), dict(stage_init="stacking", momentum=0.5)),
        (dict(max_leaf_nodes=None, max_depth=2),
         dict(stage_init="stacking", momentum=0.5)),
        (dict(max_leaf_nodes=8), dict(stage_init="zero")),
        (dict(max_leaf_nodes=31), dict(stage_init="zero")),
    ],
)
def test_auto_is_the_policy_the_evidence_chose_for_the_tree_size(tree, explicit):
    X, _, y = _problem(800)
    common = dict(max_iter=30, learning_rate=0.5, random_state=0, **tree)
    auto = AccelBoostClassifier(stage_init="auto", momentum=0.9, **common).fit(X, y)
    same = AccelBoostClassifier(**explicit, **common).fit(X, y)
    assert_array_equal(auto.decision_function(X), same.decision_function(X))
    assert_array_equal(auto.stage_momentum_, same.stage_momentum_)
