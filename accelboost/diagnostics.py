"""Training diagnostics: catapults in loss curves, and a model's AGOP.

The measurements of DESIGN.md section 5.1 (Zhu, Liu, Radhakrishnan and
Belkin, "Catapults in SGD", arXiv 2306.04815): in SGD above the critical step
size the training loss spikes and falls back ("catapults"), and more catapults
go with a model whose average gradient outer product (AGOP) is better aligned
with the target's.

- :func:`detect_catapults` finds the spikes in any loss curve, or in the
  curve a fitted estimator recorded.
- :func:`agop` measures a model's AGOP: exactly from its input gradients when
  it has them, else by central finite differences (trees are piecewise
  constant, so their gradient is zero almost everywhere: a difference over
  about one bin width sees the jumps instead).
- :func:`true_agop` is the AGOP of a known target, and :func:`agop_alignment`
  compares two AGOPs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.ndimage import minimum_filter1d
from sklearn.base import is_classifier
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["Catapults", "agop", "agop_alignment", "detect_catapults", "true_agop"]

#: Bins per feature assumed for the default finite-difference step of a model
#: without a ``max_bins`` parameter (the trees' default).
_DEFAULT_BINS = 255

_METHODS = ("auto", "exact", "finite_differences")


# -- catapults ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Catapults:
    """The catapults of a loss curve (see :func:`detect_catapults`).

    Attributes
    ----------
    count : int
        Number of catapults.
    positions : ndarray of int of shape (count,)
        Step of each catapult's peak (the highest loss of the spike).
    heights : ndarray of shape (count,)
        Peak loss of each catapult divided by its reference level (the
        minimum of the ``window`` steps before the spike started); above
        ``factor`` by construction. ``inf`` for a spike from a zero loss.
    starts : ndarray of int of shape (count,)
        First step of each spike (the first loss above ``factor`` times the
        reference).
    ends : ndarray of int of shape (count,)
        Step at which the loss had fallen back (see ``return_level`` of
        :func:`detect_catapults`): ``losses[starts[i]:ends[i]]`` is the spike.
    diverged : bool
        Whether a spike failed to fall back within ``window`` steps of its
        start, or before the curve ended: the loss rose and stayed up. Such a
        spike is not a catapult.
    divergence_start : int or None
        First step of the first such spike (None when ``diverged`` is False).
    """

    count: int
    positions: np.ndarray
    heights: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    diverged: bool
    divergence_start: int | None


def detect_catapults(
    losses: Any,
    *,
    factor: float = 2.0,
    window: int = 10,
    return_level: float | None = None,
) -> Catapults:
    """Find the catapults (spikes that fall back) of a training loss curve.

    Step ``k`` starts a spike when its loss exceeds ``factor`` times the
    reference level, the minimum loss of the ``window`` steps before it. The
    spike lasts until the loss falls back to at most ``return_level`` times
    that reference; it is a catapult if that happens within ``window`` steps
    of its start, and a divergence otherwise (the loss rose and stayed up).
    Consecutive spike steps, and any new rise before the loss fell back, form
    one catapult.

    Parameters
    ----------
    losses : array-like of shape (n_steps,) or fitted estimator
        The loss after each step (non-negative, finite). An estimator gives
        its ``loss_curve_`` if it has one (the loss of each optimizer step),
        else minus its ``train_score_`` (the accelboost and
        HistGradientBoosting trees record minus the training loss per stage
        when the fit scores its stages with ``scoring="loss"``).
    factor : float, default=2.0
        How many times its reference level a loss must exceed to be a spike;
        greater than 1.
    window : int, default=10
        Number of previous steps the reference level is the minimum of, and
        the number of steps a spike has to fall back in; at least 1.
    return_level : float or None, default=None
        The level, as a multiple of the reference, a spike must fall back to
        (at or below) to count as a catapult; in ``(0, factor]``. None means
        ``factor``: back under the spike threshold. 1.0 demands the loss come
        back to where it rose from: on a noisy curve the reference, a minimum
        of ``window`` noisy losses, is a low outlier, so this misses
        catapults and reports divergences that are none.

    Returns
    -------
    catapults : Catapults
        Their count, peak positions and heights, spike starts and ends, and
        whether the loss diverged.

    Raises
    ------
    ValueError
        If the curve has fewer than 2 steps, a non-finite or negative loss,
        or ``factor``, ``window`` or ``return_level`` is out of range.
    TypeError
        If ``factor``, ``window`` or ``return_level`` has the wrong type, or
        ``losses`` is a fitted estimator that records no loss curve.
    sklearn.exceptions.NotFittedError
        If ``losses`` is an estimator that is not fitted.

    Examples
    --------
    >>> from accelboost.diagnostics import detect_catapults
    >>> curve = [4.0, 3.0, 2.0, 1.5, 9.0, 6.0, 1.4, 1.3, 1.2]
    >>> found = detect_catapults(curve, window=3)
    >>> found.count, found.positions.tolist(), found.heights.tolist()
    (1, [4], [6.0])
    """
    factor = _check_real("factor", factor, low=1.0, low_closed=False)
    window = _check_int("window", window, low=1)
    if return_level is None:
        return_level = factor
    else:
        return_level = _check_real("return_level", return_level, low=0.0,
                                   low_closed=False, high=factor)
    curve = _loss_curve(losses)

    reference = _previous_minimum(curve, window)
    # Step 0 has no history (its reference is +inf): it never starts a spike.
    above = np.flatnonzero(curve > factor * reference)
    starts, ends, positions, heights = [], [], [], []
    divergence_start = None
    resume = 0
    for start in above:
        if start < resume:  # part of a spike already accounted for
            continue
        level = reference[start]
        # The spike's reference stays the level it rose from (the running
        # minimum would climb with the spike once it outlasts the window).
        horizon = curve[start + 1 : start + window + 1]
        fallen = np.flatnonzero(horizon <= return_level * level)
        if fallen.size == 0:
            if divergence_start is None:
                divergence_start = int(start)
            # Look for catapults again once the window has passed, from
            # whatever level the loss settled at.
            resume = start + window + 1
            continue
        end = start + 1 + int(fallen[0])
        peak = start + int(np.argmax(curve[start:end]))
        starts.append(start)
        ends.append(end)
        positions.append(peak)
        with np.errstate(divide="ignore"):
            heights.append(curve[peak] / level)
        resume = end

    def frozen(values, dtype):
        array = np.asarray(values, dtype=dtype)
        array.flags.writeable = False
        return array

    return Catapults(
        count=len(starts),
        positions=frozen(positions, np.intp),
        heights=frozen(heights, np.float64),
        starts=frozen(starts, np.intp),
        ends=frozen(ends, np.intp),
        diverged=divergence_start is not None,
        divergence_start=divergence_start,
    )


def _previous_minimum(curve: np.ndarray, window: int) -> np.ndarray:
    """``min(curve[max(0, k - window):k])`` for each ``k`` (+inf at ``k=0``).

    An O(n) running minimum (scipy's van Herk filter), as SGD curves can
    have millions of steps and a window of thousands.
    """
    padded = np.concatenate([np.full(window, np.inf), curve[:-1]])
    # minimum_filter1d centres its window; this origin makes output i the
    # minimum of padded[i : i + window], that is curve[i - window : i].
    trailing = minimum_filter1d(padded, size=window, mode="nearest",
                                origin=-(window // 2))
    return trailing[: curve.size]


def _loss_curve(losses: Any) -> np.ndarray:
    """The curve to scan: an array-like, or the curve an estimator recorded."""
    source = None
    if hasattr(losses, "loss_curve_"):
        source = f"{type(losses).__name__}.loss_curve_"
        curve = losses.loss_curve_
    elif hasattr(losses, "train_score_"):
        name = type(losses).__name__
        scoring = getattr(losses, "scoring", "loss")
        if scoring != "loss":
            raise ValueError(
                f"{name}.train_score_ holds the {scoring!r} score, not minus "
                "the loss: fit with scoring='loss', or pass the loss curve."
            )
        if len(losses.train_score_) == 0:
            raise ValueError(
                f"{name} recorded no training loss per stage (train_score_ is "
                "empty): fit with early stopping on and scoring='loss', or "
                "pass the loss curve."
            )
        source = f"-{name}.train_score_"
        curve = -np.asarray(losses.train_score_, dtype=np.float64)
    elif hasattr(losses, "fit"):
        check_is_fitted(losses)
        raise TypeError(
            f"{type(losses).__name__} records no loss curve (neither "
            "loss_curve_ nor train_score_): pass the losses as an array."
        )
    else:
        curve = losses

    what = "losses" if source is None else source
    try:
        curve = np.asarray(curve, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be an array of numbers.") from exc
    if curve.ndim != 1:
        raise ValueError(
            f"{what} must be 1-D (one loss per step); got shape {curve.shape}."
        )
    if curve.size < 2:
        raise ValueError(
            f"{what} has {curve.size} step(s); a loss curve needs at least 2."
        )
    if not np.all(np.isfinite(curve)):
        bad = int(np.flatnonzero(~np.isfinite(curve))[0])
        raise ValueError(
            f"{what} contains a non-finite loss (at step {bad}: {curve[bad]})."
        )
    if np.any(curve < 0):
        hint = ""
        if source is not None and source.startswith("-"):
            # GradientBoosting's train_score_ is the loss itself, not minus it.
            hint = (" This estimator's train_score_ is not minus the loss; "
                    "pass the loss curve as an array.")
        raise ValueError(
            f"{what} contains a negative loss: a spike is a ratio to the "
            f"running minimum, which needs non-negative losses.{hint}"
        )
    return curve


# -- AGOP ---------------------------------------------------------------------


def agop(
    model: Any,
    X: Any,
    *,
    method: str = "auto",
    step: float | np.ndarray | None = None,
    max_samples: int | None = 2000,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> np.ndarray:
    """Average gradient outer product of a model on data.

    ``G = (1/n) sum_j J(x_j)^T J(x_j)``, where ``J(x)`` is the Jacobian of the
    model's raw output(s) with respect to the input ``x``; with one output,
    ``J^T J = grad grad^T``. Its top eigenvectors span the directions of the
    input space the model varies along.

    Parameters
    ----------
    model : fitted estimator or callable
        What to differentiate: the raw output is ``decision_function`` if the
        model has one (the logits of a classifier), else ``predict_proba``
        for a classifier (its labels have no gradient), else ``predict``,
        else the callable itself, ``f(X) -> (n_samples,)`` or
        ``(n_samples, n_outputs)``.
    X : array-like of shape (n_samples, n_features)
        Where to take the gradients; NaN is passed on to the model.
    method : {"auto", "exact", "finite_differences"}, default="auto"
        "exact": the model's ``input_gradient(X)``, of shape ``(n_samples,
        n_outputs, n_features)``, the gradient of its raw output in the
        input's units. "finite_differences": central differences of the
        output named under ``model``, ``(f(x + h_j e_j) - f(x - h_j e_j)) /
        (2 h_j)``. "auto": "exact" if the model has ``input_gradient``, else
        finite differences. The two agree for a classifier (both take the
        decision function) and under squared error; under a log link
        (Poisson) the exact gradient is that of ``log(predict)``.
    step : float or array-like of shape (n_features,), default=None
        Finite-difference step ``h_j`` (positive), one for all features or
        one per feature. None: about one histogram bin, ``(99th percentile -
        1st percentile of X[:, j]) / max_bins`` (the model's ``max_bins``, else
        255), at least ``eps**(1/3) * max(1, max|X[:, j]|)`` so that a
        constant feature still gets a step. Trees are piecewise constant: a
        step much below a bin width sees almost no jump, one much above it
        smooths over several. Not used by the exact method.
    max_samples : int or None, default=2000
        Use at most this many rows, drawn without replacement; None: all.
        Finite differences cost ``n_features`` model calls on twice the rows.
    random_state : int, RandomState, Generator or None, default=None
        Seed of the row subsample.

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
        The AGOP, symmetric positive semi-definite. Features an accelboost
        model treats as categorical (``is_categorical_``) get zero rows and
        columns: a category code has no direction to differentiate along.

    Raises
    ------
    ValueError
        If ``method`` is unknown, ``step`` or ``max_samples`` is out of range,
        ``X`` is not 2-D, the model rejects ``X`` (wrong number of features),
        or the model's output or gradient has the wrong shape or a non-finite
        value.
    TypeError
        If ``method="exact"`` and the model has no ``input_gradient``, or the
        model is neither callable nor has a prediction method.

    See Also
    --------
    true_agop : The AGOP of a known gradient function.
    agop_alignment : How aligned two AGOPs are.

    Examples
    --------
    >>> import numpy as np
    >>> from accelboost.diagnostics import agop
    >>> w = np.array([1.0, -2.0, 0.0])
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> np.allclose(agop(lambda X: X @ w, X), np.outer(w, w))
    True
    """
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(
            f"method must be one of {', '.join(map(repr, _METHODS))}; "
            f"got {method!r}."
        )
    has_gradient = callable(getattr(model, "input_gradient", None))
    if method == "exact" and not has_gradient:
        raise TypeError(
            f"method='exact' needs a model with an input_gradient(X) method; "
            f"{type(model).__name__} has none: use method='finite_differences'."
        )
    if method == "auto":
        method = "exact" if has_gradient else "finite_differences"

    X_all = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan",
                        input_name="X")
    d = X_all.shape[1]
    steps = _check_step(step, X_all, model) if method != "exact" else None
    X_rows = X_all[_subsample(X_all.shape[0], max_samples, random_state)]
    wrap = _input_wrapper(X)

    if method == "exact":
        jacobian = np.asarray(model.input_gradient(wrap(X_rows)), dtype=np.float64)
        jacobian = _check_jacobian(jacobian, X_rows.shape[0], d,
                                   f"{type(model).__name__}.input_gradient(X)")
    else:
        respond, name = _response(model)
        jacobian = _central_differences(respond, name, X_rows, steps, wrap,
                                        _categorical_mask(model, d))
    return _outer_average(jacobian)


def true_agop(gradient_fn: Callable[[np.ndarray], Any], X: Any) -> np.ndarray:
    """The AGOP of a known function, from its gradient.

    For a synthetic target, the AGOP a fitted model's :func:`agop` should
    align with (:func:`agop_alignment`).

    Parameters
    ----------
    gradient_fn : callable
        ``gradient_fn(X)`` gives the gradient of the function at each row of
        ``X``: shape ``(n_samples, n_features)``, or ``(n_samples, n_outputs,
        n_features)`` for a function with several outputs.
    X : array-like of shape (n_samples, n_features)
        Where to average.

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
        ``(1/n) sum_j J(x_j)^T J(x_j)``.

    Raises
    ------
    ValueError
        If the gradients have the wrong shape or a non-finite value.
    TypeError
        If ``gradient_fn`` is not callable.
    """
    if not callable(gradient_fn):
        raise TypeError(
            f"gradient_fn must be callable; got {type(gradient_fn).__name__}."
        )
    X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan",
                    input_name="X")
    jacobian = np.asarray(gradient_fn(X), dtype=np.float64)
    jacobian = _check_jacobian(jacobian, X.shape[0], X.shape[1], "gradient_fn(X)")
    return _outer_average(jacobian)


def agop_alignment(A: Any, B: Any) -> float:
    """Alignment of two matrices: ``<A, B>_F / (||A||_F ||B||_F)``.

    The cosine of the angle between them as vectors: 1 when one is a
    positive multiple of the other, 0 when they are orthogonal; in ``[0, 1]``
    for two AGOPs (positive semi-definite matrices).

    Parameters
    ----------
    A : array-like of shape (n_features, n_features)
        First matrix.
    B : array-like of shape (n_features, n_features)
        Second matrix, of the same shape.

    Returns
    -------
    rho : float
        The alignment, in ``[-1, 1]``.

    Raises
    ------
    ValueError
        If the shapes differ, a matrix is not 2-D, has a non-finite entry or
        is zero (the angle is undefined).
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    for name, matrix in (("A", A), ("B", B)):
        if matrix.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix; got shape {matrix.shape}.")
        if not np.all(np.isfinite(matrix)):
            raise ValueError(f"{name} contains a non-finite value.")
    if A.shape != B.shape:
        raise ValueError(
            f"A and B must have the same shape; got {A.shape} and {B.shape}."
        )
    norm_a, norm_b = np.linalg.norm(A), np.linalg.norm(B)
    if norm_a == 0 or norm_b == 0:
        raise ValueError(
            f"{'A' if norm_a == 0 else 'B'} is zero: its alignment with another "
            "matrix is undefined."
        )
    rho = float(np.vdot(A, B) / (norm_a * norm_b))
    # Rounding can take the cosine of a zero angle just past 1.
    return min(1.0, max(-1.0, rho))


