"""Best-first growth of one histogram tree.

A thin Python orchestrator over the kernels: a heap of splittable leaves
ordered by gain, the rows of every node kept as a contiguous slice of one
``sample_indices`` array (partitioned in place), and the histogram of the
smaller child built while its sibling's comes by subtraction.
"""

import heapq
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ._common import NODE_DTYPE
from .histogram import build_histogram, empty_histogram, gather, subtract_histograms
from .splitting import find_best_split, leaf_value, partition


@dataclass(frozen=True)
class TreeParams:
    """Growth constraints of one tree (see the estimators for meanings)."""

    max_leaf_nodes: int | None = 31
    max_depth: int | None = None
    min_samples_leaf: int = 20
    min_hessian_to_split: float = 1e-3
    min_gain_to_split: float = 0.0
    l2_regularization: float = 0.0


class _Node:
    __slots__ = (
        "id", "start", "stop", "depth", "sum_g", "sum_h", "count", "hist",
        "split", "left", "right",
    )

    def __init__(self, node_id, start, stop, depth, sum_g, sum_h, count):
        self.id = node_id
        self.start = start
        self.stop = stop
        self.depth = depth
        self.sum_g = sum_g
        self.sum_h = sum_h
        self.count = count
        self.hist = None
        self.split = None  # (gain, feature, bin, missing_go_left, G_L, H_L, n_L)
        self.left = None
        self.right = None


@njit(parallel=True, nogil=True, cache=True)
def fill_leaf_values(sample_indices, leaf_starts, leaf_stops, leaf_values, out):
    """``out[row] = leaf_values[j]`` for the rows of each leaf ``j``.

    Leaves hold disjoint rows, so the parallel writes never collide.
    """
    for j in prange(leaf_starts.shape[0]):
        value = leaf_values[j]
        for i in range(leaf_starts[j], leaf_stops[j]):
            out[sample_indices[i]] = value


@dataclass
class GrownTree:
    """A grown tree: its node array and the training rows of each leaf.

    ``sample_indices[leaf_starts[j]:leaf_stops[j]]`` are the rows of leaf
    ``leaf_nodes[j]``, so the tree's output on the training data needs no
    traversal.
    """

    nodes: np.ndarray
    sample_indices: np.ndarray
    leaf_nodes: np.ndarray
    leaf_starts: np.ndarray
    leaf_stops: np.ndarray

    def training_output(self, out: np.ndarray) -> np.ndarray:
        """Write the tree's value at every training row into ``out``."""
        fill_leaf_values(
            self.sample_indices,
            self.leaf_starts,
            self.leaf_stops,
            self.nodes["value"][self.leaf_nodes],
            out,
        )
        return out


