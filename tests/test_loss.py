"""Losses: gradients and hessians against finite differences, baselines."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, logsumexp, softmax, xlogy

from accelboost._engine.common import NODE_DTYPE
from accelboost._engine.grower import TreeGrower, TreeParams
from accelboost._engine.loss import (
    AbsoluteError,
    BinaryLogLoss,
    MultinomialLogLoss,
    Poisson,
    SquaredError,
    allocate_gradients,
    make_loss,
    weighted_median,
)
from accelboost._threads import numba_threads

pytestmark = pytest.mark.usefixtures("single_thread")

N_CLASSES = 3


def make_problem(loss, seed, n=50):
    """Targets valid for the loss, raw predictions and positive weights."""
    rng = np.random.RandomState(seed)
    if isinstance(loss, MultinomialLogLoss):
        y = rng.randint(0, loss.n_outputs, size=n).astype(float)
        raw = rng.normal(size=(n, loss.n_outputs)) * 2
    elif isinstance(loss, BinaryLogLoss):
        y = rng.randint(0, 2, size=n).astype(float)
        raw = rng.normal(size=(n, 1)) * 3
    elif isinstance(loss, Poisson):
        y = rng.poisson(2.0, size=n).astype(float)
        raw = rng.normal(size=(n, 1))
    else:
        y = rng.normal(size=n) * 3
        raw = rng.normal(size=(n, 1)) * 3
    sw = rng.uniform(0.2, 3.0, size=n)
    return y, raw, sw


def kernel(loss, y, raw, sw):
    g, h = allocate_gradients(loss.n_outputs, len(y))
    g[:] = np.nan
    h[:] = np.nan
    loss.gradient_hessian(y, raw, sw, g, h)
    return g, h


def central_difference(f, raw, k, eps):
    """d f / d raw[:, k], per sample, by central differences."""
    up, down = raw.copy(), raw.copy()
    up[:, k] += eps
    down[:, k] -= eps
    return (f(up) - f(down)) / (2 * eps)


ALL_LOSSES = [
    SquaredError(),
    AbsoluteError(),
    Poisson(),
    BinaryLogLoss(),
    MultinomialLogLoss(N_CLASSES),
]
SMOOTH_LOSSES = [loss for loss in ALL_LOSSES if not isinstance(loss, AbsoluteError)]


def loss_id(loss):
    return type(loss).__name__


def reference_pointwise(loss, y, raw):
    """Each loss written directly in NumPy / SciPy."""
    r = raw[:, 0]
    if isinstance(loss, SquaredError):
        return 0.5 * (y - r) ** 2
    if isinstance(loss, AbsoluteError):
        return np.abs(y - r)
    if isinstance(loss, Poisson):  # half deviance, 0 at raw = log(y)
        return np.exp(r) - y * r + xlogy(y, y) - y
    if isinstance(loss, BinaryLogLoss):
        return np.logaddexp(0.0, r) - y * r
    return logsumexp(raw, axis=1) - raw[np.arange(len(y)), y.astype(int)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_pointwise_loss_equals_reference(loss, seed):
    y, raw, _ = make_problem(loss, seed)
    raw[:3] *= 300  # large raw values: no overflow in the stable forms
    values = loss.pointwise(y, raw)
    assert values.shape == (len(y),)
    assert_allclose(values, reference_pointwise(loss, y, raw), rtol=1e-12, atol=1e-12)
    assert np.all(values >= -1e-12)  # all these losses are non-negative


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_gradient_is_derivative_of_pointwise_loss(loss, seed):
    y, raw, sw = make_problem(loss, seed)
    if isinstance(loss, AbsoluteError):
        # Keep away from the kink, where the derivative does not exist.
        raw[np.abs(raw[:, 0] - y) < 1e-3, 0] += 0.1
    g, _ = kernel(loss, y, raw, sw)
    assert g.shape == (loss.n_outputs, len(y))
    for k in range(loss.n_outputs):
        fd = central_difference(lambda r: loss.pointwise(y, r), raw, k, 1e-6)
        assert_allclose(g[k], sw * fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", SMOOTH_LOSSES, ids=loss_id)
def test_hessian_is_derivative_of_gradient(loss, seed):
    y, raw, sw = make_problem(loss, seed)
    _, h = kernel(loss, y, raw, sw)
    for k in range(loss.n_outputs):

        def gradient(r, k=k):
            return kernel(loss, y, r, sw)[0][k]

        fd = central_difference(gradient, raw, k, 1e-6)
        assert_allclose(h[k], fd, rtol=1e-6, atol=1e-7)
        # ... and the second difference of the loss itself.
        eps = 1e-4
        up, down = raw.copy(), raw.copy()
        up[:, k] += eps
        down[:, k] -= eps
        second = (
            loss.pointwise(y, up) - 2 * loss.pointwise(y, raw) + loss.pointwise(y, down)
        ) / eps**2
        assert_allclose(h[k], sw * second, rtol=1e-4, atol=1e-5)
    assert np.all(h > 0)


def test_absolute_error_gradient_and_hessian():
    loss = AbsoluteError()
    y, raw, sw = make_problem(loss, 0)
    raw[:5, 0] = y[:5]  # exactly at the kink: subgradient 0
    g, h = kernel(loss, y, raw, sw)
    assert_array_equal(g[0], sw * np.sign(raw[:, 0] - y))
    assert_array_equal(g[0, :5], 0.0)
    # The true second derivative is 0 almost everywhere; the loss uses the
    # weight as a constant hessian (leaves are re-fitted as medians).
    assert_array_equal(h[0], sw)
    assert loss.constant_hessian


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_constant_hessian_flag(loss):
    # The grower takes the constant-hessian path on this flag: it must hold.
    y, raw, _ = make_problem(loss, 1)
    _, h = kernel(loss, y, raw, np.ones(len(y)))
    if loss.constant_hessian:
        assert_array_equal(h, h.flat[0])
    else:
        assert np.ptp(h) > 0


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_weights_scale_gradients_and_hessians(loss):
    y, raw, sw = make_problem(loss, 2)
    g1, h1 = kernel(loss, y, raw, np.ones(len(y)))
    gw, hw = kernel(loss, y, raw, sw)
    assert_allclose(gw, g1 * sw, rtol=1e-14)
    assert_allclose(hw, h1 * sw, rtol=1e-14)


def test_multinomial_gradient_matches_softmax():
    loss = MultinomialLogLoss(4)
    rng = np.random.RandomState(0)
    y = rng.randint(0, 4, size=100).astype(float)
    raw = rng.normal(size=(100, 4)) * 3
    raw[:10] += 800.0  # a shift must not overflow (softmax is shift-invariant)
    raw[10:20] -= 800.0
    sw = rng.uniform(0.5, 2, size=100)
    g, h = kernel(loss, y, raw, sw)
    p = softmax(raw, axis=1)
    onehot = np.eye(4)[y.astype(int)]
    # Shifted rows lose a few digits in p = exp(raw - logsumexp) (the
    # log-sum-exp is ~800, its rounding error ~1e-13): rtol 1e-9.
    assert_allclose(g, (sw[:, None] * (p - onehot)).T, rtol=1e-9, atol=1e-14)
    assert_allclose(h, (sw[:, None] * p * (1 - p)).T, rtol=1e-9, atol=1e-14)
    # Per sample the gradients over the classes sum to zero.
    assert_allclose(g.sum(axis=0), 0.0, atol=1e-12)
    assert np.all(np.isfinite(loss.pointwise(y, raw)))


def test_binary_log_loss_is_stable_for_large_raw():
    loss = BinaryLogLoss()
    raw = np.array([[-800.0], [-40.0], [0.0], [40.0], [800.0]])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    g, h = kernel(loss, y, raw, np.ones(5))
    p = expit(raw[:, 0])
    assert_allclose(g[0], p - y, rtol=1e-14, atol=0)
    assert_allclose(h[0], p * (1 - p), rtol=1e-12, atol=0)
    assert np.all(np.isfinite(loss.pointwise(y, raw)))
    assert_allclose(loss.pointwise(y, raw)[[0, 4]], 800.0)


def test_gradient_kernels_thread_count_independent():
    results = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            out = []
            for loss in ALL_LOSSES:
                y, raw, sw = make_problem(loss, 3, n=2000)
                out.extend(kernel(loss, y, raw, sw))
        results.append(out)
    for one, two in zip(*results, strict=True):
        assert_array_equal(one, two)


def mean_loss(loss, y, sw, value):
    raw = np.full((len(y), 1), value)
    return np.average(loss.pointwise(y, raw), weights=sw)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "loss", [SquaredError(), AbsoluteError(), Poisson(), BinaryLogLoss()], ids=loss_id
)
def test_baseline_minimises_the_loss(loss, weighted):
    y, _, sw = make_problem(loss, 4, n=41)
    if not weighted:
        sw = np.ones(len(y))
    baseline = loss.baseline(y, sw)
    assert baseline.shape == (1,)
    b = baseline[0]
    best = minimize_scalar(
        lambda v: mean_loss(loss, y, sw, v), bracket=(-5, 5), tol=1e-12
    )
    assert mean_loss(loss, y, sw, b) <= best.fun + 1e-10
    # A grid around it finds nothing lower either.
    grid = b + np.linspace(-1, 1, 401)
    assert mean_loss(loss, y, sw, b) <= min(mean_loss(loss, y, sw, v) for v in grid)
    if not isinstance(loss, AbsoluteError):  # strictly convex: unique minimiser
        assert_allclose(b, best.x, atol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_multinomial_baseline_minimises_the_loss(weighted):
    loss = MultinomialLogLoss(N_CLASSES)
    y, _, sw = make_problem(loss, 5, n=60)
    if not weighted:
        sw = np.ones(len(y))
    baseline = loss.baseline(y, sw)
    assert baseline.shape == (N_CLASSES,)
    assert_allclose(baseline.sum(), 0.0, atol=1e-12)

    def objective(b):
        return np.average(loss.pointwise(y, np.tile(b, (len(y), 1))), weights=sw)

    # The softmax of the baseline is the weighted class frequency, so the
    # gradient of the mean loss vanishes there.
    freq = np.bincount(y.astype(int), weights=sw, minlength=N_CLASSES) / sw.sum()
    assert_allclose(softmax(baseline), freq, rtol=1e-12)
    best = minimize(objective, np.zeros(N_CLASSES), method="BFGS", tol=1e-12)
    assert objective(baseline) <= best.fun + 1e-10


def test_poisson_and_log_loss_baselines_closed_form():
    y = np.array([0.0, 1.0, 3.0, 4.0])
    sw = np.array([1.0, 2.0, 1.0, 0.5])
    assert_allclose(Poisson().baseline(y, sw), [np.log(np.average(y, weights=sw))])
    yb = np.array([0.0, 1.0, 1.0, 1.0])
    assert_allclose(BinaryLogLoss().baseline(yb, None), [np.log(3.0)])
    # A single class: the baseline is large but finite.
    assert np.isfinite(BinaryLogLoss().baseline(np.ones(4), None)).all()


def test_inverse_links():
    rng = np.random.RandomState(0)
    raw1 = rng.normal(size=(20, 1)) * 3
    proba = BinaryLogLoss().inverse_link(raw1)
    assert proba.shape == (20, 2)
    assert_allclose(proba[:, 1], 1 / (1 + np.exp(-raw1[:, 0])), rtol=1e-14)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(Poisson().inverse_link(raw1), np.exp(raw1))
    assert_array_equal(SquaredError().inverse_link(raw1), raw1)
    raw3 = rng.normal(size=(20, 3))
    p3 = MultinomialLogLoss(3).inverse_link(raw3)
    assert_allclose(p3, np.exp(raw3) / np.exp(raw3).sum(axis=1, keepdims=True))


def test_weighted_mean_loss():
    loss = SquaredError()
    y, raw, sw = make_problem(loss, 6)
    half_sq = 0.5 * (y - raw[:, 0]) ** 2
    assert_allclose(loss(y, raw, sw), np.sum(sw * half_sq) / sw.sum())
    assert_allclose(loss(y, raw), np.mean(half_sq))


def test_make_loss():
    assert isinstance(make_loss("log_loss", 2), BinaryLogLoss)
    multi = make_loss("log_loss", 5)
    assert isinstance(multi, MultinomialLogLoss) and multi.n_outputs == 5
    assert isinstance(make_loss("poisson"), Poisson)
    assert isinstance(make_loss("absolute_error"), AbsoluteError)
    assert make_loss("squared_error").n_outputs == 1
    with pytest.raises(ValueError):
        make_loss("log_loss")


def grown_tree(make_binned_data, y, raw):
    """A tree grown on absolute-error gradients at ``raw``, its leaves' rows."""
    X, mapper, X_binned, thresholds = make_binned_data(0, n_samples=400)
    g, h = kernel(AbsoluteError(), y, raw[:, None], np.ones(len(y)))
    tree = TreeGrower(
        X_binned,
        g[0],
        h[0],
        mapper.n_bins_non_missing_,
        mapper.missing_bin_,
        thresholds,
        TreeParams(max_leaf_nodes=8, min_samples_leaf=10),
        hessians_are_constant=True,
    ).grow()
    assert len(tree.leaf_nodes) > 3
    return tree


