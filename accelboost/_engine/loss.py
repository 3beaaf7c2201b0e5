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
from .quantile import weighted_median


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


class Loss:
    """A boosting loss. Subclasses set the kernel and the formulas.

    Parameters
    ----------
    n_outputs : int
        Number of raw outputs per sample (1, or the number of classes).
    """

    #: Whether the hessian is the same for all samples (when unweighted).
    constant_hessian = False

    def __init__(self, n_outputs: int = 1):
        self.n_outputs = n_outputs

    def gradient_hessian(self, y, raw, sample_weight, gradients, hessians):
        """Fill ``gradients`` and ``hessians`` (n_outputs, n_samples) at ``raw``."""
        self._kernel(y, raw, sample_weight, gradients, hessians)

    def baseline(self, y: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
        """Constant raw prediction that minimises the loss, shape (n_outputs,)."""
        raise NotImplementedError

    def pointwise(self, y: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Loss of each sample."""
        out = np.empty(y.shape[0], dtype=np.float64)
        self._pointwise_kernel(y, raw, out)
        return out

    def __call__(self, y, raw, sample_weight=None) -> float:
        """Weighted mean loss.

        The elementwise part runs in parallel; the sum is NumPy's sequential
        pairwise sum, so the value does not depend on the thread count.
        """
        values = self.pointwise(y, raw)
        if sample_weight is None:
            return float(np.sum(values) / values.shape[0])
        return float(np.sum(values * sample_weight) / np.sum(sample_weight))

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
    if name not in REGRESSION_LOSSES:
        raise ValueError(f"Unknown loss {name!r}.")
    return REGRESSION_LOSSES[name](1)


def allocate_gradients(n_outputs: int, n_samples: int):
    """Gradient and hessian buffers of shape (n_outputs, n_samples)."""
    return (
        np.empty((n_outputs, n_samples), dtype=G_H_DTYPE),
        np.empty((n_outputs, n_samples), dtype=G_H_DTYPE),
    )
