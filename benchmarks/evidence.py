"""Acceleration evidence: where does momentum pay, on real tables?

The question (DESIGN.md 2.7): momentum pays when plain boosting would want a
learning rate above what a Newton leaf step allows (very weak learners), and
is a mere rescale, or harmful, below it. This grid measures it, one real
table per invocation (``python -m benchmarks evidence --dataset NAME``).

Grid
----
For one table of :mod:`benchmarks._data` (train / validation / test split),
each tree size (``max_leaf_nodes`` 2, 4, 8, 31), each method of
:data:`METHODS` and each learning rate of the grid (0.03, 0.1, 0.3, 1.0),
one model of 500 stages is fitted with ``early_stopping=False``,
``min_samples_leaf=20``, ``max_bins=255``, ``random_state=0`` and the
validation part passed as ``X_val``, ``y_val``. For every constant momentum
``beta`` and every grid rate ``nu``, plain boosting is also fitted at the
matched rate ``nu / (1 - beta)`` (the rate a pure rescale would match);
those fits are not used to tune plain boosting.

``default`` is the estimators' defaults as they stand at run time: only
``max_leaf_nodes``, ``max_iter``, ``learning_rate``, ``early_stopping=False``,
``random_state`` and ``n_threads`` are set.

Selection
---------
After each fit, the held-out loss after every stage is computed on the
validation and the test part (staged predictions; MSE for regression, mean
log loss for classification). A fit's result is the **test loss at the stage
with the lowest validation loss**; a method's best learning rate is the one
with the lowest such validation loss. The test part never chooses anything.
Also recorded: the stage at which the validation curve first reaches tuned
plain's best validation loss, and ``n_restarts_``.

Resuming and budget
-------------------
Results go to ``benchmarks/results/evidence/<dataset>.json`` after every fit,
keyed by (dataset, leaves, method, learning rate); a rerun skips finished
fits (and refits one whose parameters changed; the default method's fits
are refitted whenever the accelboost commit changed, since what a default
does can change without any parameter changing).
Before fitting, the run times one fit per tree size (or uses the times
already stored) and prints an estimate of the remaining time;
``--max-minutes`` stops cleanly between fits (exit status 3: run again to
resume). ``--leaves`` and ``--methods`` run a table piece by piece. Methods
whose parameters this accelboost does not have yet are skipped (and run by a
later invocation once they exist).

Report
------
``benchmarks/results/evidence/report.md``, regenerated from every JSON file
present after each invocation (``--report-only`` just regenerates it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _data

#: The grid.
LEAVES = (2, 4, 8, 31)
LEARNING_RATES = (0.03, 0.1, 0.3, 1.0)
MAX_ITER = 500
N_THREADS = 2
SEED = 0
#: Settings of every explicit method's fit (the default method gets none).
COMMON = {
    "min_samples_leaf": 20,
    "max_bins": 255,
    "early_stopping": False,
    "random_state": SEED,
}
#: Name of the estimators' defaults, and of the reference method.
DEFAULT = "default"
PLAIN = "plain"
#: Momentum mechanisms, each added on top of the momentum methods below.
MECHANISMS: dict[str, dict[str, Any]] = {
    "hybrid": {"hybrid_patience": 20},
    "restart=val": {"restart": "validation"},
    "offset=50": {"momentum_offset": 50},
    "maxdelta=1": {"max_delta_step": 1.0},
}
_MOMENTUM = {
    "nesterov": {"stage_init": "stacking", "momentum": "nesterov"},
    "beta=0.5": {"stage_init": "stacking", "momentum": 0.5},
}
#: Methods: name -> accelboost parameters on top of :data:`COMMON` (the
#: default method: ``None``, the estimators' defaults). Adding a method is
#: one line.
METHODS: dict[str, dict[str, Any] | None] = {
    PLAIN: {"stage_init": "zero"},
    DEFAULT: None,
    **_MOMENTUM,
    **{
        f"{base}+{mech}": {**params, **extra}
        for base, params in _MOMENTUM.items()
        for mech, extra in MECHANISMS.items()
    },
}
#: Where results and the report go.
RESULTS_DIR = Path(__file__).resolve().parent / "results" / "evidence"
REPORT_NAME = "report.md"
#: Default time budget of one invocation (minutes): stops between fits.
MAX_MINUTES = 25.0
#: A validation curve reaches a loss within this relative slack (the stored
#: curves are rounded to 8 significant digits).
REACH_RTOL = 1e-6
#: Relative test-loss differences below this (in %) are called a tie.
TIE_PCT = 0.1
#: The defaults check: default at most this much (in %) worse than tuned plain.
DEFAULT_TOLERANCE_PCT = 0.5
#: Probabilities are clipped to [EPS, 1] for the log loss.
EPS = 1e-15
#: Exit status when the budget ran out before the grid was done.
EXIT_INCOMPLETE = 3
#: Stop a run after this many failed fits in a row.
MAX_FAILURES_IN_A_ROW = 4
#: Estimator parameters the defaults check shows.
_SHOWN_DEFAULTS = ("stage_init", "momentum", "restart", "momentum_offset",
                   "hybrid_patience", "max_delta_step")
#: Significant digits of the stored curves.
_DIGITS = 8
#: Parameter values of a new estimator parameter that keep old behaviour
#: (a stored default fit stays valid when such a parameter appears).
_NEUTRAL = (None, False, 0, 0.0, "none")


# -- methods ---------------------------------------------------------------------
def constant_beta(method: str) -> float | None:
    """The constant momentum of a pure momentum method, else None.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.

    Returns
    -------
    beta : float or None
        ``momentum`` of a method that is exactly ``stage_init="stacking"``
        with a constant momentum (no mechanism), else None.
    """
    params = METHODS.get(method)
    if not params or set(params) != {"stage_init", "momentum"}:
        return None
    if params["stage_init"] != "stacking" or isinstance(params["momentum"], str):
        return None
    return float(params["momentum"])


def matched_rate(learning_rate: float, beta: float) -> float:
    """Plain boosting's learning rate that a constant momentum rescales to.

    Parameters
    ----------
    learning_rate : float
        The momentum method's learning rate ``nu``.
    beta : float
        Its constant momentum, in [0, 1).

    Returns
    -------
    rate : float
        ``nu / (1 - beta)``, the long-run step of a learner repeated with
        momentum ``beta``.
    """
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    return _lr(learning_rate / (1.0 - beta))


def _lr(value: float) -> float:
    """Learning rates as keys: rounded so 0.03 / 0.5 equals 0.06."""
    return float(f"{value:.10g}")


def missing_params(method: str) -> list[str]:
    """Parameters (or values) of a method that this accelboost does not accept.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.

    Returns
    -------
    missing : list of str
        Empty when the method can run: each entry names a parameter the
        estimators lack, or a value their validation rejects.
    """
    from accelboost import AccelBoostRegressor

    params = METHODS[method] or {}
    known = AccelBoostRegressor().get_params()
    missing = [p for p in params if p not in known]
    if missing:
        return missing
    try:
        AccelBoostRegressor(**params)._validate_params()
    except (TypeError, ValueError) as exc:  # InvalidParameterError is a ValueError
        return [", ".join(f"{k}={v!r}" for k, v in params.items()
                          if k not in ("stage_init", "momentum")) or str(exc)]
    return []


def fit_params(method: str, leaves: int, learning_rate: float,
               max_iter: int = MAX_ITER) -> dict[str, Any]:
    """The estimator parameters of one fit, ``n_threads`` excluded.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.
    leaves : int
        ``max_leaf_nodes``.
    learning_rate : float
        ``learning_rate``.
    max_iter : int, default=500
        Boosting stages.

    Returns
    -------
    params : dict
        The parameters set explicitly; everything else is the estimators'
        default.
    """
    base = {"max_leaf_nodes": leaves, "max_iter": max_iter,
            "learning_rate": learning_rate}
    if METHODS[method] is None:
        return {**base, "early_stopping": False, "random_state": SEED}
    return {**base, **COMMON, **METHODS[method]}


# -- losses ----------------------------------------------------------------------
def heldout_loss(task: str, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """Held-out loss of one prediction: MSE or mean log loss.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass"}
        The data set's task.
    y_true : ndarray of shape (n_samples,)
        Targets, or class codes ``0..K-1``.
    prediction : ndarray
        Predicted values (regression) or class probabilities of shape
        (n_samples, K).

    Returns
    -------
    loss : float
        Mean squared error (not halved) or mean log loss (natural log,
        probabilities clipped to at least 1e-15); ``inf`` if not finite.
    """
    prediction = np.asarray(prediction, dtype=np.float64)
    if task == "regression":
        value = float(np.mean((y_true - prediction.reshape(-1)) ** 2))
    else:
        if prediction.ndim == 1:
            prediction = np.column_stack([1.0 - prediction, prediction])
        p = prediction[np.arange(len(y_true)), np.asarray(y_true, dtype=np.intp)]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(-np.mean(np.log(np.clip(p, EPS, 1.0))))
    return value if math.isfinite(value) else math.inf


def staged_losses(model: Any, task: str, X: np.ndarray,
                  y: np.ndarray) -> np.ndarray:
    """Held-out loss after every stage of a fitted model.

    Parameters
    ----------
    model : AccelBoostRegressor or AccelBoostClassifier
        A fitted estimator.
    task : {"regression", "binary", "multiclass"}
        The data set's task.
    X, y : ndarray
        Held-out rows and targets.

    Returns
    -------
    losses : ndarray of shape (n_iter_,)
        Loss after stage 1, 2, ... (``inf`` where not finite).
    """
    staged = (model.staged_predict(X) if task == "regression"
              else model.staged_predict_proba(X))
    return np.array([heldout_loss(task, y, p) for p in staged], dtype=np.float64)


def select(val_curve: Sequence[float], test_curve: Sequence[float]
           ) -> tuple[int, float, float]:
    """The stage the validation curve chooses, and the test loss there.

    Parameters
    ----------
    val_curve, test_curve : sequence of float
        Losses after stage 1, 2, ...; None or NaN counts as ``inf``.

    Returns
    -------
    stage : int
        1-based stage with the lowest validation loss (the first on ties).
    val_loss : float
        Validation loss there.
    test_loss : float
        Test loss there (the reported held-out loss).
    """
    val = _floats(val_curve)
    if val.size == 0:
        return 0, math.inf, math.inf
    index = int(np.argmin(val))
    return index + 1, float(val[index]), float(_floats(test_curve)[index])


def first_reach(curve: Sequence[float], target: float,
                rtol: float = REACH_RTOL) -> int | None:
    """First 1-based stage whose loss is at or below a target.

    Parameters
    ----------
    curve : sequence of float
        Losses after stage 1, 2, ...
    target : float
        The loss to reach.
    rtol : float, default=1e-6
        Relative slack (rounding of the stored curves).

    Returns
    -------
    stage : int or None
        None when the curve never reaches it.
    """
    values = _floats(curve)
    hits = np.flatnonzero(values <= target * (1.0 + rtol))
    return int(hits[0]) + 1 if hits.size else None


def _floats(values: Iterable[float | None]) -> np.ndarray:
    out = np.array([math.inf if v is None else v for v in values], dtype=np.float64)
    out[np.isnan(out)] = math.inf
    return out


# -- one fit ---------------------------------------------------------------------
def run_fit(dataset: _data.Dataset, method: str, leaves: int, learning_rate: float,
            max_iter: int = MAX_ITER, n_threads: int = N_THREADS) -> dict[str, Any]:
    """Fit one model and record its staged validation and test losses.

    Parameters
    ----------
    dataset : Dataset
        A data set with a validation part.
    method : str
        A key of :data:`METHODS`.
    leaves : int
        ``max_leaf_nodes``.
    learning_rate : float
        Learning rate.
    max_iter : int, default=500
        Boosting stages.
    n_threads : int, default=2
        Threads of the fit (the model does not depend on it).

    Returns
    -------
    record : dict
        Key fields, ``params`` (set explicitly), ``estimator_params`` (all),
        ``status`` ("ok" or "error"), the curves, the selected stage and its
        losses, ``n_restarts`` and ``seconds`` (fit plus scoring).
    """
    from accelboost import AccelBoostClassifier, AccelBoostRegressor

    params = fit_params(method, leaves, learning_rate, max_iter)
    record: dict[str, Any] = {
        "dataset": dataset.name, "leaves": leaves, "method": method,
        "learning_rate": _lr(learning_rate), "params": params,
    }
    factory = (AccelBoostRegressor if dataset.task == "regression"
               else AccelBoostClassifier)
    tic = time.perf_counter()
    try:
        model = factory(**params, n_threads=n_threads)
        record["estimator_params"] = _jsonable(
            {k: v for k, v in model.get_params().items() if k != "n_threads"}
        )
        model.fit(dataset.X_train, dataset.y_train,
                  X_val=dataset.X_val, y_val=dataset.y_val)
        val = staged_losses(model, dataset.task, dataset.X_val, dataset.y_val)
        test = staged_losses(model, dataset.task, dataset.X_test, dataset.y_test)
    except Exception as exc:  # noqa: BLE001 - one failed fit must not stop the grid
        record.update(status="error", error=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc(limit=5),
                      seconds=time.perf_counter() - tic)
        return record
    stage, best_val, test_at = select(val, test)
    record.update(
        status="ok",
        n_iter=int(model.n_iter_),
        n_restarts=int(getattr(model, "n_restarts_", 0)),
        best_stage=stage, best_val=best_val, test_at_best=test_at,
        final_val=float(val[-1]), final_test=float(test[-1]),
        val_curve=_round(val), test_curve=_round(test),
        seconds=time.perf_counter() - tic,
    )
    return record


def _round(curve: np.ndarray) -> list[float | None]:
    return [float(f"{v:.{_DIGITS}g}") if math.isfinite(v) else None for v in curve]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


# -- results file ----------------------------------------------------------------
def fit_key(record: dict[str, Any]) -> tuple[str, int, str, float]:
    """Key of one fit in a results file.

    Parameters
    ----------
    record : dict
        A record of :func:`run_fit`.

    Returns
    -------
    key : tuple
        (dataset, leaves, method, learning rate).
    """
    return (record["dataset"], int(record["leaves"]), record["method"],
            _lr(record["learning_rate"]))


def load_results(path: Path) -> dict[str, Any]:
    """Read a results file (an empty one if it does not exist).

    Parameters
    ----------
    path : Path
        ``<results dir>/<dataset>.json``.

    Returns
    -------
    results : dict
        ``dataset`` (its info), ``config`` and ``fits`` (a list of records).
    """
    if not path.exists():
        return {"dataset": None, "config": None, "fits": []}
    return json.loads(path.read_text())


def save_results(results: dict[str, Any], path: Path) -> None:
    """Write a results file atomically (temporary file, then rename).

    Parameters
    ----------
    results : dict
        As returned by :func:`load_results`.
    path : Path
        Output file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_jsonable(results), separators=(",", ":")) + "\n")
    tmp.replace(path)


