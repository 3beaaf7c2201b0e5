"""Whole fits over shards (``ShardedFitMixin._fit_local_shards``): the model
the in-memory estimator fits, whatever the shards' cut points; options the
shards cannot honour refused; a failed fit that leaves the fitted model and
no stage thread behind; what the trees cost in round trips and bytes."""

import threading
from functools import cache

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost._distributed import estimator as estimator_module
from accelboost._distributed.estimator import ShardedFitMixin
from accelboost._distributed.shard import Shard


class ShardedRegressor(ShardedFitMixin, AccelBoostRegressor):
    pass


class ShardedClassifier(ShardedFitMixin, AccelBoostClassifier):
    pass


TASKS = ["squared_error", "poisson", "binary", "multiclass"]
N_TRAIN = 2000
#: Shards: two equal, one empty in the middle, three unequal.
LAYOUTS = [2, [700, 0, 1300], [300, 1100, 600]]
#: Trees whose leaves hold at least 40 rows: no split is a near-tie that
#: the order of the shards' sums could decide.
TREES = dict(max_leaf_nodes=15, min_samples_leaf=40)
INITS = {
    "zero": dict(stage_init="zero"),
    "stacking": dict(stage_init="stacking"),
    "nesterov": dict(stage_init="stacking", momentum="nesterov"),
    "agbm": dict(stage_init="agbm"),
}


@cache
def problem(task):
    """``(X, y, sample_weight)`` of 2600 rows: the first 2000 train, the rest
    are held out (predictions, validation)."""
    rng = np.random.RandomState(0)
    weights = rng.uniform(0.5, 2.0, size=2600)
    if task in ("squared_error", "poisson"):
        X, y = make_regression(2600, 8, n_informative=6, noise=10.0, random_state=0)
        if task == "poisson":
            mean = np.exp(0.5 * np.clip(X[:, 0], -2, 2) + 0.3 * np.tanh(X[:, 1]))
            y = rng.poisson(mean).astype(np.float64)
        else:
            y = y / y.std()
    else:
        n_classes = 2 if task == "binary" else 3
        X, y = make_classification(2600, 8, n_informative=5, n_classes=n_classes,
                                   random_state=1)
    return X, y, weights


def estimators(task):
    """The in-memory estimator's class, the sharded one's and the loss."""
    if task in ("squared_error", "poisson"):
        return AccelBoostRegressor, ShardedRegressor, dict(loss=task)
    return AccelBoostClassifier, ShardedClassifier, {}


def fit_both(task, params, weighted=False, layout=2, validation=False):
    """The in-memory fit and the sharded fit of the same parameters, and
    the held-out rows."""
    X, y, w = problem(task)
    in_memory, sharded, loss = estimators(task)
    params = {**loss, **params}
    train = (X[:N_TRAIN], y[:N_TRAIN], w[:N_TRAIN] if weighted else None)
    held_out = (X[N_TRAIN:], y[N_TRAIN:], w[N_TRAIN:])
    a = in_memory(**params)
    if validation:
        a.fit(*train, X_val=held_out[0], y_val=held_out[1],
              sample_weight_val=held_out[2])
    else:
        a.fit(*train)
    b = sharded(**params)._fit_local_shards(
        *train, n_shards=layout, validation=held_out if validation else None)
    return a, b, held_out[0]


def raw(estimator, X):
    if isinstance(estimator, AccelBoostClassifier):
        return estimator.decision_function(X)
    return estimator._raw_predict(X)


