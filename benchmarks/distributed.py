"""``python -m benchmarks distributed``: accelboost's Dask estimators on a
local two-worker cluster, against the in-memory fit and LightGBM-Dask.

Data: ``--rows`` rows (default 2,000,000; ``--quick`` 200,000) x 28 features
of :func:`._data.make_synthetic` (regression, and binary labels drawn from
the same signal), cut into blocks of 250,000 rows (at least one per worker);
block ``b`` is ``make_synthetic(task, rows_b, seed=seed, stream=1000 + b)``,
its own seeded generator. On the cluster each block is made by a future
pinned to its worker (the first half of the blocks on the first worker) and
wrapped with ``da.from_delayed``: the client never holds the rows. The
in-memory fit makes the same blocks in its own process and joins them.

Every fit grows ``--trees`` trees (100; ``--quick`` 20) of 31 leaves, 255
bins, learning rate 0.1, no early stopping, plain boosting
(``stage_init="zero"``) and, for the regressor, also accelerated
(``stage_init="stacking"``, momentum 0.5, the restart rule "function": what
"auto" picks for trees of at most 4 leaves; with 31 leaves "auto" is plain
boosting):

* in memory: ``AccelBoostRegressor``/``Classifier`` with ``n_threads=2`` on
  the rows as one NumPy array, in a fresh process (:mod:`._child`) run
  before the cluster starts, so that its time and peak memory are its own;
  plain boosting once more on one thread (the compute constant ``c`` of the
  model below);
* Dask: ``DaskAccelBoostRegressor``/``Classifier`` on
  ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``;
* LightGBM-Dask: ``DaskLGBMRegressor``/``Classifier`` on the same cluster
  and data (``tree_learner="data"``, the trees of :mod:`._peers`; LightGBM
  gives each worker its worker's one thread).

Fit times are wall times of whole fits (binning included; Numba warmed up
first: the in-memory process by a small fit, the workers by a tiny fit of
each estimator on the cluster, both reported apart as compile / warm-up
time), medians of ``--repeats`` (3; ``--quick`` 1), the cluster's fits
interleaved repeat by repeat. A Dask fit also gives its per-stage times (an
``accelboost.callbacks`` clock), its round trips and histogram bytes per
tree (``fit_stats_``), each worker's peak resident memory over its resident
memory when the fit started (``VmHWM`` after ``clear_refs``, read with
``client.run``), and the arrays each shard keeps per row (found by walking
the shard actors' attributes on the workers after the last stage).

Targets (:data:`TARGETS`): the Dask fit within 2x the in-memory fit's time
and within LightGBM-Dask's; each worker's peak within 1.5x its share of the
binned rows plus the per-row state its shard keeps. ``report.md`` also
fits a cost model of a tree over W workers to the measurements and predicts
a fit of 1e9 rows on 100 workers (:func:`tree_time_model`).

Writes ``--out`` (default ``benchmarks/results/distributed``)/results.json
and report.md; ``--report-only`` re-renders the report from the JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import operator
import os
import statistics
import sys
import time
import warnings
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _child, _data, _report
from ._child import FitProbe, PeakMemory, run_child
from ._data import LOSS_NAMES, make_synthetic
from ._peers import LIBRARIES, WARMUP_ROWS, WARMUP_STAGES, StageClock, heldout_loss
from ._report import csv, fmt, median, positive_int, verdict

SCHEMA_VERSION = 1
OUT = Path("benchmarks") / "results" / "distributed"
RESULTS_NAME, REPORT_NAME = "results.json", "report.md"
#: Sizes: the default run and ``--quick``.
DEFAULTS = {"n_samples": 2_000_000, "n_trees": 100, "repeats": 3}
QUICK = {"n_samples": 200_000, "n_trees": 20, "repeats": 1}
TASKS = ("regression", "binary")
#: Stage policies fitted per task: plain boosting, and for the regressor the
#: accelerated one, "stacking" at its default momentum (0.5) and restart rule
#: ("function"): what ``stage_init="auto"`` picks for trees of at most 4
#: leaves; with 31 leaves "auto" is "zero".
VARIANTS = {"regression": ("zero", "stacking"), "binary": ("zero",)}
N_FEATURES = 28
BLOCK_ROWS = 250_000
#: Streams of ``make_synthetic``: block b of the training rows, of the
#: warm-up rows.
FIRST_STREAM, WARMUP_FIRST_STREAM = 1000, 2000
N_WORKERS = 2
IN_MEMORY_THREADS = 2
LEAVES, LEARNING_RATE = 31, 0.1
#: Held-out rows (a sanity check that every fit learned the same thing).
N_TEST = 50_000
#: The cluster's warm-up: rows per worker and trees.
WARMUP_ROWS_PER_WORKER, WARMUP_TREES = 5_000, 3
#: No-op round trips timed for the latency L, and sums timed for t_sum.
LATENCY_CALLS, SUM_REPEATS = 50, 200
#: Bins per feature of a histogram (255 and the missing bin), and channels
#: (gradient, hessian, count; float64).
HISTOGRAM_BINS, HISTOGRAM_CHANNELS = 256, 3
#: Targets: Dask fit time over the in-memory fit's and over LightGBM-Dask's;
#: a worker's peak over (binned share + kept per-row state).
TARGET_VS_IN_MEMORY, TARGET_VS_LIGHTGBM, TARGET_MEMORY = 2.0, 1.0, 1.5
TARGETS = {"vs_in_memory": TARGET_VS_IN_MEMORY, "vs_lightgbm": TARGET_VS_LIGHTGBM,
           "memory": TARGET_MEMORY}
#: The model's assumed bandwidth (bytes/s) and the size it extrapolates to.
ASSUMED_BANDWIDTH = 1e9
SCALE = {"n_samples": 10**9, "n_workers": 100, "n_trees": 100}
#: The run-time estimate's constants (this 2-core machine): ns per row per
#: tree in memory on 2 threads and on 1, per worker row on the cluster
#: (accelboost, LightGBM), s per Dask tree of round trips, s of fixed cost
#: per fit and per child process, ns per row to make the data.
ESTIMATE = {"in_memory_ns": 95.0, "one_thread_ns": 160.0, "dask_ns": 170.0,
            "lightgbm_ns": 190.0, "dask_tree_s": 0.12, "fit_s": 4.0,
            "child_s": 4.0, "make_ns": 1400.0, "cluster_s": 25.0}
MB = 2.0**20


# -- data ---------------------------------------------------------------------------
def block_sizes(n_samples: int, block_rows: int = BLOCK_ROWS,
                n_workers: int = N_WORKERS) -> list[int]:
    """Rows of each block: ``block_rows`` at most, at least one block per
    worker, sizes within one row of each other."""
    n_blocks = max(n_workers, -(-n_samples // block_rows))
    q, r = divmod(n_samples, n_blocks)
    return [q + (b < r) for b in range(n_blocks)]


def block_owners(n_blocks: int, n_workers: int) -> list[int]:
    """The worker of each block: consecutive blocks, split evenly."""
    return [b * n_workers // n_blocks for b in range(n_blocks)]


def make_block(task: str, n_rows: int, n_features: int, seed: int,
               stream: int) -> tuple[np.ndarray, np.ndarray]:
    """One block's ``(X, y)`` (run where the block lives)."""
    return make_synthetic(task, n_rows, n_features, seed, stream)


def materialize(task: str, sizes: Sequence[int], n_features: int, seed: int,
                first_stream: int = FIRST_STREAM) -> tuple[np.ndarray, np.ndarray]:
    """Every block, one after the other, as one NumPy ``(X, y)``."""
    n = int(sum(sizes))
    X = np.empty((n, n_features), dtype=np.float64)
    y = np.empty(n, dtype=np.float64)
    start = 0
    for b, rows in enumerate(sizes):
        X[start:start + rows], y[start:start + rows] = make_block(
            task, rows, n_features, seed, first_stream + b)
        start += rows
    return X, y