def is_current(record: dict[str, Any], params: dict[str, Any],
               estimator_params: dict[str, Any] | None = None) -> bool:
    """Whether a stored fit still answers for these parameters.

    Parameters
    ----------
    record : dict
        A stored record.
    params : dict
        The parameters the fit would be run with now (:func:`fit_params`).
    estimator_params : dict or None, default=None
        For the default method: the estimator's default parameters now. The
        stored fit is stale when a parameter not set in ``params`` differs
        from the stored one, or is new with a value other than None, False,
        0 or "none" (a new parameter that keeps the old behaviour).

    Returns
    -------
    current : bool
        True when the stored fit (successful or failed) needs no refit.
    """
    if _jsonable(record.get("params")) != _jsonable(params):
        return False
    if estimator_params is None:
        return True
    old = record.get("estimator_params") or {}
    new = _jsonable(estimator_params)
    for name, value in new.items():
        if name in params:
            continue
        if name in old:
            if old[name] != value:
                return False
        elif value not in _NEUTRAL:
            return False
    return True


def _default_params_now(task: str) -> dict[str, Any]:
    from accelboost import AccelBoostClassifier, AccelBoostRegressor

    factory = AccelBoostRegressor if task == "regression" else AccelBoostClassifier
    return {k: v for k, v in factory().get_params().items() if k != "n_threads"}


