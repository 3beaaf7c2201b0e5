"""Acceleration evidence: where does momentum pay, on real tables?

The question (DESIGN.md 2.7): momentum pays when plain boosting would want a
learning rate above what a Newton leaf step allows (very weak learners), and
is a mere rescale, or harmful, below it. One real table per invocation:
``python -m benchmarks evidence --dataset NAME``.

For each tree size (``max_leaf_nodes`` 2, 4, 8, 31), each method of
:data:`METHODS` and each learning rate of the grid (0.03, 0.1, 0.3, 1.0), one
model of 500 stages is fitted on the table's training part (:mod:`._data`)
with ``early_stopping=False``, ``min_samples_leaf=20``, ``max_bins=255``,
``random_state=0`` and the validation part as ``X_val``, ``y_val``; for every
constant momentum ``beta``, plain boosting also at the matched rates ``nu /
(1 - beta)`` (what a pure rescale would match; never used to tune plain).
``default`` is the estimators' defaults as they stand at run time (only the
tree size, stages, rate, ``early_stopping=False``, seed and threads set).

A fit's result is the **test loss at the stage with the lowest validation
loss** (staged predictions; MSE, or mean log loss); a method's best rate is
the one with the lowest such validation loss: the test part never chooses.
"reach" is the first stage whose validation loss is at or below tuned
plain's best. Stored per fit: the validation curve (7 significant digits),
the chosen stage with its validation and test loss, the final ones and
``n_restarts_``.

Results go to ``results/evidence/<dataset>.json`` after every fit; a rerun
skips finished fits, and refits one whose parameters changed, a failed one
once the accelboost commit changed (or with ``--retry-errors``), and those of
the default method and of the ``--refit`` methods made at another commit
(what a default or a fixed method does can change with no parameter
changing). ``--max-minutes`` stops between fits (exit status 3: rerun to
resume); ``--leaves`` and ``--methods`` run a table piece by piece; methods
this accelboost cannot run yet are skipped. ``results/evidence/report.md`` is
regenerated from every JSON file after each invocation (``--report-only``:
only that).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _data, _report
from ._peers import LIBRARIES
from ._report import csv, fmt, jsonable, median, positive_int, rate_key, table

#: The grid.
LEAVES = (2, 4, 8, 31)
LEARNING_RATES = (0.03, 0.1, 0.3, 1.0)
MAX_ITER = 500
N_THREADS = 2
SEED = 0
SCHEMA_VERSION = 2
#: Settings of every explicit method's fit (the default method gets none).
COMMON = {"min_samples_leaf": 20, "max_bins": 255, "early_stopping": False,
          "random_state": SEED}
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
    **{f"{base}+{mech}": {**params, **extra} for base, params in _MOMENTUM.items()
       for mech, extra in MECHANISMS.items()},
}
#: Where results and the report go.
RESULTS_DIR = Path(__file__).resolve().parent / "results" / "evidence"
REPORT_NAME = "report.md"
#: Default time budget of one invocation (minutes): stops between fits.
MAX_MINUTES = 25.0
#: Significant digits of the stored validation curves, and the slack within
#: which a curve reaches a loss (more than their rounding; at 6 digits, some
#: reach stages of the committed results move, whatever the slack).
DIGITS = 7
REACH_RTOL = 1e-6
#: Relative test-loss differences below this (in %) are called a tie.
TIE_PCT = 0.1
#: The defaults check: default at most this much (in %) worse than tuned plain.
DEFAULT_TOLERANCE_PCT = 0.5
#: Exit status when the budget ran out before the grid was done.
EXIT_INCOMPLETE = 3
#: Stop a run after this many failed fits in a row.
MAX_FAILURES_IN_A_ROW = 4
#: Estimator parameters the defaults check shows.
_SHOWN_DEFAULTS = ("stage_init", "momentum", "restart", "momentum_offset",
                   "hybrid_patience", "max_delta_step")
#: Parameter values of a new estimator parameter that keep old behaviour
#: (a stored default fit stays valid when such a parameter appears).
_NEUTRAL = (None, False, 0, 0.0, "none")


# -- methods ---------------------------------------------------------------------
def constant_beta(method: str) -> float | None:
    """The constant momentum of a pure momentum method.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.

    Returns
    -------
    float or None
        ``momentum`` of a method that is exactly ``stage_init="stacking"``
        with a constant momentum (no mechanism), else None.
    """
    params = METHODS.get(method) or {}
    if set(params) != {"stage_init", "momentum"} or isinstance(params["momentum"],
                                                                 str):
        return None
    return float(params["momentum"]) if params["stage_init"] == "stacking" else None


def matched_rate(learning_rate: float, beta: float) -> float:
    """Plain boosting's learning rate that a constant momentum rescales to.

    Parameters
    ----------
    learning_rate, beta : float
        The momentum method's rate ``nu`` and constant momentum, in [0, 1).

    Returns
    -------
    float
        ``nu / (1 - beta)``, the long-run step of a learner repeated with
        momentum ``beta``.
    """
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    return rate_key(learning_rate / (1.0 - beta))


def _missing_params(method: str) -> list[str]:
    """What of a method this accelboost does not accept: parameters it lacks,
    or values its validation rejects (empty: the method can run)."""
    estimator = LIBRARIES["accelboost"].estimator("regression")
    params = METHODS[method] or {}
    missing = [p for p in params if p not in estimator().get_params()]
    if missing:
        return missing
    try:
        estimator(**params)._validate_params()
    except (TypeError, ValueError) as exc:  # InvalidParameterError is a ValueError
        return [", ".join(f"{k}={v!r}" for k, v in params.items()
                          if k not in ("stage_init", "momentum")) or str(exc)]
    return []


def fit_params(method: str, leaves: int, learning_rate: float,
               max_iter: int = MAX_ITER) -> dict[str, Any]:
    """The estimator parameters a fit sets (the rest: the defaults).

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.
    leaves, learning_rate, max_iter
        ``max_leaf_nodes``, ``learning_rate``, ``max_iter``.

    Returns
    -------
    dict
        Without ``n_threads``.
    """
    base = {"max_leaf_nodes": leaves, "max_iter": max_iter,
            "learning_rate": learning_rate}
    if METHODS[method] is None:
        return {**base, "early_stopping": False, "random_state": SEED}
    return {**base, **COMMON, **METHODS[method]}


# -- one fit ---------------------------------------------------------------------
def select(val_curve: Sequence[float | None], test_curve: Sequence[float | None]
           ) -> tuple[int, float, float]:
    """The stage the validation curve chooses, and the test loss there.

    Parameters
    ----------
    val_curve, test_curve : sequence of float
        Losses after stage 1, 2, ...; None or NaN never wins.

    Returns
    -------
    stage, val_loss, test_loss
        The first 1-based stage with the lowest validation loss, and the
        validation and test loss there.
    """
    val = np.asarray(val_curve, dtype=np.float64)
    index = int(np.argmin(np.where(np.isnan(val), np.inf, val)))
    return index + 1, float(val[index]), float(np.asarray(test_curve,
                                                          dtype=np.float64)[index])


def _settings(model: Any) -> dict[str, Any]:
    """An estimator's parameters as JSON data, ``n_threads`` excluded."""
    return jsonable({k: v for k, v in model.get_params().items() if k != "n_threads"})


