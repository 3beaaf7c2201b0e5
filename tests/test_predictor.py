"""Prediction kernel against a pure-Python tree walk; pack_trees."""

import numpy as np
import pytest
from conftest import _walk_tree
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._engine.common import NODE_DTYPE, PREDICTOR_NODE_DTYPE
from accelboost._engine.grower import TreeGrower, TreeParams
from accelboost._engine.predictor import (
    add_tree_values,
    convert_trees,
    pack_trees,
    scale_leaves,
    starts_of,
)
from accelboost._threads import numba_threads

pytestmark = pytest.mark.usefixtures("single_thread")

MISSING_BIN = 255


def hand_tree(missing_left_root=True, missing_left_inner=False):
    """root: x0 <= 0.5 (bin 3) ? leaf -1 : (x1 <= 2.0 (bin 7) ? leaf 2 : leaf 5)."""
    fields = ("value", "count", "feature_idx", "num_threshold", "bin_threshold",
              "missing_go_left", "left", "right", "gain", "depth", "is_leaf")
    rows = [
        (0.0, 10, 0, 0.5, 3, missing_left_root, 1, 2, 1.0, 0, 0),
        (-1.0, 4, 0, 0.0, 0, 0, 0, 0, 0.0, 1, 1),
        (0.0, 6, 1, 2.0, 7, missing_left_inner, 3, 4, 1.0, 1, 0),
        (2.0, 3, 0, 0.0, 0, 0, 0, 0, 0.0, 2, 1),
        (5.0, 3, 0, 0.0, 0, 0, 0, 0, 0.0, 2, 1),
    ]
    nodes = np.zeros(len(rows), dtype=NODE_DTYPE)
    for node, row in zip(nodes, rows, strict=True):
        for name, value in zip(fields, row, strict=True):
            node[name] = value
    return nodes


def reference_predict(trees, X, binned, columns, n_columns, scales=None):
    """Sum of each tree's leaf value per row, walking nodes in plain Python."""
    out = np.zeros((X.shape[0], n_columns))
    for t, nodes in enumerate(trees):
        scale = 1.0 if scales is None else scales[t]
        for i in range(X.shape[0]):
            leaf = _walk_tree(nodes, X[i], binned, MISSING_BIN)
            out[i, columns[t]] += scale * nodes[leaf]["value"]
    return out


def predict(
    trees,
    X,
    binned,
    columns=None,
    n_columns=1,
    scales=None,
    out=None,
    first=0,
    stop=None,
    missing_bin=MISSING_BIN,
):
    nodes, starts, bitsets = pack_trees(trees, scales)
    if columns is None:
        columns = np.zeros(len(trees), dtype=np.intp)
    if out is None:
        out = np.zeros((X.shape[0], n_columns))
    stop = len(trees) if stop is None else stop
    add_tree_values(
        nodes, bitsets, starts, columns, first, stop, X, binned, missing_bin, out
    )
    return out


def test_hand_built_tree_routes_rows():
    nodes = hand_tree(missing_left_root=True, missing_left_inner=False)
    X = np.array(
        [
            [0.0, 0.0],  # left
            [0.5, 9.0],  # x0 == threshold: left
            [np.nextafter(0.5, 1), 2.0],  # right, x1 == threshold: left
            [1.0, 2.5],  # right, right
            [np.nan, 9.0],  # missing at root: left
            [1.0, np.nan],  # missing at inner node: right
            [-np.inf, np.nan],  # left
            [np.inf, -np.inf],  # right, left
        ]
    )
    expected = [-1.0, -1.0, 2.0, 5.0, -1.0, 5.0, -1.0, 2.0]
    assert_array_equal(predict([nodes], X, False)[:, 0], expected)
    # The same rows binned: bins around the thresholds 3 (x0) and 7 (x1).
    Xb = np.array(
        [
            [0, 0],
            [3, 200],
            [4, 7],
            [9, 8],
            [MISSING_BIN, 200],
            [9, MISSING_BIN],
            [0, MISSING_BIN],
            [200, 0],
        ],
        dtype=np.uint8,
    )
    assert_array_equal(predict([nodes], Xb, True)[:, 0], expected)


