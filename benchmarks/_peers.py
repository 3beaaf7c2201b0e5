"""accelboost and its peers, one class per library, set up for the same trees.

Every library gets (:meth:`Library.params`, recorded in each result): best-first
growth to at most L leaves, unlimited depth (XGBoost: ``lossguide``), 255 bins,
20 samples per leaf, a 1e-3 hessian floor, no L1/L2, split penalty, subsampling
or early stopping, the same threads (scikit-learn: the caller caps its OpenMP
pool). XGBoost has no minimum sample count, only a hessian sum: 20 for squared
error (hessians 1), the 1e-3 floor for log loss; it sketches all rows for bin
edges, the others 200,000. scikit-learn's exact GradientBoosting (``sklearn_gb``)
is the single-threaded, unbinned reference, not a rival. :data:`METHODS` are
what the comparisons run; :func:`fit_curve` records the held-out loss and wall
time after every stage.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import importlib.util
import math
import os
import time
import warnings
from typing import Any

import numpy as np

from ._child import FitProbe
from ._report import error_run

#: Squared-error regression, log-loss binary and multiclass classification.
TASKS = ("regression", "binary", "multiclass")
#: Rows and stages of the warm-up fits that absorb Numba's JIT compilation.
WARMUP_ROWS, WARMUP_STAGES = 1_000, 3


def usable_cpus() -> int:
    """CPUs this process may run on."""
    return (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1)


def heldout_loss(task: str, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """Mean squared error (not halved) or mean log loss (probabilities of shape
    (n,) for the positive class, or (n, K); clipped at 1e-15); inf when the
    prediction is not finite."""
    prediction = np.asarray(prediction, dtype=np.float64)
    if task == "regression":
        value = float(np.mean((y_true - prediction.reshape(-1)) ** 2))
    else:
        if prediction.ndim == 2 and task == "binary":
            prediction = prediction[:, -1]
        if prediction.ndim == 1:
            p = np.where(y_true == 1, prediction, 1.0 - prediction)
        else:
            p = prediction[np.arange(len(y_true)), np.asarray(y_true, dtype=np.intp)]
        value = float(-np.mean(np.log(np.clip(p, 1e-15, 1.0))))
    return value if math.isfinite(value) else math.inf


def _from_raw(task: str, raw: np.ndarray) -> np.ndarray:
    """Predictions from raw scores: identity, sigmoid or softmax."""
    if task == "regression":
        return raw.reshape(-1)
    with np.errstate(over="ignore", under="ignore"):
        if task == "binary":
            return 1.0 / (1.0 + np.exp(-raw.reshape(-1)))
        exp = np.exp(raw - raw.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


# -- the libraries ------------------------------------------------------------------
class Library:
    """One library: how to build its estimator for a task, count its trees,
    clock its stages and score it after every stage."""

    name = label = module = ""
    #: ``module:class`` of the regressor and of the classifier.
    classes = ("", "")
    #: Keyword of the number of boosting iterations, of the leaves, of threads.
    n_trees_key, leaves_key, threads_key = "n_estimators", "max_leaf_nodes", "n_jobs"
    #: Keyword of the loss, its value per task, and the fixed keyword arguments.
    loss_key, losses = "loss", {"regression": "squared_error", "binary": "log_loss",
                                "multiclass": "log_loss"}
    fixed: dict[str, Any] = {}

    def available(self) -> tuple[bool, str]:
        """Whether the library is installed (without importing it), and why not."""
        try:
            found = importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError) as exc:
            return False, f"{self.module} cannot be located: {exc}"
        return (True, "") if found else (False, f"{self.module} is not installed")

    def version(self) -> str:
        """The installed version (imports the library)."""
        return str(getattr(importlib.import_module(self.module), "__version__", "?"))

    def estimator(self, task: str) -> type:
        """The estimator class of a task (imports the library)."""
        module, name = self.classes[task != "regression"].split(":")
        return getattr(importlib.import_module(module), name)

    def params(self, task: str, n_trees: int, *, leaves: int = 31,
               learning_rate: float = 0.1, n_threads: int | None = 2,
               seed: int = 0) -> dict[str, Any]:
        """The estimator's keyword arguments; ``n_threads=None`` is the
        library's all-cores setting (accelboost's own default)."""
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        params = {self.loss_key: self.losses[task], **self.fixed,
                  self.n_trees_key: n_trees,
                  self.leaves_key: leaves, "learning_rate": learning_rate,
                  "random_state": seed}
        if n_threads is None and self.name != "accelboost":
            n_threads = usable_cpus()
        if self.threads_key:
            params[self.threads_key] = n_threads
        return params

    def fitted(self, model: Any) -> int:
        """Boosting iterations a fitted model has."""
        return int(model.n_iter_)

    def clock(self, model: Any, marks: list[float]) -> dict[str, Any] | None:
        """Make ``model.fit`` append ``perf_counter()`` to ``marks`` after every
        stage; returns the keyword arguments of ``fit`` that do it, or None when
        the library has no per-stage hook."""
        return None

    def unclock(self, model: Any) -> None:
        """Undo what :meth:`clock` set on the model."""

    def predict(self, model: Any, X: np.ndarray, task: str) -> np.ndarray:
        """Values (regression) or class probabilities."""
        return model.predict(X) if task == "regression" else model.predict_proba(X)

    def staged(self, model: Any, X: np.ndarray, task: str):
        """Predictions after each stage, as :meth:`predict` gives them."""
        return (model.staged_predict(X) if task == "regression"
                else model.staged_predict_proba(X))

    def staged_losses(self, model: Any, X: np.ndarray, y: np.ndarray,
                      task: str) -> np.ndarray:
        """:func:`heldout_loss` after every stage of a fitted model."""
        return np.array([heldout_loss(task, y, p) for p in self.staged(model, X, task)])


class AccelBoost(Library):
    """accelboost; its stages are clocked by an ``accelboost.callbacks`` callback."""

    name = label = module = "accelboost"
    classes = ("accelboost:AccelBoostRegressor", "accelboost:AccelBoostClassifier")
    n_trees_key, threads_key = "max_iter", "n_threads"
    # Plain boosting, like the peers (the default "auto" may add momentum).
    fixed = {"max_depth": None, "min_samples_leaf": 20, "min_hessian_to_split": 1e-3,
             "l2_regularization": 0.0, "max_bins": 255, "early_stopping": False,
             "stage_init": "zero"}

    def clock(self, model, marks):
        return {"callbacks": [StageClock(marks)]}


def StageClock(marks: list[float]) -> Any:
    """An ``accelboost.callbacks.Callback`` that appends ``perf_counter()`` to
    ``marks`` when the fit starts (before binning) and after every stage."""
    from accelboost.callbacks import Callback

    class _StageClock(Callback):
        def before_fit(self, estimator):
            marks.append(time.perf_counter())

        def after_stage(self, info):
            marks.append(time.perf_counter())

    return _StageClock()


class SklearnHGB(Library):
    """scikit-learn's HistGradientBoosting: no per-stage hook, no thread
    parameter (its OpenMP pool is capped with threadpoolctl by the caller)."""

    name, label, module = "sklearn", "sklearn HGB", "sklearn"
    classes = ("sklearn.ensemble:HistGradientBoostingRegressor",
               "sklearn.ensemble:HistGradientBoostingClassifier")
    n_trees_key, threads_key = "max_iter", None
    fixed = {"max_depth": None, "min_samples_leaf": 20, "l2_regularization": 0.0,
             "max_features": 1.0, "max_bins": 255, "early_stopping": False}


class SklearnGB(Library):
    """scikit-learn's exact GradientBoosting; clocked by its ``monitor``."""

    name, label, module = "sklearn_gb", "sklearn GB (exact)", "sklearn"
    classes = ("sklearn.ensemble:GradientBoostingRegressor",
               "sklearn.ensemble:GradientBoostingClassifier")
    threads_key = None
    fixed = {"max_depth": None, "min_samples_leaf": 20, "subsample": 1.0}

    def fitted(self, model):
        return int(model.n_estimators_)

    def clock(self, model, marks):
        # Called after every stage; a truthy return would stop the fit.
        return {"monitor": lambda *_: marks.append(time.perf_counter())}


