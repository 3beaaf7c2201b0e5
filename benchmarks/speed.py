"""``python -m benchmarks speed {engine,contention,stages,scale}``: how fast
accelboost fits and predicts beside its peers, and how much memory a large fit
takes.

Every figure comes from a fresh process (:mod:`._child`) after a warm-up fit
(1,000 rows, 3 trees: Numba's compilation or cache load, reported as *compile
s*); the libraries get the same trees (:mod:`._peers`, learning rate 0.1);
fit times include binning.

``engine``: per-tree fit, predict (training rows), peak fit memory (Linux
``VmHWM`` after ``clear_refs``, else the ``ru_maxrss`` increase), compile time,
held-out loss and CPU/wall; 1,000,000 synthetic rows x 28 features, 300 trees of
31 leaves, regression and binary (``--numba-cache cold``: an empty cache).
Targets: fit per tree <= 1.5x LightGBM's, predict <= 1x scikit-learn's.

``contention``: per-tree fit of regression at 2,000, 43,000 (diamonds) and
1,000,000 rows (synthetic), 31 leaves and stumps, one thread and all, idle and
with one core busy (:mod:`._busy`); one process per configuration interleaves
its thread settings so their ratio shares the machine's drift. Target:
accelboost busy with default threads <= 1.3x busy with one.

``stages``: every stage's wall time of a 20,000-stump fit whose early stopping
scores each stage and never stops (``accelboost.callbacks``): last 1,000 stages
against the first (target <= 1.2x), and each tenth; then 3,000 stumps with early
stopping against HistGradientBoosting on diamonds (whole fits; target <= 1x).

``scale``: a 10,000,000 x 28 float32 regression fit (100 trees of 31 leaves, 2
threads, no early stopping), accelboost beside LightGBM and XGBoost on the same
data, made in each child chunk by chunk (``--dtype``, ``--order`` change X):
fit time, the fit's peak resident memory and its increase over the resident
memory before the fit, against X's own size. Targets (issue 14): accelboost's
peak within 24 GiB, and its increase below X's size (no copy of X).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from . import _busy, _child, _data, _peers, _report
from ._busy import BUSY_CORE, pick_core
from ._child import FitProbe, numba_counts, run_child
from ._data import LOSS_NAMES, load_dataset, make_synthetic
from ._peers import LIBRARIES, METHODS, StageClock, baseline_loss, heldout_loss
from ._report import csv, fmt, median, positive_int, verdict

SCHEMA_VERSION = 2
#: Sizes up to this many rows use the diamonds table, larger ones synthetic.
DIAMONDS_ROWS = 53_940
TASKS = ("regression", "binary")


def _warm_up(cls, params, n_trees_key, X, y) -> float:
    """Seconds of a small fit (Numba's first call: cache load or compile)."""
    tic = time.perf_counter()
    rows = _peers.WARMUP_ROWS
    cls(**{**params, n_trees_key: _peers.WARMUP_STAGES}).fit(X[:rows], y[:rows])
    return time.perf_counter() - tic


def _children(jobs, *, log, timeout=None, describe=str):
    """Run ``(target, spec, n_threads, context)`` jobs, a fresh process each,
    inside ``context`` (a busy loop, whose summary is added as ``busy``, or a
    cold Numba cache); a child's result, or each of its ``runs``, is merged
    into its spec. ``describe`` words a successful run's progress line."""
    progress, runs = _report.Progress(len(jobs), log), []
    for target, spec, n_threads, context in jobs:
        with context as busy:
            result = run_child(f"benchmarks.speed:{target}", spec,
                               n_threads=n_threads, timeout=timeout)
            busy = None if busy is None else busy.summary()
        mine = [{**spec, **run, "busy": busy} for run in result.get("runs")
                or [result]]
        runs += mine
        progress.step("; ".join(
            describe(r) if r["status"] == "ok" else
            f"{r.get('library')}: {r['status']}: {r.get('reason')}" for r in mine))
    return runs


@contextlib.contextmanager
def _cold_numba_cache():
    """An empty Numba cache directory for the children started inside."""
    with tempfile.TemporaryDirectory() as cache, mock.patch.dict(
            os.environ, NUMBA_CACHE_DIR=cache):
        yield None


def _failure_lines(runs, keys):
    return [f"- {r['status']}: " + " ".join(str(r.get(k)) for k in keys)
            + f": {r.get('reason', '')}" for r in runs
            if r.get("status") not in ("ok", None)]


def _busy_warning(entry, where, consequence):
    share = entry.get("others_cpu_share") or 0
    return [f"- warning: other processes used {100 * share:.0f}% of the CPUs during "
            f"{where}: {consequence}"] if share > _report.BUSY_SHARE else []


def _late_compile(count, where):
    return [f"- warning: accelboost compiled {count} Numba signature(s) inside "
            f"{where}; the warm-up missed them"] if count else []


def _target_line(what, value, limit):
    met = None if value is None else value <= limit
    return f"- target: {what} <= {limit:g}x: {fmt(value, '.2f', 'x')}, {verdict(met)}"


# -- engine ---------------------------------------------------------------------------
ENGINE = {"n_samples": 1_000_000, "n_test": 100_000, "n_features": 28,
          "n_iter": 300, "n_threads": 2}
ENGINE_LIBRARIES = ("accelboost", "sklearn", "lightgbm", "xgboost")
ENGINE_TARGETS = (("fit_per_iter_s", "lightgbm", 1.5, "fit/iter"),
                  ("predict_s", "sklearn", 1.0, "predict"))
_ENGINE_MEDIANS = ("fit_s", "fit_per_iter_s", "fit_cpu_per_wall", "predict_s",
                   "fit_peak_delta_mb", "compile_s", "heldout_loss",
                   "baseline_loss", "n_iter_fitted", "others_cpu_share")


def measure_engine(library: str, task: str, n_samples: int, n_iter: int,
                   n_threads: int, n_test: int, n_features: int, seed: int = 0,
                   repeat: int = 0) -> dict[str, Any]:
    """Time one library on one task in this (fresh) process: warm-up, fit,
    peak memory, predict, held-out loss; ``status`` "ok", "skipped" or
    "error"."""
    run: dict[str, Any] = {"library": library, "task": task}
    lib = LIBRARIES[library]
    available, reason = lib.available()
    if not available:
        return {**run, "status": "skipped", "reason": reason}
    try:
        tic = time.perf_counter()
        lib.estimator(task)  # imports the library
        run.update(import_s=time.perf_counter() - tic, library_version=lib.version(),
                   params=lib.params(task, n_iter, n_threads=n_threads, seed=seed))
        run.update(_engine_fits(lib, task, run["params"], n_samples, n_test,
                                n_features, n_threads, seed))
    except Exception as exc:  # a broken library must not stop the others
        return _report.error_run(run, exc)
    return {**run, "status": "ok"}


def _engine_fits(lib, task, params, n_samples, n_test, n_features, n_threads, seed):
    from threadpoolctl import threadpool_limits

    X, y = make_synthetic(task, n_samples, n_features, seed, _data.STREAM_TRAIN)
    X_test, y_test = make_synthetic(task, n_test, n_features, seed,
                                    _data.STREAM_TEST)
    out: dict[str, Any] = {"baseline_loss": baseline_loss(task, y, y_test)}
    cls = lib.estimator(task)
    with threadpool_limits(limits=n_threads):
        X_w, y_w = make_synthetic(task, _peers.WARMUP_ROWS, n_features, seed,
                                  _data.STREAM_WARMUP)
        tic = time.perf_counter()
        model = cls(**{**params, lib.n_trees_key: _peers.WARMUP_STAGES}).fit(X_w, y_w)
        lib.predict(model, X_w, task)
        out["compile_s"] = time.perf_counter() - tic
        warm = numba_counts()
        del model
        gc.collect()
        model = cls(**params)
        with _child.PeakMemory() as memory, FitProbe() as probe:
            model.fit(X, y)
        out.update(probe.result(), rss_method=memory.method,
                   fit_peak_rss_mb=memory.peak, fit_peak_delta_mb=memory.delta)
        tic = time.perf_counter()
        lib.predict(model, X, task)
        out["predict_s"] = time.perf_counter() - tic
        out["heldout_loss"] = heldout_loss(task, y_test,
                                           lib.predict(model, X_test, task))
    out["n_iter_fitted"] = lib.fitted(model)
    out["fit_per_iter_s"] = out["fit_s"] / max(1, out["n_iter_fitted"])
    out["fit_cpu_per_wall"] = out["fit_cpu_s"] / out["fit_s"]
    if lib.name == "accelboost":
        import numba

        try:
            layer = str(numba.threading_layer())
        except ValueError:  # no parallel region has run
            layer = "unknown"
        out["numba"] = {
            "warmup_cache_hits": warm["cache_hits"],
            "warmup_cache_misses": warm["cache_misses"],
            "signatures_compiled_in_fit": probe.compiled,
            "signatures_compiled_in_predict": numba_counts()["signatures"]
            - warm["signatures"] - probe.compiled,
            "num_threads": numba.config.NUMBA_NUM_THREADS, "threading_layer": layer,
        }
    return out


def run_engine(*, tasks=TASKS, libraries=ENGINE_LIBRARIES, repeats: int = 1,
        numba_cache: str = "default", seed: int = 0, timeout=None, command="",
        log: Any = sys.stderr, **sizes: int) -> dict[str, Any]:
    """Every (task, repeat, library) in a fresh process; ``sizes`` override
    :data:`ENGINE`. Returns the report (``runs`` and ``summary``)."""
    config = {**ENGINE, **sizes, "tasks": list(tasks), "libraries": list(libraries),
              "repeats": repeats, "seed": seed, "numba_cache": numba_cache}
    jobs = []
    for task in tasks:
        for repeat in range(repeats):
            for library in libraries:
                spec = {**{k: config[k] for k in ENGINE}, "library": library,
                        "task": task, "seed": seed, "repeat": repeat}
                cold = numba_cache == "cold" and library == "accelboost"
                jobs.append(("measure_engine", spec, config["n_threads"],
                             _cold_numba_cache() if cold else contextlib.nullcontext()))
    started = time.perf_counter()
    runs = _children(jobs, log=log, timeout=timeout, describe=lambda r: (
        f"{r['task']} {r['library']}: {r['fit_per_iter_s'] * 1e3:.2f} ms/iter, "
        f"predict {r['predict_s']:.3f} s, compile {r['compile_s']:.2f} s"))
    return _report.new_report("engine", SCHEMA_VERSION, command, config, runs,
                              started, summary=summarize_engine(runs, tasks,
                                                                libraries))


def summarize_engine(runs, tasks, libraries) -> list[dict[str, Any]]:
    """Per (task, library): medians over the successful repeats, and for the
    peers ``ratio_fit_per_iter`` and ``ratio_predict`` (accelboost / peer)."""
    summary = []
    for task in tasks:
        entries = {}
        for library in libraries:
            mine = [r for r in runs if r["task"] == task and r["library"] == library]
            ok = [r for r in mine if r["status"] == "ok"]
            entry = {"task": task, "library": library, "n_repeats_ok": len(ok),
                     "status": "ok" if ok else (mine[0]["status"] if mine
                                                else "missing"),
                     "reason": "" if ok or not mine else mine[0].get("reason", "")}
            entry.update({k: median(r.get(k) for r in ok) for k in _ENGINE_MEDIANS})
            entries[library] = entry
        mine = entries.get("accelboost", {})
        for library, entry in entries.items():
            if library != "accelboost" and entry["status"] == "ok":
                entry["ratio_fit_per_iter"] = _report.ratio(
                    mine.get("fit_per_iter_s"), entry["fit_per_iter_s"])
                entry["ratio_predict"] = _report.ratio(mine.get("predict_s"),
                                                       entry["predict_s"])
        summary.extend(entries.values())
    return summary


def engine_markdown(report: dict[str, Any]) -> str:
    """The engine report: a table per task, with notes and targets."""
    config = report["config"]
    lines = _report.header("Engine speed", report, [
        f"{config['n_samples']:,} rows x {config['n_features']} features, "
        f"{config['n_iter']} iterations of 31 leaves, {config['n_threads']} "
        f"threads, held-out {config['n_test']:,} rows, median of "
        f"{config['repeats']} fresh process(es) per library; compile s = warm-up "
        f"fit and predict on {_peers.WARMUP_ROWS:,} rows x "
        f"{_peers.WARMUP_STAGES} iterations."])
    columns = (("fit s/iter", "fit_per_iter_s", ".4f", ""),
               ("predict s", "predict_s", ".3f", ""),
               ("fit peak +MB", "fit_peak_delta_mb", ".0f", ""),
               ("compile s", "compile_s", ".2f", ""),
               ("held-out loss", "heldout_loss", ".5f", ""),
               ("CPU/wall", "fit_cpu_per_wall", ".2f", ""),
               ("ab/peer fit", "ratio_fit_per_iter", ".2f", "×"),
               ("ab/peer predict", "ratio_predict", ".2f", "×"))
    for task in config["tasks"]:
        entries = [e for e in report["summary"] if e["task"] == task]
        ok = {e["library"]: e for e in entries if e["status"] == "ok"}
        lines += ["", f"## {task} ({LOSS_NAMES[task]})", ""]
        lines += _report.table(["library"] + [c[0] for c in columns], [
            [LIBRARIES[e["library"]].label] + [fmt(e.get(k), spec, suffix)
                                               for _, k, spec, suffix in columns]
            for e in ok.values()])
        lines.append("")
        if ok:
            first = next(iter(ok.values()))
            lines.append(f"- constant-prediction {LOSS_NAMES[task]} on the held-out "
                         f"set: {first['baseline_loss']:.5f}")
        lines += [f"- note: {e['library']} stopped after {e['n_iter_fitted']:.0f} "
                  f"iterations (fit s/iter divides by them)" for e in ok.values()
                  if e["n_iter_fitted"] < config["n_iter"]]
        lines += _numba_notes([r for r in report["runs"] if r["task"] == task
                               and r["library"] == "accelboost"
                               and r["status"] == "ok"])
        for e in ok.values():
            lines += _busy_warning(e, f"{e['library']}'s fits", "timings unreliable")
        for key, peer, limit, what in ENGINE_TARGETS:
            if peer in ok:
                ratio = ok[peer]["ratio_fit_per_iter" if key == "fit_per_iter_s"
                                 else "ratio_predict"]
                lines.append(_target_line(f"accelboost {what} / "
                                          f"{LIBRARIES[peer].label}", ratio, limit))
        lines += _failure_lines([e for e in entries if e["status"] != "ok"],
                                ("library",))
    return "\n".join(lines) + "\n"


def _numba_notes(runs):
    numbas = [r["numba"] for r in runs if "numba" in r]
    if not numbas:
        return []
    hits, misses = numbas[0]["warmup_cache_hits"], numbas[0]["warmup_cache_misses"]
    lines = [f"- accelboost's Numba cache {'warm' if hits else 'cold'} at warm-up "
             f"({hits} hits, {misses} misses); threading layer "
             f"{numbas[0].get('threading_layer')}"]
    return lines + _late_compile(sum(n["signatures_compiled_in_fit"]
                                     + n["signatures_compiled_in_predict"]
                                     for n in numbas), "the timed calls")


# -- scale ---------------------------------------------------------------------------
SCALE = {"n_samples": 10_000_000, "n_test": 100_000, "n_features": 28, "n_iter": 100,
         "n_threads": 2}
SCALE_LIBRARIES = ("accelboost", "lightgbm", "xgboost")
#: Issue 14's machine: the fit's peak resident memory must fit in 24 GiB.
SCALE_MEMORY_LIMIT_MB = 24 * 1024
_SCALE_MEDIANS = ("fit_s", "fit_per_iter_s", "fit_cpu_per_wall", "prefit_rss_mb",
                  "fit_peak_rss_mb", "fit_peak_delta_mb", "x_mb",
                  "peak_delta_over_x", "heldout_loss", "baseline_loss",
                  "n_iter_fitted", "data_s", "compile_s", "others_cpu_share")


def measure_scale(library: str, n_samples: int, n_test: int, n_features: int,
                  n_iter: int, n_threads: int, dtype: str = "float32",
                  order: str = "C", seed: int = 0, repeat: int = 0) -> dict[str, Any]:
    """One library's regression fit on ``n_samples`` rows of ``dtype`` in this
    (fresh) process: the data made chunk by chunk (never a float64 copy
    beside it), a warm-up fit on the same dtype and layout, then the fit's
    time, its peak resident memory and the peak's increase over the
    resident memory before it, against X's own size; ``status`` "ok",
    "skipped" or "error"."""
    from threadpoolctl import threadpool_limits

    run: dict[str, Any] = {"library": library, "task": "regression",
                           "dtype": dtype, "order": order}
    lib = LIBRARIES[library]
    available, reason = lib.available()
    if not available:
        return {**run, "status": "skipped", "reason": reason}
    try:
        cls = lib.estimator("regression")  # imports the library
        run.update(library_version=lib.version(),
                   params=lib.params("regression", n_iter, n_threads=n_threads,
                                     seed=seed),
                   rss_start_mb=_child.rss_mb())

        def data(n, stream):
            return _data.make_synthetic_large("regression", n, n_features, seed,
                                              stream, dtype=dtype, order=order)

        tic = time.perf_counter()
        X, y = data(n_samples, _data.STREAM_TRAIN)
        X_test, y_test = data(n_test, _data.STREAM_TEST)
        run.update(data_s=time.perf_counter() - tic, x_mb=X.nbytes / 2**20,
                   baseline_loss=baseline_loss("regression", y, y_test))
        with threadpool_limits(limits=n_threads):
            X_w, y_w = data(_peers.WARMUP_ROWS, _data.STREAM_WARMUP)
            tic = time.perf_counter()
            model = cls(**{**run["params"], lib.n_trees_key: _peers.WARMUP_STAGES})
            lib.predict(model.fit(X_w, y_w), X_w, "regression")
            run["compile_s"] = time.perf_counter() - tic
            del model
            gc.collect()
            model = cls(**run["params"])
            with _child.PeakMemory() as memory, FitProbe() as probe:
                model.fit(X, y)
            run.update(probe.result(), rss_method=memory.method,
                       prefit_rss_mb=memory.start, fit_peak_rss_mb=memory.peak,
                       fit_peak_delta_mb=memory.delta,
                       peak_delta_over_x=memory.delta / run["x_mb"])
            run["heldout_loss"] = heldout_loss(
                "regression", y_test, lib.predict(model, X_test, "regression"))
        run["n_iter_fitted"] = lib.fitted(model)
        run["fit_per_iter_s"] = run["fit_s"] / max(1, run["n_iter_fitted"])
        run["fit_cpu_per_wall"] = run["fit_cpu_s"] / run["fit_s"]
    except Exception as exc:  # a broken library must not stop the others
        return _report.error_run(run, exc)
    return {**run, "status": "ok"}


def run_scale(*, libraries=SCALE_LIBRARIES, repeats: int = 1, dtype: str = "float32",
              order: str = "C", seed: int = 0, timeout=None, command="",
              log: Any = sys.stderr, **sizes: int) -> dict[str, Any]:
    """Every (repeat, library) in a fresh process; ``sizes`` override
    :data:`SCALE`. Returns the report (``runs``, ``summary``, ``targets``)."""
    config = {**SCALE, **sizes, "libraries": list(libraries), "repeats": repeats,
              "dtype": dtype, "order": order, "seed": seed,
              "memory_limit_mb": SCALE_MEMORY_LIMIT_MB}
    jobs = [("measure_scale", {**{k: config[k] for k in SCALE}, "library": library,
                               "dtype": dtype, "order": order, "seed": seed,
                               "repeat": repeat},
             config["n_threads"], contextlib.nullcontext())
            for repeat in range(repeats) for library in libraries]
    started = time.perf_counter()
    runs = _children(jobs, log=log, timeout=timeout, describe=lambda r: (
        f"{r['library']}: fit {r['fit_s']:.1f} s, peak +{r['fit_peak_delta_mb']:.0f} "
        f"MB ({r['peak_delta_over_x']:.2f}x X)"))
    summary, targets = summarize_scale(runs, libraries)
    return _report.new_report("scale", SCHEMA_VERSION, command, config, runs,
                              started, summary=summary, targets=targets)


def summarize_scale(runs, libraries) -> tuple[list[dict[str, Any]], list[dict]]:
    """Per library: medians over the successful repeats, and for the peers
    accelboost's fit time, peak increase and peak as ratios to theirs
    (``ratio_fit_s``, ``ratio_peak_delta``, ``ratio_peak_rss``); and issue
    14's two targets for accelboost (``what``, ``value``, ``limit``, ``met``):
    its peak within the memory limit, and its peak increase below X's size
    (a copy of X alone would add X's size)."""
    entries = {}
    for library in libraries:
        mine = [r for r in runs if r["library"] == library]
        ok = [r for r in mine if r["status"] == "ok"]
        entry = {"library": library, "n_repeats_ok": len(ok),
                 "status": "ok" if ok else (mine[0]["status"] if mine else "missing"),
                 "reason": "" if ok or not mine else mine[0].get("reason", "")}
        entry.update({k: median(r.get(k) for r in ok) for k in _SCALE_MEDIANS})
        entries[library] = entry
    mine = entries.get("accelboost", {})
    for library, entry in entries.items():
        if library != "accelboost" and entry["status"] == "ok":
            for key, field in (("ratio_fit_s", "fit_s"),
                               ("ratio_peak_delta", "fit_peak_delta_mb"),
                               ("ratio_peak_rss", "fit_peak_rss_mb")):
                entry[key] = _report.ratio(mine.get(field), entry[field])
    targets = [{"what": what, "value": value, "limit": limit,
                "met": None if value is None else value < limit}
               for what, value, limit in (
                   ("accelboost fit peak resident memory, MB",
                    mine.get("fit_peak_rss_mb"), SCALE_MEMORY_LIMIT_MB),
                   ("accelboost fit peak increase / X's size (no copy of X)",
                    mine.get("peak_delta_over_x"), 1.0))]
    return list(entries.values()), targets


def scale_markdown(report: dict[str, Any]) -> str:
    """The scale report: one table, the targets and notes."""
    config = report["config"]
    ok = [e for e in report["summary"] if e["status"] == "ok"]
    x_mb = next((e["x_mb"] for e in ok), None)
    lines = _report.header("A large fit: time and memory", report, [
        f"{config['n_samples']:,} rows x {config['n_features']} features of "
        f"{config['dtype']} ({config['order']}-ordered; X is {fmt(x_mb, ',.0f')} "
        f"MB), regression, {config['n_iter']} trees of 31 leaves, "
        f"{config['n_threads']} threads, no early stopping; median of "
        f"{config['repeats']} fresh process(es) per library, each after a warm-up "
        f"fit on {_peers.WARMUP_ROWS:,} rows of the same dtype and layout.",
        "MB = 2^20 bytes. *peak RSS*: the process's peak resident memory during "
        "the fit (X and y included); *+MB*: its increase over the resident "
        "memory just before the fit; *+MB / X*: that increase over X's size (a "
        "copy of X alone would add 1.00). Held-out MSE on "
        f"{config['n_test']:,} new rows."])
    columns = (("fit s", "fit_s", ".1f", ""),
               ("s/tree", "fit_per_iter_s", ".3f", ""),
               ("peak RSS MB", "fit_peak_rss_mb", ",.0f", ""),
               ("pre-fit RSS MB", "prefit_rss_mb", ",.0f", ""),
               ("fit peak +MB", "fit_peak_delta_mb", ",.0f", ""),
               ("+MB / X", "peak_delta_over_x", ".2f", ""),
               ("held-out MSE", "heldout_loss", ".5f", ""),
               ("CPU/wall", "fit_cpu_per_wall", ".2f", ""),
               ("ab/peer fit s", "ratio_fit_s", ".2f", "×"),
               ("ab/peer +MB", "ratio_peak_delta", ".2f", "×"),
               ("ab/peer peak", "ratio_peak_rss", ".2f", "×"))
    lines += [""] + _report.table(["library"] + [c[0] for c in columns], [
        [LIBRARIES[e["library"]].label] + [fmt(e.get(k), spec, suffix)
                                           for _, k, spec, suffix in columns]
        for e in ok])
    lines.append("")
    if ok:
        lines.append(f"- constant-prediction MSE on the held-out rows: "
                     f"{ok[0]['baseline_loss']:.5f}; data generation "
                     f"{ok[0]['data_s']:.0f} s a process")
    lines += [f"- note: {e['library']} stopped after {e['n_iter_fitted']:.0f} "
              f"trees" for e in ok if e["n_iter_fitted"] < config["n_iter"]]
    lines += _late_compile(sum(r.get("numba_compiled_in_fit") or 0
                               for r in report["runs"]
                               if r["library"] == "accelboost"
                               and r["status"] == "ok"), "the timed fits")
    for e in ok:
        lines += _busy_warning(e, f"{e['library']}'s fits", "timings unreliable")
    lines += [f"- target: {t['what']} < {t['limit']:g}: "
              f"{fmt(t['value'], ',.2f')}, {verdict(t['met'])}"
              for t in report["targets"]]
    lines += _failure_lines([e for e in report["summary"] if e["status"] != "ok"],
                            ("library",))
    return "\n".join(lines) + "\n"


# -- contention ---------------------------------------------------------------------
CONTENTION = {"sizes": (2_000, 43_000, 1_000_000), "leaves": (31, 2),
              "threads": (1, "default"), "loads": ("idle", "busy"),
              "libraries": ("accelboost", "lightgbm", "xgboost"), "repeats": 3}
CONTENTION_QUICK = {"sizes": (2_000, 43_000), "n_trees": 20, "repeats": 1}
TARGET_BUSY_RATIO = 1.3
#: A busy loop with less CPU than this share of its wall time did not spin.
MIN_BUSY_SHARE = 0.8


def default_n_trees(n_samples: int) -> int:
    """Trees per fit: 100 from 500,000 rows, 300 below (about 14 minutes for
    the full grid on two cores)."""
    return 100 if n_samples >= 500_000 else 300


def contention_data(n_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                            str]:
    """Regression rows of a size: up to :data:`DIAMONDS_ROWS` drawn from the
    diamonds table (its training and test rows together) without
    replacement, above that synthetic. Returns X, y and the data set's name."""
    if n_samples > DIAMONDS_ROWS:
        X, y = make_synthetic("regression", n_samples, seed=seed)
        return X, y, "synthetic_regression"
    table = load_dataset("diamonds", seed=seed)
    X = np.concatenate([table.X_train, table.X_test])
    y = np.concatenate([table.y_train, table.y_test])
    rows = np.sort(np.random.RandomState(seed).choice(len(y), n_samples,
                                                      replace=False))
    return np.ascontiguousarray(X[rows]), y[rows], "diamonds"


def _pool_limit(threads, n_threads):
    """The OpenMP/BLAS cap of a thread setting ("default": none)."""
    if threads == "default":
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n_threads)


