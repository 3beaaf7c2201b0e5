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
    X_binned, n_bins_non_missing, missing_bin, gradients, hessians
        As for ``pair_gains``.
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
    gains = np.empty(len(pairs))
    pair_gains(X_binned, n_bins_non_missing, missing_bin,
               np.ascontiguousarray(gradients, dtype=np.float64),
               np.ascontiguousarray(hessians, dtype=np.float64),
               pairs, n_coarse, l2, min_hessian, gains)
    order = np.argsort(-gains, kind="stable")
    return pairs[order], gains[order]
