"""Early stopping shared by every estimator: the held-out split, the
patience rule (scikit-learn's HistGradientBoosting semantics), and the
stages a prediction uses (``iteration_range``)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
from sklearn.model_selection import train_test_split

#: Above this many samples, ``early_stopping="auto"`` turns early stopping on.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000


def uses_early_stopping(
    early_stopping, n_samples: int, has_validation_set: bool
) -> bool:
    """Whether a fit stops early: "auto" means with a validation set given or
    more than 10,000 samples."""
    if early_stopping == "auto":
        return has_validation_set or n_samples > AUTO_EARLY_STOPPING_MIN_SAMPLES
    return bool(early_stopping)


def split_validation(X, y, sample_weight, fraction, *, classes=None, seed: int):
    """Hold out ``fraction`` of the rows, reproducibly.

    Parameters
    ----------
    X, y : ndarray
        The training data.
    sample_weight : ndarray or None
        Its weights.
    fraction : float or int
        The held-out share (or number of rows).
    classes : ndarray or None
        A classifier's labels (``y`` holds their codes 0..K-1): the split
        keeps the class proportions, and an error names a class by its
        label.
    seed : int
        Seed of the split.

    Returns
    -------
    train, validation : tuple of (X, y, sample_weight)
        Copies of the rows ``split_rows`` picks.
    """
    train, val = split_rows(y, sample_weight, fraction, classes=classes, seed=seed)

    def rows(index):
        return (X[index], y[index],
                None if sample_weight is None else sample_weight[index])

    return rows(train), rows(val)


#: What an estimator with a validation set parameter can do about a split
#: that fails (the additive ones, which have none, say otherwise).
REMEDY = "Pass X_val and y_val, or set early_stopping=False."


def split_rows(y, sample_weight, fraction, *, classes=None, seed: int,
               remedy: str = REMEDY) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``split_validation`` holds out, as indices: the estimators
    bin ``X`` through them and never copy it.

    Parameters
    ----------
    y, sample_weight, fraction, classes, seed
        As for ``split_validation``.
    remedy : str, default=REMEDY
        The sentence that ends an error: what the user can do.

    Returns
    -------
    train, validation : ndarray of intp
        Row indices, in ``train_test_split``'s order.
    """
    if classes is not None:
        counts = np.bincount(np.asarray(y, dtype=np.intp), minlength=len(classes))
        few = np.asarray(classes)[counts == 1]  # absent classes are not split
        if len(few):
            raise ValueError(
                "The least populated classes in y have only 1 member, which is "
                "too few to hold out a stratified validation set "
                f"(validation_fraction={fraction}). Classes with too few "
                f"members are: {few.tolist()}. {remedy}"
            )
    try:
        train, val = train_test_split(
            np.arange(len(y)), test_size=fraction,
            stratify=None if classes is None else y, random_state=seed,
        )
    except ValueError:
        # train_test_split's own words name its parameters, not ours.
        each = "" if classes is None else " of each class"
        raise ValueError(
            f"validation_fraction={fraction} cannot hold out a validation set "
            f"from {len(y)} samples: the training part and the held-out part "
            f"each need at least one sample{each}. {remedy}"
        ) from None
    if sample_weight is not None:
        train, val = keep_weight_on_both_sides(
            train, val, sample_weight, fraction, None if classes is None else y,
            remedy=remedy)
    return train, val


def keep_weight_on_both_sides(train: np.ndarray, val: np.ndarray,
                              sample_weight: np.ndarray, fraction: float,
                              y: np.ndarray | None = None, *,
                              remedy: str = REMEDY
                              ) -> tuple[np.ndarray, np.ndarray]:
    """The split's rows (indices), with positive weight on both sides.

    A random split can put every positive weight on one side; the training
    loss (or the validation score) would then divide by zero. One positive
    row then trades places with a row of the other side (the first of
    each, so the split stays reproducible; given a classifier's ``y``, the
    first of the same class if there is one, so that neither side loses a
    class); with fewer than two positive weights no split can score the
    model, and that is a ValueError.
    """
    positive = sample_weight > 0
    if positive[train].any() and positive[val].any():
        return train, val
    if positive.sum() < 2:
        raise ValueError(
            f"validation_fraction={fraction} cannot hold out part of the data: "
            "fewer than two samples have a positive weight, so the training "
            "part or "
            f"the held-out part would have zero total weight. {remedy}"
        )
    train, val = train.copy(), val.copy()
    full, empty = (train, val) if positive[train].any() else (val, train)
    i = np.flatnonzero(positive[full])[0]
    j = 0
    if y is not None:
        same = np.flatnonzero(y[empty] == y[full[i]])
        j = same[0] if len(same) else 0
    full[i], empty[j] = empty[j], full[i]
    return train, val


def patience_exhausted(scores: Sequence[float], n_iter_no_change: int,
                       tol: float) -> bool:
    """True when none of the last ``n_iter_no_change`` scores improved on the
    one before them by more than ``tol`` (higher is better).

    Parameters
    ----------
    scores : sequence of float
        One score per stage (the first: before any stage).
    n_iter_no_change : int
        The patience.
    tol : float
        The least improvement that counts.

    Returns
    -------
    stop : bool
    """
    window = n_iter_no_change + 1
    if len(scores) < window:
        return False
    reference = scores[-window] + tol
    return not any(score > reference for score in np.asarray(scores)[-window + 1:])


def check_iteration_range(iteration_range, n_stages: int) -> tuple[int, int | None]:
    """``(first stage, stop stage)`` of a predict's ``iteration_range``.

    Parameters
    ----------
    iteration_range : tuple of (int, int) or None
        XGBoost's ``iteration_range``: stages ``begin`` to ``end``; the
        baseline is always included.
    n_stages : int
        Stages of the fitted model.

    Returns
    -------
    begin, end : int, int or None
        ``(0, None)`` for None: the caller's default stages.
    """
    if iteration_range is None:
        return 0, None
    pair = isinstance(iteration_range, tuple | list) and len(iteration_range) == 2
    if not (pair and all(isinstance(i, Integral) and not isinstance(i, bool)
                         for i in iteration_range)
            and 0 <= iteration_range[0] <= iteration_range[1] <= n_stages):
        raise ValueError(
            "iteration_range must be a pair of ints (begin, end) with "
            f"0 <= begin <= end <= n_iter_={n_stages}; got {iteration_range!r}."
        )
    return int(iteration_range[0]), int(iteration_range[1])