def measure_contention(library: str, n_samples: int, leaves: int,
                       threads: Sequence[int | str], n_trees: int, repeats: int,
                       load: str = "idle", seed: int = 0) -> dict[str, Any]:
    """In this (fresh) process: a warm-up fit per thread setting, then
    ``repeats`` rounds of one timed fit per setting. Returns ``runs``, one per
    setting, with per-fit lists ``fit_s``, ``fit_per_tree_s``,
    ``n_trees_fitted``, ``fit_cpu_s``, ``others_cpu_share`` and ``sequence``
    (the fit's index in the process)."""
    base = {"library": library, "pid": os.getpid(), "interleaved_with": list(threads)}
    try:
        lib = LIBRARIES[library]
        X, y, dataset = contention_data(n_samples, seed)
        base.update(dataset=dataset, n_features=int(X.shape[1]),
                    library_version=lib.version())
        outs = []
        for setting in threads:
            n_threads = _peers.usable_cpus() if setting == "default" else int(setting)
            params = METHODS["zero" if library == "accelboost" else library].params(
                "regression", 0.1, leaves, n_trees,
                None if setting == "default" else n_threads, seed)
            cls = lib.estimator("regression")
            with _pool_limit(setting, n_threads):
                compile_s = _warm_up(cls, params, lib.n_trees_key, X, y)
            outs.append({"threads": setting, "params": params, "cls": cls,
                         "n_threads_used": n_threads, "compile_s": compile_s,
                         "fits": []})
        for sequence in range(repeats * len(outs)):  # 1, default, 1, default...
            out = outs[sequence % len(outs)]
            model = out["cls"](**out["params"])
            with _pool_limit(out["threads"], out["n_threads_used"]), \
                    FitProbe() as probe:
                model.fit(X, y)
            fitted = lib.fitted(model)
            out["fits"].append({**probe.result(), "sequence": sequence,
                                "fit_per_tree_s": probe.wall / max(1, fitted),
                                "n_trees_fitted": fitted})
    except Exception as exc:  # reported; the other configurations go on
        return {"runs": [_report.error_run({**base, "threads": t}, exc)
                         for t in threads]}
    runs = []
    for out in outs:
        fits, _ = out.pop("fits"), out.pop("cls")
        runs.append({**base, **out, "status": "ok",
                     **{k: [f[k] for f in fits] for k in fits[0]}})
    return {"runs": runs}


