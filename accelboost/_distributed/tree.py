"""Growing one tree over shards: the driver's side.

The shards hold the rows; the driver holds the tree. Per round the driver
sends the splits to apply and the nodes whose histograms it needs, the
shards partition their rows and send back their histograms, and the driver
sums them in shard order, finds the next splits and decides the next round.
The tree is the one ``_engine.grower._grow_tree`` grows on all the rows:
the same helpers decide every step (``_find_split``, ``_can_split``,
``_set_children``, the heap), in the same order, so that the only
difference is the rounding of sums taken shard by shard.

Growth is best-first (leaf-wise), as in memory, but a round expands every
node that could be split next, not just the best one: with ``r`` splits
left, only the ``r`` best leaves in the heap can ever be popped (a child
found later can only push them back). Their rows are partitioned and the
smaller child's histogram built in one round, then the driver replays the
best-first order alone, searching the children's splits in the order the
in-memory grower does (which keeps the ``max_features`` draws identical),
until the best leaf is one not expanded yet. A 31-leaf tree then takes
about as many rounds as it is deep, instead of one per split; the price is
the partition and histogram of speculated nodes that stay leaves.

Nodes are known to the shards by handles, given in expansion order; the
final ids, given in the order nodes are popped, are only for the node
array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .._engine.common import CATEGORY_WORDS, HIST_COUNT
from .._engine.grower import (
    _BIN,
    _CATEGORICAL,
    _COUNT,
    _FEATURE,
    _GAIN,
    _LEFT,
    _MISSING_LEFT,
    _N_FLOAT,
    _N_INT,
    _NO_LIMIT,
    _allowed_features,
    _can_split,
    _find_split,
    _heap_pop,
    _heap_push,
    _inherit_groups,
    _rng_state,
    _Search,
    _set_children,
    _set_node,
    _write_nodes,
)
from .._engine.histogram import subtract_histograms
from .._engine.splitting import SplitConstraints

#: Columns of a round's split table (one row per split the shards apply).
SPLIT_HANDLE, SPLIT_FEATURE, SPLIT_BIN, SPLIT_MISSING_LEFT, SPLIT_CATEGORICAL = range(5)
SPLIT_LEFT = 5
N_SPLIT_COLUMNS = 6


@dataclass(frozen=True)
class TreeSpec:
    """What every tree of a fit shares: the bins and the growth constraints.

    Attributes
    ----------
    n_bins_non_missing : ndarray of uint32, shape (n_features,)
    missing_bin : int
    bin_thresholds : ndarray of float64, shape (n_features, max_bins)
    max_leaf_nodes, max_depth : int
        ``_NO_LIMIT`` (-1) for no limit.
    min_samples_leaf, min_hessian, min_gain, l2 : float
    groups : ndarray of uint8, shape (n_groups, n_features)
        Interaction constraints (no rows: none).
    is_categorical : ndarray of uint8
        Empty when no feature is categorical.
    monotonic_cst : ndarray of int8
        Empty when there is no constraint.
    max_features : int
        ``_NO_LIMIT`` to search every allowed feature.
    """

    n_bins_non_missing: np.ndarray
    missing_bin: int
    bin_thresholds: np.ndarray
    max_leaf_nodes: int
    max_depth: int
    min_samples_leaf: float
    min_hessian: float
    min_gain: float
    l2: float
    groups: np.ndarray
    is_categorical: np.ndarray
    monotonic_cst: np.ndarray
    max_features: int

    @classmethod
    def from_grower(cls, grower) -> TreeSpec:
        """The spec of a ``TreeGrower`` (which validated the options)."""
        p = grower.params
        return cls(
            n_bins_non_missing=np.asarray(grower.n_bins_non_missing, dtype=np.uint32),
            missing_bin=int(grower.missing_bin),
            bin_thresholds=grower.bin_thresholds,
            max_leaf_nodes=_NO_LIMIT if p.max_leaf_nodes is None else p.max_leaf_nodes,
            max_depth=_NO_LIMIT if p.max_depth is None else p.max_depth,
            min_samples_leaf=float(p.min_samples_leaf),
            min_hessian=float(p.min_hessian_to_split),
            min_gain=float(p.min_gain_to_split),
            l2=float(p.l2_regularization),
            groups=grower.interaction_groups,
            is_categorical=grower.is_categorical,
            monotonic_cst=grower.monotonic_cst,
            max_features=grower.max_features,
        )


@dataclass
class Round:
    """One round's request to every shard.

    Attributes
    ----------
    splits : ndarray of int64, shape (n_splits, N_SPLIT_COLUMNS)
        Node handle, feature, bin, missing-go-left, categorical flag and the
        left child's handle (the right child's is the next one).
    categories : ndarray of uint64, shape (n_splits, CATEGORY_WORDS)
        Left-category bitsets of categorical splits.
    builds : ndarray of int64, shape (n_builds,)
        Handles of the nodes whose histograms the shards return, after the
        splits are applied.
    """

    splits: np.ndarray
    categories: np.ndarray
    builds: np.ndarray


@dataclass
class FinishedTree:
    """A grown tree: its node array and, per leaf, the shards' handle.

    ``leaf_handles[j]`` holds the rows of ``leaf_nodes[j]`` on every shard;
    ``leaf_lower[j]`` and ``leaf_upper[j]`` bound its value (monotonic
    constraints), as in ``GrownTree``.
    """

    nodes: np.ndarray
    leaf_nodes: np.ndarray
    leaf_handles: np.ndarray
    leaf_lower: np.ndarray
    leaf_upper: np.ndarray


@njit(nogil=True, cache=True)
def left_count(hist, ints, cats, node, missing_bin):
    """Rows that go left at the node's split, read off its histogram's counts.

    Counts are sums of ones, exact in float64, so this is the number the
    shards' partitions add up to.
    """
    counts = hist[ints[node, _FEATURE], :, HIST_COUNT]
    categorical = ints[node, _CATEGORICAL] != 0
    threshold = ints[node, _BIN]
    total = 0.0
    for b in range(missing_bin):
        if categorical:
            goes_left = (cats[node, b >> 6] >> np.uint64(b & 63)) & np.uint64(1)
        else:
            goes_left = b <= threshold
        if goes_left:
            total += counts[b]
    if ints[node, _MISSING_LEFT]:
        total += counts[missing_bin]
    return np.int64(total)


@njit(nogil=True, cache=True)
def _search_node(hist, ints, floats, cats, node, node_groups, is_root,
                 n_bins_non_missing, missing_bin, l2, min_samples_leaf, min_hessian,
                 min_gain, groups, is_categorical, monotonic_cst, max_features,
                 allowed, pool, drawn, rng):
    """``_find_split`` for one node, as ``_grow_tree`` calls it (compiled, so
    that the search's record is typed once per call, not per Python call)."""
    search = _Search(
        n_bins_non_missing, missing_bin,
        SplitConstraints(l2, min_samples_leaf, min_hessian), min_gain,
        is_categorical, monotonic_cst, groups, max_features, allowed, pool, drawn,
    )
    if is_root:
        features = np.ones(allowed.shape[0], dtype=np.uint8)
    else:
        features = _allowed_features(groups, node_groups, node, allowed)
    return _find_split(hist, ints, floats, cats, node, search, features, rng)


@njit(nogil=True, cache=True)
def _expand(hist, ints, floats, cats, node_groups, node, left, missing_bin,
            monotonic_cst, l2, groups):
    """Give ``node``'s children (handles ``left``, ``left + 1``) their rows,
    sums, bounds and groups, as the in-memory grower does when it pops it."""
    n_left = left_count(hist, ints, cats, node, missing_bin)
    _set_children(ints, floats, node, n_left, left, left + 1, monotonic_cst, l2)
    _inherit_groups(groups, node_groups, node, ints[node, _FEATURE],
                    (left, left + 1))
    return n_left


def _grown(array, needed):
    """``array`` with at least ``needed`` rows (doubling), contents kept."""
    if needed <= array.shape[0]:
        return array
    bigger = np.zeros((max(needed, 2 * array.shape[0]),) + array.shape[1:],
                      dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


class TreeDriver:
    """Grows one tree from the histograms the shards send.

    Parameters
    ----------
    spec : TreeSpec
    seed : int
        The tree's seed (``max_features`` draws), as ``TreeGrower`` takes it.
    sums : ndarray of shape (3,)
        The root's gradient sum, hessian sum and row count over all shards.
    root_histogram : ndarray of shape (n_features, n_bins, 3)
        The root's histogram, summed over the shards.

    Use ``next_round`` until it returns None, passing each round's summed
    histograms to ``receive``; then ``finish`` gives the tree.
    """

    def __init__(self, spec: TreeSpec, seed: int, sums: np.ndarray,
                 root_histogram: np.ndarray):
        self.spec = spec
        self.rng = _rng_state(seed)
        n_features = root_histogram.shape[0]
        capacity = 64
        self.ints = np.zeros((capacity, _N_INT), dtype=np.int64)
        self.floats = np.zeros((capacity, _N_FLOAT), dtype=np.float64)
        self.cats = np.zeros((capacity, CATEGORY_WORDS), dtype=np.uint64)
        self.node_groups = np.ones((capacity, spec.groups.shape[0]), dtype=np.uint8)
        self.heap_gains = np.empty(capacity, dtype=np.float64)
        self.heap_ids = np.empty(capacity, dtype=np.int64)
        self.heap_size = 0
        self._allowed = np.ones(n_features, dtype=np.uint8)
        self._pool = np.empty(n_features, dtype=np.int64)
        self._drawn = np.empty(n_features, dtype=np.uint8)
        # Per handle: its histogram (while needed), its children's handle
        # once expanded (0: not), and its final id once created (-1: none).
        self.histograms = {}
        self.children = np.zeros(capacity, dtype=np.int64)
        self.final_id = np.full(capacity, -1, dtype=np.int64)
        self.handle_of = [0]  # final id -> handle
        self.split = np.zeros(capacity, dtype=bool)
        self.n_handles = 1
        self.n_leaves = 1
        self.rounds = 0
        #: n_left per split of the round in flight, to check the shards' own.
        self._expected_left = np.zeros(0, dtype=np.int64)
        root = np.int64(0)
        _set_node(self.ints, self.floats, root, root, np.int64(sums[2]), root,
                  float(sums[0]), float(sums[1]), -np.inf, np.inf)
        self.final_id[0] = 0
        if self._can_split(0):
            self.histograms[0] = root_histogram
            self._search(0, is_root=True)

    # -- helpers ------------------------------------------------------------
    def _can_split(self, handle):
        s = self.spec
        return _can_split(self.ints, self.floats, np.int64(handle), s.max_depth,
                          s.min_samples_leaf, s.min_hessian)

    def _search(self, handle, is_root=False):
        """Search the node's split and push it if one beats ``min_gain``."""
        s = self.spec
        found, rng = _search_node(
            self.histograms[handle], self.ints, self.floats, self.cats,
            np.int64(handle), self.node_groups, is_root, s.n_bins_non_missing,
            s.missing_bin, s.l2, s.min_samples_leaf, s.min_hessian, s.min_gain,
            s.groups, s.is_categorical, s.monotonic_cst, s.max_features,
            self._allowed, self._pool, self._drawn, self.rng,
        )
        self.rng = np.uint64(rng)  # returned as a Python int
        if found:
            self.heap_size = _heap_push(
                self.heap_gains, self.heap_ids, self.heap_size,
                self.floats[handle, _GAIN], self.final_id[handle])
        else:
            del self.histograms[handle]

    def _reserve(self, n_new):
        needed = self.n_handles + n_new
        for name in ("ints", "floats", "cats", "node_groups", "heap_gains",
                     "heap_ids", "children", "split"):
            setattr(self, name, _grown(getattr(self, name), needed))
        if self.final_id.shape[0] < needed:
            grown = np.full(max(needed, 2 * self.final_id.shape[0]), -1, np.int64)
            grown[: self.final_id.shape[0]] = self.final_id
            self.final_id = grown

    def _splits_left(self):
        limit = self.spec.max_leaf_nodes
        return None if limit == _NO_LIMIT else limit - self.n_leaves

    # -- the protocol ---------------------------------------------------------
    def next_round(self) -> Round | None:
        """Replay best-first as far as the built histograms go; then the next
        round's request, or None when the tree is complete."""
        while self.heap_size > 0:
            left = self._splits_left()
            if left is not None and left <= 0:
                break
            handle = self.handle_of[self.heap_ids[0]]
            if not self.children[handle]:
                return self._speculate(left)
            self._pop()
        return None

    def _speculate(self, left):
        """Expand the heap's best ``left`` leaves (all without a limit)."""
        size = self.heap_size
        order = np.lexsort((self.heap_ids[:size], -self.heap_gains[:size]))
        if left is not None:
            order = order[:left]
        nodes = [self.handle_of[i] for i in self.heap_ids[order]]
        nodes = [h for h in nodes if not self.children[h]]
        self._reserve(2 * len(nodes))
        s = self.spec
        splits = np.empty((len(nodes), N_SPLIT_COLUMNS), dtype=np.int64)
        categories = np.empty((len(nodes), CATEGORY_WORDS), dtype=np.uint64)
        expected = np.empty(len(nodes), dtype=np.int64)
        builds = []
        for i, node in enumerate(nodes):
            child = self.n_handles
            self.n_handles += 2
            self.children[node] = child
            expected[i] = _expand(
                self.histograms[node], self.ints, self.floats, self.cats,
                self.node_groups, np.int64(node), np.int64(child), s.missing_bin,
                s.monotonic_cst, s.l2, s.groups)
            row = self.ints[node]
            splits[i] = (node, row[_FEATURE], row[_BIN], row[_MISSING_LEFT],
                         row[_CATEGORICAL], child)
            categories[i] = self.cats[node]
            if self._can_split(child) or self._can_split(child + 1):
                builds.append(self._smaller(child))
        self._expected_left = expected
        self._pending = builds
        self.rounds += 1
        return Round(splits, categories, np.array(builds, dtype=np.int64))

    def _smaller(self, left):
        """The child whose histogram is built (the right one only if it has
        strictly fewer rows, as in memory)."""
        return left + 1 if self.floats[left + 1, _COUNT] < self.floats[left, _COUNT] \
            else left

    def receive(self, histograms: np.ndarray, n_left: np.ndarray) -> None:
        """The round's histograms (summed over shards, in ``builds`` order)
        and the rows each split sent left (summed over shards)."""
        if not np.array_equal(n_left, self._expected_left):
            raise RuntimeError(
                "The shards' partitions disagree with the histograms' counts: "
                f"{n_left.tolist()} rows went left, expected "
                f"{self._expected_left.tolist()}. A shard lost or changed its rows."
            )
        for handle, hist in zip(self._pending, histograms, strict=True):
            self.histograms[int(handle)] = hist

    def _pop(self):
        """Split the best leaf, exactly as ``_grow_tree``'s loop does."""
        s = self.spec
        final, self.heap_size = _heap_pop(self.heap_gains, self.heap_ids,
                                          self.heap_size)
        node = self.handle_of[final]
        left = int(self.children[node])
        right = left + 1
        for child in (left, right):
            self.final_id[child] = len(self.handle_of)
            self.handle_of.append(child)
        self.split[node] = True
        self.n_leaves += 1
        last = s.max_leaf_nodes != _NO_LIMIT and self.n_leaves >= s.max_leaf_nodes
        splittable = [not last and self._can_split(c) for c in (left, right)]
        if any(splittable):
            small = self._smaller(left)
            large = right if small == left else left
            parent = self.histograms[node]
            sibling = np.empty_like(parent)
            subtract_histograms(parent, self.histograms[small], sibling)
            self.histograms[large] = sibling
            for child, can in zip((left, right), splittable, strict=True):
                if can:
                    self._search(child)
                else:
                    del self.histograms[child]
        self.histograms.pop(node, None)

    def finish(self) -> FinishedTree:
        """The node array (ids in pop order) and each leaf's handle."""
        handles = np.array(self.handle_of, dtype=np.int64)
        ints = self.ints[handles].copy()
        # Expanded nodes that were never popped are leaves.
        lefts = self.children[handles]
        ints[:, _LEFT] = np.where(self.split[handles], self.final_id[lefts], 0)
        nodes, leaf_nodes, _, _, lower, upper = _write_nodes(
            ints, self.floats[handles], self.cats[handles], np.int64(len(handles)),
            self.spec.bin_thresholds, self.spec.l2)
        return FinishedTree(nodes, leaf_nodes, handles[leaf_nodes], lower, upper)


def ordered_sum(arrays):
    """The sum of the shards' arrays, added in shard order (never in the
    order they arrive), so that a result does not depend on timing."""
    total = np.array(arrays[0], dtype=np.float64, copy=True)
    for array in arrays[1:]:
        total += array
    return total


def grow_tree(spec: TreeSpec, seed: int, begins: list, exchange) -> tuple:
    """Grow one tree from the shards' replies.

    Parameters
    ----------
    spec : TreeSpec
        The fit's tree options.
    seed : int
        The tree's seed, as ``TreeGrower`` takes it.
    begins : list of (sums, histogram)
        Each shard's ``TreeRows.begin`` reply, in shard order.
    exchange : callable
        ``exchange(round)`` sends a :class:`Round` to every shard and returns
        their ``TreeRows.round`` replies, in shard order.

    Returns
    -------
    tree : FinishedTree
    rounds : int
        Round trips after the root's.
    """
    driver = TreeDriver(spec, seed, ordered_sum([b[0] for b in begins]),
                        ordered_sum([b[1] for b in begins]))
    while (request := driver.next_round()) is not None:
        replies = exchange(request)
        driver.receive(ordered_sum([r[0] for r in replies]),
                       ordered_sum([r[1] for r in replies]).astype(np.int64))
    return driver.finish(), driver.rounds
