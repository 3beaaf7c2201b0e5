"""Uniform wrappers around accelboost and its peers for the benchmarks.

Every library is set up for the same model, as far as the libraries allow
(the exact keyword arguments are in the ``_*_params`` functions below and in
the ``params`` of every result)::

    setting            accelboost / sklearn   LightGBM               XGBoost (hist)
    trees              max_iter=N             n_estimators=N         n_estimators=N
    learning rate      learning_rate=0.1      learning_rate=0.1      learning_rate=0.1
    tree growth        best-first,            best-first,            lossguide,
                       max_leaf_nodes=31,     num_leaves=31,         max_leaves=31,
                       max_depth=None         max_depth=-1           max_depth=0
    bins (non-NaN)     max_bins=255           max_bin=255            max_bin=255
    samples per leaf   min_samples_leaf=20    min_child_samples=20   (see below)
    hessian per leaf   1e-3 (sklearn: fixed)  min_child_weight=1e-3  min_child_weight
    L2 on leaves       l2_regularization=0    reg_lambda=0           reg_lambda=0
    L1, split penalty  none                   reg_alpha=0,           reg_alpha=0,
                                              min_split_gain=0       gamma=0
    subsampling        none                   subsample=1,           subsample=1,
                                              colsample_bytree=1     colsample_bytree=1
    early stopping     early_stopping=False   no eval set            no eval set
    threads            n_threads (sklearn:    n_jobs                 n_jobs
                       threadpoolctl limit)

Notes on the settings that cannot match exactly:

* XGBoost has no minimum sample count per leaf, only ``min_child_weight``, a
  minimum hessian sum. For squared error every hessian is 1, so
  ``min_child_weight=20`` *is* ``min_samples_leaf=20``. For log loss the
  hessian ``p (1 - p)`` is at most 0.25 and varies, so no value is
  equivalent: we use ``min_child_weight=1e-3``, the hessian floor the other
  three also apply, which leaves XGBoost's binary trees slightly less
  constrained than the others'.
* XGBoost's ``max_bin`` counts value bins only (missing values are routed by
  a learned default direction, not a bin), like scikit-learn's and
  accelboost's ``max_bins``; its default of 256 is lowered to 255 so every
  library uses at most 255 bins for non-missing values.
* accelboost, scikit-learn and LightGBM find bin edges on a subsample of
  200,000 rows (LightGBM's ``bin_construct_sample_cnt``); XGBoost sketches
  all rows. All four start from the loss-optimal constant (the mean, or the
  log-odds of the positive rate).
* The fit time of every library includes its binning (accelboost and
  scikit-learn inside ``fit``, LightGBM's ``Dataset`` and XGBoost's
  ``QuantileDMatrix`` built by their scikit-learn wrappers inside ``fit``).
* scikit-learn has no thread parameter: its OpenMP pool is limited with
  ``threadpoolctl`` (and ``OMP_NUM_THREADS`` in the child process); the other
  libraries get their own thread parameter, and every fit and predict runs
  under the same ``threadpoolctl`` limit.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The two benchmark tasks.
TASKS = ("regression", "binary")


@dataclass(frozen=True)
class Library:
    """How to build, fit and query one library's estimator.

    Attributes
    ----------
    name : str
        The name used on the command line and in the results.
    label : str
        The name printed in tables.
    module : str
        The top-level module that must be importable.
    params : callable
        ``params(task, n_iter, n_threads, random_state)`` returns the keyword
        arguments of the estimator.
    factory : callable
        ``factory(task)`` returns the estimator class (imports the library).
    """

    name: str
    label: str
    module: str
    params: Callable[[str, int, int, int], dict[str, Any]]
    factory: Callable[[str], type]


def _accelboost_params(
    task: str, n_iter: int, n_threads: int, random_state: int
) -> dict[str, Any]:
    return {
        "loss": "squared_error" if task == "regression" else "log_loss",
        "learning_rate": 0.1,
        "max_iter": n_iter,
        "max_leaf_nodes": 31,
        "max_depth": None,
        "min_samples_leaf": 20,
        "min_hessian_to_split": 1e-3,
        "l2_regularization": 0.0,
        "max_bins": 255,
        "early_stopping": False,
        "n_threads": n_threads,
        "random_state": random_state,
    }


def _accelboost_factory(task: str) -> type:
    from accelboost import AccelBoostClassifier, AccelBoostRegressor

    return AccelBoostRegressor if task == "regression" else AccelBoostClassifier


def _sklearn_tree_params(task: str, random_state: int) -> dict[str, Any]:
    """The settings scikit-learn's two boosting estimators spell alike."""
    return {
        "loss": "squared_error" if task == "regression" else "log_loss",
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "max_depth": None,
        "min_samples_leaf": 20,
        "random_state": random_state,
    }


