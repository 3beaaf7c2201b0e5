"""Tests of the acceleration evidence grid (benchmarks/evidence.py) and of
the benchmarks' data sets (benchmarks/_data.py)."""

import json
import math

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error

from benchmarks import _data, _peers, _report, evidence


# -- data ------------------------------------------------------------------------
def test_three_way_split_shares_the_test_rows_of_the_two_way_split():
    two = _data.load_dataset("diamonds")
    three = _data.load_dataset("diamonds", validation=True)
    np.testing.assert_array_equal(two.X_test, three.X_test)
    n = len(two.y_train) + len(two.y_test)
    assert len(three.y_train) + len(three.y_val) + len(three.y_test) == n
    assert abs(len(three.y_val) - 0.2 * n) <= 1


def test_evidence_tables_are_large_real_and_mixed():
    tasks = []
    for name in _data.EVIDENCE_DATASETS:
        d = _data.load_dataset(name, validation=True, max_train_rows=None,
                               max_heldout_rows=None)
        n = len(d.y_train) + len(d.y_val) + len(d.y_test)
        assert 20_000 <= n <= 400_000, name
        assert d.X_train.dtype == np.float64 and d.X_train.flags.c_contiguous
        assert d.X_train.shape[1] == len(d.feature_names)
        if d.task == "binary":
            assert set(np.unique(d.y_train)) == {0, 1}
        else:
            assert np.all(np.isfinite(d.y_train))
        tasks.append(d.task)
    assert tasks.count("binary") >= 1 and tasks.count("regression") >= 2


def test_flights_has_no_day_of_flight_leakage():
    d = _data.load_dataset("flights", validation=True)
    for leak in ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"):
        assert leak not in d.feature_names
    assert len(d.y_train) == _data.MAX_TRAIN_ROWS  # capped from ~196k


def test_row_caps_are_reproducible():
    a = _data.load_dataset("nlswork", validation=True, max_train_rows=1000,
                           max_heldout_rows=300, seed=1)
    b = _data.load_dataset("nlswork", validation=True, max_train_rows=1000,
                           max_heldout_rows=300, seed=1)
    assert a.X_train.shape[0] == 1000 and a.X_val.shape[0] == 300
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


# -- pure helpers ----------------------------------------------------------------
def test_matched_rate_is_nu_over_one_minus_beta():
    assert evidence.matched_rate(0.03, 0.5) == 0.06
    assert evidence.matched_rate(0.1, 0.8) == 0.5
    assert evidence.matched_rate(1.0, 0.5) == 2.0
    with pytest.raises(ValueError):
        evidence.matched_rate(0.1, 1.0)


def test_plan_pairs_every_constant_beta_with_plain_at_the_matched_rate():
    jobs = evidence.plan([2, 31], ["beta=0.5", "nesterov"], [0.03, 0.1, 0.3, 1.0])
    assert len(jobs) == len(set(jobs))
    for leaves in (2, 31):
        plain = {lr for n, m, lr in jobs if n == leaves and m == evidence.PLAIN}
        assert plain == {0.06, 0.2, 0.6, 2.0}  # only matched rates: plain not asked
    # Nesterov has no constant beta: no matched fits of its own.
    assert evidence.constant_beta("nesterov") is None
    assert evidence.constant_beta("nesterov+hybrid") is None
    assert evidence.constant_beta("beta=0.5+hybrid") is None
    assert evidence.constant_beta("beta=0.5") == 0.5
    # Plain (the reference) runs first at each size.
    full = evidence.plan([8], list(evidence.METHODS), [0.1])
    assert full[0] == (8, evidence.PLAIN, 0.1)


def test_selection_picks_the_stage_by_validation_not_test():
    stage, val, test = evidence.select([3.0, 1.0, 2.0], [0.5, 9.0, 0.1])
    assert (stage, val, test) == (2, 1.0, 9.0)
    # NaN / None never win.
    assert evidence.select([None, float("nan"), 5.0], [1.0, 1.0, 7.0])[0] == 3


def test_best_rate_is_chosen_by_validation_not_test():
    def fit(lr, val, test):
        return {"status": "ok", "method": "plain", "leaves": 4, "learning_rate": lr,
                "best_val": val, "test_at_best": test}

    fits = [fit(0.1, 1.0, 5.0), fit(0.3, 0.9, 6.0), fit(1.0, 2.0, 0.1),
            fit(0.6, 0.1, 0.1)]  # 0.6 is a matched rate, not in the grid
    best = evidence.best_fit(fits, "plain", 4, [0.1, 0.3, 1.0])
    assert best["learning_rate"] == 0.3


