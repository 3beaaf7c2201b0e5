"""Trees grown over shards (``_distributed.tree`` and ``.rows``): the tree
``TreeGrower`` grows on all the rows, whatever the shards' cut points, in
fewer round trips than splits, and a driver that notices lost rows."""

import numpy as np
import pytest
from conftest import _make_binned_data
from numpy.testing import assert_allclose, assert_array_equal
from test_grower import (
    gradients_for,
    mixed_problem,
    random_groups,
    random_monotonic,
    random_problem,
)

from accelboost._distributed.rows import TreeRows
from accelboost._distributed.tree import (
    TreeDriver,
    TreeSpec,
    grow_tree,
    ordered_sum,
)
from accelboost._engine.common import NODE_DTYPE
from accelboost._engine.grower import (
    TreeGrower,
    TreeParams,
    interaction_groups_matrix,
)

pytestmark = pytest.mark.usefixtures("single_thread")


def _seeds(wanted, count):
    """The first ``count`` seeds of ``random_problem`` that ``wanted`` keeps."""
    seeds = []
    for seed in range(1000):
        if wanted(*random_problem(seed, _make_binned_data)):
            seeds.append(seed)
            if len(seeds) == count:
                return seeds
    raise AssertionError("too few problems of the kind wanted")


#: Problems whose sums are all exact: the trees must be bit-identical.
EXACT_SEEDS = _seeds(lambda args, params, constant, exact: exact, 24)
#: Continuous problems whose leaves are not tiny (so that no split is a
#: near-tie that the order of the sums could decide).
CONTINUOUS_SEEDS = _seeds(
    lambda args, params, constant, exact: not exact and params.min_samples_leaf >= 5,
    16,
)


def shard_layouts(n_rows, rng):
    """Shard sizes: one shard, two, three with an empty one, three at random
    cut points."""
    a, b = np.sort(rng.randint(1, n_rows, size=2))
    with_empty = [int(a), int(n_rows - a)]
    with_empty.insert(rng.randint(3), 0)
    return [[n_rows], [int(a), int(n_rows - a)], with_empty,
            [int(a), int(b - a), int(n_rows - b)]]


def grow_over_shards(grower, sizes):
    """The tree of ``grower``'s problem grown over shards of these sizes.

    Returns ``(tree, rounds, output, leaf_index)``: the driver's tree, its
    round trips after the root's, the tree's value at every training row
    and the index (into ``tree.leaf_nodes``) of each row's leaf, assembled
    from the shards' ``output``.
    """
    X_binned, g, h = grower.X_binned, grower.gradients, grower.hessians
    constant = grower.hessians_are_constant
    assert sum(sizes) == len(g)
    parts = np.split(np.arange(len(g)), np.cumsum(sizes)[:-1])
    shards = [TreeRows(np.asfortranarray(X_binned[rows]), grower.n_bins_non_missing,
                       grower.missing_bin) for rows in parts]
    begins = [shard.begin(g[rows], h[rows], constant)
              for shard, rows in zip(shards, parts, strict=True)]

    def exchange(request):
        return [shard.round(request.splits, request.categories, request.builds)
                for shard in shards]

    tree, rounds = grow_tree(TreeSpec.from_grower(grower), grower.seed, begins,
                             exchange)
    output = np.full(len(g), np.nan)
    leaf_index = np.full(len(g), np.nan)
    n_leaves = len(tree.leaf_nodes)
    for shard, rows in zip(shards, parts, strict=True):
        out = np.full(len(rows), np.nan)
        shard.output(tree.leaf_handles, tree.nodes["value"][tree.leaf_nodes], out)
        output[rows] = out
        shard.output(tree.leaf_handles, np.arange(n_leaves, dtype=np.float64), out)
        leaf_index[rows] = out
    return tree, rounds, output, leaf_index


def in_memory_leaf_index(grown, n_rows):
    """The index (into ``grown.leaf_nodes``) of each training row's leaf."""
    index = np.full(n_rows, np.nan)
    for j, (start, stop) in enumerate(zip(grown.leaf_starts, grown.leaf_stops,
                                          strict=True)):
        index[grown.sample_indices[start:stop]] = j
    return index