def assert_same_model(a, b, X):
    """The sharded fit ``b`` is the in-memory fit ``a``: its stages, its
    restarts, its trees and its predictions on the held-out rows ``X``."""
    assert b.n_iter_ == a.n_iter_
    assert_array_equal(b.restart_stages_, a.restart_stages_)
    assert_allclose(b.stage_momentum_, a.stage_momentum_, rtol=0, atol=1e-12)
    assert len(b._ensemble.trees) == len(a._ensemble.trees)
    for i, (tree, expected) in enumerate(zip(b._ensemble.trees, a._ensemble.trees,
                                             strict=True)):
        for name in ("feature_idx", "bin_threshold", "is_leaf", "count"):
            assert_array_equal(tree[name], expected[name], err_msg=f"tree {i}")
    assert_allclose(raw(b, X), raw(a, X), rtol=0, atol=1e-10)
    if isinstance(a, AccelBoostClassifier):
        assert_array_equal(b.classes_, a.classes_)
        assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=0, atol=1e-10)
        assert_array_equal(b.predict(X), a.predict(X))
    else:
        assert_allclose(b.predict(X), a.predict(X), rtol=1e-10, atol=1e-10)


BASE = dict(max_iter=20, learning_rate=0.3, early_stopping=False, random_state=3,
            **TREES)


@pytest.mark.parametrize("init", list(INITS))
@pytest.mark.parametrize("task", TASKS)
def test_sharded_fit_is_the_in_memory_fit(task, init):
    # Every task meets every layout, weighted and not.
    k = list(INITS).index(init) + TASKS.index(task)
    a, b, X_held_out = fit_both(task, {**BASE, **INITS[init]}, weighted=k % 2 == 1,
                                layout=LAYOUTS[k % 3])
    assert a.n_iter_ == BASE["max_iter"]
    assert_same_model(a, b, X_held_out)


@pytest.mark.parametrize(
    "task, init, learning_rate, weighted, layout",
    [
        ("squared_error", "nesterov", 1.0, False, [300, 1100, 600]),
        ("squared_error", "agbm", 1.0, True, [700, 0, 1300]),
        ("binary", "zero", 0.3, True, 2),
        ("multiclass", "nesterov", 0.3, False, [700, 0, 1300]),
    ],
)
def test_early_stopping_on_a_validation_set_stops_where_in_memory_does(
        task, init, learning_rate, weighted, layout):
    params = dict(max_iter=60, learning_rate=learning_rate, early_stopping=True,
                  n_iter_no_change=3, random_state=0, **TREES, **INITS[init])
    a, b, X_held_out = fit_both(task, params, weighted=weighted, layout=layout,
                                validation=True)
    assert a.n_iter_ < params["max_iter"], "the fit must stop early"
    assert b.best_iteration_ == a.best_iteration_
    assert b.best_iteration_ < b.n_iter_
    assert_allclose(b.train_score_, a.train_score_, rtol=1e-12, atol=1e-14)
    assert_allclose(b.validation_score_, a.validation_score_, rtol=1e-12,
                    atol=1e-14)
    assert len(b.validation_score_) == b.n_iter_ + 1
    assert_same_model(a, b, X_held_out)


def test_early_stopping_cases_restart_the_momentum():
    # The cases above compare restart_stages_ only if some fits restart.
    params = dict(max_iter=60, learning_rate=1.0, early_stopping=True,
                  n_iter_no_change=3, random_state=0, **TREES, **INITS["nesterov"])
    X, y, _ = problem("squared_error")
    model = AccelBoostRegressor(**params).fit(X[:N_TRAIN], y[:N_TRAIN],
                                              X_val=X[N_TRAIN:], y_val=y[N_TRAIN:])
    assert len(model.restart_stages_) >= 1


GRADIENT_RESTART = dict(restart="gradient", learning_rate=1.0, **INITS["nesterov"])
OPTIONS = [
    ("squared_error", dict(max_delta_step=0.05)),
    ("binary", dict(max_delta_step=0.1)),
    ("squared_error", dict(monotonic_cst=[1, -1, 0, 1, 0, 0, -1, 0])),
    ("multiclass", dict(interaction_cst="no_interactions")),
    ("squared_error", dict(max_features=0.5)),
    ("squared_error", GRADIENT_RESTART),
    ("binary", dict(class_weight={0: 1.0, 1: 3.0})),
]


@pytest.mark.parametrize(
    "task, option", OPTIONS,
    ids=["max_delta_step", "max_delta_step_log_loss", "monotonic_cst",
         "no_interactions", "max_features", "gradient_restart", "class_weight"])
