"""Split search against brute force, Newton leaf values, stable partition."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._engine.splitting import (
    NodeSums,
    SplitConstraints,
    SplitInfo,
    find_best_split,
    leaf_value,
    partition,
    partition_categorical,
)
from accelboost._threads import numba_threads

pytestmark = pytest.mark.usefixtures("single_thread")

MAX_BINS = 16
MISSING_BIN = MAX_BINS
N_BINS = MAX_BINS + 1


def reference_histogram(rows, X_binned, gradients, hessians):
    n_features = X_binned.shape[1]
    hist = np.zeros((n_features, N_BINS, 3))
    for f in range(n_features):
        bins = X_binned[rows, f]
        hist[f, :, 0] = np.bincount(bins, weights=gradients[rows], minlength=N_BINS)
        hist[f, :, 1] = np.bincount(bins, weights=hessians[rows], minlength=N_BINS)
        hist[f, :, 2] = np.bincount(bins, minlength=N_BINS)
    return hist


def make_node(seed, n_samples=200, with_missing=True):
    """Binned data with features of 16, 5, 1 (constant) and 9 bins."""
    rng = np.random.RandomState(seed)
    n_bins_non_missing = np.array([16, 5, 1, 9], dtype=np.uint32)
    X = np.empty((n_samples, 4), dtype=np.uint8, order="F")
    for f, k in enumerate(n_bins_non_missing):
        X[:, f] = rng.randint(0, k, size=n_samples)
        if with_missing:
            X[rng.rand(n_samples) < 0.15, f] = MISSING_BIN
    # Random per-bin effects (the missing bin too) plus noise: which feature,
    # bin and missing direction win varies with the seed.
    effects = rng.normal(size=(4, N_BINS))
    g = rng.normal(size=n_samples) + effects[np.arange(4), X].sum(axis=1)
    h = rng.uniform(0.2, 2.0, size=n_samples)
    rows = np.sort(rng.choice(n_samples, int(0.8 * n_samples), replace=False))
    return X, g, h, rows.astype(np.uint32), n_bins_non_missing


def search(X, g, h, rows, n_bins_non_missing, l2, min_samples_leaf, min_hessian,
           allowed=None):
    hist = reference_histogram(rows, X, g, h)
    node = NodeSums(float(g[rows].sum()), float(h[rows].sum()), float(len(rows)))
    constraints = SplitConstraints(l2, float(min_samples_leaf), min_hessian)
    if allowed is None:
        allowed = np.ones(X.shape[1], dtype=np.uint8)
    return find_best_split(
        hist, n_bins_non_missing, MISSING_BIN, node, constraints, allowed
    )


CONSTRAINTS = [(1, 0.0), (30, 0.0), (1, 40.0), (50, 30.0)]


@pytest.mark.parametrize("min_samples_leaf, min_hessian", CONSTRAINTS)
@pytest.mark.parametrize("l2", [0.0, 1.5])
@pytest.mark.parametrize("with_missing", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_find_best_split_equals_brute_force(
    seed,
    with_missing,
    l2,
    min_samples_leaf,
    min_hessian,
    brute_force_splits,
    goes_left,
):
    X, g, h, rows, n_bins = make_node(seed, with_missing=with_missing)
    split = search(X, g, h, rows, n_bins, l2, min_samples_leaf, min_hessian)
    assert isinstance(split, SplitInfo)
    gain, feature, bin_ = split.gain, split.feature, split.bin
    missing_left = split.missing_go_left
    g_l, h_l = split.sum_gradient_left, split.sum_hessian_left
    candidates = brute_force_splits(
        X, rows, g, h, n_bins, MISSING_BIN, l2, min_samples_leaf, min_hessian
    )
    assert candidates, "the test data must admit some split"
    best = max(candidates, key=lambda c: c.gain)
    assert_allclose(gain, best.gain, rtol=1e-10)
    # The returned split is a real candidate achieving that gain, and the
    # left sums it reports are those of the rows it sends left.
    assert 0 <= feature < X.shape[1]
    assert 0 <= bin_ < n_bins[feature]
    left = goes_left(X[rows, feature], bin_, missing_left, MISSING_BIN)
    n_l = left.sum()
    assert_allclose(g_l, g[rows][left].sum(), rtol=1e-10, atol=1e-10)
    assert_allclose(h_l, h[rows][left].sum(), rtol=1e-10)
    assert min(n_l, len(rows) - n_l) >= min_samples_leaf
    assert min(h_l, h[rows].sum() - h_l) >= min_hessian
    matching = [
        c
        for c in candidates
        if (c.feature, c.bin, c.missing_go_left) == (feature, bin_, missing_left)
    ]
    assert len(matching) == 1
    assert_allclose(matching[0].gain, gain, rtol=1e-10)
    # The split itself is the brute-force argmax, not only its gain: both
    # divide the node's rows the same way (several (bin, direction) pairs can
    # give one partition, e.g. around a bin the node does not populate).
    best_left = goes_left(
        X[rows, best.feature], best.bin, best.missing_go_left, MISSING_BIN
    )
    assert best.feature == feature
    assert np.array_equal(left, best_left) or np.array_equal(left, ~best_left)
    if not (X[rows, feature] == MISSING_BIN).any():
        # No missing value seen: NaN at predict time follows the majority.
        assert missing_left == (n_l >= len(rows) - n_l)


@pytest.mark.parametrize("seed", range(6))
def test_a_split_only_uses_allowed_features(seed, brute_force_splits):
    # Interaction constraints: the best split among the allowed features.
    X, g, h, rows, n_bins = make_node(seed, with_missing=True)
    rng = np.random.RandomState(seed)
    allowed = (rng.rand(X.shape[1]) < 0.5).astype(np.uint8)
    allowed[rng.randint(X.shape[1])] = 1
    split = search(X, g, h, rows, n_bins, 0.0, 1, 0.0, allowed)
    candidates = [
        c for c in brute_force_splits(X, rows, g, h, n_bins, MISSING_BIN, 0.0, 1, 0.0)
        if allowed[c.feature]
    ]
    best = max(candidates, key=lambda c: c.gain)
    assert allowed[split.feature]
    assert split.feature == best.feature
    assert_allclose(split.gain, best.gain, rtol=1e-10)
    nothing = np.zeros(X.shape[1], dtype=np.uint8)
    assert search(X, g, h, rows, n_bins, 0.0, 1, 0.0, nothing).feature == -1


def test_no_admissible_split(brute_force_splits):
    X, g, h, rows, n_bins = make_node(0)
    # min_samples_leaf above half the node: no split can satisfy it.
    result = search(X, g, h, rows, n_bins, 0.0, len(rows) // 2 + 1, 0.0)
    assert result == SplitInfo(-np.inf, -1, -1, False, 0.0, 0.0)
    # Likewise when no side can reach the minimum hessian.
    result = search(X, g, h, rows, n_bins, 0.0, 1, h[rows].sum())
    assert result.feature == -1
    # A node whose only feature is constant and has no NaN has no split.
    Xc = np.zeros((50, 1), dtype=np.uint8, order="F")
    rows_c = np.arange(50, dtype=np.uint32)
    one_bin = np.array([1], dtype=np.uint32)
    assert search(Xc, g[:50], h[:50], rows_c, one_bin, 0.0, 1, 0.0).feature == -1
    assert not brute_force_splits(Xc, rows_c, g, h, one_bin, MISSING_BIN, 0.0, 1, 0)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_single_bin_feature_does_not_rely_on_unsigned_wraparound():
    # n_bins_non_missing is uint32. Compiled, ``n_bins - 2`` is int64 (-1);
    # run as plain Python (NUMBA_DISABLE_JIT=1, as CI does) NumPy keeps it
    # uint32 and it wraps to 2**32 - 1, which only works by a second wrap.
    X = np.zeros((40, 2), dtype=np.uint8, order="F")
    X[20:, 1] = 1
    g = np.where(X[:, 1] == 1, 1.0, -1.0)
    h = np.ones(40)
    rows = np.arange(40, dtype=np.uint32)
    result = search(X, g, h, rows, np.array([1, 2], dtype=np.uint32), 0.0, 1, 0.0)
    # Unit hessians: the left hessian counts the rows that go left.
    assert (result.feature, result.bin, result.sum_hessian_left) == (1, 0, 20)


def test_constant_feature_with_missing_splits_missing_apart():
    # One bin of values plus NaNs: the only split is values vs missing.
    n = 60
    X = np.zeros((n, 1), dtype=np.uint8, order="F")
    X[::3, 0] = MISSING_BIN
    g = np.where(X[:, 0] == MISSING_BIN, 1.0, -1.0)
    h = np.ones(n)
    rows = np.arange(n, dtype=np.uint32)
    split = search(X, g, h, rows, np.array([1], dtype=np.uint32), 0.0, 1, 0.0)
    assert (split.feature, split.bin, split.missing_go_left) == (0, 0, False)
    assert_allclose([split.sum_gradient_left, split.sum_hessian_left], [-40.0, 40.0])
    assert_allclose(split.gain, 40.0**2 / 40 + 20.0**2 / 20 - 20.0**2 / 60)


@pytest.mark.parametrize("missing_sign", [1.0, -1.0])
def test_missing_values_go_to_the_side_that_gains_more(missing_sign):
    # Bin 0 has gradient -1, bin 1 has +1; missing rows look like bin 1
    # (missing_sign=+1, so they go right) or like bin 0 (so they go left).
    n = 90
    X = np.zeros((n, 1), dtype=np.uint8, order="F")
    X[30:60, 0] = 1
    X[60:, 0] = MISSING_BIN
    g = np.concatenate([-np.ones(30), np.ones(30), missing_sign * np.ones(30)])
    h = np.ones(n)
    rows = np.arange(n, dtype=np.uint32)
    split = search(X, g, h, rows, np.array([2], dtype=np.uint32), 0.0, 1, 0.0)
    assert (split.feature, split.bin) == (0, 0)
    assert split.missing_go_left == (missing_sign < 0)
    # Unit hessians: the left hessian counts the rows that go left.
    assert split.sum_hessian_left == (60 if missing_sign < 0 else 30)


def test_l2_changes_the_chosen_split(brute_force_splits):
    # With l2 > 0 small, pure leaves are penalised relative to large ones:
    # the kernel must use H + l2, not H, to agree with brute force here.
    rng = np.random.RandomState(0)
    X = np.empty((300, 2), dtype=np.uint8, order="F")
    X[:, 0] = rng.randint(0, 16, size=300)
    X[:, 1] = rng.randint(0, 16, size=300)
    g = np.where(X[:, 0] == 0, 5.0, 0.0) + np.where(X[:, 1] < 8, 1.0, -1.0)
    h = np.full(300, 0.05)
    rows = np.arange(300, dtype=np.uint32)
    n_bins = np.array([16, 16], dtype=np.uint32)
    chosen = set()
    for l2 in (0.0, 50.0):
        result = search(X, g, h, rows, n_bins, l2, 1, 0.0)
        candidates = brute_force_splits(X, rows, g, h, n_bins, MISSING_BIN, l2, 1, 0)
        best = max(candidates, key=lambda c: c.gain)
        assert (result.feature, result.bin) == (best.feature, best.bin)
        assert_allclose(result.gain, best.gain, rtol=1e-10)
        chosen.add((result.feature, result.bin))
    assert len(chosen) == 2, "l2 should change the best split on this data"


def test_find_best_split_thread_count_independent():
    X, g, h, rows, n_bins = make_node(4, n_samples=400)
    X = np.asfortranarray(np.tile(X, (1, 4)))  # 16 features
    n_bins = np.tile(n_bins, 4)
    results = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            results.append(search(X, g, h, rows, n_bins, 0.5, 5, 0.1))
    assert results[0] == results[1]
    # Duplicated features tie: the lowest feature index wins.
    assert results[0].feature < 4


@pytest.mark.parametrize("l2", [0.0, 0.1, 3.0])
def test_leaf_value_is_newton_step(l2):
    rng = np.random.RandomState(0)
    for _ in range(20):
        sum_g = rng.normal() * 10
        sum_h = rng.uniform(0.01, 10)
        value = leaf_value(sum_g, sum_h, l2)
        assert_allclose(value, -sum_g / (sum_h + l2), rtol=1e-15)
        # It minimises the second-order model G v + (H + l2) v^2 / 2.
        grid = value + np.linspace(-1, 1, 201)
        model = sum_g * grid + 0.5 * (sum_h + l2) * grid**2
        assert np.argmin(model) == 100


def test_leaf_value_with_vanishing_denominator_is_zero():
    assert leaf_value(3.0, 0.0, 0.0) == 0.0
    assert leaf_value(-3.0, -1.0, 0.5) == 0.0
    assert leaf_value(0.0, 2.0, 0.0) == 0.0


def test_leaf_value_never_overflows_to_infinity():
    # Hessians that underflowed after a divergence: -G/H is not finite in
    # float64, and an infinite leaf would poison every prediction.
    with np.errstate(over="ignore"):
        assert not np.isfinite(-np.float64(3.0) / np.float64(1e-320))
    assert leaf_value(3.0, 1e-320, 0.0) == 0.0
    assert leaf_value(-3.0, 1e-320, 0.0) == 0.0
    # A large but finite step is kept.
    assert leaf_value(-1.0, 1e-300, 0.0) == 1.0 / 1e-300


def reference_partition(rows, column, bin_threshold, missing_go_left):
    bins = column[rows]
    left = np.where(bins == MISSING_BIN, missing_go_left, bins <= bin_threshold)
    return np.concatenate([rows[left], rows[~left]]), int(left.sum())


@pytest.mark.parametrize("missing_go_left", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("bin_threshold", [0, 5, 15])
def test_partition_is_a_stable_partition(seed, missing_go_left, bin_threshold):
    rng = np.random.RandomState(seed + bin_threshold)
    n = 500
    column = rng.randint(0, 16, size=n).astype(np.uint8)
    column[rng.rand(n) < 0.2] = MISSING_BIN
    for rows in (
        np.sort(rng.choice(n, 333, replace=False)),  # sorted, as in the grower
        rng.permutation(n)[:100],  # any order must be kept, too
        np.arange(n),
        np.array([17]),
        np.array([], dtype=np.int64),
    ):
        rows = rows.astype(np.uint32)
        expected, expected_n_left = reference_partition(
            rows, column, bin_threshold, missing_go_left
        )
        work = rows.copy()
        buffer = np.empty(n, dtype=np.uint32)
        n_left = partition(
            work, column, bin_threshold, missing_go_left, MISSING_BIN, buffer
        )
        assert n_left == expected_n_left
        assert_array_equal(work, expected)


def test_partition_of_a_slice_leaves_the_rest_alone():
    # The grower partitions a node's slice of one big index array in place.
    rng = np.random.RandomState(1)
    n = 200
    column = rng.randint(0, 16, size=n).astype(np.uint8)
    indices = rng.permutation(n).astype(np.uint32)
    before = indices.copy()
    node = indices[50:150]
    expected, n_left_expected = reference_partition(node.copy(), column, 7, True)
    n_left = partition(node, column, 7, True, MISSING_BIN, np.empty(n, np.uint32))
    assert n_left == n_left_expected
    assert_array_equal(indices[50:150], expected)
    assert_array_equal(indices[:50], before[:50])
    assert_array_equal(indices[150:], before[150:])


def test_partition_of_wide_bins_is_a_stable_partition():
    rng = np.random.RandomState(0)
    column = rng.randint(0, 1024, size=500).astype(np.uint16)
    rows = np.sort(rng.choice(500, 300, replace=False)).astype(np.uint32)
    expected_left = [r for r in rows if column[r] <= 700 or column[r] == 1023]
    expected_right = [r for r in rows if 700 < column[r] < 1023]
    work = rows.copy()
    n_left = partition(work, column, 700, True, 1023, np.empty_like(work))
    assert n_left == len(expected_left)
    assert_array_equal(work, expected_left + expected_right)


# -- categorical splits ------------------------------------------------------
def categorical_search(X, g, h, rows, n_bins_non_missing, missing_bin, l2=0.0,
                       min_samples_leaf=1, min_hessian=0.0, is_categorical=None,
                       monotonic_cst=None, bounds=(-np.inf, np.inf)):
    """``find_best_split`` on the exact histogram of ``rows``, any missing bin."""
    n_bins = missing_bin + 1
    hist = np.zeros((X.shape[1], n_bins, 3))
    for f in range(X.shape[1]):
        bins = X[rows, f].astype(np.int64)
        hist[f, :, 0] = np.bincount(bins, weights=g[rows], minlength=n_bins)
        hist[f, :, 1] = np.bincount(bins, weights=h[rows], minlength=n_bins)
        hist[f, :, 2] = np.bincount(bins, minlength=n_bins)
    node = NodeSums(float(g[rows].sum()), float(h[rows].sum()), float(len(rows)),
                    *bounds)
    constraints = SplitConstraints(l2, float(min_samples_leaf), min_hessian)
    allowed = np.ones(X.shape[1], dtype=np.uint8)
    return find_best_split(hist, np.asarray(n_bins_non_missing, dtype=np.uint32),
                           missing_bin, node, constraints, allowed, is_categorical,
                           monotonic_cst)


def left_set(split):
    """The bins of a split's ``left_categories`` bitset."""
    return {
        64 * w + b
        for w, word in enumerate(split.left_categories)
        for b in range(64)
        if (int(word) >> b) & 1
    }