def run_contention(*, sizes=CONTENTION["sizes"], leaves=CONTENTION["leaves"],
                   threads=CONTENTION["threads"], loads=CONTENTION["loads"],
                   libraries=CONTENTION["libraries"], n_trees: int | None = None,
                   repeats: int = CONTENTION["repeats"], seed: int = 0,
                   busy_core: int = BUSY_CORE, timeout=None, command="",
                   log: Any = sys.stderr) -> dict[str, Any]:
    """A process per (size, leaves, library, load); ``n_trees`` (None:
    :func:`default_n_trees`) for every size. Returns the report with
    ``runs``, ``summary``, ``ratios`` and ``targets``."""
    skipped = {lib: LIBRARIES[lib].available()[1] for lib in libraries
               if not LIBRARIES[lib].available()[0]}
    runnable = [lib for lib in libraries if lib not in skipped]
    core = pick_core(busy_core)
    trees = {size: n_trees or default_n_trees(size) for size in sizes}
    config = {"sizes": list(sizes), "leaves": list(leaves), "threads": list(threads),
              "loads": list(loads), "libraries": runnable, "n_trees": trees,
              "repeats": repeats, "seed": seed, "busy_core": core,
              "learning_rate": 0.1}
    for library, reason in skipped.items():
        if log is not None:
            print(f"{library}: {reason}; skipped", file=log)
    jobs = [("measure_contention", {"library": library, "n_samples": size,
                                    "leaves": n_leaves, "threads": list(threads),
                                    "n_trees": trees[size], "repeats": repeats,
                                    "load": load, "seed": seed},
             None, _busy.busy_core(core) if load == "busy"
             else contextlib.nullcontext())
            for size in sizes for n_leaves in leaves for library in runnable
            for load in loads]
    started = time.perf_counter()
    runs = _children(jobs, log=log, timeout=timeout, describe=lambda r: (
        f"{r['library']} {r['n_samples']:,} rows {r['leaves']} leaves threads "
        f"{r['threads']} {r['load']}: {median(r['fit_per_tree_s']) * 1e3:.3f} ms/tree"))
    runs = [{**run, "threads": t} for run in runs  # a dead child: every setting
            for t in (run["threads"] if isinstance(run["threads"], list)
                      else [run["threads"]])]
    summary = summarize_contention(runs)
    ratios, targets = contention_ratios(summary)
    return _report.new_report("contention", SCHEMA_VERSION, command, config, runs,
                              started, skipped=skipped, summary=summary,
                              ratios=ratios, targets=targets)


