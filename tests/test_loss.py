"""Losses: gradients and hessians against finite differences, baselines."""

import warnings

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
    Gamma,
    Huber,
    MultinomialLogLoss,
    Poisson,
    Quantile,
    SquaredError,
    Tweedie,
    allocate_gradients,
    huber_location,
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
    elif isinstance(loss, Gamma):
        y = rng.gamma(2.0, 1.5, size=n)
        raw = rng.normal(size=(n, 1)) + 1.0
    elif isinstance(loss, Tweedie):
        # Compound Poisson-gamma: exact zeros and a continuous positive part.
        y = np.where(rng.rand(n) < 0.3, 0.0, rng.gamma(2.0, 1.5, size=n))
        raw = rng.normal(size=(n, 1)) + 1.0
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


NEW_LOSSES = [
    Quantile(quantile=0.8),
    Gamma(),
    Tweedie(power=1.4),
    Huber(delta=1.5),  # y ~ 3 N(0, 1) - raw: both parts of the loss are hit
]
ALL_LOSSES = [
    SquaredError(),
    AbsoluteError(),
    Poisson(),
    BinaryLogLoss(),
    MultinomialLogLoss(N_CLASSES),
    *NEW_LOSSES,
]
#: Losses whose hessian is the true second derivative. Absolute error,
#: quantile and Huber use a stand-in (the weight) where it is 0.
SMOOTH_LOSSES = [
    loss
    for loss in ALL_LOSSES
    if not isinstance(loss, AbsoluteError | Quantile | Huber)
]
#: Losses with a kink at y == raw, where the derivative does not exist.
KINKED_LOSSES = (AbsoluteError, Quantile)
#: Losses that refit the leaves of each tree (not Newton steps).
REFITTING_LOSSES = (AbsoluteError, Quantile)


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
    if isinstance(loss, MultinomialLogLoss):
        return logsumexp(raw, axis=1) - raw[np.arange(len(y)), y.astype(int)]
    return reference_new_loss(loss, y, r)[0]


def reference_new_loss(loss, y, r):
    """Pointwise loss, gradient and hessian in ``r`` of the four losses added
    for issue 11, from scikit-learn's formulas (``sklearn._loss``: the half
    losses, here with their constants so the minimum is 0) and LightGBM's
    ``objective="huber"``."""
    if isinstance(loss, Quantile):
        q, u = loss.quantile, y - r
        value = np.where(u >= 0, q * u, (q - 1) * u)
        gradient = np.where(y >= r, -q, 1 - q)
        return value, gradient, np.ones_like(r)
    if isinstance(loss, Gamma):  # half gamma deviance
        value = r + y * np.exp(-r) - np.log(y) - 1
        return value, 1 - y * np.exp(-r), y * np.exp(-r)
    if isinstance(loss, Tweedie):  # half Tweedie deviance
        p = loss.power
        value = (
            np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
            - y * np.exp((1 - p) * r) / (1 - p)
            + np.exp((2 - p) * r) / (2 - p)
        )
        gradient = np.exp((2 - p) * r) - y * np.exp((1 - p) * r)
        hessian = (2 - p) * np.exp((2 - p) * r) - (1 - p) * y * np.exp((1 - p) * r)
        return value, gradient, hessian
    if isinstance(loss, Huber):
        d, diff = loss.delta, r - y
        value = np.where(np.abs(diff) <= d, 0.5 * diff**2, d * (np.abs(diff) - d / 2))
        return value, np.clip(diff, -d, d), np.ones_like(r)
    raise TypeError(loss)


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
    if isinstance(loss, KINKED_LOSSES):
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
    "loss",
    [SquaredError(), AbsoluteError(), Poisson(), BinaryLogLoss(), *NEW_LOSSES],
    ids=loss_id,
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
    if not isinstance(loss, KINKED_LOSSES):  # strictly convex: unique minimiser
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
    assert_allclose(Gamma().inverse_link(raw1), np.exp(raw1))
    assert_allclose(Tweedie(power=1.7).inverse_link(raw1), np.exp(raw1))
    assert_array_equal(SquaredError().inverse_link(raw1), raw1)
    assert_array_equal(Quantile(quantile=0.2).inverse_link(raw1), raw1)
    assert_array_equal(Huber().inverse_link(raw1), raw1)
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
    with pytest.raises(ValueError, match="Unknown loss"):
        make_loss("hinge")


