"""What every fit must do, checked on one :class:`~.cases.Case`.

A fit either raises a clean ``ValueError``/``TypeError`` (raised by accelboost
or scikit-learn's validation, not from inside NumPy or a kernel), and must when
its input is invalid (:func:`invalid_input`), and then leaves a model fitted
before it as it was; or it gives a model whose

- predictions, probabilities, scores and terms are finite;
- ``predict`` (and ``predict_proba``) equals ``staged_predict`` at
  ``best_iteration_`` and at the last stage;
- probabilities lie in [0, 1] and sum to 1, and ``predict`` is their argmax;
- terms plus the intercept add up to the raw prediction;
- training loss never rises under an accelerated policy with the function
  restart (``train_score_`` never falls);
- refit with the other thread count, pickled, or written to a model file and
  read back, predicts bit for bit the same.

:func:`check_case` returns an :class:`Outcome` listing the violations.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.base import clone

from .cases import Case

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Relative tolerance of equalities that go through different sums.
RTOL = 1e-9


@dataclass
class Outcome:
    """How a case went.

    Attributes
    ----------
    status : {"ok", "rejected", "failed"}
        "rejected": the fit raised a clean error (``error``), which invalid
        input requires; "failed": at least one violation.
    error : str
        The rejection's type and message ("" otherwise).
    violations : list of str
        What broke, each as ``"property: detail"``; the property is "fit" or
        the name of the check (``finite_model``, ...).
    """

    status: str
    error: str = ""
    violations: list[str] = field(default_factory=list)


def check_case(case: Case) -> Outcome:
    """Fit ``case`` and check every property of the module docstring."""
    X, y, sample_weight = case.data()
    invalid = invalid_input(case, X, y, sample_weight)
    try:
        model = fit(case, X, y, sample_weight)
    except (ValueError, TypeError) as exc:
        where = _unclean_origin(exc)
        if where:
            return Outcome("failed", violations=[
                f"fit: {type(exc).__name__} raised at {where}: {exc}"])
        return Outcome("failed" if (lost := failed_refit_keeps_model(
            case, X, y, sample_weight)) else "rejected",
            error=f"{type(exc).__name__}: {exc}", violations=lost)
    except Exception as exc:  # noqa: BLE001 - any other exception is the bug
        return Outcome("failed", violations=[
            f"fit: {type(exc).__name__}: {exc} at {_origin(exc)}"])
    if invalid:
        return Outcome("failed", violations=[
            f"fit: accepted invalid input: {invalid}"])
    violations = []
    for check in (finite_model, predict_is_last_stage, terms_add_up,
                  function_restart_never_rises, reproducible):
        if check is reproducible and violations:
            break  # a model that is already wrong need not be refit
        try:
            found = check(case, model, X, y, sample_weight)
        except Exception as exc:  # noqa: BLE001 - a fitted model must not raise
            found = [f"{type(exc).__name__}: {exc} at {_origin(exc)}"]
        violations += [f"{check.__name__}: {text}" for text in found]
    return Outcome("failed" if violations else "ok", violations=violations)


def fit(case: Case, X, y, sample_weight, model=None) -> Any:
    """``model`` (by default the case's estimator) fitted on the case's data,
    then warm-started for ``warm_stages`` more stages."""
    model = case.make_estimator() if model is None else model
    with warnings.catch_warnings():
        # Divergence warnings are part of the contract, not a failure here.
        warnings.simplefilter("ignore")
        model.fit(X, y, sample_weight=sample_weight)
        if case.warm_stages and case.is_boosting:
            model.set_params(warm_start=True,
                             max_iter=case.max_iter + case.warm_stages)
            model.fit(X, y, sample_weight=sample_weight)
    return model


def invalid_input(case: Case, X, y, sample_weight) -> str | None:
    """Why the case's data must be rejected, or None."""
    # A categorical column's values are labels: inf is one like any other.
    numeric = X[:, 1:] if case.categorical and case.is_boosting else X
    if np.isinf(numeric).any():
        return "X holds an infinity"
    if sample_weight is not None:
        if (sample_weight < 0).any():
            return "a negative sample weight"
        if not (sample_weight > 0).any():
            return "no positive sample weight"
    if case.is_classifier:
        return "a single class" if len(np.unique(y)) < 2 else None
    if not np.isfinite(y).all():
        return "y is not finite"
    loss = case.effective_loss
    if loss in ("poisson", "tweedie") and (y < 0).any():
        return f"negative y with loss={loss!r}"
    if loss in ("poisson", "tweedie") and not np.sum(
            y * (1.0 if sample_weight is None else sample_weight)) > 0:
        return f"sum(y) is not positive with loss={loss!r}"
    if loss == "gamma" and (y <= 0).any():
        return "y <= 0 with loss='gamma'"
    return None


def failed_refit_keeps_model(case: Case, X, y, sample_weight) -> list[str]:
    """A model fitted on valid data and refitted on the case's rejected data
    raises again and predicts as before: a failed fit loses no model."""
    valid = replace(case, n_rows=max(case.n_rows, 60), x_inf=False,
                    y_kind="normal", n_classes=max(case.n_classes, 2),
                    class_balance="balanced", weight_kind="none", warm_stages=0)
    X_valid, y_valid, _ = valid.data()
    try:
        model = fit(valid, X_valid, y_valid, None)
    except (ValueError, TypeError):
        return []  # the parameters themselves are rejected: nothing to keep
    before = {k: v for k, v in vars(model).items() if k.endswith("_")
              and not k.startswith("_")}
    expected = model.predict(X_valid)
    try:
        fit(case, X, y, sample_weight, model)
    except (ValueError, TypeError):
        pass
    else:
        return ["failed_refit_keeps_model: the refit did not fail again"]
    out = []
    try:
        same = np.array_equal(model.predict(X_valid), expected)
    except Exception as exc:  # noqa: BLE001 - the kept model must predict
        return [f"failed_refit_keeps_model: predict raised after a failed "
                f"refit: {type(exc).__name__}: {exc}"]
    if not same:
        out.append("failed_refit_keeps_model: predictions changed after a "
                   "failed refit")
    after = {k for k in vars(model) if k.endswith("_") and not k.startswith("_")}
    if after != set(before) or any(
            vars(model)[k] is not before[k] for k in before):
        out.append("failed_refit_keeps_model: fitted attributes changed after "
                   "a failed refit")
    return out


# -- properties of a fitted model ---------------------------------------------
def finite_model(case: Case, model, X, y=None,
        sample_weight=None) -> list[str]:
    """Predictions (on X and on an all-missing row), probabilities and scores
    are finite; probabilities are a distribution and ``predict`` its argmax."""
    probe = np.vstack([X.astype(np.float64), np.full((1, X.shape[1]), np.nan)])
    out = []
    raw = model._raw_predict(probe)
    if not np.isfinite(raw).all():
        out.append(f"non-finite raw predictions on {_rows(~np.isfinite(raw))}")
    for name in ("train_score_", "validation_score_"):
        value = getattr(model, name, [])
        parts = value if isinstance(value, list) else [value]  # additive: per bag
        scores = np.concatenate([np.ravel(np.asarray(part, dtype=np.float64))
                                 for part in parts] or [np.zeros(0)])
        if not np.isfinite(scores).all():
            out.append(f"non-finite {name}: {scores.ravel()[:5]}...")
    if not case.is_classifier:
        prediction = model.predict(probe)
        if not np.isfinite(prediction).all():
            out.append("non-finite predict")
        return out
    proba = model.predict_proba(probe)
    if not np.isfinite(proba).all():
        return [*out, "non-finite predict_proba"]
    if (proba < 0).any() or (proba > 1).any():
        out.append("predict_proba outside [0, 1]")
    if not np.allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9):
        out.append(f"predict_proba rows sum to {proba.sum(axis=1).min()}.."
                   f"{proba.sum(axis=1).max()}")
    labels = model.predict(probe)
    clear = np.sort(proba, axis=1)
    clear = clear[:, -1] - clear[:, -2] > 1e-9  # ties may go either way
    if not np.array_equal(labels[clear], model.classes_[proba.argmax(axis=1)][clear]):
        out.append("predict is not the argmax of predict_proba")
    return out