def run_fit(dataset: _data.Dataset, method: str, leaves: int, learning_rate: float,
            max_iter: int = MAX_ITER, n_threads: int = N_THREADS) -> dict[str, Any]:
    """Fit one model and record its staged validation and test losses.

    Parameters
    ----------
    dataset : Dataset
        A data set with a validation part.
    method, leaves, learning_rate, max_iter
        As :func:`fit_params` takes them.
    n_threads : int, default=2
        Threads of the fit (the model does not depend on it).

    Returns
    -------
    dict
        Key fields, ``params`` (for the default method also all of them,
        ``estimator_params``), ``status`` ("ok", or "error" with ``reason``
        and ``traceback``), ``n_iter``, ``n_restarts``, the stage
        :func:`select` chose (``best_stage``) with ``best_val`` and
        ``test_at_best``, ``final_val``, ``final_test``, ``val_curve`` and
        ``seconds`` (fit and scoring).
    """
    accelboost = LIBRARIES["accelboost"]
    params = fit_params(method, leaves, learning_rate, max_iter)
    record: dict[str, Any] = {
        "dataset": dataset.name, "leaves": leaves, "method": method,
        "learning_rate": rate_key(learning_rate), "params": params}
    tic = time.perf_counter()
    try:
        model = accelboost.estimator(dataset.task)(**params, n_threads=n_threads)
        if method == DEFAULT:  # what the defaults were (see is_current)
            record["estimator_params"] = _settings(model)
        with warnings.catch_warnings():
            # The grid runs unguarded momentum on purpose; its losses show
            # any divergence, so the estimator's warning is noise here.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(dataset.X_train, dataset.y_train,
                      X_val=dataset.X_val, y_val=dataset.y_val)
        val, test = (accelboost.staged_losses(model, X, y, dataset.task) for X, y in
                     ((dataset.X_val, dataset.y_val), (dataset.X_test, dataset.y_test)))
    except Exception as exc:  # one failed fit must not stop the grid
        return {**_report.error_run(record, exc), "seconds": time.perf_counter() - tic}
    stage, best_val, test_at = select(val, test)
    record.update(
        status="ok", n_iter=int(model.n_iter_),
        n_restarts=int(getattr(model, "n_restarts_", 0)), best_stage=stage,
        best_val=best_val, test_at_best=test_at, final_val=float(val[-1]),
        final_test=float(test[-1]),
        val_curve=[float(f"{v:.{DIGITS}g}") for v in val],
        seconds=time.perf_counter() - tic)
    return record


# -- the grid --------------------------------------------------------------------
def fit_key(record: dict[str, Any]) -> tuple[str, int, str, float]:
    """(dataset, leaves, method, learning rate): a fit's key in its file."""
    return (record["dataset"], int(record["leaves"]), record["method"],
            rate_key(record["learning_rate"]))