def assert_same_as_in_memory(grower, expected, sizes, exact):
    """The sharded tree is ``expected``, the one ``grower`` grew: every node
    field (with ``exact``, floats to the bit), leaf bounds, the leaf of every
    row and the outputs. Returns the sharded growth's round trips."""
    n_rows = len(grower.gradients)
    tree, rounds, output, leaf_index = grow_over_shards(grower, sizes)
    context = f"shard sizes {sizes}"
    nodes, ref = tree.nodes, expected.nodes
    assert nodes.dtype == NODE_DTYPE
    assert len(nodes) == len(ref), context
    inexact = () if exact else ("value", "gain")
    for name in NODE_DTYPE.names:
        if name not in inexact:
            assert_array_equal(nodes[name], ref[name], err_msg=f"{name}, {context}")
    for name in inexact:
        scale = max(1.0, np.abs(ref[name]).max())
        assert_allclose(nodes[name], ref[name], rtol=1e-12, atol=1e-12 * scale,
                        err_msg=f"{name}, {context}")
    assert_array_equal(tree.leaf_nodes, expected.leaf_nodes, err_msg=context)
    # Monotonic bounds are node values (infinite without a constraint).
    for name in ("leaf_lower", "leaf_upper"):
        bound, ref_bound = getattr(tree, name), getattr(expected, name)
        if exact:
            assert_array_equal(bound, ref_bound, err_msg=f"{name}, {context}")
        else:
            assert_allclose(bound, ref_bound, rtol=1e-12, atol=1e-12,
                            err_msg=f"{name}, {context}")
    # Every row is in the same leaf, and gets the same value.
    assert_array_equal(leaf_index, in_memory_leaf_index(expected, n_rows),
                       err_msg=context)
    expected_output = expected.training_output(np.full(n_rows, np.nan))
    if exact:
        assert_array_equal(output, expected_output, err_msg=context)
    else:
        scale = max(1.0, np.abs(expected_output).max())
        assert_allclose(output, expected_output, rtol=1e-12, atol=1e-12 * scale,
                        err_msg=context)
    return rounds


def tree_options(option, rng, n_features, is_categorical=None):
    """``TreeGrower`` options for one of the cases below (a tree seed always:
    ``max_features`` draws from it)."""
    options = {"seed": int(rng.randint(2**63)) * 2 + 1}
    every = option == "all"
    if every or option == "max_features":
        options["max_features"] = int(rng.randint(1, n_features + 1))
    if every or option == "monotonic":
        options["monotonic_cst"] = random_monotonic(rng, n_features, is_categorical)
    if every or option == "interactions":
        options["interaction_groups"] = interaction_groups_matrix(
            random_groups(rng, n_features), n_features)
    return options


OPTIONS = ["none", "max_features", "monotonic", "interactions", "constant_hessians",
           "all"]


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("seed", EXACT_SEEDS)
def test_exact_problems_grow_the_in_memory_tree_bit_for_bit(seed, option,
                                                            make_binned_data):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    assert exact
    X_binned, g, h = args[:3]
    if option == "constant_hessians":
        # Multiples of 1/16 (gradients) and 1/2: still exact.
        h, constant = np.full(len(g), 0.5), True
    rng = np.random.RandomState(seed)
    options = tree_options(option, rng, X_binned.shape[1])
    grower = TreeGrower(X_binned, g, h, *args[3:], params,
                        hessians_are_constant=constant, **options)
    expected = grower.grow()
    for sizes in shard_layouts(len(g), rng):
        assert_same_as_in_memory(grower, expected, sizes, exact=True)


@pytest.mark.parametrize("seed", range(20))
def test_categorical_problems_grow_the_in_memory_tree_bit_for_bit(
        seed, make_binned_data):
    args, params, is_categorical, exact = mixed_problem(seed, make_binned_data,
                                                        exact=True)
    rng = np.random.RandomState(seed)
    n_features = args[0].shape[1]
    options = tree_options(["none", "all"][seed % 2], rng, n_features,
                           is_categorical)
    grower = TreeGrower(*args, params, is_categorical=is_categorical, **options)
    expected = grower.grow()
    for sizes in shard_layouts(len(args[1]), rng):
        assert_same_as_in_memory(grower, expected, sizes, exact=True)


def test_categorical_problems_split_on_categories(make_binned_data):
    # The test above is about categorical splits only if some trees make them.
    n_categorical = 0
    for seed in range(20):
        args, params, is_categorical, _ = mixed_problem(seed, make_binned_data,
                                                        exact=True)
        nodes = TreeGrower(*args, params, is_categorical=is_categorical).grow().nodes
        n_categorical += int(np.sum(nodes["is_categorical"]))
    assert n_categorical >= 5


