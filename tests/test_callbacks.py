"""The per-stage callback seam: what callbacks see, and stopping a fit."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost.callbacks import Callback, StageInfo


def _data(n=600, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = X[:, 0] - 2 * X[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    return X, y


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def before_fit(self, estimator):
        self.events.append(("before", estimator.__dict__.get("n_iter_")))

    def after_stage(self, info):
        self.events.append(("stage", info))

    def after_fit(self, estimator):
        self.events.append(("after", estimator.n_iter_))


def test_a_callback_sees_every_stage_in_order():
    X, y = _data()
    recorder = Recorder()
    model = AccelBoostRegressor(max_iter=7, early_stopping=False)
    model.fit(X, y, callbacks=[recorder])
    kinds = [event[0] for event in recorder.events]
    assert kinds == ["before"] + ["stage"] * 7 + ["after"]
    infos = [event[1] for event in recorder.events[1:-1]]
    assert [info.stage for info in infos] == list(range(7))
    assert all(info.estimator is model for info in infos)
    assert all(info.train_score is None for info in infos)  # nothing scored
    assert recorder.events[-1] == ("after", 7)


def test_scores_a_callback_sees_are_the_recorded_ones():
    X, y = _data(900)
    seen = []
    model = AccelBoostRegressor(max_iter=15, early_stopping=True,
                                n_iter_no_change=100, random_state=0)
    model.fit(X, y, callbacks=[seen.append])
    assert [info.train_score for info in seen] == list(model.train_score_[1:])
    assert [info.validation_score for info in seen] == list(
        model.validation_score_[1:]
    )


def test_the_estimator_predicts_with_the_stages_so_far():
    X, y = _data()
    staged = list(AccelBoostRegressor(max_iter=5).fit(X, y).staged_predict(X))
    during = []
    AccelBoostRegressor(max_iter=5).fit(
        X, y, callbacks=[lambda info: during.append(info.estimator.predict(X))]
    )
    for a, b in zip(during, staged, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("params", [
    dict(stage_init="zero"),
    dict(stage_init="stacking", momentum="nesterov"),
])
def test_stopping_from_a_callback_gives_the_shorter_fit(params):
    X, y = _data()
    stopped = AccelBoostRegressor(max_iter=50, **params).fit(
        X, y, callbacks=[lambda info: info.stage == 11]
    )
    short = AccelBoostRegressor(max_iter=12, **params).fit(X, y)
    assert stopped.n_iter_ == stopped.best_iteration_ == 12
    assert_array_equal(stopped.predict(X), short.predict(X))
    assert_array_equal(stopped.stage_coef_, short.stage_coef_)


def test_every_callback_runs_even_after_one_asks_to_stop():
    X, y = _data()
    calls = []
    AccelBoostRegressor(max_iter=10).fit(
        X, y, callbacks=[lambda info: True, lambda info: calls.append(info.stage)]
    )
    assert calls == [0]


def test_warm_start_continues_the_stage_count():
    X, y = _data()
    model = AccelBoostRegressor(max_iter=4, warm_start=True).fit(X, y)
    seen = []
    model.set_params(max_iter=9).fit(X, y, callbacks=[seen.append])
    assert [info.stage for info in seen] == [4, 5, 6, 7, 8]


def test_a_classifier_passes_callbacks_through_a_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data()
    seen = []
    pipe = make_pipeline(StandardScaler(), AccelBoostClassifier(max_iter=3))
    pipe.fit(X, y > 0, accelboostclassifier__callbacks=[seen.append])
    assert [info.stage for info in seen] == [0, 1, 2]
    assert isinstance(seen[0], StageInfo)


def test_a_callback_that_is_not_callable_is_a_type_error():
    X, y = _data(100)
    with pytest.raises(TypeError, match="callbacks must be callables"):
        AccelBoostRegressor(max_iter=2).fit(X, y, callbacks=[3])


def test_an_error_in_a_callback_keeps_the_fitted_model():
    X, y = _data()
    model = AccelBoostRegressor(max_iter=3, warm_start=True).fit(X, y)
    before = model.predict(X)

    def broken(info):
        raise RuntimeError("user code failed")

    with pytest.raises(RuntimeError, match="user code failed"):
        model.set_params(max_iter=6).fit(X, y, callbacks=[broken])
    assert model.n_iter_ == 3
    assert_array_equal(model.predict(X), before)
