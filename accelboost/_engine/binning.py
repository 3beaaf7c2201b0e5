"""Quantile binning of numeric features into uint8 (or uint16) codes.

Each feature gets at most ``max_bins`` bins for its non-missing values; the
code ``missing_bin`` (equal to ``max_bins``) is reserved for NaN so that every
feature's histogram has the same shape. A value ``x`` lands in bin
``b = #{thresholds < x}``, so ``x <= thresholds[b]`` exactly when its bin is at
most ``b``: a split found on bins is the same split on raw values.
"""

import numpy as np
from numba import njit, prange

from .common import MAX_BINS, X_DTYPE, X_DTYPES, binned_dtype
from .quantile import midpoint, weighted_quantiles


def find_bin_thresholds(
    column: np.ndarray, max_bins: int, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Thresholds between consecutive bins of one feature.

    Parameters
    ----------
    column : ndarray of shape (n_samples,)
        Feature values, possibly with NaN (ignored here); float32 values are
        read as float64, so both give the same thresholds.
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
    # Midpoints and quantiles in float64 whatever the input: a float32
    # column then gets the thresholds of its float64 copy, bit for bit.
    column = np.asarray(column, dtype=X_DTYPE)
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
        rows: np.ndarray | None = None,
    ) -> "BinMapper":
        """Compute bin thresholds of every column of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Training data, NaN for missing values; float64 or float32 (the
            same thresholds as its float64 copy).
        sample_weight : ndarray of shape (n_samples,) or None
            See ``find_bin_thresholds``.
        n_categories : ndarray of int, shape (n_features,), or None
            Number of categories of each categorical feature (0 for a
            numeric one). A categorical column holds codes 0..K-1, and code
            ``k`` gets bin ``k`` whatever the data, so that raw codes and
            bins agree.
        rows : ndarray of int or None
            Fit on ``X[rows]`` (and ``sample_weight[rows]``) without making
            it: the thresholds are those ``fit(X[rows], ...)`` finds. None:
            all rows. Either way only one column of the rows read (the
            subsample, ``sample_rows``) is gathered at a time.

        Returns
        -------
        self : BinMapper
        """
        if not 2 <= self.max_bins <= MAX_BINS:
            raise ValueError(
                f"max_bins must be in [2, {MAX_BINS}], got {self.max_bins}."
            )
        n_rows = X.shape[0] if rows is None else len(rows)
        sample = self.sample_rows(n_rows)
        if rows is not None:
            sample = rows if sample is None else rows[sample]
        if sample is not None and sample_weight is not None:
            sample_weight = sample_weight[sample]
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
                # One column's rows at a time: X itself is never copied.
                np.ascontiguousarray(X[:, f] if sample is None else X[sample, f],
                                     dtype=X_DTYPE),
                self.max_bins, sample_weight,
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

    def transform(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Map ``X`` (or its ``rows``) to bins.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Raw values. float64 and float32, in any memory layout, are read
            in place; other dtypes are converted to float64 first (a copy).
        rows : ndarray of int or None
            Bin ``X[rows]`` without making it (early stopping's training
            and held-out rows). None: all rows.

        Returns
        -------
        binned : ndarray of shape (n_rows, n_features)
            Fortran-ordered, in ``binned_dtype(max_bins)``.
        """
        X = np.asarray(X)
        if X.dtype not in X_DTYPES:
            X = X.astype(X_DTYPE)
        if rows is not None:
            rows = np.asarray(rows, dtype=np.intp)
        n_rows = X.shape[0] if rows is None else len(rows)
        binned = np.empty((n_rows, X.shape[1]), dtype=binned_dtype(self.max_bins),
                          order="F")
        map_to_bins(
            X, self.thresholds_, self.n_bins_non_missing_, self.missing_bin_,
            binned, rows,
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
def map_to_bins(X, thresholds, n_bins_non_missing, missing_bin, binned, rows=None):
    """Write ``binned[i, f] = #{thresholds[f] < X[r, f]}`` (NaN: missing_bin),
    ``r = rows[i]`` (``r = i`` when ``rows`` is None).

    Parallel over rows: ``X`` is usually C-ordered, so each thread reads whole
    rows contiguously; every output cell is written exactly once. A float32
    ``x`` is compared with the float64 thresholds exactly (widened), so it
    gets the bin of its float64 copy.
    """
    n_rows, n_features = binned.shape
    for i in prange(n_rows):
        # Compiled apart for rows=None, where this branch is pruned.
        if rows is None:
            r = np.intp(i)
        else:
            r = np.intp(rows[i])
        for f in range(n_features):
            n_thresholds = n_bins_non_missing[f] - 1
            x = X[r, f]
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
