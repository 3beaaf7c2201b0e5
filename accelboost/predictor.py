"""Prediction by walking flat node arrays, in parallel over rows.

Several trees are packed into one node array with the start of each tree
(``tree_starts``) and the output column it adds to (``tree_columns``). One
kernel call adds a whole range of trees, so predicting with T trees is one
pass over the rows, not T.
"""

import numpy as np
from numba import njit, prange

from ._common import NODE_DTYPE


@njit(inline="always")
def _leaf_value(nodes, root, x_row, binned, missing_bin):
    # Fields by subscript, which also works on NumPy records when the kernels
    # run as plain Python (NUMBA_DISABLE_JIT=1).
    node_idx = root
    while not nodes[node_idx]["is_leaf"]:
        node = nodes[node_idx]
        x = x_row[node["feature_idx"]]
        if binned:
            is_missing = x == missing_bin
            go_left = x <= node["bin_threshold"]
        else:
            is_missing = np.isnan(x)
            go_left = x <= node["num_threshold"]
        if is_missing:
            go_left = node["missing_go_left"]
        node_idx = root + (node["left"] if go_left else node["right"])
    return nodes[node_idx]["value"]


#: Rows per block: one tree's nodes stay in L1 while they serve a block, and
#: the block's rows stay in L2 while all trees pass over them.
_ROW_BLOCK = 128


@njit(parallel=True, nogil=True, cache=True)
def add_tree_values(
    nodes, tree_starts, tree_columns, first, stop, X, binned, missing_bin, out
):
    """``out[i, tree_columns[t]] += value of tree t at row i``, t in [first, stop).

    Parameters
    ----------
    nodes : ndarray of NODE_DTYPE
        Trees packed one after another; child indices are tree-relative.
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
                out[i, column] += _leaf_value(nodes, root, X[i], binned, missing_bin)


def pack_trees(trees: list[np.ndarray], scales: np.ndarray | None = None):
    """Concatenate node arrays, scaling each tree's values by ``scales[t]``.

    Returns
    -------
    nodes : ndarray of NODE_DTYPE
    tree_starts : ndarray of intp
    """
    sizes = np.array([len(t) for t in trees], dtype=np.intp)
    tree_starts = np.zeros(len(trees), dtype=np.intp)
    np.cumsum(sizes[:-1], out=tree_starts[1:])
    nodes = (
        np.concatenate(trees) if trees else np.zeros(0, dtype=NODE_DTYPE)
    )
    if scales is not None and len(trees):
        nodes["value"] *= np.repeat(scales, sizes)
    return nodes, tree_starts
