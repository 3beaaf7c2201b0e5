"""TreeGrower: leaf values, row sets, constraints, tree validity, determinism,
and the same trees as the plain-NumPy reference grower."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from reference_grower import grow_reference

from accelboost._engine.common import NODE_DTYPE
from accelboost._engine.grower import (
    TreeGrower,
    TreeParams,
    interaction_groups_matrix,
)
from accelboost._threads import numba_threads

pytestmark = pytest.mark.usefixtures("single_thread")


def gradients_for(X, seed):
    """Gradients with structure in X (so trees have real splits) and noise."""
    rng = np.random.RandomState(seed)
    x0 = np.nan_to_num(X[:, 0], nan=2.0)
    x1 = np.nan_to_num(X[:, 1], nan=-1.0)
    noise = 0.5 * rng.normal(size=len(X))
    g = np.where(x0 > 0.3, 1.0, -1.0) + 0.8 * np.sign(x1) + noise
    h = rng.uniform(0.5, 1.5, size=len(X))
    return g, h


def grow(data, g, h, params, constant=False, n_threads=1, **thresholds):
    X, mapper, X_binned, padded = data
    grower = TreeGrower(
        X_binned,
        g,
        h,
        mapper.n_bins_non_missing_,
        mapper.missing_bin_,
        padded,
        params,
        hessians_are_constant=constant,
        n_threads=n_threads,
        **thresholds,
    )
    return grower.grow()


def leaf_rows(tree):
    """Map leaf node index -> its training rows (sorted)."""
    return {
        int(node): np.sort(tree.sample_indices[start:stop])
        for node, start, stop in zip(
            tree.leaf_nodes, tree.leaf_starts, tree.leaf_stops, strict=True
        )
    }


def node_goes_left(node, column, missing_bin):
    """Which of the binned values ``column`` the inner ``node`` sends left."""
    column = np.asarray(column, dtype=np.int64)
    if node["is_categorical"]:
        words = node["left_categories"].astype(np.uint64)
        in_range = column < 64 * len(words)
        code = np.where(in_range, column, 0)
        bits = (words[code >> 6] >> (code & 63).astype(np.uint64)) & np.uint64(1)
        goes = in_range & (bits == 1)
    else:
        goes = column <= node["bin_threshold"]
    return np.where(column == missing_bin, bool(node["missing_go_left"]), goes)


def leaves_of(nodes, X_binned, missing_bin):
    """The leaf every binned row reaches (children have larger ids)."""
    at = np.zeros(X_binned.shape[0], dtype=np.int64)
    for i in np.flatnonzero(~nodes["is_leaf"].astype(bool)):
        here = np.flatnonzero(at == i)
        node = nodes[i]
        left = node_goes_left(node, X_binned[here, node["feature_idx"]], missing_bin)
        at[here] = np.where(left, node["left"], node["right"])
    return at


def subtree_rows(nodes, leaves, i):
    """Rows of node ``i``: the union of the rows of the leaves below it."""
    if nodes[i]["is_leaf"]:
        return leaves[i]
    return np.concatenate(
        [
            subtree_rows(nodes, leaves, int(nodes[i]["left"])),
            subtree_rows(nodes, leaves, int(nodes[i]["right"])),
        ]
    )


PARAMS = [
    TreeParams(max_leaf_nodes=31, min_samples_leaf=5),
    TreeParams(max_leaf_nodes=6, min_samples_leaf=30, l2_regularization=2.0),
    TreeParams(max_leaf_nodes=None, max_depth=3, min_samples_leaf=1),
    TreeParams(max_leaf_nodes=20, max_depth=2, min_samples_leaf=10),
    TreeParams(
        max_leaf_nodes=31,
        min_samples_leaf=2,
        min_hessian_to_split=15.0,
        l2_regularization=0.5,
    ),
]


@pytest.fixture(params=range(2))
def data(request, make_binned_data):
    return make_binned_data(request.param)


@pytest.mark.parametrize("params", PARAMS)
def test_leaf_rows_partition_all_rows_and_values_are_newton_steps(params, data):
    g, h = gradients_for(data[0], 0)
    tree = grow(data, g, h, params)
    nodes = tree.nodes
    n = len(g)
    leaves = leaf_rows(tree)
    assert len(leaves) >= 2, "the data has structure: the tree must split"
    # Every row is in exactly one leaf.
    assert_array_equal(np.sort(np.concatenate(list(leaves.values()))), np.arange(n))
    assert_array_equal(np.sort(tree.sample_indices), np.arange(n))
    assert set(leaves) == set(np.flatnonzero(nodes["is_leaf"]))
    l2 = params.l2_regularization
    scale = np.abs(g).sum()
    for i in range(len(nodes)):
        rows = subtree_rows(nodes, leaves, i)
        assert nodes[i]["count"] == len(rows)
        # Leaf (and inner node) value: -G / (H + l2) over the node's rows.
        expected = -g[rows].sum() / (h[rows].sum() + l2)
        assert_allclose(nodes[i]["value"], expected, rtol=1e-9, atol=1e-12 * scale)
    # training_output writes each leaf's value at its rows.
    out = tree.training_output(np.full(n, np.nan))
    for leaf, rows in leaves.items():
        assert_array_equal(out[rows], nodes[leaf]["value"])


@pytest.mark.parametrize("params", PARAMS)
def test_constraints_hold(params, data):
    g, h = gradients_for(data[0], 1)
    tree = grow(data, g, h, params)
    nodes = tree.nodes
    leaves = leaf_rows(tree)
    is_leaf = nodes["is_leaf"].astype(bool)
    assert np.all(nodes["count"][is_leaf] >= params.min_samples_leaf)
    for rows in leaves.values():
        assert h[rows].sum() >= params.min_hessian_to_split
    if params.max_leaf_nodes is not None:
        assert is_leaf.sum() <= params.max_leaf_nodes
    if params.max_depth is not None:
        assert nodes["depth"].max() <= params.max_depth
    assert np.all(nodes["gain"][~is_leaf] > params.min_gain_to_split)


@pytest.mark.parametrize("params", PARAMS)
def test_node_array_is_a_valid_tree(params, data, walk_tree):
    X, mapper, X_binned, _ = data
    g, h = gradients_for(X, 2)
    tree = grow(data, g, h, params)
    nodes = tree.nodes
    assert nodes.dtype == NODE_DTYPE
    n_nodes = len(nodes)
    is_leaf = nodes["is_leaf"].astype(bool)
    # A binary tree: n_nodes = 2 * n_leaves - 1, every node but the root is
    # the child of exactly one inner node, one level deeper.
    assert n_nodes == 2 * is_leaf.sum() - 1
    assert nodes[0]["depth"] == 0
    assert nodes[0]["count"] == len(g)
    children = np.concatenate([nodes["left"][~is_leaf], nodes["right"][~is_leaf]])
    assert_array_equal(np.sort(children), np.arange(1, n_nodes))
    for i in np.flatnonzero(~is_leaf):
        node = nodes[i]
        left, right = nodes[node["left"]], nodes[node["right"]]
        assert left["depth"] == right["depth"] == node["depth"] + 1
        assert left["count"] + right["count"] == node["count"]
        assert left["count"] > 0 and right["count"] > 0
        feature = node["feature_idx"]
        assert feature < X.shape[1]
        bin_ = node["bin_threshold"]
        assert bin_ < mapper.n_bins_non_missing_[feature]
        # The raw threshold is the bin's upper edge (+inf for the last bin).
        t = mapper.bin_thresholds_[feature]
        assert node["num_threshold"] == (t[bin_] if bin_ < len(t) else np.inf)
    assert np.all(nodes["left"][is_leaf] == 0)
    assert np.all(nodes["right"][is_leaf] == 0)
    # The node array routes every training row to the leaf that holds it,
    # on binned and on raw values.
    leaves = leaf_rows(tree)
    for leaf, rows in leaves.items():
        for r in rows:
            assert walk_tree(nodes, X_binned[r], True, mapper.missing_bin_) == leaf
            assert walk_tree(nodes, X[r], False) == leaf


@pytest.mark.parametrize("l2", [0.0, 3.0])
@pytest.mark.parametrize("min_samples_leaf", [1, 40])
def test_two_leaf_tree_is_the_brute_force_best_split(
    l2, min_samples_leaf, data, brute_force_splits, goes_left
):
    X, mapper, X_binned, _ = data
    g, h = gradients_for(X, 3)
    params = TreeParams(
        max_leaf_nodes=2, min_samples_leaf=min_samples_leaf, l2_regularization=l2
    )
    nodes = grow(data, g, h, params).nodes
    assert len(nodes) == 3
    rows = np.arange(len(g))
    candidates = brute_force_splits(
        X_binned,
        rows,
        g,
        h,
        mapper.n_bins_non_missing_,
        mapper.missing_bin_,
        l2,
        min_samples_leaf,
        params.min_hessian_to_split,
    )
    best = max(candidates, key=lambda c: c.gain)
    root = nodes[0]
    assert root["feature_idx"] == best.feature
    assert_allclose(root["gain"], best.gain, rtol=1e-9)
    left = goes_left(
        X_binned[:, root["feature_idx"]],
        root["bin_threshold"],
        root["missing_go_left"],
        mapper.missing_bin_,
    )
    best_left = goes_left(
        X_binned[:, best.feature], best.bin, best.missing_go_left, mapper.missing_bin_
    )
    assert np.array_equal(left, best_left) or np.array_equal(left, ~best_left)
    assert nodes[root["left"]]["count"] == left.sum()
    assert_allclose(
        nodes[root["left"]]["value"],
        -g[left].sum() / (h[left].sum() + l2),
        rtol=1e-9,
    )


def test_growth_is_best_first(data):
    # A tree with k leaves is the first k - 1 splits of a larger tree: node
    # ids are given in split order, so the small tree is a prefix of the big.
    g, h = gradients_for(data[0], 4)
    big = grow(data, g, h, TreeParams(max_leaf_nodes=12, min_samples_leaf=5)).nodes
    assert len(big) == 23
    fields = ["value", "count", "depth"]
    split_fields = ["feature_idx", "bin_threshold", "missing_go_left", "gain"]
    for k in (2, 3, 5, 8):
        small = grow(data, g, h, TreeParams(max_leaf_nodes=k, min_samples_leaf=5)).nodes
        assert len(small) == 2 * k - 1
        for name in fields:
            assert_array_equal(small[name], big[name][: len(small)])
        inner = ~small["is_leaf"].astype(bool)
        for name in split_fields + ["left", "right"]:
            assert_array_equal(small[name][inner], big[name][: len(small)][inner])
        # The leaf split next in the big tree has the largest gain among the
        # small tree's leaves that the big tree splits at all.
        nxt = (len(small) - 1) // 2  # index of the next split among inner nodes
        split_order = np.flatnonzero(~big["is_leaf"].astype(bool))
        split_order = split_order[np.argsort(big["left"][split_order])]
        next_node = split_order[nxt]
        frontier = [i for i in np.flatnonzero(~inner) if not big[i]["is_leaf"]]
        assert next_node in frontier
        assert big[next_node]["gain"] == max(big[i]["gain"] for i in frontier)


def test_limits_are_reached_on_structured_data(data):
    # The constraint tests mean something only if the limits bind here.
    g, h = gradients_for(data[0], 5)
    nodes = grow(data, g, h, TreeParams(max_leaf_nodes=7, min_samples_leaf=5)).nodes
    assert nodes["is_leaf"].sum() == 7
    nodes = grow(
        data, g, h, TreeParams(max_leaf_nodes=None, max_depth=2, min_samples_leaf=5)
    ).nodes
    assert nodes["depth"].max() == 2
    nodes = grow(data, g, h, TreeParams(max_leaf_nodes=None, min_samples_leaf=60)).nodes
    leaf_counts = nodes["count"][nodes["is_leaf"].astype(bool)]
    assert leaf_counts.min() >= 60
    assert leaf_counts.min() < 120  # some leaf could not be split further


def test_stopping_conditions_give_a_single_leaf(data):
    g, h = gradients_for(data[0], 6)
    single = [
        TreeParams(max_depth=0),
        TreeParams(max_leaf_nodes=1),
        TreeParams(min_gain_to_split=1e12),
        TreeParams(min_samples_leaf=len(g) // 2 + 1),
        TreeParams(min_hessian_to_split=h.sum()),
    ]
    for params in single:
        nodes = grow(data, g, h, params).nodes
        assert len(nodes) == 1, params
        assert nodes[0]["is_leaf"]
        assert_allclose(nodes[0]["value"], -g.sum() / h.sum(), rtol=1e-12)


def test_min_gain_to_split_prunes_weak_splits(data):
    g, h = gradients_for(data[0], 7)
    full = grow(data, g, h, TreeParams(max_leaf_nodes=31, min_samples_leaf=5)).nodes
    gains = np.sort(full["gain"][~full["is_leaf"].astype(bool)])
    threshold = float(np.median(gains))
    pruned = grow(
        data,
        g,
        h,
        TreeParams(max_leaf_nodes=31, min_samples_leaf=5, min_gain_to_split=threshold),
    ).nodes
    inner = ~pruned["is_leaf"].astype(bool)
    assert np.all(pruned["gain"][inner] > threshold)
    assert inner.sum() < (~full["is_leaf"].astype(bool)).sum()


def test_constant_hessian_path_gives_the_same_tree(data):
    g, _ = gradients_for(data[0], 8)
    h = np.full(len(g), 0.75)
    params = TreeParams(max_leaf_nodes=15, min_samples_leaf=5)
    general = grow(data, g, h, params, constant=False)
    constant = grow(data, g, h, params, constant=True)
    for name in [
        "feature_idx",
        "bin_threshold",
        "missing_go_left",
        "left",
        "right",
        "count",
        "depth",
        "is_leaf",
    ]:
        assert_array_equal(constant.nodes[name], general.nodes[name])
    assert_allclose(constant.nodes["value"], general.nodes["value"], rtol=1e-12)
    assert_allclose(constant.nodes["gain"], general.nodes["gain"], rtol=1e-10)


@pytest.mark.parametrize("constant", [False, True])
@pytest.mark.parametrize("params", PARAMS[:2])
def test_thread_count_does_not_change_the_tree(params, constant, make_binned_data):
    # 6,000 rows reach the histogram lanes (from 4,096 rows); a threshold of
    # 0 runs every gather and histogram as a parallel region.
    data = make_binned_data(3, n_samples=6000, n_features=6)
    g, h = gradients_for(data[0], 9)
    trees = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            trees.append(grow(data, g, h, params, constant, n_threads=n_threads,
                              min_parallel_work=0))
    trees.append(grow(data, g, h, params, constant))  # default thresholds
    one = trees[0]
    assert len(one.nodes) > 3
    for other in trees[1:]:
        assert_array_equal(one.nodes, other.nodes)
        assert_array_equal(one.sample_indices, other.sample_indices)
        assert_array_equal(one.leaf_nodes, other.leaf_nodes)
        assert_array_equal(one.leaf_starts, other.leaf_starts)


def test_inputs_are_not_modified(data):
    X, mapper, X_binned, padded = data
    g, h = gradients_for(X, 10)
    copies = [a.copy() for a in (X_binned, g, h, padded)]
    grow(data, g, h, TreeParams(max_leaf_nodes=8, min_samples_leaf=5))
    for before, after in zip(copies, (X_binned, g, h, padded), strict=True):
        assert_array_equal(before, after)


# -- against the plain-NumPy reference ------------------------------------
# (values, probabilities): deep trees with small leaves are the more likely,
# as small nodes are where constraints and ties bite.
MAX_LEAF_NODES = ([None, 2, 3, 7, 31], [0.35, 0.1, 0.1, 0.15, 0.3])
MAX_DEPTH = ([None, 1, 2, 4], [0.5, 0.1, 0.15, 0.25])
MIN_SAMPLES_LEAF = ([1, 5, 20], [0.5, 0.25, 0.25])
MIN_HESSIAN_TO_SPLIT = ([0.0, 1e-3, 1.0], [0.25, 0.25, 0.5])
MIN_GAIN_TO_SPLIT = ([0.0, 0.5], [0.7, 0.3])
L2_REGULARIZATION = ([0.0, 1.0], None)


def _draw(rng, choices):
    values, p = choices
    return values[rng.choice(len(values), p=p)]


def random_groups(rng, n_features):
    """Random interaction groups, overlapping or not, that cover every feature."""
    groups = [
        set(rng.choice(n_features, min(n_features, rng.randint(1, 3)),
                       replace=False).tolist())
        for _ in range(rng.randint(1, 4))
    ]
    rest = set(range(n_features)) - set().union(*groups)
    if rest:
        groups.append(rest)
    return groups


def random_problem(seed, make_binned_data):
    """Random binned data, gradients, hessians and growth constraints.

    Returns ``(args, params, constant, exact)`` where ``args`` are the first
    six arguments of ``TreeGrower`` and ``constant`` says the hessians are
    constant (grown with ``hessians_are_constant=True``).

    Gradients are continuous (no exact ties) or multiples of 1/4 (many ties:
    pure nodes, equal sums on different splits, sides of exactly
    ``min_hessian_to_split``). The latter come only with hessians that are
    multiples of 1/4 too: then every sum is exact whatever the summation
    order (``exact`` is true), the package and the reference compute
    bit-identical gains and must break ties the same way. Some of these
    problems are twins: the rows again with negated gradients, told apart by
    one more feature; the root splits on it and the two subtrees then tie
    gain for gain, so their growth order rests on the node ids. Some problems
    repeat feature 0 as the last feature, a tie between features that is
    exact whatever the arithmetic.
    """
    rng = np.random.RandomState(seed)
    n_samples = int(np.exp(rng.uniform(np.log(50), np.log(2000))))
    n_features = rng.randint(1, 7)
    nan_fraction = [0.0, 0.2][rng.randint(2)]
    max_bins = [3, 8, 64][rng.randint(3)]
    _, mapper, X_binned, thresholds = make_binned_data(
        seed, n_samples, n_features, nan_fraction, max_bins
    )
    n_bins = mapper.n_bins_non_missing_
    missing_bin = mapper.missing_bin_
    if n_features > 1 and rng.rand() < 0.3:
        X_binned = np.column_stack([X_binned, X_binned[:, 0]])
        thresholds = np.vstack([thresholds, thresholds[:1]])
        n_bins = np.append(n_bins, n_bins[0])

    # A step function of every feature (missing values get their own level)
    # so that trees have real splits, plus noise.
    signal = np.zeros(n_samples)
    for f in range(X_binned.shape[1]):
        column = X_binned[:, f]
        step = rng.normal() * (column <= rng.randint(n_bins[f]))
        signal += np.where(column == missing_bin, rng.normal(), step)
    noisy = signal + rng.normal(size=n_samples)
    kind = ["continuous", "quarters", "binary"][rng.randint(3)]
    exact = kind != "continuous"
    if kind == "continuous":
        g = noisy
        hessians = ["constant", "weights", "uniform"][rng.randint(3)]
    else:
        if kind == "quarters":
            g = np.clip(np.round(4 * noisy) / 4, -4, 4)
        else:  # logistic-like: two values
            g = np.where(rng.rand(n_samples) < 1 / (1 + np.exp(-signal)), -1.0, 1.0)
        hessians = ["constant", "weights"][rng.randint(2)]
    if hessians == "constant":
        h = np.full(n_samples, [0.25, 0.5, 0.3][rng.randint(3 if not exact else 2)])
    elif hessians == "weights":  # integer sample weights scaling g and h
        h = rng.randint(1, 5, size=n_samples) * 0.25
        g = g * h
    else:
        h = rng.uniform(0.05, 2.0, size=n_samples)
        g = g * h
    if exact and rng.rand() < 0.3:
        g = g + 2 * h  # the root split on the twin feature gains the most
        twin = np.repeat(np.array([0, 1], dtype=X_binned.dtype), n_samples)
        X_binned = np.column_stack([np.vstack([X_binned, X_binned]), twin])
        thresholds = np.vstack([thresholds, np.full(thresholds.shape[1], np.inf)])
        thresholds[-1, 0] = 0.5
        n_bins = np.append(n_bins, 2)
        g, h = np.concatenate([g, -g]), np.concatenate([h, h])
    params = TreeParams(
        max_leaf_nodes=_draw(rng, MAX_LEAF_NODES),
        max_depth=_draw(rng, MAX_DEPTH),
        min_samples_leaf=int(_draw(rng, MIN_SAMPLES_LEAF)),
        min_hessian_to_split=float(_draw(rng, MIN_HESSIAN_TO_SPLIT)),
        min_gain_to_split=float(_draw(rng, MIN_GAIN_TO_SPLIT)),
        l2_regularization=float(_draw(rng, L2_REGULARIZATION)),
    )
    X_binned = np.asfortranarray(X_binned)
    args = (X_binned, g, h, n_bins.astype(np.uint32), missing_bin, thresholds)
    return args, params, hessians == "constant", exact


def assert_same_tree(tree, expected, expected_rows, X_binned, missing_bin, exact):
    """Compare a grown tree with the reference's nodes and rows of each node.

    Nodes are matched by their rows. With exact sums (``exact``) they must
    have the same ids and the same fields, floats up to rounding. Otherwise,
    splits of equal gain in exact arithmetic are decided by rounding, which
    differs between the package (sibling histograms by subtraction) and the
    reference; such splits separate the node's rows the same way (two
    thresholds with only empty bins between them, two features) or the
    mirror way (left and right swapped). For them only the row partition
    must agree, and the children's ids may be swapped. A tie between
    duplicated features is exact in any arithmetic and is always checked.

    Returns the number of rounding-decided splits.
    """
    nodes = tree.nodes
    assert nodes.dtype == NODE_DTYPE
    assert len(nodes) == len(expected)
    is_leaf = nodes["is_leaf"].astype(bool)
    leaves = leaf_rows(tree)
    assert set(leaves) == set(np.flatnonzero(is_leaf))
    # Rows of every node, children first (they have larger ids).
    rows = [None] * len(nodes)
    for i in reversed(range(len(nodes))):
        node = nodes[i]
        if is_leaf[i]:
            rows[i] = leaves[i].astype(np.int64)
            continue
        rows[i] = np.sort(np.concatenate([rows[node["left"]], rows[node["right"]]]))
        # The node's fields send its left child's rows left.
        left = node_goes_left(node, X_binned[rows[i], node["feature_idx"]], missing_bin)
        assert_array_equal(rows[i][left], rows[node["left"]])

    # match[i]: the package's node with the rows of the reference's node i.
    where = {r.tobytes(): j for j, r in enumerate(rows)}
    match = np.array([where.get(r.tobytes(), -1) for r in expected_rows])
    ids = np.arange(len(nodes))
    sibling = np.where(ids % 2 == 1, ids + 1, ids - 1)
    sibling[0] = 0
    if exact:
        assert_array_equal(match, ids)
    else:
        assert np.all((match == ids) | (match == sibling)), match
    matched = nodes[match]
    for name in ["is_leaf", "count", "depth"]:
        assert_array_equal(matched[name], expected[name], err_msg=name)
    assert_allclose(matched["value"], expected["value"], rtol=1e-9, atol=1e-10)
    gain_atol = 1e-10 * max(1.0, np.abs(expected["gain"]).max())
    assert_allclose(matched["gain"], expected["gain"], rtol=1e-9, atol=gain_atol)

    inner = ~expected["is_leaf"].astype(bool)
    mirrored = inner & (match[expected["left"]] != matched["left"])
    feature, feature_ref = matched["feature_idx"], expected["feature_idx"]
    tie = np.zeros(len(nodes), dtype=bool)
    if not exact:
        same_column = np.array(
            [
                np.array_equal(X_binned[:, a], X_binned[:, b])
                for a, b in zip(feature, feature_ref, strict=True)
            ]
        )
        other_bin = matched["bin_threshold"] != expected["bin_threshold"]
        tie = mirrored | (feature == feature_ref) & other_bin | ~same_column
    assert not np.any(mirrored & ~tie)
    for name in ["feature_idx", "bin_threshold", "missing_go_left", "num_threshold",
                 "is_categorical", "left_categories"]:
        assert_array_equal(matched[name][~tie], expected[name][~tie], err_msg=name)
    if exact:
        for name in ["left", "right"]:
            assert_array_equal(nodes[name], expected[name], err_msg=name)
    return int(tie.sum())


@pytest.mark.parametrize("seed", range(40))
def test_grower_matches_the_reference(seed, make_binned_data):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    tree = TreeGrower(*args, params, hessians_are_constant=constant).grow()
    expected, expected_rows = grow_reference(*args, params)
    assert_same_tree(tree, expected, expected_rows, args[0], args[4], exact)


@pytest.mark.parametrize("seed", range(100, 116))
def test_grower_matches_the_reference_grown_out(seed, make_binned_data):
    # No limit on leaves or depth: growth goes on until no leaf can be split,
    # so many small nodes sit right at min_hessian_to_split (4 rows of
    # hessian 0.25), have zero gain (pure nodes with two-valued gradients), or
    # tie with their twins.
    args, _, constant, exact = random_problem(seed, make_binned_data)
    params = TreeParams(
        max_leaf_nodes=None,
        min_samples_leaf=1,
        min_hessian_to_split=1.0,
        min_gain_to_split=0.0,
        l2_regularization=float(seed % 2),
    )
    tree = TreeGrower(*args, params, hessians_are_constant=constant).grow()
    expected, expected_rows = grow_reference(*args, params)
    assert_same_tree(tree, expected, expected_rows, args[0], args[4], exact)


@pytest.mark.parametrize("seed", range(200, 212))
def test_grower_matches_the_reference_with_interaction_constraints(
    seed, make_binned_data
):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    n_features = args[0].shape[1]
    rng = np.random.RandomState(seed)
    groups = random_groups(rng, n_features)
    params = TreeParams(max_leaf_nodes=None, max_depth=4, min_samples_leaf=5)
    matrix = interaction_groups_matrix(groups, n_features)
    tree = TreeGrower(*args, params, hessians_are_constant=constant,
                      interaction_groups=matrix).grow()
    expected, expected_rows = grow_reference(*args, params, groups)
    assert_same_tree(tree, expected, expected_rows, args[0], args[4], exact)
    # Every root-to-leaf path stays inside one group.
    nodes = tree.nodes

    def paths(i, used):
        if nodes[i]["is_leaf"]:
            yield used
            return
        used = used | {int(nodes[i]["feature_idx"])}
        yield from paths(nodes[i]["left"], used)
        yield from paths(nodes[i]["right"], used)

    for used in paths(0, frozenset()):
        assert any(used <= group for group in groups), (used, groups)


@pytest.mark.parametrize("seed", range(300, 306))
def test_grower_matches_the_reference_with_wide_bins(seed, make_binned_data):
    # 600 bins: uint16 codes, the missing bin at 600.
    X, mapper, X_binned, thresholds = make_binned_data(
        seed, n_samples=2000, n_features=4, max_bins=600
    )
    assert X_binned.dtype == np.uint16 and mapper.n_bins_non_missing_.max() > 255
    rng = np.random.RandomState(seed)
    g = np.sin(3 * np.nan_to_num(X[:, 0])) + rng.normal(size=len(X))
    h = np.ones(len(X))
    args = (X_binned, g, h, mapper.n_bins_non_missing_, mapper.missing_bin_,
            thresholds)
    params = TreeParams(max_leaf_nodes=12, min_samples_leaf=10)
    tree = TreeGrower(*args, params, hessians_are_constant=True).grow()
    expected, expected_rows = grow_reference(*args, params)
    assert_same_tree(tree, expected, expected_rows, X_binned, args[4], True)



# -- categorical features, monotonic constraints, max_features, row subsets ---
def gradients_of(signal, rng, exact):
    """Noisy gradients of ``signal`` and hessians, as in ``random_problem``:
    with ``exact``, multiples of 1/4 (every sum exact, ties real)."""
    n = len(signal)
    noisy = signal + rng.normal(size=n)
    if exact:
        g = np.clip(np.round(4 * noisy) / 4, -4, 4)
        if rng.rand() < 0.5:
            return g, np.full(n, [0.25, 0.5][rng.randint(2)])
        h = rng.randint(1, 5, size=n) * 0.25
        return g * h, h
    h = rng.uniform(0.05, 2.0, size=n)
    return noisy * h, h


def random_params(rng):
    return TreeParams(
        max_leaf_nodes=_draw(rng, MAX_LEAF_NODES),
        max_depth=_draw(rng, MAX_DEPTH),
        min_samples_leaf=int(_draw(rng, MIN_SAMPLES_LEAF)),
        min_hessian_to_split=float(_draw(rng, MIN_HESSIAN_TO_SPLIT)),
        min_gain_to_split=float(_draw(rng, MIN_GAIN_TO_SPLIT)),
        l2_regularization=float(_draw(rng, L2_REGULARIZATION)),
    )


def mixed_problem(seed, make_binned_data, exact=None):
    """Numeric features (binned, with NaNs) and 1-3 categorical ones, shuffled.

    A categorical column has 2-50 codes of skewed frequencies (so some fall
    below the 10 rows a category needs to take part), and NaNs (the missing
    bin) in none, a few or many rows; the gradients carry an effect per
    category. Returns ``(args, params, is_categorical, exact)``.
    """
    rng = np.random.RandomState(seed)
    n_samples = int(np.exp(rng.uniform(np.log(200), np.log(3000))))
    n_numeric = rng.randint(0, 4)
    max_bins = [16, 64, 255][rng.randint(3)]
    _, mapper, X_numeric, thresholds = make_binned_data(
        seed, n_samples, max(n_numeric, 1), [0.0, 0.2][rng.randint(2)], max_bins)
    X_numeric, thresholds = X_numeric[:, :n_numeric], thresholds[:n_numeric]
    n_bins = list(mapper.n_bins_non_missing_[:n_numeric])
    missing_bin = mapper.missing_bin_
    signal = np.zeros(n_samples)
    for f in range(n_numeric):
        column = X_numeric[:, f]
        step = rng.normal() * (column <= rng.randint(n_bins[f]))
        signal += np.where(column == missing_bin, rng.normal(), step)
    columns, cat_thresholds = [], []
    for _ in range(rng.randint(1, 4)):
        k = rng.randint(2, min(missing_bin, 50) + 1)
        codes = rng.choice(k, n_samples, p=rng.dirichlet(np.full(k, 0.8)))
        codes[rng.rand(n_samples) < [0.0, 0.01, 0.2][rng.randint(3)]] = missing_bin
        effects = 1.5 * rng.normal(size=missing_bin + 1)
        signal += effects[codes]
        columns.append(codes)
        n_bins.append(k)
        cat_thresholds.append(np.full(thresholds.shape[1], np.inf))
    X_binned = np.column_stack([X_numeric, *columns]).astype(np.uint8)
    thresholds = np.vstack([thresholds, *cat_thresholds])
    is_categorical = np.array([0] * n_numeric + [1] * len(columns), dtype=np.uint8)
    order = rng.permutation(X_binned.shape[1])
    X_binned, thresholds = X_binned[:, order], thresholds[order]
    is_categorical = is_categorical[order]
    n_bins = np.array(n_bins, dtype=np.uint32)[order]
    if exact is None:
        exact = rng.rand() < 0.7
    g, h = gradients_of(signal, rng, exact)
    args = (np.asfortranarray(X_binned), g, h, n_bins, missing_bin, thresholds)
    return args, random_params(rng), is_categorical, exact


def random_monotonic(rng, n_features, is_categorical=None):
    """Constraints -1, 0 or +1, at least one nonzero, none on categorical."""
    cst = rng.randint(-1, 2, size=n_features).astype(np.int8)
    if is_categorical is not None:
        cst[is_categorical != 0] = 0
    numeric = np.flatnonzero(is_categorical == 0) if is_categorical is not None \
        else np.arange(n_features)
    if len(numeric) and not cst.any():
        cst[rng.choice(numeric)] = rng.choice([-1, 1])
    return cst


def grow_both(args, params, constant=False, groups=None, **options):
    """The package's tree and the reference's, with the same options."""
    matrix = None
    if groups is not None:
        matrix = interaction_groups_matrix(groups, args[0].shape[1])
    tree = TreeGrower(*args, params, hessians_are_constant=constant,
                      interaction_groups=matrix, **options).grow()
    expected = grow_reference(*args, params, groups, with_bounds=True, **options)
    return tree, expected


def check_bounds(tree, expected_rows, lower, upper):
    """Leaf bounds as the reference's, matched by rows; values inside them."""
    where = {np.sort(r).astype(np.int64).tobytes(): i
             for i, r in enumerate(expected_rows)}
    for j, leaf in enumerate(tree.leaf_nodes):
        rows = np.sort(tree.sample_indices[tree.leaf_starts[j]:tree.leaf_stops[j]])
        i = where[rows.astype(np.int64).tobytes()]
        assert_allclose([tree.leaf_lower[j], tree.leaf_upper[j]], [lower[i], upper[i]],
                        rtol=1e-9, atol=1e-12)
        assert tree.leaf_lower[j] <= tree.nodes[leaf]["value"] <= tree.leaf_upper[j]