# -- AGOP helpers -------------------------------------------------------------


def _outer_average(jacobian: np.ndarray) -> np.ndarray:
    """``(1/n) sum_j J_j^T J_j`` from Jacobians of shape (n, k, d)."""
    n, _, d = jacobian.shape
    flat = jacobian.reshape(-1, d)
    G = flat.T @ flat / n
    # Exactly symmetric, whatever the summation order did.
    return (G + G.T) / 2


def _check_jacobian(jacobian: np.ndarray, n: int, d: int, what: str) -> np.ndarray:
    """Jacobians as (n, k, d); one output may come as (n, d)."""
    if jacobian.ndim == 2:
        jacobian = jacobian[:, None, :]
    if jacobian.ndim != 3 or jacobian.shape[0] != n or jacobian.shape[2] != d:
        raise ValueError(
            f"{what} must have shape (n_samples, n_outputs, n_features) = "
            f"({n}, k, {d}); got {jacobian.shape}."
        )
    if not np.all(np.isfinite(jacobian)):
        raise ValueError(f"{what} contains a non-finite value.")
    return jacobian


def _response(model: Any) -> tuple[Callable, str]:
    """The model's raw output, and its name for error messages."""
    name = type(model).__name__
    if callable(getattr(model, "decision_function", None)):
        return model.decision_function, f"{name}.decision_function"
    # is_classifier needs scikit-learn's tags; plain callables have none.
    classifier = hasattr(model, "__sklearn_tags__") and is_classifier(model)
    if classifier and callable(getattr(model, "predict_proba", None)):
        return model.predict_proba, f"{name}.predict_proba"
    if callable(getattr(model, "predict", None)):
        return model.predict, f"{name}.predict"
    if callable(model):
        return model, getattr(model, "__name__", name)
    raise TypeError(
        f"model must be a fitted estimator or a callable f(X); {name} has no "
        "decision_function, predict_proba or predict and is not callable."
    )


