"""Histogram kernels: per-feature, per-bin sums of gradients, hessians, counts.

``hist[f, b]`` holds ``(sum g, sum h, count)`` of the node's samples whose
feature ``f`` falls in bin ``b``, in float64. The grower builds the histogram
of the smaller child only and gets its sibling as ``parent - child``.

Results do not depend on the number of threads: the parallel loop runs over
features and each feature's bins are summed by a single thread, in sample
order. Each kernel takes ``parallel``: the grower runs small nodes on the
calling thread, where a parallel region would cost more than the work.
"""

import numpy as np
from numba import njit, prange

from .common import G_H_DTYPE, HIST_COUNT, HIST_GRAD, HIST_HESS, N_HIST_CHANNELS


def empty_histogram(n_features: int, n_bins: int) -> np.ndarray:
    """Allocate a histogram of shape ``(n_features, n_bins, 3)``."""
    return np.empty((n_features, n_bins, N_HIST_CHANNELS), dtype=G_H_DTYPE)


#: Interleaved partial histograms: row ``i`` of a node adds into lane
#: ``i % _LANES``. Consecutive rows in the same bin (common in columns with
#: few distinct values) then update different memory, so their adds do not
#: wait on each other: 1.4x faster on diamonds' few-valued columns. The
#: lanes are summed in a fixed order, so results stay independent of the
#: thread count. Only features with at most
#: ``_MAX_LANE_BINS`` bins use them (on continuous columns repeats are rare
#: and the lanes cost 10-15%), and only nodes from ``_MIN_LANE_ROWS`` rows
#: (below, zeroing and summing the lanes costs more than they save).
_LANES = 4
_MIN_LANE_ROWS = 4096
_MAX_LANE_BINS = 32


@njit(nogil=True, cache=True)
def _add(acc, lane, b, gradient, hessian, with_hessians):
    acc[lane, b, HIST_GRAD] += gradient
    acc[lane, b, HIST_COUNT] += 1.0
    if with_hessians:
        acc[lane, b, HIST_HESS] += hessian


@njit(nogil=True, cache=True)
def _fill_lanes(lanes, column, sample_indices, all_rows, gradients, hessians,
                hessians_are_constant, h_f):
    """Sum the node's rows into ``h_f`` through ``lanes`` partial histograms."""
    n_bins = h_f.shape[0]
    acc = np.zeros((lanes, n_bins, N_HIST_CHANNELS), dtype=G_H_DTYPE)
    n_node = gradients.shape[0]
    varying = not hessians_are_constant
    n_full = n_node - n_node % lanes
    for i in range(0, n_full, lanes):
        for lane in range(lanes):
            k = i + lane
            row = k if all_rows else sample_indices[k]
            _add(acc, lane, column[row], gradients[k],
                 hessians[k if varying else 0], varying)
    for k in range(n_full, n_node):
        row = k if all_rows else sample_indices[k]
        _add(acc, 0, column[row], gradients[k], hessians[k if varying else 0],
             varying)
    for b in range(n_bins):
        for c in range(N_HIST_CHANNELS):
            total = acc[0, b, c]
            for lane in range(1, lanes):
                total += acc[lane, b, c]
            h_f[b, c] = total


@njit(nogil=True, cache=True)
def _feature_histograms(
    first, stop, sample_indices, X_binned, n_bins_non_missing, gradients,
    hessians, hessians_are_constant, hist,
):
    """Fill ``hist[first:stop]``; rows are ``sample_indices``, or every row.

    Every row in order (the root) is told by empty ``sample_indices`` with
    non-empty gradients: a run-time test, as a literal flag made Numba
    compile each kernel twice.
    """
    for f in range(first, stop):
        h_f = hist[f]
        all_rows = sample_indices.shape[0] != gradients.shape[0]
        column = X_binned[:, f]
        n_node = gradients.shape[0]
        # Literal lane counts, so that each loop is unrolled.
        if n_node >= _MIN_LANE_ROWS and n_bins_non_missing[f] <= _MAX_LANE_BINS:
            _fill_lanes(_LANES, column, sample_indices, all_rows, gradients,
                        hessians, hessians_are_constant, h_f)
        else:
            _fill_lanes(1, column, sample_indices, all_rows, gradients,
                        hessians, hessians_are_constant, h_f)
        if hessians_are_constant and n_node > 0:
            constant = hessians[0]
            for b in range(h_f.shape[0]):
                h_f[b, HIST_HESS] = h_f[b, HIST_COUNT] * constant