class TreeGrower:
    """Grow one tree on binned data and gradients.

    Parameters
    ----------
    X_binned : ndarray of uint8, shape (n_samples, n_features), Fortran order
    gradients, hessians : ndarray of float64, shape (n_samples,)
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
    missing_bin : int
    bin_thresholds : ndarray of float64, shape (n_features, n_bins)
        Raw thresholds of each bin, padded with +inf.
    params : TreeParams
    hessians_are_constant : bool
    n_threads : int
        Chunks used by the partition kernel.
    """

    def __init__(
        self,
        X_binned,
        gradients,
        hessians,
        n_bins_non_missing,
        missing_bin,
        bin_thresholds,
        params,
        hessians_are_constant=False,
        n_threads=1,
    ):
        self.X_binned = X_binned
        self.gradients = gradients
        self.hessians = hessians
        self.n_bins_non_missing = n_bins_non_missing
        self.missing_bin = missing_bin
        self.bin_thresholds = bin_thresholds
        self.params = params
        self.hessians_are_constant = hessians_are_constant
        self.n_threads = n_threads
        n_samples = X_binned.shape[0]
        self._n_bins = missing_bin + 1
        self._sample_indices = np.arange(n_samples, dtype=np.uint32)
        self._buffer = np.empty(n_samples, dtype=np.uint32)
        # The kernel reads hessians only when they vary.
        self._values = (
            gradients[None, :]
            if hessians_are_constant
            else np.stack([gradients, hessians])
        )
        self._ordered = np.empty_like(self._values)

    # -- kernels wrapped for one node -------------------------------------
    def _histogram(self, node):
        rows = self._sample_indices[node.start : node.stop]
        n = rows.shape[0]
        if n == self.X_binned.shape[0]:
            ordered = self._values
        else:
            ordered = self._ordered[:, :n]
            gather(self._values, rows, ordered)
        g = ordered[0]
        h = self.hessians[:1] if self.hessians_are_constant else ordered[1]
        hist = empty_histogram(self.X_binned.shape[1], self._n_bins)
        build_histogram(rows, self.X_binned, g, h, self.hessians_are_constant, hist)
        return hist

    def _can_split(self, node):
        p = self.params
        if p.max_depth is not None and node.depth >= p.max_depth:
            return False
        return (
            node.count >= 2 * p.min_samples_leaf
            and node.sum_h >= 2 * p.min_hessian_to_split
        )

    def _find_split(self, node):
        """Set ``node.split`` if a split with enough gain exists."""
        p = self.params
        split = find_best_split(
            node.hist,
            self.n_bins_non_missing,
            self.missing_bin,
            node.sum_g,
            node.sum_h,
            float(node.count),
            p.l2_regularization,
            float(p.min_samples_leaf),
            p.min_hessian_to_split,
        )
        if split[1] >= 0 and split[0] > p.min_gain_to_split:
            node.split = split

    # -- growth -----------------------------------------------------------
    def grow(self) -> GrownTree:
        """Grow the tree best-first and return it."""
        p = self.params
        n_samples = self.X_binned.shape[0]
        root = _Node(
            0,
            0,
            n_samples,
            0,
            float(np.sum(self.gradients)),
            float(np.sum(self.hessians)),
            n_samples,
        )
        nodes = [root]
        heap = []
        if self._can_split(root):
            root.hist = self._histogram(root)
            self._find_split(root)
        self._push(heap, root)
        n_leaves = 1
        max_leaves = p.max_leaf_nodes if p.max_leaf_nodes is not None else np.inf
        while heap and n_leaves < max_leaves:
            _, _, node = heapq.heappop(heap)
            # After the last allowed split the children stay leaves: they
            # need no histogram.
            last = n_leaves + 1 >= max_leaves
            left, right = self._split(node, len(nodes), last)
            nodes += [left, right]
            self._push(heap, left)
            self._push(heap, right)
            n_leaves += 1
        return self._finalize(nodes)

    @staticmethod
    def _push(heap, node):
        # Ties in gain resolve by node id, so growth order is deterministic.
        if node.split is not None:
            heapq.heappush(heap, (-node.split[0], node.id, node))
        else:
            node.hist = None

    def _split(self, node, next_id, last):
        """Partition ``node``'s rows, make its children and their splits."""
        _, feature, bin_, missing_left, g_l, h_l, _ = node.split
        rows = self._sample_indices[node.start : node.stop]
        n_left = int(
            partition(
                rows,
                self.X_binned[:, feature],
                bin_,
                missing_left,
                self.missing_bin,
                self.n_threads,
                self._buffer,
            )
        )
        mid = node.start + n_left
        depth = node.depth + 1
        left = _Node(next_id, node.start, mid, depth, g_l, h_l, n_left)
        right = _Node(
            next_id + 1,
            mid,
            node.stop,
            depth,
            node.sum_g - g_l,
            node.sum_h - h_l,
            node.count - n_left,
        )
        node.left, node.right = left, right
        splittable = [] if last else [c for c in (left, right) if self._can_split(c)]
        if splittable:
            small, large = sorted((left, right), key=lambda c: c.count)
            small.hist = self._histogram(small)
            large.hist = np.empty_like(node.hist)
            subtract_histograms(node.hist, small.hist, large.hist)
            for child in splittable:
                self._find_split(child)
        node.hist = None
        return left, right

    def _finalize(self, nodes):
        """Write the node array and the leaves' row slices."""
        l2 = self.params.l2_regularization
        out = np.zeros(len(nodes), dtype=NODE_DTYPE)
        leaves = []
        for node in nodes:
            rec = out[node.id]
            rec["value"] = leaf_value(node.sum_g, node.sum_h, l2)
            rec["count"] = node.count
            rec["depth"] = node.depth
            if node.left is None:
                rec["is_leaf"] = True
                leaves.append(node)
                continue
            gain, feature, bin_, missing_left, *_ = node.split
            rec["feature_idx"] = feature
            rec["bin_threshold"] = bin_
            rec["num_threshold"] = self.bin_thresholds[feature, bin_]
            rec["missing_go_left"] = missing_left
            rec["gain"] = gain
            rec["left"] = node.left.id
            rec["right"] = node.right.id
        return GrownTree(
            nodes=out,
            sample_indices=self._sample_indices,
            leaf_nodes=np.array([n.id for n in leaves], dtype=np.intp),
            leaf_starts=np.array([n.start for n in leaves], dtype=np.intp),
            leaf_stops=np.array([n.stop for n in leaves], dtype=np.intp),
        )