@pytest.mark.parametrize("missing_left_root", [False, True])
@pytest.mark.parametrize("missing_left_inner", [False, True])
def test_nan_follows_missing_go_left(missing_left_root, missing_left_inner):
    nodes = hand_tree(missing_left_root, missing_left_inner)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2)) * 3
    X[rng.rand(200) < 0.3, 0] = np.nan
    X[rng.rand(200) < 0.3, 1] = np.nan
    got = predict([nodes], X, False)[:, 0]
    expected = reference_predict([nodes], X, False, [0], 1)[:, 0]
    assert_array_equal(got, expected)
    # Spelled out for the rows missing at the root.
    at_root = np.isnan(X[:, 0])
    if missing_left_root:
        assert_array_equal(got[at_root], -1.0)
    else:
        x1 = X[at_root, 1]
        inner_left = np.where(np.isnan(x1), missing_left_inner, x1 <= 2.0)
        assert_array_equal(got[at_root], np.where(inner_left, 2.0, 5.0))


def grown_trees(make_binned_data, seed, n_trees=4, max_leaf_nodes=8):
    """Trees grown on random gradients over the same binned data."""
    X, mapper, X_binned, padded = make_binned_data(seed, n_samples=400, max_bins=255)
    rng = np.random.RandomState(seed)
    trees, grown = [], []
    for _ in range(n_trees):
        g = rng.normal(size=len(X)) + np.nan_to_num(X[:, 0], nan=1.5)
        h = rng.uniform(0.5, 1.5, size=len(X))
        tree = TreeGrower(
            X_binned,
            g,
            h,
            mapper.n_bins_non_missing_,
            mapper.missing_bin_,
            padded,
            TreeParams(max_leaf_nodes=max_leaf_nodes, min_samples_leaf=5),
        ).grow()
        assert len(tree.nodes) > 1
        trees.append(tree.nodes)
        grown.append(tree)
    return X, mapper, X_binned, trees, grown


@pytest.mark.parametrize("seed", range(2))
def test_raw_and_binned_predictions_agree_on_training_rows(seed, make_binned_data):
    X, mapper, X_binned, trees, grown = grown_trees(make_binned_data, seed)
    assert mapper.missing_bin_ == MISSING_BIN
    for tree in grown:
        raw = predict([tree.nodes], X, False)[:, 0]
        binned = predict([tree.nodes], X_binned, True)[:, 0]
        assert_array_equal(raw, binned)
        # ... and both are the value of the leaf that holds the row in training.
        assert_array_equal(raw, tree.training_output(np.empty(len(X))))
        assert_array_equal(raw, reference_predict([tree.nodes], X, False, [0], 1)[:, 0])


def test_raw_and_binned_predictions_agree_on_unseen_rows(make_binned_data):
    X, mapper, _, trees, _ = grown_trees(make_binned_data, 2)
    rng = np.random.RandomState(5)
    X_new = rng.normal(size=(300, X.shape[1])) * 1.5
    X_new[rng.rand(*X_new.shape) < 0.1] = np.nan
    # Values exactly at the split thresholds, and just above them.
    thresholds = np.concatenate([t for t in mapper.bin_thresholds_])
    X_new[:50, :] = rng.choice(thresholds, size=(50, X.shape[1]))
    X_new[50:100, :] = np.nextafter(X_new[:50, :], np.inf)
    raw = predict(trees, X_new, False)
    binned = predict(trees, mapper.transform(X_new), True)
    assert_array_equal(raw, binned)
    assert_allclose(raw, reference_predict(trees, X_new, False, [0] * 4, 1), rtol=1e-14)


def test_several_trees_columns_and_scales(make_binned_data):
    X, _, X_binned, trees, _ = grown_trees(make_binned_data, 3, n_trees=5)
    columns = np.array([0, 2, 1, 2, 0], dtype=np.intp)
    scales = np.array([0.1, 1.0, -2.0, 0.5, 3.0])
    start = np.random.RandomState(0).normal(size=(len(X), 3))
    out = predict(
        trees, X, False, columns=columns, n_columns=3, scales=scales, out=start.copy()
    )
    expected = start + reference_predict(trees, X, False, columns, 3, scales)
    assert_allclose(out, expected, rtol=1e-13, atol=1e-13)
    # Adding the trees in two ranges is the same, bit for bit, as all at once.
    nodes, starts, bitsets = pack_trees(trees, scales)
    parts = start.copy()
    for first, stop in ((0, 2), (2, 5)):
        add_tree_values(
            nodes, bitsets, starts, columns, first, stop, X, False, MISSING_BIN, parts
        )
    assert_array_equal(parts, out)
    # An empty range adds nothing.
    before = parts.copy()
    add_tree_values(
        nodes, bitsets, starts, columns, 3, 3, X, False, MISSING_BIN, parts
    )
    assert_array_equal(parts, before)
    # Binned rows give the same sums.
    binned = predict(
        trees,
        X_binned,
        True,
        columns=columns,
        n_columns=3,
        scales=scales,
        out=start.copy(),
    )
    assert_array_equal(binned, out)