def test_make_loss_passes_the_parameters():
    quantile = make_loss("quantile", quantile=0.9)
    assert isinstance(quantile, Quantile) and quantile.quantile == 0.9
    assert isinstance(make_loss("gamma"), Gamma)
    tweedie = make_loss("tweedie", power=1.2)
    assert isinstance(tweedie, Tweedie) and tweedie.power == 1.2
    assert make_loss("tweedie").power == 1.5  # the estimator's default
    huber = make_loss("huber", huber_delta=2.5)
    assert isinstance(huber, Huber) and huber.delta == 2.5
    assert make_loss("huber").delta == 0.9  # LightGBM's default alpha
    # The other losses ignore the parameters.
    assert isinstance(make_loss("squared_error", quantile=0.3, power=1.1), SquaredError)
    for loss in (quantile, tweedie, huber, make_loss("gamma")):
        assert loss.n_outputs == 1
    with pytest.raises(ValueError, match="quantile"):
        make_loss("quantile")


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda v: Quantile(quantile=v), [0.0, 1.0, -0.1, 1.5]),
        (lambda v: Tweedie(power=v), [1.0, 2.0, 0.5, 3.0]),
        (lambda v: Huber(delta=v), [0.0, -1.0]),
    ],
)
def test_loss_parameters_are_checked(make, bad):
    for value in bad:
        with pytest.raises(ValueError):
            make(value)


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
    [loss for loss in ALL_LOSSES if not isinstance(loss, REFITTING_LOSSES)],
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


# -- the losses of issue 11: quantile, gamma, Tweedie, Huber ---------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", NEW_LOSSES, ids=loss_id)
def test_new_losses_equal_numpy_reference(loss, seed):
    y, raw, sw = make_problem(loss, seed, n=200)
    raw[:5] *= 30  # far from the optimum: raw up to ~100
    value, gradient, hessian = reference_new_loss(loss, y, raw[:, 0])
    g, h = kernel(loss, y, raw, sw)
    assert_allclose(g[0], sw * gradient, rtol=1e-12, atol=1e-12)
    assert_allclose(h[0], sw * hessian, rtol=1e-12, atol=1e-12)
    assert_allclose(loss.pointwise(y, raw), value, rtol=1e-11, atol=1e-12)
    assert_allclose(loss(y, raw, sw), np.average(value, weights=sw), rtol=1e-11)


def test_quantile_gradient_at_the_kink_is_scikit_learns():
    # sklearn's PinballLoss takes -q where y == raw (the right derivative).
    loss = Quantile(quantile=0.3)
    y = np.array([1.0, 1.0, 1.0])
    raw = np.array([[0.0], [1.0], [2.0]])
    sw = np.array([1.0, 2.0, 4.0])
    g, h = kernel(loss, y, raw, sw)
    assert_allclose(g[0], [-0.3, -0.6, 4 * 0.7])
    assert_array_equal(h[0], sw)
    assert_allclose(loss.pointwise(y, raw), [0.3, 0.0, 0.7])


def test_huber_gradient_is_the_clipped_residual():
    loss = Huber(delta=2.0)
    y = np.zeros(6)
    raw = np.array([[-5.0], [-2.0], [-0.5], [0.0], [1.5], [7.0]])
    g, h = kernel(loss, y, raw, np.ones(6))
    assert_array_equal(g[0], [-2.0, -2.0, -0.5, 0.0, 1.5, 2.0])
    assert_array_equal(h[0], 1.0)
    assert_allclose(loss.pointwise(y, raw), [8.0, 2.0, 0.125, 0.0, 1.125, 12.0])


def taylor_half_deviance(y, t, power):
    """Half Tweedie deviance (gamma: power 2) at ``mu = y exp(-t)`` by its
    series in ``t = log(y / mu)``: y^b sum_k t^k (a^(k-1) - (-b)^(k-1)) / k!
    with a = p - 1, b = 2 - p (the k = 1 term vanishes)."""
    a, b = power - 1, 2 - power
    total = np.zeros_like(t)
    factorial = 1.0
    for k in range(2, 12):
        factorial *= k
        total += t**k * (a ** (k - 1) - (-b) ** (k - 1)) / factorial
    return y**b * total


