"""The stage fitter against the grower it drives, and its leaf cap."""

import numpy as np
import pytest
from conftest import _walk_tree
from numpy.testing import assert_array_equal

from accelboost._engine.binning import BinMapper
from accelboost._engine.grower import TreeGrower, TreeParams
from accelboost._engine.loss import make_loss
from accelboost._fitter import StageFitter


def _setup(loss_name="squared_error", n=2000, max_delta_step=None, weights=False,
           **sampling):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 5))
    y = np.abs(X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(size=n))
    sample_weight = rng.uniform(0.5, 2, size=n) if weights else None
    mapper = BinMapper(max_bins=64).fit(X)
    loss = make_loss(loss_name)
    params = TreeParams(max_leaf_nodes=15, min_samples_leaf=10)
    fitter = StageFitter(mapper.transform(X), y, sample_weight, loss, mapper,
                         params, max_delta_step, n_threads=1, **sampling)
    return fitter, X, y, mapper, params


def _predict(nodes, X_binned, missing_bin):
    leaves = [_walk_tree(nodes, row, True, missing_bin) for row in X_binned]
    return nodes["value"][leaves]


@pytest.mark.parametrize("weights", [False, True])
def test_fit_trees_is_the_grower_at_the_fit_point(weights):
    fitter, X, y, mapper, params = _setup(weights=weights)
    point = np.full((len(y), 1), 0.3)
    g, h = fitter.gradients_at(point)
    assert_array_equal(g[0], (point[:, 0] - y) * fitter.weights)
    trees, outputs = fitter.fit_trees(g, h, point)
    expected = TreeGrower(fitter.X_binned, g[0], h[0], mapper.n_bins_non_missing_,
                          mapper.missing_bin_, mapper.thresholds_, params,
                          hessians_are_constant=not weights).grow()
    assert_array_equal(trees[0], expected.nodes)
    # The outputs on the training rows are the tree's predictions there.
    on_rows = _predict(trees[0], fitter.X_binned, mapper.missing_bin_)
    assert_array_equal(outputs[:, 0], on_rows)


def test_the_loss_refits_leaves_at_the_fit_point():
    fitter, X, y, _, _ = _setup("absolute_error")
    point = np.full((len(y), 1), 0.5)
    g, h = fitter.gradients_at(point)
    trees, outputs = fitter.fit_trees(g, h, point)
    nodes = trees[0]
    leaf_of_row = outputs[:, 0]
    for value in np.unique(leaf_of_row):
        rows = leaf_of_row == value
        assert value == pytest.approx(np.median(y[rows] - 0.5))
    # Without a fit point (a tree fitted to something else) no refit.
    newton, _ = fitter.fit_trees(g, h, None)
    assert not np.array_equal(newton[0]["value"], nodes["value"])


def test_max_delta_step_clips_leaf_steps():
    capped, X, y, _, _ = _setup(max_delta_step=0.25)
    free, *_ = _setup()
    point = np.zeros((len(y), 1))
    trees_c, out_c = capped.fit_trees(*capped.gradients_at(point), point)
    trees_f, out_f = free.fit_trees(*free.gradients_at(point), point)
    assert_array_equal(out_c, np.clip(out_f, -0.25, 0.25))
    assert np.abs(out_f).max() > 0.25  # the cap did bite


def test_loss_is_the_weighted_mean_loss():
    fitter, X, y, _, _ = _setup(weights=True)
    raw = np.full((len(y), 1), 1.0)
    expected = np.average(0.5 * (y - 1.0) ** 2, weights=fitter.sample_weight)
    assert fitter.loss(raw) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss_name", ["squared_error", "absolute_error"])
def test_subsampled_trees_grow_on_their_rows_and_predict_on_all(loss_name):
    fitter, X, y, mapper, params = _setup(loss_name, subsample=0.3, seed=7)
    point = np.zeros((len(y), 1))
    g, h = fitter.gradients_at(point)
    trees, outputs = fitter.fit_trees(g, h, point)
    tree = trees[0]
    # The root saw 30% of the rows, drawn without replacement.
    assert tree["count"][0] == int(0.3 * len(y))
    # Every row, drawn or not, gets the value of the leaf it reaches.
    assert_array_equal(outputs[:, 0],
                       _predict(tree, fitter.X_binned, mapper.missing_bin_))
    # The same seed draws the same rows; another seed other rows.
    again, _, _, _, _ = _setup(loss_name, subsample=0.3, seed=7)
    other, _, _, _, _ = _setup(loss_name, subsample=0.3, seed=8)
    assert_array_equal(again.fit_trees(g, h, point)[0][0], tree)
    assert not np.array_equal(other.fit_trees(g, h, point)[0][0], tree)
    # Each stage draws anew.
    assert not np.array_equal(fitter.fit_trees(g, h, point)[0][0], tree)


def test_no_sampling_is_the_default_fit_bit_for_bit():
    plain, _, y, _, _ = _setup()
    sampled, _, _, _, _ = _setup(subsample=1.0, max_features=None, seed=3)
    point = np.zeros((len(y), 1))
    g, h = plain.gradients_at(point)
    a, out_a = plain.fit_trees(g, h, point)
    b, out_b = sampled.fit_trees(g, h, point)
    assert_array_equal(a[0], b[0])
    assert_array_equal(out_a, out_b)