@njit(parallel=True, nogil=True, cache=True)
def _histogram_parallel(
    sample_indices, X_binned, n_bins_non_missing, gradients, hessians,
    hessians_are_constant, hist,
):
    for f in prange(X_binned.shape[1]):
        _feature_histograms(
            np.intp(f), np.intp(f + 1), sample_indices, X_binned,
            n_bins_non_missing, gradients, hessians, hessians_are_constant, hist,
        )


@njit(nogil=True, cache=True)
def _histogram(
    sample_indices, X_binned, n_bins_non_missing, gradients, hessians,
    hessians_are_constant, hist, parallel,
):
    if parallel:
        _histogram_parallel(sample_indices, X_binned, n_bins_non_missing,
                            gradients, hessians, hessians_are_constant, hist)
    else:
        # Not a branch of the parallel kernel: there, Numba would turn the
        # lanes' np.zeros outside a prange into a parallel region of its own.
        _feature_histograms(
            np.intp(0), np.intp(X_binned.shape[1]), sample_indices, X_binned,
            n_bins_non_missing, gradients, hessians, hessians_are_constant, hist,
        )


@njit(nogil=True, cache=True)
def build_histogram(
    sample_indices,
    X_binned,
    n_bins_non_missing,
    ordered_gradients,
    ordered_hessians,
    hessians_are_constant,
    hist,
    parallel=True,
):
    """Fill ``hist`` with the sums over the rows ``sample_indices``.

    Parameters
    ----------
    sample_indices : ndarray of uint32, shape (n_node,)
        Rows of the node, in increasing order (keeps column reads local).
    X_binned : ndarray of uint8, shape (n_samples, n_features), Fortran order
        All training rows, binned.
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
        Bins in use per feature (decides where the lanes pay).
    ordered_gradients, ordered_hessians : ndarray of float64, shape (n_node,)
        ``gradients[sample_indices]`` and likewise for hessians, so that the
        inner loop reads them contiguously.
    hessians_are_constant : bool
        If true, the hessian is ``ordered_hessians[0]`` for every sample and
        only counts are summed (one accumulator fewer in the hot loop).
    hist : ndarray of float64, shape (n_features, n_bins, 3)
        Output; overwritten.
    parallel : bool
        Spread the features over the thread pool (else the calling thread).
    """
    _histogram(
        sample_indices, X_binned, n_bins_non_missing, ordered_gradients,
        ordered_hessians, hessians_are_constant, hist, parallel,
    )


@njit(nogil=True, cache=True)
def build_root_histogram(
    X_binned, n_bins_non_missing, gradients, hessians, hessians_are_constant, hist,
    parallel=True,
):
    """``build_histogram`` over every row, in order: no index indirection.

    Parameters are those of ``build_histogram``, with the full-length
    ``gradients`` and ``hessians`` (``hessians[0]`` if constant).
    """
    _histogram(
        np.empty(0, dtype=np.uint32), X_binned, n_bins_non_missing, gradients,
        hessians, hessians_are_constant, hist, parallel,
    )


@njit(nogil=True, cache=True)
def subtract_histograms(parent, child, sibling):
    """Write ``sibling = parent - child`` (the histogram of the other child).

    Serial: ~20k subtractions cost less than waking the thread pool.
    """
    for f in range(parent.shape[0]):
        for b in range(parent.shape[1]):
            for c in range(parent.shape[2]):
                sibling[f, b, c] = parent[f, b, c] - child[f, b, c]


@njit(nogil=True, cache=True)
def _gather_row(gradients, hessians, sample_indices, ordered_gradients,
                ordered_hessians, i):
    row = sample_indices[i]
    ordered_gradients[i] = gradients[row]
    if ordered_hessians.shape[0]:
        ordered_hessians[i] = hessians[row]


@njit(parallel=True, nogil=True, cache=True)
def gather(gradients, hessians, sample_indices, ordered_gradients,
           ordered_hessians, parallel=True):
    """``ordered_gradients[i] = gradients[sample_indices[i]]``, same for hessians.

    One pass over the indices serves both. Pass an empty
    ``ordered_hessians`` to gather the gradients only (constant hessians).
    """
    if parallel:
        for i in prange(sample_indices.shape[0]):
            _gather_row(gradients, hessians, sample_indices, ordered_gradients,
                        ordered_hessians, i)
    else:
        for i in range(sample_indices.shape[0]):
            _gather_row(gradients, hessians, sample_indices, ordered_gradients,
                        ordered_hessians, i)
