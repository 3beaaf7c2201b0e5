"""Engine speed benchmark: accelboost against scikit-learn, LightGBM and XGBoost.

What it measures
----------------
For each task (squared-error regression, log-loss binary classification) and
each library (accelboost, scikit-learn's HistGradientBoosting, LightGBM,
XGBoost ``hist``), in a fresh Python process per (library, task, repeat):

1. **compile s**: a warm-up fit and predict on 1,000 rows and 3 iterations,
   timed. For accelboost this is the Numba first-call cost: JIT compilation
   when the on-disk cache is cold, loading the cached machine code when it
   is warm (the kernels use ``cache=True``, so any earlier run on the machine
   warms it; ``--numba-cache cold`` points Numba at an empty cache directory
   to time a real compilation). The peers have no JIT; their warm-up is timed
   the same way for fairness. The library's import time is recorded apart.
2. **fit s/iter**: wall time of ``fit`` on ``--n-samples`` rows divided by the
   number of iterations fitted (binning included for every library).
3. **predict s**: wall time to predict all the training rows (``predict`` for
   regression, ``predict_proba`` for binary).
4. **fit peak +MB**: how far the process's resident memory rose above its
   level just before ``fit`` (input data already allocated), at its peak
   during ``fit``: the memory the fit itself needs, native allocations
   included (which ``tracemalloc`` cannot see). On Linux the peak is reset
   just before ``fit`` (``/proc/self/clear_refs``) and read from ``VmHWM``,
   the counter behind ``getrusage``'s ``ru_maxrss``; ``ru_maxrss`` itself
   cannot be reset, so it also holds peaks from data generation or the
   warm-up. Elsewhere the ``ru_maxrss`` increase during ``fit`` is used (a
   lower bound).
5. **held-out loss**: MSE or log loss on a separate held-out set
   (``--n-test`` rows), so the reader sees the libraries did comparable work;
   a constant-prediction baseline is printed for scale.
6. **CPU/wall**: the process's CPU time during ``fit`` over its wall time
   (about the number of threads kept busy). The CPU time *other* processes
   took during each fit is recorded too (``others_cpu_share``, Linux), and
   the report warns when it exceeds 10% of the machine: run the benchmark on
   an otherwise idle machine.

The data are synthetic and made inside each child process from a seed (no
large arrays cross processes): 28 features by default (normal, log-normal and
angle-like columns, as in the Higgs data set), a nonlinear function of them
plus noise for regression, and labels drawn from its logistic for binary
classification.

Settings are the same for every library (255 bins, 31 leaves, learning rate
0.1, 20 samples per leaf, no L2, no subsampling, early stopping off, the same
thread count); the exact per-library keyword arguments, and the few that
cannot match, are documented in ``benchmarks/_peers.py`` and recorded in the
``params`` of every JSON result. Each table also gives the ratios
accelboost / peer of fit time per iteration and predict time, and checks the
targets: accelboost's fit per iteration at most 1.5x LightGBM's, its predict
at most 1x scikit-learn's.

How to run
----------
From the repository root, on an otherwise idle machine (the full benchmark
takes tens of minutes on 2 cores)::

    python -m benchmarks.bench_engine --json bench_engine.json

A quick check::

    python -m benchmarks.bench_engine --n-samples 50000 --n-iter 20

Options: ``--n-samples`` (default 1,000,000), ``--n-iter`` (300),
``--n-threads`` (2), ``--tasks regression,binary``,
``--libraries accelboost,sklearn,lightgbm,xgboost``, ``--repeats`` (the
median over repeats is reported), ``--json PATH`` (raw and summarised
results with library versions and machine information), ``--n-test``,
``--n-features``, ``--seed``, ``--numba-cache {default,cold}`` and
``--timeout``. A peer that is not installed is reported and skipped.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _peers
from ._child import run_child

#: Defaults of the issue's benchmark.
N_SAMPLES = 1_000_000
N_TEST = 100_000
N_FEATURES = 28
N_ITER = 300
N_THREADS = 2
#: The nonlinear signal reads features 0..9.
MIN_FEATURES = 10
#: Size of the warm-up fit that absorbs JIT compilation.
WARMUP_SAMPLES = 1_000
WARMUP_ITER = 3
#: Targets of the issue: accelboost / peer ratios not to exceed.
TARGETS = (
    ("fit_per_iter_s", "lightgbm", 1.5, "fit/iter"),
    ("predict_s", "sklearn", 1.0, "predict"),
)
#: Numbered streams of the data seed.
_TRAIN, _TEST, _WARMUP = 0, 1, 2
_LOSS_NAMES = {"regression": "MSE", "binary": "log loss"}


# -- synthetic data ----------------------------------------------------------
def make_synthetic(
    task: str,
    n_samples: int,
    n_features: int = N_FEATURES,
    seed: int = 0,
    stream: int = _TRAIN,
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic synthetic data for a benchmark task.

    Column ``j`` is standard normal (``j % 3 == 0``), log-normal (``1``) or
    uniform on ``[-pi, pi)`` (``2``). The signal ``f`` is a fixed nonlinear
    function of features 0..9 (sines, products, a threshold, a tanh) plus a
    fixed linear term in all features. Regression targets are ``f`` plus
    Gaussian noise of standard deviation 0.5; binary labels are drawn with
    probability ``sigmoid(1.5 (f - median(f)))``, about half positive.

    Parameters
    ----------
    task : {"regression", "binary"}
        Which targets to draw.
    n_samples : int
        Number of rows.
    n_features : int, default=28
        Number of columns, at least 10.
    seed : int, default=0
        Seed of the rows; the function ``f`` does not depend on it.
    stream : int, default=0
        Independent row stream of the seed: 0 for training, 1 for the
        held-out set, 2 for the warm-up fit.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        Features, C-contiguous.
    y : ndarray of shape (n_samples,), dtype float64
        Targets (0.0 / 1.0 labels for binary).
    """
    if task not in _peers.TASKS:
        raise ValueError(f"task must be one of {_peers.TASKS}, got {task!r}")
    if n_features < MIN_FEATURES:
        raise ValueError(f"n_features must be at least {MIN_FEATURES}")
    rng = np.random.default_rng([seed, stream])
    X = _features(rng, n_samples, n_features)
    f = _signal(X)
    if task == "regression":
        f += rng.normal(0.0, 0.5, n_samples)
        return X, f
    f -= _binary_offset(n_features)
    f *= -1.5
    np.exp(f, out=f)
    f += 1.0
    y = (rng.random(n_samples) * f < 1.0).astype(np.float64)  # u < sigmoid
    return X, y


