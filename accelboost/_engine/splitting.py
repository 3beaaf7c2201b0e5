"""Split search on histograms, and partition of a node's samples.

The gain of a split with L2 regularization ``lambda`` inside the Newton
preconditioner is::

    gain = G_L^2 / (H_L + lambda) + G_R^2 / (H_R + lambda) - G^2 / (H + lambda)

(twice the decrease of the second-order loss). Samples with a missing value
go to whichever side gains more; if the node saw no missing value they go to
the side with more samples.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from .common import HIST_COUNT, HIST_GRAD, HIST_HESS

#: The best split of a node (or of one feature), as ``find_best_split``
#: returns it. A namedtuple is a plain struct in compiled code: building and
#: reading one costs what the separate values did.
#:
#: gain : float
#:     Twice the decrease of the second-order loss; -inf if no split.
#: feature : int
#:     Feature split on; -1 if no split satisfies the constraints.
#: bin : int
#:     Last bin that goes left (rows with ``bin <= bin`` go left); -1 if no
#:     split.
#: missing_go_left : bool
#:     Where the rows of the missing bin go.
#: sum_gradient_left, sum_hessian_left : float
#:     Sums over the rows that go left.
SplitInfo = namedtuple(
    "SplitInfo",
    [
        "gain",
        "feature",
        "bin",
        "missing_go_left",
        "sum_gradient_left",
        "sum_hessian_left",
    ],
)

#: A node's sums, which every candidate split of it is measured against.
NodeSums = namedtuple("NodeSums", ["sum_gradient", "sum_hessian", "count"])

#: What an admissible split must satisfy, and the L2 penalty of its gain:
#: ``l2`` (lambda), ``min_samples_leaf`` and ``min_hessian`` per child.
SplitConstraints = namedtuple(
    "SplitConstraints", ["l2", "min_samples_leaf", "min_hessian"]
)


@njit(inline="always")
def newton_score(sum_g, sum_h, l2):
    """``G^2 / (H + lambda)``: twice the loss decrease of a Newton leaf step."""
    denominator = sum_h + l2
    if denominator <= 0.0:
        return 0.0
    return sum_g * sum_g / denominator


@njit(nogil=True, cache=True)
def leaf_value(sum_g, sum_h, l2):
    """Newton step ``-G / (H + lambda)`` (0 where the denominator vanishes)."""
    denominator = sum_h + l2
    if denominator <= 0.0:
        return 0.0
    return -sum_g / denominator


@njit(inline="always")
def _candidate_gain(g_side, h_side, n_side, node, parent_score, constraints):
    """Gain of the split whose one side sums to (g_side, h_side, n_side).

    The other side is the node minus this one; -inf if either side breaks
    ``min_samples_leaf`` or ``min_hessian``.
    """
    g_other = node.sum_gradient - g_side
    h_other = node.sum_hessian - h_side
    n_other = node.count - n_side
    if (
        n_side < constraints.min_samples_leaf
        or n_other < constraints.min_samples_leaf
        or h_side < constraints.min_hessian
        or h_other < constraints.min_hessian
    ):
        return -np.inf
    l2 = constraints.l2
    return (
        newton_score(g_side, h_side, l2) + newton_score(g_other, h_other, l2)
        - parent_score
    )


@njit(nogil=True, cache=True)
def _best_split_of_feature(
    hist_f, feature, n_bins_non_missing, missing_bin, node, constraints
):
    """Best ``SplitInfo`` of one feature (``hist_f`` is its histogram).

    Left-to-right scan with missing values on the right, then (only if the
    node has missing values) right-to-left with missing values on the left.
    ``bin == -1`` means no admissible split.
    """
    # Signed arithmetic on the bin count: as uint32 (NumPy, when the kernels
    # run as plain Python), ``n_bins_non_missing - 2`` wraps around.
    n_bins_non_missing = np.int64(n_bins_non_missing)
    sum_g, sum_h, count = node
    parent_score = newton_score(sum_g, sum_h, constraints.l2)
    best_gain = -np.inf
    best_bin = -1
    best_missing_left = False
    best_g = 0.0
    best_h = 0.0

    has_missing = hist_f[missing_bin, HIST_COUNT] > 0
    # With missing values the last non-missing bin is a candidate too: it
    # separates all non-missing values from the missing ones.
    last_bin = n_bins_non_missing - 1 if has_missing else n_bins_non_missing - 2
    g_l = 0.0
    h_l = 0.0
    n_l = 0.0
    for b in range(last_bin + 1):
        g_l += hist_f[b, HIST_GRAD]
        h_l += hist_f[b, HIST_HESS]
        n_l += hist_f[b, HIST_COUNT]
        gain = _candidate_gain(g_l, h_l, n_l, node, parent_score, constraints)
        if gain > best_gain:
            best_gain, best_bin, best_g, best_h = gain, b, g_l, h_l
            # Without missing values in the node, NaN at predict time follows
            # the majority.
            best_missing_left = (not has_missing) and n_l >= count - n_l

    if has_missing:
        # Missing values on the left: accumulate the right side instead.
        g_r = 0.0
        h_r = 0.0
        n_r = 0.0
        for b in range(n_bins_non_missing - 1, 0, -1):
            g_r += hist_f[b, HIST_GRAD]
            h_r += hist_f[b, HIST_HESS]
            n_r += hist_f[b, HIST_COUNT]
            gain = _candidate_gain(g_r, h_r, n_r, node, parent_score, constraints)
            if gain > best_gain:
                best_gain, best_bin, best_missing_left = gain, b - 1, True
                best_g, best_h = sum_g - g_r, sum_h - h_r
    return SplitInfo(
        best_gain, feature, best_bin, best_missing_left, best_g, best_h
    )


# Serial: a node's search is ~n_features x 256 steps, less than what waking a
# thread pool costs (milliseconds when another process holds a core).
@njit(nogil=True, cache=True)
def find_best_split(
    hist, n_bins_non_missing, missing_bin, node, constraints, allowed
):
    """Best split of a node over all features.

    Parameters
    ----------
    hist : ndarray of shape (n_features, n_bins, 3)
        The node's histograms.
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
        Bins in use per feature.
    missing_bin : int
        Bin code of NaN.
    node : NodeSums
        The node's sums of gradients, hessians and samples.
    constraints : SplitConstraints
        L2 penalty and the per-child minimums.
    allowed : ndarray of uint8, shape (n_features,)
        Features the node may split on (interaction constraints); the
        others are skipped.

    Returns
    -------
    split : SplitInfo
        ``split.feature == -1`` (and ``split.gain == -inf``) when no split
        satisfies the constraints. Ties go to the lowest feature index, so
        the result is thread-count independent.
    """
    best = SplitInfo(-np.inf, -1, -1, False, 0.0, 0.0)
    for f in range(hist.shape[0]):
        if not allowed[f]:
            continue
        split = _best_split_of_feature(
            hist[f], f, n_bins_non_missing[f], missing_bin, node, constraints
        )
        if split.bin >= 0 and split.gain > best.gain:
            best = split
    return best


@njit(nogil=True, cache=True)
def partition(
    sample_indices,
    column,
    bin_threshold,
    missing_go_left,
    missing_bin,
    buffer,
):
    """Stable in-place partition of a node's rows into left then right.

    One branch-free pass: each row is stored both at the next left slot (in
    place: it never passes the row being read) and at the next slot of
    ``buffer``, and only the side it goes to advances; the right rows are
    then copied after the left ones. Serial on purpose: on 1,000,000 rows it
    took 1.2 ms against 3.3 ms for a two-thread partition, which needs three
    passes (count, scatter, copy back).

    Parameters
    ----------
    sample_indices : ndarray of uint32
        The node's rows; rearranged in place.
    column : ndarray of uint8
        The split feature's binned values for all rows.
    bin_threshold : int
        Rows with ``bin <= bin_threshold`` go left.
    missing_go_left : bool
        Where rows in the missing bin go.
    missing_bin : int
        Bin code of NaN.
    buffer : ndarray of uint32
        Scratch space at least as long as ``sample_indices``.

    Returns
    -------
    n_left : int
    """
    n_left = 0
    n_right = 0
    for i in range(sample_indices.shape[0]):
        s = sample_indices[i]
        b = column[s]
        left = np.intp(missing_go_left if b == missing_bin else b <= bin_threshold)
        sample_indices[n_left] = s
        buffer[n_right] = s
        n_left += left
        n_right += 1 - left
    for j in range(n_right):
        sample_indices[n_left + j] = buffer[j]
    return n_left