def _sklearn_params(
    task: str, n_iter: int, n_threads: int, random_state: int
) -> dict[str, Any]:
    # No thread parameter: the OpenMP pool is limited by the caller.
    return {
        **_sklearn_tree_params(task, random_state),
        "max_iter": n_iter,
        "l2_regularization": 0.0,
        "max_features": 1.0,
        "max_bins": 255,
        "early_stopping": False,
    }


def _sklearn_factory(task: str) -> type:
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    if task == "regression":
        return HistGradientBoostingRegressor
    return HistGradientBoostingClassifier


def _sklearn_gb_params(
    task: str, n_iter: int, n_threads: int, random_state: int
) -> dict[str, Any]:
    # Exact (unbinned) splits and one thread: the reference, not a rival.
    return {
        **_sklearn_tree_params(task, random_state),
        "n_estimators": n_iter,
        "subsample": 1.0,
    }


def _sklearn_gb_factory(task: str) -> type:
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    if task == "regression":
        return GradientBoostingRegressor
    return GradientBoostingClassifier


def _lightgbm_params(
    task: str, n_iter: int, n_threads: int, random_state: int
) -> dict[str, Any]:
    return {
        "objective": "regression" if task == "regression" else "binary",
        "boosting_type": "gbdt",
        "n_estimators": n_iter,
        "learning_rate": 0.1,
        "num_leaves": 31,
        "max_depth": -1,
        "min_child_samples": 20,  # min_data_in_leaf
        "min_child_weight": 1e-3,  # min_sum_hessian_in_leaf
        "min_split_gain": 0.0,
        "reg_alpha": 0.0,
        "reg_lambda": 0.0,  # lambda_l2
        "subsample": 1.0,
        "subsample_freq": 0,
        "colsample_bytree": 1.0,
        "max_bin": 255,
        "bin_construct_sample_cnt": 200_000,
        "n_jobs": n_threads,
        "random_state": random_state,
        "verbose": -1,
    }


def _lightgbm_factory(task: str) -> type:
    import lightgbm

    return lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier


def _xgboost_params(
    task: str, n_iter: int, n_threads: int, random_state: int
) -> dict[str, Any]:
    return {
        "objective": "reg:squarederror" if task == "regression" else "binary:logistic",
        "n_estimators": n_iter,
        "learning_rate": 0.1,
        "tree_method": "hist",
        "grow_policy": "lossguide",
        "max_leaves": 31,
        "max_depth": 0,  # unlimited (lossguide only)
        "max_bin": 255,
        # Squared error: hessian 1 per row, so 20 = min_samples_leaf=20.
        # Log loss: no equivalent; the 1e-3 hessian floor of the others.
        "min_child_weight": 20.0 if task == "regression" else 1e-3,
        "reg_lambda": 0.0,
        "reg_alpha": 0.0,
        "gamma": 0.0,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "n_jobs": n_threads,
        "random_state": random_state,
    }


def _xgboost_factory(task: str) -> type:
    import xgboost

    return xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier


#: The libraries the benchmarks know, in table order.
LIBRARIES: dict[str, Library] = {
    lib.name: lib
    for lib in (
        Library(
            "accelboost", "accelboost", "accelboost",
            _accelboost_params, _accelboost_factory,
        ),
        Library(
            "sklearn", "sklearn HGB", "sklearn", _sklearn_params, _sklearn_factory
        ),
        Library(
            "sklearn_gb", "sklearn GB (exact)", "sklearn", _sklearn_gb_params,
            _sklearn_gb_factory,
        ),
        Library(
            "lightgbm", "LightGBM", "lightgbm", _lightgbm_params, _lightgbm_factory
        ),
        Library(
            "xgboost", "XGBoost hist", "xgboost", _xgboost_params, _xgboost_factory
        ),
    )
}