@pytest.mark.parametrize("seed", range(500, 530))
def test_grower_matches_the_reference_with_categorical_features(
    seed, make_binned_data
):
    args, params, is_categorical, exact = mixed_problem(seed, make_binned_data)
    tree, (expected, rows, _, _) = grow_both(args, params,
                                             is_categorical=is_categorical)
    assert_same_tree(tree, expected, rows, args[0], args[4], exact)


def test_categorical_problems_exercise_categorical_splits(make_binned_data):
    # The reference comparisons above mean something only if their trees
    # split on categories, rare ones and missing values included.
    n_split, n_missing_left, n_rare_right = 0, 0, 0
    for seed in range(500, 530):
        args, params, is_categorical, _ = mixed_problem(seed, make_binned_data)
        X_binned, missing_bin = args[0], args[4]
        nodes = TreeGrower(*args, params, is_categorical=is_categorical).grow().nodes
        categorical = np.flatnonzero(nodes["is_categorical"] != 0)
        n_split += len(categorical)
        n_missing_left += int(nodes["missing_go_left"][categorical].sum())
        for i in categorical:
            counts = np.bincount(X_binned[:, nodes[i]["feature_idx"]],
                                 minlength=missing_bin + 1)
            rare = np.flatnonzero((counts > 0) & (counts < 10))
            goes = node_goes_left(nodes[i], rare, missing_bin)
            n_rare_right += int(np.sum(~goes))
    assert n_split > 50 and n_missing_left > 3 and n_rare_right > 3


