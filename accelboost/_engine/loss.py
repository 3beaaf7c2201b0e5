"""Losses: gradient and hessian kernels, baseline prediction, inverse link.

Each loss is written on the raw (link-scale) prediction ``raw`` of shape
``(n_samples, n_outputs)``. Gradients and hessians are returned with shape
``(n_outputs, n_samples)`` so each output's column is contiguous for the
histogram kernels. Conventions follow scikit-learn's "half" losses, so the
Newton leaves and the reported losses agree with HistGradientBoosting.
"""

import numpy as np
from numba import njit, prange
from scipy.special import expit, softmax

from .common import G_H_DTYPE
from .quantile import midpoint, weighted_median, weighted_quantiles


@njit(inline="always")
def _log_sum_exp(raw, i):
    m = raw[i, 0]
    for k in range(1, raw.shape[1]):
        m = max(m, raw[i, k])
    total = 0.0
    for k in range(raw.shape[1]):
        total += np.exp(raw[i, k] - m)
    return m + np.log(total)


@njit(parallel=True, nogil=True, cache=True)
def _squared_error_grad_hess(y, raw, sw, g, h):
    for i in prange(y.shape[0]):
        g[0, i] = sw[i] * (raw[i, 0] - y[i])
        h[0, i] = sw[i]


@njit(parallel=True, nogil=True, cache=True)
def _absolute_error_grad_hess(y, raw, sw, g, h):
    for i in prange(y.shape[0]):
        g[0, i] = sw[i] * np.sign(raw[i, 0] - y[i])
        h[0, i] = sw[i]


@njit(parallel=True, nogil=True, cache=True)
def _poisson_grad_hess(y, raw, sw, g, h):
    for i in prange(y.shape[0]):
        mu = np.exp(raw[i, 0])
        g[0, i] = sw[i] * (mu - y[i])
        h[0, i] = sw[i] * mu


@njit(parallel=True, nogil=True, cache=True)
def _binary_log_loss_grad_hess(y, raw, sw, g, h):
    for i in prange(y.shape[0]):
        r = raw[i, 0]
        # Stable sigmoid on both sides of zero.
        if r >= 0:
            p = 1.0 / (1.0 + np.exp(-r))
        else:
            e = np.exp(r)
            p = e / (1.0 + e)
        g[0, i] = sw[i] * (p - y[i])
        h[0, i] = sw[i] * p * (1.0 - p)


@njit(parallel=True, nogil=True, cache=True)
def _multinomial_grad_hess(y, raw, sw, g, h):
    n_classes = raw.shape[1]
    for i in prange(y.shape[0]):
        lse = _log_sum_exp(raw, i)
        for k in range(n_classes):
            p = np.exp(raw[i, k] - lse)
            target = 1.0 if y[i] == k else 0.0
            g[k, i] = sw[i] * (p - target)
            h[k, i] = sw[i] * p * (1.0 - p)


@njit(parallel=True, nogil=True, cache=True)
def _quantile_grad_hess(y, raw, sw, g, h, quantile):
    for i in prange(y.shape[0]):
        # scikit-learn's subgradient: -q at the kink (y == raw) too.
        g[0, i] = sw[i] * (-quantile if y[i] >= raw[i, 0] else 1.0 - quantile)
        h[0, i] = sw[i]


@njit(parallel=True, nogil=True, cache=True)
def _gamma_grad_hess(y, raw, sw, g, h):
    for i in prange(y.shape[0]):
        # y * exp(-raw) as exp(log(y) - raw): no overflow of exp(-raw) alone
        # when y is small; y > 0 for gamma.
        y_over_mu = np.exp(np.log(y[i]) - raw[i, 0])
        g[0, i] = sw[i] * (1.0 - y_over_mu)
        h[0, i] = sw[i] * y_over_mu


@njit(parallel=True, nogil=True, cache=True)
def _tweedie_grad_hess(y, raw, sw, g, h, power):
    a = power - 1.0
    b = 2.0 - power
    for i in prange(y.shape[0]):
        r = raw[i, 0]
        mu_b = np.exp(b * r)
        # y * mu^(1-p) as exp(log(y) - a r): 0 for y == 0, whatever r is.
        y_mu_a = np.exp(np.log(y[i]) - a * r) if y[i] > 0 else 0.0
        g[0, i] = sw[i] * (mu_b - y_mu_a)
        h[0, i] = sw[i] * (b * mu_b + a * y_mu_a)