@pytest.mark.parametrize("loss", [Gamma(), Tweedie(power=1.2), Tweedie(power=1.8)])
def test_deviance_keeps_its_digits_near_the_optimum(loss):
    # At mu ~ y the half deviance is ~ y^b t^2 / 2: a formula that adds the
    # constant y^b / ((1-p)(2-p)) loses it, or goes negative.
    rng = np.random.RandomState(0)
    y = rng.gamma(2.0, 2.0, size=400)
    t = np.concatenate(
        [[0.0], rng.choice([-1, 1], 399) * 10 ** rng.uniform(-15, -1, 399)]
    )
    raw = (np.log(y) - t)[:, None]
    values = loss.pointwise(y, raw)
    assert np.all(values >= 0)
    power = loss.power if isinstance(loss, Tweedie) else 2.0
    t_used = np.log(y) - raw[:, 0]  # t as rounded into raw
    exact = taylor_half_deviance(y, t_used, power)
    # expm1(a t) / a + expm1(-b t) / b cancels its terms ~ t, not the constant
    # 1 / (ab): an error of a few ulps of y^b |t|, where the sum of the
    # constant and the terms would leave ulps of y^b.
    error = np.abs(values - exact)
    assert np.all(error <= 1e-9 * exact + 4e-16 * y ** (2 - power) * np.abs(t_used))
    assert np.all(error[np.abs(t_used) > 1e-6] <= 1e-9 * exact[np.abs(t_used) > 1e-6])


def test_log_link_kernels_do_not_overflow_where_the_values_are_finite():
    with np.errstate(over="raise", invalid="raise"):
        # y exp(-raw) ~ exp(697) for gamma; exp(-raw) alone would overflow.
        y = np.array([1e-10, 1e-300])
        raw = np.array([[-720.0], [100.0]])
        for loss in (Gamma(), Tweedie(power=1.1)):
            g, h = kernel(loss, y, raw, np.ones(2))
            assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
            assert np.all(np.isfinite(loss.pointwise(y, raw)))
        # y = 0 contributes no y mu^(1-p) term, however small mu is.
        tweedie = Tweedie(power=1.5)
        y0 = np.zeros(2)
        raw0 = np.array([[-2000.0], [3.0]])
        g, h = kernel(tweedie, y0, raw0, np.ones(2))
        assert_allclose(g[0], np.exp(0.5 * raw0[:, 0]))
        assert_allclose(h[0], 0.5 * np.exp(0.5 * raw0[:, 0]))
        assert_allclose(tweedie.pointwise(y0, raw0), np.exp(0.5 * raw0[:, 0]) / 0.5)


@pytest.mark.parametrize("power", [1.1, 1.5, 1.9])
def test_gamma_and_tweedie_baselines_are_the_log_weighted_mean(power):
    rng = np.random.RandomState(1)
    y = np.where(rng.rand(60) < 0.3, 0.0, rng.gamma(2.0, 3.0, size=60))
    sw = rng.uniform(0.1, 3.0, size=60)
    expected = np.log(np.sum(sw * y) / np.sum(sw))
    assert_allclose(Tweedie(power=power).baseline(y, sw), [expected], rtol=1e-14)
    y_pos = y + 0.5
    expected = np.log(np.sum(sw * y_pos) / np.sum(sw))
    assert_allclose(Gamma().baseline(y_pos, sw), [expected], rtol=1e-14)
    # ... where the gradient of the weighted mean loss vanishes.
    for loss, target in ((Tweedie(power=power), y), (Gamma(), y_pos)):
        b = loss.baseline(target, sw)
        g, _ = kernel(loss, target, np.full((60, 1), b[0]), sw)
        assert abs(g.sum()) < 1e-10 * np.abs(g).sum()


@pytest.mark.parametrize("q", [0.05, 0.3, 0.5, 0.9])
def test_quantile_baseline_is_the_weighted_quantile(q):
    rng = np.random.RandomState(2)
    y = np.round(rng.normal(size=37) * 3, 1)  # ties
    weights = rng.randint(1, 5, size=37).astype(float)
    expected = np.quantile(
        np.repeat(y, weights.astype(int)), q, method="averaged_inverted_cdf"
    )
    assert Quantile(quantile=q).baseline(y, weights)[0] == expected
    # Unweighted, too; and a minimiser of the pinball loss among the data.
    loss = Quantile(quantile=q)
    b = loss.baseline(y, np.ones(37))[0]
    assert b == np.quantile(y, q, method="averaged_inverted_cdf")
    assert mean_loss(loss, y, weights, loss.baseline(y, weights)[0]) <= min(
        mean_loss(loss, y, weights, v) for v in y
    ) * (1 + 1e-12)


def huber_mean(y, sw, delta, c):
    r = np.abs(y - c)
    return np.average(
        np.where(r <= delta, 0.5 * r**2, delta * (r - delta / 2)), weights=sw
    )


