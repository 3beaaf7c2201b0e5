"""Contention benchmark: fit time with one core kept busy (issue 8, point 4).

What it measures
----------------
Fit seconds per tree of squared-error regression at several sizes (default
2,000, 43,000 and 1,000,000 rows), with 31-leaf trees and stumps, with one
thread and with the default thread count, on an idle machine and with a
busy-loop process occupying one core, for accelboost, LightGBM and XGBoost
configured alike (``benchmarks/_peers.py``: 255 bins, at most ``leaves``
leaves, 20 samples per leaf, no L2, no subsampling, early stopping off,
learning rate 0.1).

* **Data.** Sizes up to the 53,940 rows of ggplot2's diamonds table use that
  table as :func:`benchmarks.bench_acceleration.load_dataset` loads it (9
  features, target ``log(price)``; its training and held-out rows together)
  subsampled to the size without replacement; larger sizes use
  :func:`benchmarks.bench_engine.make_synthetic` (28 features).
* **Threads.** ``1`` or any count sets the library's thread parameter and
  caps the process's OpenMP/BLAS pools at it (``threadpoolctl``, entered
  around that setting's fits only); ``default`` is the library's all-cores
  setting: accelboost's ``n_threads=None``, and for the peers the number of
  CPUs the process may use (``n_jobs``), with no pool cap. Every setting is
  a per-estimator parameter, so one process can switch between them.
* **Load.** ``idle``: nothing else of ours runs. ``busy``: a separate
  process runs a pure Python ``while True: pass`` pinned to one core
  (``--busy-core``, default 1; see :mod:`benchmarks._busy`), started before
  the configuration's process and killed after it. The measured process is
  not pinned. The loop's CPU share is recorded, to show it did spin.
* **One fresh process per configuration** (library x rows x leaves x load),
  **its thread settings interleaved**: it loads the data, fits once on 1,000
  rows and 3 trees with each thread setting (the warm-up: Numba's cache
  load, or compilation if the cache is cold, reported as ``compile_s`` and
  not counted), then runs ``--repeats`` rounds of one fit per thread setting
  (1, default, 1, default, ...) with ``--n-trees`` trees, timing each
  ``fit`` (binning included). Fit seconds per tree is the fit time over the
  trees fitted. On a shared machine the speed of a core drifts by tens of
  percent from one minute (or process) to the next; interleaving exposes
  the settings of a ratio to the same drift. Each (configuration, thread
  setting) is still one run in the JSON, with the process's ``pid``, the
  settings it was ``interleaved_with`` (their order in a round) and the
  ``sequence`` number of each of its timed fits in the process.

Report
------
A Markdown table (stdout) of the median fit milliseconds per tree of every
configuration, with per library, size and tree size: the idle speed-up from
1 thread to each other thread setting (``idle 1 / idle T``) and the ratio
``busy T / busy 1``, and the issue's target: with one core busy, accelboost
with default threads at most 1.3x its own one-thread time, at every size.
``--json PATH`` writes every raw time, the summary, the ratios and targets,
the machine and the library versions.

How to run
----------
From the repository root, on an otherwise idle machine (the full grid, 3
libraries x 3 sizes x 2 leaves x 2 loads = 36 processes, each timing 3
rounds of 2 thread settings, takes an estimate of 18 minutes on 2 cores,
printed before it starts)::

    python -m benchmarks contention --json contention.json

A quick check (2,000 and 43,000 rows, 20 trees, one repeat; about
2 minutes, nearly all of it starting 24 processes)::

    python -m benchmarks contention --quick
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _peers
from ._busy import BUSY_CORE, busy_core, pick_core
from ._child import run_child
from .bench_acceleration import (
    BUSY_SHARE,
    _csv,
    _n_trees_param,
    estimator_params,
    exit_status,
    load_dataset,
    save_json,
)
from .bench_engine import (
    WARMUP_ITER,
    WARMUP_SAMPLES,
    _cpu_seconds,
    _machine_busy_seconds,
    _numba_counts,
    _positive_int,
    _versions,
    machine_info,
    make_synthetic,
)

SCHEMA_VERSION = 1
SIZES = (2_000, 43_000, 1_000_000)
LEAVES = (31, 2)
THREADS = (1, "default")
LOADS = ("idle", "busy")
LIBRARIES = ("accelboost", "lightgbm", "xgboost")
#: Libraries this benchmark can run, and the benchmark method of each.
METHOD = {"accelboost": "zero", "lightgbm": "lightgbm", "xgboost": "xgboost",
          "sklearn": "sklearn"}
#: Trees per fit by size: sized for about 18 minutes for the full grid.
N_TREES = {2_000: 300, 43_000: 300, 1_000_000: 100}
REPEATS = 3
LEARNING_RATE = 0.1
#: Sizes up to this many rows use the diamonds table, larger ones synthetic.
DIAMONDS_ROWS = 53_940
QUICK = {"sizes": (2_000, 43_000), "n_trees": 20, "repeats": 1}
#: The issue's target: busy default-threads / busy 1-thread, accelboost.
TARGET_BUSY_RATIO = 1.3
#: A busy loop with less CPU than this share of its wall time did not spin.
MIN_BUSY_SHARE = 0.8
_THREAD_PARAM = {"accelboost": "n_threads", "lightgbm": "n_jobs",
                 "xgboost": "n_jobs"}


def default_n_trees(n_samples: int) -> int:
    """Trees per fit for a size: :data:`N_TREES`, else 100 from 500,000 rows
    and 300 below.

    Parameters
    ----------
    n_samples : int
        Training rows.

    Returns
    -------
    n_trees : int
        Trees per fit.
    """
    if n_samples in N_TREES:
        return N_TREES[n_samples]
    return 100 if n_samples >= 500_000 else 300


def usable_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- data and one configuration (child process) ------------------------------
def contention_data(
    n_samples: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """The regression data of a size (see the module docstring).

    Parameters
    ----------
    n_samples : int
        Rows wanted.
    seed : int, default=0
        Seed of the subsample or of the synthetic rows.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features, float64.
    y : ndarray of shape (n_samples,)
        Targets.
    name : str
        "diamonds" or "synthetic_regression".
    """
    if n_samples > DIAMONDS_ROWS:
        X, y = make_synthetic("regression", n_samples, seed=seed)
        return X, y, "synthetic_regression"
    table = load_dataset("diamonds", seed=seed)
    X = np.concatenate([table.X_train, table.X_test])
    y = np.concatenate([table.y_train, table.y_test])
    rows = np.sort(np.random.RandomState(seed).choice(len(y), n_samples,
                                                      replace=False))
    return np.ascontiguousarray(X[rows]), y[rows], "diamonds"


def thread_params(library: str, threads: int | str) -> tuple[int, dict[str, Any]]:
    """Thread count and thread keyword argument of a thread setting.

    Parameters
    ----------
    library : str
        A key of :data:`METHOD`.
    threads : int or "default"
        The setting.

    Returns
    -------
    n_threads : int
        The threads the library will use.
    params : dict
        The estimator's thread keyword (empty for scikit-learn, which has
        none: its pool is capped by the caller).
    """
    n_threads = usable_cpus() if threads == "default" else int(threads)
    key = _THREAD_PARAM.get(library)
    if key is None:
        return n_threads, {}
    if threads == "default" and library == "accelboost":
        return n_threads, {key: None}
    return n_threads, {key: n_threads}


def measure(
    library: str,
    n_samples: int,
    leaves: int,
    threads: Sequence[int | str],
    n_trees: int,
    repeats: int = REPEATS,
    load: str = "idle",
    seed: int = 0,
) -> dict[str, Any]:
    """Warm up, then time ``repeats`` rounds of one fit per thread setting.

    Meant to run in a fresh process (:func:`benchmarks._child.run_child`):
    the thread settings of one configuration, interleaved in one process.

    Parameters
    ----------
    library : str
        A key of :data:`METHOD`.
    n_samples : int
        Training rows.
    leaves : int
        Leaves per tree at most.
    threads : sequence of int or "default"
        Thread settings (see :func:`thread_params`), in their order in a
        round.
    n_trees : int
        Trees per fit.
    repeats : int, default=3
        Rounds: timed fits per thread setting.
    load : {"idle", "busy"}, default="idle"
        Recorded only: the parent runs the busy loop.
    seed : int, default=0
        Data and estimator seed.

    Returns
    -------
    result : dict
        ``runs``: one run per thread setting, with the configuration,
        ``threads`` (the setting), ``interleaved_with`` (all the settings, in
        their order in a round), ``pid`` (this process), ``status`` ("ok" or
        "error", with ``reason``; one error fails every setting), and for
        "ok": per-repeat lists ``fit_s``, ``fit_per_tree_s``,
        ``n_trees_fitted``, ``fit_cpu_s``, ``others_cpu_share`` and
        ``sequence`` (the fit's index among the process's timed fits); and
        ``compile_s`` (this setting's warm-up), ``data_s``, ``n_features``,
        ``dataset``, ``n_threads_used``, ``params``, ``library_version`` and,
        for accelboost, ``numba``.
    """
    settings = list(threads)
    base: dict[str, Any] = {
        "library": library, "method": library, "n_samples": n_samples,
        "leaves": leaves, "load": load, "n_trees": n_trees, "repeats": repeats,
        "seed": seed, "learning_rate": LEARNING_RATE,
        "dataset": "diamonds" if n_samples <= DIAMONDS_ROWS else
        "synthetic_regression", "interleaved_with": settings, "pid": os.getpid(),
    }
    try:
        outs = _timed_fits(library, n_samples, leaves, settings, n_trees,
                           repeats, seed)
    except Exception as exc:  # reported, the other configurations go on
        error = {"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                 "traceback": traceback.format_exc()}
        return {"runs": [{**base, "threads": t, **error} for t in settings]}
    return {"runs": [{**base, "threads": t, **out, "status": "ok"}
                     for t, out in zip(settings, outs, strict=True)]}


def _pool_limit(threads, n_threads):
    """The OpenMP/BLAS cap of a thread setting, set on entering ``with``."""
    if threads == "default":
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n_threads)  # applied when constructed


def _timed_fits(library, n_samples, leaves, settings, n_trees, repeats, seed):
    tic = time.perf_counter()
    X, y, dataset = contention_data(n_samples, seed)
    shared = {"dataset": dataset, "data_s": time.perf_counter() - tic,
              "n_features": int(X.shape[1])}
    estimator = _peers.LIBRARIES[library].factory("regression")
    shared["library_version"] = _peers.library_version(library)
    outs = []
    for threads in settings:  # warm-up: each setting's first fit
        n_threads, thread_kw = thread_params(library, threads)
        params = estimator_params(METHOD[library], "regression", LEARNING_RATE,
                                  leaves, n_trees, n_threads, seed)
        params.update(thread_kw)
        warm = {**params, **_n_trees_param(library, WARMUP_ITER)}
        before = _numba_counts()
        with _pool_limit(threads, n_threads):
            tic = time.perf_counter()
            estimator(**warm).fit(X[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES])
            compile_s = time.perf_counter() - tic
        after = _numba_counts()
        outs.append({**shared, "params": params, "n_threads_used": n_threads,
                     "compile_s": compile_s, "fits": [], "sequence": [],
                     "numba": {"warmup_cache_hits": after["cache_hits"]
                               - before["cache_hits"],
                               "warmup_cache_misses": after["cache_misses"]
                               - before["cache_misses"],
                               "signatures_compiled_in_fit": 0}})
    sequence = 0
    for _ in range(repeats):  # rounds: one fit per setting, in turn
        for threads, out in zip(settings, outs, strict=True):
            before = _numba_counts()["signatures"]
            with _pool_limit(threads, out["n_threads_used"]):
                out["fits"].append(_one_fit(estimator, out["params"], library, X, y))
            out["numba"]["signatures_compiled_in_fit"] += (
                _numba_counts()["signatures"] - before)
            out["sequence"].append(sequence)
            sequence += 1
    for out in outs:
        fits = out.pop("fits")
        for key in fits[0]:
            out[key] = [fit[key] for fit in fits]
        if library == "accelboost":
            import numba

            out["numba"]["num_threads"] = numba.config.NUMBA_NUM_THREADS
        else:
            del out["numba"]
    return outs


def _one_fit(estimator, params, library, X, y):
    model = estimator(**params)
    cpu, busy = _cpu_seconds(), _machine_busy_seconds()
    tic = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - tic
    fit_cpu = _cpu_seconds() - cpu
    busy_after = _machine_busy_seconds()
    others = None
    if busy is not None and busy_after is not None:
        # CPU the rest of the machine (the busy loop included) took meanwhile.
        others = max(0.0, busy_after - busy - fit_cpu) / (fit_s * (os.cpu_count() or 1))
    fitted = _peers.fitted_iterations(library, model)
    return {"fit_s": fit_s, "fit_per_tree_s": fit_s / max(1, fitted),
            "n_trees_fitted": fitted, "fit_cpu_s": fit_cpu,
            "others_cpu_share": others}


# -- the parent ---------------------------------------------------------------
#: Rough cost model of :func:`estimate_seconds`, from the README's runs on 2
#: cores of an AMD EPYC machine: seconds per row and feature of one tree on
#: one thread (31 leaves), the share of that a stump costs, fixed seconds per
#: tree, binning seconds per row, and per process (start, imports, warm-up,
#: diamonds) plus synthetic data seconds per row.
_COST = {"row_feature": 6.4e-9, "stump_share": 0.35,
         "per_tree": {31: 2e-3, 2: 3e-4}, "binning_row": 5e-7,
         "process": 4.0, "synthetic_row": 1.5e-6}


def estimate_seconds(
    sizes: Sequence[int],
    leaves: Sequence[int],
    threads: Sequence[int | str],
    loads: Sequence[str],
    libraries: Sequence[str],
    n_trees: dict[int, int],
    repeats: int,
) -> float:
    """A rough estimate of a run's wall time (cost model ``_COST``).

    One process per (library, size, leaves, load) runs every thread
    setting. A busy core leaves the fit one core fewer; everything else is
    scaled from accelboost's figures on the README's machine.

    Parameters
    ----------
    sizes, leaves, threads, loads, libraries : sequence
        The grid.
    n_trees : dict
        Trees per fit by size.
    repeats : int
        Timed fits per configuration.

    Returns
    -------
    seconds : float
        Estimated wall time.
    """
    cpus = usable_cpus()
    total = 0.0
    for size in sizes:
        features = 9 if size <= DIAMONDS_ROWS else 28
        setup = _COST["process"] + (
            0.0 if size <= DIAMONDS_ROWS else _COST["synthetic_row"] * size
        )
        for n_leaves in leaves:
            share = 1.0 if n_leaves > 2 else _COST["stump_share"]
            per_tree = _COST["per_tree"].get(n_leaves, _COST["per_tree"][31])
            work = _COST["row_feature"] * size * features * share
            for load in loads:  # one process, every thread setting
                usable = max(1, cpus - 1) if load == "busy" else cpus
                fits = sum(
                    n_trees[size] * (per_tree + work / max(1, min(
                        cpus if t == "default" else int(t), usable)))
                    + _COST["binning_row"] * size for t in threads)
                total += len(libraries) * (setup + repeats * fits)
    return total


def run_benchmark(
    *,
    sizes: Sequence[int] = SIZES,
    leaves: Sequence[int] = LEAVES,
    threads: Sequence[int | str] = THREADS,
    loads: Sequence[str] = LOADS,
    libraries: Sequence[str] = LIBRARIES,
    n_trees: dict[int, int] | None = None,
    repeats: int = REPEATS,
    seed: int = 0,
    busy_core_id: int = BUSY_CORE,
    timeout: float | None = None,
    command: str = "",
    log: Any = sys.stderr,
) -> dict[str, Any]:
    """Run every configuration, one fresh process each.

    Parameters
    ----------
    sizes : sequence of int
        Training rows.
    leaves : sequence of int
        Leaves per tree.
    threads : sequence of int or "default"
        Thread settings.
    loads : sequence of {"idle", "busy"}
        Machine loads.
    libraries : sequence of str
        Keys of :data:`METHOD`; those not installed are skipped and reported.
    n_trees : dict or None, default=None
        Trees per fit by size (missing sizes: :func:`default_n_trees`).
    repeats : int, default=3
        Rounds of timed fits (one per thread setting) per configuration.
    seed : int, default=0
        Data and estimator seed.
    busy_core_id : int, default=1
        Core the busy loop is pinned to.
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
        ``estimated_s``, ``elapsed_s``, ``machine``, ``versions``,
        ``skipped``, ``runs``, ``summary``, ``ratios`` and ``targets`` (see
        :func:`summarize` and :func:`compare`).
    """
    trees = {size: (n_trees or {}).get(size, default_n_trees(size)) for size in sizes}
    skipped = {}
    for library in libraries:
        ok, reason = _peers.is_available(library)
        if not ok:
            skipped[library] = reason
    runnable = [lib for lib in libraries if lib not in skipped]
    core = pick_core(busy_core_id)
    config = {
        "sizes": list(sizes), "leaves": list(leaves), "threads": list(threads),
        "loads": list(loads), "libraries": runnable, "n_trees": trees,
        "repeats": repeats, "seed": seed, "busy_core": core,
        "learning_rate": LEARNING_RATE, "warmup_rows": WARMUP_SAMPLES,
        "warmup_trees": WARMUP_ITER, "diamonds_rows": DIAMONDS_ROWS,
    }
    estimate = estimate_seconds(sizes, leaves, threads, loads, runnable, trees,
                                repeats)
    processes = len(sizes) * len(leaves) * len(runnable) * len(loads)
    total = processes * len(threads)
    _say(log, f"contention: {processes} processes x {repeats} round(s) of "
         f"{len(threads)} interleaved thread setting(s); estimated "
         f"{estimate / 60:.1f} min (rough, 2-core reference machine)")
    for library, reason in skipped.items():
        _say(log, f"{library}: {reason}; skipped")
    started = time.perf_counter()
    runs = []
    for size in sizes:
        for n_leaves in leaves:
            for library in runnable:
                for load in loads:
                    spec = {"library": library, "n_samples": size,
                            "leaves": n_leaves, "threads": list(threads),
                            "load": load, "n_trees": trees[size],
                            "repeats": repeats, "seed": seed}
                    for run in _run_config(spec, core, timeout):
                        runs.append(run)
                        _say(log, f"[{len(runs)}/{total}] " + _progress(run))
    summary = summarize(runs)
    ratios, targets = compare(summary)
    return {
        "benchmark": "contention", "schema_version": SCHEMA_VERSION,
        "command": command, "config": config, "estimated_s": estimate,
        "elapsed_s": time.perf_counter() - started, "machine": machine_info(),
        "versions": _versions(runs), "skipped": skipped, "runs": runs,
        "summary": summary, "ratios": ratios, "targets": targets,
    }


def _run_config(spec, core, timeout):
    """One child for all of ``spec["threads"]``; a run per thread setting."""
    target = "benchmarks.bench_contention:measure"
    # What exit_status prints, should the child die before reporting. No
    # environment cap on the pools: the child caps them per fit.
    known = {"method": spec["library"], "learning_rate": LEARNING_RATE,
             "dataset": "diamonds" if spec["n_samples"] <= DIAMONDS_ROWS
             else "synthetic_regression", "interleaved_with": spec["threads"]}
    loaded = busy_core(core) if spec["load"] == "busy" else contextlib.nullcontext()
    with loaded as busy:
        result = run_child(target, spec, n_threads=None, timeout=timeout)
        summary = None if busy is None else busy.summary()
    runs = result.get("runs") or [{**result, "threads": t} for t in spec["threads"]]
    return [{**known, **run, "busy": summary} for run in runs]


def _say(log, text):
    if log is not None:
        print(text, file=log, flush=True)


def _progress(run):
    head = (f"{run['library']} {run['n_samples']:,} rows, {run['leaves']} leaves, "
            f"threads {run['threads']}, {run['load']}: ")
    if run["status"] != "ok":
        return head + f"{run['status']}: {run.get('reason', '')}"
    per_tree = statistics.median(run["fit_per_tree_s"])
    return head + f"{per_tree * 1e3:.3f} ms/tree, compile {run['compile_s']:.2f} s"


# -- analysis -----------------------------------------------------------------
def _key(entry):
    return (entry["library"], entry["n_samples"], entry["leaves"],
            str(entry["threads"]), entry["load"])


def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians over the repeats of each configuration.

    Parameters
    ----------
    runs : sequence of dict
        The ``runs`` of :func:`measure`, one per configuration and thread
        setting (with ``busy`` added by the parent).

    Returns
    -------
    summary : list of dict
        One entry per run: ``library``, ``n_samples``, ``dataset``,
        ``leaves``, ``threads``, ``load``, ``status``, ``n_repeats``, and
        for "ok" the medians ``fit_per_tree_s``, ``fit_s``,
        ``fit_cpu_per_wall`` and ``others_cpu_share``, with ``compile_s``,
        ``n_trees_fitted`` (the fewest) and ``busy_cpu_share``.
    """
    summary = []
    for run in runs:
        entry = {key: run.get(key) for key in ("library", "n_samples", "dataset",
                                                 "leaves", "threads", "load",
                                                 "n_trees", "status")}
        if run["status"] != "ok":
            entry["reason"] = run.get("reason", "")
            summary.append(entry)
            continue
        entry["n_repeats"] = len(run["fit_s"])
        entry["fit_per_tree_s"] = statistics.median(run["fit_per_tree_s"])
        entry["fit_s"] = statistics.median(run["fit_s"])
        entry["fit_cpu_per_wall"] = statistics.median(
            c / w for c, w in zip(run["fit_cpu_s"], run["fit_s"], strict=True)
        )
        shares = [s for s in run.get("others_cpu_share", []) if s is not None]
        entry["others_cpu_share"] = statistics.median(shares) if shares else None
        entry["compile_s"] = run.get("compile_s")
        entry["n_trees_fitted"] = min(run["n_trees_fitted"])
        entry["busy_cpu_share"] = (run.get("busy") or {}).get("cpu_share")
        summary.append(entry)
    return summary


def compare(
    summary: Sequence[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Thread ratios per library, size and tree size, and the targets.

    Parameters
    ----------
    summary : sequence of dict
        What :func:`summarize` returned.

    Returns
    -------
    ratios : list of dict
        For each (library, n_samples, leaves) and each thread setting ``T``
        other than 1: ``idle_speedup`` (idle 1-thread time per tree over idle
        ``T``), ``busy_over_1thread`` (busy ``T`` over busy 1-thread) and
        ``busy_over_idle`` (busy ``T`` over idle ``T``); None where a run is
        missing or failed.
    targets : list of dict
        accelboost's ``busy_over_1thread`` for ``T = "default"`` at each
        size and tree size, with ``limit`` (1.3) and ``met``.
    """
    per_tree = {_key(e): e["fit_per_tree_s"] for e in summary if e["status"] == "ok"}
    groups = dict.fromkeys(
        (e["library"], e["n_samples"], e["leaves"]) for e in summary
    )
    settings = list(dict.fromkeys(str(e["threads"]) for e in summary))
    ratios, targets = [], []
    for library, size, leaves in groups:
        times = {(t, load): per_tree.get((library, size, leaves, t, load))
                 for t in (*settings, "1") for load in LOADS}
        for threads in settings:
            if threads == "1":
                continue
            row = {"library": library, "n_samples": size, "leaves": leaves,
                   "threads": threads,
                   "idle_speedup": _ratio(times["1", "idle"],
                                          times[threads, "idle"]),
                   "busy_over_1thread": _ratio(times[threads, "busy"],
                                               times["1", "busy"]),
                   "busy_over_idle": _ratio(times[threads, "busy"],
                                            times[threads, "idle"])}
            ratios.append(row)
            if library == "accelboost" and threads == "default":
                ratio = row["busy_over_1thread"]
                targets.append({
                    "library": library, "n_samples": size, "leaves": leaves,
                    "what": "busy default threads / busy 1 thread",
                    "ratio": ratio, "limit": TARGET_BUSY_RATIO,
                    "met": None if ratio is None else ratio <= TARGET_BUSY_RATIO,
                })
    return ratios, targets


def _ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


# -- report ---------------------------------------------------------------------
def _label(threads):
    return "default thr" if str(threads) == "default" else f"{threads} thr"


def format_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: settings, one table, targets and notes.

    Parameters
    ----------
    report : dict
        What :func:`run_benchmark` returned.

    Returns
    -------
    text : str
        Markdown.
    """
    config, machine = report["config"], report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v)
    trees = ", ".join(f"{n:,} trees at {int(s):,} rows"
                      for s, n in config["n_trees"].items())
    lines = [
        "# Contention: fit time with one core busy",
        "",
        f"Command: `{report.get('command') or 'python -m benchmarks contention'}`",
        "",
        f"- {trees}; learning rate {config['learning_rate']:g}; median of "
        f"{config['repeats']} fit(s) per configuration; the thread settings of a "
        "configuration and load share one fresh process, their fits interleaved "
        "(1, default, 1, ...) after a warm-up fit with each.",
        f"- busy: a Python `while True: pass` process pinned to core "
        f"{config['busy_core']}; default thr: accelboost `n_threads=None`, "
        "peers all CPUs.",
        f"- Machine: {machine.get('cpu_model') or machine.get('processor') or '?'}, "
        f"{machine.get('cpu_count', '?')} CPUs; {versions}.",
        f"- Wall time {report.get('elapsed_s', 0) / 60:.1f} min (estimated "
        f"{report.get('estimated_s', 0) / 60:.1f}).",
        "",
    ]
    lines += _table(report)
    lines += ["", *_notes(report)]
    return "\n".join(lines) + "\n"


def _table(report):
    config = report["config"]
    threads = [str(t) for t in config["threads"]]
    others = [t for t in threads if t != "1"]
    per_tree = {_key(e): e for e in report["summary"]}
    ratios = {(r["library"], r["n_samples"], r["leaves"], r["threads"]): r
              for r in report["ratios"]}
    headers = ["rows", "data", "leaves", "library"]
    headers += [f"{load} {_label(t)} ms/tree" for load in config["loads"]
                for t in threads]
    if "1" in threads:
        headers += [f"idle speed-up 1→{t}" for t in others]
        headers += [f"busy {t} / busy 1" for t in others]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for size in config["sizes"]:
        for leaves in config["leaves"]:
            for library in config["libraries"]:
                first = per_tree.get((library, size, leaves, threads[0],
                                      config["loads"][0]), {})
                cells = [f"{size:,}", str(first.get("dataset") or "?"), str(leaves),
                         _peers.LIBRARIES[library].label]
                for load in config["loads"]:
                    for t in threads:
                        entry = per_tree.get((library, size, leaves, t, load), {})
                        cells.append(_ms(entry))
                if "1" in threads:
                    rows = [ratios.get((library, size, leaves, t), {}) for t in others]
                    cells += [_x(r.get("idle_speedup")) for r in rows]
                    cells += [_x(r.get("busy_over_1thread")) for r in rows]
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def _ms(entry):
    if not entry:
        return "—"
    if entry["status"] != "ok":
        return entry["status"]
    return f"{entry['fit_per_tree_s'] * 1e3:.3g}"


def _x(value):
    return "—" if value is None else f"{value:.2f}×"


def _notes(report):
    notes = []
    for target in report["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
        ratio = "—" if target["ratio"] is None else f"{target['ratio']:.2f}x"
        notes.append(
            f"- target: accelboost {target['what']} <= {target['limit']:g}x at "
            f"{target['n_samples']:,} rows, {target['leaves']} leaves: {ratio}, "
            f"{verdict}"
        )
    compile_by_library: dict[str, list[float]] = {}
    for entry in report["summary"]:
        if entry["status"] == "ok":
            compile_by_library.setdefault(entry["library"], []).append(
                entry["compile_s"])
    if compile_by_library:
        notes.append("- warm-up fit per thread setting (the process's first "
                     "includes Numba's cache load for accelboost), median s: "
                     + ", ".join(
                         f"{lib} {statistics.median(v):.2f}"
                         for lib, v in compile_by_library.items()))
    for entry in report["summary"]:
        where = (f"{entry['library']} {entry['n_samples']:,} rows "
                 f"{entry['leaves']} leaves {_label(entry['threads'])} "
                 f"{entry['load']}")
        if entry["status"] != "ok":
            notes.append(f"- {entry['status']}: {where}: {entry.get('reason', '')}")
            continue
        share = entry.get("others_cpu_share")
        if entry["load"] == "idle" and share is not None and share > BUSY_SHARE:
            notes.append(f"- warning: other processes used {100 * share:.0f}% of "
                         f"the CPUs during {where}: the machine was not idle")
        busy = entry.get("busy_cpu_share")
        if entry["load"] == "busy" and busy is not None and busy < MIN_BUSY_SHARE:
            notes.append(f"- warning: the busy loop got only {100 * busy:.0f}% of "
                         f"a core during {where}")
        if entry["n_trees_fitted"] < entry["n_trees"]:
            notes.append(f"- note: {where} stopped after "
                         f"{entry['n_trees_fitted']} trees")
    late = sum(r.get("numba", {}).get("signatures_compiled_in_fit", 0)
               for r in report["runs"] if r["status"] == "ok")
    if late:
        notes.append(f"- warning: accelboost compiled {late} Numba signature(s) "
                     "inside timed fits; the warm-up missed them")
    for library, reason in report["skipped"].items():
        notes.append(f"- {library} skipped: {reason}")
    return notes


# -- command line ---------------------------------------------------------------
def _thread_setting(text):
    if text == "default":
        return "default"
    try:
        value = int(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is neither a positive integer nor 'default'") \
            from exc
    if value < 1:
        raise ValueError("thread counts must be positive")
    return value


def _n_trees_option(text):
    """``N`` for every size, or ``SIZE=N,...`` pairs."""
    if "=" not in text:
        return _positive_int(text)
    out = {}
    for item in text.split(","):
        size, _, trees = item.partition("=")
        try:
            out[int(size)] = _positive_int(trees)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                "expected N or SIZE=N,SIZE=N,...") from exc
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m benchmarks contention``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks contention",
        description="Fit time per tree with 1 and all threads, on an idle machine "
        "and with a busy loop on one core: accelboost, LightGBM, XGBoost.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="2,000 and 43,000 rows, 20 trees, one repeat "
                        "(explicit options still apply)")
    parser.add_argument("--sizes", type=_csv(int), default=None,
                        help="comma-separated rows (default: 2000,43000,1000000); "
                        f"up to {DIAMONDS_ROWS:,}: diamonds, above: synthetic")
    parser.add_argument("--leaves", type=_csv(int), default=list(LEAVES),
                        help="comma-separated leaves per tree (default: 31,2)")
    parser.add_argument("--threads", type=_csv(_thread_setting),
                        default=list(THREADS),
                        help="comma-separated thread counts or 'default' "
                        "(accelboost n_threads=None, peers all CPUs) "
                        "(default: 1,default)")
    parser.add_argument("--loads", type=_csv(str, LOADS), default=list(LOADS),
                        help="comma-separated, of idle,busy (default: idle,busy)")
    parser.add_argument("--libraries", type=_csv(str, tuple(METHOD)),
                        default=list(LIBRARIES),
                        help="comma-separated, of " + ",".join(METHOD)
                        + " (default: " + ",".join(LIBRARIES) + ")")
    parser.add_argument("--n-trees", type=_n_trees_option, default=None,
                        help="trees per fit: N for every size, or SIZE=N pairs "
                        "(default: 300 at 2000 and 43000 rows, 100 at 1000000; "
                        "other sizes 300, or 100 from 500000 rows)")
    parser.add_argument("--repeats", type=_positive_int, default=None,
                        help="rounds of timed fits, one per thread setting, per "
                        f"configuration (default: {REPEATS})")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--busy-core", type=int, default=BUSY_CORE,
                        help="core the busy loop is pinned to (default: "
                        "%(default)s)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-process time limit in seconds (default: none)")
    parser.add_argument("--json", metavar="PATH", type=Path, default=None,
                        help="write raw times, summary, ratios, machine and "
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
        0 when every configuration ran, 1 otherwise.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    quick = QUICK if args.quick else {}
    sizes = args.sizes or list(quick.get("sizes", SIZES))
    if any(v < 2 for v in args.leaves):
        parser.error("--leaves must be at least 2")
    if any(v < 1 for v in sizes):
        parser.error("--sizes must be positive")
    n_trees = args.n_trees if args.n_trees is not None else quick.get("n_trees")
    if isinstance(n_trees, int):
        n_trees = dict.fromkeys(sizes, n_trees)
    command = "python -m benchmarks contention " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    report = run_benchmark(
        sizes=sizes, leaves=args.leaves, threads=args.threads, loads=args.loads,
        libraries=args.libraries, n_trees=n_trees,
        repeats=args.repeats or quick.get("repeats", REPEATS), seed=args.seed,
        busy_core_id=args.busy_core, timeout=args.timeout, command=command.strip(),
    )
    print(format_markdown(report))
    if args.json is not None:
        save_json(report, args.json)
        print(f"results written to {args.json}")
    return exit_status(report["runs"])


if __name__ == "__main__":
    sys.exit(main())