@njit(parallel=True, nogil=True, cache=True)
def _huber_grad_hess(y, raw, sw, g, h, delta):
    for i in prange(y.shape[0]):
        # LightGBM's objective="huber": the residual clipped, hessian 1.
        diff = raw[i, 0] - y[i]
        g[0, i] = sw[i] * min(max(diff, -delta), delta)
        h[0, i] = sw[i]


@njit(parallel=True, nogil=True, cache=True)
def _squared_error_pointwise(y, raw, out):
    for i in prange(y.shape[0]):
        out[i] = 0.5 * (y[i] - raw[i, 0]) ** 2


@njit(parallel=True, nogil=True, cache=True)
def _absolute_error_pointwise(y, raw, out):
    for i in prange(y.shape[0]):
        out[i] = abs(y[i] - raw[i, 0])


@njit(parallel=True, nogil=True, cache=True)
def _poisson_pointwise(y, raw, out):
    for i in prange(y.shape[0]):
        r = raw[i, 0]
        # half deviance: 0 at the perfect prediction
        y_log_y = y[i] * np.log(y[i]) if y[i] > 0 else 0.0
        out[i] = np.exp(r) - y[i] * r + y_log_y - y[i]


@njit(parallel=True, nogil=True, cache=True)
def _binary_log_loss_pointwise(y, raw, out):
    for i in prange(y.shape[0]):
        r = raw[i, 0]
        # log(1 + exp(r)) without overflow
        softplus = r + np.log1p(np.exp(-r)) if r > 0 else np.log1p(np.exp(r))
        out[i] = softplus - y[i] * r


@njit(parallel=True, nogil=True, cache=True)
def _multinomial_pointwise(y, raw, out):
    for i in prange(y.shape[0]):
        out[i] = _log_sum_exp(raw, i) - raw[i, int(y[i])]


@njit(parallel=True, nogil=True, cache=True)
def _quantile_pointwise(y, raw, out, quantile):
    for i in prange(y.shape[0]):
        diff = y[i] - raw[i, 0]
        out[i] = quantile * diff if diff >= 0 else (quantile - 1.0) * diff


@njit(parallel=True, nogil=True, cache=True)
def _gamma_pointwise(y, raw, out):
    for i in prange(y.shape[0]):
        # Half deviance raw + y exp(-raw) - log(y) - 1 = exp(t) - 1 - t with
        # t = log(y / mu): expm1 keeps the digits near the optimum t = 0.
        t = np.log(y[i]) - raw[i, 0]
        out[i] = np.expm1(t) - t


@njit(parallel=True, nogil=True, cache=True)
def _tweedie_pointwise(y, raw, out, power):
    a = power - 1.0
    b = 2.0 - power
    for i in prange(y.shape[0]):
        r = raw[i, 0]
        if y[i] <= 0:
            out[i] = np.exp(b * r) / b
            continue
        # Half deviance y^b/(ab) + y mu^-a/a + mu^b/b (a = p - 1, b = 2 - p),
        # with t = log(y / mu). Near the optimum it is y^b times
        # expm1(a t)/a + expm1(-b t)/b, which does not cancel the constant
        # 1/(ab); far from it each term is formed in one exp, so that none
        # overflows unless the loss does.
        log_y = np.log(y[i])
        t = log_y - r
        if abs(t) <= 1.0:
            scaled = np.expm1(a * t) / a + np.expm1(-b * t) / b
            # >= 0 exactly; rounding can leave -1e-31 when |t| is ~1e-16.
            out[i] = np.exp(b * log_y) * max(scaled, 0.0)
        else:
            out[i] = (
                np.exp(log_y - a * r) / a
                + np.exp(b * r) / b
                - np.exp(b * log_y) / (a * b)
            )


@njit(parallel=True, nogil=True, cache=True)
def _huber_pointwise(y, raw, out, delta):
    for i in prange(y.shape[0]):
        abs_diff = abs(y[i] - raw[i, 0])
        if abs_diff <= delta:
            out[i] = 0.5 * abs_diff * abs_diff
        else:
            out[i] = delta * (abs_diff - 0.5 * delta)