# -- the grid --------------------------------------------------------------------
def plan(leaves: Sequence[int], methods: Sequence[str],
         learning_rates: Sequence[float]) -> list[tuple[int, str, float]]:
    """The fits of a grid, in running order.

    Plain boosting first at each tree size (the reference), then the other
    methods, then plain at the matched rates ``nu / (1 - beta)`` of every
    constant-momentum method.

    Parameters
    ----------
    leaves : sequence of int
        Tree sizes.
    methods : sequence of str
        Keys of :data:`METHODS`.
    learning_rates : sequence of float
        The tuning grid.

    Returns
    -------
    jobs : list of (leaves, method, learning rate)
        Without duplicates.
    """
    order = sorted(methods, key=lambda m: (m != PLAIN, list(METHODS).index(m)))
    jobs: list[tuple[int, str, float]] = []
    for n_leaves in leaves:
        for method in order:
            jobs += [(n_leaves, method, _lr(nu)) for nu in learning_rates]
        for method in order:
            beta = constant_beta(method)
            if beta is not None:
                jobs += [(n_leaves, PLAIN, matched_rate(nu, beta))
                         for nu in learning_rates]
    seen: set[tuple[int, str, float]] = set()
    return [j for j in jobs if not (j in seen or seen.add(j))]


def run_grid(
    dataset: _data.Dataset,
    path: Path,
    leaves: Sequence[int] = LEAVES,
    methods: Sequence[str] | None = None,
    learning_rates: Sequence[float] = LEARNING_RATES,
    max_iter: int = MAX_ITER,
    n_threads: int = N_THREADS,
    max_minutes: float | None = MAX_MINUTES,
    retry_errors: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or resume) one table's grid, saving after every fit.

    Parameters
    ----------
    dataset : Dataset
        A data set with a validation part.
    path : Path
        Its results file; finished fits in it are skipped.
    leaves : sequence of int, default=(2, 4, 8, 31)
        Tree sizes.
    methods : sequence of str or None, default=None
        Keys of :data:`METHODS` (default: all); methods whose parameters
        this accelboost lacks are skipped.
    learning_rates : sequence of float, default=(0.03, 0.1, 0.3, 1.0)
        The tuning grid; must match the file's.
    max_iter : int, default=500
        Stages per fit; must match the file's.
    n_threads : int, default=2
        Threads per fit.
    max_minutes : float or None, default=25
        Stop between fits before a fit would end past this budget.
    retry_errors : bool, default=False
        Refit fits whose stored record is an error (they are refitted anyway
        when the accelboost commit changed since).
    log : callable, default=print
        Progress output.

    Returns
    -------
    summary : dict
        ``done`` (fits run now), ``skipped`` (already stored), ``remaining``
        (left by the budget or after too many failures in a row), ``errors``
        (failed now), ``aborted`` (stopped by failures), ``unavailable``
        (methods skipped for missing parameters).
    """
    started = time.perf_counter()
    methods = list(METHODS) if methods is None else list(methods)
    unavailable = {m: missing_params(m) for m in methods}
    unavailable = {m: p for m, p in unavailable.items() if p}
    for method, params in unavailable.items():
        log(f"skipping {method}: this accelboost does not accept "
            f"{', '.join(params)}")
    methods = [m for m in methods if m not in unavailable]
    if not methods:
        raise ValueError("no runnable methods")
    config = {"learning_rates": [_lr(v) for v in learning_rates],
              "max_iter": max_iter, "seed": SEED}
    results = load_results(path)
    if results["config"] is not None and results["config"] != config:
        raise SystemExit(f"{path} was run with {results['config']}, not {config}: "
                         "use another --results-dir")
    results["config"] = config
    results["dataset"] = dataset.info()
    results["accelboost"] = _code_version()
    stored = {fit_key(r): r for r in results["fits"]}
    default_now = _default_params_now(dataset.task)

    def pending(job: tuple[int, str, float]) -> bool:
        n_leaves, method, lr = job
        record = stored.get((dataset.name, n_leaves, method, lr))
        if record is None:
            return True
        changed = record.get("commit") != results["accelboost"]["commit"]
        if record.get("status") != "ok" and (retry_errors or changed):
            return True  # asked to, or the code changed since it failed
        if method == DEFAULT and changed and record.get("commit") is not None:
            # What a default means can change without any parameter changing
            # (e.g. what stage_init="auto" picks): refit on every new commit.
            return True
        return not is_current(record, fit_params(method, n_leaves, lr, max_iter),
                              default_now if method == DEFAULT else None)

    jobs = plan(leaves, methods, learning_rates)
    todo = [j for j in jobs if pending(j)]
    summary = {"done": 0, "skipped": len(jobs) - len(todo), "remaining": 0,
               "errors": 0, "aborted": False, "unavailable": sorted(unavailable)}
    log(f"{dataset.name}: {len(jobs)} fits in the grid, {summary['skipped']} "
        f"stored, {len(todo)} to run ({dataset.info()['n_train']:,} training rows)")
    if not todo:
        return summary

    # Seconds per fit by tree size: stored fits, else time one fit first.
    per_fit: dict[int, list[float]] = {}
    for record in results["fits"]:
        if record.get("status") == "ok" and record.get("seconds"):
            per_fit.setdefault(int(record["leaves"]), []).append(record["seconds"])
    first = [next(j for j in todo if j[0] == n) for n in dict.fromkeys(
        j[0] for j in todo) if n not in per_fit]
    todo = first + [j for j in todo if j not in first]
    budget = math.inf if max_minutes is None else 60.0 * max_minutes

    def estimate(job: tuple[int, str, float]) -> float:
        times = per_fit.get(job[0])
        if times:
            return float(np.median(times))
        known = [t for ts in per_fit.values() for t in ts]
        return float(np.median(known)) if known else 30.0

    def record_fit(record: dict[str, Any]) -> None:
        key = fit_key(record)
        results["fits"] = [r for r in results["fits"] if fit_key(r) != key]
        results["fits"].append(record)
        stored[key] = record
        save_results(results, path)

    failed_in_a_row = 0
    for index, job in enumerate(todo):
        if index == len(first):
            left = sum(estimate(j) for j in todo[index:])
            measured = ", ".join(f"{n} leaves {estimate((n, PLAIN, 0.0)):.1f} s"
                                 for n in sorted(per_fit))
            log(f"seconds per fit: {measured}; estimated remaining "
                f"{left / 60:.1f} min for {len(todo) - index} fits"
                + (f" (budget {budget / 60:.0f} min)" if math.isfinite(budget) else ""))
        elapsed = time.perf_counter() - started
        if index > 0 and elapsed + 1.5 * estimate(job) > budget:
            summary["remaining"] = len(todo) - index
            log(f"budget: stopping after {elapsed / 60:.1f} min with "
                f"{summary['remaining']} fits left (rerun to resume)")
            break
        n_leaves, method, lr = job
        record = run_fit(dataset, method, n_leaves, lr, max_iter, n_threads)
        record["commit"] = results["accelboost"]["commit"]
        record_fit(record)
        summary["done"] += 1
        if record["status"] == "ok":
            per_fit.setdefault(n_leaves, []).append(record["seconds"])
            log(f"  {n_leaves:>2} leaves {method:<22} lr={lr:<6g} val "
                f"{record['best_val']:.6g} @ {record['best_stage']:>3}, test "
                f"{record['test_at_best']:.6g}, restarts {record['n_restarts']}, "
                f"{record['seconds']:.1f} s")
            failed_in_a_row = 0
        else:
            summary["errors"] += 1
            failed_in_a_row += 1
            log(f"  {n_leaves:>2} leaves {method:<22} lr={lr:<6g} ERROR "
                f"{record['error']}")
            if failed_in_a_row >= MAX_FAILURES_IN_A_ROW:
                summary["remaining"] = len(todo) - index - 1
                summary["aborted"] = True
                log(f"{failed_in_a_row} fits in a row failed: stopping (a broken "
                    "build?); failed fits are retried once the commit changes, "
                    "or with --retry-errors")
                break
    log(f"{dataset.name}: {summary['done']} fits in "
        f"{(time.perf_counter() - started) / 60:.1f} min")
    return summary


def _code_version() -> dict[str, Any]:
    """accelboost's location and, if in a git checkout, its commit."""
    import accelboost

    root = Path(accelboost.__file__).resolve().parent.parent
    info: dict[str, Any] = {"path": str(root)}
    commit = os.environ.get("ACCELBOOST_COMMIT")
    if commit is None:
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                text=True, check=True, timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = None
    info["commit"] = commit
    return info