def is_current(record: dict[str, Any], params: dict[str, Any],
               estimator_params: dict[str, Any] | None = None) -> bool:
    """Whether a stored fit still answers for these parameters.

    Parameters
    ----------
    record : dict
        A stored fit (successful or failed).
    params : dict
        The parameters it would be run with now (:func:`fit_params`).
    estimator_params : dict or None, default=None
        For the default method: the estimator's defaults now. A parameter
        not in ``params`` that differs from the stored one, or is new with a
        value other than None, False, 0 or "none", makes the fit stale.

    Returns
    -------
    bool
        False when the fit must be run again.
    """
    if jsonable(record.get("params")) != jsonable(params):
        return False
    old = record.get("estimator_params") or {}
    return all(name in params or (old[name] == value if name in old
                                  else value in _NEUTRAL)
               for name, value in jsonable(estimator_params or {}).items())


def plan(leaves: Sequence[int], methods: Sequence[str],
         learning_rates: Sequence[float]) -> list[tuple[int, str, float]]:
    """The fits of a grid, in running order.

    Parameters
    ----------
    leaves, methods, learning_rates : sequence
        Tree sizes, keys of :data:`METHODS`, the tuning grid.

    Returns
    -------
    list of (leaves, method, learning rate)
        Per tree size: plain boosting (the reference) first, then the other
        methods, then plain at the matched rates of every constant momentum;
        without duplicates.
    """
    order = sorted(methods, key=lambda m: (m != PLAIN, list(METHODS).index(m)))
    jobs: list[tuple[int, str, float]] = []
    for n_leaves in leaves:
        jobs += [(n_leaves, m, rate_key(nu)) for m in order for nu in learning_rates]
        jobs += [(n_leaves, PLAIN, matched_rate(nu, beta)) for m in order
                 if (beta := constant_beta(m)) is not None for nu in learning_rates]
    return list(dict.fromkeys(jobs))


def run_grid(dataset: _data.Dataset, path: Path, leaves: Sequence[int] = LEAVES,
             methods: Sequence[str] | None = None,
             learning_rates: Sequence[float] = LEARNING_RATES,
             max_iter: int = MAX_ITER, n_threads: int = N_THREADS,
             max_minutes: float | None = MAX_MINUTES, retry_errors: bool = False,
             refit: Iterable[str] = (), command: str = "",
             log: Any = sys.stderr) -> dict[str, Any]:
    """Run (or resume) one table's grid, saving after every fit.

    Parameters
    ----------
    dataset : Dataset
        A data set with a validation part.
    path : Path
        Its results file.
    leaves, methods, learning_rates, max_iter, n_threads
        As the command line's options (``methods=None``: all); the grid
        (``learning_rates``, ``max_iter``) must match the file's.
    max_minutes, retry_errors, refit
        As the command line's options.
    command : str, default=""
        The command line, for the results file.
    log : file-like or None, default=sys.stderr
        Progress output (None: silent).

    Returns
    -------
    dict
        ``done`` (fits run now), ``skipped`` (already stored), ``remaining``
        (left by the budget or after too many failures in a row), ``errors``
        (failed now), ``aborted`` (stopped by failures), ``unavailable``
        (methods skipped: this accelboost lacks their parameters).
    """
    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    started = time.perf_counter()
    methods = list(METHODS) if methods is None else list(methods)
    unavailable = {m: missing for m in methods if (missing := _missing_params(m))}
    for method, missing in unavailable.items():
        say(f"skipping {method}: this accelboost does not accept {', '.join(missing)}")
    methods = [m for m in methods if m not in unavailable]
    if not methods:
        raise ValueError("no runnable methods")
    config = {"learning_rates": [rate_key(v) for v in learning_rates],
              "max_iter": max_iter, "seed": SEED}
    stored_file = json.loads(path.read_text()) if path.exists() else None
    if stored_file is not None and stored_file["config"] != config:
        raise SystemExit(f"{path} was run with {stored_file['config']}, not "
                         f"{config}: use another --results-dir")
    stored = {fit_key(r): r for r in (stored_file or {}).get("runs", [])}
    code = _code_version()
    results = _report.new_report("evidence", SCHEMA_VERSION, command, config,
                                 dataset=dataset.info(), accelboost=code)
    default_now = _settings(LIBRARIES["accelboost"].estimator(dataset.task)())

    def pending(job: tuple[int, str, float]) -> bool:
        n_leaves, method, lr = job
        record = stored.get((dataset.name, n_leaves, method, lr))
        if record is None:
            return True
        if record["status"] != "ok" and retry_errors:
            return True
        if record.get("commit") != code["commit"] and (
                record["status"] != "ok" or method == DEFAULT or method in refit):
            return True  # the code changed since it failed, or may have changed it
        return not is_current(record, fit_params(method, n_leaves, lr, max_iter),
                              default_now if method == DEFAULT else None)

    jobs = plan(leaves, methods, learning_rates)
    todo = [j for j in jobs if pending(j)]
    summary = {"done": 0, "skipped": len(jobs) - len(todo), "remaining": 0,
               "errors": 0, "aborted": False, "unavailable": sorted(unavailable)}
    say(f"{dataset.name}: {len(jobs)} fits in the grid, {summary['skipped']} "
        f"stored, {len(todo)} to run ({len(dataset.y_train):,} training rows)")
    per_fit: dict[int, list[float]] = {}  # seconds per fit by tree size
    for record in stored.values():
        if record["status"] == "ok":
            per_fit.setdefault(int(record["leaves"]), []).append(record["seconds"])
    budget = math.inf if max_minutes is None else 60.0 * max_minutes
    progress, failed_in_a_row = _report.Progress(len(todo), log), 0
    for index, (n_leaves, method, lr) in enumerate(todo):
        guess = median(per_fit.get(n_leaves) or [t for ts in per_fit.values()
                                                 for t in ts] or [30.0])
        elapsed = time.perf_counter() - started
        if index > 0 and elapsed + 1.5 * guess > budget:
            summary["remaining"] = len(todo) - index
            say(f"budget: stopping after {elapsed / 60:.1f} min with "
                f"{summary['remaining']} fits left (rerun to resume)")
            break
        record = {**run_fit(dataset, method, n_leaves, lr, max_iter, n_threads),
                  "commit": code["commit"]}
        stored[fit_key(record)] = record
        results["runs"] = list(stored.values())
        _report.save_json(results, path)
        summary["done"] += 1
        where = f"{n_leaves:>2} leaves {method:<22} lr={lr:<6g}"
        if record["status"] == "ok":
            per_fit.setdefault(n_leaves, []).append(record["seconds"])
            failed_in_a_row = 0
            progress.step(f"{where} val {record['best_val']:.6g} @ "
                          f"{record['best_stage']:>3}, test "
                          f"{record['test_at_best']:.6g}, restarts "
                          f"{record['n_restarts']}, {record['seconds']:.1f} s")
            continue
        summary["errors"] += 1
        failed_in_a_row += 1
        progress.step(f"{where} ERROR {record['reason']}")
        if failed_in_a_row >= MAX_FAILURES_IN_A_ROW:
            summary.update(remaining=len(todo) - index - 1, aborted=True)
            say(f"{failed_in_a_row} fits in a row failed: stopping (a broken "
                "build?); failed fits are retried once the commit changes, or "
                "with --retry-errors")
            break
    say(f"{dataset.name}: {summary['done']} fits in "
        f"{(time.perf_counter() - started) / 60:.1f} min")
    return summary