def test_the_problems_cover_every_case(make_binned_data):
    # Both hessian kinds and split trees, so that the tests above compare
    # something.
    constants = set()
    n_split = 0
    for seed in EXACT_SEEDS + CONTINUOUS_SEEDS:
        args, params, constant, _ = random_problem(seed, make_binned_data)
        constants.add(constant)
        tree = TreeGrower(*args, params, hessians_are_constant=constant).grow()
        n_split += len(tree.nodes) > 1
    assert constants == {False, True}
    assert n_split >= 0.75 * len(EXACT_SEEDS + CONTINUOUS_SEEDS)


@pytest.mark.parametrize("option", ["none", "all"])
@pytest.mark.parametrize("seed", CONTINUOUS_SEEDS)
def test_continuous_problems_grow_the_in_memory_tree_up_to_rounding(
        seed, option, make_binned_data):
    args, params, constant, exact = random_problem(seed, make_binned_data)
    assert not exact
    rng = np.random.RandomState(seed)
    options = tree_options(option, rng, args[0].shape[1])
    grower = TreeGrower(*args, params, hessians_are_constant=constant, **options)
    expected = grower.grow()
    for sizes in shard_layouts(len(args[1]), rng):
        assert_same_as_in_memory(grower, expected, sizes, exact=False)


def test_speculative_rounds_are_fewer_than_splits(make_binned_data):
    # 31-leaf trees on a few thousand rows: a round expands every leaf that
    # could be split next, so a tree takes about as many rounds as it is
    # deep, not one per split.
    params = TreeParams(max_leaf_nodes=31, min_samples_leaf=20)
    total_rounds = total_splits = 0
    for seed in range(6):
        X, mapper, X_binned, thresholds = make_binned_data(
            seed, n_samples=3000, n_features=6, max_bins=64)
        g, h = gradients_for(X, seed)
        grower = TreeGrower(X_binned, g, h, mapper.n_bins_non_missing_,
                            mapper.missing_bin_, thresholds, params)
        expected = grower.grow()
        rounds = assert_same_as_in_memory(grower, expected, [1000, 1500, 500],
                                          exact=False)
        n_splits = int(np.sum(expected.nodes["is_leaf"] == 0))
        assert n_splits == 30, "the trees must be grown out to 31 leaves"
        total_rounds += rounds + 1  # the root's round trip too
        total_splits += n_splits
    assert total_rounds < 0.6 * total_splits, (total_rounds, total_splits)


def test_driver_refuses_partitions_that_disagree_with_the_counts(make_binned_data):
    X, mapper, X_binned, thresholds = make_binned_data(0, n_samples=1000)
    g, h = gradients_for(X, 0)
    grower = TreeGrower(X_binned, g, h, mapper.n_bins_non_missing_,
                        mapper.missing_bin_, thresholds,
                        TreeParams(max_leaf_nodes=8, min_samples_leaf=5))
    parts = np.split(np.arange(len(g)), [400])
    shards = [TreeRows(np.asfortranarray(X_binned[rows]), mapper.n_bins_non_missing_,
                       mapper.missing_bin_) for rows in parts]
    begins = [shard.begin(g[rows], h[rows], False)
              for shard, rows in zip(shards, parts, strict=True)]
    driver = TreeDriver(TreeSpec.from_grower(grower), grower.seed,
                        ordered_sum([b[0] for b in begins]),
                        ordered_sum([b[1] for b in begins]))
    request = driver.next_round()
    assert request is not None and len(request.splits) >= 1
    replies = [shard.round(request.splits, request.categories, request.builds)
               for shard in shards]
    histograms = ordered_sum([r[0] for r in replies])
    n_left = ordered_sum([r[1] for r in replies]).astype(np.int64)
    wrong = n_left.copy()
    wrong[0] += 1  # a shard lost a row, or sent one the wrong way
    with pytest.raises(RuntimeError, match="partitions"):
        driver.receive(histograms, wrong)
    driver.receive(histograms, n_left)  # the shards' true counts pass


def test_ordered_sum_adds_in_list_order():
    parts = [np.array([1e16, 3.0]), np.array([1.0, 1e-16]), np.array([-1e16, -3.0])]
    reordered = [parts[0], parts[2], parts[1]]
    for arrays in (parts, reordered):
        expected = arrays[0].copy()
        for array in arrays[1:]:
            expected = expected + array  # left to right, as Python's sum
        assert_array_equal(ordered_sum(arrays), expected)
        assert_array_equal(ordered_sum(arrays), sum(arrays[1:], arrays[0]))
    # The order matters in floating point (1e16 + 1 rounds to 1e16), so a
    # sum in arrival order would depend on timing.
    assert ordered_sum(parts)[0] == 0.0
    assert ordered_sum(reordered)[0] == 1.0
    # The shards' arrays are left as they were.
    assert_array_equal(parts[0], [1e16, 3.0])