class Loss:
    """A boosting loss. Subclasses set the kernel and the formulas.

    Parameters
    ----------
    n_outputs : int
        Number of raw outputs per sample (1, or the number of classes).
    """

    #: Whether the hessian is the same for all samples (when unweighted).
    constant_hessian = False

    @property
    def _kernel_args(self) -> tuple:
        """The loss's parameters, passed to its kernels after the arrays."""
        return ()

    def __init__(self, n_outputs: int = 1):
        self.n_outputs = n_outputs

    def gradient_hessian(self, y, raw, sample_weight, gradients, hessians):
        """Fill ``gradients`` and ``hessians`` (n_outputs, n_samples) at ``raw``."""
        self._kernel(y, raw, sample_weight, gradients, hessians, *self._kernel_args)

    def baseline(self, y: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
        """Constant raw prediction that minimises the loss, shape (n_outputs,)."""
        raise NotImplementedError

    def pointwise(self, y: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Loss of each sample."""
        out = np.empty(y.shape[0], dtype=np.float64)
        self._pointwise_kernel(y, raw, out, *self._kernel_args)
        return out

    def __call__(self, y, raw, sample_weight=None) -> float:
        """Weighted mean loss.

        The elementwise part runs in parallel; the sum is NumPy's sequential
        pairwise sum, so the value does not depend on the thread count.
        """
        total, weight = self.partial(y, raw, sample_weight)
        return float(total / weight)

    def partial(self, y, raw, sample_weight=None) -> tuple[float, float]:
        """The weighted loss sum and the weight sum (their ratio is the loss).

        Sums over parts of the data add up to the sums over all of it: how a
        loss over shards is computed.
        """
        values = self.pointwise(y, raw)
        if sample_weight is None:
            return np.sum(values), float(values.shape[0])
        return np.sum(values * sample_weight), np.sum(sample_weight)

    def inverse_link(self, raw: np.ndarray) -> np.ndarray:
        """Map raw predictions to the response scale."""
        return raw

    def refit_leaves(self, tree, y, raw, sample_weight) -> None:
        """Re-fit the values of a grown tree's leaves, in place.

        The grower gives every leaf its Newton step; a loss whose Newton
        approximation is poor (absolute error) overrides this to set each
        leaf to the value that minimises the loss itself. The base class
        keeps the Newton steps.

        Parameters
        ----------
        tree : GrownTree
            The tree just grown for output ``k``; ``tree.nodes["value"]`` of
            its leaves is overwritten.
        y : ndarray of shape (n_samples,)
            Targets.
        raw : ndarray of shape (n_samples,)
            Output ``k`` of the raw prediction the tree was grown at.
        sample_weight : ndarray of shape (n_samples,)
            Weights (ones when the fit is unweighted).
        """


class SquaredError(Loss):
    """Half squared error ``(y - raw)^2 / 2``."""

    constant_hessian = True
    _kernel = staticmethod(_squared_error_grad_hess)
    _pointwise_kernel = staticmethod(_squared_error_pointwise)

    def baseline(self, y, sample_weight):
        return np.array([np.average(y, weights=sample_weight)])


class AbsoluteError(Loss):
    """Absolute error ``|y - raw|``; leaves are weighted medians of residuals."""

    constant_hessian = True
    _kernel = staticmethod(_absolute_error_grad_hess)
    _pointwise_kernel = staticmethod(_absolute_error_pointwise)

    def baseline(self, y, sample_weight):
        return np.array([weighted_median(y, sample_weight)])

    def refit_leaves(self, tree, y, raw, sample_weight):
        """Set each leaf to the weighted median of its rows' residuals."""
        values = tree.nodes["value"]
        for node, start, stop in zip(
            tree.leaf_nodes, tree.leaf_starts, tree.leaf_stops, strict=True
        ):
            rows = tree.sample_indices[start:stop]
            values[node] = weighted_median(y[rows] - raw[rows], sample_weight[rows])


class Poisson(Loss):
    """Half Poisson deviance with log link; ``y >= 0`` and ``sum(y) > 0``."""

    _kernel = staticmethod(_poisson_grad_hess)
    _pointwise_kernel = staticmethod(_poisson_pointwise)

    def baseline(self, y, sample_weight):
        return np.array([np.log(np.average(y, weights=sample_weight))])

    def inverse_link(self, raw):
        return np.exp(raw)


class Quantile(Loss):
    """Pinball loss at ``quantile``; leaves are weighted quantiles of residuals.

    ``rho(u) = quantile * u`` for ``u = y - raw >= 0``, ``(quantile - 1) * u``
    otherwise (scikit-learn's ``PinballLoss``). The true hessian is 0 almost
    everywhere; the weight stands in for it, and the leaves are refitted.

    Parameters
    ----------
    n_outputs : int
        Must be 1.
    quantile : float in (0, 1)
        The quantile predicted.
    """

    constant_hessian = True

    def __init__(self, n_outputs: int = 1, *, quantile: float):
        if not 0.0 < quantile < 1.0:
            raise ValueError(f"quantile must be in (0, 1), got {quantile!r}.")
        super().__init__(n_outputs)
        self.quantile = float(quantile)

    _kernel = staticmethod(_quantile_grad_hess)
    _pointwise_kernel = staticmethod(_quantile_pointwise)

    @property
    def _kernel_args(self):
        return (self.quantile,)

    def _weighted_quantile(self, values, weights):
        # Averaged inverted CDF: a minimiser of the weighted pinball loss
        # (np.percentile's interpolation can fall outside the minimisers).
        return float(weighted_quantiles(values, weights, np.array([self.quantile]))[0])

    def baseline(self, y, sample_weight):
        return np.array([self._weighted_quantile(y, sample_weight)])

    def refit_leaves(self, tree, y, raw, sample_weight):
        """Set each leaf to the weighted ``quantile`` of its rows' residuals."""
        values = tree.nodes["value"]
        for node, start, stop in zip(
            tree.leaf_nodes, tree.leaf_starts, tree.leaf_stops, strict=True
        ):
            rows = tree.sample_indices[start:stop]
            values[node] = self._weighted_quantile(
                y[rows] - raw[rows], sample_weight[rows]
            )


class Gamma(Loss):
    """Half gamma deviance with log link; ``y > 0``.

    ``log(mu / y) + y / mu - 1`` with ``mu = exp(raw)`` (scikit-learn's
    ``HalfGammaLoss`` plus its constant, so the loss is 0 at ``mu = y``).
    """

    _kernel = staticmethod(_gamma_grad_hess)
    _pointwise_kernel = staticmethod(_gamma_pointwise)

    def baseline(self, y, sample_weight):
        return np.array([np.log(np.average(y, weights=sample_weight))])

    def inverse_link(self, raw):
        return np.exp(raw)


class Tweedie(Loss):
    """Half Tweedie deviance with log link and variance power ``power``.

    ``max(y, 0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p)``
    with ``mu = exp(raw)`` and ``p = power`` (scikit-learn's
    ``HalfTweedieLoss`` plus its constant, so the loss is 0 at ``mu = y``);
    ``y >= 0``.

    Parameters
    ----------
    n_outputs : int
        Must be 1.
    power : float in (1, 2), default=1.5
        Variance power: 1 is Poisson, 2 is gamma.
    """

    def __init__(self, n_outputs: int = 1, *, power: float = 1.5):
        if not 1.0 < power < 2.0:
            raise ValueError(f"power must be in (1, 2), got {power!r}.")
        super().__init__(n_outputs)
        self.power = float(power)

    _kernel = staticmethod(_tweedie_grad_hess)
    _pointwise_kernel = staticmethod(_tweedie_pointwise)

    @property
    def _kernel_args(self):
        return (self.power,)

    def baseline(self, y, sample_weight):
        return np.array([np.log(np.average(y, weights=sample_weight))])

    def inverse_link(self, raw):
        return np.exp(raw)


class Huber(Loss):
    """Huber loss: ``r^2 / 2`` for ``|r| <= delta``, ``delta (|r| - delta/2)`` beyond.

    Gradients and hessians are LightGBM's ``objective="huber"`` with
    ``alpha = delta``: the residual ``raw - y`` clipped to ``[-delta, delta]``,
    and hessian 1 (the true one is 0 in the linear part; 1 keeps the Newton
    leaves of outlying rows bounded).

    Parameters
    ----------
    n_outputs : int
        Must be 1.
    delta : float, default=0.9
        Where the loss turns from quadratic to linear, in units of ``y``.
    """

    constant_hessian = True

    def __init__(self, n_outputs: int = 1, *, delta: float = 0.9):
        if not delta > 0.0:
            raise ValueError(f"delta must be positive, got {delta!r}.")
        super().__init__(n_outputs)
        self.delta = float(delta)

    _kernel = staticmethod(_huber_grad_hess)
    _pointwise_kernel = staticmethod(_huber_pointwise)

    @property
    def _kernel_args(self):
        return (self.delta,)

    def baseline(self, y, sample_weight):
        return np.array([huber_location(y, sample_weight, self.delta)])


def huber_location(
    y: np.ndarray, sample_weight: np.ndarray | None, delta: float
) -> float:
    """The constant that minimises the weighted mean Huber loss.

    The derivative of the mean loss in the constant ``c``,
    ``f(c) = sum_i w_i clip(c - y_i, -delta, delta)``, is non-decreasing and
    piecewise linear with kinks at ``y_i -+ delta``. Bisection over the sorted
    kinks finds the piece where it crosses zero, and the root is solved
    exactly there (no iteration count or tolerance to choose).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Targets.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights, not all zero; None means all ones.
    delta : float
        The Huber threshold.

    Returns
    -------
    float
    """
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight)
    keep = w > 0
    y, w = y[keep], w[keep]

    def slope(c):
        return np.dot(w, np.clip(c - y, -delta, delta))

    kinks = np.sort(np.concatenate([y - delta, y + delta]))
    # f(kinks[0]) = -delta W < 0 <= f(kinks[-1]) = delta W: keep f(lo) < 0 <= f(hi).
    lo, hi = 0, len(kinks) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if slope(kinks[mid]) < 0:
            lo = mid
        else:
            hi = mid
    left, right = kinks[lo], kinks[hi]
    if slope(right) == 0:  # a root (where a flat stretch of roots may start)
        return float(right)
    # Between the kinks every row is in a fixed part: f(c) = S c - A.
    inside = midpoint(left, right)
    diff = inside - y
    linear = np.abs(diff) < delta
    s = w[linear].sum()
    a = np.dot(w[linear], y[linear]) - delta * (
        w[diff >= delta].sum() - w[diff <= -delta].sum()
    )
    if not s > 0:
        # No row is in its quadratic part (delta below float resolution at
        # y's scale): f is constant between the kinks, and its sign there says
        # which kink is the root (0: every point between is; a / s was 0 / 0).
        between = slope(inside)
        return float(right if between < 0 else left if between > 0 else inside)
    # s > 0: f rises from below 0 to above it on this piece.
    return float(np.clip(a / s, left, right))


class BinaryLogLoss(Loss):
    """Binary cross-entropy with logit link; ``y`` in {0, 1}."""

    _kernel = staticmethod(_binary_log_loss_grad_hess)
    _pointwise_kernel = staticmethod(_binary_log_loss_pointwise)

    def baseline(self, y, sample_weight):
        p = np.clip(np.average(y, weights=sample_weight), 1e-15, 1 - 1e-15)
        return np.array([np.log(p / (1 - p))])

    def inverse_link(self, raw):
        p = expit(raw[:, 0])
        return np.column_stack([1.0 - p, p])


class MultinomialLogLoss(Loss):
    """Multiclass cross-entropy with softmax link; ``y`` in {0, ..., K-1}."""

    _kernel = staticmethod(_multinomial_grad_hess)
    _pointwise_kernel = staticmethod(_multinomial_pointwise)

    def baseline(self, y, sample_weight):
        counts = np.bincount(
            y.astype(np.intp), weights=sample_weight, minlength=self.n_outputs
        )
        p = np.clip(counts / counts.sum(), 1e-15, 1.0)
        log_p = np.log(p)
        return log_p - log_p.mean()

    def inverse_link(self, raw):
        return softmax(raw, axis=1)


REGRESSION_LOSSES = {
    "squared_error": SquaredError,
    "absolute_error": AbsoluteError,
    "poisson": Poisson,
    "gamma": Gamma,
}


def make_loss(
    name: str,
    n_classes: int | None = None,
    *,
    quantile: float | None = None,
    huber_delta: float = 0.9,
    power: float = 1.5,
) -> Loss:
    """Loss object for a parameter value ``loss``.

    Parameters
    ----------
    name : str
        The estimator's ``loss``.
    n_classes : int or None
        Number of classes (``log_loss`` only).
    quantile, huber_delta, power : float
        The estimator's parameters of "quantile", "huber" and "tweedie";
        the other losses ignore them.

    Returns
    -------
    loss : Loss
    """
    if name == "log_loss":
        if n_classes is None:
            raise ValueError("log_loss needs the number of classes.")
        if n_classes <= 2:
            return BinaryLogLoss(1)
        return MultinomialLogLoss(n_classes)
    if name == "quantile":
        if quantile is None:
            raise ValueError("loss='quantile' needs the quantile, in (0, 1).")
        return Quantile(1, quantile=quantile)
    if name == "huber":
        return Huber(1, delta=huber_delta)
    if name == "tweedie":
        return Tweedie(1, power=power)
    if name not in REGRESSION_LOSSES:
        raise ValueError(f"Unknown loss {name!r}.")
    return REGRESSION_LOSSES[name](1)


def allocate_gradients(n_outputs: int, n_samples: int):
    """Gradient and hessian buffers of shape (n_outputs, n_samples)."""
    return (
        np.empty((n_outputs, n_samples), dtype=G_H_DTYPE),
        np.empty((n_outputs, n_samples), dtype=G_H_DTYPE),
    )
