"""Property tests: random fits (hypothesis) against the properties every fit
must have (``accelboost._fuzz.properties``); ``python -m benchmarks fuzz`` runs
the same cases at scale."""

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost._fuzz import properties
from accelboost._fuzz.cases import SPACE, Case, Integers, Options
from accelboost._fuzz.properties import Outcome, check_case
from accelboost._threads import fit_n_threads

# Derandomized: CI sees the same examples each run; the campaign explores.
FEW = settings(max_examples=40, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow])


def cases(**fixed):
    """Cases drawn from ``SPACE``; ``fixed`` fields take a strategy instead."""
    fields = {
        name: st.sampled_from(dim.values) if isinstance(dim, Options)
        else st.integers(dim.low, dim.high)
        for name, dim in SPACE.items()
    }
    return st.fixed_dictionaries({**fields, **fixed}).map(lambda f: Case(**f))


def assert_holds(case, outcome):
    __tracebackhide__ = True
    assert outcome.status != "failed", (
        "\n".join(outcome.violations) + "\nreproduce with:\n" + case.reproduction())


#: Data every estimator accepts: finite, positive weights, several classes.
VALID = {"x_inf": st.just(False), "x_dtype": st.sampled_from(["float64", "float32"]),
         "y_kind": st.just("normal"), "n_classes": st.integers(2, 4),
         "class_balance": st.just("balanced"),
         "weight_kind": st.sampled_from(["none", "uniform", "some_zero"]),
         "n_rows": st.integers(60, 800),
         "validation_fraction": st.sampled_from([0.1, 0.3])}


@FEW
@given(case=cases())
def test_a_fit_is_rejected_cleanly_or_has_every_property(case):
    assert_holds(case, check_case(case))


@FEW
@given(case=cases(**VALID, estimator=st.sampled_from(["regressor", "classifier"]),
                  restart=st.just("function"), early_stopping=st.just(True),
                  stage_init=st.sampled_from(["auto", "stacking", "agbm"]),
                  momentum=st.sampled_from([0.5, 0.9, "nesterov"]),
                  learning_rate=st.sampled_from([0.5, 1.0, 2.0]),
                  max_iter=st.integers(5, 40)))
def test_the_function_restart_never_lets_the_training_loss_rise(case):
    outcome = check_case(case)
    assert outcome.status == "ok", outcome  # valid data: a model, not an error
    assert_holds(case, outcome)


@FEW
@given(case=cases(**VALID, estimator=st.sampled_from(
    ["classifier", "additive_classifier"])))
def test_classifiers_give_distributions_and_their_argmax(case):
    outcome = check_case(case)
    assert outcome.status == "ok", outcome
    assert_holds(case, outcome)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="one Numba thread: there is no other thread count")
@settings(FEW, max_examples=6)
@given(case=cases(**{**VALID, "n_rows": st.integers(17_000, 20_000)},
                  n_features=st.just(8),
                  estimator=st.sampled_from(["regressor", "classifier"]),
                  max_leaf_nodes=st.just(31), min_samples_leaf=st.just(20),
                  max_iter=st.integers(1, 10), warm_stages=st.just(0)))
def test_refits_are_identical_across_thread_counts_pickles_and_files(case):
    # Enough cells that the two-thread fit does run on two threads (the
    # fuzz campaign's data are below that, and run on one).
    assert fit_n_threads(2, case.n_rows, case.n_features) == 2
    outcome = check_case(case)
    assert outcome.status == "ok", outcome
    assert_holds(case, outcome)


# -- the harness itself: each check can fail -------------------------------------
def a_case(**fields):
    """A fixed valid case, with ``fields`` changed."""
    base = {name: dim.values[0] if isinstance(dim, Options) else
            max(dim.low, min(dim.high, 300)) for name, dim in SPACE.items()}
    return Case(**{**base, "max_iter": 10, "early_stopping": True, **fields})


