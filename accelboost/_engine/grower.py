"""Best-first growth of one histogram tree, in one compiled call.

``_grow_tree`` keeps a heap of splittable leaves ordered by gain and, per
node, the rows as a contiguous slice of one ``sample_indices`` array
(partitioned in place). The histogram of the smaller child is built and its
sibling's comes by subtraction. Histograms live in a pool of slots, reused
as nodes are split or turn out to be leaves. ``TreeGrower`` is the thin
Python shell that prepares buffers and wraps the result.

Optional, each free when off: categorical features (split by a set of
categories, ``splitting._best_split_of_category``), monotonic constraints
(every node's value kept in bounds that children inherit and a constrained
split tightens at the midpoint of its children's values, as
HistGradientBoosting does), a random subset of ``max_features`` features per
node (drawn by a xorshift64 stream seeded per tree, so a tree is a pure
function of its inputs), and growth on a subset of the rows.

Where a parallel region pays is decided per node: below
``MIN_PARALLEL_WORK`` elementary steps the calling thread does the work, so
small nodes never wait for a second thread (which, on a machine where
another process holds a core, can take milliseconds).
"""

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .common import (
    CATEGORY_WORDS,
    G_H_DTYPE,
    MAX_CATEGORIES,
    N_HIST_CHANNELS,
    NODE_DTYPE,
)
from .histogram import (
    build_histogram,
    build_root_histogram,
    gather,
    subtract_histograms,
)
from .splitting import (
    NodeSums,
    SplitConstraints,
    clipped_value,
    partition,
    partition_categorical,
    search_features,
)

#: Work (rows x features for a histogram, rows x 2 for a gather) below which
#: a kernel runs on the calling thread. Measured on 2 cores with diamonds'
#: columns: parallel histograms pay from about 2,000 x 9.
MIN_PARALLEL_WORK = 8_192

# Columns of the per-node integer and float bookkeeping arrays.
_START, _STOP, _DEPTH, _SLOT, _FEATURE, _BIN, _MISSING_LEFT, _LEFT = range(8)
_CATEGORICAL = 8
_N_INT = 9
_SUM_G, _SUM_H, _COUNT, _GAIN, _LEFT_G, _LEFT_H, _LOWER, _UPPER = range(8)
_N_FLOAT = 8
_NO_LIMIT = -1

#: What every split search of one tree shares: the feature layout, the
#: constraints, and scratch arrays of n_features entries (``allowed``: the
#: features interaction constraints leave a node; ``pool`` and ``drawn``:
#: the draw of ``max_features``). Empty ``is_categorical`` or
#: ``monotonic_cst`` mean none; ``max_features`` is ``_NO_LIMIT`` for all.
_Search = namedtuple(
    "_Search",
    ["n_bins_non_missing", "missing_bin", "constraints", "min_gain",
     "is_categorical", "monotonic_cst", "groups", "max_features",
     "allowed", "pool", "drawn"],
)


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
    traversal. Grown on a subset of the rows (``TreeGrower``'s
    ``sample_indices``), the slices cover only those rows.

    ``leaf_lower[j]`` and ``leaf_upper[j]`` bound the value of leaf
    ``leaf_nodes[j]`` under monotonic constraints (-inf and +inf without):
    a leaf value refitted afterwards must be clipped into them for the tree
    to stay monotone.
    """

    nodes: np.ndarray
    sample_indices: np.ndarray
    leaf_nodes: np.ndarray
    leaf_starts: np.ndarray
    leaf_stops: np.ndarray
    leaf_lower: np.ndarray
    leaf_upper: np.ndarray

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
def _xorshift(state):
    """Marsaglia's xorshift64 step (13, 7, 17): shifts and xors only."""
    state ^= state << np.uint64(13)
    state ^= state >> np.uint64(7)
    state ^= state << np.uint64(17)
    return state


