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


def split_validation(X, y, sample_weight, fraction, *, stratify: bool, seed: int):
    """Hold out ``fraction`` of the rows, reproducibly.

    Parameters
    ----------
    X, y : ndarray
        The training data.
    sample_weight : ndarray or None
        Its weights.
    fraction : float or int
        The held-out share (or number of rows).
    stratify : bool
        Whether to keep the class proportions of ``y`` (classifiers).
    seed : int
        Seed of the split.

    Returns
    -------
    train, validation : tuple of (X, y, sample_weight)
    """
    arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
    parts = train_test_split(
        *arrays, test_size=fraction, stratify=y if stratify else None,
        random_state=seed,
    )
    if sample_weight is None:
        return (parts[0], parts[2], None), (parts[1], parts[3], None)
    return (parts[0], parts[2], parts[4]), (parts[1], parts[3], parts[5])


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