def test_pack_trees():
    a, b, c = hand_tree(), hand_tree(False, True)[:1].copy(), hand_tree()
    b["is_leaf"] = 1  # a single-leaf tree
    b["value"] = 7.0
    originals = [t.copy() for t in (a, b, c)]
    scales = np.array([2.0, -0.5, 0.0])
    nodes, starts, _ = pack_trees([a, b, c], scales)
    assert nodes.dtype == PREDICTOR_NODE_DTYPE
    assert_array_equal(starts, [0, 5, 6])
    assert len(nodes) == 11
    source = np.concatenate([a, b, c])
    leaf = source["is_leaf"] == 1
    # leaves carry their scaled value and no child; inner nodes their split
    expected_values = np.concatenate([2.0 * a["value"], [-3.5], 0.0 * c["value"]])
    assert_array_equal(nodes["threshold"][leaf], expected_values[leaf])
    assert_array_equal(nodes["left"][leaf], 0)
    assert_array_equal(nodes["threshold"][~leaf], source["num_threshold"][~leaf])
    assert_array_equal(nodes["left"][~leaf], source["left"][~leaf])
    for name in ("feature_idx", "bin_threshold", "missing_go_left"):
        assert_array_equal(nodes[name], source[name])
    for before, after in zip(originals, (a, b, c), strict=True):
        assert_array_equal(before, after)
    # Without scales the values are the trees' own.
    nodes, starts, _ = pack_trees([a, b, c])
    assert_array_equal(nodes["threshold"][leaf], source["value"][leaf])
    # No trees at all.
    nodes, starts, bitsets = pack_trees([])
    assert len(nodes) == 0 and len(starts) == 0 and bitsets.shape == (4, 0)
    # A single-leaf tree predicts its value everywhere, scaled.
    X = np.array([[np.nan, 1.0], [5.0, -5.0]])
    assert_array_equal(predict([b], X, False, scales=np.array([2.0]))[:, 0], 14.0)


def test_packing_in_parts_is_packing_at_once():
    # The ensemble packs each stage's trees after the ones already packed,
    # and folds coefficients into the plain packing later.
    trees = [hand_tree(), hand_tree(False, True), hand_tree()[:1].copy()]
    trees[2]["is_leaf"], trees[2]["value"] = 1, -4.0
    scales = np.array([0.5, -3.0, 0.0])
    whole, whole_starts, _ = pack_trees(trees)
    first, first_sizes, _ = convert_trees(trees[:1])
    rest, rest_sizes, _ = convert_trees(trees[1:])
    assert_array_equal(np.concatenate([first, rest]), whole)
    assert_array_equal(rest_sizes, [5, 1])
    assert_array_equal(
        np.concatenate([starts_of(first_sizes), starts_of(rest_sizes, len(first))]),
        whole_starts,
    )
    assert len(starts_of(np.zeros(0, dtype=np.intp), 7)) == 0
    folded, _, _ = pack_trees(trees, scales)
    assert_array_equal(scale_leaves(whole, [5, 5, 1], scales), folded)
    assert folded["threshold"][10] == 0.0
    assert_array_equal(whole["threshold"][10], -4.0)  # the plain packing is kept


def test_a_tree_scaled_by_zero_contributes_zero_even_with_an_infinite_leaf():
    tree = hand_tree()
    leaf = np.flatnonzero(tree["is_leaf"])[0]
    tree["value"][leaf] = np.inf
    whole, _, _ = pack_trees([tree, hand_tree()])
    with np.errstate(invalid="ignore"):  # the reference: plain products
        reference = whole["threshold"] * np.repeat([0.0, 2.0], [5, 5])
    folded = scale_leaves(whole, [5, 5], np.array([0.0, 2.0]))
    is_leaf = whole["left"] == 0
    assert np.isnan(reference[:5][is_leaf[:5]]).any()  # what inf * 0 gives
    assert_array_equal(folded["threshold"][:5][is_leaf[:5]], 0.0)
    assert_array_equal(folded["threshold"][5:][is_leaf[5:]],
                       reference[5:][is_leaf[5:]])
    assert_array_equal(folded["threshold"][~is_leaf], whole["threshold"][~is_leaf])


