"""Prediction by walking flat node arrays, in parallel over rows.

Several trees are packed into one node array with the start of each tree
(``tree_starts``) and the output column it adds to (``tree_columns``). One
kernel call adds a whole range of trees, so predicting with T trees is one
pass over the rows, not T.
"""

import numpy as np
from numba import njit, prange

from .common import MAX_CATEGORIES, NODE_DTYPE, PREDICTOR_NODE_DTYPE


@njit(inline="always")
def in_bitset(bitsets, row, code):
    """Whether category ``code`` is in row ``row`` of ``bitsets`` (words x rows)."""
    if code < 0 or code >= MAX_CATEGORIES:
        return False
    return (bitsets[code >> 6, row] >> np.uint64(code & 63)) & np.uint64(1) != 0


@njit(inline="always")
def _leaf_index(nodes, bitsets, root, x_row, binned, missing_bin):
    """Index in ``nodes`` of the leaf that ``x_row`` reaches in the tree at ``root``."""
    # Fields by subscript, which also works on NumPy records when the kernels
    # run as plain Python (NUMBA_DISABLE_JIT=1).
    node_idx = root
    while True:
        node = nodes[node_idx]
        left = node["left"]
        if left == 0:
            return node_idx
        x = x_row[node["feature_idx"]]
        is_missing = x == missing_bin if binned else np.isnan(x)
        if is_missing:
            go_left = node["missing_go_left"] != 0
        elif node["is_categorical"]:
            # A categorical column holds category codes, raw or binned alike.
            go_left = in_bitset(bitsets, node["bitset_row"], np.int64(x))
        elif binned:
            go_left = x <= node["bin_threshold"]
        else:
            go_left = x <= node["threshold"]
        node_idx = root + left + (0 if go_left else 1)


#: Rows per block: one tree's nodes stay in L1 while they serve a block, and
#: the block's rows stay in L2 while all trees pass over them.
_ROW_BLOCK = 128


@njit(parallel=True, nogil=True, cache=True)
def add_tree_values(
    nodes, bitsets, tree_starts, tree_columns, first, stop, X, binned, missing_bin,
    out,
):
    """``out[i, tree_columns[t]] += value of tree t at row i``, t in [first, stop).

    Parameters
    ----------
    nodes : ndarray of PREDICTOR_NODE_DTYPE
        Trees packed by ``pack_trees``; child indices are tree-relative.
    bitsets : ndarray of uint64, shape (CATEGORY_WORDS, n_categorical_splits)
        Left categories of the categorical splits (``bitset_row`` of a node
        is its column).
    tree_starts : ndarray of intp
        Index of each tree's root in ``nodes``.
    tree_columns : ndarray of intp
        Output column of each tree (the class, for multiclass models).
    first, stop : int
        Range of trees to add, in order.
    X : ndarray, shape (n_samples, n_features)
        Raw float64 values, or uint8 bins when ``binned``.
    binned : bool
        Whether ``X`` holds bins (compare with ``bin_threshold``) or raw values.
    missing_bin : int
        Bin code of NaN (used when ``binned``).
    out : ndarray of float64, shape (n_samples, n_columns)
        Updated in place. Each cell receives its trees in order, the same
        order as the training-time updates, so the sums agree bit for bit.
    """
    n_samples = X.shape[0]
    n_blocks = (n_samples + _ROW_BLOCK - 1) // _ROW_BLOCK
    for block in prange(n_blocks):
        lo = block * _ROW_BLOCK
        hi = min(n_samples, lo + _ROW_BLOCK)
        for t in range(first, stop):
            root = tree_starts[t]
            column = tree_columns[t]
            for i in range(lo, hi):
                leaf = _leaf_index(nodes, bitsets, root, X[i], binned, missing_bin)
                out[i, column] += nodes[leaf]["threshold"]


@njit(parallel=True, nogil=True, cache=True)
def add_term_values(
    nodes, bitsets, tree_starts, tree_columns, node_terms, X, binned, missing_bin,
    out,
):
    """``out[i, node_terms[leaf], tree_columns[t]] += leaf value``, all trees.

    Like ``add_tree_values``, but each leaf's value goes to the term of the
    features split on along its path (``node_terms``, per node), so that the
    terms of an additive model come apart exactly.

    Parameters
    ----------
    nodes, bitsets, tree_starts, tree_columns, X, binned, missing_bin
        As for ``add_tree_values`` (all trees are added).
    node_terms : ndarray of intp, shape (n_nodes,)
        Term of each leaf (inner nodes are not read).
    out : ndarray of float64, shape (n_samples, n_terms, n_columns)
        Updated in place.
    """
    n_samples = X.shape[0]
    n_blocks = (n_samples + _ROW_BLOCK - 1) // _ROW_BLOCK
    for block in prange(n_blocks):
        lo = block * _ROW_BLOCK
        hi = min(n_samples, lo + _ROW_BLOCK)
        for t in range(tree_starts.shape[0]):
            root = tree_starts[t]
            column = tree_columns[t]
            for i in range(lo, hi):
                leaf = _leaf_index(nodes, bitsets, root, X[i], binned, missing_bin)
                out[i, node_terms[leaf], column] += nodes[leaf]["threshold"]


