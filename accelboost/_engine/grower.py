"""Best-first growth of one histogram tree, in one compiled call.

``_grow_tree`` keeps a heap of splittable leaves ordered by gain and, per
node, the rows as a contiguous slice of one ``sample_indices`` array
(partitioned in place). The histogram of the smaller child is built and its
sibling's comes by subtraction. Histograms live in a pool of slots, reused
as nodes are split or turn out to be leaves. ``TreeGrower`` is the thin
Python shell that prepares buffers and wraps the result.

Where a parallel region pays is decided per node: below
``MIN_PARALLEL_WORK`` elementary steps the calling thread does the work, so
small nodes never wait for a second thread (which, on a machine where
another process holds a core, can take milliseconds).
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .common import G_H_DTYPE, N_HIST_CHANNELS, NODE_DTYPE
from .histogram import (
    build_histogram,
    build_root_histogram,
    gather,
    subtract_histograms,
)
from .splitting import (
    NodeSums,
    SplitConstraints,
    find_best_split,
    leaf_value,
    partition,
)

#: Work (rows x features for a histogram, rows x 2 for a gather) below which
#: a kernel runs on the calling thread. Measured on 2 cores with diamonds'
#: columns: parallel histograms pay from about 2,000 x 9.
MIN_PARALLEL_WORK = 8_192

# Columns of the per-node integer and float bookkeeping arrays.
_START, _STOP, _DEPTH, _SLOT, _FEATURE, _BIN, _MISSING_LEFT, _LEFT = range(8)
_N_INT = 8
_SUM_G, _SUM_H, _COUNT, _GAIN, _LEFT_G, _LEFT_H = range(6)
_N_FLOAT = 6
_NO_LIMIT = -1


@dataclass(frozen=True)
class TreeParams:
    """Growth constraints of one tree (see the estimators for meanings)."""

    max_leaf_nodes: int | None = 31
    max_depth: int | None = None
    min_samples_leaf: int = 20
    min_hessian_to_split: float = 1e-3
    min_gain_to_split: float = 0.0
    l2_regularization: float = 0.0


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


# -- heap of splittable leaves: highest gain first, ties to the lower id ----
@njit(nogil=True, cache=True)
def _before(gains, ids, a, b):
    return gains[a] > gains[b] or (gains[a] == gains[b] and ids[a] < ids[b])


@njit(nogil=True, cache=True)
def _swap(gains, ids, a, b):
    gains[a], gains[b] = gains[b], gains[a]
    ids[a], ids[b] = ids[b], ids[a]


@njit(nogil=True, cache=True)
def _heap_push(gains, ids, size, gain, node):
    gains[size] = gain
    ids[size] = node
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if not _before(gains, ids, i, parent):
            break
        _swap(gains, ids, i, parent)
        i = parent
    return size + 1


@njit(nogil=True, cache=True)
def _heap_pop(gains, ids, size):
    """Remove the first entry; return ``(node, new size)``."""
    top = ids[0]
    size -= 1
    gains[0] = gains[size]
    ids[0] = ids[size]
    i = 0
    while True:
        first = i
        for child in (2 * i + 1, 2 * i + 2):
            if child < size and _before(gains, ids, child, first):
                first = child
        if first == i:
            return top, size
        _swap(gains, ids, i, first)
        i = first


# -- growable storage ---------------------------------------------------------
@njit(nogil=True, cache=True)
def _grown(array, needed):
    """``array`` with room for ``needed`` rows (doubling), contents kept."""
    if needed <= array.shape[0]:
        return array
    shape = (max(needed, 2 * array.shape[0]),) + array.shape[1:]
    bigger = np.empty(shape, dtype=array.dtype)
    # A flat loop: slice assignment's broadcasting took seconds to compile.
    old = array.reshape(array.size)
    new = bigger.reshape(bigger.size)
    for i in range(old.shape[0]):
        new[i] = old[i]
    return bigger


@njit(nogil=True, cache=True)
def _take_slot(pool, free, n_free):
    """A free histogram slot: ``(slot, pool, free, n_free)``, growing the pool."""
    if n_free == 0:
        n_old = pool.shape[0]
        pool = _grown(pool, n_old + 1)
        free = _grown(free, pool.shape[0])
        for s in range(pool.shape[0] - 1, n_old - 1, -1):
            free[n_free] = s
            n_free += 1
    n_free -= 1
    return free[n_free], pool, free, n_free


# -- growth -------------------------------------------------------------------
@njit(nogil=True, cache=True)
def _allowed_features(groups, node_groups, node, allowed):
    """Features of the groups still open to ``node`` (all without groups)."""
    if groups.shape[0] == 0:
        return allowed
    allowed[:] = 0
    for g in range(groups.shape[0]):
        if node_groups[node, g]:
            for f in range(groups.shape[1]):
                allowed[f] |= groups[g, f]
    return allowed


@njit(nogil=True, cache=True)
def _inherit_groups(groups, node_groups, parent, feature, children):
    """Children keep the parent's open groups that hold its split feature."""
    for g in range(groups.shape[0]):
        keep = node_groups[parent, g] & groups[g, feature]
        for child in children:
            node_groups[child, g] = keep