@njit(nogil=True, cache=True)
def _draw_features(allowed, max_features, state, pool, drawn):
    """``max_features`` of the ``allowed`` features, drawn without replacement.

    A partial Fisher-Yates shuffle of the allowed features (in increasing
    order): step ``i`` advances the xorshift64 ``state`` and swaps entry
    ``i`` with entry ``i + state % (n_allowed - i)``. Nothing is drawn (and
    ``state`` stays) when no more than ``max_features`` are allowed.
    Returns the mask of the features to search and the new state.
    """
    n_allowed = 0
    for f in range(allowed.shape[0]):
        if allowed[f]:
            pool[n_allowed] = f
            n_allowed += 1
    if n_allowed <= max_features:
        return allowed, state
    drawn[:] = 0
    for i in range(max_features):
        state = _xorshift(state)
        j = i + np.int64(state % np.uint64(n_allowed - i))
        pool[i], pool[j] = pool[j], pool[i]
        drawn[pool[i]] = 1
    return drawn, state


@njit(nogil=True, cache=True)
def _find_split(hist, ints, floats, cats, node, search, allowed, rng):
    """Record the node's best split if it beats ``min_gain``.

    The split is searched among the ``allowed`` features, or a draw of
    ``max_features`` of them. Returns whether it was recorded, and the new
    random state.
    """
    if search.max_features != _NO_LIMIT:
        allowed, rng = _draw_features(allowed, search.max_features, rng,
                                      search.pool, search.drawn)
    sums = NodeSums(floats[node, _SUM_G], floats[node, _SUM_H], floats[node, _COUNT],
                    floats[node, _LOWER], floats[node, _UPPER])
    split = search_features(
        hist, search.n_bins_non_missing, search.missing_bin, sums,
        search.constraints, allowed, search.is_categorical, search.monotonic_cst,
    )
    if split.feature < 0 or not split.gain > search.min_gain:
        return False, rng
    ints[node, _FEATURE] = split.feature
    ints[node, _BIN] = split.bin
    ints[node, _MISSING_LEFT] = split.missing_go_left
    ints[node, _CATEGORICAL] = split.is_categorical
    if split.is_categorical:
        for w in range(CATEGORY_WORDS):
            cats[node, w] = split.left_categories[w]
    floats[node, _GAIN] = split.gain
    floats[node, _LEFT_G] = split.sum_gradient_left
    floats[node, _LEFT_H] = split.sum_hessian_left
    return True, rng


@njit(nogil=True, cache=True)
def _can_split(ints, floats, node, max_depth, min_samples_leaf, min_hessian):
    if max_depth != _NO_LIMIT and ints[node, _DEPTH] >= max_depth:
        return False
    return (
        floats[node, _COUNT] >= 2 * min_samples_leaf
        and floats[node, _SUM_H] >= 2 * min_hessian
    )


@njit(nogil=True, cache=True)
def _set_node(ints, floats, node, start, stop, depth, sum_g, sum_h, lower, upper):
    ints[node, _START] = start
    ints[node, _STOP] = stop
    ints[node, _DEPTH] = depth
    ints[node, _LEFT] = 0
    floats[node, _SUM_G] = sum_g
    floats[node, _SUM_H] = sum_h
    floats[node, _COUNT] = stop - start
    floats[node, _LOWER] = lower
    floats[node, _UPPER] = upper


@njit(nogil=True, cache=True)
def _partition_node(node, ints, cats, sample_indices, X_binned, missing_bin, buffer):
    """Put the node's left rows first in its slice; return how many there are."""
    start, stop = ints[node, _START], ints[node, _STOP]
    rows = sample_indices[start:stop]
    column = X_binned[:, ints[node, _FEATURE]]
    missing_left = ints[node, _MISSING_LEFT] != 0
    if ints[node, _CATEGORICAL]:
        return partition_categorical(rows, column, cats[node], missing_left,
                                     missing_bin, buffer)
    return partition(rows, column, ints[node, _BIN], missing_left, missing_bin,
                     buffer)