def _code_version() -> dict[str, Any]:
    """accelboost's location and, if in a git checkout, its commit."""
    import accelboost

    root = Path(accelboost.__file__).resolve().parent.parent
    commit = os.environ.get("ACCELBOOST_COMMIT")
    if commit is None:
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                text=True, check=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = None
    return {"path": str(root), "commit": commit}


# -- summary ---------------------------------------------------------------------
def best_fit(fits: Iterable[dict[str, Any]], method: str, leaves: int,
             rates: Iterable[float]) -> dict[str, Any] | None:
    """A method's fit at its best learning rate, chosen on validation.

    Parameters
    ----------
    fits : iterable of dict
        Records of one data set.
    method, leaves
        The method and tree size.
    rates : iterable of float
        The learning rates to choose from.

    Returns
    -------
    dict or None
        The successful fit with the lowest ``best_val`` (the smaller rate on
        ties), if any.
    """
    rates = {rate_key(r) for r in rates}
    return min((r for r in fits if r["status"] == "ok" and r["method"] == method
                and int(r["leaves"]) == leaves
                and rate_key(r["learning_rate"]) in rates),
               key=lambda r: (_inf(r["best_val"]), r["learning_rate"]), default=None)


def _inf(value: float | None) -> float:
    return math.inf if value is None or not math.isfinite(value) else float(value)


def _rel(value: float | None, reference: float | None) -> float | None:
    """``100 * (value / reference - 1)``; None when either is missing or not
    finite, or the reference is 0."""
    if _inf(value) == math.inf or _inf(reference) == math.inf or reference == 0:
        return None
    return 100.0 * (value / reference - 1.0)