def test_pack_trees_needs_right_child_after_left():
    tree = hand_tree()
    tree["right"][0], tree["left"][0] = 1, 2
    with pytest.raises(ValueError, match="right child must directly follow"):
        pack_trees([tree])


def test_prediction_thread_count_independent(make_binned_data):
    X, _, X_binned, trees, _ = grown_trees(make_binned_data, 4)
    X = np.tile(X, (10, 1))
    results = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            results.append(predict(trees, X, False, scales=np.full(4, 0.3)))
    assert_array_equal(results[0], results[1])


def test_binned_prediction_with_wide_bins(make_binned_data):
    # uint16 bins (600 of them): binned and raw prediction walk the same way.
    X, mapper, X_binned, padded = make_binned_data(3, n_samples=1500, max_bins=600)
    assert X_binned.dtype == np.uint16
    rng = np.random.RandomState(3)
    g = np.sin(4 * np.nan_to_num(X[:, 0])) + rng.normal(size=len(X))
    tree = TreeGrower(X_binned, g, np.ones(len(X)), mapper.n_bins_non_missing_,
                      mapper.missing_bin_, padded,
                      TreeParams(max_leaf_nodes=16, min_samples_leaf=5)).grow()
    assert tree.nodes["bin_threshold"].max() > 255
    raw = predict([tree.nodes], X, False)[:, 0]
    binned = predict([tree.nodes], X_binned, True, missing_bin=mapper.missing_bin_)
    assert_array_equal(raw, binned[:, 0])
    assert_array_equal(raw, tree.training_output(np.empty(len(X))))



def categorical_tree(left_codes, missing_go_left, feature=1):
    """A stump on a categorical feature: codes in ``left_codes`` go left (-1)."""
    nodes = hand_tree()[[0, 1, 3]].copy()
    nodes[0]["feature_idx"] = feature
    nodes[0]["is_categorical"] = 1
    nodes[0]["num_threshold"] = 0.0
    nodes[0]["bin_threshold"] = 0
    nodes[0]["missing_go_left"] = missing_go_left
    for code in left_codes:
        nodes[0]["left_categories"][code // 64] |= np.uint64(1) << np.uint64(code % 64)
    nodes[0]["left"], nodes[0]["right"] = 1, 2
    return nodes


@pytest.mark.parametrize("binned", [False, True])
def test_categorical_splits_follow_their_bitsets(binned):
    # Codes in every word of the bitset, and two trees so that the second
    # tree's bitset row is offset in the packed table.
    rng = np.random.RandomState(0)
    trees = [
        categorical_tree([0, 63, 64, 130, 255], missing_go_left=True),
        hand_tree(),
        categorical_tree([1, 2, 200], missing_go_left=False, feature=0),
    ]
    codes = rng.randint(0, 256, size=(400, 2)).astype(np.float64)
    X = codes.copy()
    X[rng.rand(400) < 0.1, 1] = MISSING_BIN if binned else np.nan
    X[:3, 1] = [0, 255, 130]
    out = predict(trees, X, binned, scales=np.array([1.0, 0.0, 10.0]))
    expected = reference_predict(trees, X, binned, [0, 0, 0], 1,
                                 np.array([1.0, 0.0, 10.0]))
    assert_array_equal(out, expected)
    # The hand computation agrees: tree 0 gives -1 on its codes and NaN, +2
    # elsewhere; tree 2 gives -10 on codes 1, 2, 200 of feature 0, +20 else.
    missing = (X[:, 1] == MISSING_BIN) if binned else np.isnan(X[:, 1])
    left0 = missing | np.isin(X[:, 1], [0, 63, 64, 130, 255])
    left2 = np.isin(X[:, 0], [1, 2, 200])
    assert_array_equal(out[:, 0], np.where(left0, -1.0, 2.0)
                       + np.where(left2, -10.0, 20.0))
    assert np.all(left0[:3])
    _, _, bitsets = pack_trees(trees)
    assert bitsets.shape == (4, 2)


def test_unknown_categories_go_right():
    # Codes beyond the bitset's range are categories the tree never saw.
    tree = categorical_tree(range(256), missing_go_left=True)
    X = np.array([[0.0, 256.0], [0.0, 1e9], [0.0, -1.0], [0.0, 5.0]])
    out = predict([tree], X, False)[:, 0]
    assert_array_equal(out, [2.0, 2.0, 2.0, -1.0])