@njit(nogil=True, cache=True)
def _find_split(hist, ints, floats, node, n_bins_non_missing, missing_bin,
                constraints, min_gain, allowed):
    """Record the node's best split; False if none beats ``min_gain``."""
    sums = NodeSums(floats[node, _SUM_G], floats[node, _SUM_H], floats[node, _COUNT])
    split = find_best_split(
        hist, n_bins_non_missing, missing_bin, sums, constraints, allowed
    )
    if split.feature < 0 or not split.gain > min_gain:
        return False
    ints[node, _FEATURE] = split.feature
    ints[node, _BIN] = split.bin
    ints[node, _MISSING_LEFT] = split.missing_go_left
    floats[node, _GAIN] = split.gain
    floats[node, _LEFT_G] = split.sum_gradient_left
    floats[node, _LEFT_H] = split.sum_hessian_left
    return True


@njit(nogil=True, cache=True)
def _can_split(ints, floats, node, max_depth, min_samples_leaf, min_hessian):
    if max_depth != _NO_LIMIT and ints[node, _DEPTH] >= max_depth:
        return False
    return (
        floats[node, _COUNT] >= 2 * min_samples_leaf
        and floats[node, _SUM_H] >= 2 * min_hessian
    )


@njit(nogil=True, cache=True)
def _set_node(ints, floats, node, start, stop, depth, sum_g, sum_h):
    ints[node, _START] = start
    ints[node, _STOP] = stop
    ints[node, _DEPTH] = depth
    ints[node, _LEFT] = 0
    floats[node, _SUM_G] = sum_g
    floats[node, _SUM_H] = sum_h
    floats[node, _COUNT] = stop - start


@njit(nogil=True, cache=True)
def _pays(work, n_threads, min_work):
    """Whether a kernel doing ``work`` elementary steps should go parallel."""
    return n_threads > 1 and work >= min_work


@njit(nogil=True, cache=True)
def _node_histogram(node, ints, X_binned, n_bins_non_missing, gradients, hessians,
                    hessians_are_constant, sample_indices, ordered_g, ordered_h,
                    hist, n_threads, min_work):
    """Build ``hist`` for a non-root node (gather its g and h, then sum)."""
    start, stop = ints[node, _START], ints[node, _STOP]
    n = stop - start
    rows = sample_indices[start:stop]
    out_g = ordered_g[:n]
    out_h = ordered_h[: 0 if hessians_are_constant else n]
    gather(gradients, hessians, rows, out_g, out_h, _pays(2 * n, n_threads, min_work))
    h = hessians[:1] if hessians_are_constant else out_h
    build_histogram(rows, X_binned, n_bins_non_missing, out_g, h,
                    hessians_are_constant, hist,
                    _pays(n * X_binned.shape[1], n_threads, min_work))


