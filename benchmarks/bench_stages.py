"""Long-fit benchmark: per-stage cost over a long fit, and stumps against
scikit-learn (issue 8, point 3 and a target).

What it measures
----------------
**long**: one ``AccelBoostRegressor`` of ``--n-stages`` stumps (default
20,000; ``max_leaf_nodes=2``, learning rate ``--long-learning-rate``, 0.01)
with early stopping on a held-out 10% of the training data
(``validation_fraction=0.1``) and ``n_iter_no_change`` equal to the number of
stages, so it scores every stage but never stops. Data: ggplot2's diamonds
table, all 53,940 rows, as :func:`benchmarks.bench_acceleration.load_dataset`
loads it. The estimator is not patched: it is fitted with ``verbose=1``,
which prints ``[stage/max_iter] seconds`` after each stage, and its output
goes to a stream that records when each line arrives. Two times per stage:

* **wall**: the time between consecutive progress lines (the first from the
  ``fit`` call, so it holds the binning), i.e. everything the fit loop does
  per stage: the tree, the scoring for early stopping, the stopping check;
* **printed**: the seconds the estimator prints, its own timing of the stage
  (today ``_fit_stage`` alone, without the scoring). They are printed to the
  millisecond, too coarse for stages of about a millisecond, so they are
  kept in the JSON results but not summarised.

It reports the median wall time per stage of the first and of the last
``--window`` stages (default 1,000) and their ratio, and the median of each
tenth of the fit. Target: the last window's time at most 1.2x the first's.

**hgb**: ``--hgb-stages`` stumps (default 3,000) with early stopping
(``validation_fraction=0.1``, ``n_iter_no_change`` = the number of stages, so
both run every stage) at learning rate ``--learning-rate`` (0.1), for
accelboost and scikit-learn's ``HistGradientBoostingRegressor`` with the same
settings (``benchmarks/_peers.py``: 255 bins, 20 samples per leaf, no L2,
the same ``random_state``), on diamonds' 80% training split (43,152 rows);
each fit's held-out MSE is computed on the other 20% (10,788 rows), so the
reader sees both fitted the same model. Target: accelboost's fit time at most
1.0x scikit-learn's.

Every fit runs in a fresh process (one per part, library and repeat) after a
warm-up fit of the same settings on 1,000 rows and 3 stages (Numba's cache
load or compilation, reported as ``compile_s``), with ``--n-threads`` threads
(default 2; scikit-learn's OpenMP pool capped by ``threadpoolctl`` and
``OMP_NUM_THREADS``). Medians over ``--repeats`` (default 3).

How to run
----------
From the repository root, on an otherwise idle machine (about 2 minutes on
2 cores, estimated and printed before it starts)::

    python -m benchmarks stages --json stages.json

A quick check (2,000 long stages with 200-stage windows, 300 stumps
against scikit-learn, one repeat)::

    python -m benchmarks stages --quick
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._child import run_child
from .bench_acceleration import (
    _csv,
    estimator_params,
    exit_status,
    heldout_loss,
    load_dataset,
    save_json,
)
from .bench_contention import DIAMONDS_ROWS, contention_data
from .bench_engine import (
    WARMUP_ITER,
    WARMUP_SAMPLES,
    _positive_int,
    _versions,
    machine_info,
)

SCHEMA_VERSION = 1
PARTS = ("long", "hgb")
N_STAGES = 20_000
WINDOW = 1_000
LONG_LEARNING_RATE = 0.01
HGB_STAGES = 3_000
LEARNING_RATE = 0.1
VALIDATION_FRACTION = 0.1
REPEATS = 3
N_THREADS = 2
QUICK = {"n_stages": 2_000, "window": 200, "hgb_stages": 300, "repeats": 1}
#: The issue's targets.
TARGET_LATE_RATIO = 1.2
TARGET_HGB_RATIO = 1.0
#: The libraries of the "hgb" part and their benchmark methods.
HGB_METHODS = {"accelboost": "zero", "sklearn": "sklearn"}
#: Rough per-stage seconds (stumps, ~50,000 rows, 2 threads) and per-process
#: seconds for the estimate.
_STAGE_S, _PROCESS_S = 1e-3, 4.0
_PROGRESS = re.compile(r"^\[(\d+)/\d+\]\s+([0-9.eE+-]+)s")


def stump_params(
    library: str, n_stages: int, learning_rate: float, n_threads: int, seed: int
) -> dict[str, Any]:
    """Estimator settings of both parts: stumps with early stopping that
    scores every stage on 10% of the training data and never stops.

    Parameters
    ----------
    library : {"accelboost", "sklearn"}
        The estimator.
    n_stages : int
        ``max_iter``, and ``n_iter_no_change``.
    learning_rate : float
        Learning rate.
    n_threads : int
        accelboost's ``n_threads`` (scikit-learn's pool is capped apart).
    seed : int
        ``random_state``.

    Returns
    -------
    params : dict
        Keyword arguments of ``AccelBoostRegressor`` or
        ``HistGradientBoostingRegressor``.
    """
    params = estimator_params(HGB_METHODS[library], "regression", learning_rate, 2,
                              n_stages, n_threads, seed)
    params.update(early_stopping=True, validation_fraction=VALIDATION_FRACTION,
                  n_iter_no_change=n_stages, scoring="loss")
    return params


def _estimator(library):
    if library == "accelboost":
        from accelboost import AccelBoostRegressor

        return AccelBoostRegressor
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor


# -- the long fit (child process) --------------------------------------------
class LineClock(io.TextIOBase):
    """A text stream that keeps its lines and the time each one ended."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.times: list[float] = []
        self._partial = ""

    def writable(self) -> bool:
        """Always True."""
        return True

    def write(self, text: str) -> int:
        """Store ``text``; stamp each completed line with the time."""
        now = time.perf_counter()
        *complete, self._partial = (self._partial + text).split("\n")
        for line in complete:
            self.lines.append(line)
            self.times.append(now)
        return len(text)