def _key(entry):
    return (entry["library"], entry["n_samples"], entry["leaves"],
            str(entry["threads"]), entry["load"])


def summarize_contention(runs) -> list[dict[str, Any]]:
    """Per run (configuration and thread setting): the medians of its fits."""
    summary = []
    for run in runs:
        entry = {k: run.get(k) for k in ("library", "n_samples", "dataset", "leaves",
                                         "threads", "load", "n_trees", "status")}
        if run["status"] != "ok":
            summary.append({**entry, "reason": run.get("reason", "")})
            continue
        entry.update(
            n_repeats=len(run["fit_s"]), fit_s=median(run["fit_s"]),
            fit_per_tree_s=median(run["fit_per_tree_s"]),
            fit_cpu_per_wall=median(c / w for c, w in zip(
                run["fit_cpu_s"], run["fit_s"], strict=True)),
            others_cpu_share=median(run.get("others_cpu_share", [])),
            compile_s=run.get("compile_s"), n_trees_fitted=min(run["n_trees_fitted"]),
            busy_cpu_share=(run.get("busy") or {}).get("cpu_share"))
        summary.append(entry)
    return summary


def contention_ratios(summary):
    """Per (library, size, leaves) and thread setting T other than 1:
    ``idle_speedup`` (idle 1 / idle T), ``busy_over_1thread`` (busy T / busy
    1) and ``busy_over_idle`` (busy T / idle T); and the targets, accelboost's
    busy default / busy 1 at every size and tree size."""
    per_tree = {_key(e): e["fit_per_tree_s"] for e in summary if e["status"] == "ok"}
    settings = [t for t in dict.fromkeys(str(e["threads"]) for e in summary)
                if t != "1"]
    ratios, targets = [], []
    for library, size, leaves in dict.fromkeys(
            (e["library"], e["n_samples"], e["leaves"]) for e in summary):
        def time(threads, load, key=(library, size, leaves)):
            return per_tree.get((*key, threads, load))

        for threads in settings:
            row = {"library": library, "n_samples": size, "leaves": leaves,
                   "threads": threads,
                   "idle_speedup": _report.ratio(time("1", "idle"),
                                                 time(threads, "idle")),
                   "busy_over_1thread": _report.ratio(time(threads, "busy"),
                                                      time("1", "busy")),
                   "busy_over_idle": _report.ratio(time(threads, "busy"),
                                                   time(threads, "idle"))}
            ratios.append(row)
            if library == "accelboost" and threads == "default":
                value = row["busy_over_1thread"]
                targets.append({"library": library, "n_samples": size,
                                "leaves": leaves, "ratio": value,
                                "what": "busy default threads / busy 1 thread",
                                "limit": TARGET_BUSY_RATIO,
                                "met": None if value is None
                                else value <= TARGET_BUSY_RATIO})
    return ratios, targets