def _features(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    X = np.empty((n, p), dtype=np.float64)
    for j in range(p):
        if j % 3 == 0:
            X[:, j] = rng.standard_normal(n)
        elif j % 3 == 1:
            X[:, j] = rng.lognormal(0.0, 0.5, n)
        else:
            X[:, j] = rng.uniform(-np.pi, np.pi, n)
    return X


def _signal(X: np.ndarray) -> np.ndarray:
    # Kinds: 0, 3, 6, 9 normal; 1, 4, 7 log-normal; 2, 5, 8 angles.
    weights = np.random.default_rng(20_240_601).normal(0.0, 0.1, X.shape[1])
    f = X @ weights
    f += np.sin(1.5 * X[:, 0])
    f += 0.8 * np.log(X[:, 1]) * np.cos(X[:, 2])
    f += 0.6 * np.tanh(X[:, 3] * X[:, 6])
    f += 0.5 * np.where(X[:, 4] > 1.0, X[:, 7], -0.5 * X[:, 7])
    f += 0.4 * np.abs(X[:, 9]) * np.sin(X[:, 5] + X[:, 8])
    return f


@functools.lru_cache
def _binary_offset(n_features: int) -> float:
    """Median of the signal on a fixed pilot sample (same for every seed)."""
    rng = np.random.default_rng([0, 99])
    return float(np.median(_signal(_features(rng, 100_000, n_features))))


def heldout_loss(task: str, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """MSE (regression) or log loss (binary) of a prediction.

    Parameters
    ----------
    task : {"regression", "binary"}
        The benchmark task.
    y_true : ndarray of shape (n_samples,)
        Targets (0/1 labels for binary).
    prediction : ndarray of shape (n_samples,)
        Predicted values, or positive-class probabilities.

    Returns
    -------
    loss : float
        Mean squared error or mean binary cross-entropy.
    """
    if task == "regression":
        return float(np.mean((y_true - prediction) ** 2))
    eps = 1e-15
    p = np.clip(prediction, eps, 1.0 - eps)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log1p(-p)))