def scatter_blocks(client, workers, task, sizes, n_features, seed,
                   first_stream=FIRST_STREAM):
    """The blocks made on their workers, as Dask arrays ``(X, y)``; also the
    futures that hold them (release them to free the rows) and the rows
    on each worker."""
    import dask.array as da
    from distributed import wait

    owners = block_owners(len(sizes), len(workers))
    xs, ys, held = [], [], []
    for b, (rows, owner) in enumerate(zip(sizes, owners, strict=True)):
        where = {"workers": [workers[owner]], "allow_other_workers": False,
                 "pure": False}
        part = client.submit(make_block, task, rows, n_features, seed,
                             first_stream + b, **where)
        x = client.submit(operator.getitem, part, 0, **where)
        y = client.submit(operator.getitem, part, 1, **where)
        held += [x, y]
        xs.append(da.from_delayed(x, (rows, n_features), dtype=np.float64))
        ys.append(da.from_delayed(y, (rows,), dtype=np.float64))
    wait(held)
    per_worker = [sum(r for r, o in zip(sizes, owners, strict=True) if o == w)
                  for w in range(len(workers))]
    return da.concatenate(xs), da.concatenate(ys), held, per_worker


# -- estimators ---------------------------------------------------------------------
def accelboost_params(task: str, variant: str, n_trees: int, seed: int,
                      n_threads: int) -> dict[str, Any]:
    """The trees of :mod:`._peers` (31 leaves, 255 bins, no early stopping),
    with the variant's ``stage_init``."""
    params = LIBRARIES["accelboost"].params(task, n_trees, leaves=LEAVES,
                                            learning_rate=LEARNING_RATE,
                                            n_threads=n_threads, seed=seed)
    return {**params, "stage_init": variant}


def lightgbm_params(task: str, n_trees: int, seed: int) -> dict[str, Any]:
    """LightGBM's trees of :mod:`._peers`, data-parallel; no thread count
    (LightGBM-Dask takes each worker's)."""
    params = LIBRARIES["lightgbm"].params(task, n_trees, leaves=LEAVES,
                                          learning_rate=LEARNING_RATE,
                                          n_threads=1, seed=seed)
    params.pop("n_jobs", None)
    return {**params, "tree_learner": "data"}


def dask_estimator(kind: str, task: str, variant: str, n_trees: int, seed: int,
                   client):
    """An unfitted Dask estimator: ``kind`` "dask" (accelboost) or
    "lightgbm"."""
    if kind == "dask":
        from accelboost.dask import DaskAccelBoostClassifier, DaskAccelBoostRegressor

        cls = DaskAccelBoostRegressor if task == "regression" \
            else DaskAccelBoostClassifier
        return cls(client=client, **accelboost_params(task, variant, n_trees, seed, 1))
    import lightgbm

    cls = lightgbm.DaskLGBMRegressor if task == "regression" \
        else lightgbm.DaskLGBMClassifier
    return cls(client=client, **lightgbm_params(task, n_trees, seed))


def stage_seconds(marks: Sequence[float]) -> list[float]:
    """Each stage's wall time from a :func:`._peers.StageClock`'s marks."""
    return np.diff(np.asarray(marks, dtype=np.float64)).tolist()


def steady_per_tree(stage_s: Sequence[float] | None) -> float | None:
    """Mean seconds per stage after the first (the first holds the fit's
    set-up: binning in memory, the shards' start on the cluster)."""
    if not stage_s:
        return None
    later = stage_s[1:] or stage_s
    return float(np.mean(later))


# -- the in-memory fit (in a child process) ----------------------------------------
def measure_in_memory(task: str, variant: str, n_samples: int, n_features: int,
                      block_rows: int, n_workers: int, n_trees: int, n_threads: int,
                      seed: int, n_test: int, repeat: int = 0) -> dict[str, Any]:
    """In this (fresh) process: make the blocks, warm up, fit once with a
    stage clock, peak memory and Numba probes; held-out loss."""
    run: dict[str, Any] = {"kind": "in_memory", "task": task, "variant": variant,
                           "n_threads": n_threads, "repeat": repeat}
    try:
        tic = time.perf_counter()
        sizes = block_sizes(n_samples, block_rows, n_workers)
        X, y = materialize(task, sizes, n_features, seed)
        run["make_s"] = time.perf_counter() - tic
        cls = LIBRARIES["accelboost"].estimator(task)
        params = accelboost_params(task, variant, n_trees, seed, n_threads)
        X_w, y_w = make_synthetic(task, WARMUP_ROWS, n_features, seed,
                                  _data.STREAM_WARMUP)
        tic = time.perf_counter()
        cls(**{**params, "max_iter": WARMUP_STAGES}).fit(X_w, y_w)
        run["compile_s"] = time.perf_counter() - tic
        gc.collect()
        model, marks = cls(**params), []
        with PeakMemory() as memory, FitProbe() as probe:
            model.fit(X, y, callbacks=[StageClock(marks)])
        run.update(probe.result(), peak_mb=memory.peak, peak_delta_mb=memory.delta,
                   rss_method=memory.method, n_trees_fitted=int(model.n_iter_),
                   stage_s=stage_seconds(marks), params=params)
        del X, y
        X_t, y_t = make_synthetic(task, n_test, n_features, seed, _data.STREAM_TEST)
        run["heldout_loss"] = heldout_loss(
            task, y_t, LIBRARIES["accelboost"].predict(model, X_t, task))
    except Exception as exc:  # reported; the other runs go on
        return _report.error_run(run, exc)
    return {**run, "status": "ok"}


# -- on the workers (through client.run) -------------------------------------------
def _reset_peak() -> float | None:
    """Collect garbage, make VmHWM the current VmRSS; the VmRSS (MB)."""
    gc.collect()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    rss = _child._status_mb("VmRSS")
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return rss


def _read_peak() -> dict[str, float | None]:
    return {"peak_mb": _child._status_mb("VmHWM"), "rss_mb": _child._status_mb("VmRSS")}


def _signatures() -> int:
    return _child.numba_counts()["signatures"]


def _import_seconds() -> float:
    """Seconds to import accelboost's Dask side here (the first import: the
    Numba dispatchers are made, nothing is compiled or loaded yet)."""
    tic = time.perf_counter()
    import accelboost._distributed.rows  # noqa: F401
    import accelboost.dask  # noqa: F401

    return time.perf_counter() - tic


def per_row_arrays(root: Any, n_rows: int, exclude: Sequence[np.ndarray] = (),
                   package: str = "accelboost") -> dict[str, int]:
    """The arrays reachable from ``root`` with a dimension of ``n_rows``:
    ``{path: bytes}``, each memory block once (a view counts as its base),
    under the shortest attribute path to it.

    The walk follows dicts, lists, tuples and the attributes of objects of
    ``package``'s classes; the blocks of ``exclude`` (the binned rows) are
    left out.
    """
    def owner(array):
        while isinstance(array.base, np.ndarray):
            array = array.base
        return array

    skipped = {id(owner(a)) for a in exclude}
    found: dict[int, tuple[str, int]] = {}
    seen: set[int] = set()
    queue: deque[tuple[str, Any]] = deque([("", root)])
    while queue:  # breadth first: the shortest path wins
        path, obj = queue.popleft()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            block = owner(obj)
            if (n_rows in obj.shape and id(block) not in skipped
                    and id(block) not in found):
                found[id(block)] = (path, int(block.nbytes))
            continue
        if isinstance(obj, dict):
            items = [(str(k), v) for k, v in obj.items()]
        elif isinstance(obj, list | tuple):
            items = [(f"[{i}]", v) for i, v in enumerate(obj)]
        elif (hasattr(obj, "__dict__") and not isinstance(obj, type)
              and type(obj).__module__.split(".")[0] == package):
            items = sorted(vars(obj).items())
        else:
            continue
        for key, value in items:
            sep = "" if not path or key.startswith("[") else "."
            queue.append((f"{path}{sep}{key}", value))
    return {path: nbytes for path, nbytes in sorted(found.values())}