def test_a_categorical_split_separates_a_planted_set(make_binned_data):
    # The gradient depends on code in {1, 4, 6}: the root sends exactly those
    # categories left; on the codes as numbers no single threshold can.
    rng = np.random.RandomState(0)
    n = 2000
    codes = rng.randint(0, 10, size=n)
    X_binned = np.asfortranarray(codes.astype(np.uint8)[:, None])
    g = np.where(np.isin(codes, [1, 4, 6]), -1.0, 1.0) + 0.1 * rng.normal(size=n)
    h = np.ones(n)
    args = (X_binned, g, h, np.array([10], dtype=np.uint32), 255,
            np.full((1, 255), np.inf))
    params = TreeParams(max_leaf_nodes=2, min_samples_leaf=5)
    tree = TreeGrower(*args, params, is_categorical=np.ones(1, dtype=np.uint8)).grow()
    root = tree.nodes[0]
    assert root["is_categorical"] == 1
    assert root["bin_threshold"] == 0 and root["num_threshold"] == 0
    assert root["left_categories"][0] == (1 << 1) | (1 << 4) | (1 << 6)
    assert not root["left_categories"][1:].any()
    left = np.sort(tree.sample_indices[tree.leaf_starts[0]:tree.leaf_stops[0]])
    assert_array_equal(left, np.flatnonzero(np.isin(codes, [1, 4, 6])))
    numeric = TreeGrower(*args, params).grow().nodes[0]
    assert numeric["is_categorical"] == 0 and numeric["gain"] < 0.6 * root["gain"]