def predict_is_last_stage(case: Case, model, X, y=None,
        sample_weight=None) -> list[str]:
    """``predict`` (``predict_proba``) equals ``staged_predict``
    (``staged_predict_proba``) at ``best_iteration_`` stages, and at the last
    stage with ``iteration_range=(0, n_iter_)``: the folded model is the
    staged one."""
    if not case.is_boosting:
        return []
    out = []
    # A classifier's labels are the argmax of these (``finite_model``), where
    # a tie between classes may round either way.
    pairs = [("predict_proba", "staged_predict_proba") if case.is_classifier
             else ("predict", "staged_predict")]
    for final, staged in pairs:
        stages = list(getattr(model, staged)(X))
        checks = [(f"{final}(X, iteration_range=(0, n_iter_))",
                   getattr(model, final)(X, iteration_range=(0, model.n_iter_)),
                   stages[-1])]
        best = model.best_iteration_
        checks.append((f"{final}(X) at best_iteration_={best}",
                       getattr(model, final)(X),
                       # 0: the baseline alone, which no stage yields.
                       stages[best - 1] if best else getattr(model, final)(
                           X, iteration_range=(0, 0))))
        for name, value, expected in checks:
            if not _close(value, expected):
                out.append(f"{name} differs from {staged}: "
                           f"{_first_difference(value, expected)}")
    return out


