"""Class labels as the log losses read them: 0.0, 1.0, ..., K-1, shared by
every classifier of the package."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets


def encode_labels(y) -> tuple[np.ndarray, np.ndarray]:
    """The classes of ``y`` and ``y`` as their indices.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels of a training set.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted distinct labels.
    encoded : ndarray of shape (n_samples,)
        Each label's index in ``classes``, as float64.

    Raises
    ------
    ValueError
        If ``y`` is not a classification target or holds a single class.
    """
    check_classification_targets(y)
    encoder = LabelEncoder()
    encoded = encoder.fit_transform(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            # The label as the user wrote it: 'cat' or 3, not np.str_('cat').
            f"y contains only one class ({encoder.classes_[0].item()!r}); a "
            "classifier needs at least 2 classes."
        )
    return encoder.classes_, encoded.astype(np.float64)


def encode_known_labels(
    y, classes: np.ndarray, *, name: str = "y_val", reason: str = "absent from y"
) -> np.ndarray:
    """``y`` as indices into the classes of a fitted classifier.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels of other data (validation, evaluation).
    classes : ndarray of shape (n_classes,)
        The fitted ``classes_``.
    name : str, default="y_val"
        What the error message calls ``y``.
    reason : str, default="absent from y"
        Why the message says a label is unknown.

    Returns
    -------
    encoded : ndarray of shape (n_samples,)
        float64 indices.

    Raises
    ------
    ValueError
        If ``y`` holds a label that is not in ``classes``.
    """
    check_classification_targets(y)
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            f"{name} contains labels the estimator was not fitted on ({reason}): "
            f"{unknown.tolist()}."
        )
    return np.searchsorted(classes, y).astype(np.float64)