def test_options_match_the_in_memory_fit(task, option):
    params = {**BASE, "stage_init": "stacking", **option}
    a, b, X_held_out = fit_both(task, params, layout=[700, 0, 1300])
    assert_same_model(a, b, X_held_out)
    if "restart" in option:
        assert len(a.restart_stages_) >= 1, "the momentum must be restarted"
    # The option changes the model, so a shard that ignored it would not
    # match.
    without = {k: v for k, v in params.items() if k not in option}
    in_memory, _, loss = estimators(task)
    X, y, _ = problem(task)
    plain = in_memory(**loss, **without).fit(X[:N_TRAIN], y[:N_TRAIN])
    changed = np.max(np.abs(raw(plain, X_held_out) - raw(a, X_held_out))) > 1e-6
    assert changed or not np.array_equal(plain.restart_stages_, a.restart_stages_)


def test_gradient_restarts_are_decided_on_every_shards_rows():
    # An empty first shard sees no uphill step: the fit would never restart.
    params = {**BASE, "stage_init": "stacking", **GRADIENT_RESTART}
    a, b, X_held_out = fit_both("squared_error", params, layout=[0, N_TRAIN])
    assert len(a.restart_stages_) >= 1
    assert_same_model(a, b, X_held_out)


def test_unsupported_loss_is_refused():
    X, y, _ = problem("squared_error")
    with pytest.raises(NotImplementedError, match="loss='absolute_error'"):
        ShardedRegressor(loss="absolute_error", max_iter=3)._fit_local_shards(
            X[:500], y[:500])


def test_validation_fraction_holds_out_the_same_rows_for_any_shards():
    """Each row is held out by its own draw from one stream, so the held-out
    rows, and the model, do not depend on the shards."""
    X, y, _ = problem("binary")
    params = dict(early_stopping=True, validation_fraction=0.2, max_iter=200,
                  random_state=0, learning_rate=1.0, n_iter_no_change=3, **TREES)
    models = [ShardedClassifier(**params)._fit_local_shards(X, y, n_shards=layout)
              for layout in (1, [700, 0, len(y) - 700])]
    assert models[0].n_iter_ < 200  # it stopped early on the held-out rows
    assert models[0].n_iter_ == models[1].n_iter_
    assert_allclose(models[0].validation_score_, models[1].validation_score_,
                    rtol=1e-12)


def test_subsample_is_refused():
    X, y, _ = problem("squared_error")
    with pytest.raises(NotImplementedError, match="subsample=0.5"):
        ShardedRegressor(subsample=0.5, max_iter=3)._fit_local_shards(X[:500],
                                                                       y[:500])


def test_a_scorer_for_early_stopping_is_refused():
    X, y, _ = problem("squared_error")
    model = ShardedRegressor(scoring="r2", early_stopping=True, max_iter=3)
    with pytest.raises(NotImplementedError, match="scoring='r2'"):
        model._fit_local_shards(X[:500], y[:500],
                                validation=(X[500:700], y[500:700], None))


def stage_threads_left():
    """The stage threads still alive, once finishing ones have ended (a
    paused stage waits minutes for its reply, far longer than this)."""
    for thread in threading.enumerate():
        if thread.name == "accelboost-stage":
            thread.join(timeout=5.0)
    return [t for t in threading.enumerate()
            if t.name == "accelboost-stage" and t.is_alive()]


class Boom(Exception):
    pass


def fail_at_stage(stage):
    def callback(info):
        if info.stage == stage:
            raise Boom(f"stage {stage}")
    return callback