def terms_add_up(case: Case, model, X, y=None,
        sample_weight=None) -> list[str]:
    """``intercept_`` plus the sum of ``predict_terms`` is the raw prediction."""
    try:
        intercept = np.asarray(model.intercept_)
    except ValueError:  # trees deeper than pairs: the model has no terms
        return []
    total = intercept + model.predict_terms(X).sum(axis=1)
    raw = model._raw_predict(X).reshape(total.shape)
    if _close(total, raw):
        return []
    return [f"intercept_ + predict_terms differs from the raw prediction: "
            f"{_first_difference(total, raw)}"]


def function_restart_never_rises(case: Case, model, X, y=None,
        sample_weight=None) -> list[str]:
    """Under an accelerated policy with ``restart="function"`` (or
    ``"validation"``, which keeps its guard) the training loss never rises:
    ``-train_score_`` when a held-out split was scored, else the loss of
    ``staged_predict`` on the training data."""
    if not case.is_boosting or case.restart not in ("function", "validation"):
        return []
    if not model._ensemble.policy.accelerated:
        return []
    if len(model.train_score_) and model.scoring != "loss":
        return []  # scored by another scorer, on rows held out of X
    if len(model.train_score_):
        losses = -np.asarray(model.train_score_, dtype=np.float64)
    else:  # no split: the training rows are all of X
        y_fit = model._encode_y_val(y)
        weights = model._finalize_sample_weight(sample_weight, y_fit)
        weights = np.ones(len(y_fit)) if weights is None else weights
        losses = np.array([model._loss(y_fit, raw, weights)
                           for raw in model._staged_raw_predict(X)])
    if losses.size < 2:
        return []
    rises = np.diff(losses) > RTOL * np.maximum(1.0, np.abs(losses[:-1]))
    if not rises.any():
        return []
    stage = int(np.argmax(rises))
    return [f"training loss rose under restart={case.restart!r} at stage "
            f"{stage + 1}: {losses[stage]!r} -> {losses[stage + 1]!r}"]


def reproducible(case: Case, model, X, y, sample_weight) -> list[str]:
    """Refit with the other thread count, a pickled copy and a model-file copy
    all predict bit for bit as ``model``."""
    expected = model._raw_predict(X)
    other = 3 - case.n_threads
    unfitted = clone(model).set_params(n_threads=other)
    if case.is_boosting:  # as the case's first fit was
        unfitted.set_params(warm_start=False, max_iter=case.max_iter)
    copies = {"pickled": lambda: pickle.loads(pickle.dumps(model)),
              f"refit with n_threads={other}":
                  lambda: fit(case, X, y, sample_weight, unfitted)}
    if case.is_boosting:
        copies["written to a model file and read back"] = lambda: _file_copy(model)
    out = []
    for name, make in copies.items():
        got = make()._raw_predict(X)
        if not np.array_equal(got, expected, equal_nan=True):
            out.append(f"{name}, the model predicts differently: "
                       f"{_first_difference(got, expected)}")
    return out


def _file_copy(model):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.json")
        model.save_model(path)
        return type(model)().load_model(path)


# -- helpers ----------------------------------------------------------------------
def _close(a, b) -> bool:
    """Equal up to ``RTOL`` (NaN equal to NaN, infinities to themselves)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
        near = np.abs(a - b) <= RTOL * scale
    return bool(np.all(near | (a == b) | (np.isnan(a) & np.isnan(b))))


def _first_difference(a, b) -> str:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shapes {a.shape} and {b.shape}"
    differ = np.flatnonzero(~((a == b) | (_isnan(a) & _isnan(b))).reshape(-1))
    if not differ.size:
        return "no entry differs"
    i = differ[0]
    return (f"{differ.size} entries, first at flat index {i}: "
            f"{a.reshape(-1)[i]!r} vs {b.reshape(-1)[i]!r}")


def _isnan(a):
    return np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, dtype=bool)


def _rows(mask) -> str:
    rows = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))
    return f"{rows.size} rows (first {rows[:5].tolist()})"


def _origin(exc: BaseException) -> str:
    """``file:line`` of the innermost frame that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def _unclean_origin(exc: BaseException) -> str | None:
    """Where an error came from if not from a ``raise`` statement of
    accelboost or scikit-learn (a validation), else None: an error of NumPy,
    Numba or the standard library, raised in Python or in C (whose innermost
    Python frame is then a line that called it, not a ``raise``)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    last = frames[-1]
    path = os.path.abspath(last.filename)
    ours = path.startswith(_PACKAGE_DIR) or f"{os.sep}sklearn{os.sep}" in path
    if ours and (last.line or "").lstrip().startswith("raise"):
        return None
    return f"{last.filename}:{last.lineno} ({(last.line or '').strip()})"