@pytest.mark.parametrize("weighted", [False, True])
def test_absolute_error_refit_leaves_are_medians_of_residuals(
    weighted, make_binned_data
):
    rng = np.random.RandomState(0)
    y = rng.normal(size=400) * 3
    raw = rng.normal(size=400)
    tree = grown_tree(make_binned_data, y, raw)
    # Integer weights: the weighted median is the median of repeated rows.
    weights = rng.randint(1, 4, size=400).astype(float) if weighted else np.ones(400)
    before = tree.nodes.copy()
    AbsoluteError().refit_leaves(tree, y, raw, weights)
    is_leaf = tree.nodes["is_leaf"].astype(bool)
    for node, start, stop in zip(
        tree.leaf_nodes, tree.leaf_starts, tree.leaf_stops, strict=True
    ):
        rows = tree.sample_indices[start:stop]
        residuals = y[rows] - raw[rows]
        expected = np.median(np.repeat(residuals, weights[rows].astype(int)))
        assert tree.nodes["value"][node] == expected
    # Only the leaves' values change.
    assert not np.array_equal(tree.nodes["value"], before["value"])
    assert_array_equal(tree.nodes[~is_leaf], before[~is_leaf])
    for field in set(NODE_DTYPE.names) - {"value"}:
        assert_array_equal(tree.nodes[field], before[field])


