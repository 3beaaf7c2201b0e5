"""The terms of an additive model, taken apart exactly from its trees.

Every leaf of a tree depends only on the features split on along its path
from the root. When no path uses more than two features (stumps,
``interaction_cst="no_interactions"`` or ``"pairwise"``, depth-2 trees), the
model is a sum of terms: an intercept, main effects ``f_j(x_j)`` and pairs
``f_jk(x_j, x_k)``. Each leaf's value goes to the term of its path's
features, so the terms sum to the model's raw prediction (up to the order
of floating-point additions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._engine.common import binned_dtype
from ._engine.predictor import add_term_values

#: Term 0 collects leaves whose path splits on nothing (trees that are a
#: single leaf): it is part of the intercept.
_INTERCEPT = ()


@dataclass(frozen=True)
class ShapeFunction:
    """One term of an additive model on its bin grid.

    Attributes
    ----------
    term : tuple of int
        Indices of the term's features (one, or two for a pair).
    name : str
        The term's name (``term_names_``).
    thresholds : tuple of ndarray
        Per feature, the upper edges of its non-missing bins: bin ``b``
        holds ``thresholds[b - 1] < x <= thresholds[b]`` (the last edge is
        +inf).
    values : ndarray
        The term's value on each bin, shape ``(n_bins_j + 1,)`` for a main
        effect or ``(n_bins_j + 1, n_bins_k + 1)`` for a pair; the last
        entry along each axis is the missing-value (NaN) bin. Classifiers
        with more than two classes add a last axis, one value per class.
    """

    term: tuple
    name: str
    thresholds: tuple
    values: np.ndarray


@dataclass(frozen=True)
class TermStructure:
    """Which term each leaf of the packed trees belongs to.

    Attributes
    ----------
    terms : list of tuple of int
        The terms; ``terms[0]`` is the empty one (single-leaf trees).
    node_terms : ndarray of intp
        Term index of every leaf of the packed nodes (0 for inner nodes).
    """

    terms: list
    node_terms: np.ndarray


def decompose(nodes: np.ndarray, starts: np.ndarray) -> TermStructure:
    """The term of every leaf: the features split on along its path.

    Parameters
    ----------
    nodes : ndarray of PREDICTOR_NODE_DTYPE
        Packed trees (child indices tree-relative, ``left == 0`` for leaves).
    starts : ndarray of intp
        Index of each tree's root.

    Returns
    -------
    structure : TermStructure
        Terms ordered as the intercept, then main effects by feature, then
        pairs.

    Raises
    ------
    ValueError
        If a path splits on more than two features: the model is then not
        a sum of main effects and pairs.
    """
    leaf_sets = np.empty(len(nodes), dtype=object)
    for root in starts:
        stack = [(int(root), ())]
        while stack:
            i, used = stack.pop()
            left = int(nodes[i]["left"])
            if left == 0:
                leaf_sets[i] = used
                continue
            feature = int(nodes[i]["feature_idx"])
            path = used if feature in used else tuple(sorted(used + (feature,)))
            if len(path) > 2:
                raise ValueError(
                    "The model is not a sum of main effects and pairs: a tree "
                    f"path splits on {len(path)} features {path}. Terms need "
                    "interaction_cst='no_interactions' or 'pairwise', stumps, "
                    "or trees of depth 2."
                )
            stack += [(int(root) + left, path), (int(root) + left + 1, path)]
    found = {t for t in leaf_sets if t is not None}
    terms = [_INTERCEPT] + sorted(found - {_INTERCEPT}, key=lambda t: (len(t), t))
    index = {term: k for k, term in enumerate(terms)}
    node_terms = np.zeros(len(nodes), dtype=np.intp)
    for i, term in enumerate(leaf_sets):
        if term is not None:
            node_terms[i] = index[term]
    return TermStructure(terms, node_terms)


def term_values(structure, folded, starts, columns, X, binned, missing_bin,
                n_outputs) -> np.ndarray:
    """Each term's contribution at each row, shape (n, n_terms, n_outputs).

    Parameters
    ----------
    structure : TermStructure
        From ``decompose`` on the same packed trees.
    folded : ndarray of PREDICTOR_NODE_DTYPE
        The packed trees with their coefficients folded into the leaves.
    starts, columns : ndarray of intp
        Each tree's root and output column.
    X : ndarray of shape (n, n_features)
        Raw values, or bins when ``binned``.
    binned : bool
        Whether ``X`` holds bins.
    missing_bin : int
        Bin code of NaN.
    n_outputs : int
        Raw outputs of the model.

    Returns
    -------
    values : ndarray of shape (n, n_terms, n_outputs)
        Term 0 holds the single-leaf trees (part of the intercept).
    """
    out = np.zeros((X.shape[0], len(structure.terms), n_outputs))
    add_term_values(folded, starts, columns, structure.node_terms, X, binned,
                    missing_bin, out)
    return out


def bin_grid(term: tuple, n_bins_non_missing: np.ndarray, missing_bin: int,
             n_features: int) -> np.ndarray:
    """Binned rows covering every bin (and the NaN bin) of the term's features.

    Parameters
    ----------
    term : tuple of int
        One or two feature indices.
    n_bins_non_missing : ndarray
        Bins in use per feature.
    missing_bin : int
        Bin code of NaN.
    n_features : int
        Number of features.

    Returns
    -------
    grid : ndarray of shape (n_rows, n_features)
        Rows in C order over the term's features' bins, the NaN bin last
        along each; other features are 0 (the term does not read them).
    """
    axes = [
        np.append(np.arange(n_bins_non_missing[f]), missing_bin) for f in term
    ]
    mesh = np.meshgrid(*axes, indexing="ij")
    grid = np.zeros((mesh[0].size, n_features), dtype=binned_dtype(missing_bin))
    for f, values in zip(term, mesh, strict=True):
        grid[:, f] = values.ravel()
    return grid


def training_weights(structure: TermStructure, X_binned: np.ndarray,
                     sample_weight: np.ndarray | None, n_bins: int) -> list:
    """Training weight of each term's bins (or bin pairs), for importances.

    Parameters
    ----------
    structure : TermStructure
        The model's terms.
    X_binned : ndarray of shape (n_samples, n_features)
        The binned training data.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights.
    n_bins : int
        Bins per feature, the NaN bin included.

    Returns
    -------
    weights : list of ndarray
        For each term after the intercept, an array indexed like
        ``ShapeFunction.values`` over all ``n_bins`` codes per feature.
    """
    weights = []
    for term in structure.terms[1:]:
        code = np.zeros(X_binned.shape[0], dtype=np.intp)
        for f in term:
            code = code * n_bins + X_binned[:, f]
        counts = np.bincount(code, weights=sample_weight,
                             minlength=n_bins ** len(term))
        weights.append(counts.reshape((n_bins,) * len(term)))
    return weights
