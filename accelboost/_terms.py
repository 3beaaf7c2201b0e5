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
from numbers import Integral

import numpy as np

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
    cuts : list of tuple of ndarray
        Per term, per feature of the term, the sorted distinct split
        thresholds on the paths to the term's leaves: the term is constant
        between consecutive cuts, so it is known exactly from its values on
        the cells they delimit.
    """

    terms: list
    node_terms: np.ndarray
    cuts: list


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
    path_cuts = {}  # term -> {feature: set of thresholds}
    for root in starts:
        stack = [(int(root), (), ())]
        while stack:
            i, used, splits = stack.pop()
            left = int(nodes[i]["left"])
            if left == 0:
                leaf_sets[i] = used
                term_cuts = path_cuts.setdefault(used, {})
                for f, threshold in splits:
                    term_cuts.setdefault(f, set()).add(threshold)
                continue
            feature = int(nodes[i]["feature_idx"])
            splits = splits + ((feature, float(nodes[i]["threshold"])),)
            path = used if feature in used else tuple(sorted(used + (feature,)))
            if len(path) > 2:
                raise ValueError(
                    "The model is not a sum of main effects and pairs: a tree "
                    f"path splits on {len(path)} features {path}. Terms need "
                    "interaction_cst='no_interactions' or 'pairwise', stumps, "
                    "or trees of depth 2."
                )
            stack += [(int(root) + left, path, splits),
                      (int(root) + left + 1, path, splits)]
    found = {t for t in leaf_sets if t is not None}
    terms = [_INTERCEPT] + sorted(found - {_INTERCEPT}, key=lambda t: (len(t), t))
    index = {term: k for k, term in enumerate(terms)}
    node_terms = np.zeros(len(nodes), dtype=np.intp)
    for i, term in enumerate(leaf_sets):
        if term is not None:
            node_terms[i] = index[term]
    cuts = [
        tuple(np.array(sorted(path_cuts.get(term, {}).get(f, ()))) for f in term)
        for term in terms
    ]
    return TermStructure(terms, node_terms, cuts)


def term_values(structure, folded, bitsets, starts, columns, X, binned, missing_bin,
                n_outputs) -> np.ndarray:
    """Each term's contribution at each row, shape (n, n_terms, n_outputs).

    Parameters
    ----------
    structure : TermStructure
        From ``decompose`` on the same packed trees.
    folded : ndarray of PREDICTOR_NODE_DTYPE
        The packed trees with their coefficients folded into the leaves.
    bitsets : ndarray of uint64
        Left categories of their categorical splits.
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
    add_term_values(folded, bitsets, starts, columns, structure.node_terms, X,
                    binned, missing_bin, out)
    return out


def bins_in_use(term: tuple, n_bins_non_missing: np.ndarray,
                missing_bin: int) -> list:
    """Per feature of ``term``, its bins in use and then the NaN bin."""
    return [np.append(np.arange(n_bins_non_missing[f]), missing_bin) for f in term]


def bin_grid(term: tuple, axes: list, n_features: int, dtype) -> np.ndarray:
    """Binned rows covering the given bins of the term's features.

    Parameters
    ----------
    term : tuple of int
        One or two feature indices.
    axes : list of ndarray
        Per feature of ``term``, the bins to cover (``bins_in_use``: all).
    n_features : int
        Number of features.
    dtype : dtype
        Of the grid.

    Returns
    -------
    grid : ndarray of shape (n_rows, n_features)
        Rows in C order over the term's features' bins; other features are
        0 (the term does not read them).
    """
    mesh = np.meshgrid(*axes, indexing="ij")
    grid = np.zeros((mesh[0].size, n_features), dtype=dtype)
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