def categorical_column(seed, n_categories, n_samples, missing_bin, missing_fraction):
    """Codes with skewed frequencies (some below 10 rows), NaNs as missing_bin,
    and gradients with a random effect per category (the missing one too)."""
    rng = np.random.RandomState(seed)
    p = rng.dirichlet(np.full(n_categories, 0.8))
    codes = rng.choice(n_categories, n_samples, p=p).astype(np.int64)
    codes[rng.rand(n_samples) < missing_fraction] = missing_bin
    effects = rng.normal(size=missing_bin + 1)
    g = effects[codes] + 0.5 * rng.normal(size=n_samples)
    h = rng.uniform(0.2, 2.0, size=n_samples)
    return codes, g, h


def expected_categorical_split(codes, g, h, n_categories, missing_bin, l2,
                               min_samples_leaf, min_hessian):
    """(gain, left set, missing_go_left) by the documented search, done with
    masks over the rows: categories of >= 10 rows (the missing one last),
    stably sorted by G / (H + 10), the first k or the last k go left."""
    def score(sg, sh):
        return sg * sg / (sh + l2) if sh + l2 > 0 else 0.0

    cats = [b for b in [*range(n_categories), missing_bin]
            if np.count_nonzero(codes == b) >= 10]
    if len(cats) < 2:
        return None
    ratios = [g[codes == b].sum() / (h[codes == b].sum() + 10.0) for b in cats]
    ordered = [cats[i] for i in np.argsort(ratios, kind="stable")]
    n = len(ordered)
    sets = [ordered[:k] for k in range(1, min(32, (n + 1) // 2) + 1)]
    sets += [ordered[n - k:] for k in range(1, min(32, (n + 1) // 2 - 1) + 1)]
    best = None
    for chosen in sets:
        left = np.isin(codes, chosen)
        n_l = left.sum()
        h_l, h_r = h[left].sum(), h[~left].sum()
        if min(n_l, len(codes) - n_l) < min_samples_leaf or min(h_l, h_r) < min_hessian:
            continue
        gain = (score(g[left].sum(), h_l) + score(g[~left].sum(), h_r)
                - score(g.sum(), h.sum()))
        if best is None or gain > best[0]:
            best = (gain, set(chosen) - {missing_bin}, missing_bin in chosen)
    return best


@pytest.mark.parametrize("min_samples_leaf, min_hessian", CONSTRAINTS[:3])
@pytest.mark.parametrize("l2", [0.0, 1.5])
@pytest.mark.parametrize("seed", range(6))
def test_categorical_split_is_the_best_scan_of_sorted_categories(
    seed, l2, min_samples_leaf, min_hessian
):
    n_categories = [3, 12, 40][seed % 3]
    missing_bin = 63
    codes, g, h = categorical_column(seed, n_categories, 600, missing_bin,
                                     [0.0, 0.1][seed % 2])
    X = np.asfortranarray(codes.astype(np.uint8)[:, None])
    rows = np.arange(len(g), dtype=np.uint32)
    split = categorical_search(X, g, h, rows, [n_categories], missing_bin, l2,
                               min_samples_leaf, min_hessian,
                               is_categorical=np.ones(1, dtype=np.uint8))
    expected = expected_categorical_split(codes, g, h, n_categories, missing_bin, l2,
                                          min_samples_leaf, min_hessian)
    assert expected is not None, "the test data must admit a split"
    assert (split.feature, split.bin, split.is_categorical) == (0, 0, True)
    assert_allclose(split.gain, expected[0], rtol=1e-10)
    assert left_set(split) == expected[1]
    assert split.missing_go_left == expected[2]
    # The reported left sums are those of the rows the split sends left.
    left = np.where(codes == missing_bin, split.missing_go_left,
                    np.isin(codes, list(left_set(split))))
    assert_allclose(split.sum_gradient_left, g[left].sum(), rtol=1e-10, atol=1e-10)
    assert_allclose(split.sum_hessian_left, h[left].sum(), rtol=1e-10)
    # Categories with fewer than 10 rows never go left.
    counts = np.bincount(codes, minlength=missing_bin + 1)
    assert all(counts[b] >= 10 for b in left_set(split))


def test_categorical_split_of_well_populated_categories_is_the_best_partition():
    # 8 categories of 60 rows and unit hessians: ordering by G / (H + 10) is
    # ordering by mean gradient, and (Fisher) the best of all 2^8 - 2
    # partitions is contiguous in that order, which the two scans cover.
    rng = np.random.RandomState(3)
    codes = np.repeat(np.arange(8), 60)
    g = rng.normal(size=8)[codes] + rng.normal(size=len(codes))
    h = np.ones(len(codes))
    X = np.asfortranarray(codes.astype(np.uint8)[:, None])
    rows = np.arange(len(g), dtype=np.uint32)
    split = categorical_search(X, g, h, rows, [8], 255,
                               is_categorical=np.ones(1, dtype=np.uint8))
    best_gain, best_set = -np.inf, None
    for mask in range(1, 2**8 - 1):
        chosen = [b for b in range(8) if (mask >> b) & 1]
        left = np.isin(codes, chosen)
        gain = (g[left].sum() ** 2 / left.sum() + g[~left].sum() ** 2 / (~left).sum()
                - g.sum() ** 2 / len(g))
        if gain > best_gain:
            best_gain, best_set = gain, set(chosen)
    assert_allclose(split.gain, best_gain, rtol=1e-10)
    assert left_set(split) in (best_set, set(range(8)) - best_set)


def test_categorical_split_separates_a_set_no_threshold_can():
    # The gradient depends on code in {1, 4, 6}: one categorical split is
    # perfect, no threshold on the codes is.
    rng = np.random.RandomState(0)
    codes = rng.randint(0, 10, size=1000)
    g = np.where(np.isin(codes, [1, 4, 6]), -1.0, 1.0)
    h = np.ones(len(g))
    X = np.asfortranarray(codes.astype(np.uint8)[:, None])
    rows = np.arange(len(g), dtype=np.uint32)
    split = categorical_search(X, g, h, rows, [10], 255,
                               is_categorical=np.ones(1, dtype=np.uint8))
    assert split.is_categorical and left_set(split) == {1, 4, 6}
    # The perfect split gains all: sum g^2 / h per side minus the parent's.
    n_l = np.isin(codes, [1, 4, 6]).sum()
    assert_allclose(split.gain, n_l + (len(g) - n_l) - g.sum() ** 2 / len(g))
    numeric = categorical_search(X, g, h, rows, [10], 255)
    assert not numeric.is_categorical and numeric.gain < 0.8 * split.gain


@pytest.mark.parametrize(
    "n_missing, missing_gradient", [(30, -1.0), (30, 1.0), (9, -1.0)]
)
def test_missing_values_are_a_category_of_their_own(n_missing, missing_gradient):
    # Categories 0, 1 have gradient -1 and 2, 3 have +1; the missing rows
    # join the side their gradient says if they are at least 10, else they
    # take no part and go right. The missing bin is never in the bitset.
    codes = np.concatenate([np.repeat(np.arange(4), 50), np.full(n_missing, 16)])
    g = np.where(codes < 2, -1.0, 1.0)
    g[codes == 16] = missing_gradient
    h = np.ones(len(g))
    X = np.asfortranarray(codes.astype(np.uint8)[:, None])
    rows = np.arange(len(g), dtype=np.uint32)
    split = categorical_search(X, g, h, rows, [4], 16,
                               is_categorical=np.ones(1, dtype=np.uint8))
    assert left_set(split) in ({0, 1}, {2, 3})
    missing_side = {0, 1} if missing_gradient < 0 else {2, 3}
    if n_missing >= 10:
        assert split.missing_go_left == (left_set(split) == missing_side)
    else:
        assert not split.missing_go_left
    assert 16 not in left_set(split)


def test_at_most_32_categories_go_left():
    # 100 categories, the 40 with positive gradients against the 60 others:
    # the best split would send those 40 left, the cap allows 32.
    codes = np.repeat(np.arange(100), 12)
    g = np.where(codes < 40, 1.0, -1.0) + 0.01 * (codes % 7)
    h = np.ones(len(g))
    X = np.asfortranarray(codes.astype(np.uint8)[:, None])
    rows = np.arange(len(g), dtype=np.uint32)
    split = categorical_search(X, g, h, rows, [100], 255,
                               is_categorical=np.ones(1, dtype=np.uint8))
    chosen = left_set(split)
    assert len(chosen) == 32
    assert chosen <= set(range(40))


def test_the_bitset_reaches_category_255():
    # 256 categories (wide bins, missing bin 600): the best left set is
    # {250, ..., 255}, in the last word of the bitset.
    codes = np.repeat(np.arange(256), 10)
    g = np.where(codes >= 250, -3.0, 1.0)
    h = np.ones(len(g))
    X = np.asfortranarray(codes.astype(np.uint16)[:, None])
    rows = np.arange(len(g), dtype=np.uint32)
    split = categorical_search(X, g, h, rows, [256], 600,
                               is_categorical=np.ones(1, dtype=np.uint8))
    assert left_set(split) == set(range(250, 256))
    assert split.left_categories[:3] == (0, 0, 0)


def test_numeric_and_categorical_features_in_one_search():
    # Feature 0 is numeric with a threshold effect, feature 1 categorical
    # with a stronger set effect; each kind is searched its own way.
    rng = np.random.RandomState(5)
    n = 800
    X = np.empty((n, 2), dtype=np.uint8, order="F")
    X[:, 0] = rng.randint(0, 16, size=n)
    X[:, 1] = rng.randint(0, 6, size=n)
    g = 0.5 * (X[:, 0] < 8) + 2.0 * np.isin(X[:, 1], [0, 3]) + 0.1 * rng.normal(size=n)
    h = np.ones(n)
    rows = np.arange(n, dtype=np.uint32)
    kinds = np.array([0, 1], dtype=np.uint8)
    split = categorical_search(X, g, h, rows, [16, 6], 16, is_categorical=kinds)
    assert (split.feature, split.is_categorical) == (1, True)
    assert left_set(split) in ({0, 3}, {1, 2, 4, 5})
    # Without feature 1, feature 0 is searched as numeric: a threshold.
    kinds_only_0 = categorical_search(X[:, :1].copy(order="F"), g, h, rows, [16], 16,
                                      is_categorical=kinds[:1])
    assert (kinds_only_0.bin, kinds_only_0.is_categorical) == (7, False)
    assert kinds_only_0.left_categories == (0, 0, 0, 0)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 64, 257])
def test_stable_order_is_a_stable_argsort(n):
    from accelboost._engine.splitting import _stable_order

    rng = np.random.RandomState(n)
    for keys in (rng.normal(size=n), rng.randint(0, 4, size=n) / 3.0, np.zeros(n)):
        padded = np.concatenate([keys, rng.normal(size=3)])  # only keys[:n] count
        assert_array_equal(_stable_order(padded, n), np.argsort(keys, kind="stable"))


def reference_partition_categorical(rows, column, chosen, missing_go_left, missing_bin):
    bins = column[rows]
    left = np.where(bins == missing_bin, missing_go_left, np.isin(bins, list(chosen)))
    return np.concatenate([rows[left], rows[~left]]), int(left.sum())


@pytest.mark.parametrize("missing_go_left", [False, True])
@pytest.mark.parametrize("dtype, n_categories, missing_bin",
                         [(np.uint8, 16, 255), (np.uint16, 256, 1023)])
def test_partition_categorical_is_a_stable_partition(
    dtype, n_categories, missing_bin, missing_go_left
):
    rng = np.random.RandomState(n_categories)
    n = 500
    column = rng.randint(0, n_categories, size=n).astype(dtype)
    column[rng.rand(n) < 0.2] = missing_bin
    chosen = set(rng.choice(n_categories, n_categories // 3, replace=False).tolist())
    chosen.add(n_categories - 1)
    words = np.zeros(4, dtype=np.uint64)
    for b in chosen:
        words[b // 64] |= np.uint64(1) << np.uint64(b % 64)
    for rows in (rng.permutation(n)[:300], np.arange(n), np.array([], dtype=np.int64)):
        rows = rows.astype(np.uint32)
        expected, expected_n_left = reference_partition_categorical(
            rows, column, chosen, missing_go_left, missing_bin)
        work = rows.copy()
        n_left = partition_categorical(work, column, words, missing_go_left,
                                       missing_bin, np.empty(n, dtype=np.uint32))
        assert n_left == expected_n_left
        assert_array_equal(work, expected)


# -- monotonic constraints ------------------------------------------------------
def clipped(sum_g, sum_h, l2, lower, upper):
    value = -sum_g / (sum_h + l2) if sum_h + l2 > 0 else 0.0
    return min(max(value, lower), upper)


def side_score(sum_g, sum_h, l2, lower, upper):
    """Twice the second-order loss decrease at the clipped value."""
    v = clipped(sum_g, sum_h, l2, lower, upper)
    return -(2 * sum_g * v + (sum_h + l2) * v * v)


@pytest.mark.parametrize("bounds", [(-np.inf, np.inf), (-0.3, 0.4), (0.1, np.inf)])
@pytest.mark.parametrize("l2", [0.0, 1.5])
@pytest.mark.parametrize("seed", range(4))
def test_monotonic_split_search_equals_brute_force(
    seed, l2, bounds, brute_force_splits, goes_left
):
    X, g, h, rows, n_bins = make_node(seed, with_missing=seed % 2 == 1)
    rng = np.random.RandomState(seed)
    monotonic = rng.randint(-1, 2, size=X.shape[1]).astype(np.int8)
    monotonic[0] = 1 - 2 * (seed % 2)
    split = categorical_search(X, g, h, rows, n_bins, MISSING_BIN, l2, 5, 0.0,
                               monotonic_cst=monotonic, bounds=bounds)
    G, H = g[rows].sum(), h[rows].sum()
    parent = side_score(G, H, l2, *bounds)
    admissible = []
    for c in brute_force_splits(X, rows, g, h, n_bins, MISSING_BIN, l2, 5, 0.0):
        v_l = clipped(c.sum_gradient_left, c.sum_hessian_left, l2, *bounds)
        v_r = clipped(G - c.sum_gradient_left, H - c.sum_hessian_left, l2, *bounds)
        if monotonic[c.feature] * (v_r - v_l) < 0:
            continue
        gain = (side_score(c.sum_gradient_left, c.sum_hessian_left, l2, *bounds)
                + side_score(G - c.sum_gradient_left, H - c.sum_hessian_left, l2,
                             *bounds) - parent)
        admissible.append((gain, c))
    gain = max(a[0] for a in admissible)
    assert_allclose(split.gain, gain, rtol=1e-9, atol=1e-12)
    if l2 == 0:
        # Every admissible split gains at least zero: the node's own value
        # is a choice open to both children (with l2 > 0 it costs twice).
        assert min(a[0] for a in admissible) > -1e-9
    # The split is one of the admissible candidates of that best gain (under
    # clipping, several often tie: both sides clipped to a bound).
    left = goes_left(X[rows, split.feature], split.bin, split.missing_go_left,
                     MISSING_BIN)
    same = [
        a for a in admissible
        if a[1].feature == split.feature
        and np.array_equal(left, goes_left(X[rows, a[1].feature], a[1].bin,
                                           a[1].missing_go_left, MISSING_BIN))
    ]
    assert same, "the split must be an admissible candidate"
    assert_allclose(same[0][0], gain, rtol=1e-9, atol=1e-12)
    # Its children's clipped values respect the split feature's constraint.
    v_l = clipped(split.sum_gradient_left, split.sum_hessian_left, l2, *bounds)
    v_r = clipped(G - split.sum_gradient_left, H - split.sum_hessian_left, l2, *bounds)
    assert monotonic[split.feature] * (v_r - v_l) >= 0


def test_a_monotonic_constraint_against_the_data_forbids_its_splits():
    # The gradient rises with the bin (the Newton step falls): under +1 no
    # split of feature 0 is admissible, under -1 the unconstrained best is.
    n = 400
    X = np.asfortranarray(np.repeat(np.arange(8), n // 8).astype(np.uint8)[:, None])
    g = X[:, 0] - 3.5
    h = np.ones(n)
    rows = np.arange(n, dtype=np.uint32)
    free = categorical_search(X, g, h, rows, [8], MISSING_BIN)
    up = categorical_search(X, g, h, rows, [8], MISSING_BIN,
                            monotonic_cst=np.ones(1, dtype=np.int8))
    down = categorical_search(X, g, h, rows, [8], MISSING_BIN,
                              monotonic_cst=-np.ones(1, dtype=np.int8))
    assert free.feature == 0 and up.feature == -1
    assert down == free


def test_bounds_without_clipping_leave_the_gain_bit_for_bit():
    X, g, h, rows, n_bins = make_node(1)
    free = categorical_search(X, g, h, rows, n_bins, MISSING_BIN, 0.5, 5)
    wide = categorical_search(X, g, h, rows, n_bins, MISSING_BIN, 0.5, 5,
                              monotonic_cst=np.zeros(4, dtype=np.int8),
                              bounds=(-1e6, 1e6))
    assert free == wide