def _shard_state(dask_worker=None) -> list[dict[str, Any]]:
    """Each shard actor on this worker: its rows, the bytes of its binned
    rows and the per-row arrays it keeps."""
    from accelboost._distributed.shard import Shard

    shards = []
    for actor in list(dask_worker.state.actors.values()):
        if isinstance(actor, Shard):
            shards.append({"n_rows": int(actor.n_rows),
                           "binned_bytes": int(actor.X_binned.nbytes),
                           "arrays": per_row_arrays(actor, actor.n_rows,
                                                    exclude=[actor.X_binned])})
    return shards


class Echo:
    """A no-op actor: round trips without work, and with a reply of a given
    size."""

    payload = None

    def ping(self):
        return None

    def prepare(self, nbytes: int) -> int:
        self.payload = np.ones(max(1, int(nbytes) // 8))
        return int(self.payload.nbytes)

    def reply(self):
        return self.payload


def _clock_and_state(client, marks, states, n_trees):
    """A callback: a stage clock that, after the last stage, records each
    worker's shards (:func:`_shard_state`) while they still hold the fit."""
    from accelboost.callbacks import Callback

    class _Clock(Callback):
        def before_fit(self, estimator):
            marks.append(time.perf_counter())

        def after_stage(self, info):
            marks.append(time.perf_counter())
            if info.stage == n_trees - 1:
                states.update(client.run(_shard_state))

    return _Clock()


# -- on the cluster -----------------------------------------------------------------
def _tree_cpu_seconds() -> float:
    """CPU seconds of this process and its live descendants (the cluster)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def others_cpu_share(busy_before: float | None, ours_before: float,
                     busy_after: float | None, ours_after: float,
                     wall: float, n_cpus: int) -> float | None:
    """The share of all CPUs that processes outside ours used meanwhile."""
    if busy_before is None or busy_after is None or wall <= 0:
        return None
    others = (busy_after - busy_before) - (ours_after - ours_before)
    return max(0.0, others) / (wall * max(1, n_cpus))


def fit_on_cluster(client, workers, kind, task, variant, X, y, test, n_trees, seed,
                   repeat, rows) -> dict[str, Any]:
    """One Dask fit, measured: wall time, stage times, worker and driver
    peaks, Numba signatures compiled on the workers, ``fit_stats_``, the
    shards' state, held-out loss."""
    run: dict[str, Any] = {"kind": kind, "task": task, "variant": variant,
                           "repeat": repeat, "worker_rows": rows}
    try:
        model = dask_estimator(kind, task, variant, n_trees, seed, client)
        run["params"] = {k: v for k, v in model.get_params().items()
                         if k != "client"}
        signatures = client.run(_signatures) if kind == "dask" else None
        before = client.run(_reset_peak)
        worker_cpu = client.run(_child.cpu_seconds)
        marks: list[float] = []
        states: dict[str, list] = {}
        kwargs = ({"callbacks": [_clock_and_state(client, marks, states, n_trees)]}
                  if kind == "dask" else {})
        busy, ours = _child.machine_busy_seconds(), _tree_cpu_seconds()
        cpu = _child.cpu_seconds()
        with PeakMemory() as driver, warnings.catch_warnings():
            # LightGBM-Dask: "n_jobs will be ignored" (it takes the workers')
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            tic = time.perf_counter()
            model.fit(X, y, **kwargs)
            run["fit_s"] = time.perf_counter() - tic
        run["client_cpu_s"] = _child.cpu_seconds() - cpu
        run["others_cpu_share"] = others_cpu_share(
            busy, ours, _child.machine_busy_seconds(), _tree_cpu_seconds(),
            run["fit_s"], os.cpu_count() or 1)
        after, cpu_after = client.run(_read_peak), client.run(_child.cpu_seconds)
        run["workers"] = [
            {"rss_before_mb": before[w], **after[w],
             "cpu_s": cpu_after[w] - worker_cpu[w],
             "peak_delta_mb": None if after[w]["peak_mb"] is None
             or before[w] is None else after[w]["peak_mb"] - before[w]}
            for w in workers]
        run.update(driver_peak_mb=driver.peak, driver_peak_delta_mb=driver.delta)
        if kind == "dask":
            compiled = client.run(_signatures)
            run["numba_compiled_in_fit"] = sum(compiled[w] - signatures[w]
                                               for w in workers)
            stats = model.fit_stats_
            run.update(n_trees_fitted=int(model.n_iter_), stage_s=stage_seconds(marks),
                       rounds=list(stats.rounds), bytes=list(stats.bytes),
                       shards=[s for w in workers for s in states.get(w, [])])
            local = model.to_local()
        else:
            local = model.to_local()
            run["n_trees_fitted"] = int(local.booster_.current_iteration())
        X_t, y_t = test
        run["heldout_loss"] = heldout_loss(task, y_t, LIBRARIES["accelboost"].predict(
            local, X_t, task))
    except Exception as exc:  # reported; the other fits go on
        return _report.error_run(run, exc)
    return {**run, "status": "ok"}


def sample_probe(client, workers, X, seed: int) -> dict[str, Any]:
    """Gather the bin sample as ``accelboost.dask`` does before binning
    (``client.compute(X[rows])`` of the rows ``BinMapper.sample_rows``
    draws), outside a fit: its seconds and each worker's peak increase."""
    from accelboost._engine.binning import BinMapper

    rows = BinMapper(max_bins=255, random_state=seed).sample_rows(X.shape[0])
    before = client.run(_reset_peak)
    tic = time.perf_counter()
    sample = client.compute(X if rows is None else X[rows], sync=True)
    seconds = time.perf_counter() - tic
    after = client.run(_read_peak)
    return {"rows": int(sample.shape[0]), "seconds": seconds,
            "worker_peak_delta_mb": [
                None if after[w]["peak_mb"] is None or before[w] is None
                else after[w]["peak_mb"] - before[w] for w in workers]}


def round_trip_seconds(actors, method, calls, *args) -> list[float]:
    """Wall time of ``method`` called on every actor at once and waited for,
    as ``DaskGroup.call`` does (from a worker: the coordinator), ``calls``
    times."""
    from distributed import get_client

    from accelboost.dask import DaskGroup

    group = DaskGroup(get_client(), actors, [])
    times = []
    for _ in range(calls):
        tic = time.perf_counter()
        group.call(method, *args)
        times.append(time.perf_counter() - tic)
    return times


class Prober:
    """An actor beside the first shard that times calls to every worker from
    there, as the fit's coordinator makes them."""

    def time_calls(self, actors, method: str, calls: int) -> list[float]:
        return round_trip_seconds(actors, method, calls)


def histogram_sum_seconds(n_features: int, repeats: int = SUM_REPEATS) -> float:
    """Median time, in this process, to add one histogram (``n_features`` x
    256 bins x 3 channels, float64) into a running total."""
    rng = np.random.default_rng(0)
    shape = (n_features, HISTOGRAM_BINS, HISTOGRAM_CHANNELS)
    total, histogram = np.zeros(shape), rng.random(shape)
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        total += histogram
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


@contextlib.contextmanager
def local_cluster(n_workers: int = N_WORKERS):
    """A ``LocalCluster`` of one-thread worker processes and its client,
    both closed on the way out whatever happens."""
    from distributed import Client, LocalCluster

    cluster = client = None
    try:
        with warnings.catch_warnings():  # "port 8787 in use" (another cluster)
            warnings.simplefilter("ignore", UserWarning)
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
        client = Client(cluster)
        yield client
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=30)
        if cluster is not None:
            cluster.close(timeout=30)


def _warm_up(client, workers, config, log) -> dict[str, Any]:
    """Tiny fits of every estimator on the cluster (Numba's cache load or
    compile on the workers and in the driver); each one's seconds."""
    out: dict[str, Any] = {"import on the workers": max(
        client.run(_import_seconds).values())}
    n = config["n_workers"] * WARMUP_ROWS_PER_WORKER
    sizes = block_sizes(n, WARMUP_ROWS_PER_WORKER, config["n_workers"])
    for task in config["tasks"]:
        X, y, held, _ = scatter_blocks(client, workers, task, sizes,
                                       config["n_features"], config["seed"],
                                       WARMUP_FIRST_STREAM)
        for kind, variant in [("dask", v) for v in VARIANTS[task]] + [
                ("lightgbm", None)]:
            name = f"{task} {kind}" + (f" {variant}" if variant else "")
            tic = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Parameter n_jobs will be")
                    dask_estimator(kind, task, variant, WARMUP_TREES, config["seed"],
                                   client).fit(X, y)
                out[name] = time.perf_counter() - tic
            except Exception as exc:  # the real fits will report it again
                out[name] = None
                _log(log, f"warm-up {name} failed: {type(exc).__name__}: {exc}")
        client.cancel(held)
        del X, y, held
    return out


def _latency(client, workers, round_bytes) -> dict[str, Any]:
    """Round trips to every worker at once: no-op (L), and with each worker
    replying ``round_bytes`` (a measured round's histograms)."""
    futures = [client.submit(Echo, actor=True, workers=[w], pure=False)
               for w in workers]
    futures.append(client.submit(Prober, actor=True, workers=[workers[0]],
                                 pure=False))
    try:
        *actors, prober = [f.result() for f in futures]

        def timed(method, calls):
            return prober.time_calls(actors, method, calls).result()

        timed("ping", 5)  # connections up
        noop = timed("ping", LATENCY_CALLS)
        out = {"noop_s": statistics.median(noop), "noop_p90_s": float(
            np.percentile(noop, 90)), "calls": LATENCY_CALLS}
        if round_bytes:
            sent = [a.prepare(round_bytes).result() for a in actors][0]
            payload = timed("reply", LATENCY_CALLS)
            extra = statistics.median(payload) - out["noop_s"]
            # One worker's reply crosses the network; the other is in process.
            out.update(payload_bytes=sent, payload_s=statistics.median(payload),
                       loopback_bytes_per_s=((len(actors) - 1) * sent / extra
                                             if extra > 0 else None))
        return out
    finally:
        client.cancel(futures)


def run_cluster(config: dict[str, Any], progress, log) -> dict[str, Any]:
    """Everything on the cluster: warm-up, the fits, the latency; the
    cluster closed at the end whatever happens."""
    out: dict[str, Any] = {"runs": []}
    tic = time.perf_counter()
    with local_cluster(config["n_workers"]) as client:
        workers = sorted(client.scheduler_info()["workers"])
        out["start_s"] = time.perf_counter() - tic
        out["warmup_s"] = _warm_up(client, workers, config, log)
        progress.step(f"cluster up in {out['start_s']:.1f} s, warm-up " + ", ".join(
            f"{k} {fmt(v, '.1f')} s" for k, v in out["warmup_s"].items()))
        sizes = block_sizes(config["n_samples"], config["block_rows"],
                            config["n_workers"])
        for task in config["tasks"]:
            tic = time.perf_counter()
            X, y, held, rows = scatter_blocks(client, workers, task, sizes,
                                              config["n_features"], config["seed"])
            out.setdefault("make_s", {})[task] = time.perf_counter() - tic
            test = make_synthetic(task, config["n_test"], config["n_features"],
                                  config["seed"], _data.STREAM_TEST)
            out.setdefault("sample_probe", {})[task] = sample_probe(
                client, workers, X, config["seed"])
            progress.step(f"{task}: {config['n_samples']:,} rows made on the workers "
                          f"({', '.join(f'{r:,}' for r in rows)}) in "
                          f"{out['make_s'][task]:.1f} s")
            try:
                for repeat in range(config["repeats"]):
                    for kind, variant in [("dask", v) for v in VARIANTS[task]] + [
                            ("lightgbm", None)]:
                        run = fit_on_cluster(client, workers, kind, task, variant, X,
                                             y, test, config["n_trees"],
                                             config["seed"], repeat, rows)
                        out["runs"].append(run)
                        progress.step(_describe(run))
            finally:
                client.cancel(held)
                del X, y, held
        zero = [r for r in out["runs"] if r["kind"] == "dask" and r["status"] == "ok"
                and r["variant"] == "zero"]
        round_bytes = median(sum(r["bytes"]) / sum(r["rounds"]) / config["n_workers"]
                             for r in zero) if zero else None
        out["latency"] = _latency(client, workers, round_bytes)
        progress.step(f"latency: no-op round trip {out['latency']['noop_s'] * 1e3:.2f}"
                      " ms")
    return out


# -- the whole run ------------------------------------------------------------------
def estimate_seconds(config: dict[str, Any]) -> float:
    """A rough wall time of the run on a 2-core machine (:data:`ESTIMATE`)."""
    e, n, trees = ESTIMATE, config["n_samples"], config["n_trees"]
    per_worker = n / config["n_workers"]
    total = e["cluster_s"]
    for task in config["tasks"]:
        fits = len(VARIANTS[task]) * config["repeats"]
        child = e["child_s"] + e["make_ns"] * 1e-9 * n + e["fit_s"]
        total += fits * (child + e["in_memory_ns"] * 1e-9 * n * trees)
        total += child + e["one_thread_ns"] * 1e-9 * n * trees
        total += e["make_ns"] * 1e-9 * per_worker
        total += fits * (e["fit_s"] + trees * (e["dask_ns"] * 1e-9 * per_worker
                                               + e["dask_tree_s"]))
        total += config["repeats"] * (e["fit_s"]
                                      + trees * e["lightgbm_ns"] * 1e-9 * per_worker)
    return total


def _describe(run: dict[str, Any]) -> str:
    name = f"{run['task']} {run['kind']}" + (
        f" {run['variant']}" if run.get("variant") and run["kind"] != "lightgbm"
        else "") + (f" {run['n_threads']} thr" if "n_threads" in run else "")
    if run["status"] != "ok":
        return f"{name}: {run['status']}: {run.get('reason')}"
    text = f"{name}: fit {run['fit_s']:.2f} s"
    if run.get("rounds"):
        text += (f", {np.mean(run['rounds']):.1f} rounds/tree, "
                 f"{np.mean(run['bytes']) / MB:.1f} MB/tree")
    if run.get("workers"):
        text += ", worker peak +" + "/".join(fmt(w["peak_delta_mb"], ".0f")
                                            for w in run["workers"]) + " MB"
    return text


def run(*, n_samples: int, n_trees: int, repeats: int, tasks: Sequence[str] = TASKS,
        seed: int = 0, n_test: int = N_TEST, block_rows: int = BLOCK_ROWS,
        n_workers: int = N_WORKERS, n_features: int = N_FEATURES,
        timeout: float | None = None, command: str = "",
        log: Any = sys.stderr) -> dict[str, Any]:
    """The in-memory fits (fresh processes), then the cluster; the report."""
    config = {"n_samples": n_samples, "n_trees": n_trees, "repeats": repeats,
              "tasks": list(tasks), "seed": seed, "n_test": n_test,
              "block_rows": block_rows, "n_workers": n_workers,
              "n_features": n_features, "in_memory_threads": IN_MEMORY_THREADS,
              "leaves": LEAVES, "learning_rate": LEARNING_RATE,
              "variants": {t: list(VARIANTS[t]) for t in tasks}}
    config["estimated_s"] = estimate_seconds(config)
    _log(log, f"distributed: {n_samples:,} rows x {n_features}, {n_trees} trees, "
         f"{repeats} repeat(s), tasks {', '.join(tasks)}; estimated "
         f"{config['estimated_s'] / 60:.1f} min")
    jobs = []
    for task in tasks:
        for repeat in range(repeats):
            jobs += [(task, v, IN_MEMORY_THREADS, repeat) for v in VARIANTS[task]]
        jobs.append((task, "zero", 1, 0))
    n_cluster_steps = 2 + sum(1 + repeats * (len(VARIANTS[t]) + 1) for t in tasks)
    progress = _report.Progress(len(jobs) + n_cluster_steps, log)
    started = time.perf_counter()
    runs = []
    for task, variant, threads, repeat in jobs:
        spec = {"task": task, "variant": variant, "n_samples": n_samples,
                "n_features": n_features, "block_rows": block_rows,
                "n_workers": n_workers, "n_trees": n_trees, "n_threads": threads,
                "seed": seed, "n_test": n_test, "repeat": repeat}
        result = run_child("benchmarks.distributed:measure_in_memory", spec,
                           n_threads=threads, timeout=timeout)
        runs.append({"kind": "in_memory", **result})
        progress.step(_describe(runs[-1]))
    cluster = run_cluster(config, progress, log)
    runs += cluster.pop("runs")
    report = _report.new_report("distributed", SCHEMA_VERSION, command, config, runs,
                                started, cluster=cluster)
    report["versions"].update(_more_versions())
    return finish(report)


def _more_versions() -> dict[str, str | None]:
    import importlib.metadata

    found = {}
    for dist in ("dask", "distributed", "psutil"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    return found


def _log(log: Any, text: str) -> None:
    if log is not None:
        print(text, file=log, flush=True)


# -- summary, targets, model --------------------------------------------------------
def target(what: str, value: float | None, limit: float) -> dict[str, Any]:
    """A target: ``value <= limit`` (``met`` None when not measured)."""
    return {"what": what, "value": value, "limit": limit,
            "met": None if value is None else bool(value <= limit)}


def time_targets(label: str, dask_s: float | None, in_memory_s: float | None,
                 lightgbm_s: float | None) -> list[dict[str, Any]]:
    """The Dask fit's time against the in-memory fit's and LightGBM-Dask's."""
    return [target(f"{label}: Dask fit / in-memory fit ({IN_MEMORY_THREADS} "
                   "threads)", _report.ratio(dask_s, in_memory_s),
                   TARGET_VS_IN_MEMORY),
            target(f"{label}: Dask fit / LightGBM-Dask fit",
                   _report.ratio(dask_s, lightgbm_s), TARGET_VS_LIGHTGBM)]


def memory_budget_bytes(rows: int, n_features: int,
                        state_bytes_per_row: float) -> float:
    """A worker's binned rows (one byte a value) plus its shard's per-row
    state."""
    return rows * (n_features + state_bytes_per_row)


def memory_target(label: str, peak_delta_mb: Sequence[float | None],
                  rows: Sequence[int], n_features: int,
                  state_bytes_per_row: float | None) -> dict[str, Any]:
    """The worst worker's peak increase over its budget
    (:func:`memory_budget_bytes`), against :data:`TARGET_MEMORY`."""
    ratios = []
    if state_bytes_per_row is not None and peak_delta_mb and all(
            p is not None for p in peak_delta_mb):
        ratios = [p * MB / memory_budget_bytes(r, n_features, state_bytes_per_row)
                  for p, r in zip(peak_delta_mb, rows, strict=True) if r > 0]
    return target(f"{label}: worker peak / (binned share + per-row state)",
                  max(ratios) if ratios else None, TARGET_MEMORY)


def tree_time_model(c_ns: float, n_rows: float, n_workers: int, round_trips: float,
                    latency_s: float, round_bytes: float, bandwidth: float,
                    sum_s: float) -> dict[str, Any]:
    """``T_tree = c n / W + R (L + (W - 1) S / B + W t_sum)``, by term.

    ``c``: compute ns per row per tree on one thread; ``R``: round trips per
    tree; ``L``: a no-op round trip to every worker; ``S``: the histogram
    bytes one worker sends per round trip; ``B``: bandwidth (bytes/s) into
    the driver; ``t_sum``: the driver's time to add one worker's ``S`` bytes
    into the total. Returns the terms (s), ``total_s`` and ``dominant`` (the
    largest term's name).
    """
    terms = {"compute_s": c_ns * 1e-9 * n_rows / n_workers,
             "latency_s": round_trips * latency_s,
             "transfer_s": round_trips * (n_workers - 1) * round_bytes / bandwidth,
             "sum_s": round_trips * n_workers * sum_s}
    return {**terms, "total_s": sum(terms.values()),
            "dominant": max(terms, key=terms.get)}


def tree_reduction_model(c_ns: float, n_rows: float, n_workers: int,
                         round_trips: float, latency_s: float, round_bytes: float,
                         bandwidth: float, sum_s: float) -> dict[str, Any]:
    """The same tree with the histograms summed by a binary tree over the
    workers: per round ``ceil(log2 W)`` steps of one latency, one
    histogram's transfer and one sum, and the driver receives the total."""
    steps = math.ceil(math.log2(n_workers)) if n_workers > 1 else 0
    terms = {"compute_s": c_ns * 1e-9 * n_rows / n_workers,
             "latency_s": round_trips * latency_s * max(1, steps),
             "transfer_s": round_trips * steps * round_bytes / bandwidth,
             "sum_s": round_trips * steps * sum_s}
    return {**terms, "total_s": sum(terms.values()),
            "dominant": max(terms, key=terms.get)}


def best_workers(c_ns: float, n_rows: float, round_trips: float, latency_s: float,
                 round_bytes: float, bandwidth: float, sum_s: float,
                 limit: int = 100_000) -> tuple[int, float]:
    """The worker count that minimises the model's tree time (the driver's
    ingress grows with W as the compute shrinks), and that time."""
    def time_at(w):
        return tree_time_model(c_ns, n_rows, w, round_trips, latency_s, round_bytes,
                               bandwidth, sum_s)["total_s"]

    # T(W) = a / W + b W + const is convex: ternary search on integers.
    lo, hi = 1, limit
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if time_at(m1) <= time_at(m2):
            hi = m2
        else:
            lo = m1
    best = min(range(lo, hi + 1), key=time_at)
    return best, time_at(best)


def _ok(runs, **keys):
    return [r for r in runs if r.get("status") == "ok"
            and all(r.get(k) == v for k, v in keys.items())]


def state_per_row(runs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The shards' kept per-row arrays, from the fits' walks: bytes per row
    by array (the largest over shards and fits), their total, the binned
    bytes per row."""
    shards = [s for r in runs for s in r.get("shards") or [] if s["n_rows"]]
    if not shards:
        return None
    arrays: dict[str, float] = {}
    for shard in shards:
        for path, nbytes in shard["arrays"].items():
            arrays[path] = max(arrays.get(path, 0.0), nbytes / shard["n_rows"])
    totals = [sum(s["arrays"].values()) / s["n_rows"] for s in shards]
    return {"arrays": dict(sorted(arrays.items(), key=lambda kv: -kv[1])),
            "bytes_per_row": max(totals),
            "binned_bytes_per_row": max(s["binned_bytes"] / s["n_rows"]
                                        for s in shards),
            "shard_rows": sorted({s["n_rows"] for s in shards})}


def summarize(report: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Per (task, variant): the medians of each kind of fit, ratios,
    rounds and bytes per tree, peaks, the shards' state; and the targets."""
    config, runs = report["config"], report["runs"]
    trees = config["n_trees"]
    summary, targets = [], []
    for task in config["tasks"]:
        lightgbm = _ok(runs, kind="lightgbm", task=task)
        lgbm_s = median(r["fit_s"] for r in lightgbm)
        for variant in VARIANTS[task]:
            memory = _ok(runs, kind="in_memory", task=task, variant=variant,
                         n_threads=IN_MEMORY_THREADS)
            one = _ok(runs, kind="in_memory", task=task, variant=variant, n_threads=1)
            dask = _ok(runs, kind="dask", task=task, variant=variant)
            entry = {
                "task": task, "variant": variant,
                "in_memory": _medians(memory, trees),
                "in_memory_1_thread": _medians(one, trees) if one else None,
                "dask": _medians(dask, trees),
                "lightgbm": _medians(lightgbm, trees),
                "state": state_per_row(dask),
            }
            d = entry["dask"]
            if dask:
                d["rounds_per_tree"] = median(float(np.mean(r["rounds"])) for r in dask)
                d["bytes_per_tree"] = median(float(np.mean(r["bytes"])) for r in dask)
                d["numba_compiled_in_fit"] = max(r["numba_compiled_in_fit"]
                                                 for r in dask)
            entry["ratio_vs_in_memory"] = _report.ratio(d.get("fit_s"),
                                                        entry["in_memory"].get("fit_s"))
            entry["ratio_vs_lightgbm"] = _report.ratio(d.get("fit_s"), lgbm_s)
            label = f"{task} {variant}"
            targets += time_targets(label, d.get("fit_s"),
                                    entry["in_memory"].get("fit_s"), lgbm_s)
            state = entry["state"]
            peaks = d.get("worker_peak_delta_mb") or []
            rows = dask[0]["worker_rows"] if dask else []
            targets.append(memory_target(
                label, peaks, rows, config["n_features"],
                None if state is None else state["bytes_per_row"]))
            summary.append(entry)
    return summary, targets


def _medians(runs: Sequence[dict[str, Any]], n_trees: int) -> dict[str, Any]:
    if not runs:
        return {"n_ok": 0}
    out = {"n_ok": len(runs)}
    for key in ("fit_s", "heldout_loss", "compile_s", "peak_delta_mb",
                "driver_peak_delta_mb", "client_cpu_s"):
        out[key] = median(r.get(key) for r in runs)
    out["fit_per_tree_s"] = _report.ratio(out["fit_s"], n_trees)
    out["stage_per_tree_s"] = median(steady_per_tree(r.get("stage_s")) for r in runs)
    out["n_trees_fitted"] = min(r.get("n_trees_fitted", 0) for r in runs)
    if runs[0].get("workers"):
        n_workers = len(runs[0]["workers"])
        out["worker_peak_delta_mb"] = [
            median(r["workers"][w]["peak_delta_mb"] for r in runs)
            for w in range(n_workers)]
        out["worker_peak_mb"] = [median(r["workers"][w]["peak_mb"] for r in runs)
                                 for w in range(n_workers)]
        out["worker_cpu_s"] = [median(r["workers"][w].get("cpu_s") for r in runs)
                               for w in range(n_workers)]
    return out


def model_inputs(report: dict[str, Any], task: str = "regression"
                 ) -> dict[str, Any] | None:
    """The model's measured parameters, from a task's plain-boosting fits:
    c from the one-thread in-memory stages, R and S from ``fit_stats_``, L
    and t_sum from the latency probes; and the measured Dask s/tree."""
    config, runs = report["config"], report["runs"]
    one = _ok(runs, kind="in_memory", task=task, variant="zero", n_threads=1)
    dask = _ok(runs, kind="dask", task=task, variant="zero")
    latency = report.get("cluster", {}).get("latency") or {}
    t_hist = report.get("cluster", {}).get("histogram_sum_s")
    if not one or not dask or "noop_s" not in latency or t_hist is None:
        return None
    n, workers = config["n_samples"], config["n_workers"]
    c_ns = median(steady_per_tree(r["stage_s"]) for r in one) / n * 1e9
    # Round trips per tree: fit_stats_'s rounds (the root's included) and
    # the reply that carries the finished tree back to the shards.
    rounds = median(float(np.mean(r["rounds"])) + 1 for r in dask)
    bytes_per_tree = median(float(np.mean(r["bytes"])) for r in dask)
    round_bytes = bytes_per_tree / (rounds * workers)
    hist_bytes = config["n_features"] * HISTOGRAM_BINS * HISTOGRAM_CHANNELS * 8
    return {"task": task, "c_ns": c_ns, "n_rows": n, "n_workers": workers,
            "round_trips": rounds, "latency_s": latency["noop_s"],
            "round_bytes": round_bytes, "bandwidth": ASSUMED_BANDWIDTH,
            "histogram_bytes": hist_bytes, "histogram_sum_s": t_hist,
            "sum_s": t_hist * round_bytes / hist_bytes,
            "measured_tree_s": median(steady_per_tree(r["stage_s"]) for r in dask),
            "fit_trees": config["n_trees"],
            "client_cpu_s": median(r.get("client_cpu_s") for r in dask),
            "worker_cpu_s": median(max((w.get("cpu_s") or 0) for w in r["workers"])
                                   for r in dask)}


def build_model(report: dict[str, Any]) -> dict[str, Any] | None:
    """The model checked at the measured size and extrapolated to
    :data:`SCALE`, flat (the driver receives every worker's histograms)
    and with a tree reduction."""
    tasks = report["config"]["tasks"]
    inputs = model_inputs(report, "regression" if "regression" in tasks else tasks[0])
    if inputs is None:
        return None
    keys = ("c_ns", "n_rows", "n_workers", "round_trips", "latency_s",
            "round_bytes", "bandwidth", "sum_s")
    args = {k: inputs[k] for k in keys}
    here = tree_time_model(**args)
    at_scale = {**args, "n_rows": SCALE["n_samples"], "n_workers": SCALE["n_workers"]}
    flat = tree_time_model(**at_scale)
    tree = tree_reduction_model(**at_scale)
    best_w, best_s = best_workers(**{k: at_scale[k] for k in keys
                                     if k != "n_workers"})
    return {"inputs": inputs, "here": here,
            "here_ratio": _report.ratio(inputs["measured_tree_s"], here["total_s"]),
            "scale": SCALE, "flat": flat, "tree_reduction": tree,
            "flat_fit_s": flat["total_s"] * SCALE["n_trees"],
            "tree_fit_s": tree["total_s"] * SCALE["n_trees"],
            "best_workers": best_w, "best_tree_s": best_s}


def finish(report: dict[str, Any]) -> dict[str, Any]:
    """Add the summary, the targets and the model (idempotent)."""
    cluster = report.setdefault("cluster", {})
    if "histogram_sum_s" not in cluster:
        cluster["histogram_sum_s"] = histogram_sum_seconds(
            report["config"]["n_features"])
    report["summary"], report["targets"] = summarize(report)
    report["model"] = build_model(report)
    return report


# -- the report ---------------------------------------------------------------------
NETWORK_NOTE = (
    "Bytes on the wire per worker are not reported: Linux has no per-process "
    "socket counter. psutil.Process().io_counters() (read_chars/write_chars, "
    "/proc/<pid>/io) counts read()/write() calls, and asyncio's sockets use "
    "send()/recv(): checked here, 20 round trips returning 688 KB from each "
    "worker moved its read_chars by 0.4 MB (file reads) and its write_chars by "
    "0. psutil.net_io_counters() and /proc/<pid>/net/dev count the whole "
    "network namespace (the machine), and the cluster talks over loopback. "
    "So the only traffic figure is accelboost's own payload count, fit_stats_ "
    "(histogram and sum bytes the shards sent to the driver; Dask's framing "
    "and the driver's requests, a few hundred bytes per round, not counted), "
    "and none for LightGBM.")


def _s(value, spec=".2f"):
    return fmt(value, spec)


def markdown(report: dict[str, Any]) -> str:
    """The report: setup, a table per task, the targets, memory, traffic
    and the cost model."""
    config, cluster = report["config"], report.get("cluster", {})
    versions = report.get("versions", {})
    lines = _report.header("Distributed fits: accelboost.dask on a local cluster",
                           report, [
        f"{config['n_samples']:,} rows x {config['n_features']} features "
        f"(make_synthetic, blocks of at most {config['block_rows']:,} rows, each "
        "from its own seeded stream, made on the workers), "
        f"{config['n_trees']} trees of {config['leaves']} leaves, 255 bins, "
        f"learning rate {config['learning_rate']}, no early stopping; median of "
        f"{config['repeats']} fit(s); held-out loss on {config['n_test']:,} rows.",
        f"Cluster: LocalCluster(n_workers={config['n_workers']}, "
        "threads_per_worker=1, processes=True) on this machine, its scheduler "
        "and the client in this process, accelboost's driver (the tree grower) "
        "in a coordinator actor on the first shard's worker; dask "
        f"{versions.get('dask')}, distributed {versions.get('distributed')}.",
        f"In memory: {IN_MEMORY_THREADS} threads, a fresh process per fit run "
        "before the cluster started; plain boosting once more on 1 thread.",
        "Fit s: the whole fit (binning, and on the cluster the sample for the "
        "bins and the shards' start, included); s/tree (stages): mean wall time "
        "of the stages after the first (accelboost only: LightGBM-Dask's "
        "callbacks run on the workers).",
    ])
    lines += ["", "## Targets", ""]
    targets = report.get("targets", [])
    failed = [t for t in targets if t["met"] is False]
    unmeasured = [t for t in targets if t["met"] is None]
    lines.append(f"{sum(t['met'] is True for t in targets)} of {len(targets)} "
                 f"targets met; {len(failed)} NOT met; {len(unmeasured)} not "
                 "measured.")
    lines.append("")
    for t in targets:
        lines.append(f"- {'**NOT met**' if t['met'] is False else verdict(t['met'])}"
                     f": {t['what']} <= {t['limit']:g}x: {fmt(t['value'], '.2f', 'x')}")
    lines += ["", "## Warm-up (before the timed fits)", "",
              f"- Cluster start {_s(cluster.get('start_s'), '.1f')} s.",
              "- Warm-up on the cluster: accelboost's import on the workers, "
              f"then tiny fits ({WARMUP_ROWS_PER_WORKER:,} rows per worker, "
              f"{WARMUP_TREES} trees; the first accelboost fit loads the Numba "
              "kernels from the cache, or compiles them, on the workers and in "
              "the driver), s: " + ", ".join(
                  f"{k} {fmt(v, '.2f')}" for k, v in
                  (cluster.get("warmup_s") or {}).items()) + "."]
    for task, seconds in (cluster.get("make_s") or {}).items():
        lines.append(f"- {task}: blocks made on the workers in {seconds:.1f} s.")
    for task in config["tasks"]:
        lines += _task_section(report, task)
    lines += _memory_section(report)
    lines += ["", "## Traffic", "", NETWORK_NOTE]
    lines += _model_section(report)
    failures = [r for r in report.get("runs", []) if r.get("status") != "ok"]
    if failures:
        lines += ["", "## Failed runs", ""]
        lines += [f"- {_describe(r)}" for r in failures]
    return "\n".join(lines) + "\n"


def _task_section(report, task):
    entries = [e for e in report["summary"] if e["task"] == task]
    lines = ["", f"## {task} ({LOSS_NAMES[task]})", ""]
    headers = ["fit", "fit s", "s/tree (fit)", "s/tree (stages)", "rounds/tree",
               "MB/tree", "worker peak +MB", "held-out loss", "x in-memory",
               "x LightGBM"]
    rows = []
    lightgbm = entries[0]["lightgbm"] if entries else {"n_ok": 0}
    for e in entries:
        for label, m, ratios in (
                (f"in memory, {IN_MEMORY_THREADS} thr, {e['variant']}",
                 e["in_memory"], None),
                (f"in memory, 1 thr, {e['variant']}", e["in_memory_1_thread"], None),
                (f"Dask accelboost, {e['variant']}", e["dask"],
                 (e["ratio_vs_in_memory"], e["ratio_vs_lightgbm"]))):
            if not m or not m.get("n_ok"):
                continue
            peak = ("/".join(fmt(p, ".0f") for p in m["worker_peak_delta_mb"])
                    if m.get("worker_peak_delta_mb") else
                    fmt(m.get("peak_delta_mb"), ".0f") + " (process)")
            rows.append([label, _s(m["fit_s"]), fmt(m["fit_per_tree_s"], ".3f"),
                         fmt(m["stage_per_tree_s"], ".3f"),
                         fmt(m.get("rounds_per_tree"), ".1f"),
                         fmt(None if m.get("bytes_per_tree") is None
                             else m["bytes_per_tree"] / MB, ".2f"), peak,
                         fmt(m["heldout_loss"], ".5f"),
                         fmt(ratios and ratios[0], ".2f", "x"),
                         fmt(ratios and ratios[1], ".2f", "x")])
    if lightgbm.get("n_ok"):
        rows.append(["LightGBM-Dask", _s(lightgbm["fit_s"]),
                     fmt(lightgbm["fit_per_tree_s"], ".3f"), _report.MISSING,
                     _report.MISSING, _report.MISSING,
                     "/".join(fmt(p, ".0f") for p in lightgbm["worker_peak_delta_mb"]),
                     fmt(lightgbm["heldout_loss"], ".5f"), _report.MISSING,
                     _report.MISSING])
    lines += _report.table(headers, rows)
    lines.append("")
    busy = [r for r in _ok(report["runs"], task=task)
            if (r.get("others_cpu_share") or 0) > _report.BUSY_SHARE]
    for r in busy:
        name = _describe({**r, "status": "-"}).split(":")[0]
        lines.append(f"- warning: other processes used "
                     f"{100 * r['others_cpu_share']:.0f}% of the CPUs during {name} "
                     f"(repeat {r['repeat']}): its timings are unreliable")
    for e in entries:
        m = e["in_memory"]
        if m.get("n_ok"):
            lines.append(f"- {e['variant']}: in-memory compile (warm-up fit of "
                         f"{WARMUP_ROWS:,} rows x {WARMUP_STAGES} trees) "
                         f"{_s(m['compile_s'])} s; in-memory process peak "
                         f"+{fmt(m['peak_delta_mb'], '.0f')} MB.")
        d = e["dask"]
        if d.get("n_ok"):
            lines.append(f"- {e['variant']}: Dask client process peak "
                         f"+{fmt(d['driver_peak_delta_mb'], '.0f')} MB; Numba "
                         f"signatures compiled on the workers during the timed "
                         f"fits: {d['numba_compiled_in_fit']}"
                         + (" (the warm-up missed them)"
                            if d["numba_compiled_in_fit"] else "") + ".")
            if d["n_trees_fitted"] < report["config"]["n_trees"]:
                lines.append(f"- warning: a Dask fit stopped after "
                             f"{d['n_trees_fitted']} trees")
    return lines


def _memory_section(report):
    config = report["config"]
    lines = ["", "## Memory per worker", "",
             "Budget = 1.5 x (the worker's binned rows, "
             f"{config['n_features']} bytes a row, + the per-row state its shard "
             "keeps). The per-row state is measured, not guessed: after the last "
             "stage of each Dask fit the shard actors' attributes are walked on "
             "the workers (client.run) and every array with a dimension of the "
             "shard's row count is counted once (views as their base; the binned "
             "rows apart). Peak = VmHWM after the fit minus VmRSS when it started "
             "(the worker already holding its raw float64 blocks, "
             f"{8 * config['n_features'] + 8} bytes a row, which are not "
             "counted); it includes what a stage allocates and frees (e.g. the "
             "new trees' outputs, the next raw predictions) and the prepared "
             "binned blocks that live beside the shard's joined copy at the "
             "start.", ""]
    for e in report["summary"]:
        state, d = e["state"], e["dask"]
        if state is None or not d.get("n_ok"):
            continue
        rows = next((r["worker_rows"] for r in _ok(
            report["runs"], kind="dask", task=e["task"], variant=e["variant"])), [])
        budget = [memory_budget_bytes(r, config["n_features"],
                                      state["bytes_per_row"]) / MB for r in rows]
        lines += [f"### {e['task']} {e['variant']}", "",
                  f"Kept per-row state: {state['bytes_per_row']:.1f} bytes a row "
                  f"(binned rows {state['binned_bytes_per_row']:.0f} bytes a row; "
                  "shards of " + ", ".join(f"{r:,}" for r in state["shard_rows"])
                  + " rows):", ""]
        lines += _report.table(["array (path from the shard)", "bytes/row"], [
            [f"`{path}`", f"{b:.1f}"] for path, b in state["arrays"].items()])
        probe = (report.get("cluster", {}).get("sample_probe") or {}).get(e["task"])
        if probe:
            lines += ["", "Gathering the bin sample as accelboost.dask does "
                      f"(client.compute(X[rows]) of {probe['rows']:,} rows, "
                      "outside a fit): worker peaks +" + ", ".join(
                          fmt(p, ".0f") for p in probe["worker_peak_delta_mb"])
                      + f" MB, {probe['seconds']:.2f} s; the fit's peak "
                      "includes it."]
        lines += ["", "Per worker: rows " + ", ".join(f"{r:,}" for r in rows)
                  + "; budget (binned + state) " + ", ".join(f"{b:.1f}" for b in budget)
                  + " MB; peak +" + ", ".join(fmt(p, ".0f") for p in
                                              d["worker_peak_delta_mb"])
                  + " MB (absolute " + ", ".join(fmt(p, ".0f") for p in
                                                 d["worker_peak_mb"]) + " MB).", ""]
    return lines


def _per_tree(inputs, key):
    value = inputs.get(key)
    return fmt(None if value is None else value / inputs["fit_trees"], ".3f")


def _model_section(report):
    model = report.get("model")
    lines = ["", "## Estimate: a tree over W workers", ""]
    if model is None:
        return lines + ["Not measured (a plain-boosting fit on one thread or on "
                        "the cluster failed)."]
    i, here, flat, tree = (model["inputs"], model["here"], model["flat"],
                           model["tree_reduction"])
    latency = report["cluster"]["latency"]
    lines += [
        "T_tree = c * n/W + R * (L + (W - 1) * S/B + W * t_sum), measured on "
        f"{i['task']} with plain boosting:", "",
        f"- c = {i['c_ns']:.1f} ns per row per tree: the in-memory fit on 1 "
        "thread, mean stage time after the first over its rows.",
        f"- R = {i['round_trips']:.2f} round trips per tree: fit_stats_'s rounds "
        "(the root's included) and the one that returns the grown tree.",
        f"- L = {i['latency_s'] * 1e3:.2f} ms: a no-op call to both workers at "
        "once from an actor on the first one, as the coordinator calls the "
        "shards (DaskGroup.call: the other worker over TCP, its own in "
        f"process), waited for (median of {latency['calls']}; 90th percentile "
        f"{latency['noop_p90_s'] * 1e3:.2f} ms).",
        f"- S = {i['round_bytes'] / 1e3:.0f} kB: histogram and sum bytes one "
        "worker sends per round trip (fit_stats_.bytes / (R W)); one histogram "
        f"is {i['histogram_bytes'] / 1e3:.0f} kB "
        f"({i['round_bytes'] / i['histogram_bytes']:.1f} a round).",
        f"- B = {ASSUMED_BANDWIDTH / 1e9:g} GB/s: assumed, not measured (a "
        "10 Gb/s network's order). For reference, loopback here: "
        + (f"{latency['loopback_bytes_per_s'] / 1e9:.2f} GB/s effective "
           f"(both workers replying S bytes: {latency['payload_s'] * 1e3:.2f} ms "
           "a round trip)." if latency.get("loopback_bytes_per_s")
           else "not measured."),
        f"- t_sum = {i['sum_s'] * 1e6:.1f} us: the driver adding one worker's S "
        f"bytes into the total ({i['histogram_sum_s'] * 1e6:.1f} us per "
        "histogram, median of 200).", "",
        "Check at the measured size (n = "
        f"{i['n_rows']:,}, W = {i['n_workers']}): predicted "
        f"{here['total_s']:.3f} s/tree (compute {here['compute_s']:.3f}, latency "
        f"{here['latency_s']:.3f}, transfer {here['transfer_s']:.4f}, sums "
        f"{here['sum_s']:.4f}); measured {i['measured_tree_s']:.3f} s/tree "
        f"(stages after the first), {fmt(model['here_ratio'], '.2f', 'x')} the "
        "prediction. Per tree over the whole fit, the busier worker used "
        f"{_per_tree(i, 'worker_cpu_s')} CPU-s and the client process "
        f"(scheduler, Dask client) {_per_tree(i, 'client_cpu_s')} CPU-s. The "
        "model has no term for what a round costs beyond a no-op round trip "
        "and the histogram work: the driver's own Python between rounds "
        "(replaying best-first, searching the children's splits), pickling "
        "and unpickling S bytes on each side, the hand-over from Dask's actor "
        "thread to the shard's stage thread and back, and, here, two workers, "
        "the scheduler and the driver sharing two cores.", "",
    ]
    s = model["scale"]
    lines += [
        f"Prediction for {s['n_samples']:.0e} rows on {s['n_workers']} workers, "
        f"{s['n_trees']} trees (c, R, S, t_sum as measured; L held at its "
        f"{i['n_workers']}-worker value, optimistic: the coordinator sends 99 "
        "calls in turn):", "",
    ]
    lines += _report.table(
        ["driver", "compute", "latency", "transfer", "sums", "s/tree", "fit",
         "largest term"],
        [[name, f"{m['compute_s']:.3f}", f"{m['latency_s']:.3f}",
          f"{m['transfer_s']:.3f}", f"{m['sum_s']:.3f}", f"{m['total_s']:.3f}",
          f"{m['total_s'] * s['n_trees'] / 60:.1f} min",
          m["dominant"].removesuffix("_s")]
         for name, m in (("flat (as now: W histograms into the driver)", flat),
                         ("tree reduction over the workers", tree))])
    ingress = flat["transfer_s"] + flat["sum_s"]
    lines += [
        "",
        f"- As built, the driver's ingress (receiving and adding W = "
        f"{s['n_workers']} workers' histograms every round) costs "
        f"{ingress:.3f} s a tree against {flat['compute_s']:.3f} s of compute "
        f"on each worker: {ingress / flat['total_s']:.0%} of the tree. "
        + ("It dominates." if ingress > flat["compute_s"] else
           "Compute still dominates at this size, but the ingress grows "
           "linearly with W while the compute shrinks as 1/W.")
        + f" The model's best worker count for {s['n_samples']:.0e} rows is "
        f"W = {model['best_workers']:,} ({model['best_tree_s']:.3f} s/tree); "
        "beyond it more workers make a tree slower.",
        "- The fix is a tree reduction over the workers (each sums its "
        "children's histograms and passes one on; the driver receives one "
        "histogram set a round): per round ceil(log2 W) steps of one transfer "
        "and one sum instead of W - 1 transfers and W sums, "
        f"{tree['total_s']:.3f} s/tree here ({model['tree_fit_s'] / 60:.1f} min "
        f"for {s['n_trees']} trees against {model['flat_fit_s'] / 60:.1f} min). "
        "Actors can call each other (the coordinator calls the shards), so "
        "the shards could add their histograms pairwise before the "
        "coordinator sees them; not built yet.",
    ]
    return lines


# -- command line -------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks distributed``."""
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['n_samples']:,} rows, {QUICK['n_trees']} "
                        f"trees, {QUICK['repeats']} repeat (a few minutes)")
    for flag, key, metavar in (("--rows", "n_samples", "N"),
                               ("--trees", "n_trees", "T"),
                               ("--repeats", "repeats", "R")):
        parser.add_argument(flag, dest=key, type=positive_int, default=None,
                            metavar=metavar,
                            help=f"default: {DEFAULTS[key]:,} "
                            f"(--quick: {QUICK[key]:,})")
    parser.add_argument("--tasks", type=csv(str, TASKS), default=list(TASKS),
                        help="default: " + ",".join(TASKS))
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--timeout", type=float, default=None,
                        help="time limit of each in-memory fit's process, s")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="results directory (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true",
                        help="only re-render report.md from results.json")


def main(args: argparse.Namespace, command: str) -> int:
    """Run (or only render), write results.json and report.md, print the
    report; 1 if a fit failed."""
    results, report_path = args.out / RESULTS_NAME, args.out / REPORT_NAME
    if args.report_only:
        report = json.loads(results.read_text())
    else:
        preset = QUICK if args.quick else DEFAULTS
        sizes = {k: preset[k] if getattr(args, k) is None else getattr(args, k)
                 for k in DEFAULTS}
        report = run(**sizes, tasks=args.tasks, seed=args.seed,
                     timeout=args.timeout, command=command)
        _report.save_json(report, results)
    text = markdown(report)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(text)
    print(text)
    print(f"written: {results}, {report_path}")
    return _report.exit_status(report["runs"], ("kind", "task", "variant",
                                                "n_threads", "repeat"))