@njit(nogil=True, cache=True)
def _set_children(ints, floats, node, n_left, left, right, monotonic_cst, l2):
    """Rows, depth, sums and value bounds of the children of a split ``node``.

    The children inherit the node's bounds; a split on a feature with a
    monotonic constraint puts the boundary between them at the midpoint of
    their (clipped) values: below it for the child that must be smaller.
    """
    ints[node, _LEFT] = left
    start, stop = ints[node, _START], ints[node, _STOP]
    depth = ints[node, _DEPTH] + 1
    lower, upper = floats[node, _LOWER], floats[node, _UPPER]
    g_l, h_l = floats[node, _LEFT_G], floats[node, _LEFT_H]
    g_r, h_r = floats[node, _SUM_G] - g_l, floats[node, _SUM_H] - h_l
    _set_node(ints, floats, left, start, start + n_left, depth, g_l, h_l, lower, upper)
    _set_node(ints, floats, right, start + n_left, stop, depth, g_r, h_r, lower, upper)
    if monotonic_cst.shape[0] == 0:
        return
    direction = monotonic_cst[ints[node, _FEATURE]]
    if direction == 0:
        return
    mid = (clipped_value(g_l, h_l, l2, lower, upper)
           + clipped_value(g_r, h_r, l2, lower, upper)) / 2
    small, large = (left, right) if direction > 0 else (right, left)
    floats[small, _UPPER] = mid
    floats[large, _LOWER] = mid


@njit(nogil=True, cache=True)
def _pays(work, n_threads, min_work):
    """Whether a kernel doing ``work`` elementary steps should go parallel."""
    return n_threads > 1 and work >= min_work


@njit(nogil=True, cache=True)
def _node_histogram(node, ints, X_binned, n_bins_non_missing, gradients, hessians,
                    hessians_are_constant, sample_indices, ordered_g, ordered_h,
                    hist, n_threads, min_work):
    """Build ``hist`` for a node from its rows (gather its g and h, then sum)."""
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
def _root_rows(n_samples, rows):
    """The root's rows: a copy of ``rows``, or every row if ``rows`` is empty."""
    if rows.shape[0] > 0:
        return rows.copy()
    every = np.empty(n_samples, dtype=np.uint32)
    for i in range(n_samples):
        every[i] = i
    return every


