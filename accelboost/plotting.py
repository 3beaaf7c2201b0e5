"""Plots of fitted accelboost models (matplotlib is an optional dependency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._engine.common import Y_DTYPE

__all__ = ["plot_convergence", "plot_shape_functions", "staged_loss"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "accelboost.plotting needs matplotlib, which is not installed: "
            "pip install matplotlib (or pip install 'accelboost[plot]')."
        ) from exc
    return plt


def staged_loss(estimator, X, y, sample_weight=None) -> np.ndarray:
    """The loss the estimator minimizes, before the first stage and after each.

    Parameters
    ----------
    estimator : AccelBoostRegressor or AccelBoostClassifier
        A fitted estimator.
    X : array-like of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,)
        Targets (class labels for a classifier).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows.

    Returns
    -------
    losses : ndarray of shape (n_iter_ + 1,)
        Weighted mean loss of the baseline and of the model after each stage
        (half the squared error, the log loss, ...: the ``loss`` parameter).
    """
    check_is_fitted(estimator, "_ensemble")
    y = estimator._encode_y_val(np.asarray(y))
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=Y_DTYPE)
    loss = estimator._loss
    baseline = np.tile(estimator._ensemble.baseline, (len(y), 1))
    raws = [baseline, *estimator._staged_raw_predict(X)]
    return np.array([loss(y, raw, sample_weight) for raw in raws])


def plot_convergence(
    estimators: Any | Sequence[Any],
    X=None,
    y=None,
    X_val=None,
    y_val=None,
    *,
    labels: Sequence[str] | None = None,
    ax: Any = None,
):
    """Training (and validation) loss per stage, restarts marked.

    Parameters
    ----------
    estimators : estimator or sequence of estimators
        Fitted accelboost estimators, one line (or two) each.
    X, y : array-like, default=None
        Training data. Without them the curves recorded during ``fit``
        (``train_score_`` and ``validation_score_``, kept when early
        stopping is on with ``scoring="loss"``) are drawn.
    X_val, y_val : array-like, default=None
        Validation data: a dashed line per estimator.
    labels : sequence of str, default=None
        Legend label of each estimator (default: its ``stage_init`` and
        ``momentum``).
    ax : matplotlib Axes, default=None
        Where to draw (default: a new figure).

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on: stage on x (0 is the baseline), loss on y, a
        marker at each stage whose momentum was restarted.
    """
    plt = _pyplot()
    if not isinstance(estimators, Sequence):
        estimators = [estimators]
    if labels is not None and len(labels) != len(estimators):
        raise ValueError(
            f"labels has {len(labels)} entries for {len(estimators)} estimators."
        )
    if (X is None) != (y is None) or (X_val is None) != (y_val is None):
        raise ValueError("Pass X with y, and X_val with y_val.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, estimator in enumerate(estimators):
        label = labels[i] if labels is not None else _default_label(estimator)
        train, val = _curves(estimator, X, y, X_val, y_val)
        (line,) = ax.plot(train, label=f"{label} (train)")
        if val is not None:
            ax.plot(val, linestyle="--", color=line.get_color(),
                    label=f"{label} (validation)")
        restarts = estimator.restart_stages_ + 1  # the model after that stage
        restarts = restarts[restarts < len(train)]
        if restarts.size:
            ax.plot(restarts, train[restarts], "x", color=line.get_color(),
                    label=f"{label}: restart")
    ax.set_xlabel("stage")
    ax.set_ylabel("loss")
    ax.legend()
    return ax


def _curves(estimator, X, y, X_val, y_val):
    if X is not None:
        train = staged_loss(estimator, X, y)
        val = None if X_val is None else staged_loss(estimator, X_val, y_val)
        return train, val
    check_is_fitted(estimator, "_ensemble")
    if len(estimator.train_score_) == 0 or estimator.scoring != "loss":
        raise ValueError(
            "No recorded loss curve: fit with early stopping on and "
            "scoring='loss', or pass X and y."
        )
    val = estimator.validation_score_
    return -estimator.train_score_, (-val if len(val) else None)


def _default_label(estimator) -> str:
    if estimator.stage_init == "stacking":
        return f"stacking, momentum={estimator.momentum}"
    return estimator.stage_init


def plot_shape_functions(estimator, terms=None, n_cols: int = 3, figsize=None):
    """One panel per term of an additive model: curves, and pairs as heat maps.

    Parameters
    ----------
    estimator : AdditiveBoostRegressor, AdditiveBoostClassifier, or an AccelBoost model
        A fitted model whose terms are defined (see ``term_features_``).
    terms : sequence of int or str, default=None
        Terms to draw (indices or names); None draws all.
    n_cols : int, default=3
        Panels per row.
    figsize : tuple of float, default=None
        Figure size; None scales with the number of panels.

    Returns
    -------
    axes : list of matplotlib Axes
        One per term, in the order drawn. A main effect is a step curve over
        its bins (one line per class for several classes); a pair is a heat
        map over both features' bins. The NaN bin's value is written in the
        panel's corner when it differs from zero.
    """
    plt = _pyplot()
    names = estimator.term_names_
    terms = range(len(names)) if terms is None else terms
    shapes = [estimator.shape_function(term) for term in terms]
    n_rows = max(1, -(-len(shapes) // n_cols))
    figsize = figsize or (4 * min(n_cols, max(len(shapes), 1)), 3 * n_rows)
    fig, grid = plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[len(shapes):]:
        ax.set_visible(False)
    for ax, shape in zip(axes, shapes, strict=False):
        if len(shape.term) == 1:
            _draw_main_effect(ax, shape)
        else:
            _draw_pair(fig, ax, shape)
        ax.set_title(shape.name)
    fig.tight_layout()
    return axes[: len(shapes)]


def _bin_edges(thresholds: np.ndarray) -> np.ndarray:
    """Edges of a feature's bins for drawing: the cut points, with the two
    unbounded ends closed one average bin width out."""
    cuts = thresholds[:-1]  # the last edge is +inf
    if cuts.size == 0:
        return np.array([0.0, 1.0])
    width = (cuts[-1] - cuts[0]) / max(cuts.size - 1, 1) or 1.0
    return np.concatenate([[cuts[0] - width], cuts, [cuts[-1] + width]])


def _draw_main_effect(ax, shape):
    values = shape.values[:-1]  # without the NaN bin
    edges = _bin_edges(shape.thresholds[0])
    columns = values.reshape(len(values), -1)
    for k in range(columns.shape[1]):
        label = f"class {k}" if columns.shape[1] > 1 else None
        ax.stairs(columns[:, k], edges, label=label)
    if columns.shape[1] > 1:
        ax.legend()
    nan_value = np.atleast_1d(shape.values[-1])
    if np.any(nan_value != 0):
        ax.text(0.02, 0.95, "NaN: " + ", ".join(f"{v:.3g}" for v in nan_value),
                transform=ax.transAxes, va="top")
    ax.set_xlabel(shape.name)
    ax.set_ylabel("contribution")


def _draw_pair(fig, ax, shape):
    values = shape.values[:-1, :-1]
    if values.ndim == 3:  # several classes: the first class's surface
        values = values[..., 0]
    x_edges, y_edges = (_bin_edges(t) for t in shape.thresholds)
    mesh = ax.pcolormesh(x_edges, y_edges, values.T, shading="flat")
    fig.colorbar(mesh, ax=ax)
    first, second = shape.name.split(" & ")
    ax.set_xlabel(first)
    ax.set_ylabel(second)