@pytest.mark.parametrize("task", ["squared_error", "multiclass"])
def test_a_failed_refit_leaves_the_fitted_model(task):
    X, y, w = problem(task)
    _, sharded, loss = estimators(task)
    model = sharded(**loss, max_iter=8, learning_rate=0.3, early_stopping=False,
                    random_state=0, **TREES)
    model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN], n_shards=[700, 0, 1300])
    X_held_out = X[N_TRAIN:]
    before = raw(model, X_held_out)
    stats = (list(model.fit_stats_.rounds), list(model.fit_stats_.bytes))
    assert not stage_threads_left()
    model.set_params(learning_rate=0.5, max_iter=10)
    with pytest.raises(Boom):
        model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN], w[:N_TRAIN], n_shards=3,
                                callbacks=[fail_at_stage(3)])
    assert not stage_threads_left()
    assert model.n_iter_ == 8
    assert_array_equal(raw(model, X_held_out), before)
    assert (model.fit_stats_.rounds, model.fit_stats_.bytes) == stats
    assert not hasattr(model, "_sharded_data")


def test_a_shard_failing_mid_stage_closes_the_others(monkeypatch):
    # The second of three shards fails while a tree is being grown: the
    # others are paused in their stage, and must be let go.
    X, y, _ = problem("binary")
    model = ShardedClassifier(max_iter=6, learning_rate=0.3, early_stopping=False,
                              random_state=0, **TREES)
    model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN], n_shards=3)
    X_held_out = X[N_TRAIN:]
    before = model.predict_proba(X_held_out)

    made = []

    class FailingShard(Shard):
        replies = 0

        def resume(self, reply):
            if self is made[1]:
                FailingShard.replies += 1
                if FailingShard.replies == 12:
                    raise ConnectionError("worker lost")
            return super().resume(reply)

    def make_shard(*args, **kwargs):
        made.append(FailingShard(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(estimator_module, "Shard", make_shard)
    with pytest.raises(ConnectionError, match="worker lost"):
        model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN], n_shards=3)
    assert FailingShard.replies == 12
    assert not stage_threads_left()
    assert model.n_iter_ == 6
    assert_array_equal(model.predict_proba(X_held_out), before)


def test_a_failed_refit_on_other_data_leaves_the_fitted_model():
    X, y, _ = problem("multiclass")
    model = ShardedClassifier(max_iter=6, early_stopping=False, random_state=0,
                              **TREES)
    model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN])
    X_held_out = X[N_TRAIN:]
    before = model.predict(X_held_out)
    relabelled = np.where(y == 2, 7, y)[:N_TRAIN]
    with pytest.raises(Boom):
        model._fit_local_shards(X[:N_TRAIN, :5], relabelled,
                                callbacks=[fail_at_stage(2)])
    assert_array_equal(model.classes_, [0, 1, 2])
    assert model.n_features_in_ == 8
    assert_array_equal(model.predict(X_held_out), before)


@pytest.mark.parametrize("init, roles", [("zero", 1), ("agbm", 2)])
def test_fit_stats_count_every_tree(init, roles):
    X, y, _ = problem("multiclass")
    n_features = X.shape[1]
    model = ShardedClassifier(max_iter=5, learning_rate=0.3, early_stopping=False,
                              random_state=0, max_bins=63, **TREES, **INITS[init])
    model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN], n_shards=[700, 0, 1300])
    stats = model.fit_stats_
    trees = model._ensemble.trees
    assert len(trees) == 5 * 3 * roles
    assert len(stats.rounds) == len(stats.bytes) == len(trees)
    # The root's round trip, then at least one per level (a node's children
    # come back in the round after its own) and at most one per split.
    splits = [int(np.sum(tree["is_leaf"] == 0)) for tree in trees]
    depths = [int(tree["depth"].max()) for tree in trees]
    assert all(d + 1 <= r <= s + 1 for r, d, s in zip(stats.rounds, depths, splits,
                                                      strict=True))
    assert sum(stats.rounds) < sum(s + 1 for s in splits)
    # At least every shard's root histogram (float64 gradient, hessian and
    # count per bin, missing bin included) and sums.
    root = 3 * (n_features * 64 * 3 * 8 + 3 * 8)
    assert all(b >= root for b in stats.bytes)
    # A refit counts its own trees only.
    model.set_params(max_iter=2)
    model._fit_local_shards(X[:N_TRAIN], y[:N_TRAIN])
    assert len(model.fit_stats_.rounds) == 2 * 3 * roles