def _central_differences(respond, name, X, steps, wrap, categorical):
    """Jacobians (n, k, d) of ``respond`` by central differences."""
    n, d = X.shape
    jacobian = None
    for j in range(d):
        if categorical[j]:
            continue
        # One call per feature on 2n rows: the + and - perturbations stacked.
        shifted = np.concatenate([X, X])
        shifted[:n, j] += steps[j]
        shifted[n:, j] -= steps[j]
        out = np.asarray(respond(wrap(shifted)), dtype=np.float64)
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != 2 * n:
            raise ValueError(
                f"{name} must return shape (n_samples,) or (n_samples, "
                f"n_outputs); got {out.shape} for {2 * n} samples."
            )
        if jacobian is None:
            jacobian = np.zeros((n, out.shape[1], d))
        # (x + h) - (x - h) is not exactly 2h in floating point: divide by
        # the distance the inputs actually moved.
        width = (shifted[:n, j] - shifted[n:, j])[:, None]
        with np.errstate(invalid="ignore"):
            # NaN inputs stay NaN either side: the model sees no change.
            jacobian[:, :, j] = np.where(
                np.isnan(width), 0.0, (out[:n] - out[n:]) / width
            )
    if jacobian is None:  # every feature categorical
        jacobian = np.zeros((n, 1, d))
    if not np.all(np.isfinite(jacobian)):
        raise ValueError(f"{name} returned a non-finite value.")
    return jacobian