@njit(nogil=True, cache=True)
def _grow_tree(
    X_binned, gradients, hessians, hessians_are_constant, n_bins_non_missing,
    missing_bin, bin_thresholds, max_leaf_nodes, max_depth, min_samples_leaf,
    min_hessian, min_gain, l2, sum_g, sum_h, n_threads, min_parallel_work,
    groups,
):
    """Grow one tree best-first; see ``TreeGrower``.

    ``groups`` is the (n_groups, n_features) membership matrix of the
    interaction constraints (no rows: none). A node may split on the
    features of the groups still open to it; the root has all open, and a
    split on ``f`` keeps open only the groups that hold ``f``.
    ``max_leaf_nodes`` and ``max_depth`` are ``_NO_LIMIT`` when unbounded;
    ``min_parallel_work`` says where kernels go parallel
    (``MIN_PARALLEL_WORK``).
    Returns the node array, the row order (every leaf's rows contiguous),
    and the leaves' ids and row slices.
    """
    n_samples, n_features = X_binned.shape
    sample_indices = np.empty(n_samples, dtype=np.uint32)
    for i in range(n_samples):
        sample_indices[i] = i
    buffer = np.empty(n_samples, dtype=np.uint32)
    ordered_g = np.empty(n_samples, dtype=G_H_DTYPE)
    ordered_h = np.empty(0 if hessians_are_constant else n_samples, dtype=G_H_DTYPE)
    n_bins = missing_bin + 1
    capacity = 64 if max_leaf_nodes == _NO_LIMIT else 2 * max_leaf_nodes
    ints = np.empty((capacity, _N_INT), dtype=np.int64)
    floats = np.empty((capacity, _N_FLOAT), dtype=np.float64)
    heap_gains = np.empty(capacity, dtype=np.float64)
    heap_ids = np.empty(capacity, dtype=np.int64)
    node_groups = np.ones((capacity, groups.shape[0]), dtype=np.uint8)
    allowed = np.ones(n_features, dtype=np.uint8)
    n_slots = 8 if max_leaf_nodes == _NO_LIMIT else max_leaf_nodes + 2
    # One flat row per slot, viewed as (features, bins, 3) by reshape: a 2-D
    # pool grows like the node arrays (a 4-D one took seconds more to compile).
    pool = np.empty((n_slots, n_features * n_bins * N_HIST_CHANNELS), dtype=G_H_DTYPE)
    shape = (n_features, n_bins, N_HIST_CHANNELS)
    free = np.arange(n_slots - 1, -1, -1)
    n_free = n_slots

    _set_node(ints, floats, 0, 0, n_samples, 0, sum_g, sum_h)
    constraints = SplitConstraints(l2, min_samples_leaf, min_hessian)
    n_nodes = 1
    heap_size = 0
    if _can_split(ints, floats, 0, max_depth, min_samples_leaf, min_hessian):
        slot, pool, free, n_free = _take_slot(pool, free, n_free)
        ints[0, _SLOT] = slot
        build_root_histogram(
            X_binned, n_bins_non_missing, gradients, hessians, hessians_are_constant,
            pool[slot].reshape(shape),
            _pays(n_samples * n_features, n_threads, min_parallel_work),
        )
        if _find_split(pool[slot].reshape(shape), ints, floats, 0, n_bins_non_missing,
                       missing_bin, constraints, min_gain, allowed):
            heap_size = _heap_push(heap_gains, heap_ids, 0, floats[0, _GAIN], 0)
        else:
            free[n_free] = slot
            n_free += 1

    n_leaves = 1
    while heap_size > 0 and (max_leaf_nodes == _NO_LIMIT or n_leaves < max_leaf_nodes):
        node, heap_size = _heap_pop(heap_gains, heap_ids, heap_size)
        ints = _grown(ints, n_nodes + 2)
        floats = _grown(floats, n_nodes + 2)
        heap_gains = _grown(heap_gains, n_nodes + 2)
        heap_ids = _grown(heap_ids, n_nodes + 2)
        node_groups = _grown(node_groups, n_nodes + 2)
        start, stop = ints[node, _START], ints[node, _STOP]
        n_left = partition(
            sample_indices[start:stop], X_binned[:, ints[node, _FEATURE]],
            ints[node, _BIN], ints[node, _MISSING_LEFT] != 0, missing_bin, buffer,
        )
        left, right = n_nodes, n_nodes + 1
        n_nodes += 2
        ints[node, _LEFT] = left
        _inherit_groups(groups, node_groups, node, ints[node, _FEATURE], (left, right))
        depth = ints[node, _DEPTH] + 1
        g_l, h_l = floats[node, _LEFT_G], floats[node, _LEFT_H]
        _set_node(ints, floats, left, start, start + n_left, depth, g_l, h_l)
        _set_node(ints, floats, right, start + n_left, stop, depth,
                  floats[node, _SUM_G] - g_l, floats[node, _SUM_H] - h_l)
        n_leaves += 1
        parent_slot = ints[node, _SLOT]
        # After the last allowed split the children stay leaves: no histogram.
        last = max_leaf_nodes != _NO_LIMIT and n_leaves >= max_leaf_nodes
        splittable_left = not last and _can_split(
            ints, floats, left, max_depth, min_samples_leaf, min_hessian)
        splittable_right = not last and _can_split(
            ints, floats, right, max_depth, min_samples_leaf, min_hessian)
        if splittable_left or splittable_right:
            small, large = left, right
            if floats[right, _COUNT] < floats[left, _COUNT]:
                small, large = right, left
            slot, pool, free, n_free = _take_slot(pool, free, n_free)
            ints[small, _SLOT] = slot
            _node_histogram(small, ints, X_binned, n_bins_non_missing, gradients,
                            hessians, hessians_are_constant, sample_indices,
                            ordered_g, ordered_h, pool[slot].reshape(shape),
                            n_threads, min_parallel_work)
            slot, pool, free, n_free = _take_slot(pool, free, n_free)
            ints[large, _SLOT] = slot
            subtract_histograms(pool[parent_slot].reshape(shape),
                                pool[ints[small, _SLOT]].reshape(shape),
                                pool[slot].reshape(shape))
            for child, splittable in ((left, splittable_left),
                                      (right, splittable_right)):
                child_slot = ints[child, _SLOT]
                if splittable and _find_split(
                    pool[child_slot].reshape(shape), ints, floats, child,
                    n_bins_non_missing, missing_bin, constraints, min_gain,
                    _allowed_features(groups, node_groups, child, allowed),
                ):
                    heap_size = _heap_push(
                        heap_gains, heap_ids, heap_size, floats[child, _GAIN], child)
                else:
                    free[n_free] = child_slot
                    n_free += 1
        free[n_free] = parent_slot
        n_free += 1
    # Slots of leaves still in the heap are simply dropped with the pool.
    nodes, leaf_nodes, leaf_starts, leaf_stops = _write_nodes(
        ints, floats, n_nodes, bin_thresholds, l2)
    return nodes, sample_indices, leaf_nodes, leaf_starts, leaf_stops