@pytest.mark.parametrize("seed", range(600, 630))
def test_grower_matches_the_reference_with_monotonic_constraints(
    seed, make_binned_data
):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    rng = np.random.RandomState(seed)
    params = TreeParams(
        max_leaf_nodes=params.max_leaf_nodes, max_depth=params.max_depth,
        min_samples_leaf=[1, 5, 20][seed % 3],
        l2_regularization=[0.0, 1.0, 5.0][seed % 3 - 1 if seed % 2 else 0],
    )
    monotonic = random_monotonic(rng, args[0].shape[1])
    tree, (expected, rows, lower, upper) = grow_both(args, params, constant,
                                                     monotonic_cst=monotonic)
    assert_same_tree(tree, expected, rows, args[0], args[4], exact)
    check_bounds(tree, rows, lower, upper)


def monotone_violations(nodes, X_binned, n_bins, missing_bin, monotonic, rng,
                        values=None):
    """Largest decrease (for +1; increase for -1) of the tree's output along
    each constrained feature, over the bins of random rows."""
    values = nodes["value"] if values is None else values
    worst = 0.0
    for f in np.flatnonzero(monotonic):
        base = X_binned[rng.choice(len(X_binned), 30)]
        grid = np.repeat(base, n_bins[f], axis=0)
        grid[:, f] = np.tile(np.arange(n_bins[f]), len(base))
        out = values[leaves_of(nodes, grid, missing_bin)].reshape(len(base), -1)
        steps = monotonic[f] * np.diff(out, axis=1)
        worst = max(worst, -steps.min(initial=0.0))
    return worst


