"""Early stopping shared by every estimator: the held-out split and the
patience rule (scikit-learn's HistGradientBoosting semantics)."""

from __future__ import annotations

from collections.abc import Sequence

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
