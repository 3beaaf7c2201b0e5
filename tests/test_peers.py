"""benchmarks/_peers.py and _report.py: every library's settings, staged
held-out curves and per-stage clock, and the curve arithmetic."""

import numpy as np
import pytest

from benchmarks import _peers, _report
from benchmarks._data import load_dataset

TASK_DATA = {"regression": "synthetic_regression", "binary": "breast_cancer",
             "multiclass": "digits"}


@pytest.mark.parametrize("task", list(TASK_DATA))
@pytest.mark.parametrize("name", list(_peers.LIBRARIES))
def test_staged_curve_ends_at_the_model_and_every_stage_is_clocked(name, task):
    library = _peers.LIBRARIES[name]
    pytest.importorskip(library.module)
    data = load_dataset(TASK_DATA[task], n_samples=1_000)
    params = library.params(task, 4, leaves=3, learning_rate=0.3, n_threads=1)
    assert params[library.n_trees_key] == 4 and params[library.leaves_key] == 3
    model, marks = library.estimator(task)(**params), []
    model.fit(data.X_train, data.y_train, **(library.clock(model, marks) or {}))
    library.unclock(model)
    assert library.fitted(model) == 4
    losses = library.staged_losses(model, data.X_test, data.y_test, task)
    final = _peers.heldout_loss(task, data.y_test,
                                library.predict(model, data.X_test, task))
    assert len(losses) == 4 and losses[-1] == pytest.approx(final, rel=1e-6)
    assert losses[-1] < losses[0]
    if name == "sklearn":  # no per-stage hook: fit_curve interpolates
        assert library.clock(model, marks) is None and not marks
    else:  # accelboost's callback also marks the start of the fit
        assert len(marks) == 4 + (name == "accelboost")
        assert np.all(np.diff(marks) >= 0)


def test_fit_curve_times_accelboost_stages_through_its_callback():
    data = load_dataset("breast_cancer")
    run = _peers.fit_curve("stacking_nesterov", data, 0.3, 2, 8, n_threads=1)
    assert run["status"] == "ok" and run["timing"] == "measured"
    assert run["params"]["stage_init"] == "stacking"
    seconds = np.asarray(run["seconds"])
    assert len(seconds) == 8 and np.all(np.diff(seconds) >= 0)
    assert 0 < seconds[-1] <= run["fit_s"]
    hgb = _peers.fit_curve("sklearn", data, 0.3, 2, 8, n_threads=1)
    assert hgb["timing"] == "interpolated" and hgb["first_stage_fit_s"] > 0
    failed = _peers.fit_curve("zero", data, -1.0, 2, 8, n_threads=1)
    assert failed["status"] == "error" and "learning_rate" in failed["reason"]


def test_heldout_loss_and_first_reach():
    y = np.array([0, 1, 1])
    p = np.array([0.2, 0.6, 0.9])
    expected = -np.mean(np.log([0.8, 0.6, 0.9]))
    assert _peers.heldout_loss("binary", y, p) == pytest.approx(expected)
    assert _peers.heldout_loss("binary", y, np.column_stack([1 - p, p])) == (
        pytest.approx(expected))
    assert _peers.heldout_loss("regression", np.ones(2), np.array([np.inf, 1])) == (
        np.inf)
    curve = [3.0, None, 2.00001, 1.0]
    assert _report.first_reach(curve, 2.0) == 3  # within the 0.01% slack
    assert _report.first_reach(curve, 2.0, rtol=0.0) == 4
    assert _report.first_reach(curve, 0.5) is None
