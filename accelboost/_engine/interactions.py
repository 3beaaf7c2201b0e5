"""Ranking feature pairs for an additive model's interaction terms (FAST).

FAST (Lou, Caruana, Gehrke and Hooker, KDD 2013; EBM's pair selection)
measures how much a pair of features could still explain: on a coarse
two-feature histogram of the current gradients and hessians, the best cut
of the plane into four quadrants, each fitted by its own Newton step. Its
gain, ``sum_q G_q^2 / (H_q + l2) - G^2 / (H + l2)``, ranks the pairs; the
top ones become the model's pair terms.

Bins are coarsened to at most ``n_coarse`` per feature by merging runs of
consecutive quantile bins; the missing-value bin is kept as the last bin,
on the far side of every cut.
"""

import numpy as np
from numba import njit, prange

from .splitting import newton_score


@njit(inline="always")
def _coarse(code, n_bins_non_missing, missing_bin, n_coarse):
    if code == missing_bin:
        return n_coarse
    return code * n_coarse // n_bins_non_missing


@njit(parallel=True, nogil=True, cache=True)
def pair_gains(X_binned, n_bins_non_missing, missing_bin, gradients, hessians,
               pairs, n_coarse, l2, min_hessian, out):
    """FAST gain of each pair: its best four-quadrant cut.

    Parameters
    ----------
    X_binned : ndarray of shape (n_samples, n_features)
        Binned data (uint8 or uint16), Fortran order.
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
        Bins in use per feature.
    missing_bin : int
        Bin code of NaN.
    gradients, hessians : ndarray of float64, shape (n_samples,)
        At the current model.
    pairs : ndarray of intp, shape (n_pairs, 2)
        Feature pairs to score.
    n_coarse : int
        Coarse bins per feature (plus one for missing values).
    l2 : float
        L2 penalty inside the Newton steps.
    min_hessian : float
        A cut whose quadrant has less hessian than this is not admissible.
    out : ndarray of float64, shape (n_pairs,)
        The gains; -inf where no cut is admissible.
    """
    n_samples = X_binned.shape[0]
    size = n_coarse + 1
    for p in prange(pairs.shape[0]):
        j = pairs[p, 0]
        k = pairs[p, 1]
        # prefix[a + 1, b + 1] = sums over coarse bins <= a on j and <= b on k.
        prefix = np.zeros((size + 1, size + 1, 2))
        for i in range(n_samples):
            a = _coarse(X_binned[i, j], n_bins_non_missing[j], missing_bin, n_coarse)
            b = _coarse(X_binned[i, k], n_bins_non_missing[k], missing_bin, n_coarse)
            prefix[a + 1, b + 1, 0] += gradients[i]
            prefix[a + 1, b + 1, 1] += hessians[i]
        for a in range(1, size + 1):
            for b in range(1, size + 1):
                for c in range(2):
                    prefix[a, b, c] += (
                        prefix[a - 1, b, c] + prefix[a, b - 1, c]
                        - prefix[a - 1, b - 1, c]
                    )
        total_g = prefix[size, size, 0]
        total_h = prefix[size, size, 1]
        parent = newton_score(total_g, total_h, l2)
        best = -np.inf
        for a in range(1, size):
            for b in range(1, size):
                g_ll, h_ll = prefix[a, b, 0], prefix[a, b, 1]
                g_l, h_l = prefix[a, size, 0], prefix[a, size, 1]
                g_b, h_b = prefix[size, b, 0], prefix[size, b, 1]
                g_lr, h_lr = g_l - g_ll, h_l - h_ll
                g_rl, h_rl = g_b - g_ll, h_b - h_ll
                g_rr = total_g - g_l - g_b + g_ll
                h_rr = total_h - h_l - h_b + h_ll
                if min(h_ll, h_lr, h_rl, h_rr) < min_hessian:
                    continue
                gain = (
                    newton_score(g_ll, h_ll, l2) + newton_score(g_lr, h_lr, l2)
                    + newton_score(g_rl, h_rl, l2) + newton_score(g_rr, h_rr, l2)
                    - parent
                )
                if gain > best:
                    best = gain
        out[p] = best