@pytest.mark.parametrize(
    "loss",
    [loss for loss in ALL_LOSSES if not isinstance(loss, AbsoluteError)],
    ids=loss_id,
)
def test_smooth_losses_keep_the_newton_leaves(loss, make_binned_data):
    rng = np.random.RandomState(1)
    y = rng.normal(size=400)
    raw = rng.normal(size=400)
    tree = grown_tree(make_binned_data, y, raw)
    before = tree.nodes.copy()
    assert loss.refit_leaves(tree, y, raw, np.ones(400)) is None
    assert_array_equal(tree.nodes, before)


def test_weighted_median_examples():
    assert weighted_median(np.array([1.0, 2.0]), np.array([1, 1])) == 1.5
    assert weighted_median(np.array([3.0, 1.0, 2.0]), np.array([1, 1, 1])) == 2.0
    assert weighted_median(np.array([1.0, 2.0, 10.0]), np.array([0, 1, 0])) == 2.0
    assert weighted_median(np.array([5.0]), np.array([3])) == 5.0


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.one_of(
                st.integers(-5, 5).map(float),  # ties between values
                st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
            ),
            st.integers(0, 6),
        ),
        min_size=1,
        max_size=30,
    ).filter(lambda d: sum(w for _, w in d) > 0)
)
def test_weighted_median_equals_median_of_repeated_values(data):
    values = np.array([v for v, _ in data])
    weights = np.array([w for _, w in data])
    expected = np.median(np.repeat(values, weights))
    assert weighted_median(values, weights) == expected
    # Same with float weights (as sample weights are).
    assert weighted_median(values, weights.astype(float)) == expected


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.integers(-20, 20).map(float), min_size=1, max_size=25),
    seed=st.integers(0, 2**16),
)
def test_weighted_median_minimises_weighted_absolute_deviation(values, seed):
    values = np.array(values)
    weights = np.random.RandomState(seed).uniform(0.1, 2.0, size=len(values))
    m = weighted_median(values, weights)
    cost = np.sum(weights * np.abs(values - m))
    # The optimum of a piecewise-linear convex cost is at a data point.
    best = min(np.sum(weights * np.abs(values - v)) for v in values)
    assert cost <= best * (1 + 1e-12)