def _threads_label(threads):
    return "default thr" if str(threads) == "default" else f"{threads} thr"


def contention_markdown(report: dict[str, Any]) -> str:
    """The contention report: one table of ms per tree and ratios, then the
    targets and warnings."""
    config = report["config"]
    trees = ", ".join(f"{n:,} trees at {int(s):,} rows"
                      for s, n in config["n_trees"].items())
    lines = _report.header("Contention: fit time with one core busy", report, [
        f"{trees}; learning rate 0.1; median of {config['repeats']} fit(s) per "
        "configuration; a configuration's thread settings share one fresh "
        "process, their fits interleaved (1, default, 1, ...) after a warm-up "
        "fit with each.",
        f"busy: a Python `while True: pass` process pinned to core "
        f"{config['busy_core']}; default thr: accelboost `n_threads=None`, peers "
        "all CPUs."]) + [""]
    threads = [str(t) for t in config["threads"]]
    others = [t for t in threads if t != "1"]
    per_tree = {_key(e): e for e in report["summary"]}
    ratios = {(r["library"], r["n_samples"], r["leaves"], r["threads"]): r
              for r in report["ratios"]}
    headers = ["rows", "data", "leaves", "library"] + [
        f"{load} {_threads_label(t)} ms/tree" for load in config["loads"]
        for t in threads]
    if "1" in threads:
        headers += [f"idle speed-up 1→{t}" for t in others]
        headers += [f"busy {t} / busy 1" for t in others]
    rows = []
    for size, leaves, library in itertools.product(
            config["sizes"], config["leaves"], config["libraries"]):
        cells = [per_tree.get((library, size, leaves, t, load))
                 for load in config["loads"] for t in threads]
        found = ([ratios.get((library, size, leaves, t), {}) for t in others]
                 if "1" in threads else [])
        rows.append([f"{size:,}", "diamonds" if size <= DIAMONDS_ROWS
                     else "synthetic_regression", leaves, LIBRARIES[library].label]
                    + ["—" if e is None else e["status"] if e["status"] != "ok"
                       else f"{e['fit_per_tree_s'] * 1e3:.3g}" for e in cells]
                    + [fmt(r.get(k), ".2f", "×") for k in (
                        "idle_speedup", "busy_over_1thread") for r in found])
    lines += _report.table(headers, rows) + [""]
    lines += [_target_line(f"accelboost {t['what']} at {t['n_samples']:,} rows, "
                           f"{t['leaves']} leaves", t["ratio"], t["limit"])
              for t in report["targets"]]
    ok = [e for e in report["summary"] if e["status"] == "ok"]
    for e in ok:
        where = (f"{e['library']} {e['n_samples']:,} rows {e['leaves']} leaves "
                 f"{_threads_label(e['threads'])} {e['load']}")
        if e["load"] == "idle":
            lines += _busy_warning(e, where, "the machine was not idle")
        if e["load"] == "busy" and (e.get("busy_cpu_share") or 1) < MIN_BUSY_SHARE:
            lines.append(f"- warning: the busy loop got only "
                         f"{100 * e['busy_cpu_share']:.0f}% of a core during {where}")
    compile_s: dict[str, list[float]] = {}
    for e in ok:
        compile_s.setdefault(e["library"], []).append(e["compile_s"])
    if compile_s:
        lines.append("- warm-up fit per thread setting (compile s; the first of a "
                     "process includes Numba's cache load), median: " + ", ".join(
                         f"{lib} {median(v):.2f}" for lib, v in compile_s.items()))
    lines += _late_compile(sum(sum(r.get("numba_compiled_in_fit") or [0])
                               for r in report["runs"] if r["library"] == "accelboost"
                               and r["status"] == "ok"), "timed fits")
    lines += _failure_lines(report["summary"], ("library", "n_samples", "leaves",
                                                "threads", "load"))
    lines += [f"- {lib} skipped: {why}" for lib, why in report["skipped"].items()]
    return "\n".join(lines) + "\n"