class _RawScores(Library):
    """LightGBM and XGBoost: the held-out curve is the running sum of each
    iteration's raw scores plus the model's constant, turned into predictions."""

    def _margin(self, model, X, first=None):
        """Raw scores of the whole model (``first=None``) or of iteration
        ``first`` alone, shaped (n, K)."""
        raise NotImplementedError

    def staged(self, model, X, task):
        full = self._margin(model, X)
        parts = [self._margin(model, X, k) for k in range(self.fitted(model))]
        raw = full - sum(parts, np.zeros_like(full))  # the starting constant
        for part in parts:
            raw = raw + part
            yield _from_raw(task, raw)


class LightGBM(_RawScores):
    """LightGBM; clocked by a callback after every iteration."""

    name, label, module = "lightgbm", "LightGBM", "lightgbm"
    classes = ("lightgbm:LGBMRegressor", "lightgbm:LGBMClassifier")
    leaves_key, loss_key, losses = "num_leaves", "objective", {t: t for t in TASKS}
    fixed = {"boosting_type": "gbdt", "max_depth": -1, "min_child_samples": 20,
             "min_child_weight": 1e-3, "min_split_gain": 0.0, "reg_alpha": 0.0,
             "reg_lambda": 0.0, "subsample": 1.0, "subsample_freq": 0,
             "colsample_bytree": 1.0, "max_bin": 255,
             "bin_construct_sample_cnt": 200_000, "verbose": -1}

    def fitted(self, model):
        return int(model.booster_.current_iteration())

    def clock(self, model, marks):
        return {"callbacks": [lambda env: marks.append(time.perf_counter())]}

    def _margin(self, model, X, first=None):
        kwargs = {} if first is None else {"start_iteration": first,
                                           "num_iteration": 1}
        raw = model.booster_.predict(X, raw_score=True, **kwargs)
        return np.asarray(raw, dtype=np.float64).reshape(len(X), -1)


