"""Tree constraints from the estimators' parameters, with HGB's rules and messages.

``interaction_cst`` becomes a membership matrix of feature groups and
``monotonic_cst`` one int8 per feature, as the tree grower takes them.
"""

import itertools
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier

from ._engine.grower import interaction_groups_matrix


def interaction_groups(interaction_cst, n_features: int) -> np.ndarray | None:
    """``interaction_cst`` as a membership matrix (None without it).

    HistGradientBoosting's rules and messages: features in no group
    form one more group together.

    Parameters
    ----------
    interaction_cst : "pairwise", "no_interactions", list of groups or None
        The estimator's parameter.
    n_features : int
        Number of features.

    Returns
    -------
    groups : ndarray of uint8, shape (n_groups, n_features), or None
    """
    if interaction_cst is None:
        return None
    if interaction_cst == "no_interactions":
        groups = [[f] for f in range(n_features)]
    elif interaction_cst == "pairwise":
        groups = itertools.combinations(range(n_features), 2)
    else:
        groups = interaction_cst
    try:
        groups = [set(group) for group in groups]
    except TypeError:
        raise ValueError(
            "Interaction constraints must be a sequence of tuples or lists, "
            f"got: {interaction_cst!r}."
        ) from None
    for group in groups:
        if not all(isinstance(f, Integral) and 0 <= f < n_features
                   for f in group):
            raise ValueError(
                "Interaction constraints must consist of integer indices in "
                f"[0, n_features - 1] = [0, {n_features - 1}], specifying the "
                f"position of features, got invalid indices: {group!r}"
            )
    rest = set(range(n_features)) - set().union(*groups)
    if rest:
        groups.append(rest)
    return interaction_groups_matrix(groups, n_features)


def monotonic_constraints(estimator, n_features: int) -> np.ndarray | None:
    """``monotonic_cst`` as one int8 per feature, or None when unconstrained.

    Parameters
    ----------
    estimator : BaseAccelBoost
        The estimator being fitted: its ``monotonic_cst``, feature names,
        classes and categorical features are checked against each other.
    n_features : int
        Number of features.

    Returns
    -------
    constraints : ndarray of int8, shape (n_features,), or None
        1: increasing, -1: decreasing, 0: free.
    """
    given = estimator.monotonic_cst
    if given is None:
        return None
    constraints = np.zeros(n_features, dtype=np.int8)
    if isinstance(given, dict):
        names = getattr(estimator, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                f"{type(estimator).__name__} was not fitted on data with feature "
                "names. Pass monotonic_cst as an integer array instead."
            )
        unexpected = sorted(set(given) - set(names))
        if unexpected:
            raise ValueError(
                f"monotonic_cst contains {len(unexpected)} unexpected feature "
                f"names: {unexpected[:5]}."
            )
        for j, name in enumerate(names):
            if name in given:
                if given[name] not in (-1, 0, 1):
                    raise ValueError(
                        f"monotonic_cst['{name}'] must be either -1, 0 or 1. "
                        f"Got {given[name]!r}."
                    )
                constraints[j] = given[name]
    else:
        values = np.asarray(given)
        unexpected = np.setdiff1d(values, [-1, 0, 1])
        if unexpected.size:
            raise ValueError(
                "monotonic_cst must be an array-like of -1, 0 or 1. Observed "
                f"values: {unexpected.tolist()}."
            )
        if values.shape != (n_features,):
            raise ValueError(
                f"monotonic_cst has shape {values.shape} but the input data X "
                f"has {n_features} features."
            )
        constraints[:] = values
    if not constraints.any():
        return None
    if is_classifier(estimator) and len(estimator.classes_) > 2:
        raise ValueError(
            "monotonic constraints are not supported for multiclass classification."
        )
    categorical = estimator.is_categorical_
    if categorical is not None and np.any(constraints[categorical] != 0):
        raise ValueError("Categorical features cannot have monotonic constraints.")
    return constraints