@pytest.mark.parametrize("seed", range(640, 660))
def test_monotonic_trees_are_monotone_even_with_refitted_leaves(
    seed, make_binned_data
):
    args, params, constant, _ = random_problem(seed, make_binned_data)
    X_binned, n_bins, missing_bin = args[0], args[3], args[4]
    rng = np.random.RandomState(seed)
    monotonic = random_monotonic(rng, X_binned.shape[1])
    params = TreeParams(max_leaf_nodes=None, max_depth=5, min_samples_leaf=3,
                        l2_regularization=float(seed % 2))
    tree = TreeGrower(*args, params, hessians_are_constant=constant,
                      monotonic_cst=monotonic).grow()
    nodes = tree.nodes
    assert monotone_violations(nodes, X_binned, n_bins, missing_bin, monotonic,
                               rng) == 0
    # Any leaf values inside the leaves' bounds keep the tree monotone (a
    # loss that refits its leaves clips into them).
    values = nodes["value"].copy()
    spread = 3 * np.abs(values).max() + 1
    lo = np.maximum(tree.leaf_lower, -spread)
    hi = np.minimum(tree.leaf_upper, spread)
    values[tree.leaf_nodes] = rng.uniform(lo, hi)
    assert monotone_violations(nodes, X_binned, n_bins, missing_bin, monotonic, rng,
                               values) == 0