@njit(nogil=True, cache=True)
def _grow_tree(
    X_binned, gradients, hessians, hessians_are_constant, n_bins_non_missing,
    missing_bin, bin_thresholds, max_leaf_nodes, max_depth, min_samples_leaf,
    min_hessian, min_gain, l2, sum_g, sum_h, n_threads, min_parallel_work,
    groups, is_categorical, monotonic_cst, max_features, rng, root_rows,
):
    """Grow one tree best-first; see ``TreeGrower``.

    ``groups`` is the (n_groups, n_features) membership matrix of the
    interaction constraints (no rows: none). A node may split on the
    features of the groups still open to it; the root has all open, and a
    split on ``f`` keeps open only the groups that hold ``f``.
    ``is_categorical`` and ``monotonic_cst`` are empty when there are none;
    ``max_features`` is ``_NO_LIMIT`` to search every allowed feature, and
    ``rng`` the (nonzero) xorshift64 state its draws start from.
    ``root_rows`` are the rows to grow on (empty: all); ``sum_g`` and
    ``sum_h`` their sums.
    ``max_leaf_nodes`` and ``max_depth`` are ``_NO_LIMIT`` when unbounded;
    ``min_parallel_work`` says where kernels go parallel
    (``MIN_PARALLEL_WORK``).
    Returns the node array, the row order (every leaf's rows contiguous),
    the leaves' ids and row slices, and their value bounds.
    """
    n_features = X_binned.shape[1]
    sample_indices = _root_rows(X_binned.shape[0], root_rows)
    n_rows = sample_indices.shape[0]
    buffer = np.empty(n_rows, dtype=np.uint32)
    ordered_g = np.empty(n_rows, dtype=G_H_DTYPE)
    ordered_h = np.empty(0 if hessians_are_constant else n_rows, dtype=G_H_DTYPE)
    n_bins = missing_bin + 1
    capacity = 64 if max_leaf_nodes == _NO_LIMIT else 2 * max_leaf_nodes
    ints = np.empty((capacity, _N_INT), dtype=np.int64)
    floats = np.empty((capacity, _N_FLOAT), dtype=np.float64)
    cats = np.zeros((capacity, CATEGORY_WORDS), dtype=np.uint64)
    heap_gains = np.empty(capacity, dtype=np.float64)
    heap_ids = np.empty(capacity, dtype=np.int64)
    node_groups = np.ones((capacity, groups.shape[0]), dtype=np.uint8)
    search = _Search(
        n_bins_non_missing, missing_bin, SplitConstraints(l2, min_samples_leaf,
                                                          min_hessian),
        min_gain, is_categorical, monotonic_cst, groups, max_features,
        np.ones(n_features, dtype=np.uint8), np.empty(n_features, dtype=np.int64),
        np.empty(n_features, dtype=np.uint8),
    )
    n_slots = 8 if max_leaf_nodes == _NO_LIMIT else max_leaf_nodes + 2
    # One flat row per slot, viewed as (features, bins, 3) by reshape: a 2-D
    # pool grows like the node arrays (a 4-D one took seconds more to compile).
    pool = np.empty((n_slots, n_features * n_bins * N_HIST_CHANNELS), dtype=G_H_DTYPE)
    shape = (n_features, n_bins, N_HIST_CHANNELS)
    free = np.arange(n_slots - 1, -1, -1)
    n_free = n_slots

    # The root's id as a run-time integer: a literal 0 would compile a second
    # copy of every helper it is passed to.
    root = np.int64(0)
    _set_node(ints, floats, root, root, n_rows, root, sum_g, sum_h, -np.inf, np.inf)
    n_nodes = 1
    heap_size = 0
    if _can_split(ints, floats, 0, max_depth, min_samples_leaf, min_hessian):
        slot, pool, free, n_free = _take_slot(pool, free, n_free)
        ints[0, _SLOT] = slot
        if root_rows.shape[0] == 0:
            build_root_histogram(
                X_binned, n_bins_non_missing, gradients, hessians,
                hessians_are_constant, pool[slot].reshape(shape),
                _pays(n_rows * n_features, n_threads, min_parallel_work),
            )
        else:
            _node_histogram(root, ints, X_binned, n_bins_non_missing, gradients,
                            hessians, hessians_are_constant, sample_indices,
                            ordered_g, ordered_h, pool[slot].reshape(shape),
                            n_threads, min_parallel_work)
        found, rng = _find_split(pool[slot].reshape(shape), ints, floats, cats, root,
                                 search, search.allowed, rng)
        if found:
            heap_size = _heap_push(heap_gains, heap_ids, root, floats[root, _GAIN],
                                   root)
        else:
            free[n_free] = slot
            n_free += 1

    n_leaves = 1
    while heap_size > 0 and (max_leaf_nodes == _NO_LIMIT or n_leaves < max_leaf_nodes):
        node, heap_size = _heap_pop(heap_gains, heap_ids, heap_size)
        ints = _grown(ints, n_nodes + 2)
        floats = _grown(floats, n_nodes + 2)
        cats = _grown(cats, n_nodes + 2)
        heap_gains = _grown(heap_gains, n_nodes + 2)
        heap_ids = _grown(heap_ids, n_nodes + 2)
        node_groups = _grown(node_groups, n_nodes + 2)
        n_left = _partition_node(node, ints, cats, sample_indices, X_binned,
                                 missing_bin, buffer)
        left, right = n_nodes, n_nodes + 1
        n_nodes += 2
        _set_children(ints, floats, node, n_left, left, right, monotonic_cst, l2)
        _inherit_groups(groups, node_groups, node, ints[node, _FEATURE], (left, right))
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
                found = False
                if splittable:
                    found, rng = _find_split(
                        pool[child_slot].reshape(shape), ints, floats, cats, child,
                        search,
                        _allowed_features(groups, node_groups, child, search.allowed),
                        rng,
                    )
                if found:
                    heap_size = _heap_push(
                        heap_gains, heap_ids, heap_size, floats[child, _GAIN], child)
                else:
                    free[n_free] = child_slot
                    n_free += 1
        free[n_free] = parent_slot
        n_free += 1
    # Slots of leaves still in the heap are simply dropped with the pool.
    nodes, leaf_nodes, leaf_starts, leaf_stops, leaf_lower, leaf_upper = _write_nodes(
        ints, floats, cats, n_nodes, bin_thresholds, l2)
    return (nodes, sample_indices, leaf_nodes, leaf_starts, leaf_stops, leaf_lower,
            leaf_upper)


