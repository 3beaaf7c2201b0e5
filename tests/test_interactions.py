"""FAST pair ranking against a plain-NumPy four-quadrant search."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._engine.binning import BinMapper
from accelboost._engine.interactions import (
    best_pair_tree,
    coarse_codes,
    pair_gains,
    pair_histograms,
    pair_tree_values,
    rank_pairs,
)

pytestmark = pytest.mark.usefixtures("single_thread")


def reference_gain(a_codes, b_codes, g, h, l2, min_hessian):
    """Best four-quadrant cut by brute force over the coarse codes."""
    def score(mask):
        denominator = h[mask].sum() + l2
        return g[mask].sum() ** 2 / denominator if denominator > 0 else 0.0

    parent = score(np.ones(len(g), bool))
    best = -np.inf
    for a in range(a_codes.max()):
        for b in range(b_codes.max()):
            quadrants = [
                (a_codes <= a) & (b_codes <= b), (a_codes <= a) & (b_codes > b),
                (a_codes > a) & (b_codes <= b), (a_codes > a) & (b_codes > b),
            ]
            if min(h[q].sum() for q in quadrants) < min_hessian:
                continue
            best = max(best, sum(score(q) for q in quadrants) - parent)
    return best


def coarse(codes, n_bins, missing_bin, n_coarse):
    codes = codes.astype(np.int64)
    return np.where(codes == missing_bin, n_coarse, codes * n_coarse // n_bins)


@pytest.mark.parametrize("max_bins", [16, 255, 700])
@pytest.mark.parametrize("seed", range(3))
def test_pair_gains_equal_the_brute_force_search(seed, max_bins):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(500, 4))
    X[rng.rand(500) < 0.1, 1] = np.nan
    mapper = BinMapper(max_bins=max_bins).fit(X)
    X_binned = mapper.transform(X)
    g = rng.normal(size=500) + 2 * (X[:, 0] > 0) * (np.nan_to_num(X[:, 1]) > 0)
    h = rng.uniform(0.5, 1.5, size=500)
    pairs = np.array([[0, 1], [0, 2], [2, 3], [1, 3]], dtype=np.intp)
    n_coarse, l2, min_hessian = 6, 0.5, 5.0
    out = np.empty(len(pairs))
    pair_gains(X_binned, mapper.n_bins_non_missing_, mapper.missing_bin_, g, h,
               pairs, n_coarse, l2, min_hessian, out)
    for p, (j, k) in enumerate(pairs):
        codes = [coarse(X_binned[:, f], mapper.n_bins_non_missing_[f],
                        mapper.missing_bin_, n_coarse) for f in (j, k)]
        assert_allclose(out[p], reference_gain(*codes, g, h, l2, min_hessian),
                        rtol=1e-9)


def test_the_interacting_pair_ranks_first():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5000, 5))
    # Residuals of an additive fit: what is left is the (2, 4) interaction.
    residual = np.sign(X[:, 2]) * np.sign(X[:, 4]) + 0.3 * rng.normal(size=5000)
    mapper = BinMapper().fit(X)
    pairs, gains = rank_pairs(mapper.transform(X), mapper.n_bins_non_missing_,
                              mapper.missing_bin_, -residual, np.ones(5000))
    assert_array_equal(pairs[0], [2, 4])
    assert len(pairs) == 10 and np.all(np.diff(gains) <= 0)
    assert gains[0] > 5 * gains[1]
    only = rank_pairs(mapper.transform(X), mapper.n_bins_non_missing_,
                      mapper.missing_bin_, -residual, np.ones(5000),
                      features=[4, 2, 0])[0]
    assert_array_equal(only[0], [2, 4]) and len(only) == 3


# -- pair trees (the pair phase of the additive models) ---------------------
def reference_histogram(a_codes, b_codes, g, h, w, size):
    hist = np.zeros((size, size, 3))
    for values, channel in ((g, 0), (h, 1), (w, 2)):
        np.add.at(hist[..., channel], (a_codes, b_codes), values)
    return hist


def reference_pair_tree(hist, l2, min_weight):
    """Best tree (root cut, then one cut per half) by enumerating them all."""
    def score(block):
        denominator = block[..., 1].sum() + l2
        return block[..., 0].sum() ** 2 / denominator if denominator > 0 else 0.0

    size = hist.shape[0]
    parent = score(hist)
    best, best_tree = -np.inf, None
    for axis in range(2):
        grid = hist if axis == 0 else hist.transpose(1, 0, 2)
        for a in range(size - 1):
            halves = grid[: a + 1], grid[a + 1 :]
            if min(half[..., 2].sum() for half in halves) < min_weight:
                continue
            total, tree = -parent, [axis, a]
            for half in halves:
                half_best, half_cut = score(half), -1
                for b in range(size - 1):
                    sides = half[:, : b + 1], half[:, b + 1 :]
                    if min(side[..., 2].sum() for side in sides) < min_weight:
                        continue
                    value = score(sides[0]) + score(sides[1])
                    if value > half_best:
                        half_best, half_cut = value, b
                total += half_best
                tree.append(half_cut)
            if total > best:
                best, best_tree = total, tree
    return best, best_tree


@pytest.mark.parametrize("seed", range(4))
def test_pair_histograms_and_trees_equal_the_references(seed):
    rng = np.random.default_rng(seed)
    n, n_coarse = 3000, 8
    X = rng.normal(size=(n, 3))
    X[rng.random(n) < 0.1, 1] = np.nan
    mapper = BinMapper(max_bins=40).fit(X)
    codes = coarse_codes(mapper.transform(X), mapper.n_bins_non_missing_,
                         mapper.missing_bin_, n_coarse)
    g = np.sign(X[:, 0]) * np.sign(np.nan_to_num(X[:, 1])) + rng.normal(size=n)
    h = rng.uniform(0.5, 1.5, size=n)
    w = rng.integers(0, 3, size=n).astype(np.float64)
    pairs = np.array([[0, 1], [0, 2], [1, 2]], dtype=np.intp)
    size = n_coarse + 1
    hist = np.empty((3, size, size, 3))
    pair_histograms(codes, pairs, g, h, w, hist)
    for p, (j, k) in enumerate(pairs):
        expected = reference_histogram(codes[:, j], codes[:, k], g, h, w, size)
        assert_allclose(hist[p], expected, rtol=1e-12, atol=1e-9)
        gain, tree = best_pair_tree(hist[p], 1.0, 30.0)
        expected_gain, expected_tree = reference_pair_tree(hist[p], 1.0, 30.0)
        assert_allclose(gain, expected_gain, rtol=1e-10)
        # Equal trees can differ in form (a four-quadrant cut either way
        # round): compare what they predict.
        assert_allclose(pair_tree_values(hist[p], tree, 1.0),
                        pair_tree_values(hist[p], np.array(expected_tree), 1.0),
                        rtol=1e-9, atol=1e-12)
        # Leaf values: each cell gets its leaf's Newton step.
        values = pair_tree_values(hist[p], tree, 1.0)
        for leaf in np.unique(values):
            cells = values == leaf
            block = hist[p][cells]
            assert_allclose(leaf, -block[:, 0].sum() / (block[:, 1].sum() + 1.0))
    # The planted interaction is the best pair.
    gains = [best_pair_tree(hist[p], 1.0, 30.0)[0] for p in range(3)]
    assert np.argmax(gains) == 0


def test_coarse_codes_match_the_fast_coarsening():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    X[::7, 0] = np.nan
    mapper = BinMapper(max_bins=100).fit(X)
    binned = mapper.transform(X)
    codes = coarse_codes(binned, mapper.n_bins_non_missing_, mapper.missing_bin_, 32)
    for f in range(2):
        expected = coarse(binned[:, f], mapper.n_bins_non_missing_[f],
                          mapper.missing_bin_, 32)
        assert_array_equal(codes[:, f], expected)
