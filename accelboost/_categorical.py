"""Categorical columns: which ones, and their categories as codes 0..K-1.

The estimators take ``categorical_features`` with HistGradientBoosting's
values. Each categorical column is encoded before validation: its
categories, sorted, become the float codes 0, 1, ..., K-1, and NaN marks a
missing value or a category not seen in ``fit`` (HistGradientBoosting's
treatment of unknown categories). The bin of a code is the code itself, so
raw and binned rows share the trees' category bitsets.

A column with more categories than a tree can split on (``max_bins``, at
most ``MAX_CATEGORIES``) keeps its most frequent ones and merges the rest
into one last code, as LightGBM merges rare categories.
"""

from __future__ import annotations

import numpy as np

from ._engine.common import X_DTYPE


def _is_dataframe(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "iloc")


def _column(X, j):
    return X.iloc[:, j] if _is_dataframe(X) else np.asarray(X)[:, j]


def _is_category_dtype(column) -> bool:
    return getattr(getattr(column, "dtype", None), "name", None) == "category"


def categorical_mask(X, categorical_features) -> np.ndarray | None:
    """Which features of ``X`` are categorical, as HistGradientBoosting decides.

    Parameters
    ----------
    X : array-like or pandas DataFrame of shape (n_samples, n_features)
        Training data, before validation.
    categorical_features : "from_dtype", array-like of bool, int or str, or None
        "from_dtype": the DataFrame columns of pandas ``category`` dtype
        (none for an array). A boolean mask, feature indices, or feature
        names (a DataFrame's columns).

    Returns
    -------
    mask : ndarray of bool, shape (n_features,), or None
        None when no feature is categorical.
    """
    if categorical_features is None:
        return None
    by_dtype = (isinstance(categorical_features, str)
                and categorical_features == "from_dtype")
    if by_dtype and not _is_dataframe(X):
        return None
    shape = X.shape if _is_dataframe(X) else np.asarray(X).shape
    if len(shape) != 2:
        return None  # validation rejects a wrong shape with its own message
    n_features = shape[1]
    if by_dtype:
        mask = np.array([_is_category_dtype(X.iloc[:, j]) for j in range(n_features)])
        return mask if mask.any() else None
    features = np.asarray(categorical_features)
    if features.size == 0:
        return None
    kinds = {type(f) for f in features.ravel().tolist()}
    if features.dtype.kind == "b":
        if features.shape != (n_features,):
            raise ValueError(
                "categorical_features set as a boolean mask must have shape "
                f"(n_features,), got: {features.shape}"
            )
        mask = features.astype(bool)
    elif features.dtype.kind in "iu":
        if features.min() < 0 or features.max() >= n_features:
            raise ValueError(
                "categorical_features set as integer indices must be in "
                f"[0, n_features - 1] = [0, {n_features - 1}], got "
                f"{features.tolist()}."
            )
        mask = np.zeros(n_features, dtype=bool)
        mask[features] = True
    elif kinds == {str}:
        if not _is_dataframe(X):
            raise ValueError(
                "categorical_features should be passed as an array of integers "
                "or as a boolean mask when the model is fitted on data without "
                "feature names."
            )
        names = [str(c) for c in X.columns]
        mask = np.zeros(n_features, dtype=bool)
        for name in features.tolist():
            if name not in names:
                raise ValueError(
                    f"categorical_features has an item value {name!r} which is "
                    "not a valid feature name of the training data. Observed "
                    f"feature names: {names}"
                )
            mask[names.index(name)] = True
    else:
        raise ValueError(
            "categorical_features must be an array-like of bool, int or str, "
            f"got: {', '.join(sorted(k.__name__ for k in kinds))}."
        )
    return mask if mask.any() else None


def _missing(values: np.ndarray) -> np.ndarray:
    """NaN or None in an array of any dtype."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and v != v)
                         for v in values], dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def _observed_categories(column, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The categories present in a column and each present row's index in them.

    A pandas ``category`` column keeps its dtype's order (an ordered
    categorical reads in its own order); other columns are sorted.
    """
    if _is_category_dtype(column):
        codes = np.asarray(column.cat.codes)
        used, inverse = np.unique(codes[codes >= 0], return_inverse=True)
        return np.asarray(column.cat.categories)[used], inverse
    values = np.asarray(column)
    try:
        return np.unique(values[~_missing(values)], return_inverse=True)
    except TypeError:
        raise TypeError(
            f"The categories of feature {j} cannot be sorted: a categorical "
            "column must hold values of one type."
        ) from None