def test_monotonic_constraints_bind(make_binned_data):
    # A step down then up along feature 0: the free tree follows it, the
    # constrained ones are monotone and differ from it.
    X, mapper, X_binned, thresholds = make_binned_data(1, n_samples=2000,
                                                       n_features=3, nan_fraction=0)
    g = np.cos(2 * X[:, 0]) + 0.3 * np.random.RandomState(0).normal(size=len(X))
    h = np.ones(len(X))
    args = (X_binned, g, h, mapper.n_bins_non_missing_, mapper.missing_bin_,
            thresholds)
    params = TreeParams(max_leaf_nodes=16, min_samples_leaf=10)
    rng = np.random.RandomState(1)
    free = TreeGrower(*args, params).grow().nodes
    for direction in (1, -1):
        monotonic = np.array([direction, 0, 0], dtype=np.int8)
        assert monotone_violations(free, X_binned, args[3], args[4], monotonic,
                                   rng) > 0.1
        tree = TreeGrower(*args, params, monotonic_cst=monotonic).grow()
        assert monotone_violations(tree.nodes, X_binned, args[3], args[4], monotonic,
                                   rng) == 0
        assert np.isfinite(tree.leaf_lower).any() or np.isfinite(tree.leaf_upper).any()
        assert (tree.nodes["feature_idx"][~tree.nodes["is_leaf"].astype(bool)]
                == 0).any()