# -- stages -------------------------------------------------------------------------
STAGES = {"n_stages": 20_000, "window": 1_000, "long_learning_rate": 0.01,
          "hgb_stages": 3_000, "learning_rate": 0.1, "repeats": 3, "n_threads": 2}
STAGES_QUICK = {"n_stages": 2_000, "window": 200, "hgb_stages": 300, "repeats": 1}
TARGET_LATE_RATIO, TARGET_HGB_RATIO = 1.2, 1.0


def stump_params(library: str, n_stages: int, learning_rate: float,
                 n_threads: int, seed: int) -> dict[str, Any]:
    """Stumps with early stopping that scores every stage on 10% of the
    training rows and never stops (``n_iter_no_change`` = the stages)."""
    method = "zero" if library == "accelboost" else library
    return {**METHODS[method].params("regression", learning_rate, 2, n_stages,
                                     n_threads, seed),
            "early_stopping": True, "validation_fraction": 0.1,
            "n_iter_no_change": n_stages, "scoring": "loss"}


def window_stats(per_stage: np.ndarray, window: int) -> dict[str, Any]:
    """Median seconds of the first and the last ``window`` stages, their
    ratio, and the median of each tenth of the stages."""
    first = float(np.nanmedian(per_stage[:window]))
    last = float(np.nanmedian(per_stage[-window:]))
    return {"first_s": first, "last_s": last, "ratio": _report.ratio(last, first),
            "tenths_s": [float(np.nanmedian(part)) for part in
                         np.array_split(per_stage, min(10, len(per_stage)))]}