@njit(nogil=True, cache=True)
def _write_nodes(ints, floats, cats, n_nodes, bin_thresholds, l2):
    """The node array, and each leaf's id, row slice and bounds (in id order).

    Every node's value is its Newton step clipped to its bounds. A
    categorical split keeps its left set in ``left_categories`` and 0 in
    ``bin_threshold`` and ``num_threshold`` (unused).
    """
    nodes = np.zeros(n_nodes, dtype=NODE_DTYPE)
    n_leaves = 0
    for i in range(n_nodes):
        n_leaves += ints[i, _LEFT] == 0
    leaf_nodes = np.empty(n_leaves, dtype=np.intp)
    leaf_starts = np.empty(n_leaves, dtype=np.intp)
    leaf_stops = np.empty(n_leaves, dtype=np.intp)
    leaf_lower = np.empty(n_leaves, dtype=np.float64)
    leaf_upper = np.empty(n_leaves, dtype=np.float64)
    j = 0
    for i in range(n_nodes):
        node = nodes[i]
        node["value"] = clipped_value(floats[i, _SUM_G], floats[i, _SUM_H], l2,
                                      floats[i, _LOWER], floats[i, _UPPER])
        node["count"] = ints[i, _STOP] - ints[i, _START]
        node["depth"] = ints[i, _DEPTH]
        left = ints[i, _LEFT]
        if left == 0:
            node["is_leaf"] = True
            leaf_nodes[j] = i
            leaf_starts[j] = ints[i, _START]
            leaf_stops[j] = ints[i, _STOP]
            leaf_lower[j] = floats[i, _LOWER]
            leaf_upper[j] = floats[i, _UPPER]
            j += 1
            continue
        feature = ints[i, _FEATURE]
        node["feature_idx"] = feature
        if ints[i, _CATEGORICAL]:
            node["is_categorical"] = 1
            for w in range(CATEGORY_WORDS):
                node["left_categories"][w] = cats[i, w]
        else:
            node["bin_threshold"] = ints[i, _BIN]
            node["num_threshold"] = bin_thresholds[feature, ints[i, _BIN]]
        node["missing_go_left"] = ints[i, _MISSING_LEFT]
        node["gain"] = floats[i, _GAIN]
        node["left"] = left
        node["right"] = left + 1
    return nodes, leaf_nodes, leaf_starts, leaf_stops, leaf_lower, leaf_upper


_MASK64 = (1 << 64) - 1