@pytest.mark.parametrize("seed", range(700, 724))
def test_grower_matches_the_reference_with_max_features(seed, make_binned_data):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    n_features = args[0].shape[1]
    rng = np.random.RandomState(seed)
    groups = None
    if seed % 3 == 0 and n_features > 1:
        groups = [set(range(n_features // 2 + 1)), set(range(n_features // 2,
                                                             n_features))]
    max_features = int(rng.randint(1, n_features + 1))
    tree, (expected, rows, _, _) = grow_both(
        args, params, constant, groups, max_features=max_features,
        seed=int(rng.randint(2**63)) * 2 + 1)
    assert_same_tree(tree, expected, rows, args[0], args[4], exact)


def searched_nodes(nodes, params, h_of_node):
    """Ids of the nodes a tree grown with no leaf limit searched, in order."""
    return [
        i for i in range(len(nodes))
        if (params.max_depth is None or nodes[i]["depth"] < params.max_depth)
        and nodes[i]["count"] >= 2 * params.min_samples_leaf
        and h_of_node(i) >= 2 * params.min_hessian_to_split
    ]


def test_max_features_is_seeded_and_splits_only_on_drawn_features(make_binned_data):
    import reference_grower

    X, mapper, X_binned, thresholds = make_binned_data(7, n_samples=1500,
                                                       n_features=8)
    g, h = gradients_for(X, 7)
    g = g + np.nan_to_num(X[:, 2:]).sum(axis=1)  # every feature matters
    args = (X_binned, g, h, mapper.n_bins_non_missing_, mapper.missing_bin_,
            thresholds)
    params = TreeParams(max_leaf_nodes=None, max_depth=4, min_samples_leaf=10)
    trees = {s: TreeGrower(*args, params, max_features=3, seed=s).grow()
             for s in range(6)}
    again = TreeGrower(*args, params, max_features=3, seed=4).grow()
    assert_array_equal(again.nodes, trees[4].nodes)
    assert_array_equal(again.sample_indices, trees[4].sample_indices)
    distinct = {t.nodes.tobytes() for t in trees.values()}
    assert len(distinct) >= 5
    full = TreeGrower(*args, params).grow().nodes
    assert all(t.nodes.tobytes() != full.tobytes() for t in trees.values())
    # Replay the draws (the reference's xorshift64 and shuffle) over the
    # nodes in the order they were searched: every split is on a feature of
    # its node's draw, and the draws differ between nodes.
    for s, tree in trees.items():
        nodes = tree.nodes
        leaves = leaf_rows(tree)
        rng = reference_grower._Xorshift64(s)

        def h_of(i, nodes=nodes, leaves=leaves):
            return h[subtree_rows(nodes, leaves, i)].sum()

        draws = set()
        for i in searched_nodes(nodes, params, h_of):
            drawn = reference_grower._draw(set(range(8)), 3, rng)
            draws.add(frozenset(drawn))
            if not nodes[i]["is_leaf"]:
                assert nodes[i]["feature_idx"] in drawn
        assert len(draws) > 3