@njit(nogil=True, cache=True)
def _write_nodes(ints, floats, n_nodes, bin_thresholds, l2):
    """The node array, and each leaf's id and row slice (in id order)."""
    nodes = np.zeros(n_nodes, dtype=NODE_DTYPE)
    n_leaves = 0
    for i in range(n_nodes):
        n_leaves += ints[i, _LEFT] == 0
    leaf_nodes = np.empty(n_leaves, dtype=np.intp)
    leaf_starts = np.empty(n_leaves, dtype=np.intp)
    leaf_stops = np.empty(n_leaves, dtype=np.intp)
    j = 0
    for i in range(n_nodes):
        node = nodes[i]
        node["value"] = leaf_value(floats[i, _SUM_G], floats[i, _SUM_H], l2)
        node["count"] = ints[i, _STOP] - ints[i, _START]
        node["depth"] = ints[i, _DEPTH]
        left = ints[i, _LEFT]
        if left == 0:
            node["is_leaf"] = True
            leaf_nodes[j] = i
            leaf_starts[j] = ints[i, _START]
            leaf_stops[j] = ints[i, _STOP]
            j += 1
            continue
        feature = ints[i, _FEATURE]
        node["feature_idx"] = feature
        node["bin_threshold"] = ints[i, _BIN]
        node["num_threshold"] = bin_thresholds[feature, ints[i, _BIN]]
        node["missing_go_left"] = ints[i, _MISSING_LEFT]
        node["gain"] = floats[i, _GAIN]
        node["left"] = left
        node["right"] = left + 1
    return nodes, leaf_nodes, leaf_starts, leaf_stops


class TreeGrower:
    """Grow one tree on binned data and gradients.

    Parameters
    ----------
    X_binned : ndarray of uint8, shape (n_samples, n_features), Fortran order
    gradients, hessians : ndarray of float64, shape (n_samples,)
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
    missing_bin : int
    bin_thresholds : ndarray of float64, shape (n_features, n_bins)
        Raw thresholds of each bin, padded with +inf
        (``BinMapper.thresholds_``).
    params : TreeParams
    hessians_are_constant : bool
    n_threads : int
        Threads the parallel kernels may use (1: no parallel region).
    min_parallel_work : int
        Work from which kernels go parallel (tests set 0 to run every
        gather and histogram in parallel).
    interaction_groups : ndarray of uint8, shape (n_groups, n_features), optional
        Interaction constraints as a membership matrix
        (``interaction_groups_matrix``); None for none.
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
        min_parallel_work=MIN_PARALLEL_WORK,
        interaction_groups=None,
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
        self.min_parallel_work = min_parallel_work
        if interaction_groups is None:
            interaction_groups = np.zeros((0, X_binned.shape[1]), dtype=np.uint8)
        self.interaction_groups = interaction_groups

    def grow(self) -> GrownTree:
        """Grow the tree best-first and return it."""
        p = self.params
        return GrownTree(*_grow_tree(
            self.X_binned,
            self.gradients,
            self.hessians,
            self.hessians_are_constant,
            self.n_bins_non_missing,
            self.missing_bin,
            self.bin_thresholds,
            _NO_LIMIT if p.max_leaf_nodes is None else p.max_leaf_nodes,
            _NO_LIMIT if p.max_depth is None else p.max_depth,
            float(p.min_samples_leaf),
            float(p.min_hessian_to_split),
            float(p.min_gain_to_split),
            float(p.l2_regularization),
            float(np.sum(self.gradients)),
            float(np.sum(self.hessians)),
            self.n_threads,
            self.min_parallel_work,
            self.interaction_groups,
        ))


def interaction_groups_matrix(groups, n_features: int) -> np.ndarray:
    """The membership matrix of interaction constraints.

    Parameters
    ----------
    groups : list of set of int
        Feature groups; together they must cover every feature.
    n_features : int
        Number of features.

    Returns
    -------
    matrix : ndarray of uint8, shape (n_groups, n_features)
        ``matrix[g, f] == 1`` when feature ``f`` is in group ``g``.
    """
    matrix = np.zeros((len(groups), n_features), dtype=np.uint8)
    for g, group in enumerate(groups):
        matrix[g, sorted(group)] = 1
    return matrix