def convert_trees(
    trees: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trees in the predictor's node record, concatenated, leaves unscaled.

    The one conversion from the grower's record: ``pack_trees`` packs a
    whole list with it, ``TreeEnsemble`` appends each new stage's trees.

    Parameters
    ----------
    trees : list of ndarray of NODE_DTYPE
        Trees as the grower makes them: every inner node's right child
        directly follows its left child.

    Returns
    -------
    nodes : ndarray of PREDICTOR_NODE_DTYPE
        Child indices stay tree-relative, so the result can be appended to
        any packed array as it is. A categorical split's ``bitset_row``
        counts from 0 in this batch: offset it when appending.
    sizes : ndarray of intp
        Number of nodes of each tree.
    bitsets : ndarray of uint64, shape (CATEGORY_WORDS, n_categorical_splits)
        The left categories of the categorical splits, in node order.
    """
    sizes = np.array([len(t) for t in trees], dtype=np.intp)
    source = np.concatenate(trees) if trees else np.zeros(0, dtype=NODE_DTYPE)
    inner = source["is_leaf"] == 0
    if np.any(source["right"][inner] != source["left"][inner] + 1):
        raise ValueError("every right child must directly follow its left child")
    categorical = inner & (source["is_categorical"] != 0)
    nodes = np.zeros(len(source), dtype=PREDICTOR_NODE_DTYPE)
    nodes["threshold"] = np.where(inner, source["num_threshold"], source["value"])
    nodes["feature_idx"] = source["feature_idx"]
    nodes["left"] = np.where(inner, source["left"], 0)
    nodes["bin_threshold"] = source["bin_threshold"]
    nodes["missing_go_left"] = source["missing_go_left"]
    nodes["is_categorical"] = categorical
    nodes["bitset_row"][categorical] = np.arange(np.count_nonzero(categorical))
    bitsets = np.ascontiguousarray(source["left_categories"][categorical].T)
    return nodes, sizes, bitsets


def starts_of(sizes: np.ndarray, offset: int = 0) -> np.ndarray:
    """Index of each tree's root when trees of ``sizes`` follow ``offset`` nodes."""
    starts = np.full(len(sizes), offset, dtype=np.intp)
    np.cumsum(sizes[:-1], out=starts[1:])
    starts[1:] += offset
    return starts


def scale_leaves(nodes: np.ndarray, sizes: np.ndarray, scales) -> np.ndarray:
    """A copy of packed ``nodes`` with tree ``t``'s leaf values times ``scales[t]``.

    Leaves are the nodes with ``left == 0``; their value is in ``threshold``.
    A tree scaled by exactly 0 contributes 0, even where a leaf is not
    finite (``inf * 0`` would make every prediction NaN).
    """
    factors = np.repeat(np.asarray(scales, dtype=np.float64), sizes)
    scaled = nodes.copy()
    values = nodes["threshold"]
    with np.errstate(invalid="ignore"):
        products = np.where(factors == 0.0, 0.0, values * factors)
    scaled["threshold"] = np.where(nodes["left"] == 0, products, values)
    return scaled


def pack_trees(
    trees: list[np.ndarray], scales: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack trees into one predictor array, scaling tree ``t``'s leaves.

    Parameters
    ----------
    trees : list of ndarray of NODE_DTYPE
        Trees as the grower makes them: every inner node's right child
        directly follows its left child.
    scales : ndarray of shape (len(trees),) or None
        Coefficient folded into each tree's leaf values.

    Returns
    -------
    nodes : ndarray of PREDICTOR_NODE_DTYPE
    tree_starts : ndarray of intp
        Index of each tree's root in ``nodes``.
    bitsets : ndarray of uint64, shape (CATEGORY_WORDS, n_categorical_splits)
        Left categories of the categorical splits.
    """
    nodes, sizes, bitsets = convert_trees(trees)
    if scales is not None:
        nodes = scale_leaves(nodes, sizes, scales)
    return nodes, starts_of(sizes), bitsets
