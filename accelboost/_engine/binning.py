"""Quantile binning of numeric features into uint8 (or uint16) codes.

Each feature gets at most ``max_bins`` bins for its non-missing values; the
code ``missing_bin`` (equal to ``max_bins``) is reserved for NaN so that every
feature's histogram has the same shape. A value ``x`` lands in bin
``b = #{thresholds < x}``, so ``x <= thresholds[b]`` exactly when its bin is at
most ``b``: a split found on bins is the same split on raw values.
"""

import numpy as np
from numba import njit, prange

from .common import MAX_BINS, X_DTYPE, binned_dtype
from .quantile import midpoint, weighted_quantiles


def find_bin_thresholds(
    column: np.ndarray, max_bins: int, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Thresholds between consecutive bins of one feature.

    Parameters
    ----------
    column : ndarray of shape (n_samples,)
        Feature values, possibly with NaN (ignored here).
    max_bins : int
        Maximum number of bins for the non-missing values (<= 1023).
    sample_weight : ndarray of shape (n_samples,) or None
        Weights count repetitions: integer weights bin as repeated rows do,
        and zero-weight rows are ignored.

    Returns
    -------
    thresholds : ndarray of shape (n_bins_non_missing - 1,)
        Strictly increasing. With few distinct values they are the midpoints
        between consecutive distinct values; otherwise weighted quantiles
        (averaged inverted CDF, as scikit-learn's HistGradientBoosting).
    """
    keep = ~np.isnan(column)
    if sample_weight is not None:
        keep &= sample_weight > 0
    # Sort once; the distinct values and the quantiles both read it.
    order = np.argsort(column[keep], kind="stable")
    column = column[keep][order]
    if sample_weight is not None:
        sample_weight = sample_weight[keep][order]
    is_new = np.ones(column.shape, dtype=bool)
    is_new[1:] = column[1:] != column[:-1]
    distinct = column[is_new]
    if len(distinct) <= max_bins:
        lower, upper = distinct[:-1], distinct[1:]
        thresholds = midpoint(lower, upper)
        # Between two adjacent floats the midpoint rounds to one of them, and
        # between -inf and +inf it is NaN: any threshold in [lower, upper)
        # keeps the two values in separate bins, so fall back to lower.
        ok = (thresholds >= lower) & (thresholds < upper)
        thresholds = np.where(ok, thresholds, lower)
    else:
        quantiles = np.linspace(0, 1, num=max_bins + 1)[1:-1]
        thresholds = weighted_quantiles(
            column, sample_weight, quantiles, presorted=True
        )
        # Averaging -inf with +inf gives NaN: drop it.
        thresholds = np.unique(thresholds[~np.isnan(thresholds)])
    return np.asarray(thresholds, dtype=X_DTYPE)


class BinMapper:
    """Learn per-feature bin thresholds and map raw data to bins.

    Bins are uint8 up to 255 bins and uint16 above (``binned_dtype``).

    Parameters
    ----------
    max_bins : int, default=255
        Maximum number of bins for non-missing values of each feature, at
        most 1023.
    subsample : int or None, default=200_000
        Number of rows used to compute the quantiles; ``None`` uses all.
    random_state : int, RandomState or None
        Seeds the subsample.

    Attributes
    ----------
    bin_thresholds_ : list of ndarray
        Thresholds of each feature (``n_bins_non_missing_[f] - 1`` of them).
    thresholds_ : ndarray of shape (n_features, max_bins), dtype float64
        The same thresholds padded with +inf into one array, as
        ``transform`` and the tree grower read them: ``thresholds_[f, b]`` is
        the upper edge of bin ``b`` of feature ``f`` (+inf for its last
        non-missing bin), so a split ``bin <= b`` is ``x <= thresholds_[f, b]``.
    n_bins_non_missing_ : ndarray of shape (n_features,), dtype uint32
        Number of non-missing bins of each feature.
    missing_bin_ : int
        Bin code of NaN, the same for all features.
    is_categorical_ : ndarray of uint8, shape (n_features,)
        Which features are categorical (their bins are their codes).
    """

    def __init__(self, max_bins=255, subsample=200_000, random_state=None):
        self.max_bins = max_bins
        self.subsample = subsample
        self.random_state = random_state

    def fit(
        self,
        X: np.ndarray,
        sample_weight: np.ndarray | None = None,
        n_categories: np.ndarray | None = None,
    ) -> "BinMapper":
        """Compute bin thresholds of every column of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training data, NaN for missing values.
        sample_weight : ndarray of shape (n_samples,) or None
            See ``find_bin_thresholds``.
        n_categories : ndarray of int, shape (n_features,), or None
            Number of categories of each categorical feature (0 for a
            numeric one). A categorical column holds codes 0..K-1, and code
            ``k`` gets bin ``k`` whatever the data, so that raw codes and
            bins agree.

        Returns
        -------
        self : BinMapper
        """
        if not 2 <= self.max_bins <= MAX_BINS:
            raise ValueError(
                f"max_bins must be in [2, {MAX_BINS}], got {self.max_bins}."
            )
        rows = self.sample_rows(X.shape[0])
        if rows is not None:
            X = X.take(rows, axis=0)
            if sample_weight is not None:
                sample_weight = sample_weight[rows]
        if n_categories is None:
            n_categories = np.zeros(X.shape[1], dtype=np.intp)
        if np.any(n_categories > self.max_bins):
            raise ValueError(
                f"A categorical feature has {n_categories.max()} categories, "
                f"more than max_bins={self.max_bins}."
            )
        self.is_categorical_ = (np.asarray(n_categories) > 0).astype(np.uint8)
        self.bin_thresholds_ = [
            np.arange(n_categories[f] - 1, dtype=X_DTYPE) + 0.5
            if self.is_categorical_[f]
            else find_bin_thresholds(
                np.ascontiguousarray(X[:, f]), self.max_bins, sample_weight
            )
            for f in range(X.shape[1])
        ]
        self.n_bins_non_missing_ = np.array(
            [len(t) + 1 for t in self.bin_thresholds_], dtype=np.uint32
        )
        # Padded into one array so the kernels see a regular layout.
        self.thresholds_ = np.full(
            (len(self.bin_thresholds_), self.max_bins), np.inf, dtype=X_DTYPE
        )
        for f, t in enumerate(self.bin_thresholds_):
            self.thresholds_[f, : len(t)] = t
        self.missing_bin_ = self.max_bins
        return self

    def sample_rows(self, n_samples: int) -> np.ndarray | None:
        """The sorted rows ``fit`` reads of ``n_samples`` (None: all of them).

        Data that is not in one place (Dask) gathers these rows to get the
        thresholds an in-memory fit would.
        """
        if self.subsample is None or n_samples <= self.subsample:
            return None
        rng = np.random.RandomState(self.random_state)
        return np.sort(rng.choice(n_samples, self.subsample, replace=False))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Map ``X`` to bins, Fortran-ordered, in ``binned_dtype(max_bins)``."""
        binned = np.empty(X.shape, dtype=binned_dtype(self.max_bins), order="F")
        map_to_bins(
            np.asarray(X, dtype=X_DTYPE),
            self.thresholds_,
            self.n_bins_non_missing_,
            self.missing_bin_,
            binned,
        )
        return binned

    def fit_transform(
        self,
        X: np.ndarray,
        sample_weight: np.ndarray | None = None,
        n_categories: np.ndarray | None = None,
    ) -> np.ndarray:
        """Fit thresholds on ``X`` and return it binned."""
        return self.fit(X, sample_weight, n_categories).transform(X)


@njit(parallel=True, nogil=True, cache=True)
def map_to_bins(X, thresholds, n_bins_non_missing, missing_bin, binned):
    """Write ``binned[i, f] = #{thresholds[f] < X[i, f]}`` (NaN: missing_bin).

    Parallel over rows: ``X`` is usually C-ordered, so each thread reads whole
    rows contiguously; every output cell is written exactly once.
    """
    n_samples, n_features = X.shape
    for i in prange(n_samples):
        for f in range(n_features):
            n_thresholds = n_bins_non_missing[f] - 1
            x = X[i, f]
            if np.isnan(x):
                binned[i, f] = missing_bin
                continue
            # Binary search: first threshold >= x.
            lo = 0
            hi = n_thresholds
            while lo < hi:
                mid = (lo + hi) // 2
                if thresholds[f, mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            binned[i, f] = lo