def _rng_state(seed) -> np.uint64:
    """The xorshift64 state of a tree's draws: splitmix64 of ``seed``.

    splitmix64's finalizer spreads nearby seeds (0, 1, 2, ...: one per tree)
    over unrelated states; it is computed on Python integers, as NumPy warns
    on the wrapping multiplications it needs. Never 0, xorshift's fixed point.
    """
    z = (int(seed) + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return np.uint64(z or 0x9E3779B97F4A7C15)


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
    is_categorical : ndarray of uint8, shape (n_features,), optional
        Categorical features: bin ``b`` is category code ``b`` (at most
        ``MAX_CATEGORIES`` bins), the missing bin the NaN category. Their
        splits send a set of categories left (the node's ``left_categories``
        bitset; ``bin_threshold`` and ``num_threshold`` are 0, unused). None:
        all numeric.
    monotonic_cst : ndarray of int8, shape (n_features,), optional
        +1 (-1): the tree's output must not decrease (increase) along the
        feature; 0: no constraint. Numeric features only. None: none.
    max_features : int, optional
        Features searched per node: a fresh random subset of this many of
        the features the node may use (interaction constraints), drawn
        without replacement. None: all.
    seed : int
        Seed of the ``max_features`` draws, in [0, 2**64): one per tree,
        from the caller. The tree depends on nothing else (not on threads).
    sample_indices : ndarray of uint32, optional
        The rows to grow the tree on (row subsampling); histograms, counts,
        values and the GrownTree's leaf slices cover these rows only, in
        this order (increasing order reads the columns fastest; a row listed
        twice counts twice). None: all.
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
        is_categorical=None,
        monotonic_cst=None,
        max_features=None,
        seed=0,
        sample_indices=None,
    ):
        n_samples, n_features = X_binned.shape
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
            interaction_groups = np.zeros((0, n_features), dtype=np.uint8)
        self.interaction_groups = interaction_groups
        self.is_categorical = _feature_flags(
            is_categorical, np.uint8, n_features, "is_categorical")
        self.monotonic_cst = _feature_flags(
            monotonic_cst, np.int8, n_features, "monotonic_cst")
        categorical = np.zeros(n_features, dtype=bool)
        if self.is_categorical.size:
            categorical = self.is_categorical != 0
        if np.any(categorical & (np.asarray(n_bins_non_missing) > MAX_CATEGORIES)):
            raise ValueError(
                f"A categorical feature has more than {MAX_CATEGORIES} bins.")
        if self.monotonic_cst.size:
            if not np.all(np.isin(self.monotonic_cst, (-1, 0, 1))):
                raise ValueError("monotonic_cst must hold -1, 0 or 1.")
            if np.any(self.monotonic_cst[categorical]):
                raise ValueError(
                    "Categorical features cannot have monotonic constraints.")
        if max_features is not None and not (
                isinstance(max_features, (int, np.integer)) and max_features >= 1):
            raise ValueError(
                f"max_features must be a positive integer, got {max_features!r}.")
        self.max_features = (
            _NO_LIMIT if max_features is None or max_features >= n_features
            else int(max_features)
        )
        if not 0 <= int(seed) < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}.")
        self.seed = seed
        if sample_indices is None:
            sample_indices = np.empty(0, dtype=np.uint32)
        else:
            sample_indices = np.asarray(sample_indices)
            if (sample_indices.dtype != np.uint32 or sample_indices.ndim != 1
                    or sample_indices.size == 0
                    or sample_indices.max() >= n_samples):
                raise ValueError(
                    "sample_indices must be a non-empty 1-D uint32 array of rows.")
        self.sample_indices = sample_indices

    def grow(self) -> GrownTree:
        """Grow the tree best-first and return it."""
        p = self.params
        rows = self.sample_indices
        if rows.size:
            sum_g = np.sum(self.gradients[rows])
            sum_h = np.sum(self.hessians[rows])
        else:
            sum_g = np.sum(self.gradients)
            sum_h = np.sum(self.hessians)
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
            float(sum_g),
            float(sum_h),
            self.n_threads,
            self.min_parallel_work,
            self.interaction_groups,
            self.is_categorical,
            self.monotonic_cst,
            self.max_features,
            _rng_state(self.seed),
            rows,
        ))


def _feature_flags(values, dtype, n_features, name):
    """``values`` as a per-feature array, or empty if None or all zero.

    Empty tells the kernels the feature is off, so that its code paths
    cost nothing.
    """
    if values is None:
        return np.zeros(0, dtype=dtype)
    values = np.asarray(values)
    if values.shape != (n_features,):
        raise ValueError(
            f"{name} must have shape ({n_features},), got {values.shape}.")
    if not np.any(values):
        return np.zeros(0, dtype=dtype)
    return np.ascontiguousarray(values, dtype=dtype)


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