def _check_step(step, X: np.ndarray, model: Any) -> np.ndarray:
    """Per-feature finite-difference steps, positive and finite."""
    d = X.shape[1]
    if step is None:
        bins = getattr(model, "max_bins", None)
        if not isinstance(bins, Real) or isinstance(bins, bool) or bins <= 0:
            bins = _DEFAULT_BINS
        with np.errstate(all="ignore"):
            lo, hi = np.nanpercentile(X, [1, 99], axis=0)
            scale = np.nanmax(np.abs(X), axis=0)
        spread = np.nan_to_num(hi - lo) / float(bins)
        # The usual central-difference step (eps**(1/3) relative): small
        # enough to leave a smooth function's derivative alone, large
        # enough to stay clear of rounding.
        floor = np.finfo(np.float64).eps ** (1 / 3) * np.fmax(
            1.0, np.nan_to_num(scale)
        )
        return np.maximum(spread, floor)
    if isinstance(step, Real) and not isinstance(step, bool):
        steps = np.full(d, float(step))
    else:
        try:
            steps = np.asarray(step, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"step must be a float or an array of floats; got {step!r}."
            ) from exc
        if steps.shape != (d,):
            raise ValueError(
                f"step must be a float or have shape (n_features,) = ({d},); "
                f"got shape {steps.shape}."
            )
    if not np.all(np.isfinite(steps) & (steps > 0)):
        raise ValueError(f"step must be positive and finite; got {step!r}.")
    return steps