def test_first_reach_within_the_rounding_of_the_stored_curves():
    def reach(curve, target):
        return _report.first_reach(curve, target, evidence.REACH_RTOL)

    assert reach([3.0, 2.0, 1.0, 0.5], 1.0) == 3
    assert reach([3.0, 2.0], 1.0) is None
    assert reach([None, 1.0], 1.0) == 2
    loss = 0.0123456789
    assert reach([1.0, float(f"{loss:.{evidence.DIGITS}g}")], loss) == 2


def test_heldout_loss_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    pred = rng.normal(size=50)
    assert math.isclose(_peers.heldout_loss("regression", y, pred),
                        mean_squared_error(y, pred))
    labels = rng.integers(0, 2, 50)
    proba = rng.uniform(0.01, 0.99, 50)
    both = np.column_stack([1 - proba, proba])
    assert math.isclose(_peers.heldout_loss("binary", labels, both),
                        log_loss(labels, both))
    assert _peers.heldout_loss("regression", y, np.full(50, np.inf)) == math.inf


def test_default_fit_goes_stale_only_when_a_default_changes():
    params = evidence.fit_params(evidence.DEFAULT, 4, 0.1, 10)
    record = {"params": params,
              "estimator_params": {"stage_init": "zero", "learning_rate": 0.1,
                                   "max_leaf_nodes": 4}}
    now = {"stage_init": "zero", "learning_rate": 0.1, "max_leaf_nodes": 31}
    assert evidence.is_current(record, params, now)  # set params do not count
    assert evidence.is_current(record, params, {**now, "hybrid_patience": None})
    assert not evidence.is_current(record, params, {**now, "stage_init": "stacking"})
    assert not evidence.is_current(record, params, {**now, "momentum_offset": 50})
    assert not evidence.is_current(record, evidence.fit_params(
        evidence.DEFAULT, 4, 0.3, 10), now)


# -- the grid end to end ---------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    return _data.load_dataset("synthetic_regression", validation=True,
                              n_samples=400)


def _run(tiny, path, **kwargs):
    settings = dict(leaves=(2, 4), methods=["plain", "beta=0.5", "default"],
                    learning_rates=(0.1, 1.0), max_iter=8, n_threads=1, log=None)
    settings.update(kwargs)
    return evidence.run_grid(tiny, path, **settings)


def test_grid_runs_end_to_end_and_resumes(tiny, tmp_path):
    path = tmp_path / "synthetic_regression.json"
    summary = _run(tiny, path)
    # 2 sizes x (3 methods x 2 rates + plain at 0.2 and 2.0).
    assert summary == {"done": 16, "skipped": 0, "remaining": 0, "errors": 0,
                       "aborted": False, "unavailable": []}
    fits = json.loads(path.read_text())["runs"]
    assert len(fits) == 16 and all(f["status"] == "ok" for f in fits)
    for f in fits:  # the curve is stored rounded; the chosen losses are not
        assert len(f["val_curve"]) == 8 and "test_curve" not in f
        assert f["val_curve"][f["best_stage"] - 1] == min(f["val_curve"])
        assert f["best_val"] == pytest.approx(min(f["val_curve"]),
                                              rel=evidence.REACH_RTOL)
        assert ("estimator_params" in f) == (f["method"] == "default")
    # The last staged loss is the fitted model's own held-out loss.
    from accelboost import AccelBoostRegressor

    record = next(f for f in fits if f["method"] == "beta=0.5"
                  and f["leaves"] == 4 and f["learning_rate"] == 0.1)
    model = AccelBoostRegressor(**record["params"], n_threads=1).fit(
        tiny.X_train, tiny.y_train, X_val=tiny.X_val, y_val=tiny.y_val)
    assert record["final_test"] == pytest.approx(
        mean_squared_error(tiny.y_test, model.predict(tiny.X_test)), rel=1e-9)

    again = _run(tiny, path)
    assert again["done"] == 0 and again["skipped"] == 16
    # Drop one fit: a rerun refits exactly that one.
    data = json.loads(path.read_text())
    data["runs"] = [f for f in data["runs"] if not (
        f["method"] == "plain" and f["leaves"] == 2 and f["learning_rate"] == 2.0)]
    path.write_text(json.dumps(data))
    assert _run(tiny, path)["done"] == 1


