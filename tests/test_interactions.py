"""FAST pair ranking against a plain-NumPy four-quadrant search."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._engine.binning import BinMapper
from accelboost._engine.interactions import pair_gains, rank_pairs

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