# -- summary ---------------------------------------------------------------------
def best_fit(fits: Iterable[dict[str, Any]], method: str, leaves: int,
             rates: Iterable[float]) -> dict[str, Any] | None:
    """A method's fit at its best learning rate, chosen on validation.

    Parameters
    ----------
    fits : iterable of dict
        Records of one data set.
    method : str
        A key of :data:`METHODS`.
    leaves : int
        Tree size.
    rates : iterable of float
        The learning rates to choose from.

    Returns
    -------
    record : dict or None
        The successful fit with the lowest ``best_val`` (the smaller rate on
        ties), or None when there is none.
    """
    rates = {_lr(r) for r in rates}
    candidates = [r for r in fits if r.get("status") == "ok"
                  and r["method"] == method and int(r["leaves"]) == leaves
                  and _lr(r["learning_rate"]) in rates]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (_inf(r["best_val"]), r["learning_rate"]))


def _inf(value: float | None) -> float:
    return math.inf if value is None or not math.isfinite(value) else float(value)


def rel_pct(value: float | None, reference: float | None) -> float | None:
    """Relative difference in percent (negative: ``value`` is lower).

    Parameters
    ----------
    value, reference : float or None
        Losses.

    Returns
    -------
    pct : float or None
        ``100 * (value / reference - 1)``, or None when either is missing or
        not finite (or the reference is 0).
    """
    if value is None or reference is None:
        return None
    if not (math.isfinite(value) and math.isfinite(reference)) or reference == 0:
        return None
    return 100.0 * (value / reference - 1.0)


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per tree size of one results file: each method at its best rate.

    Parameters
    ----------
    results : dict
        A results file's content.

    Returns
    -------
    cells : list of dict
        One per tree size: ``leaves``; ``plain`` (tuned plain's record);
        ``methods`` (name -> row with ``lr``, ``edge``, ``val``, ``test``,
        ``stage``, ``reach``, ``restarts``, ``rel``); ``matched`` (rows of
        constant momentum at ``nu`` against plain at ``nu / (1 - beta)``);
        ``extended`` (per constant-momentum method: plain tuned over the grid
        and the matched rates, against the method at its best rate).
    """
    grid = results["config"]["learning_rates"]
    fits = results["fits"]
    name = results["dataset"]["name"]
    cells = []
    for leaves in sorted({int(r["leaves"]) for r in fits}):
        plain = best_fit(fits, PLAIN, leaves, grid)
        target = None if plain is None else plain["best_val"]
        rows = {}
        for method in METHODS:
            record = best_fit(fits, method, leaves, grid)
            if record is None:
                continue
            reach = (None if target is None
                     else first_reach(record["val_curve"], target))
            rows[method] = {
                "lr": record["learning_rate"],
                "edge": record["learning_rate"] in (min(grid), max(grid)),
                "val": record["best_val"], "test": record["test_at_best"],
                "stage": record["best_stage"], "reach": reach,
                "restarts": record.get("n_restarts"),
                "commit": record.get("commit"),
                "settings": {k: v for k, v in
                             (record.get("estimator_params") or {}).items()
                             if k in _SHOWN_DEFAULTS},
                "rel": rel_pct(record["test_at_best"],
                               None if plain is None else plain["test_at_best"]),
            }
        matched, extended = [], {}
        for method in METHODS:
            beta = constant_beta(method)
            if beta is None or method not in rows:
                continue
            rates = []
            for nu in grid:
                mom = _record(fits, method, leaves, nu)
                rate = matched_rate(nu, beta)
                rates.append(rate)
                ref = _record(fits, PLAIN, leaves, rate)
                if mom is None and ref is None:
                    continue
                matched.append({
                    "method": method, "beta": beta, "nu": nu, "rate": rate,
                    "test": None if mom is None else mom["test_at_best"],
                    "val": None if mom is None else mom["best_val"],
                    "plain_test": None if ref is None else ref["test_at_best"],
                    "plain_val": None if ref is None else ref["best_val"],
                    "rel": rel_pct(None if mom is None else mom["test_at_best"],
                                   None if ref is None else ref["test_at_best"]),
                })
            wide = best_fit(fits, PLAIN, leaves, list(grid) + rates)
            if wide is not None:
                extended[method] = {
                    "plain_lr": wide["learning_rate"],
                    "plain_test": wide["test_at_best"],
                    "lr": rows[method]["lr"], "test": rows[method]["test"],
                    "rel": rel_pct(rows[method]["test"], wide["test_at_best"]),
                }
        errors = [r for r in fits if r.get("status") != "ok"
                  and int(r["leaves"]) == leaves]
        plain_by_lr = {_lr(r["learning_rate"]): r["test_at_best"] for r in fits
                       if r.get("status") == "ok" and r["method"] == PLAIN
                       and int(r["leaves"]) == leaves}
        cells.append({"dataset": name, "leaves": leaves, "plain": plain,
                      "plain_by_lr": plain_by_lr,
                      "methods": rows, "matched": matched, "extended": extended,
                      "errors": errors})
    return cells


def _record(fits: Iterable[dict[str, Any]], method: str, leaves: int,
            lr: float) -> dict[str, Any] | None:
    lr = _lr(lr)
    for r in fits:
        if (r.get("status") == "ok" and r["method"] == method
                and int(r["leaves"]) == leaves and _lr(r["learning_rate"]) == lr):
            return r
    return None


# -- report ----------------------------------------------------------------------
def _loss(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.6g}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}%"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def format_report(tables: list[dict[str, Any]]) -> str:
    """The Markdown report of every table's results.

    Parameters
    ----------
    tables : list of dict
        Results files' contents (:func:`load_results`).

    Returns
    -------
    text : str
        Per table and tree size, the methods at their best rates; the
        matched-rate table; the defaults check; a conclusion in words.
    """
    lines = [
        "# Acceleration evidence: momentum against tuned plain boosting",
        "",
        "Generated by `python -m benchmarks evidence` from "
        "`benchmarks/results/evidence/*.json`; do not edit by hand.",
        "",
        "Each fit: 500 stages (unless noted), `early_stopping=False`, "
        "`min_samples_leaf=20`, `max_bins=255`, `random_state=0`, the "
        "validation part passed as `X_val`, `y_val`. A fit's result is the "
        "**test** loss at the stage with the lowest **validation** loss; a "
        "method's best learning rate is the one with the lowest such "
        "validation loss (grid " + ", ".join(f"{v:g}" for v in LEARNING_RATES)
        + "; `*` marks a best rate at the grid's edge). Loss: MSE for "
        "regression, mean log loss for classification. \"vs plain\": relative "
        "test-loss difference to tuned plain boosting (negative = better). "
        "\"reach\": first stage whose validation loss is at or below tuned "
        "plain's best (tuned plain's own best stage in its row; - never). "
        "One split and one seed: differences within "
        f"{TIE_PCT:g}% are called ties.",
        "",
    ]
    all_cells = []
    for results in tables:
        info = results["dataset"]
        config = results["config"]
        cells = summarize(results)
        all_cells += cells
        lines += [
            f"## {info['name']} ({info['task']}, {info['loss']})", "",
            f"{info['description']}. Rows: {info['n_train']:,} train, "
            f"{info['n_val']:,} validation, {info['n_test']:,} test; "
            f"{info['n_features']} features; {config['max_iter']} stages. "
            "accelboost commit(s): " + ", ".join(
                sorted({str(f.get("commit"))[:10] for f in results["fits"]})) + ".",
            "",
        ]
        for cell in cells:
            lines += [f"### {info['name']}, {cell['leaves']} leaves", ""]
            rows = []
            for method, row in cell["methods"].items():
                rows.append([
                    method, f"{row['lr']:g}" + ("*" if row["edge"] else ""),
                    _loss(row["test"]), _pct(row["rel"]) if method != PLAIN else "",
                    str(row["stage"]), "-" if row["reach"] is None
                    else str(row["reach"]), str(row["restarts"]),
                ])
            lines += _table(["method", "best lr", "test loss", "vs plain",
                             "best stage", "reach", "restarts"], rows)
            missing = [m for m in METHODS if m not in cell["methods"]]
            if missing:
                lines += ["", "Not run: " + ", ".join(missing) + "."]
            errors: dict[tuple[str, str], list[str]] = {}
            for record in cell["errors"]:
                errors.setdefault((record["method"], record["error"]), []).append(
                    f"{record['learning_rate']:g}")
            for (method, error), rates in errors.items():
                lines += ["", f"**Error** {method} at lr {', '.join(rates)}: {error}"]
            lines.append("")
        matched = [(c["leaves"], m) for c in cells for m in c["matched"]]
        if matched:
            lines += [f"### {info['name']}: momentum at nu against plain at "
                      "nu / (1 - beta)", ""]
            lines += _table(
                ["leaves", "method", "nu", "plain rate", "momentum test",
                 "plain test", "momentum vs plain"],
                [[str(leaves), m["method"], f"{m['nu']:g}", f"{m['rate']:g}",
                  _loss(m["test"]), _loss(m["plain_test"]), _pct(m["rel"])]
                 for leaves, m in matched],
            )
            ext = [(c["leaves"], k, v) for c in cells for k, v in c["extended"].items()]
            lines += ["", "At tuned rates (plain tuned by validation over the grid "
                      "and the matched rates):", ""]
            lines += _table(
                ["leaves", "method", "its lr", "test", "plain lr", "plain test",
                 "momentum vs plain"],
                [[str(leaves), k, f"{v['lr']:g}", _loss(v["test"]),
                  f"{v['plain_lr']:g}", _loss(v["plain_test"]), _pct(v["rel"])]
                 for leaves, k, v in ext],
            )
            lines.append("")
    lines += _defaults_section(all_cells)
    lines += _conclusion(all_cells)
    return "\n".join(lines) + "\n"


def defaults_check(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The default estimator against tuned plain, per table and tree size.

    Parameters
    ----------
    cells : list of dict
        :func:`summarize` output of every table.

    Returns
    -------
    rows : list of dict
        ``dataset``, ``leaves``, ``lr`` (the default's best rate),
        ``test``, ``plain_test``, ``rel`` and ``passed`` (``rel`` at most
        +0.5%; None when not run).
    """
    out = []
    for cell in cells:
        default = cell["methods"].get(DEFAULT)
        plain = cell["methods"].get(PLAIN)
        rel = None if default is None else default["rel"]
        out.append({
            "dataset": cell["dataset"], "leaves": cell["leaves"],
            "lr": None if default is None else default["lr"],
            "test": None if default is None else default["test"],
            "plain_test": None if plain is None else plain["test"],
            "rel": rel,
            "passed": None if rel is None else rel <= DEFAULT_TOLERANCE_PCT,
        })
    return out


def _defaults_section(cells: list[dict[str, Any]]) -> list[str]:
    settings = sorted({
        (", ".join(f"{k}={v!r}" for k, v in sorted(row["settings"].items())),
         str(row["commit"])[:10])
        for cell in cells for m, row in cell["methods"].items() if m == DEFAULT
    })
    shown = "; ".join(f"{text} (accelboost {commit})" for text, commit in settings)
    rows = defaults_check(cells)
    lines = ["## Defaults check", "",
             "The estimators' defaults as fitted (" + (shown or "none") + "), their "
             "learning rate tuned like plain's, against tuned plain boosting; "
             f"pass if at most +{DEFAULT_TOLERANCE_PCT:g}% worse. Defaults chosen "
             "from these tables pass it in-sample: only new tables (or new "
             "splits) test them.", ""]
    lines += _table(
        ["data set", "leaves", "default lr", "default test", "plain test",
         "default vs plain", "check"],
        [[r["dataset"], str(r["leaves"]), "n/a" if r["lr"] is None else f"{r['lr']:g}",
          _loss(r["test"]), _loss(r["plain_test"]), _pct(r["rel"]),
          {True: "pass", False: "**FAIL**", None: "not run"}[r["passed"]]]
         for r in rows],
    )
    return lines + [""]


def _cells_text(items: list[tuple[str, float | None]]) -> str:
    return ", ".join(f"{name} {_pct(v)}" for name, v in items) or "no data"


def _win_count(values: list[float]) -> str:
    """How often momentum's pick beat tuned plain, in words."""
    if not values:
        return "no cells"
    wins = sum(v < -TIE_PCT for v in values)
    median = _pct(float(np.median(values)))
    return (f"momentum (nesterov or beta=0.5, whichever validated better) beat "
            f"tuned plain in {wins} of {len(values)} cells (median {median}, "
            f"range {_pct(min(values))} to {_pct(max(values))})")


def pick_on_validation(cell: dict[str, Any], methods: Iterable[str]
                       ) -> tuple[str, dict[str, Any]] | None:
    """Of several methods in a cell, the one with the lowest validation loss.

    Parameters
    ----------
    cell : dict
        One entry of :func:`summarize`.
    methods : iterable of str
        Candidates (those not run are ignored).

    Returns
    -------
    pick : (str, dict) or None
        The method's name and row, or None when none of them ran.
    """
    rows = [(m, cell["methods"][m]) for m in methods
            if m in cell["methods"] and cell["methods"][m]["rel"] is not None]
    if not rows:
        return None
    return min(rows, key=lambda t: _inf(t[1]["val"]))


def _median_text(values: list[float]) -> str:
    if not values:
        return "n/a"
    wins = sum(v < -TIE_PCT for v in values)
    losses = sum(v > TIE_PCT for v in values)
    return (f"median {_pct(float(np.median(values)))} ({wins} better, {losses} "
            f"worse of {len(values)})")


def _conclusion(cells: list[dict[str, Any]]) -> list[str]:
    """The conclusion in words, generated from the numbers."""
    lines = ["## Conclusion", ""]
    if not cells:
        return lines + ["No results yet.", ""]
    momentum = ["nesterov", "beta=0.5"]
    mechs = [m for m in METHODS if "+" in m]
    leaves_all = sorted({c["leaves"] for c in cells})
    n_tables = len({c["dataset"] for c in cells})

    # Bottom line: per tree size, medians over the tables.
    text = [f"**Bottom line** (test loss vs tuned plain, median over {n_tables} "
            "table(s); \"picked\" = chosen per table on validation):"]
    bullets = []
    for leaves in leaves_all:
        here = [c for c in cells if c["leaves"] == leaves]
        parts = []
        for method in momentum:
            values = [c["methods"][method]["rel"] for c in here
                      if method in c["methods"]
                      and c["methods"][method]["rel"] is not None]
            parts.append(f"{method} {_median_text(values)}")
        picks = [pick_on_validation(c, mechs) for c in here]
        picks = [p for p in picks if p is not None]
        if picks:
            parts.append("picked mechanism " + _median_text(
                [row["rel"] for _, row in picks]))
        bullets.append(f"- {leaves} leaves: " + "; ".join(parts) + ".")
    lines += [" ".join(text), ""] + bullets + [""]

    for leaves in leaves_all:
        here = [c for c in cells if c["leaves"] == leaves]
        text = [f"**{leaves} leaves.**"]
        caps = [(c["dataset"], c["plain"]["learning_rate"]) for c in here
                if c["plain"] is not None]
        text.append("Tuned plain's best rate: " + ", ".join(
            f"{d} {lr:g}" for d, lr in caps) + ".")
        for method in momentum:
            values = [(c["dataset"], c["methods"][method]["rel"]) for c in here
                      if method in c["methods"]]
            if values:
                text.append(f"{method} vs tuned plain: {_cells_text(values)}.")
        paid, lost = [], []
        for c in here:
            won, lose = [], []
            for method in momentum:
                rel = c["methods"].get(method, {}).get("rel")
                if rel is not None and rel < -TIE_PCT:
                    won.append(f"{method} {_pct(rel)}")
                if rel is not None and rel > TIE_PCT:
                    lose.append(f"{method} {_pct(rel)}")
            if won:
                paid.append(f"{c['dataset']} ({', '.join(won)})")
            if lose:
                lost.append(f"{c['dataset']} ({', '.join(lose)})")
        text.append("Momentum paid on " + (", ".join(paid) or "no table") + "; "
                    "lost on " + (", ".join(lost) or "no table") + ".")
        best_mechs = []
        for c in here:
            pick = pick_on_validation(c, mechs)
            if pick is not None:
                best_mechs.append(f"{c['dataset']} {pick[0]} {_pct(pick[1]['rel'])}")
        if best_mechs:
            text.append("Mechanism picked on validation: " + ", ".join(best_mechs)
                        + ".")
        lines += [" ".join(text), ""]

    # The hypothesis: momentum pays where plain wants the Newton cap.
    at_cap, below = [], []
    for c in cells:
        pick = pick_on_validation(c, momentum)
        if c["plain"] is None or pick is None:
            continue
        (at_cap if c["plain"]["learning_rate"] >= max(LEARNING_RATES)
         else below).append(pick[1]["rel"])
    lines += [f"**The Newton cap.** Where tuned plain's best rate was the top of "
              f"the grid ({max(LEARNING_RATES):g}): {_win_count(at_cap)}. Below it: "
              f"{_win_count(below)}.", ""]

    # Is the stage budget binding? Then momentum may only buy stages.
    bound = [f"{c['dataset']}/{c['leaves']} (lr {c['plain']['learning_rate']:g})"
             for c in cells if c["plain"] is not None
             and c["plain"]["best_stage"] >= 0.95 * len(c["plain"]["val_curve"])]
    n_plain = sum(c["plain"] is not None for c in cells)
    lines += [f"**The stage budget.** Tuned plain was still improving in the last "
              f"5% of its stages in {len(bound)} of {n_plain} cells"
              + (f" ({', '.join(bound)})" if bound else "")
              + ": there a gain from momentum is partly a gain in stages, which a "
              "larger budget would give plain boosting too.", ""]

    # Momentum against the larger learning rate.
    pairs = [m for c in cells for m in c["matched"] if m["rel"] is not None]
    ext = [(c["dataset"], c["leaves"], k, v) for c in cells
           for k, v in c["extended"].items() if v["rel"] is not None]
    if pairs or ext:
        inside = [m for m in pairs if m["rate"] <= 1.0]
        above = [m for m in pairs if m["rate"] > 1.0]
        wins = sum(m["rel"] < -TIE_PCT for m in inside)
        losses = sum(m["rel"] > TIE_PCT for m in inside)
        median = (_pct(float(np.median([m["rel"] for m in inside])))
                  if inside else "n/a")
        text = (f"**Momentum or a larger rate?** At the same nu, with the matched "
                f"plain rate nu / (1 - beta) at most 1, constant momentum beat plain "
                f"at that rate in {wins} of {len(inside)} pairs and lost in "
                f"{losses} (median {median}).")
        if above:
            rates = ", ".join(sorted({f"{m['rate']:g}" for m in above}))
            won = sum(m["rel"] < -TIE_PCT for m in above)
            cap = max(LEARNING_RATES)
            overshoot = [
                _inf(m["plain_test"]) > _inf(c["plain_by_lr"].get(cap))
                for c in cells for m in c["matched"]
                if m["rel"] is not None and m["rate"] > 1.0
                and c["plain_by_lr"].get(cap) is not None
            ]
            text += (f" Above the Newton cap (plain at rate {rates}) momentum won "
                     f"{won} of {len(above)} pairs, but that rate is no rival: "
                     f"plain at it ended worse than plain at {cap:g} in "
                     f"{sum(overshoot)} of {len(overshoot)} cells.")
        if ext:
            ext_wins = [f"{d}/{n} {_pct(v['rel'])}" for d, n, _, v in ext
                        if v["rel"] < -TIE_PCT]
            ext_loss = [f"{d}/{n} {_pct(v['rel'])}" for d, n, _, v in ext
                        if v["rel"] > TIE_PCT]
            text += (f" Each at its tuned rate (plain also allowed the matched "
                     f"rates), constant momentum was better in {len(ext_wins)} of "
                     f"{len(ext)} cells ({', '.join(ext_wins) or 'none'}) and worse "
                     f"in {len(ext_loss)} ({', '.join(ext_loss) or 'none'}).")
        lines += [text, ""]

    # Mechanisms at 8 and 31 leaves.
    big = [c for c in cells if c["leaves"] >= 8]
    if big and any(m in c["methods"] for c in big for m in mechs):
        text = ["**Mechanisms at 8 and 31 leaves** (rescued: the base method "
                f"more than {DEFAULT_TOLERANCE_PCT:g}% worse than tuned plain, "
                "with the mechanism at most that):"]
        for mech in mechs:
            base = mech.split("+")[0]
            values = [(f"{c['dataset']}/{c['leaves']}", c["methods"][mech]["rel"])
                      for c in big if mech in c["methods"]]
            if not values:
                continue
            rescued = [f"{c['dataset']}/{c['leaves']}" for c in big
                       if mech in c["methods"] and base in c["methods"]
                       and c["methods"][base]["rel"] is not None
                       and c["methods"][mech]["rel"] is not None
                       and c["methods"][base]["rel"] > DEFAULT_TOLERANCE_PCT
                       and c["methods"][mech]["rel"] <= DEFAULT_TOLERANCE_PCT]
            text.append(f"{mech}: {_cells_text(values)}; rescued "
                        f"{', '.join(rescued) or 'none'}.")
        lines += [" ".join(text[:1]), ""] + [f"- {t}" for t in text[1:]] + [""]
    else:
        lines += ["**Mechanisms:** not run yet (the estimators do not have "
                  "their parameters, or the grid has not reached them).", ""]

    # Where each method loses.
    worse = []
    for method in [m for m in METHODS if m not in (PLAIN, DEFAULT)]:
        lost = [(f"{c['dataset']}/{c['leaves']}", c["methods"][method]["rel"])
                for c in cells if method in c["methods"]
                and c["methods"][method]["rel"] is not None
                and c["methods"][method]["rel"] > TIE_PCT]
        total = sum(method in c["methods"] for c in cells)
        if total:
            worst = max(lost, key=lambda t: t[1]) if lost else None
            worse.append(f"{method} lost to tuned plain in {len(lost)} of {total} "
                         "cells" + (f" (worst {worst[0]} {_pct(worst[1])})"
                                    if worst else ""))
    if worse:
        lines += ["**Where methods lose.** " + "; ".join(worse) + ".", ""]

    checks = [r for r in defaults_check(cells) if r["passed"] is not None]
    if checks:
        failed = [f"{r['dataset']}/{r['leaves']} {_pct(r['rel'])}" for r in checks
                  if not r["passed"]]
        worst = max(checks, key=lambda r: r["rel"])
        lines += [f"**Defaults.** Within +{DEFAULT_TOLERANCE_PCT:g}% of tuned plain "
                  f"in {len(checks) - len(failed)} of {len(checks)} cells (worst "
                  f"{worst['dataset']}/{worst['leaves']} {_pct(worst['rel'])})"
                  + (f"; failed: {', '.join(failed)}." if failed else "."), ""]
    return lines


def write_report(results_dir: Path) -> Path:
    """Regenerate ``report.md`` from every results file in a directory.

    Parameters
    ----------
    results_dir : Path
        Directory of ``<dataset>.json`` files.

    Returns
    -------
    path : Path
        The report written.
    """
    order = {name: i for i, name in enumerate(_data.DATASETS)}
    files = sorted(results_dir.glob("*.json"),
                   key=lambda p: (order.get(p.stem, len(order)), p.stem))
    tables = [load_results(p) for p in files]
    tables = [t for t in tables if t["config"] is not None and t["fits"]]
    path = results_dir / REPORT_NAME
    results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(format_report(tables))
    return path


# -- command line ----------------------------------------------------------------
def _csv(kind: Callable[[str], Any], choices: Sequence[Any] | None = None
         ) -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        try:
            items = [kind(i.strip()) for i in text.split(",") if i.strip()]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        bad = [i for i in items if choices is not None and i not in choices]
        if not items or bad:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {', '.join(map(str, choices))}"
                if choices else "expected a comma-separated list")
        return items

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parser for :func:`main`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks evidence",
        description="Acceleration evidence grid on one real table: momentum and "
        "its mechanisms against tuned plain boosting, selected on validation, "
        "reported on test. Resumable; writes benchmarks/results/evidence/.",
    )
    parser.add_argument("--dataset", choices=_data.DATASETS,
                        help="the table (evidence tables: "
                        + ", ".join(_data.EVIDENCE_DATASETS) + ")")
    parser.add_argument("--leaves", type=_csv(int), default=list(LEAVES),
                        help="comma-separated max_leaf_nodes (default: 2,4,8,31)")
    parser.add_argument("--methods", type=_csv(str, tuple(METHODS)), default=None,
                        help="comma-separated methods (default: all: "
                        + ", ".join(METHODS) + ")")
    parser.add_argument("--learning-rates", type=_csv(float),
                        default=list(LEARNING_RATES),
                        help="tuning grid (default: 0.03,0.1,0.3,1.0)")
    parser.add_argument("--max-iter", type=int, default=MAX_ITER,
                        help="stages per fit (default: %(default)s)")
    parser.add_argument("--n-threads", type=int, default=N_THREADS,
                        help="threads per fit (default: %(default)s)")
    parser.add_argument("--max-minutes", type=float, default=MAX_MINUTES,
                        help="stop between fits within this budget; exit status "
                        f"{EXIT_INCOMPLETE} if fits are left (default: %(default)s)")
    parser.add_argument("--n-samples", type=int, default=20_000,
                        help="training rows of a synthetic data set "
                        "(default: %(default)s)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                        help="results and report directory (default: "
                        "benchmarks/results/evidence)")
    parser.add_argument("--retry-errors", action="store_true",
                        help="refit fits whose stored record is an error")
    parser.add_argument("--report-only", action="store_true",
                        help="only regenerate report.md from the JSON files")
    parser.add_argument("--list", action="store_true",
                        help="list the methods, their parameters and whether "
                        "this accelboost can run them")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) one table's grid and regenerate the report.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 when the table's grid is complete without errors, 1 when a fit
        failed, 3 when the budget left fits to run.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        for method, params in METHODS.items():
            missing = missing_params(method)
            state = "ok" if not missing else "missing " + ", ".join(missing)
            print(f"{method:<24} {params if params is not None else 'defaults'}"
                  f"  [{state}]")
        return 0
    if args.report_only:
        print(f"report written to {write_report(args.results_dir)}")
        return 0
    if args.dataset is None:
        parser.error("--dataset is required (or --report-only / --list)")
    if any(n < 2 for n in args.leaves):
        parser.error("--leaves must be at least 2")
    tic = time.perf_counter()
    dataset = _data.load_dataset(args.dataset, validation=True,
                                 n_samples=args.n_samples)
    print(f"loaded {args.dataset} in {time.perf_counter() - tic:.1f} s: "
          f"{dataset.description}", flush=True)
    summary = run_grid(
        dataset, args.results_dir / f"{args.dataset}.json", leaves=args.leaves,
        methods=args.methods, learning_rates=args.learning_rates,
        max_iter=args.max_iter, n_threads=args.n_threads,
        max_minutes=args.max_minutes, retry_errors=args.retry_errors,
        log=lambda text: print(text, flush=True),
    )
    print(f"report written to {write_report(args.results_dir)}")
    if summary["aborted"]:
        return 1
    if summary["remaining"]:
        return EXIT_INCOMPLETE
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