def test_budget_stops_between_fits_and_main_reports_it(tiny, tmp_path):
    summary = _run(tiny, tmp_path / "t.json", max_minutes=1e-9)
    assert summary["done"] == 1 and summary["remaining"] == 15
    status = evidence.main(["--dataset", "synthetic_regression", "--n-samples",
                            "300", "--max-iter", "5", "--leaves", "2",
                            "--methods", "plain", "--learning-rates", "0.1,1",
                            "--n-threads", "1", "--max-minutes", "1e-9",
                            "--results-dir", str(tmp_path)])
    assert status == evidence.EXIT_INCOMPLETE


def test_methods_the_estimators_lack_are_skipped(tiny, tmp_path, monkeypatch):
    monkeypatch.setitem(evidence.METHODS, "nesterov+bogus",
                        {"stage_init": "stacking", "momentum": "nesterov",
                         "no_such_parameter": 1})
    monkeypatch.setitem(evidence.METHODS, "nesterov+bad",
                        {"stage_init": "stacking", "momentum": "nesterov",
                         "restart": "no-such-restart"})
    summary = _run(tiny, tmp_path / "t.json", leaves=(2,), learning_rates=(0.1,),
                   methods=["plain", "nesterov+bogus", "nesterov+bad"])
    assert summary["unavailable"] == ["nesterov+bad", "nesterov+bogus"]
    assert summary["done"] == 1 and summary["errors"] == 0


def test_report_has_every_section_and_a_conclusion_from_the_numbers(tiny,
                                                                     tmp_path):
    _run(tiny, tmp_path / "synthetic_regression.json")
    text = evidence.write_report(tmp_path).read_text()
    for heading in ("### synthetic_regression, 2 leaves", "nu / (1 - beta)",
                    "## Defaults check", "## Conclusion", "**2 leaves.**",
                    "**Momentum or a larger rate?**"):
        assert heading in text
    # The conclusion quotes the table's own numbers.
    cells = evidence.summarize(json.loads(
        (tmp_path / "synthetic_regression.json").read_text()))
    rel = cells[0]["methods"]["beta=0.5"]["rel"]
    assert f"beta=0.5 vs tuned plain: synthetic_regression {rel:+.2f}%" in text


def test_a_broken_build_stops_the_run_and_is_retried_later(tiny, tmp_path,
                                                           monkeypatch):
    def broken(dataset, method, leaves, lr, *args):
        return {"dataset": dataset.name, "leaves": leaves, "method": method,
                "learning_rate": lr, "status": "error", "reason": "boom",
                "params": evidence.fit_params(method, leaves, lr, 8)}

    path = tmp_path / "t.json"
    monkeypatch.setattr(evidence, "run_fit", broken)
    monkeypatch.setattr(evidence, "_code_version", lambda: {"commit": "a"})
    summary = _run(tiny, path)
    assert summary["aborted"] and summary["done"] == evidence.MAX_FAILURES_IN_A_ROW
    # Same commit: the failures are not retried; a new commit retries them.
    monkeypatch.undo()
    monkeypatch.setattr(evidence, "_code_version", lambda: {"commit": "a"})
    assert _run(tiny, path, leaves=(2,), methods=["plain"])["done"] == 0
    monkeypatch.setattr(evidence, "_code_version", lambda: {"commit": "b"})
    summary = _run(tiny, path, leaves=(2,), methods=["plain"])
    assert summary["done"] == 2 and summary["errors"] == 0  # plain at 0.1 and 1


def test_default_fits_follow_the_code_and_others_do_not(tiny, tmp_path,
                                                       monkeypatch):
    path = tmp_path / "t.json"
    monkeypatch.setattr(evidence, "_code_version", lambda: {"commit": "a"})
    assert _run(tiny, path)["done"] == 16
    assert _run(tiny, path)["done"] == 0
    monkeypatch.setattr(evidence, "_code_version", lambda: {"commit": "b"})
    assert _run(tiny, path)["done"] == 4  # default at 2 rates x 2 sizes
    fits = json.loads(path.read_text())["runs"]
    assert {f["commit"] for f in fits if f["method"] == "default"} == {"b"}
    assert {f["commit"] for f in fits if f["method"] != "default"} == {"a"}
    # --refit: a named method's fits follow the code too, once.
    monkeypatch.setattr(evidence, "_code_version", lambda: {"commit": "c"})
    assert _run(tiny, path, refit=["beta=0.5"])["done"] == 8
    assert _run(tiny, path, refit=["beta=0.5"])["done"] == 0