class XGBoost(_RawScores):
    """XGBoost ``hist`` with ``lossguide`` growth; clocked by a callback."""

    name, label, module = "xgboost", "XGBoost hist", "xgboost"
    classes = ("xgboost:XGBRegressor", "xgboost:XGBClassifier")
    leaves_key, loss_key = "max_leaves", "objective"
    losses = {"regression": "reg:squarederror", "binary": "binary:logistic",
              "multiclass": "multi:softprob"}
    fixed = {"tree_method": "hist", "grow_policy": "lossguide", "max_depth": 0,
             "max_bin": 255, "reg_lambda": 0.0, "reg_alpha": 0.0, "gamma": 0.0,
             "subsample": 1.0, "colsample_bytree": 1.0}

    def params(self, task, n_trees, **settings):
        # Squared error: hessian 1 per row, so 20 is min_samples_leaf=20.
        return {**super().params(task, n_trees, **settings),
                "min_child_weight": 20.0 if task == "regression" else 1e-3}

    def fitted(self, model):
        return int(model.get_booster().num_boosted_rounds())

    def clock(self, model, marks):
        import xgboost

        class Clock(xgboost.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                marks.append(time.perf_counter())
                return False

        model.set_params(callbacks=[Clock()])
        return {}

    def unclock(self, model):
        model.set_params(callbacks=None)

    def _margin(self, model, X, first=None):
        booster = model.get_booster()
        if first is None:
            raw = booster.inplace_predict(X, predict_type="margin")
        else:  # base_margin=0 replaces base_score: the tree alone
            n_out = 1 if not hasattr(model, "classes_") or len(model.classes_) <= 2 \
                else len(model.classes_)
            zeros = np.zeros((len(X), n_out) if n_out > 1 else len(X))
            raw = booster.inplace_predict(X, iteration_range=(first, first + 1),
                                          predict_type="margin", base_margin=zeros)
        return np.asarray(raw, dtype=np.float64).reshape(len(X), -1)


#: The libraries, in table order.
LIBRARIES: dict[str, Library] = {lib.name: lib for lib in (
    AccelBoost(), SklearnHGB(), SklearnGB(), LightGBM(), XGBoost())}


# -- methods ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Method:
    """A boosting method: a library, and for accelboost its stage policy.
    ``trees_per_stage`` is 2 for AGBM (two trees a stage), else 1."""

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

    def params(self, task: str, learning_rate: float, leaves: int, n_trees: int,
               n_threads: int | None = 2, seed: int = 0) -> dict[str, Any]:
        """The estimator's keyword arguments."""
        params = LIBRARIES[self.library].params(
            task, n_trees, leaves=leaves, learning_rate=learning_rate,
            n_threads=n_threads, seed=seed)
        if self.library == "accelboost":
            params.update(stage_init=self.stage_init, momentum=self.momentum,
                          restart="function")
        return params


#: The methods, in table order.
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("zero", "zero (plain)", "accelboost", "zero", 0.5),
    Method("stacking_0.5", "stacking b=0.5", "accelboost", "stacking", 0.5),
    Method("stacking_0.8", "stacking b=0.8", "accelboost", "stacking", 0.8),
    Method("stacking_0.9", "stacking b=0.9", "accelboost", "stacking", 0.9),
    Method("stacking_nesterov", "stacking nesterov", "accelboost", "stacking",
           "nesterov"),
    Method("agbm", "agbm", "accelboost", "agbm", 0.5, trees_per_stage=2),
    Method("sklearn", "sklearn HGB", "sklearn"),
    Method("sklearn_gb", "sklearn GB (exact)", "sklearn_gb"),
    Method("lightgbm", "LightGBM", "lightgbm"),
    Method("xgboost", "XGBoost hist", "xgboost"),
)}
#: Plain gradient boosting: the reference of every comparison.
PLAIN = "zero"