def rank_pairs(X_binned, n_bins_non_missing, missing_bin, gradients, hessians,
               n_coarse: int = 32, l2: float = 0.0, min_hessian: float = 1e-3,
               features=None) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of ``features``, best FAST gain first.

    Parameters
    ----------
    X_binned, n_bins_non_missing, missing_bin
        As for ``pair_gains``.
    gradients, hessians : ndarray of shape (n_samples,) or (n_outputs, n_samples)
        At the current model; with several outputs (classes) a pair's gain
        is the sum of its gains on each.
    n_coarse : int, default=32
        Coarse bins per feature (EBM bins pairs into 32).
    l2 : float, default=0.0
        L2 penalty inside the Newton steps.
    min_hessian : float, default=1e-3
        Minimum hessian of each quadrant.
    features : sequence of int, default=None
        Features to pair; None pairs all.

    Returns
    -------
    pairs : ndarray of intp, shape (n_pairs, 2)
        Pairs ``(j, k)`` with ``j < k``, best first (ties: the lower pair).
    gains : ndarray of float64, shape (n_pairs,)
        Their gains, in the same order.
    """
    features = np.arange(X_binned.shape[1]) if features is None else features
    features = np.sort(np.asarray(features, dtype=np.intp))
    j, k = np.triu_indices(len(features), 1)
    pairs = np.column_stack([features[j], features[k]]).astype(np.intp)
    gains = np.zeros(len(pairs))
    output_gains = np.empty(len(pairs))
    for g, h in zip(np.atleast_2d(gradients), np.atleast_2d(hessians), strict=True):
        pair_gains(X_binned, n_bins_non_missing, missing_bin,
                   np.ascontiguousarray(g, dtype=np.float64),
                   np.ascontiguousarray(h, dtype=np.float64),
                   pairs, n_coarse, l2, min_hessian, output_gains)
        gains += output_gains
    order = np.argsort(-gains, kind="stable")
    return pairs[order], gains[order]


def coarse_codes(X_binned, n_bins_non_missing, missing_bin, n_coarse: int = 32):
    """Every bin code coarsened to at most ``n_coarse`` bins (NaN: ``n_coarse``).

    Parameters
    ----------
    X_binned : ndarray of shape (n_samples, n_features)
        Binned data.
    n_bins_non_missing : ndarray of shape (n_features,)
        Bins in use per feature.
    missing_bin : int
        Bin code of NaN.
    n_coarse : int, default=32
        Coarse bins per feature.

    Returns
    -------
    coarse : ndarray of uint8, shape (n_samples, n_features)
        The coarse codes, Fortran order, as ``pair_gains`` forms them.
    """
    binned = np.asarray(X_binned, dtype=np.intp)
    coarse = binned * n_coarse // np.asarray(n_bins_non_missing, dtype=np.intp)
    coarse[binned == missing_bin] = n_coarse
    return np.asfortranarray(coarse.astype(np.uint8))


@njit(parallel=True, nogil=True, cache=True)
def pair_histograms(coarse, pairs, gradients, hessians, weights, out):
    """Gradient, hessian and weight sums on each pair's coarse grid.

    Parameters
    ----------
    coarse : ndarray of uint8, shape (n_samples, n_features)
        Coarse codes (``coarse_codes``).
    pairs : ndarray of intp, shape (n_pairs, 2)
        Feature pairs ``(j, k)``.
    gradients, hessians, weights : ndarray of float64, shape (n_samples,)
        Per-sample sums to histogram.
    out : ndarray of float64, shape (n_pairs, size, size, 3)
        Overwritten: ``out[p, a, b]`` sums the rows with coarse code ``a``
        on ``j`` and ``b`` on ``k``. Each pair is one thread's, and its rows
        are summed in order, so the sums do not depend on the thread count.
    """
    for p in prange(pairs.shape[0]):
        j = pairs[p, 0]
        k = pairs[p, 1]
        out[p] = 0.0
        for i in range(coarse.shape[0]):
            a = coarse[i, j]
            b = coarse[i, k]
            out[p, a, b, 0] += gradients[i]
            out[p, a, b, 1] += hessians[i]
            out[p, a, b, 2] += weights[i]


@njit(nogil=True, cache=True)
def _best_cut(upper, lower, l2, min_weight):
    """Best cut of the 1-D histogram ``upper - lower`` (size, 3): (score, cut).

    ``cut == -1`` leaves it whole (no admissible cut does better).
    """
    total_g = 0.0
    total_h = 0.0
    total_w = 0.0
    for b in range(upper.shape[0]):
        total_g += upper[b, 0] - lower[b, 0]
        total_h += upper[b, 1] - lower[b, 1]
        total_w += upper[b, 2] - lower[b, 2]
    best = newton_score(total_g, total_h, l2)
    cut = -1
    g = 0.0
    h = 0.0
    w = 0.0
    for b in range(upper.shape[0] - 1):
        g += upper[b, 0] - lower[b, 0]
        h += upper[b, 1] - lower[b, 1]
        w += upper[b, 2] - lower[b, 2]
        if w < min_weight or total_w - w < min_weight:
            continue
        score = newton_score(g, h, l2) + newton_score(total_g - g, total_h - h, l2)
        if score > best:
            best = score
            cut = b
    return best, cut


@njit(nogil=True, cache=True)
def best_pair_tree(hist, l2, min_weight):
    """EBM's pair tree on one coarse grid: a cut on one feature, then in each
    half its own cut on the other.

    Parameters
    ----------
    hist : ndarray of float64, shape (size, size, 3)
        Gradient, hessian and weight sums (``pair_histograms``); the last
        code along each axis is NaN's, on the far side of every cut.
    l2 : float
        L2 penalty inside the Newton steps.
    min_weight : float
        Minimum weight of every leaf.

    Returns
    -------
    gain : float
        Score of the four (or fewer) leaves minus the parent's; -inf if no
        admissible tree.
    tree : ndarray of intp, shape (4,)
        ``(axis, root_cut, cut_low, cut_high)``: codes ``<= root_cut``
        along ``axis`` form the low half, and each half is cut along the
        other axis after its cut (-1: not cut).
    """
    size = hist.shape[0]
    best = -np.inf
    tree = np.full(4, -1, dtype=np.intp)
    # cumulative[a] sums the rows <= a along the root axis: a half's
    # histogram along the other axis is one row of it, or the last row less
    # one, with no array built per cut.
    cumulative = np.empty((size, size, 3))
    zeros = np.zeros((size, 3))
    for axis in range(2):
        grid = hist if axis == 0 else hist.transpose(1, 0, 2)
        cumulative[0] = grid[0]
        for a in range(1, size):
            cumulative[a] = cumulative[a - 1] + grid[a]
        total = cumulative[size - 1]
        parent = newton_score(total[:, 0].sum(), total[:, 1].sum(), l2)
        total_w = total[:, 2].sum()
        for a in range(size - 1):
            low_w = cumulative[a, :, 2].sum()
            if low_w < min_weight or total_w - low_w < min_weight:
                continue
            score_low, cut_low = _best_cut(cumulative[a], zeros, l2, min_weight)
            score_high, cut_high = _best_cut(total, cumulative[a], l2, min_weight)
            gain = score_low + score_high - parent
            if gain > best:
                best = gain
                tree[0] = axis
                tree[1] = a
                tree[2] = cut_low
                tree[3] = cut_high
    return best, tree


@njit(parallel=True, nogil=True, cache=True)
def best_pair_trees(hists, l2, min_weight, gains, trees):
    """``best_pair_tree`` of every grid of ``hists``, in parallel.

    Parameters
    ----------
    hists : ndarray of float64, shape (n_pairs, size, size, 3)
        One grid per pair.
    l2, min_weight : float
        As for ``best_pair_tree``.
    gains : ndarray of float64, shape (n_pairs,)
        Overwritten with each pair's gain.
    trees : ndarray of intp, shape (n_pairs, 4)
        Overwritten with each pair's tree.
    """
    for p in prange(hists.shape[0]):
        gains[p], trees[p] = best_pair_tree(hists[p], l2, min_weight)


def pair_tree_values(hist: np.ndarray, tree: np.ndarray, l2: float) -> np.ndarray:
    """The Newton step of each cell of the grid under ``tree``, shape (size, size).

    Parameters
    ----------
    hist : ndarray of shape (size, size, 3)
        The grid's sums.
    tree : ndarray of intp, shape (4,)
        From ``best_pair_tree``.
    l2 : float
        L2 penalty.

    Returns
    -------
    values : ndarray of shape (size, size)
        ``-G / (H + l2)`` of the leaf holding each cell (axis 0 is ``j``).
    """
    axis, root_cut, *cuts = (int(v) for v in tree)
    grid = hist if axis == 0 else hist.transpose(1, 0, 2)
    values = np.zeros(grid.shape[:2])
    halves = (slice(0, root_cut + 1), slice(root_cut + 1, None))
    for half, cut in zip(halves, cuts, strict=True):
        sides = (slice(None),) if cut < 0 else (slice(0, cut + 1), slice(cut + 1, None))
        for side in sides:
            g, h = grid[half, side, 0].sum(), grid[half, side, 1].sum()
            values[half, side] = -g / (h + l2) if h + l2 > 0 else 0.0
    return values if axis == 0 else values.T