@pytest.mark.parametrize("fields, reason", [
    ({"x_inf": True}, "infinity"),
    ({"y_kind": "nan"}, "not finite"),
    ({"weight_kind": "all_zero"}, "no positive"),
    ({"weight_kind": "negative"}, "negative"),
    ({"n_classes": 1, "estimator": "classifier"}, "single class"),
    ({"y_kind": "negative", "loss": "poisson"}, "negative y"),
])
def test_invalid_input_is_known_and_rejected(fields, reason):
    case = a_case(**fields)
    assert reason in properties.invalid_input(case, *case.data())
    outcome = check_case(case)
    assert outcome.status == "rejected", outcome


def test_a_valid_case_has_no_invalid_input_and_passes():
    case = a_case()
    assert properties.invalid_input(case, *case.data()) is None
    assert check_case(case) == Outcome("ok")


class ShiftedPredict(AccelBoostRegressor):
    """predict no longer stands for the model."""

    def predict(self, X, iteration_range=None):
        return super().predict(X, iteration_range) + 1e-6


class NaNProba(AccelBoostClassifier):
    """predict_proba is NaN."""

    def predict_proba(self, X, iteration_range=None):
        return np.full((len(X), len(self.classes_)), np.nan)


class ThreadSensitive(AccelBoostRegressor):
    """Predictions that depend on the thread count."""

    def _raw_predict(self, X, iteration_range=None):
        return super()._raw_predict(X, iteration_range) + 1e-12 * self.n_threads


class RisingStages(AccelBoostRegressor):
    """Staged predictions whose training loss rises."""

    def _staged_raw_predict(self, X):
        for k, raw in enumerate(super()._staged_raw_predict(X)):
            yield raw + 10.0 * k


@pytest.mark.parametrize("estimator, check, expected", [
    (ShiftedPredict, properties.predict_is_last_stage, "differs from staged_predict"),
    (NaNProba, properties.finite_model, "non-finite predict_proba"),
    (ThreadSensitive, properties.reproducible, "refit with n_threads=2"),
    (RisingStages, properties.function_restart_never_rises, "training loss rose"),
])
def test_each_check_reports_its_violation(estimator, check, expected):
    classifier = estimator is NaNProba
    case = a_case(estimator="classifier" if classifier else "regressor",
                  early_stopping=False, stage_init="stacking")
    X, y, w = case.data()
    model = estimator(**case.make_estimator().get_params()).fit(X, y)
    violations = check(case, model, X, y, w)
    assert any(expected in v for v in violations), violations


def test_a_rising_training_loss_is_reported():
    case = a_case(estimator="regressor", stage_init="stacking")
    X, y, w = case.data()
    model = properties.fit(case, X, y, w)
    assert properties.function_restart_never_rises(case, model, X) == []
    model.train_score_ = model.train_score_.copy()
    model.train_score_[-1] = model.train_score_[-2] - 1.0
    assert properties.function_restart_never_rises(case, model, X)


def test_an_error_from_inside_numpy_is_not_a_clean_rejection():
    try:
        np.linspace(0.0, 1.0, num=-1)  # raised by NumPy's Python code
    except ValueError as exc:
        assert "numpy" in properties._unclean_origin(exc)
    try:
        np.ones(3).reshape(2)  # raised in C, from a line that is not a raise
    except ValueError as exc:
        assert "reshape" in properties._unclean_origin(exc)
    try:
        AccelBoostRegressor(learning_rate=-1.0).fit(np.ones((3, 1)), np.ones(3))
    except ValueError as exc:
        assert properties._unclean_origin(exc) is None


def test_cases_round_trip_and_reproduce_their_data():
    rng = np.random.default_rng(0)
    for _ in range(50):
        case = Case.draw(rng)
        assert Case.from_json(case.to_json()) == case
        first, again = case.data(), case.data()
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a, b)
        namespace = {}
        exec(case.reproduction().replace("model.fit", "# model.fit"), namespace)
        np.testing.assert_array_equal(namespace["X"], first[0])


def test_every_field_of_a_case_is_drawn_from_the_space():
    assert list(SPACE) == [f.name for f in Case.__dataclass_fields__.values()]
    for dim in SPACE.values():
        if isinstance(dim, Integers):
            assert dim.low <= dim.high
        else:
            assert dim.weights is None or len(dim.weights) == len(dim.values)