class CategoryEncoder:
    """Encode the categorical columns of X as codes; pass the others through.

    Parameters
    ----------
    mask : ndarray of bool, shape (n_features,)
        The categorical columns.
    max_categories : int
        Most codes a column may use; a column with more categories keeps its
        ``max_categories - 1`` most frequent ones and merges the rest into
        the last code.

    Attributes
    ----------
    categories_ : list of ndarray or None
        Per feature, its categories in code order (None for a numeric
        feature). A merged column's last code has no single category: it
        is listed in ``merged_`` instead.
    merged_ : list of ndarray or None
        Per feature, the rare categories sharing the last code (None if no
        category was merged).
    """

    def __init__(self, mask: np.ndarray, max_categories: int):
        self.mask = np.asarray(mask, dtype=bool)
        self.max_categories = max_categories

    @property
    def n_categories_(self) -> np.ndarray:
        """Codes in use per feature (0 for a numeric feature)."""
        return np.array([
            0 if c is None else len(c) + (m is not None)
            for c, m in zip(self.categories_, self.merged_, strict=True)
        ], dtype=np.intp)

    def fit(self, X) -> CategoryEncoder:
        """Learn each categorical column's categories from ``X``.

        Parameters
        ----------
        X : array-like or pandas DataFrame of shape (n_samples, n_features)
            Training data, before validation.

        Returns
        -------
        self : CategoryEncoder
        """
        self.categories_ = [None] * len(self.mask)
        self.merged_ = [None] * len(self.mask)
        for j in np.flatnonzero(self.mask):
            categories, inverse = _observed_categories(_column(X, j), j)
            if len(categories) > self.max_categories:
                counts = np.bincount(inverse)
                # Most frequent first; ties in category order (stable sort).
                order = np.argsort(-counts, kind="stable")
                kept = np.sort(order[: self.max_categories - 1])
                self.merged_[j] = np.delete(categories, kept)
                categories = categories[kept]
            self.categories_[j] = categories
        return self

    def transform(self, X):
        """``X`` with each categorical column replaced by its float codes.

        Missing values and unknown categories become NaN. A DataFrame stays
        a DataFrame (its column names are kept for validation); anything
        else becomes a float64 ndarray. ``X`` with another number of
        columns is returned as it is, for validation to reject.
        """
        if not _is_dataframe(X):
            X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != len(self.mask):
            return X
        if _is_dataframe(X):
            out = X.copy(deep=False)
            for j in np.flatnonzero(self.mask):
                out[out.columns[j]] = self._codes(j, X.iloc[:, j])
            return out
        values = X
        out = np.empty(values.shape, dtype=X_DTYPE)
        for j in range(len(self.mask)):
            if self.mask[j]:
                out[:, j] = self._codes(j, values[:, j])
            else:
                try:
                    out[:, j] = values[:, j]
                except (TypeError, ValueError):
                    raise ValueError(
                        f"could not convert feature {j} to float: only the "
                        "columns in categorical_features may hold categories."
                    ) from None
        return out

    def _codes(self, j: int, column) -> np.ndarray:
        if _is_category_dtype(column):
            # Code the dtype's categories once, then index by the row codes.
            table = np.append(self._codes(j, np.asarray(column.cat.categories)),
                              np.nan)
            return table[np.asarray(column.cat.codes)]  # -1 (missing): NaN
        values = np.asarray(column)
        categories = self.categories_[j]
        codes = np.full(values.shape[0], np.nan, dtype=X_DTYPE)
        present = ~_missing(values)
        if values.dtype.kind in "iufb" and categories.dtype.kind in "iufb":
            lookup = values[present].astype(np.float64)
            where = np.searchsorted(categories, lookup)
            where = np.minimum(where, len(categories) - 1)
            known = categories[where] == lookup
            found = np.where(known, where, np.nan)
            if self.merged_[j] is not None:
                other = np.isin(lookup, self.merged_[j])
                found[other] = len(categories)
            codes[present] = found
            return codes
        index = {c: k for k, c in enumerate(categories.tolist())}
        if self.merged_[j] is not None:
            index.update(dict.fromkeys(self.merged_[j].tolist(), len(categories)))
        codes[present] = [index.get(v, np.nan) for v in values[present].tolist()]
        return codes


def make_encoder(X, categorical_features,
                 max_categories: int) -> CategoryEncoder | None:
    """The fitted encoder of ``X``'s categorical columns (None if there are none).

    Parameters
    ----------
    X : array-like or pandas DataFrame
        Training data, before validation.
    categorical_features : "from_dtype", array-like or None
        As for ``categorical_mask``.
    max_categories : int
        Codes a column may use (``CategoryEncoder``).

    Returns
    -------
    encoder : CategoryEncoder or None
    """
    mask = categorical_mask(X, categorical_features)
    if mask is None:
        return None
    return CategoryEncoder(mask, max_categories).fit(X)