def _subsample(n: int, max_samples, random_state) -> np.ndarray:
    """Indices of at most ``max_samples`` rows (sorted; all rows if None)."""
    if max_samples is not None:
        max_samples = _check_int("max_samples", max_samples, low=1)
    if max_samples is None or n <= max_samples:
        return np.arange(n)
    if isinstance(random_state, np.random.Generator):
        rows = random_state.choice(n, max_samples, replace=False)
    else:
        rows = check_random_state(random_state).choice(n, max_samples,
                                                       replace=False)
    return np.sort(rows)


def _input_wrapper(X: Any) -> Callable[[np.ndarray], Any]:
    """Rebuild a DataFrame from perturbed rows, as ``X`` came as one.

    A model fitted on a DataFrame warns when it predicts on an array without
    its feature names.
    """
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "iloc"):
        return lambda rows: rows
    frame = type(X)
    return lambda rows: frame(rows, columns=columns)


def _categorical_mask(model: Any, d: int) -> np.ndarray:
    """Features with no direction to differentiate along (category codes)."""
    mask = getattr(model, "is_categorical_", None)
    if mask is None:
        return np.zeros(d, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    return mask if mask.shape == (d,) else np.zeros(d, dtype=bool)


# -- parameter checks ---------------------------------------------------------


def _check_real(name, value, *, low, low_closed, high=None) -> float:
    """A real number in ``(low, high]`` or ``[low, high]`` (scikit-learn wording)."""
    left = "[" if low_closed else "("
    right = "inf)" if high is None else f"{high}]"
    interval = f"{left}{low}, {right}"
    if not isinstance(value, Real) or isinstance(value, bool):
        raise TypeError(
            f"{name} must be a float in the range {interval}. Got {value!r} "
            f"of type {type(value).__name__} instead."
        )
    value = float(value)
    inside = (value >= low if low_closed else value > low) and (
        high is None or value <= high
    )
    if not inside:  # NaN compares False, so it lands here too
        raise ValueError(
            f"{name} must be a float in the range {interval}. Got {value!r} instead."
        )
    return value


def _check_int(name, value, *, low) -> int:
    """An integer of at least ``low`` (scikit-learn wording)."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(
            f"{name} must be an int in the range [{low}, inf). Got {value!r} "
            f"of type {type(value).__name__} instead."
        )
    if value < low:
        raise ValueError(
            f"{name} must be an int in the range [{low}, inf). Got {value!r} instead."
        )
    return int(value)