# -- memory and CPU probes -----------------------------------------------------
def _status_mb(field: str) -> float | None:
    """A ``Vm*`` field of ``/proc/self/status`` in MB (None off Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _ru_maxrss_mb() -> float:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Bytes on macOS, kilobytes on Linux and the BSDs.
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024.0


def _reset_peak_rss() -> bool:
    """Reset the resident-set high-water mark to the current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _machine_busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _numba_dispatchers(package: str = "accelboost") -> list[Any]:
    """The Numba dispatchers defined in a package's imported modules."""
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:
        return []
    found: dict[int, Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == package or name.startswith(package + ".")):
            continue
        for value in vars(module).values():
            if isinstance(value, Dispatcher):
                found[id(value)] = value
    return list(found.values())


def _numba_counts(package: str = "accelboost") -> dict[str, int]:
    """Compiled signatures and on-disk cache hits/misses of a package."""
    signatures = hits = misses = 0
    for dispatcher in _numba_dispatchers(package):
        signatures += len(dispatcher.signatures)
        try:
            stats = dispatcher.stats
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
        except AttributeError:
            pass
    return {"signatures": signatures, "cache_hits": hits, "cache_misses": misses}


# -- one measurement (runs in the child process) -----------------------------
def measure(
    library: str,
    task: str,
    n_samples: int = N_SAMPLES,
    n_iter: int = N_ITER,
    n_threads: int = N_THREADS,
    n_test: int = N_TEST,
    n_features: int = N_FEATURES,
    seed: int = 0,
    repeat: int = 0,
) -> dict[str, Any]:
    """Time one library on one task, in the current process.

    Meant to run in a fresh process (see :func:`run_in_subprocess`), so that
    the warm-up measures the first call and the memory peak is this fit's.

    Parameters
    ----------
    library : str
        A key of ``benchmarks._peers.LIBRARIES``.
    task : {"regression", "binary"}
        The benchmark task.
    n_samples : int, default=1_000_000
        Training rows (also the rows predicted for the predict time).
    n_iter : int, default=300
        Boosting iterations.
    n_threads : int, default=2
        Threads for the library (and the OpenMP/BLAS limit of the process).
    n_test : int, default=100_000
        Held-out rows for the loss.
    n_features : int, default=28
        Number of features.
    seed : int, default=0
        Data seed.
    repeat : int, default=0
        Index of the repeat, recorded in the result.

    Returns
    -------
    result : dict
        ``status`` ("ok", "skipped" or "error"), the configuration, and for
        "ok" the measured figures (seconds and MB); ``reason`` otherwise.
    """
    result: dict[str, Any] = {
        "library": library,
        "task": task,
        "n_samples": n_samples,
        "n_test": n_test,
        "n_features": n_features,
        "n_iter": n_iter,
        "n_threads": n_threads,
        "seed": seed,
        "repeat": repeat,
    }
    available, reason = _peers.is_available(library)
    if not available:
        return {**result, "status": "skipped", "reason": reason}
    try:
        tic = time.perf_counter()
        _peers.LIBRARIES[library].factory(task)  # imports the library
        result["import_s"] = time.perf_counter() - tic
        result["library_version"] = _peers.library_version(library)
    except (ImportError, OSError) as exc:  # OSError: e.g. a missing libgomp
        return {**result, "status": "skipped", "reason": f"import failed: {exc}"}
    result["params"] = _peers.estimator_params(library, task, n_iter, n_threads, seed)
    try:
        result.update(
            _timed_runs(library, task, n_samples, n_iter, n_threads, n_test,
                        n_features, seed)
        )
    except Exception as exc:  # a broken library must not stop the others
        return {
            **result,
            "status": "error",
            "reason": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    result["status"] = "ok"
    return result


def _timed_runs(library, task, n_samples, n_iter, n_threads, n_test, n_features,
                seed):
    from threadpoolctl import threadpool_limits

    out: dict[str, Any] = {}
    tic = time.perf_counter()
    X, y = make_synthetic(task, n_samples, n_features, seed, _TRAIN)
    X_test, y_test = make_synthetic(task, n_test, n_features, seed, _TEST)
    out["data_s"] = time.perf_counter() - tic
    out["baseline_loss"] = heldout_loss(task, y_test, np.full_like(y_test, y.mean()))

    with threadpool_limits(limits=n_threads):
        # Warm-up: first-call cost (JIT compile or cache load), kept apart.
        X_w, y_w = make_synthetic(task, WARMUP_SAMPLES, n_features, seed, _WARMUP)
        tic = time.perf_counter()
        model = _peers.make_estimator(library, task, WARMUP_ITER, n_threads, seed)
        model.fit(X_w, y_w)
        _peers.predict_for_loss(task, model, X_w)
        out["compile_s"] = time.perf_counter() - tic
        numba_after_warmup = _numba_counts()
        del model, X_w, y_w
        gc.collect()

        out["rss_before_fit_mb"] = _status_mb("VmRSS")
        if _reset_peak_rss() and out["rss_before_fit_mb"] is not None:
            out["rss_method"] = "VmHWM after clear_refs"
            rss_before, peak_probe = out["rss_before_fit_mb"], "VmHWM"
        else:
            out["rss_method"] = "ru_maxrss increase (lower bound)"
            rss_before, peak_probe = _ru_maxrss_mb(), None
        model = _peers.make_estimator(library, task, n_iter, n_threads, seed)
        cpu, busy = _cpu_seconds(), _machine_busy_seconds()
        tic = time.perf_counter()
        model.fit(X, y)
        out["fit_s"] = time.perf_counter() - tic
        out["fit_cpu_s"] = _cpu_seconds() - cpu
        busy_after = _machine_busy_seconds()
        if busy is not None and busy_after is not None:
            # CPU the rest of the machine took while we fitted: contention.
            others = max(0.0, busy_after - busy - out["fit_cpu_s"])
            out["others_cpu_share"] = others / (out["fit_s"] * (os.cpu_count() or 1))
        peak = _status_mb(peak_probe) if peak_probe else _ru_maxrss_mb()
        out["fit_peak_rss_mb"] = peak
        out["fit_peak_delta_mb"] = max(0.0, peak - rss_before)
        out["ru_maxrss_mb"] = _ru_maxrss_mb()
        numba_after_fit = _numba_counts()

        tic = time.perf_counter()
        _peers.predict_for_loss(task, model, X)
        out["predict_s"] = time.perf_counter() - tic
        out["predict_rows"] = X.shape[0]
        out["heldout_loss"] = heldout_loss(
            task, y_test, _peers.predict_for_loss(task, model, X_test)
        )
        numba_after_predict = _numba_counts()

    out["n_iter_fitted"] = _peers.fitted_iterations(library, model)
    out["fit_per_iter_s"] = out["fit_s"] / max(1, out["n_iter_fitted"])
    out["fit_cpu_per_wall"] = out["fit_cpu_s"] / out["fit_s"]
    if library == "accelboost":
        import numba

        out["numba"] = {
            "cache_dir": os.environ.get("NUMBA_CACHE_DIR", "(package __pycache__)"),
            "warmup_cache_hits": numba_after_warmup["cache_hits"],
            "warmup_cache_misses": numba_after_warmup["cache_misses"],
            "signatures_after_warmup": numba_after_warmup["signatures"],
            # Anything compiled inside the timed calls is a warm-up gap.
            "signatures_compiled_in_fit": numba_after_fit["signatures"]
            - numba_after_warmup["signatures"],
            "signatures_compiled_in_predict": numba_after_predict["signatures"]
            - numba_after_fit["signatures"],
            "num_threads": numba.config.NUMBA_NUM_THREADS,
            "threading_layer": _threading_layer(),
        }
    return out


def _threading_layer() -> str:
    import numba

    try:
        return str(numba.threading_layer())
    except ValueError:  # no parallel region has run
        return "unknown"


# -- the parent: one child process per measurement ---------------------------
def run_in_subprocess(
    spec: dict[str, Any],
    *,
    numba_cache_dir: str | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run :func:`measure` in a fresh Python process and return its result.

    Parameters
    ----------
    spec : dict
        Keyword arguments of :func:`measure` (JSON-serialisable).
    numba_cache_dir : str or None, default=None
        ``NUMBA_CACHE_DIR`` for the child (an empty directory times a cold
        compilation); ``None`` keeps Numba's default cache location.
    timeout : float or None, default=None
        Seconds after which the child is killed and an error recorded.

    Returns
    -------
    result : dict
        The child's result, or a result with ``status="error"`` when the
        child failed, was killed, or printed no result.
    """
    extra_env = {} if numba_cache_dir is None else {
        "NUMBA_CACHE_DIR": numba_cache_dir}
    return run_child(
        "benchmarks.bench_engine:measure", spec,
        n_threads=int(spec.get("n_threads", N_THREADS)), timeout=timeout,
        extra_env=extra_env,
    )


def run_benchmark(
    *,
    n_samples: int = N_SAMPLES,
    n_iter: int = N_ITER,
    n_threads: int = N_THREADS,
    tasks: Sequence[str] = _peers.TASKS,
    libraries: Sequence[str] = tuple(_peers.LIBRARIES),
    repeats: int = 1,
    n_test: int = N_TEST,
    n_features: int = N_FEATURES,
    seed: int = 0,
    numba_cache: str = "default",
    timeout: float | None = None,
    log: Any = sys.stderr,
) -> dict[str, Any]:
    """Run every (task, library, repeat) measurement, one process each.

    Parameters
    ----------
    n_samples : int, default=1_000_000
        Training rows.
    n_iter : int, default=300
        Boosting iterations.
    n_threads : int, default=2
        Threads per library.
    tasks : sequence of str, default=("regression", "binary")
        Tasks to run.
    libraries : sequence of str, default=all four
        Libraries to time; those not installed are reported and skipped.
    repeats : int, default=1
        Fresh-process repeats per (task, library); the summary reports the
        median of each figure.
    n_test : int, default=100_000
        Held-out rows for the loss.
    n_features : int, default=28
        Number of features.
    seed : int, default=0
        Data seed (the same data for every library and repeat).
    numba_cache : {"default", "cold"}, default="default"
        "cold" gives each accelboost process an empty Numba cache directory,
        so its compile time is a real JIT compilation.
    timeout : float or None, default=None
        Per-process time limit in seconds.
    log : file-like or None, default=sys.stderr
        Where progress lines go (None: silent).

    Returns
    -------
    report : dict
        ``config``, ``machine``, ``versions``, ``settings`` (the estimator
        parameters of each library and task), ``runs`` (every raw result) and
        ``summary`` (medians and ratios, one entry per task and library, each
        with the versions and machine information).
    """
    for task in tasks:
        if task not in _peers.TASKS:
            raise ValueError(f"unknown task {task!r}; choose from {_peers.TASKS}")
    for library in libraries:
        if library not in _peers.LIBRARIES:
            raise ValueError(
                f"unknown library {library!r}; choose from {tuple(_peers.LIBRARIES)}"
            )
    config = {
        "n_samples": n_samples, "n_test": n_test, "n_features": n_features,
        "n_iter": n_iter, "n_threads": n_threads, "tasks": list(tasks),
        "libraries": list(libraries), "repeats": repeats, "seed": seed,
        "numba_cache": numba_cache, "warmup_samples": WARMUP_SAMPLES,
        "warmup_iter": WARMUP_ITER,
    }
    cpu_count = os.cpu_count() or 1
    if n_threads > cpu_count and log is not None:
        print(
            f"warning: {n_threads} threads on {cpu_count} CPUs oversubscribes; "
            "accelboost is also capped at NUMBA_NUM_THREADS",
            file=log,
        )
    runs = []
    for task in tasks:
        for repeat in range(repeats):
            for library in libraries:
                available, reason = _peers.is_available(library)
                spec = {
                    "library": library, "task": task, "n_samples": n_samples,
                    "n_iter": n_iter, "n_threads": n_threads, "n_test": n_test,
                    "n_features": n_features, "seed": seed, "repeat": repeat,
                }
                if not available:
                    result = {**spec, "status": "skipped", "reason": reason}
                else:
                    result = _run_one(spec, numba_cache, timeout)
                runs.append(result)
                if log is not None:
                    print(_progress_line(result, repeats), file=log, flush=True)
    settings = {
        library: {
            task: _peers.estimator_params(library, task, n_iter, n_threads, seed)
            for task in tasks
        }
        for library in libraries
    }
    machine, versions = machine_info(), _versions(runs)
    summary = summarize(runs, tasks, libraries)
    for entry in summary:  # each figure self-contained
        entry["versions"] = versions
        entry["machine"] = machine
    return {
        "benchmark": "engine",
        "config": config,
        "machine": machine,
        "versions": versions,
        "settings": settings,
        "runs": runs,
        "summary": summary,
    }


def _run_one(spec, numba_cache, timeout):
    if numba_cache == "cold" and spec["library"] == "accelboost":
        cache_dir = tempfile.mkdtemp(prefix="bench_engine_numba_")
        try:
            return run_in_subprocess(spec, numba_cache_dir=cache_dir, timeout=timeout)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
    return run_in_subprocess(spec, timeout=timeout)


def _progress_line(result, repeats):
    head = (
        f"[{result['task']}] {result['library']} "
        f"(repeat {result['repeat'] + 1}/{repeats}): "
    )
    if result["status"] != "ok":
        return head + f"{result['status']}: {result.get('reason', '')}"
    return head + (
        f"fit {result['fit_s']:.2f} s ({result['fit_per_iter_s'] * 1e3:.2f} ms/iter), "
        f"predict {result['predict_s']:.3f} s, compile {result['compile_s']:.2f} s"
    )


_MEDIAN_FIELDS = (
    "fit_s", "fit_per_iter_s", "fit_cpu_s", "fit_cpu_per_wall", "predict_s",
    "fit_peak_delta_mb", "fit_peak_rss_mb", "compile_s", "import_s",
    "heldout_loss", "baseline_loss", "n_iter_fitted", "others_cpu_share",
)
#: Above this share of the CPUs used by other processes during a fit, the
#: report warns that the machine was busy.
_BUSY_SHARE = 0.10


def summarize(
    runs: Sequence[dict[str, Any]],
    tasks: Sequence[str],
    libraries: Sequence[str],
) -> list[dict[str, Any]]:
    """Medians over repeats, and accelboost / peer ratios, per task and library.

    Parameters
    ----------
    runs : sequence of dict
        Results of :func:`measure`.
    tasks : sequence of str
        Tasks, in output order.
    libraries : sequence of str
        Libraries, in output order.

    Returns
    -------
    summary : list of dict
        One entry per (task, library): ``status`` ("ok" when at least one
        repeat succeeded), the medians of the measured figures, and for peers
        ``ratio_fit_per_iter`` and ``ratio_predict`` (accelboost's figure
        divided by the peer's) when accelboost succeeded too.
    """
    summary = []
    for task in tasks:
        entries = {}
        for library in libraries:
            mine = [r for r in runs if r["task"] == task and r["library"] == library]
            ok = [r for r in mine if r["status"] == "ok"]
            first = mine[0] if mine else {}
            entry: dict[str, Any] = {
                key: first.get(key)
                for key in ("task", "library", "n_samples", "n_test", "n_features",
                            "n_iter", "n_threads")
            }
            entry["library_version"] = ok[0].get("library_version") if ok else None
            entry["n_repeats_ok"] = len(ok)
            if ok:
                entry["status"] = "ok"
                for field in _MEDIAN_FIELDS:
                    values = [r[field] for r in ok if r.get(field) is not None]
                    entry[field] = statistics.median(values) if values else None
            else:
                entry["status"] = first.get("status", "missing")
                entry["reason"] = first.get("reason", "")
            entries[library] = entry
        reference = entries.get("accelboost")
        for library, entry in entries.items():
            if library == "accelboost" or entry["status"] != "ok":
                continue
            if reference is None or reference["status"] != "ok":
                continue
            entry["ratio_fit_per_iter"] = (
                reference["fit_per_iter_s"] / entry["fit_per_iter_s"]
            )
            entry["ratio_predict"] = reference["predict_s"] / entry["predict_s"]
        summary.extend(entries.values())
    return summary


# -- reporting ---------------------------------------------------------------
def format_report(report: dict[str, Any]) -> str:
    """The human-readable tables of a :func:`run_benchmark` report.

    Parameters
    ----------
    report : dict
        What :func:`run_benchmark` returned.

    Returns
    -------
    text : str
        One table per task, with footnotes, targets and skipped libraries.
    """
    config = report["config"]
    machine = report["machine"]
    lines = [
        f"Engine benchmark on {machine.get('cpu_model') or machine['machine']}, "
        f"{machine['cpu_count']} CPUs, Python {machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v),
    ]
    for task in config["tasks"]:
        entries = [e for e in report["summary"] if e["task"] == task]
        lines.append("")
        lines.append(
            f"== {task} ({_LOSS_NAMES[task]}): {config['n_samples']:,} rows x "
            f"{config['n_features']} features, {config['n_iter']} iterations, "
            f"{config['n_threads']} threads, held-out {config['n_test']:,} rows, "
            f"median of {config['repeats']} run(s) =="
        )
        lines.extend(_table(entries))
        lines.extend(_footnotes(task, entries, report["runs"], config))
    return "\n".join(lines)


_COLUMNS = (
    # header, key, format
    ("library", "label", "{}"),
    ("fit s/iter", "fit_per_iter_s", "{:.4f}"),
    ("predict s", "predict_s", "{:.3f}"),
    ("fit peak +MB", "fit_peak_delta_mb", "{:.0f}"),
    ("compile s", "compile_s", "{:.2f}"),
    ("held-out loss", "heldout_loss", "{:.5f}"),
    ("CPU/wall", "fit_cpu_per_wall", "{:.2f}"),
    ("ab/peer fit", "ratio_fit_per_iter", "{:.2f}x"),
    ("ab/peer predict", "ratio_predict", "{:.2f}x"),
)


def _table(entries):
    rows = []
    for entry in entries:
        if entry["status"] != "ok":
            continue
        cells = []
        for _, key, fmt in _COLUMNS:
            if key == "label":
                cells.append(_peers.LIBRARIES[entry["library"]].label)
            elif entry.get(key) is None:
                cells.append("-")
            else:
                cells.append(fmt.format(entry[key]))
        rows.append(cells)
    if not rows:
        return ["(no library ran successfully)"]
    headers = [header for header, _, _ in _COLUMNS]
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in rows))
        for i in range(len(headers))
    ]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:],
                                                        strict=True))
        return "  ".join((first, *rest))

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _footnotes(task, entries, runs, config):
    notes = []
    by_library = {e["library"]: e for e in entries}
    ok = [e for e in entries if e["status"] == "ok"]
    if ok:
        notes.append(
            f"constant-prediction {_LOSS_NAMES[task]} on the held-out set: "
            f"{ok[0]['baseline_loss']:.5f}"
        )
    for entry in ok:
        if entry["n_iter_fitted"] < config["n_iter"]:
            notes.append(
                f"note: {entry['library']} stopped after "
                f"{entry['n_iter_fitted']:.0f} of {config['n_iter']} iterations "
                "(fit s/iter divides by the iterations fitted)"
            )
    accel = [
        r for r in runs
        if r["task"] == task and r["library"] == "accelboost" and r["status"] == "ok"
    ]
    if accel:
        numba_info = accel[0].get("numba", {})
        hits = numba_info.get("warmup_cache_hits", 0)
        misses = numba_info.get("warmup_cache_misses", 0)
        state = "cold (compiled)" if hits == 0 else "warm (loaded from cache)"
        notes.append(
            f"accelboost compile s = warm-up fit+predict on {WARMUP_SAMPLES:,} rows x "
            f"{WARMUP_ITER} iterations in a fresh process; Numba cache {state}: "
            f"{hits} hits, {misses} misses; threading layer "
            f"{numba_info.get('threading_layer')}"
        )
        late = sum(
            r["numba"]["signatures_compiled_in_fit"]
            + r["numba"]["signatures_compiled_in_predict"]
            for r in accel if "numba" in r
        )
        if late:
            notes.append(
                f"warning: accelboost compiled {late} Numba signature(s) inside "
                "the timed fit/predict; the warm-up missed them"
            )
    busy = [
        f"{e['library']} {100 * e['others_cpu_share']:.0f}%"
        for e in ok
        if (e.get("others_cpu_share") or 0.0) > _BUSY_SHARE
    ]
    if busy:
        notes.append(
            "warning: other processes used CPU during the fits (median share of "
            "all CPUs: " + ", ".join(busy) + "); timings are unreliable"
        )
    for target_key, peer, limit, what in TARGETS:
        entry, ratio_key = by_library.get(peer), (
            "ratio_fit_per_iter" if target_key == "fit_per_iter_s" else "ratio_predict"
        )
        if entry is None or entry.get(ratio_key) is None:
            continue
        ratio = entry[ratio_key]
        verdict = "met" if ratio <= limit else "NOT met"
        notes.append(
            f"target accelboost {what} <= {limit:g}x "
            f"{_peers.LIBRARIES[peer].label}: {ratio:.2f}x, {verdict}"
        )
    for entry in entries:
        if entry["status"] != "ok":
            notes.append(
                f"{entry['status']}: {entry['library']}: {entry.get('reason', '')}"
            )
    return notes


def machine_info() -> dict[str, Any]:
    """Machine description for the results.

    Returns
    -------
    info : dict
        Platform, processor, Python version, CPU counts and memory.
    """
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "cpu_model": None,
        "memory_total_mb": None,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    info["memory_total_mb"] = int(line.split()[1]) // 1024
                    break
    except OSError:
        pass
    return info


def _versions(runs):
    versions = {}
    for dist in ("accelboost", "numpy", "numba", "scikit-learn", "lightgbm",
                 "xgboost", "threadpoolctl"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    for run in runs:  # the versions the children actually imported
        if run.get("library_version"):
            dist = "scikit-learn" if run["library"] == "sklearn" else run["library"]
            versions[dist] = run["library_version"]
    return versions


# -- command line -------------------------------------------------------------
def _csv(choices):
    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated subset of {','.join(choices)}"
            )
        return items

    return parse


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of the engine benchmark.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parser for :func:`main`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_engine",
        description="Time accelboost's fit and predict against scikit-learn's "
        "HistGradientBoosting, LightGBM and XGBoost on synthetic data.",
    )
    parser.add_argument("--n-samples", type=_positive_int, default=N_SAMPLES,
                        help="training rows (default: %(default)s)")
    parser.add_argument("--n-iter", type=_positive_int, default=N_ITER,
                        help="boosting iterations (default: %(default)s)")
    parser.add_argument("--n-threads", type=_positive_int, default=N_THREADS,
                        help="threads per library (default: %(default)s)")
    parser.add_argument("--tasks", type=_csv(_peers.TASKS),
                        default=list(_peers.TASKS),
                        help="comma-separated tasks (default: regression,binary)")
    parser.add_argument("--libraries", type=_csv(tuple(_peers.LIBRARIES)),
                        default=list(_peers.LIBRARIES),
                        help="comma-separated libraries (default: "
                        + ",".join(_peers.LIBRARIES) + ")")
    parser.add_argument("--repeats", type=_positive_int, default=1,
                        help="fresh-process repeats; the median is reported "
                        "(default: %(default)s)")
    parser.add_argument("--json", metavar="PATH", type=Path, default=None,
                        help="write the raw and summarised results here")
    parser.add_argument("--n-test", type=_positive_int, default=N_TEST,
                        help="held-out rows for the loss (default: %(default)s)")
    parser.add_argument("--n-features", type=int, default=N_FEATURES,
                        help="number of features, at least "
                        f"{MIN_FEATURES} (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="data seed (default: %(default)s)")
    parser.add_argument("--numba-cache", choices=("default", "cold"),
                        default="default",
                        help="'cold' times accelboost's warm-up with an empty "
                        "Numba cache, i.e. a real JIT compilation "
                        "(default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-process time limit in seconds (default: none)")
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
        0 when every run of an installed library succeeded, 1 otherwise.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n_features < MIN_FEATURES:
        parser.error(f"--n-features must be at least {MIN_FEATURES}")
    report = run_benchmark(
        n_samples=args.n_samples,
        n_iter=args.n_iter,
        n_threads=args.n_threads,
        tasks=args.tasks,
        libraries=args.libraries,
        repeats=args.repeats,
        n_test=args.n_test,
        n_features=args.n_features,
        seed=args.seed,
        numba_cache=args.numba_cache,
        timeout=args.timeout,
    )
    print(format_report(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nresults written to {args.json}")
    errors = [r for r in report["runs"] if r["status"] == "error"]
    for run in errors:
        print(
            f"\nerror in {run['library']} / {run['task']}: {run.get('reason')}\n"
            + (run.get("traceback") or run.get("stderr_tail") or ""),
            file=sys.stderr,
        )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