@pytest.mark.parametrize("delta", [0.05, 0.9, 3.0, 100.0])
@pytest.mark.parametrize("seed", range(3))
def test_huber_baseline_minimises_the_weighted_mean_loss(delta, seed):
    rng = np.random.RandomState(seed)
    y = np.concatenate([rng.normal(size=80), rng.standard_cauchy(size=20) * 5])
    sw = rng.uniform(0.1, 3.0, size=100)
    b = Huber(delta=delta).baseline(y, sw)
    assert b.shape == (1,)
    best = minimize_scalar(
        lambda c: huber_mean(y, sw, delta, c),
        bracket=(np.median(y) - 1, np.median(y) + 1),
        tol=1e-12,
    )
    assert huber_mean(y, sw, delta, b[0]) <= best.fun + 1e-12
    assert_allclose(b[0], best.x, atol=1e-6)
    # The first-order condition holds to rounding.
    assert abs(np.sum(sw * np.clip(b[0] - y, -delta, delta))) < 1e-10 * delta * sw.sum()
    if delta == 100.0:  # every residual in the quadratic part: the weighted mean
        assert_allclose(b[0], np.average(y, weights=sw), rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(-6, 6).map(float), st.integers(0, 4)),
        min_size=1,
        max_size=20,
    ).filter(lambda d: sum(w for _, w in d) > 0),
    delta=st.sampled_from([0.25, 0.5, 1.0, 2.5]),
)
def test_huber_location_on_ties_and_zero_weights(data, delta):
    # Integer values and deltas: kinks coincide, flat stretches appear.
    y = np.array([v for v, _ in data])
    w = np.array([c for _, c in data], dtype=float)
    c = huber_location(y, w, delta)
    assert np.isfinite(c)
    cost = huber_mean(y, w, delta, c)
    grid = np.linspace(y.min() - 1, y.max() + 1, 2001)
    r = np.abs(y[:, None] - grid)  # every grid point at once
    on_grid = np.average(
        np.where(r <= delta, 0.5 * r**2, delta * (r - delta / 2)), weights=w, axis=0
    )
    assert cost <= on_grid.min() + 1e-12
    assert abs(np.dot(w, np.clip(c - y, -delta, delta))) <= 1e-12 * w.sum()


@pytest.mark.parametrize("y", [[-1.0, 1.0], [-1.0, 1.0, 2.0, -2.0],
                               [1.0, -2.0, 3.0, 4.0, 5.0]])
@pytest.mark.parametrize("weighted", [False, True])
def test_huber_location_where_delta_is_below_float_resolution(y, weighted):
    # At y ~ 1e150, y +- 0.9 == y: no row is in its quadratic part, and the
    # location is a weighted median (a symmetric y gave 0 / 0 = NaN; found
    # by fuzzing).
    y = np.array(y) * 1e150
    w = np.linspace(1.0, 2.0, len(y)) if weighted else np.ones_like(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = huber_location(y, w if weighted else None, 0.9)
    assert np.isfinite(c)
    median_cost = min(np.dot(w, np.abs(y - m)) for m in y)
    assert np.dot(w, np.abs(y - c)) <= median_cost * (1 + 1e-12)


@pytest.mark.parametrize("q", [0.1, 0.8])
@pytest.mark.parametrize("weighted", [False, True])
def test_quantile_refit_leaves_are_quantiles_of_residuals(
    q, weighted, make_binned_data
):
    rng = np.random.RandomState(3)
    y = rng.normal(size=400) * 3
    raw = rng.normal(size=400)
    tree = grown_tree(make_binned_data, y, raw)
    weights = rng.randint(1, 4, size=400).astype(float) if weighted else np.ones(400)
    before = tree.nodes.copy()
    loss = Quantile(quantile=q)
    loss.refit_leaves(tree, y, raw, weights)
    for node, start, stop in zip(
        tree.leaf_nodes, tree.leaf_starts, tree.leaf_stops, strict=True
    ):
        rows = tree.sample_indices[start:stop]
        residuals = y[rows] - raw[rows]
        repeated = np.repeat(residuals, weights[rows].astype(int))
        expected = np.quantile(repeated, q, method="averaged_inverted_cdf")
        assert tree.nodes["value"][node] == expected
        # ... a minimiser of the leaf's weighted pinball loss.
        value = tree.nodes["value"][node]

        def cost(v, residuals=residuals, rows=rows):
            return np.sum(
                weights[rows]
                * np.maximum(q * (residuals - v), (q - 1) * (residuals - v))
            )

        assert cost(value) <= min(cost(v) for v in residuals) * (1 + 1e-12)
    for field in set(NODE_DTYPE.names) - {"value"}:
        assert_array_equal(tree.nodes[field], before[field])
    assert not np.array_equal(tree.nodes["value"], before["value"])