def available_methods(methods) -> tuple[list[str], dict[str, str]]:
    """The methods whose library is installed, and why the others are not."""
    found = {m: LIBRARIES[METHODS[m].library].available() for m in methods}
    return ([m for m, (ok, _) in found.items() if ok],
            {m: why for m, (ok, why) in found.items() if not ok})


def fit_curve(method: str, data: Any, learning_rate: float, leaves: int,
              max_trees: int, n_threads: int = 2, seed: int = 0) -> dict[str, Any]:
    """Fit a method (a key of :data:`METHODS`) on ``data`` (a
    :class:`benchmarks._data.Dataset`) with ``n_threads`` (also the
    ``threadpoolctl`` cap).

    Returns the configuration and ``status``; for "ok" also ``curve`` (held-out
    loss after stages 1..max_trees, carried forward past an early stop),
    ``seconds`` (since ``fit`` started), ``timing`` ("measured" by the
    library's per-stage hook, or "interpolated" from a one-stage fit to the
    full fit where there is none), the :class:`~._child.FitProbe` figures,
    ``n_stages_fitted``, ``n_restarts`` and ``baseline_loss``.
    """
    from threadpoolctl import threadpool_limits

    spec = METHODS[method]
    params = spec.params(data.task, learning_rate, leaves, max_trees, n_threads, seed)
    run: dict[str, Any] = {"dataset": data.name, "method": method,
                           "library": spec.library, "learning_rate": learning_rate,
                           "leaves": leaves, "max_trees": max_trees, "params": params}
    try:
        with threadpool_limits(limits=n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow at huge learning rates
            run.update(_fit_and_trace(LIBRARIES[spec.library], data, params,
                                      max_trees))
    except Exception as exc:  # one failed fit must not stop the benchmark
        return error_run(run, exc)
    run["status"] = "ok"
    return run


def _fit_and_trace(library, data, params, max_trees):
    gc.collect()
    cls = library.estimator(data.task)
    model, marks = cls(**params), []
    fit_kwargs = library.clock(model, marks)
    with FitProbe() as probe:
        model.fit(data.X_train, data.y_train, **(fit_kwargs or {}))
    out = probe.result()
    library.unclock(model)
    n = library.fitted(model)
    out.update(n_stages_fitted=n, n_restarts=int(getattr(model, "n_restarts_", 0)))
    start = marks.pop(0) if library.name == "accelboost" and marks else probe.start
    # LightGBM calls back after iterations that added no tree: the kept come first.
    if fit_kwargs is not None and len(marks) >= n:
        out["timing"], seconds = "measured", np.asarray(marks[:n]) - start
    else:  # a one-stage fit is the intercept of a line through the full fit
        one = cls(**{**params, library.n_trees_key: 1})
        tic = time.perf_counter()
        one.fit(data.X_train, data.y_train)
        first = out["first_stage_fit_s"] = min(time.perf_counter() - tic,
                                               out["fit_s"])
        slope = (out["fit_s"] - first) / max(1, n - 1)
        out["timing"], seconds = "interpolated", first + slope * np.arange(n)
    losses = library.staged_losses(model, data.X_test, data.y_test, data.task)
    out["baseline_loss"] = baseline_loss(data.task, data.y_train, data.y_test)
    curve, times = np.full(max_trees, np.inf), np.full(max_trees, np.nan)
    k = min(len(losses), n, max_trees)
    curve[:k], times[:k] = losses[:k], seconds[:k]
    if 0 < k < max_trees:  # stopped early: the model stays as it is
        curve[k:], times[k:] = curve[k - 1], times[k - 1]
    out["curve"], out["seconds"] = curve, times
    return out


def baseline_loss(task: str, y_train: np.ndarray, y_test: np.ndarray) -> float:
    """:func:`heldout_loss` of the constant prediction: the training mean, or
    the training class frequencies."""
    if task == "regression":
        return heldout_loss(task, y_test, np.full(len(y_test), np.mean(y_train)))
    counts = np.bincount(np.asarray(y_train, dtype=np.intp))
    return heldout_loss(task, y_test, np.tile(counts / counts.sum(),
                                              (len(y_test), 1)))


def warm_up(data: Any, methods, leaves, n_threads: int = 2) -> float:
    """Fit every method at every tree size on a slice of ``data`` (Numba's JIT
    compilation, kept out of the timed fits); returns the seconds it took."""
    small = dataclasses.replace(
        data, X_train=data.X_train[:WARMUP_ROWS], y_train=data.y_train[:WARMUP_ROWS],
        X_test=data.X_test[:WARMUP_ROWS], y_test=data.y_test[:WARMUP_ROWS])
    if data.task != "regression" and len(np.unique(small.y_train)) < len(
            np.unique(data.y_train)):
        small = data  # every class must be in the slice
    tic = time.perf_counter()
    for n_leaves in leaves:
        for method in methods:
            fit_curve(method, small, 0.1, n_leaves, WARMUP_STAGES, n_threads)
    return time.perf_counter() - tic


# -- additive models' peers (python -m benchmarks additive) ---------------------------
class EBM(Library):
    """InterpretML's Explainable Boosting Machine (the ``interpret-core``
    distribution): cyclic boosting of one term at a time, bagged, early
    stopped on its own validation split. At its defaults but for ``n_jobs``
    (its default -2 leaves a core idle) and ``random_state``; not in
    :data:`LIBRARIES` (no staged predictions, no per-stage hook)."""

    name, label, module = "interpret", "EBM", "interpret"
    classes = ("interpret.glassbox:ExplainableBoostingRegressor",
               "interpret.glassbox:ExplainableBoostingClassifier")
    distribution = "interpret-core"

    def version(self):
        import importlib.metadata

        return importlib.metadata.version(self.distribution)

    def params(self, task, n_trees=None, *, n_threads=2, seed=0, **settings):
        """``n_jobs``, ``random_state`` and ``settings`` (the rest: EBM's
        defaults); ``n_trees`` is ignored (EBM stops itself)."""
        if task not in ("regression", "binary"):
            raise ValueError(f"task must be 'regression' or 'binary', got {task!r}")
        return {"n_jobs": usable_cpus() if n_threads is None else n_threads,
                "random_state": seed, **settings}

    def fitted(self, model):
        """The longest bag's boosting steps (``best_iteration_`` summed over
        the main-effect and pair stages)."""
        return int(np.asarray(model.best_iteration_).sum(axis=0).max())


class EarlyStopped:
    """A LightGBM estimator fitted with early stopping on a held-out share of
    its training rows (stratified for classification), as scikit-learn's
    ``validation_fraction`` does: LightGBM has no internal split. The
    prediction uses the best iteration; ``n_iter_`` is that iteration.

    Parameters
    ----------
    estimator : LGBMRegressor or LGBMClassifier
        The unfitted model (its ``n_estimators`` is the stage cap).
    validation_fraction : float, default=0.15
        Share of the training rows held out.
    n_iter_no_change : int, default=10
        Patience, in iterations without improvement of the validation loss.
    random_state : int, default=0
        Seed of the split.
    """

    def __init__(self, estimator: Any, validation_fraction: float = 0.15,
                 n_iter_no_change: int = 10, random_state: int = 0):
        self.estimator = estimator
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The wrapper's settings and, with ``deep``, the estimator's as
        ``estimator__NAME``."""
        params = {"estimator": self.estimator,
                  "validation_fraction": self.validation_fraction,
                  "n_iter_no_change": self.n_iter_no_change,
                  "random_state": self.random_state}
        if deep:
            params.update({f"estimator__{k}": v for k, v in
                           self.estimator.get_params().items()})
        return params

    def set_params(self, **params: Any) -> EarlyStopped:
        """Set the wrapper's settings, or the estimator's as ``estimator__NAME``."""
        inner = {k.removeprefix("estimator__"): v for k, v in params.items()
                 if k.startswith("estimator__")}
        if inner:
            self.estimator.set_params(**inner)
        for key, value in params.items():
            if not key.startswith("estimator__"):
                setattr(self, key, value)
        return self

    def fit(self, X: np.ndarray, y: np.ndarray) -> EarlyStopped:
        """Split, then fit the estimator with early stopping on the held-out part."""
        import inspect

        import lightgbm
        from sklearn.base import clone, is_classifier
        from sklearn.model_selection import train_test_split

        X_fit, X_val, y_fit, y_val = train_test_split(
            X, y, test_size=self.validation_fraction, random_state=self.random_state,
            stratify=y if is_classifier(self.estimator) else None)
        model = clone(self.estimator)
        # LightGBM 4.7 renamed eval_set to eval_X, eval_y (the old name warns).
        held_out = ({"eval_X": (X_val,), "eval_y": (y_val,)}
                    if "eval_X" in inspect.signature(model.fit).parameters
                    else {"eval_set": [(X_val, y_val)]})
        self.model_ = model.fit(X_fit, y_fit, **held_out, callbacks=[
            lightgbm.early_stopping(self.n_iter_no_change, verbose=False)])
        self.n_iter_ = int(self.model_.best_iteration_ or
                           self.model_.booster_.current_iteration())
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The fitted model's predictions (at its best iteration)."""
        return self.model_.predict(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The fitted model's class probabilities (at its best iteration)."""
        return self.model_.predict_proba(X)