def is_available(name: str) -> tuple[bool, str]:
    """Whether a library can be imported, without importing it.

    Parameters
    ----------
    name : str
        A key of :data:`LIBRARIES`.

    Returns
    -------
    available : bool
        True when the library's module is installed.
    reason : str
        Empty when available, else why not.
    """
    module = LIBRARIES[name].module
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError) as exc:
        return False, f"{module} cannot be located: {exc}"
    return (True, "") if found else (False, f"{module} is not installed")


def library_version(name: str) -> str:
    """The installed version of a library (imports it).

    Parameters
    ----------
    name : str
        A key of :data:`LIBRARIES`.

    Returns
    -------
    version : str
        ``__version__`` of the library's module, or ``"unknown"``.
    """
    module = importlib.import_module(LIBRARIES[name].module)
    return str(getattr(module, "__version__", "unknown"))


def estimator_params(
    name: str, task: str, n_iter: int, n_threads: int, random_state: int = 0
) -> dict[str, Any]:
    """The keyword arguments the benchmark gives a library's estimator.

    Parameters
    ----------
    name : str
        A key of :data:`LIBRARIES`.
    task : {"regression", "binary"}
        Squared-error regression or log-loss binary classification.
    n_iter : int
        Number of boosting iterations (one tree per iteration here).
    n_threads : int
        Number of threads the estimator may use.
    random_state : int, default=0
        Seed for the libraries' binning subsamples.

    Returns
    -------
    params : dict
        Keyword arguments for the estimator class.
    """
    _check_task(task)
    return LIBRARIES[name].params(task, n_iter, n_threads, random_state)


def make_estimator(
    name: str, task: str, n_iter: int, n_threads: int, random_state: int = 0
) -> Any:
    """A fresh, unfitted estimator of a library for a task.

    Parameters
    ----------
    name : str
        A key of :data:`LIBRARIES`.
    task : {"regression", "binary"}
        Squared-error regression or log-loss binary classification.
    n_iter : int
        Number of boosting iterations.
    n_threads : int
        Number of threads the estimator may use.
    random_state : int, default=0
        Seed for the libraries' binning subsamples.

    Returns
    -------
    estimator : object
        A scikit-learn compatible estimator.
    """
    params = estimator_params(name, task, n_iter, n_threads, random_state)
    return LIBRARIES[name].factory(task)(**params)


def predict_for_loss(task: str, estimator: Any, X: np.ndarray) -> np.ndarray:
    """The prediction the task's loss is computed from.

    Parameters
    ----------
    task : {"regression", "binary"}
        The benchmark task.
    estimator : object
        A fitted estimator.
    X : ndarray of shape (n_samples, n_features)
        Data to predict.

    Returns
    -------
    prediction : ndarray of shape (n_samples,)
        Predicted values (regression) or positive-class probabilities.
    """
    _check_task(task)
    if task == "regression":
        return np.asarray(estimator.predict(X), dtype=np.float64)
    return np.asarray(estimator.predict_proba(X)[:, 1], dtype=np.float64)


def fitted_iterations(name: str, estimator: Any) -> int:
    """The number of boosting iterations a fitted estimator actually ran.

    Parameters
    ----------
    name : str
        A key of :data:`LIBRARIES`.
    estimator : object
        The fitted estimator.

    Returns
    -------
    n_iter : int
        Iterations fitted (less than requested when a library stopped early,
        e.g. because no leaf could be split any more).
    """
    if name in ("accelboost", "sklearn"):
        return int(estimator.n_iter_)
    if name == "sklearn_gb":
        return int(estimator.n_estimators_)
    if name == "lightgbm":
        return int(estimator.booster_.current_iteration())
    if name == "xgboost":
        return int(estimator.get_booster().num_boosted_rounds())
    raise ValueError(f"unknown library {name!r}")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
