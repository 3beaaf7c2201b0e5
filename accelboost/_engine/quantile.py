"""Weighted quantiles in which weights count repetitions."""

import numpy as np


def weighted_quantiles(
    values: np.ndarray,
    weights: np.ndarray | None,
    quantiles: np.ndarray,
    presorted: bool = False,
) -> np.ndarray:
    """Averaged-inverted-CDF quantiles of ``values`` weighted by ``weights``.

    With integer weights this equals
    ``np.quantile(np.repeat(values, weights), quantiles,
    method="averaged_inverted_cdf")``: where a quantile falls exactly between
    two values they are averaged. Zero-weight values are ignored.

    Parameters
    ----------
    values : ndarray of shape (n,)
        The sample.
    weights : ndarray of shape (n,) or None
        Non-negative; ``None`` means all ones.
    quantiles : ndarray of shape (m,)
        In [0, 1].
    presorted : bool, default=False
        ``values`` are already sorted (saves a sort).

    Returns
    -------
    ndarray of shape (m,)
    """
    quantiles = np.asarray(quantiles, dtype=np.float64)
    if weights is None:
        weights = np.ones_like(values, dtype=np.float64)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return np.zeros_like(quantiles)
    if presorted:
        v, w = values, weights
    else:
        order = np.argsort(values, kind="stable")
        v, w = values[order], weights[order]
    cum = np.cumsum(w)
    targets = quantiles * cum[-1]
    low = np.minimum(np.searchsorted(cum, targets, side="left"), len(v) - 1)
    high = np.minimum(np.searchsorted(cum, targets, side="right"), len(v) - 1)
    return midpoint(v[low], v[high])


def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a + b) / 2`` elementwise, without overflow for finite inputs.

    ``0.5 * (a + b)`` overflows to +-inf when ``|a + b|`` exceeds the float
    range; halving first cannot overflow (it can lose the last bit of a
    subnormal, so it is only used where the sum overflowed).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mid = 0.5 * (a + b)
        overflow = np.isinf(mid) & np.isfinite(a) & np.isfinite(b)
        return np.where(overflow, 0.5 * a + 0.5 * b, mid)


def weighted_median(values: np.ndarray, weights: np.ndarray | None) -> float:
    """Median with weights counting repetitions (see ``weighted_quantiles``)."""
    return float(weighted_quantiles(values, weights, np.array([0.5]))[0])