def measure_stages(part: str, library: str, n_stages: int, learning_rate: float,
                   n_threads: int, window: int = 0, seed: int = 0,
                   repeat: int = 0) -> dict[str, Any]:
    """One stump fit on diamonds in this (fresh) process. ``part`` "long":
    accelboost on all rows, every stage's wall time taken through an
    ``accelboost.callbacks`` callback; "hgb": on the training split under a
    thread cap, timed whole, with its MSE on the test split."""
    from threadpoolctl import threadpool_limits

    run: dict[str, Any] = {"part": part, "library": library, "repeat": repeat}
    long = part == "long"
    try:
        data = load_dataset("diamonds", seed=seed)
        X, y = contention_data(DIAMONDS_ROWS, seed)[:2] if long else (
            data.X_train, data.y_train)
        params = stump_params(library, n_stages, learning_rate, n_threads, seed)
        cls = LIBRARIES[library].estimator("regression")
        run.update(params=params, n_train=len(y))
        marks: list[float] = []
        with (contextlib.nullcontext() if long
              else threadpool_limits(limits=n_threads)):
            run["compile_s"] = _warm_up(cls, params, "max_iter", X, y)
            model = cls(**params)
            tic = time.perf_counter()
            model.fit(X, y, **({"callbacks": [StageClock(marks)]} if long else {}))
            run.update(fit_s=time.perf_counter() - tic, n_iter=int(model.n_iter_))
            prediction = None if long else model.predict(data.X_test)
        if long:
            wall = np.diff(marks)  # marks[0]: the fit started, before binning
            return {**run, "status": "ok", "wall": window_stats(wall, window),
                    "stage_wall_s": np.round(wall, 7).tolist()}
        run.update(
            n_test=len(data.y_test),
            fit_per_stage_s=run["fit_s"] / max(1, run["n_iter"]),
            heldout_loss=heldout_loss("regression", data.y_test, prediction),
            baseline_loss=baseline_loss("regression", data.y_train, data.y_test),
            # minus half the squared error, each on its own validation rows
            validation_loss=-float(model.validation_score_[-1]))
    except Exception as exc:  # reported; the other runs go on
        return _report.error_run(run, exc)
    return {**run, "status": "ok"}