class TermsMixin:
    """The term-centred API shared by every model that is a sum of terms.

    The model supplies ``term_features_``, ``shape_function(index)`` and
    ``_term_bin_weights(index)`` (the training weight of each cell of the
    term's shape function, shaped like its values without a class axis).
    """

    @property
    def term_names_(self) -> list:
        """Name of each term: feature names (``x3`` without them), joined by " & "."""
        names = getattr(self, "feature_names_in_", None)
        return [
            " & ".join(str(names[f]) if names is not None else f"x{f}" for f in term)
            for term in self.term_features_
        ]

    def _term_index(self, term) -> int:
        names = self.term_names_
        if isinstance(term, str):
            if term not in names:
                raise ValueError(f"Unknown term {term!r}; the terms are {names}.")
            return names.index(term)
        if not isinstance(term, Integral) or not 0 <= term < len(names):
            raise ValueError(
                f"term must be a name or an index in [0, {len(names) - 1}], "
                f"got {term!r}."
            )
        return int(term)

    def term_importances(self) -> np.ndarray:
        """Mean absolute contribution of each term over the training data.

        EBM's "avg_weight": each bin's (or bin pair's) value weighted by the
        training weight that fell into it; for several classes, averaged
        over classes.

        Returns
        -------
        importances : ndarray of shape (n_terms,)
        """
        importances = np.empty(len(self.term_features_))
        for k in range(len(importances)):
            weights = self._term_bin_weights(k)
            magnitude = np.abs(self.shape_function(k).values)
            if magnitude.ndim > weights.ndim:
                magnitude = magnitude.mean(axis=-1)
            importances[k] = np.sum(weights * magnitude) / np.sum(weights)
        return importances


@dataclass(frozen=True)
class TermTable:
    """One term of a fitted additive model as a lookup table over bin codes.

    Attributes
    ----------
    features : tuple of int
        The term's features.
    cell_of_bin : tuple of ndarray of intp
        Per feature, the cell of every bin code (``missing_bin + 1`` codes;
        the NaN code maps to the last cell).
    edges : tuple of ndarray
        Per feature, the upper edge (raw value) of each non-missing cell,
        +inf for the last.
    values : ndarray
        The term's value on each cell, shape ``(n_cells_j, [n_cells_k,]
        [n_outputs])`` with the NaN cell last along each feature axis; the
        output axis only for several outputs.
    weights : ndarray
        Training weight of each cell (the values' shape without outputs).
    """

    features: tuple
    cell_of_bin: tuple
    edges: tuple
    values: np.ndarray
    weights: np.ndarray

    def cells(self, binned: np.ndarray) -> tuple:
        """The cell indices of each row of ``binned`` along each feature."""
        return tuple(
            cell_of_bin[binned[:, f]]
            for f, cell_of_bin in zip(self.features, self.cell_of_bin, strict=True)
        )

    def lookup(self, binned: np.ndarray) -> np.ndarray:
        """The term's value at each row of ``binned``."""
        return self.values[self.cells(binned)]


def cut_cells(cut_bins: np.ndarray, n_bins_non_missing: int,
              missing_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells delimited by cuts on one feature's bins.

    Parameters
    ----------
    cut_bins : ndarray of int
        Bins ``c``, in any order and possibly repeated: a cut after bin
        ``c`` (bins ``<= c`` on one side).
    n_bins_non_missing : int
        Bins in use.
    missing_bin : int
        Bin code of NaN.

    Returns
    -------
    cell_of_bin : ndarray of intp, shape (missing_bin + 1,)
        The cell of every bin code; NaN's cell is the last one.
    first_bins : ndarray of intp
        The lowest bin of each non-missing cell, then ``missing_bin``.
    """
    cut_bins = np.unique(np.asarray(cut_bins, dtype=np.intp))
    cut_bins = cut_bins[cut_bins < n_bins_non_missing - 1]
    cell_of_bin = np.searchsorted(cut_bins, np.arange(missing_bin + 1), side="left")
    cell_of_bin[missing_bin] = len(cut_bins) + 1
    first_bins = np.concatenate([[0], cut_bins + 1, [missing_bin]])
    return cell_of_bin.astype(np.intp), first_bins.astype(np.intp)
