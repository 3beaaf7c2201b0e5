"""Binning: thresholds, the bin/threshold invariant, NaN handling, layout."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._engine.binning import BinMapper, find_bin_thresholds, map_to_bins
from accelboost._engine.common import MAX_BINS, X_BINNED_DTYPE

pytestmark = pytest.mark.usefixtures("single_thread")


def reference_bins(x, thresholds, missing_bin):
    """Bin of each value: the number of thresholds strictly below it."""
    bins = np.searchsorted(thresholds, x, side="left")
    return np.where(np.isnan(x), missing_bin, bins)


def adjacent_floats(start, k):
    """``k`` consecutive representable floats starting at ``start``."""
    out = [start]
    for _ in range(k - 1):
        out.append(np.nextafter(out[-1], np.inf))
    return np.array(out)


def make_column(kind, rng, n=1000):
    if kind == "normal":
        return rng.normal(size=n)
    if kind == "ties":  # ~600 distinct values, heavy ties: quantile path
        return np.round(rng.normal(size=n) * 100) / 100
    if kind == "integers":  # 10 distinct values: midpoint path
        return rng.randint(0, 10, size=n).astype(float)
    if kind == "mostly_one_value":  # percentiles collapse onto one value
        col = rng.normal(size=n)
        col[rng.rand(n) < 0.9] = 3.0
        return col
    if kind == "adjacent_floats":
        return rng.choice(adjacent_floats(1.0, 20), size=n)
    if kind == "adjacent_floats_many":  # > 255 adjacent floats: quantile path
        return rng.choice(adjacent_floats(-2.0, 400), size=n)
    if kind == "huge":  # midpoints of these overflow
        return rng.choice([-1.7e308, -1e308, 0.0, 1e308, 1.7e308], size=n)
    if kind == "huge_continuous":  # so do the averaged quantiles
        return rng.uniform(1e308, 1.7e308, size=n)
    if kind == "tiny":  # subnormals
        return rng.choice(adjacent_floats(0.0, 6), size=n) * rng.choice([-1, 1], n)
    if kind == "heavy_tail":
        return rng.standard_cauchy(size=n) * 1e6
    if kind == "with_nan":
        col = rng.normal(size=n)
        col[rng.rand(n) < 0.2] = np.nan
        return col
    if kind == "constant":
        return np.full(n, 7.5)
    if kind == "all_nan":
        return np.full(n, np.nan)
    if kind == "distinct_255":  # the most the midpoint path takes
        return rng.permutation(np.arange(n) % 255).astype(float)
    if kind == "distinct_256":  # the fewest the quantile path takes
        return rng.permutation(np.arange(n) % 256).astype(float)
    raise ValueError(kind)


KINDS = [
    "normal",
    "ties",
    "integers",
    "mostly_one_value",
    "adjacent_floats",
    "adjacent_floats_many",
    "huge",
    "huge_continuous",
    "tiny",
    "heavy_tail",
    "with_nan",
    "constant",
    "all_nan",
    "distinct_255",
    "distinct_256",
]


def check_invariant(x, bins, thresholds):
    """``x <= thresholds[b]`` iff ``bin(x) <= b``, for every b and finite x."""
    keep = ~np.isnan(x)
    x, bins = x[keep], bins[keep].astype(np.int64)
    for b, t in enumerate(thresholds):
        assert_array_equal(x <= t, bins <= b, err_msg=f"threshold {b} = {t!r}")
    # The last bin holds the values above every threshold.
    assert np.all(bins <= len(thresholds))


@pytest.mark.parametrize("max_bins", [2, 7, 64, 255])
@pytest.mark.parametrize("kind", KINDS)
def test_thresholds_strictly_increasing_and_at_most_max_bins(kind, max_bins):
    col = make_column(kind, np.random.RandomState(0))
    with np.errstate(over="ignore", invalid="ignore"):
        t = find_bin_thresholds(col, max_bins)
    assert t.dtype == np.float64
    assert t.ndim == 1
    assert not np.any(np.isnan(t))
    assert np.all(np.diff(t) > 0)
    assert len(t) + 1 <= max_bins
    # The thresholds lie within the data (a threshold may equal the largest
    # value when that value is heavily tied: quantiles land on it).
    finite = col[~np.isnan(col)]
    if len(t):
        assert t[0] >= finite.min()
        assert t[-1] <= finite.max()


@pytest.mark.parametrize("max_bins", [2, 7, 255])
@pytest.mark.parametrize("kind", KINDS)
def test_bin_threshold_invariant_on_training_data(kind, max_bins):
    rng = np.random.RandomState(1)
    X = np.column_stack([make_column(kind, rng), make_column("normal", rng)])
    with np.errstate(over="ignore", invalid="ignore"):
        mapper = BinMapper(max_bins=max_bins).fit(X)
    binned = mapper.transform(X)
    for f in range(X.shape[1]):
        check_invariant(X[:, f], binned[:, f], mapper.bin_thresholds_[f])


@pytest.mark.parametrize("kind", ["normal", "ties", "integers", "adjacent_floats"])
def test_bin_threshold_invariant_on_unseen_values_at_the_thresholds(kind):
    # The values a split is most likely to get wrong: the thresholds
    # themselves and their immediate float neighbours.
    rng = np.random.RandomState(2)
    col = make_column(kind, rng)
    mapper = BinMapper(max_bins=16).fit(col[:, None])
    t = mapper.bin_thresholds_[0]
    probe = np.concatenate(
        [
            t,
            np.nextafter(t, -np.inf),
            np.nextafter(t, np.inf),
            rng.normal(size=200),
            [-1e300, 1e300, np.nan],
        ]
    )
    binned = mapper.transform(probe[:, None])[:, 0]
    check_invariant(probe, binned, t)
    assert_array_equal(binned, reference_bins(probe, t, mapper.missing_bin_))


@pytest.mark.parametrize("max_bins", [2, 5, 255])
@pytest.mark.parametrize("seed", range(3))
def test_transform_equals_searchsorted(seed, max_bins):
    rng = np.random.RandomState(seed)
    X = np.column_stack([make_column(k, rng, n=500) for k in KINDS])
    with np.errstate(over="ignore", invalid="ignore"):
        mapper = BinMapper(max_bins=max_bins).fit(X)
    binned = mapper.transform(X)
    for f, t in enumerate(mapper.bin_thresholds_):
        assert_array_equal(binned[:, f], reference_bins(X[:, f], t, max_bins))


@pytest.mark.parametrize("max_bins", [2, 5, 255])
def test_thresholds_table_is_the_padded_thresholds(max_bins):
    # ``thresholds_`` is what the grower reads a split's raw threshold from:
    # every feature's thresholds, then +inf up to max_bins columns.
    rng = np.random.RandomState(7)
    X = np.column_stack([make_column(k, rng, n=500) for k in KINDS])
    with np.errstate(over="ignore", invalid="ignore"):
        mapper = BinMapper(max_bins=max_bins).fit(X)
    table = mapper.thresholds_
    assert table.shape == (X.shape[1], max_bins) and table.dtype == np.float64
    binned = mapper.transform(X)
    for f, t in enumerate(mapper.bin_thresholds_):
        assert_array_equal(table[f, : len(t)], t)
        assert np.all(table[f, len(t) :] == np.inf)
        # A split ``bin <= b`` is the split ``x <= thresholds_[f, b]``.
        values = ~np.isnan(X[:, f])
        for b in range(mapper.n_bins_non_missing_[f]):
            assert_array_equal(
                binned[values, f] <= b, X[values, f] <= table[f, b]
            )


def test_map_to_bins_kernel_equals_searchsorted():
    # The kernel on its own, with thresholds of different lengths per feature
    # padded with +inf, and a C-ordered input.
    rng = np.random.RandomState(3)
    X = rng.normal(size=(400, 3))
    X[rng.rand(400, 3) < 0.1] = np.nan
    thresholds = [np.sort(rng.normal(size=k)) for k in (0, 1, 9)]
    padded = np.full((3, 10), np.inf)
    for f, t in enumerate(thresholds):
        padded[f, : len(t)] = t
    n_bins = np.array([len(t) + 1 for t in thresholds], dtype=np.uint32)
    binned = np.full(X.shape, 77, dtype=np.uint8, order="F")
    map_to_bins(X, padded, n_bins, 10, binned)
    for f, t in enumerate(thresholds):
        assert_array_equal(binned[:, f], reference_bins(X[:, f], t, 10))


@pytest.mark.parametrize("max_bins", [2, 16, 255])
def test_nan_goes_to_the_missing_bin(max_bins):
    rng = np.random.RandomState(4)
    X = rng.normal(size=(500, 3))
    nan_mask = rng.rand(500, 3) < 0.25
    X[nan_mask] = np.nan
    mapper = BinMapper(max_bins=max_bins).fit(X)
    binned = mapper.transform(X)
    assert mapper.missing_bin_ == max_bins
    assert_array_equal(binned[nan_mask], max_bins)
    # Non-missing values never use the missing bin.
    for f in range(3):
        non_missing = binned[~nan_mask[:, f], f]
        assert non_missing.max() < mapper.n_bins_non_missing_[f]
        assert mapper.n_bins_non_missing_[f] <= max_bins
    # NaN in the thresholds' data is ignored: same thresholds without the NaNs.
    for f in range(3):
        assert_array_equal(
            mapper.bin_thresholds_[f],
            find_bin_thresholds(X[~nan_mask[:, f], f], max_bins),
        )


def test_all_nan_and_constant_columns_get_one_bin():
    X = np.column_stack([np.full(50, np.nan), np.full(50, -3.0)])
    X[::7, 1] = np.nan
    mapper = BinMapper(max_bins=255).fit(X)
    assert_array_equal(mapper.n_bins_non_missing_, [1, 1])
    binned = mapper.transform(X)
    assert_array_equal(binned[:, 0], 255)
    assert_array_equal(binned[:, 1], np.where(np.isnan(X[:, 1]), 255, 0))


@pytest.mark.parametrize(
    "distinct",
    [
        np.array([4.0]),
        np.array([-1.0, 2.0]),
        np.array([0.1, 0.2, 0.3, 10.0, 1e6]),
        adjacent_floats(1.0, 5),
        adjacent_floats(-1.0, 5),
        adjacent_floats(0.0, 5),  # subnormals
        np.array([-1.7976931348623157e308, -1e308, 0.0, 1e308, 1.7976931348623157e308]),
        np.arange(255.0) ** 2,
    ],
    ids=["1", "2", "5", "adjacent", "adjacent_neg", "subnormal", "huge", "255"],
)
def test_few_distinct_values_get_one_bin_each(distinct):
    rng = np.random.RandomState(5)
    k = len(distinct)
    # Repeat the values in random order: ties must not matter.
    col = rng.permutation(np.repeat(distinct, 3))
    with np.errstate(over="ignore"):
        mapper = BinMapper(max_bins=255).fit(col[:, None])
    assert mapper.n_bins_non_missing_[0] == k
    binned = mapper.transform(col[:, None])[:, 0]
    # The i-th smallest distinct value is in bin i.
    assert_array_equal(binned, np.searchsorted(distinct, col))
    assert_array_equal(mapper.transform(distinct[:, None])[:, 0], np.arange(k))


def test_midpoint_thresholds_with_few_distinct_values():
    t = find_bin_thresholds(np.array([3.0, 1.0, 1.0, 2.0, np.nan, 5.0]), 255)
    assert_allclose(t, [1.5, 2.5, 4.0], rtol=0, atol=0)


@pytest.mark.parametrize("max_bins", [4, 10, 50])
def test_quantile_bins_are_balanced(max_bins):
    # Distinct values: every quantile bin holds n / max_bins of them.
    rng = np.random.RandomState(6)
    n = 5000
    col = rng.exponential(size=n)
    mapper = BinMapper(max_bins=max_bins).fit(col[:, None])
    assert mapper.n_bins_non_missing_[0] == max_bins
    counts = np.bincount(mapper.transform(col[:, None])[:, 0], minlength=max_bins)
    assert counts.sum() == n
    assert np.all(np.abs(counts - n / max_bins) <= 1)


@pytest.mark.parametrize("max_bins", [256, 600, MAX_BINS])
def test_more_than_255_bins_are_uint16_and_follow_the_reference(max_bins):
    rng = np.random.RandomState(max_bins)
    X = rng.standard_t(2, size=(5000, 3))  # heavy tails, all distinct
    X[::11, 1] = np.nan
    mapper = BinMapper(max_bins=max_bins).fit(X)
    binned = mapper.transform(X)
    assert binned.dtype == np.uint16 and binned.flags.f_contiguous
    assert mapper.missing_bin_ == max_bins
    assert mapper.n_bins_non_missing_.max() == max_bins
    for f, t in enumerate(mapper.bin_thresholds_):
        assert_array_equal(binned[:, f], reference_bins(X[:, f], t, max_bins))
    assert BinMapper(max_bins=255).fit(X).transform(X).dtype == np.uint8


def test_binned_output_is_fortran_ordered_uint8():
    rng = np.random.RandomState(7)
    X = rng.normal(size=(100, 5))
    X[::9, 2] = np.nan
    mapper = BinMapper(max_bins=255).fit(X)
    reference = mapper.transform(X)
    assert reference.dtype == X_BINNED_DTYPE == np.uint8
    assert reference.flags.f_contiguous
    assert reference.shape == X.shape
    assert_array_equal(mapper.fit_transform(X), reference)
    # Memory layout and dtype of the input do not change the bins.
    assert_array_equal(mapper.transform(np.asfortranarray(X)), reference)
    X_strided = np.empty((100, 10))
    X_strided[:, ::2] = X
    assert_array_equal(mapper.transform(X_strided[:, ::2]), reference)
    X32 = X.astype(np.float32)
    mapper32 = BinMapper(max_bins=255).fit(X32)
    binned32 = mapper32.transform(X32)
    assert binned32.dtype == np.uint8
    for f, t in enumerate(mapper32.bin_thresholds_):
        assert_array_equal(
            binned32[:, f], reference_bins(X32[:, f].astype(np.float64), t, 255)
        )


@pytest.mark.parametrize("max_bins", [0, 1, MAX_BINS + 1])
def test_invalid_max_bins_raises(max_bins):
    with pytest.raises(ValueError, match="max_bins"):
        BinMapper(max_bins=max_bins).fit(np.zeros((5, 1)))


def test_subsample_fits_on_a_seeded_subset():
    rng = np.random.RandomState(8)
    X = rng.normal(size=(3000, 2))
    a = BinMapper(max_bins=32, subsample=500, random_state=0).fit(X)
    b = BinMapper(max_bins=32, subsample=500, random_state=0).fit(X)
    full = BinMapper(max_bins=32, subsample=None).fit(X)
    for f in range(2):
        assert_array_equal(a.bin_thresholds_[f], b.bin_thresholds_[f])
        assert_array_equal(full.bin_thresholds_[f], find_bin_thresholds(X[:, f], 32))
        # The subsample is really a subsample: other thresholds than the full
        # data's, yet the invariant holds on all rows.
        assert not np.array_equal(a.bin_thresholds_[f], full.bin_thresholds_[f])
        check_invariant(X[:, f], a.transform(X)[:, f], a.bin_thresholds_[f])
    # Same thresholds as binning the subset of rows it draws.
    rows = np.sort(np.random.RandomState(0).choice(3000, 500, replace=False))
    assert_array_equal(a.bin_thresholds_[0], find_bin_thresholds(X[rows, 0], 32))


@pytest.mark.parametrize("max_bins", [2, 16, 255])
@pytest.mark.parametrize("kind", ["normal", "ties", "integers", "mostly_one_value"])
def test_quantile_thresholds_are_averaged_inverted_cdf(kind, max_bins):
    col = make_column(kind, np.random.RandomState(10), n=600)
    t = find_bin_thresholds(col, max_bins)
    distinct = np.unique(col)
    if len(distinct) <= max_bins:
        expected = 0.5 * (distinct[:-1] + distinct[1:])
    else:
        q = np.arange(1, max_bins) / max_bins
        expected = np.unique(np.quantile(col, q, method="averaged_inverted_cdf"))
    assert_allclose(t, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("max_bins", [4, 16, 255])
@pytest.mark.parametrize("kind", ["normal", "ties", "integers", "with_nan"])
def test_integer_weights_bin_like_repeated_rows(kind, max_bins):
    rng = np.random.RandomState(11)
    col = make_column(kind, rng, n=300)
    weights = rng.randint(0, 4, size=300)
    repeated = np.repeat(col, weights)
    for w in (weights, weights.astype(np.float64)):
        assert_array_equal(
            find_bin_thresholds(col, max_bins, w),
            find_bin_thresholds(repeated, max_bins),
        )
    X = np.column_stack([col, make_column("normal", rng, n=300)])
    weighted = BinMapper(max_bins=max_bins, subsample=None).fit(X, weights)
    repeated_mapper = BinMapper(max_bins=max_bins, subsample=None).fit(
        np.repeat(X, weights, axis=0)
    )
    for f in range(2):
        assert_array_equal(
            weighted.bin_thresholds_[f], repeated_mapper.bin_thresholds_[f]
        )
    assert_array_equal(weighted.transform(X), repeated_mapper.transform(X))


def test_zero_weight_rows_are_ignored():
    rng = np.random.RandomState(12)
    col = rng.normal(size=400)
    weights = rng.uniform(0.5, 2.0, size=400)
    weights[::3] = 0.0
    for max_bins in (5, 255):
        assert_array_equal(
            find_bin_thresholds(col, max_bins, weights),
            find_bin_thresholds(col[weights > 0], max_bins, weights[weights > 0]),
        )
    # A value that only zero-weight rows take gets no bin of its own.
    col = np.array([1.0, 2.0, 3.0, 100.0])
    t = find_bin_thresholds(col, 255, np.array([1.0, 1.0, 1.0, 0.0]))
    assert_allclose(t, [1.5, 2.5])


def test_weights_move_the_quantiles():
    # Heavier weight on the small values puts more thresholds among them.
    col = np.linspace(0.0, 1.0, 1001)
    weights = np.where(col < 0.5, 9.0, 1.0)
    t = find_bin_thresholds(col, 10, weights)
    assert len(t) == 9
    assert np.sum(t < 0.5) == 8  # 90% of the weight lies below 0.5
    check_invariant(col, reference_bins(col, t, 10), t)


def test_huge_finite_values_do_not_overflow():
    # Finite values near the float64 limit are valid input (the estimators
    # accept them); (a + b) / 2 overflows there and must not merge bins.
    distinct = np.array([-1.7e308, -1e308, 0.0, 1e308, 1.7e308])
    col = np.repeat(distinct, 3)
    with np.errstate(over="ignore"):
        t = find_bin_thresholds(col, 255)
    assert len(t) == 4 and np.all(np.isfinite(t)), t
    assert_array_equal(reference_bins(distinct, t, 255), np.arange(5))
    # Quantile path: 1000 distinct huge values must fill 8 bins.
    col = np.random.RandomState(13).uniform(1e308, 1.7e308, size=1000)
    with np.errstate(over="ignore"):
        t = find_bin_thresholds(col, 8)
    assert len(t) == 7 and np.all(np.isfinite(t)), t
    counts = np.bincount(reference_bins(col, t, 8), minlength=8)
    assert_array_equal(counts, 125)


def test_thresholds_with_infinite_values():
    # +-inf are ordinary ordered values for binning: they must get bins like
    # any other value and the thresholds must stay NaN-free and increasing.
    rng = np.random.RandomState(9)
    columns = [
        np.array([-np.inf, np.inf, -np.inf, np.inf]),  # midpoint is NaN
        np.array([-np.inf, 0.0, np.inf]),
        np.concatenate([rng.normal(size=300), np.full(100, np.inf)]),
        np.concatenate([rng.normal(size=300), np.full(100, -np.inf)]),
    ]
    for col in columns:
        with np.errstate(invalid="ignore", over="ignore"):
            mapper = BinMapper(max_bins=16).fit(col[:, None])
        t = mapper.bin_thresholds_[0]
        assert not np.any(np.isnan(t)), t
        assert np.all(np.diff(t) > 0)
        binned = mapper.transform(col[:, None])[:, 0]
        check_invariant(col, binned, t)
        # -inf and +inf are never in the same bin.
        if np.isneginf(col).any() and np.isposinf(col).any():
            assert binned[np.isneginf(col)][0] != binned[np.isposinf(col)][0]


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            finite_floats,
            st.sampled_from([0.0, -0.0, 1.0, np.nextafter(1.0, 2.0), np.nan]),
        ),
        min_size=1,
        max_size=60,
    ),
    max_bins=st.integers(2, 255),
)
# Found by hypothesis: the midpoint of these two overflows to -inf.
@example(values=[-2.9937604643020797e292, -1.7976931348623155e308], max_bins=2)
def test_binning_properties_hypothesis(values, max_bins):
    col = np.array(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mapper = BinMapper(max_bins=max_bins).fit(col[:, None])
    t = mapper.bin_thresholds_[0]
    assert not np.any(np.isnan(t))
    assert np.all(np.diff(t) > 0)
    assert len(t) + 1 <= max_bins
    binned = mapper.transform(col[:, None])[:, 0]
    assert_array_equal(binned, reference_bins(col, t, max_bins))
    check_invariant(col, binned, t)
    distinct = np.unique(col[~np.isnan(col)])
    if len(distinct) <= max_bins:
        # One bin per distinct value.
        assert len(t) + 1 == max(len(distinct), 1)
        assert_array_equal(
            mapper.transform(distinct[:, None])[:, 0], np.arange(len(distinct))
        )