def _test(record: dict[str, Any] | None) -> float | None:
    return None if record is None else record["test_at_best"]


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per tree size of one results file: each method at its best rate.

    Parameters
    ----------
    results : dict
        A results file's content.

    Returns
    -------
    list of dict
        One per tree size: ``dataset``, ``leaves``; ``plain`` (tuned plain's
        record); ``plain_by_lr`` (plain's test loss at each rate it ran);
        ``methods`` (name -> row with ``lr``, ``edge``, ``val``, ``test``,
        ``stage``, ``reach``, ``restarts``, ``commit``, ``settings``,
        ``rel``); ``matched`` (rows of constant momentum at ``nu`` against
        plain at ``nu / (1 - beta)``); ``extended`` (per constant-momentum
        method: plain tuned over the grid and the matched rates, against the
        method at its best rate); ``errors`` (failed records).
    """
    grid, fits = results["config"]["learning_rates"], results["runs"]
    cells = []
    for leaves in sorted({int(r["leaves"]) for r in fits}):
        plain = best_fit(fits, PLAIN, leaves, grid)
        rows = {}
        for method in METHODS:
            record = best_fit(fits, method, leaves, grid)
            if record is None:
                continue
            rows[method] = {
                "lr": record["learning_rate"],
                "edge": record["learning_rate"] in (min(grid), max(grid)),
                "val": record["best_val"], "test": record["test_at_best"],
                "stage": record["best_stage"],
                "reach": None if plain is None else _report.first_reach(
                    record["val_curve"], plain["best_val"], REACH_RTOL),
                "restarts": record.get("n_restarts"), "commit": record.get("commit"),
                "settings": {k: v for k, v in (record.get("estimator_params")
                                               or {}).items() if k in _SHOWN_DEFAULTS},
                "rel": _rel(record["test_at_best"], _test(plain))}
        matched, extended = [], {}
        for method in rows:
            if (beta := constant_beta(method)) is None:
                continue
            rates = [matched_rate(nu, beta) for nu in grid]
            for nu, rate in zip(grid, rates, strict=True):
                mom = best_fit(fits, method, leaves, [nu])
                ref = best_fit(fits, PLAIN, leaves, [rate])
                if mom is not None or ref is not None:
                    matched.append({
                        "method": method, "beta": beta, "nu": nu, "rate": rate,
                        "test": _test(mom), "plain_test": _test(ref),
                        "rel": _rel(_test(mom), _test(ref))})
            wide = best_fit(fits, PLAIN, leaves, list(grid) + rates)
            if wide is not None:
                extended[method] = {
                    "plain_lr": wide["learning_rate"], "plain_test": _test(wide),
                    "lr": rows[method]["lr"], "test": rows[method]["test"],
                    "rel": _rel(rows[method]["test"], _test(wide))}
        cells.append({
            "dataset": results["dataset"]["name"], "leaves": leaves, "plain": plain,
            "plain_by_lr": {rate_key(r["learning_rate"]): r["test_at_best"]
                            for r in fits if r["status"] == "ok"
                            and r["method"] == PLAIN and int(r["leaves"]) == leaves},
            "methods": rows, "matched": matched, "extended": extended,
            "errors": [r for r in fits if r["status"] != "ok"
                       and int(r["leaves"]) == leaves]})
    return cells


def _defaults_check(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per cell, the default against tuned plain: ``passed`` if at most
    :data:`DEFAULT_TOLERANCE_PCT` worse (None: not run)."""
    out = []
    for cell in cells:
        default = cell["methods"].get(DEFAULT) or {}
        rel = default.get("rel")
        out.append({"dataset": cell["dataset"], "leaves": cell["leaves"],
                    "lr": default.get("lr"), "test": default.get("test"),
                    "plain_test": cell["methods"].get(PLAIN, {}).get("test"),
                    "rel": rel,
                    "passed": None if rel is None else rel <= DEFAULT_TOLERANCE_PCT})
    return out


def _pick(cell: dict[str, Any], methods: Iterable[str]
          ) -> tuple[str, dict[str, Any]] | None:
    """Of the ``methods`` that ran in a cell, the one with the lowest
    validation loss: its name and row."""
    rows = [(m, cell["methods"][m]) for m in methods
            if m in cell["methods"] and cell["methods"][m]["rel"] is not None]
    return min(rows, key=lambda t: _inf(t[1]["val"]), default=None)


# -- report ----------------------------------------------------------------------
def _loss(value: float | None) -> str:
    return fmt(value, ".6g")


def _pct(value: float | None) -> str:
    return fmt(value, "+.2f", "%")


def _format_report(tables: list[dict[str, Any]]) -> str:
    """The report: per table and tree size the methods at their best rates,
    the matched-rate tables, the defaults check, a conclusion in words."""
    lines = [
        "# Acceleration evidence: momentum against tuned plain boosting", "",
        "Generated by `python -m benchmarks evidence` from "
        "`benchmarks/results/evidence/*.json`; do not edit by hand.", "",
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
        f"One split and one seed: differences within {TIE_PCT:g}% are called "
        "ties.", ""]
    all_cells = []
    for results in tables:
        info, cells = results["dataset"], summarize(results)
        all_cells += cells
        commits = sorted({str(f.get("commit"))[:10] for f in results["runs"]})
        lines += [
            f"## {info['name']} ({info['task']}, {info['loss']})", "",
            f"{info['description']}. Rows: {info['n_train']:,} train, "
            f"{info['n_val']:,} validation, {info['n_test']:,} test; "
            f"{info['n_features']} features; {results['config']['max_iter']} "
            f"stages. accelboost commit(s): {', '.join(commits)}.", ""]
        for cell in cells:
            lines += [f"### {info['name']}, {cell['leaves']} leaves", ""]
            lines += table(
                ["method", "best lr", "test loss", "vs plain", "best stage", "reach",
                 "restarts"],
                [[m, f"{r['lr']:g}" + ("*" if r["edge"] else ""), _loss(r["test"]),
                  _pct(r["rel"]) if m != PLAIN else "", r["stage"],
                  "-" if r["reach"] is None else r["reach"], r["restarts"]]
                 for m, r in cell["methods"].items()])
            missing = [m for m in METHODS if m not in cell["methods"]]
            if missing:
                lines += ["", "Not run: " + ", ".join(missing) + "."]
            errors: dict[tuple[str, str], list[str]] = {}
            for record in cell["errors"]:
                errors.setdefault((record["method"], record["reason"]), []).append(
                    f"{record['learning_rate']:g}")
            for (method, reason), rates in errors.items():
                lines += ["", f"**Error** {method} at lr {', '.join(rates)}: {reason}"]
            lines.append("")
        if any(c["matched"] for c in cells):
            lines += [f"### {info['name']}: momentum at nu against plain at "
                      "nu / (1 - beta)", ""]
            lines += table(
                ["leaves", "method", "nu", "plain rate", "momentum test",
                 "plain test", "momentum vs plain"],
                [[c["leaves"], m["method"], f"{m['nu']:g}", f"{m['rate']:g}",
                  _loss(m["test"]), _loss(m["plain_test"]), _pct(m["rel"])]
                 for c in cells for m in c["matched"]])
            lines += ["", "At tuned rates (plain tuned by validation over the grid "
                      "and the matched rates):", ""]
            lines += table(
                ["leaves", "method", "its lr", "test", "plain lr", "plain test",
                 "momentum vs plain"],
                [[c["leaves"], k, f"{v['lr']:g}", _loss(v["test"]),
                  f"{v['plain_lr']:g}", _loss(v["plain_test"]), _pct(v["rel"])]
                 for c in cells for k, v in c["extended"].items()])
            lines.append("")
    return "\n".join(lines + _defaults_section(all_cells)
                     + _conclusion(all_cells)) + "\n"


def _defaults_section(cells: list[dict[str, Any]]) -> list[str]:
    settings = sorted({
        (", ".join(f"{k}={v!r}" for k, v in sorted(row["settings"].items())),
         str(row["commit"])[:10])
        for cell in cells for m, row in cell["methods"].items() if m == DEFAULT})
    shown = "; ".join(f"{text} (accelboost {commit})" for text, commit in settings)
    lines = ["## Defaults check", "",
             "The estimators' defaults as fitted (" + (shown or "none") + "), their "
             "learning rate tuned like plain's, against tuned plain boosting; "
             f"pass if at most +{DEFAULT_TOLERANCE_PCT:g}% worse. Defaults chosen "
             "from these tables pass it in-sample: only new tables (or new "
             "splits) test them.", ""]
    return lines + table(
        ["data set", "leaves", "default lr", "default test", "plain test",
         "default vs plain", "check"],
        [[r["dataset"], r["leaves"], fmt(r["lr"], "g"), _loss(r["test"]),
          _loss(r["plain_test"]), _pct(r["rel"]),
          {True: "pass", False: "**FAIL**", None: "not run"}[r["passed"]]]
         for r in _defaults_check(cells)]) + [""]


def _rel_of(cell: dict[str, Any], method: str) -> float | None:
    return cell["methods"].get(method, {}).get("rel")


def _cells_text(items: list[tuple[str, float | None]]) -> str:
    return ", ".join(f"{name} {_pct(v)}" for name, v in items) or "no data"


def _median_text(values: list[float]) -> str:
    if not values:
        return _report.MISSING
    return (f"median {_pct(median(values))} ({sum(v < -TIE_PCT for v in values)} "
            f"better, {sum(v > TIE_PCT for v in values)} worse of {len(values)})")


def _win_count(values: list[float]) -> str:
    """How often momentum's pick beat tuned plain, in words."""
    if not values:
        return "no cells"
    return (f"momentum (nesterov or beta=0.5, whichever validated better) beat "
            f"tuned plain in {sum(v < -TIE_PCT for v in values)} of {len(values)} "
            f"cells (median {_pct(median(values))}, range {_pct(min(values))} to "
            f"{_pct(max(values))})")


def _conclusion(cells: list[dict[str, Any]]) -> list[str]:
    """The conclusion in words, generated from the numbers."""
    lines = ["## Conclusion", ""]
    if not cells:
        return lines + ["No results yet.", ""]
    momentum = ["nesterov", "beta=0.5"]
    mechs = [m for m in METHODS if "+" in m]
    by_leaves = {n: [c for c in cells if c["leaves"] == n]
                 for n in sorted({c["leaves"] for c in cells})}

    # Bottom line: per tree size, medians over the tables.
    lines += [f"**Bottom line** (test loss vs tuned plain, median over "
              f"{len({c['dataset'] for c in cells})} table(s); \"picked\" = chosen "
              "per table on validation):", ""]
    for leaves, here in by_leaves.items():
        parts = [f"{m} " + _median_text([v for c in here if (v := _rel_of(c, m))
                                         is not None]) for m in momentum]
        picks = [p[1]["rel"] for c in here if (p := _pick(c, mechs))]
        if picks:
            parts.append("picked mechanism " + _median_text(picks))
        lines.append(f"- {leaves} leaves: " + "; ".join(parts) + ".")
    lines.append("")

    for leaves, here in by_leaves.items():
        text = [f"**{leaves} leaves.**", "Tuned plain's best rate: " + ", ".join(
            f"{c['dataset']} {c['plain']['learning_rate']:g}" for c in here
            if c["plain"] is not None) + "."]
        text += [f"{m} vs tuned plain: "
                 + _cells_text([(c["dataset"], _rel_of(c, m)) for c in here
                                if m in c["methods"]]) + "."
                 for m in momentum if any(m in c["methods"] for c in here)]
        paid, lost = [], []
        for c in here:
            rels = [(m, v) for m in momentum if (v := _rel_of(c, m)) is not None]
            for found, sign in ((paid, -1), (lost, 1)):
                hits = [f"{m} {_pct(v)}" for m, v in rels if sign * v > TIE_PCT]
                if hits:
                    found.append(f"{c['dataset']} ({', '.join(hits)})")
        text.append("Momentum paid on " + (", ".join(paid) or "no table") + "; "
                    "lost on " + (", ".join(lost) or "no table") + ".")
        picked = [f"{c['dataset']} {p[0]} {_pct(p[1]['rel'])}" for c in here
                  if (p := _pick(c, mechs))]
        if picked:
            text.append("Mechanism picked on validation: " + ", ".join(picked) + ".")
        lines += [" ".join(text), ""]

    # The hypothesis: momentum pays where plain wants the Newton cap.
    cap = max(LEARNING_RATES)
    picks = [(c["plain"]["learning_rate"] >= cap, p[1]["rel"]) for c in cells
             if c["plain"] is not None and (p := _pick(c, momentum))]
    lines += [f"**The Newton cap.** Where tuned plain's best rate was the top of "
              f"the grid ({cap:g}): {_win_count([v for top, v in picks if top])}. "
              f"Below it: {_win_count([v for top, v in picks if not top])}.", ""]

    # Is the stage budget binding? Then momentum may only buy stages.
    bound = [f"{c['dataset']}/{c['leaves']} (lr {c['plain']['learning_rate']:g})"
             for c in cells if c["plain"] is not None
             and c["plain"]["best_stage"] >= 0.95 * len(c["plain"]["val_curve"])]
    lines += [f"**The stage budget.** Tuned plain was still improving in the last "
              f"5% of its stages in {len(bound)} of "
              f"{sum(c['plain'] is not None for c in cells)} cells"
              + (f" ({', '.join(bound)})" if bound else "")
              + ": there a gain from momentum is partly a gain in stages, which a "
              "larger budget would give plain boosting too.", ""]
    lines += _larger_rate(cells)

    # Mechanisms at 8 and 31 leaves.
    big = [c for c in cells if c["leaves"] >= 8]
    if any(m in c["methods"] for c in big for m in mechs):
        lines += ["**Mechanisms at 8 and 31 leaves** (rescued: the base method "
                  f"more than {DEFAULT_TOLERANCE_PCT:g}% worse than tuned plain, "
                  "with the mechanism at most that):", ""]
        for mech in mechs:
            values = [(f"{c['dataset']}/{c['leaves']}", _rel_of(c, mech))
                      for c in big if mech in c["methods"]]
            rescued = [f"{c['dataset']}/{c['leaves']}" for c in big
                       if _rescued(_rel_of(c, mech.split("+")[0]), _rel_of(c, mech))]
            if values:
                lines.append(f"- {mech}: {_cells_text(values)}; rescued "
                             f"{', '.join(rescued) or 'none'}.")
        lines.append("")
    else:
        lines += ["**Mechanisms:** not run yet (the estimators do not have "
                  "their parameters, or the grid has not reached them).", ""]

    # Where each method loses.
    worse = []
    for method in [m for m in METHODS if m not in (PLAIN, DEFAULT)]:
        lost = [(f"{c['dataset']}/{c['leaves']}", v) for c in cells
                if (v := _rel_of(c, method)) is not None and v > TIE_PCT]
        total = sum(method in c["methods"] for c in cells)
        if total:
            worst = max(lost, key=lambda t: t[1], default=None)
            worse.append(f"{method} lost to tuned plain in {len(lost)} of {total} "
                         "cells" + (f" (worst {worst[0]} {_pct(worst[1])})"
                                    if worst else ""))
    if worse:
        lines += ["**Where methods lose.** " + "; ".join(worse) + ".", ""]

    checks = [r for r in _defaults_check(cells) if r["passed"] is not None]
    if checks:
        failed = [f"{r['dataset']}/{r['leaves']} {_pct(r['rel'])}" for r in checks
                  if not r["passed"]]
        worst = max(checks, key=lambda r: r["rel"])
        lines += [f"**Defaults.** Within +{DEFAULT_TOLERANCE_PCT:g}% of tuned plain "
                  f"in {len(checks) - len(failed)} of {len(checks)} cells (worst "
                  f"{worst['dataset']}/{worst['leaves']} {_pct(worst['rel'])})"
                  + (f"; failed: {', '.join(failed)}." if failed else "."), ""]
    return lines


def _rescued(base: float | None, mech: float | None) -> bool:
    """Whether a mechanism brought a method more than the defaults' tolerance
    worse than tuned plain back within it."""
    return (base is not None and mech is not None
            and base > DEFAULT_TOLERANCE_PCT >= mech)


def _larger_rate(cells: list[dict[str, Any]]) -> list[str]:
    """Momentum against plain at the larger (matched) learning rate."""
    pairs = [m for c in cells for m in c["matched"] if m["rel"] is not None]
    ext = [(f"{c['dataset']}/{c['leaves']}", v["rel"]) for c in cells
           for v in c["extended"].values() if v["rel"] is not None]
    if not pairs and not ext:
        return []
    inside = [m["rel"] for m in pairs if m["rate"] <= 1.0]
    above = [m for m in pairs if m["rate"] > 1.0]
    text = (f"**Momentum or a larger rate?** At the same nu, with the matched "
            f"plain rate nu / (1 - beta) at most 1, constant momentum beat plain "
            f"at that rate in {sum(v < -TIE_PCT for v in inside)} of {len(inside)} "
            f"pairs and lost in {sum(v > TIE_PCT for v in inside)} (median "
            f"{_pct(median(inside))}).")
    if above:
        cap = max(LEARNING_RATES)
        overshoot = [_inf(m["plain_test"]) > _inf(c["plain_by_lr"].get(cap))
                     for c in cells for m in c["matched"]
                     if m["rel"] is not None and m["rate"] > 1.0
                     and c["plain_by_lr"].get(cap) is not None]
        rates = ", ".join(sorted({f"{m['rate']:g}" for m in above}))
        text += (f" Above the Newton cap (plain at rate {rates}) momentum won "
                 f"{sum(m['rel'] < -TIE_PCT for m in above)} of {len(above)} "
                 "pairs, but that rate is no rival: plain at it ended worse than "
                 f"plain at {cap:g} in {sum(overshoot)} of "
                 f"{len(overshoot)} cells.")
    if ext:
        wins = [f"{where} {_pct(v)}" for where, v in ext if v < -TIE_PCT]
        losses = [f"{where} {_pct(v)}" for where, v in ext if v > TIE_PCT]
        text += (f" Each at its tuned rate (plain also allowed the matched "
                 f"rates), constant momentum was better in {len(wins)} of "
                 f"{len(ext)} cells ({', '.join(wins) or 'none'}) and worse in "
                 f"{len(losses)} ({', '.join(losses) or 'none'}).")
    return [text, ""]


def write_report(results_dir: Path) -> Path:
    """Regenerate ``report.md`` from every results file in a directory.

    Parameters
    ----------
    results_dir : Path
        Directory of ``<dataset>.json`` files.

    Returns
    -------
    Path
        The report written.
    """
    order = {name: i for i, name in enumerate(_data.DATASETS)}
    files = sorted(results_dir.glob("*.json"),
                   key=lambda p: (order.get(p.stem, len(order)), p.stem))
    tables = [t for t in (json.loads(p.read_text()) for p in files) if t["runs"]]
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / REPORT_NAME
    path.write_text(_format_report(tables))
    return path


# -- command line ----------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of :func:`main`."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks evidence",
        description="Acceleration evidence grid on one real table: momentum and "
        "its mechanisms against tuned plain boosting, selected on validation, "
        "reported on test. Resumable; writes benchmarks/results/evidence/.")
    methods = csv(str, tuple(METHODS))
    parser.add_argument("--dataset", choices=_data.DATASETS,
                        help="the table (evidence tables: "
                        + ", ".join(_data.EVIDENCE_DATASETS) + ")")
    for flag, kind, default, text in (
            ("leaves", csv(int), list(LEAVES),
             "comma-separated max_leaf_nodes (default: 2,4,8,31)"),
            ("methods", methods, None,
             "comma-separated methods (default: all: " + ", ".join(METHODS) + ")"),
            ("learning-rates", csv(float), list(LEARNING_RATES),
             "tuning grid (default: 0.03,0.1,0.3,1.0)"),
            ("max-iter", positive_int, MAX_ITER, "stages per fit"),
            ("n-threads", positive_int, N_THREADS, "threads per fit"),
            ("max-minutes", float, MAX_MINUTES, "stop between fits within this "
             f"budget; exit status {EXIT_INCOMPLETE} if fits are left"),
            ("n-samples", positive_int, 20_000,
             "training rows of a synthetic data set"),
            ("results-dir", Path, RESULTS_DIR, "results and report directory "
             "(default: benchmarks/results/evidence)")):
        parser.add_argument("--" + flag, type=kind, default=default, help=text
                            + ("" if "default:" in text else " (default: %(default)s)"))
    for flag, text in (
            ("retry-errors", "refit fits whose stored record is an error"),
            ("report-only", "only regenerate report.md from the JSON files"),
            ("list", "list the methods, their parameters and whether this "
             "accelboost can run them")):
        parser.add_argument("--" + flag, action="store_true", help=text)
    parser.add_argument("--refit", type=methods, default=[], metavar="METHODS",
                        help="refit these methods' fits made at another "
                        "accelboost commit (as the default's always are)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) one table's grid and regenerate the report.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when the grid is complete without errors, 1 when a fit failed, 3
        when the budget left fits to run.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        for method, params in METHODS.items():
            missing = _missing_params(method)
            print(f"{method:<24} {params if params is not None else 'defaults'}"
                  f"  [{'missing ' + ', '.join(missing) if missing else 'ok'}]")
        return 0
    if not args.report_only:
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
            refit=args.refit, command="python -m benchmarks evidence "
            + " ".join(argv), log=sys.stdout)
    print(f"report written to {write_report(args.results_dir)}")
    if args.report_only:
        return 0
    if summary["aborted"]:
        return 1
    return EXIT_INCOMPLETE if summary["remaining"] else 1 if summary["errors"] else 0