def stage_times(
    lines: Sequence[str], times: Sequence[float], start: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-stage wall and printed seconds from timed progress lines.

    Parameters
    ----------
    lines : sequence of str
        The estimator's output; lines not of the form ``[stage/max_iter]
        seconds...`` are ignored.
    times : sequence of float
        When each line ended (``time.perf_counter``).
    start : float
        When ``fit`` was called.

    Returns
    -------
    wall : ndarray of shape (n_stages,)
        Seconds between a stage's line and the previous one (or ``start``),
        spread evenly over the stages in between when lines were skipped.
    printed : ndarray of shape (n_stages,)
        The seconds printed for each stage (NaN for stages without a line).
    """
    stages, printed_at, stamps = [], [], []
    for line, stamp in zip(lines, times, strict=True):
        match = _PROGRESS.match(line.strip())
        if match:
            stages.append(int(match.group(1)))
            printed_at.append(float(match.group(2)))
            stamps.append(stamp)
    if not stages:
        raise RuntimeError("the estimator printed no '[stage/max_iter] seconds' "
                           "lines with verbose=1")
    wall = np.empty(stages[-1])
    printed = np.full(stages[-1], np.nan)
    previous_stage, previous_time = 0, start
    for stage, seconds, stamp in zip(stages, printed_at, stamps, strict=True):
        wall[previous_stage:stage] = (stamp - previous_time) / (stage - previous_stage)
        printed[stage - 1] = seconds
        previous_stage, previous_time = stage, stamp
    return wall, printed


def window_stats(per_stage: np.ndarray, window: int) -> dict[str, float | None]:
    """Median of the first and of the last ``window`` stages, their ratio,
    and the median of each tenth of the stages.

    Parameters
    ----------
    per_stage : ndarray of shape (n_stages,)
        Seconds per stage (NaNs ignored).
    window : int
        Stages per window.

    Returns
    -------
    stats : dict
        ``first_s``, ``last_s``, ``ratio`` (last / first) and
        ``tenths_s`` (10 medians, fewer with fewer than 10 stages).
    """
    first = float(np.nanmedian(per_stage[:window]))
    last = float(np.nanmedian(per_stage[-window:]))
    tenths = [float(np.nanmedian(part)) for part in
              np.array_split(per_stage, min(10, len(per_stage)))]
    return {"first_s": first, "last_s": last,
            "ratio": last / first if first > 0 else None, "tenths_s": tenths}


def measure_long(
    n_stages: int = N_STAGES,
    window: int = WINDOW,
    learning_rate: float = LONG_LEARNING_RATE,
    n_threads: int = N_THREADS,
    seed: int = 0,
    repeat: int = 0,
) -> dict[str, Any]:
    """Fit the long stump model with ``verbose=1`` and time every stage.

    Parameters
    ----------
    n_stages : int, default=20_000
        Stages (never stopped early).
    window : int, default=1_000
        Stages in the first and last windows.
    learning_rate : float, default=0.01
        Learning rate.
    n_threads : int, default=2
        Threads.
    seed : int, default=0
        Data and estimator seed.
    repeat : int, default=0
        Index of the repeat, recorded.

    Returns
    -------
    run : dict
        The configuration, ``status``, and for "ok": ``fit_s``,
        ``compile_s``, ``n_iter``, ``n_train``, ``wall`` (:func:`window_stats`
        of the wall times), and the per-stage seconds ``stage_wall_s`` and
        ``stage_printed_s``.
    """
    run: dict[str, Any] = {
        "part": "long", "library": "accelboost", "method": "accelboost",
        "dataset": "diamonds", "leaves": 2, "n_stages": n_stages, "window": window,
        "learning_rate": learning_rate, "n_threads": n_threads, "seed": seed,
        "repeat": repeat,
    }
    try:
        X, y, _ = contention_data(DIAMONDS_ROWS, seed)
        params = {**stump_params("accelboost", n_stages, learning_rate, n_threads,
                                 seed), "verbose": 1}
        run["params"], run["n_train"] = params, int(len(y))
        estimator = _estimator("accelboost")
        with contextlib.redirect_stdout(io.StringIO()):
            tic = time.perf_counter()
            estimator(**{**params, "max_iter": WARMUP_ITER}).fit(
                X[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES])
            run["compile_s"] = time.perf_counter() - tic
        clock = LineClock()
        model = estimator(**params)
        with contextlib.redirect_stdout(clock):
            tic = time.perf_counter()
            model.fit(X, y)
            run["fit_s"] = time.perf_counter() - tic
        wall, printed = stage_times(clock.lines, clock.times, tic)
        run["n_iter"] = int(model.n_iter_)
        run["wall"] = window_stats(wall, window)
        # 0.1 microsecond is plenty, and halves the size of the JSON.
        run["stage_wall_s"] = np.round(wall, 7).tolist()
        run["stage_printed_s"] = printed.tolist()
    except Exception as exc:  # reported, the other runs go on
        run.update(status="error", reason=f"{type(exc).__name__}: {exc}",
                   traceback=traceback.format_exc())
        return run
    run["status"] = "ok"
    return run


# -- accelboost against HistGradientBoosting (child process) ----------------
def measure_hgb(
    library: str,
    n_stages: int = HGB_STAGES,
    learning_rate: float = LEARNING_RATE,
    n_threads: int = N_THREADS,
    seed: int = 0,
    repeat: int = 0,
) -> dict[str, Any]:
    """Time one stump fit with early stopping and score it on held-out rows.

    Parameters
    ----------
    library : {"accelboost", "sklearn"}
        The estimator.
    n_stages : int, default=3_000
        Stages.
    learning_rate : float, default=0.1
        Learning rate.
    n_threads : int, default=2
        Threads (scikit-learn: the ``threadpoolctl`` cap).
    seed : int, default=0
        Split and estimator seed.
    repeat : int, default=0
        Index of the repeat, recorded.

    Returns
    -------
    run : dict
        The configuration, ``status``, and for "ok": ``fit_s``,
        ``fit_per_stage_s``, ``compile_s``, ``n_iter``, ``heldout_loss``
        (MSE), ``baseline_loss``, ``validation_loss`` (the last early-stopping
        score's loss, on the estimator's own validation rows), ``n_train``
        and ``n_test``.
    """
    from threadpoolctl import threadpool_limits

    run: dict[str, Any] = {
        "part": "hgb", "library": library, "method": library,
        "dataset": "diamonds", "leaves": 2, "n_stages": n_stages,
        "learning_rate": learning_rate, "n_threads": n_threads, "seed": seed,
        "repeat": repeat,
    }
    try:
        data = load_dataset("diamonds", seed=seed)
        params = stump_params(library, n_stages, learning_rate, n_threads, seed)
        run.update(params=params, n_train=int(len(data.y_train)),
                   n_test=int(len(data.y_test)))
        estimator = _estimator(library)
        with threadpool_limits(limits=n_threads):
            tic = time.perf_counter()
            estimator(**{**params, "max_iter": WARMUP_ITER}).fit(
                data.X_train[:WARMUP_SAMPLES], data.y_train[:WARMUP_SAMPLES])
            run["compile_s"] = time.perf_counter() - tic
            model = estimator(**params)
            tic = time.perf_counter()
            model.fit(data.X_train, data.y_train)
            run["fit_s"] = time.perf_counter() - tic
            prediction = model.predict(data.X_test)
        run["n_iter"] = int(model.n_iter_)
        run["fit_per_stage_s"] = run["fit_s"] / max(1, run["n_iter"])
        run["heldout_loss"] = heldout_loss("regression", data.y_test, prediction)
        run["baseline_loss"] = heldout_loss(
            "regression", data.y_test, np.full_like(data.y_test, data.y_train.mean()))
        # Both score "loss" as minus the half squared error, each on its own
        # validation split: recorded, not compared.
        run["validation_loss"] = -float(model.validation_score_[-1])
    except Exception as exc:  # reported, the other runs go on
        run.update(status="error", reason=f"{type(exc).__name__}: {exc}",
                   traceback=traceback.format_exc())
        return run
    run["status"] = "ok"
    return run


# -- the parent ---------------------------------------------------------------
def estimate_seconds(parts: Sequence[str], n_stages: int, hgb_stages: int,
                     repeats: int) -> float:
    """A rough wall-time estimate (about 1 ms a stump stage, 4 s a process).

    Parameters
    ----------
    parts : sequence of str
        Parts to run.
    n_stages : int
        Stages of the long fit.
    hgb_stages : int
        Stages of each "hgb" fit.
    repeats : int
        Repeats.

    Returns
    -------
    seconds : float
        Estimated wall time.
    """
    total = 0.0
    if "long" in parts:
        total += repeats * (_PROCESS_S + n_stages * _STAGE_S)
    if "hgb" in parts:
        total += repeats * len(HGB_METHODS) * (_PROCESS_S + hgb_stages * _STAGE_S)
    return total


def run_benchmark(
    *,
    parts: Sequence[str] = PARTS,
    n_stages: int = N_STAGES,
    window: int = WINDOW,
    long_learning_rate: float = LONG_LEARNING_RATE,
    hgb_stages: int = HGB_STAGES,
    learning_rate: float = LEARNING_RATE,
    repeats: int = REPEATS,
    n_threads: int = N_THREADS,
    seed: int = 0,
    timeout: float | None = None,
    command: str = "",
    log: Any = sys.stderr,
) -> dict[str, Any]:
    """Run the parts, one fresh process per fit.

    Parameters
    ----------
    parts : sequence of {"long", "hgb"}
        What to run.
    n_stages : int, default=20_000
        Stages of the long fit.
    window : int, default=1_000
        Stages per window (at most half of ``n_stages``).
    long_learning_rate : float, default=0.01
        Learning rate of the long fit.
    hgb_stages : int, default=3_000
        Stages of the fits against scikit-learn.
    learning_rate : float, default=0.1
        Their learning rate.
    repeats : int, default=3
        Fits per part and library.
    n_threads : int, default=2
        Threads.
    seed : int, default=0
        Data and estimator seed.
    timeout : float or None, default=None
        Per-process time limit in seconds.
    command : str, default=""
        The command line, recorded.
    log : file-like or None, default=sys.stderr
        Where the estimate and progress lines go (None: silent).

    Returns
    -------
    report : dict
        ``benchmark``, ``schema_version``, ``command``, ``config``,
        ``estimated_s``, ``elapsed_s``, ``machine``, ``versions``, ``runs``,
        ``summary`` and ``targets`` (see :func:`summarize`).
    """
    window = max(1, min(window, n_stages // 2))
    config = {"parts": list(parts), "n_stages": n_stages, "window": window,
              "long_learning_rate": long_learning_rate, "hgb_stages": hgb_stages,
              "learning_rate": learning_rate, "repeats": repeats,
              "n_threads": n_threads, "seed": seed,
              "validation_fraction": VALIDATION_FRACTION}
    estimate = estimate_seconds(parts, n_stages, hgb_stages, repeats)
    if log is not None:
        print(f"stages: estimated {estimate / 60:.1f} min (rough)", file=log,
              flush=True)
    started = time.perf_counter()
    runs = []
    for repeat in range(repeats):
        jobs = []
        if "long" in parts:
            jobs.append(("long", "accelboost", {
                "n_stages": n_stages, "window": window,
                "learning_rate": long_learning_rate}))
        if "hgb" in parts:
            jobs += [("hgb", library, {"library": library, "n_stages": hgb_stages,
                                       "learning_rate": learning_rate})
                     for library in HGB_METHODS]
        for part, library, spec in jobs:
            spec.update(n_threads=n_threads, seed=seed, repeat=repeat)
            # What the report and exit_status print, should the child die.
            known = {"part": part, "library": library, "method": library,
                     "dataset": "diamonds", "leaves": 2}
            run = {**known, **run_child(f"benchmarks.bench_stages:measure_{part}",
                                        spec, n_threads=n_threads, timeout=timeout)}
            runs.append(run)
            if log is not None:
                print(_progress(run), file=log, flush=True)
    summary, targets = summarize(runs)
    return {
        "benchmark": "stages", "schema_version": SCHEMA_VERSION,
        "command": command, "config": config, "estimated_s": estimate,
        "elapsed_s": time.perf_counter() - started, "machine": machine_info(),
        "versions": _versions(runs), "runs": runs, "summary": summary,
        "targets": targets,
    }


def _progress(run):
    head = f"[{run['part']}] {run['library']} repeat {run['repeat'] + 1}: "
    if run["status"] != "ok":
        return head + f"{run['status']}: {run.get('reason', '')}"
    if run["part"] == "long":
        return head + (f"{run['n_iter']} stages in {run['fit_s']:.1f} s, last/first "
                       f"{run['wall']['ratio']:.2f}")
    return head + (f"{run['n_iter']} stages in {run['fit_s']:.2f} s, held-out MSE "
                   f"{run['heldout_loss']:.5f}")


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(
    runs: Sequence[dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Medians over repeats, the accelboost / scikit-learn ratio, targets.

    Parameters
    ----------
    runs : sequence of dict
        Results of :func:`measure_long` and :func:`measure_hgb`.

    Returns
    -------
    summary : dict
        ``long`` (None without long runs): ``n_runs``, ``n_iter`` (fewest),
        and ``wall``: the medians over runs of ``first_s``, ``last_s`` and
        ``ratio`` (each run's own last / first) and of each tenth
        (``tenths_s``); ``hgb``: per library ``n_runs``,
        medians of ``fit_s``, ``fit_per_stage_s``, ``heldout_loss``,
        ``validation_loss``, ``compile_s`` and the fewest ``n_iter``, plus
        ``ratio_fit_s`` (accelboost's median fit time over scikit-learn's).
    targets : list of dict
        ``what``, ``value``, ``limit`` and ``met`` (None when not measured).
    """
    ok = [r for r in runs if r["status"] == "ok"]
    longs = [r for r in ok if r["part"] == "long"]
    summary: dict[str, Any] = {"long": None, "hgb": {}}
    if longs:
        summary["long"] = {"n_runs": len(longs),
                           "n_iter": min(r["n_iter"] for r in longs)}
        stats = [r["wall"] for r in longs]
        wall = {key: _median(s[key] for s in stats)
                for key in ("first_s", "last_s", "ratio")}
        wall["tenths_s"] = [_median(column) for column in
                            zip(*(s["tenths_s"] for s in stats), strict=True)]
        summary["long"]["wall"] = wall
    for library in HGB_METHODS:
        mine = [r for r in ok if r["part"] == "hgb" and r["library"] == library]
        if mine:
            entry: dict[str, Any] = {
                key: _median(r[key] for r in mine)
                for key in ("fit_s", "fit_per_stage_s", "heldout_loss",
                            "validation_loss", "compile_s")
            }
            entry.update(n_runs=len(mine), n_iter=min(r["n_iter"] for r in mine))
            summary["hgb"][library] = entry
    hgb = summary["hgb"]
    summary["hgb_ratio_fit_s"] = (
        hgb["accelboost"]["fit_s"] / hgb["sklearn"]["fit_s"]
        if "accelboost" in hgb and "sklearn" in hgb else None
    )
    late = summary["long"]["wall"]["ratio"] if summary["long"] else None
    targets = [
        _target("long fit: last / first window, wall per stage", late,
                TARGET_LATE_RATIO),
        _target("stumps with early stopping: accelboost / HistGradientBoosting "
                "fit time", summary["hgb_ratio_fit_s"], TARGET_HGB_RATIO),
    ]
    return summary, targets


def _target(what, value, limit):
    return {"what": what, "value": value, "limit": limit,
            "met": None if value is None else value <= limit}


# -- report ---------------------------------------------------------------------
def format_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown.

    Parameters
    ----------
    report : dict
        What :func:`run_benchmark` returned.

    Returns
    -------
    text : str
        Markdown.
    """
    config, machine, summary = report["config"], report["machine"], report["summary"]
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v)
    lines = [
        "# Long fits: per-stage time, and stumps against HistGradientBoosting",
        "",
        f"Command: `{report.get('command') or 'python -m benchmarks stages'}`",
        "",
        f"- {config['n_threads']} thread(s); medians of {config['repeats']} "
        "fit(s), each in a fresh process after a warm-up fit; early stopping on "
        f"{100 * config['validation_fraction']:.0f}% of the training rows, "
        "never triggered.",
        f"- Machine: {machine.get('cpu_model') or machine.get('processor') or '?'}, "
        f"{machine.get('cpu_count', '?')} CPUs; {versions}.",
        f"- Wall time {report.get('elapsed_s', 0) / 60:.1f} min (estimated "
        f"{report.get('estimated_s', 0) / 60:.1f}).",
    ]
    if "long" in config["parts"]:
        lines += _long_section(config, summary["long"])
    if "hgb" in config["parts"]:
        lines += _hgb_section(config, summary)
    lines.append("")
    for target in report["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
        value = "—" if target["value"] is None else f"{target['value']:.2f}x"
        lines.append(f"- target: {target['what']} <= {target['limit']:g}x: "
                     f"{value}, {verdict}")
    for run in report["runs"]:
        if run["status"] != "ok":
            lines.append(f"- {run['status']}: {run['part']} {run['library']} repeat "
                         f"{run['repeat'] + 1}: {run.get('reason', '')}")
    return "\n".join(lines) + "\n"


def _ms(value):
    return "—" if value is None else f"{value * 1e3:.3g}"


def _long_section(config, long):
    window = config["window"]
    lines = ["", f"## {config['n_stages']:,} stumps, learning rate "
             f"{config['long_learning_rate']:g}, diamonds ({DIAMONDS_ROWS:,} rows)",
             ""]
    if long is None:
        return lines + ["No long fit succeeded."]
    stats = long["wall"]
    ratio = "—" if stats["ratio"] is None else f"{stats['ratio']:.2f}×"
    lines += [f"| ms per stage (wall, scoring included) | first {window:,} stages "
              f"| last {window:,} stages | last / first |", "|---|---|---|---|",
              f"| median | {_ms(stats['first_s'])} | {_ms(stats['last_s'])} | "
              f"{ratio} |", "",
              "Median ms per stage in each tenth of the fit: "
              + ", ".join(_ms(v) for v in stats["tenths_s"]) + "."]
    if long["n_iter"] < config["n_stages"]:
        lines.append(f"\nnote: a fit stopped after {long['n_iter']} stages")
    return lines


def _hgb_section(config, summary):
    lines = ["", f"## {config['hgb_stages']:,} stumps with early stopping, learning "
             f"rate {config['learning_rate']:g}, diamonds' 80% training split "
             "(held-out MSE on the other 20%)", "",
             "| library | fit s | ms/stage | stages | held-out MSE | × HGB |",
             "|---|---|---|---|---|---|"]
    labels = {"accelboost": "accelboost", "sklearn": "sklearn HGB"}
    for library, label in labels.items():
        entry = summary["hgb"].get(library)
        if entry is None:
            lines.append(f"| {label} | failed |" + " |" * 4)
            continue
        ratio = summary["hgb_ratio_fit_s"] if library == "accelboost" else 1.0
        lines.append(
            f"| {label} | {entry['fit_s']:.2f} | {_ms(entry['fit_per_stage_s'])} | "
            f"{entry['n_iter']} | {entry['heldout_loss']:.5f} | "
            + ("—" if ratio is None else f"{ratio:.2f}×") + " |")
    return lines


# -- command line ---------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m benchmarks stages``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks stages",
        description="Per-stage time over a long stump fit with early stopping, "
        "and 3,000 stumps against scikit-learn's HistGradientBoosting.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="2,000 long stages (200-stage windows), 300 stumps "
                        "against HGB, one repeat (explicit options still apply)")
    parser.add_argument("--parts", type=_csv(str, PARTS), default=list(PARTS),
                        help="comma-separated, of long,hgb (default: both)")
    parser.add_argument("--n-stages", type=_positive_int, default=None,
                        help=f"stages of the long fit (default: {N_STAGES})")
    parser.add_argument("--window", type=_positive_int, default=None,
                        help=f"stages in its first and last windows (default: "
                        f"{WINDOW}, at most half the stages)")
    parser.add_argument("--long-learning-rate", type=float,
                        default=LONG_LEARNING_RATE,
                        help="learning rate of the long fit (default: %(default)s)")
    parser.add_argument("--hgb-stages", type=_positive_int, default=None,
                        help=f"stages against HGB (default: {HGB_STAGES})")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE,
                        help="learning rate against HGB (default: %(default)s)")
    parser.add_argument("--repeats", type=_positive_int, default=None,
                        help=f"fits per part and library (default: {REPEATS})")
    parser.add_argument("--n-threads", type=_positive_int, default=N_THREADS,
                        help="threads (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-process time limit in seconds (default: none)")
    parser.add_argument("--json", metavar="PATH", type=Path, default=None,
                        help="write raw per-stage times, summary, machine and "
                        "versions here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 when every fit succeeded, 1 otherwise.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    quick = QUICK if args.quick else {}

    def pick(key, default):
        value = getattr(args, key)
        return value if value is not None else quick.get(key, default)

    if args.long_learning_rate <= 0 or args.learning_rate <= 0:
        parser.error("learning rates must be positive")
    command = "python -m benchmarks stages " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    report = run_benchmark(
        parts=args.parts, n_stages=pick("n_stages", N_STAGES),
        window=pick("window", WINDOW), long_learning_rate=args.long_learning_rate,
        hgb_stages=pick("hgb_stages", HGB_STAGES), learning_rate=args.learning_rate,
        repeats=pick("repeats", REPEATS), n_threads=args.n_threads, seed=args.seed,
        timeout=args.timeout, command=command.strip(),
    )
    print(format_markdown(report))
    if args.json is not None:
        save_json(report, args.json)
        print(f"results written to {args.json}")
    return exit_status(report["runs"])


if __name__ == "__main__":
    sys.exit(main())