@pytest.mark.parametrize("seed", range(800, 816))
def test_sample_indices_grow_the_tree_of_those_rows(seed, make_binned_data):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    X_binned, g, h = args[:3]
    rng = np.random.RandomState(seed)
    n = len(g)
    rows = rng.choice(n, rng.randint(n // 4, n), replace=False).astype(np.uint32)
    if seed % 2:
        rows = np.sort(rows)
    tree = TreeGrower(*args, params, hessians_are_constant=constant,
                      sample_indices=rows).grow()
    sub_args = (np.asfortranarray(X_binned[rows]), g[rows], h[rows], *args[3:])
    sub = TreeGrower(*sub_args, params, hessians_are_constant=constant).grow()
    assert_array_equal(tree.nodes, sub.nodes)
    assert_array_equal(tree.sample_indices, rows[sub.sample_indices])
    assert_array_equal(tree.leaf_starts, sub.leaf_starts)
    assert_array_equal(tree.leaf_stops, sub.leaf_stops)
    assert tree.leaf_stops.max() == len(rows)
    # Only the given rows are written by training_output.
    out = tree.training_output(np.full(n, np.nan))
    assert_array_equal(np.isfinite(out), np.isin(np.arange(n), rows))
    expected, expected_rows = grow_reference(*args, params, sample_indices=rows)
    assert_same_tree(tree, expected, expected_rows, X_binned, args[4], exact)


@pytest.mark.parametrize("seed", range(900, 916))
def test_grower_matches_the_reference_with_every_option(seed, make_binned_data):
    # Categorical and numeric features with missing values, interaction
    # constraints, monotonic constraints, max_features and a row subset.
    args, params, is_categorical, exact = mixed_problem(seed, make_binned_data)
    n_samples, n_features = args[0].shape
    rng = np.random.RandomState(seed)
    groups = [set(rng.choice(n_features, min(n_features, 2), replace=False).tolist())
              for _ in range(2)]
    rest = set(range(n_features)) - set().union(*groups)
    if rest:
        groups.append(rest)
    tree, (expected, rows, lower, upper) = grow_both(
        args, params, False, groups if seed % 2 else None,
        is_categorical=is_categorical,
        monotonic_cst=random_monotonic(rng, n_features, is_categorical),
        max_features=int(rng.randint(1, n_features + 1)),
        seed=seed,
        sample_indices=rng.choice(n_samples, n_samples * 2 // 3,
                                  replace=False).astype(np.uint32),
    )
    assert_same_tree(tree, expected, rows, args[0], args[4], exact)
    check_bounds(tree, rows, lower, upper)


def test_options_switched_off_give_the_default_tree(make_binned_data):
    # All-zero flags, max_features >= n_features and every row as a subset
    # take the default path, bit for bit.
    data = make_binned_data(2, n_samples=5000, n_features=5)
    X, mapper, X_binned, thresholds = data
    g, h = gradients_for(X, 11)
    args = (X_binned, g, h, mapper.n_bins_non_missing_, mapper.missing_bin_,
            thresholds)
    params = TreeParams(max_leaf_nodes=20, min_samples_leaf=5)
    default = TreeGrower(*args, params).grow()
    off = TreeGrower(
        *args, params, is_categorical=np.zeros(5, dtype=np.uint8),
        monotonic_cst=np.zeros(5, dtype=np.int8), max_features=5, seed=3,
        sample_indices=np.arange(len(g), dtype=np.uint32),
    ).grow()
    for name in ["nodes", "sample_indices", "leaf_nodes", "leaf_starts",
                 "leaf_stops", "leaf_lower", "leaf_upper"]:
        assert_array_equal(getattr(off, name), getattr(default, name), err_msg=name)
    assert np.all(default.leaf_lower == -np.inf)
    assert np.all(default.leaf_upper == np.inf)


@pytest.mark.parametrize("constant", [False, True])
def test_thread_count_does_not_change_trees_with_options(constant, make_binned_data):
    args, params, is_categorical, _ = mixed_problem(3, make_binned_data)
    n_samples, n_features = args[0].shape
    args = (args[0], args[1], np.full(n_samples, 0.5) if constant else args[2],
            *args[3:])
    rng = np.random.RandomState(3)
    options = dict(
        is_categorical=is_categorical,
        monotonic_cst=random_monotonic(rng, n_features, is_categorical),
        max_features=max(1, n_features - 1), seed=12,
        sample_indices=np.sort(rng.choice(n_samples, n_samples // 2,
                                          replace=False)).astype(np.uint32),
    )
    params = TreeParams(max_leaf_nodes=15, min_samples_leaf=5)
    trees = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            trees.append(TreeGrower(*args, params, hessians_are_constant=constant,
                                    n_threads=n_threads, min_parallel_work=0,
                                    **options).grow())
    assert len(trees[0].nodes) > 3
    assert_array_equal(trees[0].nodes, trees[1].nodes)
    assert_array_equal(trees[0].sample_indices, trees[1].sample_indices)


def test_invalid_options_are_refused(data):
    X, mapper, X_binned, thresholds = data
    g, h = gradients_for(X, 0)
    args = (X_binned, g, h, mapper.n_bins_non_missing_, mapper.missing_bin_,
            thresholds, TreeParams())
    n_features = X_binned.shape[1]
    bad = [
        dict(is_categorical=np.ones(n_features + 1, dtype=np.uint8)),
        dict(monotonic_cst=np.full(n_features, 2, dtype=np.int8)),
        dict(is_categorical=np.ones(n_features, dtype=np.uint8),
             monotonic_cst=np.ones(n_features, dtype=np.int8)),
        dict(max_features=0),
        dict(seed=-1),
        dict(sample_indices=np.arange(5)),  # not uint32
        dict(sample_indices=np.array([len(g)], dtype=np.uint32)),
        dict(sample_indices=np.array([], dtype=np.uint32)),
    ]
    for options in bad:
        with pytest.raises(ValueError):
            TreeGrower(*args, **options)
    wide = np.array(mapper.n_bins_non_missing_, copy=True)
    wide[0] = 300
    with pytest.raises(ValueError, match="categorical"):
        TreeGrower(X_binned, g, h, wide, mapper.missing_bin_, thresholds,
                   TreeParams(), is_categorical=np.ones(n_features, dtype=np.uint8))
