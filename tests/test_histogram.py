"""Histogram kernels against np.bincount, subtraction, thread independence."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._engine.common import HIST_COUNT, HIST_GRAD, HIST_HESS, N_HIST_CHANNELS
from accelboost._engine.histogram import (
    build_histogram,
    build_root_histogram,
    empty_histogram,
    gather,
    subtract_histograms,
)
from accelboost._threads import numba_threads

pytestmark = pytest.mark.usefixtures("single_thread")

MAX_BINS = 255
N_BINS = MAX_BINS + 1  # with the missing bin


def reference_histogram(rows, X_binned, gradients, hessians, n_bins=N_BINS):
    """(sum g, sum h, count) per feature and bin, by np.bincount."""
    n_features = X_binned.shape[1]
    hist = np.zeros((n_features, n_bins, 3))
    for f in range(n_features):
        bins = X_binned[rows, f]
        hist[f, :, 0] = np.bincount(bins, weights=gradients[rows], minlength=n_bins)
        hist[f, :, 1] = np.bincount(bins, weights=hessians[rows], minlength=n_bins)
        hist[f, :, 2] = np.bincount(bins, minlength=n_bins)
    return hist


#: Bins in use by feature ``f`` of ``make_data``: ``FEATURE_BINS[f % 5]``.
FEATURE_BINS = [2, 7, 64, 255, 1]


def bins_of(X):
    """``n_bins_non_missing`` of a ``make_data`` matrix."""
    return np.array([FEATURE_BINS[f % 5] for f in range(X.shape[1])], np.uint32)


def make_data(seed, n_samples=400, n_features=5):
    rng = np.random.RandomState(seed)
    # Each feature uses a different number of bins, all use the missing bin.
    X = np.empty((n_samples, n_features), dtype=np.uint8, order="F")
    for f in range(n_features):
        n_bins = FEATURE_BINS[f % 5]
        X[:, f] = rng.randint(0, n_bins, size=n_samples)
        X[rng.rand(n_samples) < 0.1, f] = MAX_BINS
    gradients = rng.normal(size=n_samples)
    hessians = rng.uniform(0.1, 2.0, size=n_samples)
    return rng, X, gradients, hessians


def histogram(rows, X, gradients, hessians, constant=False, parallel=True):
    rows = np.asarray(rows, dtype=np.uint32)
    hist = np.full((X.shape[1], N_BINS, N_HIST_CHANNELS), np.nan)  # garbage
    build_histogram(
        rows, X, bins_of(X), gradients[rows], hessians[rows], constant, hist, parallel
    )
    return hist


def subsets(rng, n_samples):
    yield "all", np.arange(n_samples)
    yield "half", np.sort(rng.choice(n_samples, n_samples // 2, replace=False))
    yield "few", np.sort(rng.choice(n_samples, 5, replace=False))
    yield "one", np.array([n_samples - 1])
    yield "unsorted", rng.permutation(n_samples)[:100]


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_build_histogram_equals_bincount(seed, parallel):
    rng, X, g, h = make_data(seed)
    for name, rows in subsets(rng, X.shape[0]):
        hist = histogram(rows, X, g, h, parallel=parallel)
        expected = reference_histogram(rows, X, g, h)
        assert_allclose(hist, expected, rtol=1e-12, atol=1e-12, err_msg=name)
        # Counts are exact, and add up to the node size for every feature.
        assert_array_equal(hist[:, :, HIST_COUNT], expected[:, :, 2])
        assert_array_equal(hist[:, :, HIST_COUNT].sum(axis=1), len(rows))


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("constant", [False, True])
def test_root_histogram_is_the_histogram_of_all_rows(constant, parallel):
    _, X, g, h = make_data(4)
    if constant:
        h = np.full_like(h, 0.5)
    root = np.full((X.shape[1], N_BINS, N_HIST_CHANNELS), np.nan)
    build_root_histogram(
        X, bins_of(X), g, h[:1] if constant else h, constant, root, parallel
    )
    # The same sums in the same order as through the index array: bit for bit.
    assert_array_equal(root, histogram(np.arange(X.shape[0]), X, g, h, constant))
    assert_allclose(
        root, reference_histogram(np.arange(X.shape[0]), X, g, h), rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("n_rows", [4095, 4096, 4097, 4099, 9001])
def test_large_nodes_sum_through_lanes_like_bincount(n_rows, parallel):
    # From 4,096 rows the kernel sums features of at most 32 bins (here those
    # of 1, 2 and 7 bins) through interleaved partial histograms; row counts
    # that are not multiples of the lane count leave a remainder.
    rng, X, g, h = make_data(7, n_samples=10_000)
    rows = np.sort(rng.choice(10_000, n_rows, replace=False))
    for constant in (False, True):
        hess = np.full_like(h, 0.25) if constant else h
        hist = histogram(rows, X, g, hess, constant, parallel)
        expected = reference_histogram(rows, X, g, hess)
        assert_allclose(hist, expected, rtol=1e-12, atol=1e-10)
        assert_array_equal(hist[:, :, HIST_COUNT], expected[:, :, 2])
    root = np.empty_like(hist)
    build_root_histogram(X[rows], bins_of(X), g[rows], h[rows], False, root, parallel)
    assert_array_equal(root, histogram(rows, X, g, h, False, parallel))


def test_empty_node_gives_zero_histogram():
    _, X, g, h = make_data(0)
    for constant in (False, True):
        hist = histogram(np.array([], dtype=np.uint32), X, g, h, constant)
        assert_array_equal(hist, 0.0)


def test_histogram_shape_and_dtype():
    hist = empty_histogram(3, N_BINS)
    assert hist.shape == (3, N_BINS, N_HIST_CHANNELS)
    assert hist.dtype == np.float64
    assert (HIST_GRAD, HIST_HESS, HIST_COUNT) == (0, 1, 2)


@pytest.mark.parametrize("constant_value", [1.0, 0.37, 3.0])
def test_constant_hessian_path_equals_general_path(constant_value):
    rng, X, g, _ = make_data(1)
    h = np.full(X.shape[0], constant_value)
    for name, rows in subsets(rng, X.shape[0]):
        general = histogram(rows, X, g, h, constant=False)
        constant = histogram(rows, X, g, h, constant=True)
        # Gradients and counts take the same path: bit for bit.
        assert_array_equal(constant[:, :, HIST_GRAD], general[:, :, HIST_GRAD])
        assert_array_equal(constant[:, :, HIST_COUNT], general[:, :, HIST_COUNT])
        # count * h versus h summed count times: equal up to rounding.
        assert_allclose(
            constant[:, :, HIST_HESS],
            general[:, :, HIST_HESS],
            rtol=1e-13,
            err_msg=name,
        )
        assert_allclose(
            constant, reference_histogram(rows, X, g, h), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("seed", range(3))
def test_subtraction_gives_the_sibling_histogram(seed):
    rng, X, g, h = make_data(seed)
    n = X.shape[0]
    # A node holding a subset of the rows, split into two children.
    parent_rows = np.sort(rng.choice(n, 300, replace=False))
    in_child = rng.rand(len(parent_rows)) < 0.3
    child_rows, sibling_rows = parent_rows[in_child], parent_rows[~in_child]
    parent = histogram(parent_rows, X, g, h)
    child = histogram(child_rows, X, g, h)
    sibling = np.full_like(parent, np.nan)
    subtract_histograms(parent, child, sibling)
    assert_allclose(sibling, histogram(sibling_rows, X, g, h), rtol=0, atol=1e-10)
    assert_allclose(
        sibling, reference_histogram(sibling_rows, X, g, h), rtol=0, atol=1e-10
    )
    assert_array_equal(
        sibling[:, :, HIST_COUNT], reference_histogram(sibling_rows, X, g, h)[:, :, 2]
    )
    # The subtraction itself is elementwise parent - child.
    assert_array_equal(sibling, parent - child)


@pytest.mark.parametrize("parallel", [False, True])
def test_gather_equals_fancy_indexing(parallel):
    rng = np.random.RandomState(0)
    g, h = rng.normal(size=(2, 1000))
    for rows in (
        np.arange(1000),
        np.sort(rng.choice(1000, 37, replace=False)),
        rng.permutation(1000)[:500],
        np.array([], dtype=np.int64),
    ):
        rows = rows.astype(np.uint32)
        out_g, out_h = np.full((2, len(rows)), np.nan)
        gather(g, h, rows, out_g, out_h, parallel)
        assert_array_equal(out_g, g[rows])
        assert_array_equal(out_h, h[rows])
        # Gradients only: the hessians are not read.
        out_g = np.full(len(rows), np.nan)
        gather(g, h[:1], rows, out_g, np.empty(0), parallel)
        assert_array_equal(out_g, g[rows])


def test_results_do_not_depend_on_thread_count():
    rng, X, g, h = make_data(5, n_samples=2000, n_features=8)
    rows = np.sort(rng.choice(2000, 1500, replace=False)).astype(np.uint32)
    child_rows = rows[rng.rand(len(rows)) < 0.4]
    results = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            parent = histogram(rows, X, g, h, parallel=True)
            child = histogram(child_rows, X, g, h)
            constant = histogram(rows, X, g, np.ones_like(h), constant=True)
            sibling = np.empty_like(parent)
            subtract_histograms(parent, child, sibling)
            gathered = np.empty((2, len(rows)))
            gather(g, h, rows, gathered[0], gathered[1])
        results.append((parent, child, constant, sibling, gathered))
    for one, two in zip(*results, strict=True):
        assert_array_equal(one, two)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("n_rows", [300, 6000])
def test_wide_bins_histograms_equal_bincount(n_rows, parallel):
    # More than 255 bins: uint16 codes, 1,024 bins with the missing one.
    rng = np.random.RandomState(7)
    missing_bin = 1023
    n_bins_non_missing = np.array([1023, 300, 17, 2], dtype=np.uint32)
    X = np.empty((n_rows, 4), dtype=np.uint16, order="F")
    for f, k in enumerate(n_bins_non_missing):
        X[:, f] = rng.randint(0, k, size=n_rows)
        X[rng.rand(n_rows) < 0.1, f] = missing_bin
    g, h = rng.normal(size=n_rows), rng.uniform(0.1, 2.0, size=n_rows)
    n_bins = missing_bin + 1
    rows = np.sort(rng.choice(n_rows, n_rows // 2, replace=False)).astype(np.uint32)
    hist = np.full((4, n_bins, N_HIST_CHANNELS), np.nan)
    build_histogram(rows, X, n_bins_non_missing, g[rows], h[rows], False, hist,
                    parallel)
    assert_allclose(hist, reference_histogram(rows, X, g, h, n_bins), rtol=1e-12)
    root = np.full((4, n_bins, N_HIST_CHANNELS), np.nan)
    build_root_histogram(X, n_bins_non_missing, g, h, False, root, parallel)
    everything = np.arange(n_rows)
    assert_allclose(root, reference_histogram(everything, X, g, h, n_bins),
                    rtol=1e-12)
