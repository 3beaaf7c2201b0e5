"""Histogram kernels: per-feature, per-bin sums of gradients, hessians, counts.

``hist[f, b]`` holds ``(sum g, sum h, count)`` of the node's samples whose
feature ``f`` falls in bin ``b``, in float64. The grower builds the histogram
of the smaller child only and gets its sibling as ``parent - child``.

Results do not depend on the number of threads: the loop is parallel over
features and each feature's bins are summed by a single thread, in sample
order.
"""

import numpy as np
from numba import njit, prange

from ._common import G_H_DTYPE, HIST_COUNT, HIST_GRAD, HIST_HESS, N_HIST_CHANNELS


def empty_histogram(n_features: int, n_bins: int) -> np.ndarray:
    """Allocate a histogram of shape ``(n_features, n_bins, 3)``."""
    return np.empty((n_features, n_bins, N_HIST_CHANNELS), dtype=G_H_DTYPE)


@njit(parallel=True, nogil=True, cache=True)
def build_histogram(
    sample_indices,
    X_binned,
    ordered_gradients,
    ordered_hessians,
    hessians_are_constant,
    hist,
):
    """Fill ``hist`` with the sums over the rows ``sample_indices``.

    Parameters
    ----------
    sample_indices : ndarray of uint32, shape (n_node,)
        Rows of the node, in increasing order (keeps column reads local).
    X_binned : ndarray of uint8, shape (n_samples, n_features), Fortran order
        All training rows, binned.
    ordered_gradients, ordered_hessians : ndarray of float64, shape (n_node,)
        ``gradients[sample_indices]`` and likewise for hessians, so that the
        inner loop reads them contiguously.
    hessians_are_constant : bool
        If true, the hessian is ``ordered_hessians[0]`` for every sample and
        only counts are summed (one accumulator fewer in the hot loop).
    hist : ndarray of float64, shape (n_features, n_bins, 3)
        Output; overwritten.
    """
    n_node = sample_indices.shape[0]
    n_features = X_binned.shape[1]
    for f in prange(n_features):
        h_f = hist[f]
        h_f[:] = 0.0
        column = X_binned[:, f]
        if hessians_are_constant:
            for i in range(n_node):
                b = column[sample_indices[i]]
                h_f[b, HIST_GRAD] += ordered_gradients[i]
                h_f[b, HIST_COUNT] += 1.0
            if n_node > 0:
                constant = ordered_hessians[0]
                for b in range(h_f.shape[0]):
                    h_f[b, HIST_HESS] = h_f[b, HIST_COUNT] * constant
        else:
            for i in range(n_node):
                b = column[sample_indices[i]]
                h_f[b, HIST_GRAD] += ordered_gradients[i]
                h_f[b, HIST_HESS] += ordered_hessians[i]
                h_f[b, HIST_COUNT] += 1.0


@njit(nogil=True, cache=True)
def subtract_histograms(parent, child, sibling):
    """Write ``sibling = parent - child`` (the histogram of the other child).

    Serial: ~20k subtractions cost less than waking the thread pool.
    """
    for f in range(parent.shape[0]):
        for b in range(parent.shape[1]):
            for c in range(parent.shape[2]):
                sibling[f, b, c] = parent[f, b, c] - child[f, b, c]


@njit(parallel=True, nogil=True, cache=True)
def gather(values, sample_indices, out):
    """Write ``out[k, i] = values[k, sample_indices[i]]`` for every row ``k``.

    One pass over the indices serves gradients and hessians together.
    """
    for i in prange(sample_indices.shape[0]):
        row = sample_indices[i]
        for k in range(values.shape[0]):
            out[k, i] = values[k, row]