def run_stages(*, parts=("long", "hgb"), timeout=None, command="", seed: int = 0,
               log: Any = sys.stderr, **settings: Any) -> dict[str, Any]:
    """The long fits and the fits against HGB, a process each; ``settings``
    override :data:`STAGES`."""
    config = {**STAGES, **settings, "parts": list(parts), "seed": seed}
    config["window"] = max(1, min(config["window"], config["n_stages"] // 2))
    per_part = {  # a part's settings and libraries
        "long": ({"n_stages": config["n_stages"], "window": config["window"],
                  "learning_rate": config["long_learning_rate"]}, ("accelboost",)),
        "hgb": ({"n_stages": config["hgb_stages"],
                 "learning_rate": config["learning_rate"]}, ("accelboost", "sklearn"))}
    jobs = [("measure_stages", {"part": part, "library": library, "seed": seed,
                                "n_threads": config["n_threads"], "repeat": repeat,
                                **per_part[part][0]},
             config["n_threads"], contextlib.nullcontext())
            for repeat in range(config["repeats"]) for part in per_part
            if part in parts for library in per_part[part][1]]
    started = time.perf_counter()
    runs = _children(jobs, log=log, timeout=timeout, describe=lambda r: (
        f"{r['part']} {r['library']}: {r['n_iter']} stages in {r['fit_s']:.2f} s"))
    summary, targets = summarize_stages(runs)
    return _report.new_report("stages", SCHEMA_VERSION, command, config, runs,
                              started, summary=summary, targets=targets)


def summarize_stages(runs):
    """Medians over repeats: the long fit's window statistics (each run's own
    last / first ratio), and per library of the HGB part its fit time,
    stages and losses, with ``hgb_ratio_fit_s`` (accelboost / HGB); and the
    two targets (``what``, ``value``, ``limit``, ``met``)."""
    ok = [r for r in runs if r["status"] == "ok"]
    longs = [r["wall"] for r in ok if r["part"] == "long"]
    summary: dict[str, Any] = {"long": None, "hgb": {}}
    if longs:
        summary["long"] = {k: median(s[k] for s in longs)
                           for k in ("first_s", "last_s", "ratio")}
        summary["long"]["tenths_s"] = [median(c) for c in zip(
            *(s["tenths_s"] for s in longs), strict=True)]
        summary["long"]["n_iter"] = min(r["n_iter"] for r in ok
                                        if r["part"] == "long")
    for library in ("accelboost", "sklearn"):
        mine = [r for r in ok if r["part"] == "hgb" and r["library"] == library]
        if mine:
            summary["hgb"][library] = {
                **{k: median(r[k] for r in mine) for k in (
                    "fit_s", "fit_per_stage_s", "heldout_loss", "validation_loss",
                    "compile_s")},
                "n_runs": len(mine), "n_iter": min(r["n_iter"] for r in mine)}
    hgb = summary["hgb"]
    summary["hgb_ratio_fit_s"] = _report.ratio(
        hgb.get("accelboost", {}).get("fit_s"), hgb.get("sklearn", {}).get("fit_s"))
    late = summary["long"]["ratio"] if summary["long"] else None
    targets = [{"what": what, "value": value, "limit": limit,
                "met": None if value is None else value <= limit}
               for what, value, limit in (
                   ("long fit: last / first window, wall per stage", late,
                    TARGET_LATE_RATIO),
                   ("stumps with early stopping: accelboost / HistGradientBoosting "
                    "fit time", summary["hgb_ratio_fit_s"], TARGET_HGB_RATIO))]
    return summary, targets


def stages_markdown(report: dict[str, Any]) -> str:
    """The stages report: the long fit's windows and tenths, the table against
    HGB, the targets."""
    config, summary = report["config"], report["summary"]
    lines = _report.header(
        "Long fits: per-stage time, and stumps against HistGradientBoosting",
        report, [f"{config['n_threads']} thread(s); medians of "
                 f"{config['repeats']} fit(s), each in a fresh process after a "
                 "warm-up fit; early stopping on 10% of the training rows, never "
                 "triggered."])
    long, window = summary["long"], config["window"]
    if "long" in config["parts"]:
        lines += ["", f"## {config['n_stages']:,} stumps, learning rate "
                  f"{config['long_learning_rate']:g}, diamonds ({DIAMONDS_ROWS:,} "
                  "rows)", ""]
        if long is None:
            lines.append("No long fit succeeded.")
        else:
            lines += _report.table(
                ["ms per stage (wall, scoring included)", f"first {window:,} stages",
                 f"last {window:,} stages", "last / first"],
                [["median", fmt(long["first_s"] * 1e3, ".3g"),
                  fmt(long["last_s"] * 1e3, ".3g"), fmt(long["ratio"], ".2f", "×")]])
            lines += ["", "Median ms per stage in each tenth of the fit: " + ", ".join(
                fmt(v * 1e3, ".3g") for v in long["tenths_s"]) + "."]
            if long["n_iter"] < config["n_stages"]:
                lines.append(f"\nnote: a fit stopped after {long['n_iter']} stages")
    if "hgb" in config["parts"]:
        lines += ["", f"## {config['hgb_stages']:,} stumps with early stopping, "
                  f"learning rate {config['learning_rate']:g}, diamonds' 80% "
                  "training split (held-out MSE on the other 20%)", ""]
        rows = []
        for library in ("accelboost", "sklearn"):
            e = summary["hgb"].get(library)
            ratio = summary["hgb_ratio_fit_s"] if library == "accelboost" else 1.0
            rows.append([LIBRARIES[library].label] + (["failed"] + [""] * 4 if e is None
                        else [f"{e['fit_s']:.2f}", fmt(e["fit_per_stage_s"] * 1e3,
                                                       ".3g"),
                              e["n_iter"], f"{e['heldout_loss']:.5f}",
                              fmt(ratio, ".2f", "×")]))
        lines += _report.table(["library", "fit s", "ms/stage", "stages",
                                "held-out MSE", "× HGB"], rows)
    lines += [""] + [_target_line(t["what"], t["value"], t["limit"])
                     for t in report["targets"]]
    lines += _failure_lines(report["runs"], ("part", "library", "repeat"))
    return "\n".join(lines) + "\n"


# -- command line -------------------------------------------------------------------
def _thread_setting(text: str) -> int | str:
    return text if text == "default" else positive_int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The four parts of ``python -m benchmarks speed`` and their options (None:
    the part's default, or its ``--quick`` preset)."""
    parts = parser.add_subparsers(dest="part", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", metavar="PATH", type=Path, default=None,
                        help="write the results here, and the report beside it "
                        "(same name, .md)")
    common.add_argument("--from-json", metavar="PATH", type=Path, default=None,
                        help="only render the report of saved results")
    common.add_argument("--repeats", type=positive_int, default=None)
    common.add_argument("--seed", type=int, default=0, help="default: 0")
    common.add_argument("--timeout", type=float, default=None,
                        help="per-process time limit in seconds")
    engine = parts.add_parser("engine", parents=[common],
                              help="fit, predict, memory, compile at 1M rows")
    contention = parts.add_parser("contention", parents=[common],
                                  help="fit time with one core busy")
    contention.add_argument("--quick", action="store_true",
                            help="2,000 and 43,000 rows, 20 trees, one repeat")
    stages = parts.add_parser("stages", parents=[common],
                              help="per-stage time of long fits; stumps against "
                              "HGB")
    stages.add_argument("--quick", action="store_true",
                        help="2,000 long stages (200-stage windows), 300 stumps "
                        "against HGB, one repeat")
    scale = parts.add_parser("scale", parents=[common],
                             help="time and peak memory of a 10M-row float32 fit")
    scale.add_argument("--dtype", choices=("float32", "float64"), default=None,
                       help="dtype of X; default: float32")
    scale.add_argument("--order", choices=("C", "F"), default=None,
                       help="memory layout of X; default: C")
    libraries = csv(str, tuple(LIBRARIES))
    for part, key, kind, default in (
            *((engine, key, positive_int, value) for key, value in ENGINE.items()),
            (engine, "tasks", csv(str, TASKS), TASKS),
            (engine, "libraries", libraries, ENGINE_LIBRARIES),
            *((scale, key, positive_int, value) for key, value in SCALE.items()),
            (scale, "libraries", libraries, SCALE_LIBRARIES),
            (contention, "sizes", csv(positive_int), CONTENTION["sizes"]),
            (contention, "leaves", csv(int), CONTENTION["leaves"]),
            (contention, "threads", csv(_thread_setting), CONTENTION["threads"]),
            (contention, "loads", csv(str, CONTENTION["loads"]), CONTENTION["loads"]),
            (contention, "libraries", libraries, CONTENTION["libraries"]),
            (contention, "n_trees", positive_int, "300, 100 from 500,000 rows"),
            (contention, "busy_core", int, BUSY_CORE),
            (stages, "parts", csv(str, ("long", "hgb")), ("long", "hgb")),
            *((stages, key, float if "rate" in key else positive_int, value)
              for key, value in STAGES.items() if key != "repeats")):
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        part.add_argument("--" + key.replace("_", "-"), type=kind, default=None,
                          help=f"default: {shown}")
    engine.add_argument("--numba-cache", choices=("default", "cold"),
                        default="default", help="'cold': accelboost's warm-up "
                        "compiles into an empty Numba cache")


def main(args: argparse.Namespace, command: str) -> int:
    """Run (or, with ``--from-json``, only render) one part."""
    render = {"engine": engine_markdown, "contention": contention_markdown,
              "stages": stages_markdown, "scale": scale_markdown}[args.part]
    if args.from_json is not None:
        import json

        print(render(json.loads(args.from_json.read_text())))
        return 0
    run, preset, quick = {
        "engine": (run_engine, {"repeats": 1}, {}),
        "contention": (run_contention, CONTENTION, CONTENTION_QUICK),
        "stages": (run_stages, STAGES, STAGES_QUICK),
        "scale": (run_scale, {"repeats": 1}, {})}[args.part]
    preset = {**preset, **(quick if getattr(args, "quick", False) else {})}
    settings = {k: preset.get(k) if v is None else v for k, v in vars(args).items()
                if k not in ("subcommand", "part", "json", "from_json", "quick")}
    report = run(**{k: v for k, v in settings.items() if v is not None},
                 command=command)
    text = render(report)
    print(text)
    if args.json is not None:
        _report.save_json(report, args.json)
        args.json.with_suffix(".md").write_text(text)
        print(f"written: {args.json}, {args.json.with_suffix('.md')}")
    return _report.exit_status(report["runs"], ("task", "part", "library",
                                                "n_samples", "leaves", "threads",
                                                "load"))
