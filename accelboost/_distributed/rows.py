"""Growing one tree over shards: a shard's side.

A shard keeps its rows of the tree being grown as the compiled grower does,
as slices of one ``sample_indices`` array partitioned in place, one slice
per node handle. A round applies the driver's splits to those slices and
builds the histograms the driver asks for, with the grower's own kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._engine.common import CATEGORY_WORDS, G_H_DTYPE, N_HIST_CHANNELS
from .._engine.grower import (
    _BIN,
    _CATEGORICAL,
    _FEATURE,
    _MISSING_LEFT,
    _N_INT,
    _START,
    _STOP,
    MIN_PARALLEL_WORK,
    _node_histogram,
    _partition_node,
    _pays,
    fill_leaf_values,
)
from .._engine.histogram import build_root_histogram
from .tree import (
    SPLIT_BIN,
    SPLIT_CATEGORICAL,
    SPLIT_FEATURE,
    SPLIT_HANDLE,
    SPLIT_LEFT,
    SPLIT_MISSING_LEFT,
)


@njit(nogil=True, cache=True)
def _apply_round(splits, categories, builds, ints, cats, sample_indices, buffer,
                 X_binned, missing_bin, n_bins_non_missing, gradients, hessians,
                 hessians_are_constant, ordered_g, ordered_h, histograms, n_left,
                 n_threads, min_work):
    """Apply the splits to the nodes' slices, then build the histograms."""
    for i in range(splits.shape[0]):
        node = splits[i, SPLIT_HANDLE]
        ints[node, _FEATURE] = splits[i, SPLIT_FEATURE]
        ints[node, _BIN] = splits[i, SPLIT_BIN]
        ints[node, _MISSING_LEFT] = splits[i, SPLIT_MISSING_LEFT]
        ints[node, _CATEGORICAL] = splits[i, SPLIT_CATEGORICAL]
        for w in range(CATEGORY_WORDS):
            cats[node, w] = categories[i, w]
        n = _partition_node(node, ints, cats, sample_indices, X_binned, missing_bin,
                            buffer)
        left = splits[i, SPLIT_LEFT]
        start, stop = ints[node, _START], ints[node, _STOP]
        ints[left, _START] = start
        ints[left, _STOP] = start + n
        ints[left + 1, _START] = start + n
        ints[left + 1, _STOP] = stop
        n_left[i] = n
    for j in range(builds.shape[0]):
        _node_histogram(builds[j], ints, X_binned, n_bins_non_missing, gradients,
                        hessians, hessians_are_constant, sample_indices, ordered_g,
                        ordered_h, histograms[j], n_threads, min_work)


class TreeRows:
    """A shard's rows of the tree being grown.

    Parameters
    ----------
    X_binned : ndarray of shape (n_rows, n_features), Fortran order
        The shard's binned rows (may have no rows).
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
    missing_bin : int
    n_threads : int
        Threads the kernels may use.
    """

    def __init__(self, X_binned, n_bins_non_missing, missing_bin, n_threads=1):
        self.X_binned = X_binned
        self.n_bins_non_missing = np.asarray(n_bins_non_missing, dtype=np.uint32)
        self.missing_bin = int(missing_bin)
        self.n_threads = n_threads
        n_rows = X_binned.shape[0]
        self.sample_indices = np.arange(n_rows, dtype=np.uint32)
        self._buffer = np.empty(n_rows, dtype=np.uint32)
        self._ordered_g = np.empty(n_rows, dtype=G_H_DTYPE)
        self._ordered_h = np.empty(n_rows, dtype=G_H_DTYPE)
        self._ints = np.zeros((64, _N_INT), dtype=np.int64)
        self._cats = np.zeros((64, CATEGORY_WORDS), dtype=np.uint64)
        self._shape = (X_binned.shape[1], self.missing_bin + 1, N_HIST_CHANNELS)

    def begin(self, gradients, hessians, hessians_are_constant):
        """Start a tree on these gradients: the root's sums and histogram.

        Returns
        -------
        sums : ndarray of shape (3,)
            Gradient sum, hessian sum and row count of the shard's rows.
        histogram : ndarray of shape (n_features, n_bins, 3)
        """
        self._g = gradients
        self._h = hessians[:1] if hessians_are_constant else hessians
        self._constant = hessians_are_constant
        n_rows = self.X_binned.shape[0]
        self.sample_indices[:] = np.arange(n_rows, dtype=np.uint32)
        self._ints[0, _START] = 0
        self._ints[0, _STOP] = n_rows
        histogram = np.zeros(self._shape, dtype=G_H_DTYPE)
        if n_rows:
            build_root_histogram(
                self.X_binned, self.n_bins_non_missing, self._g, self._h,
                hessians_are_constant, histogram,
                _pays(n_rows * self.X_binned.shape[1], self.n_threads,
                      MIN_PARALLEL_WORK))
        sums = np.array([np.sum(gradients), np.sum(hessians), float(n_rows)])
        return sums, histogram

    def round(self, splits, categories, builds):
        """Apply a round's splits and build its histograms.

        Returns
        -------
        histograms : ndarray of shape (n_builds, n_features, n_bins, 3)
        n_left : ndarray of int64, shape (n_splits,)
            The shard's rows that went left at each split.
        """
        needed = int(max(splits[:, SPLIT_LEFT].max(initial=0) + 2,
                         builds.max(initial=0) + 1))
        if needed > self._ints.shape[0]:
            size = max(needed, 2 * self._ints.shape[0])
            self._ints = np.resize(self._ints, (size, _N_INT))
            self._cats = np.resize(self._cats, (size, CATEGORY_WORDS))
        histograms = np.empty((len(builds),) + self._shape, dtype=G_H_DTYPE)
        n_left = np.empty(len(splits), dtype=np.int64)
        _apply_round(splits, categories, builds, self._ints, self._cats,
                     self.sample_indices, self._buffer, self.X_binned,
                     self.missing_bin, self.n_bins_non_missing, self._g, self._h,
                     self._constant, self._ordered_g, self._ordered_h, histograms,
                     n_left, self.n_threads, MIN_PARALLEL_WORK)
        return histograms, n_left

    def output(self, leaf_handles, leaf_values, out):
        """Write the tree's value at each of the shard's rows into ``out``."""
        fill_leaf_values(self.sample_indices, self._ints[leaf_handles, _START],
                         self._ints[leaf_handles, _STOP], leaf_values, out)
        return out
