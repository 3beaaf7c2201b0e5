"""Which inputs the estimators use without a copy of X (issue 14, point 4),
and that a float32 X fits and predicts bit for bit as its float64 copy.

The README's *Memory: dtypes and layouts* paragraph states these claims: each
has a test here. Memory is measured with ``tracemalloc``, which sees every
NumPy allocation (a copy of X would be one) but not Numba's own.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost._early_stopping import split_validation
from accelboost._engine.binning import BinMapper, find_bin_thresholds, map_to_bins


def _data(n=3_000, p=5, seed=0, nan=0.05):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    X[:, 1] = np.round(X[:, 1], 1)  # few distinct values: midpoint thresholds
    X[rng.random(X.shape) < nan] = np.nan
    signal = np.nan_to_num(X[:, 0]) + np.sin(3 * np.nan_to_num(X[:, 1]))
    return X, signal + 0.3 * rng.normal(size=n)


def _same_model(a, b):
    """Bit-identical thresholds, trees, coefficients and scores."""
    assert_array_equal(a._bin_mapper.thresholds_, b._bin_mapper.thresholds_)
    assert len(a._ensemble.trees) == len(b._ensemble.trees)
    for ta, tb in zip(a._ensemble.trees, b._ensemble.trees, strict=True):
        assert ta.tobytes() == tb.tobytes()
    assert a.stage_coef_.tobytes() == b.stage_coef_.tobytes()
    assert a.validation_score_.tobytes() == b.validation_score_.tobytes()
    assert a.train_score_.tobytes() == b.train_score_.tobytes()


# -- float32 is its float64 copy -----------------------------------------------
def test_float32_thresholds_are_those_of_the_float64_copy():
    rng = np.random.default_rng(1)
    few = np.round(rng.normal(size=500), 1).astype(np.float32)  # midpoints
    many = rng.lognormal(size=5_000).astype(np.float32)  # quantiles
    # Adjacent float32 values: their float64 midpoint is no float32.
    close = np.nextafter(np.float32(1), np.float32(2), dtype=np.float32)
    adjacent = np.array([1, close, 1, close], dtype=np.float32)
    weights = rng.uniform(0, 2, 5_000)
    for column, sw in ((few, None), (many, None), (many, weights),
                       (adjacent, None)):
        got = find_bin_thresholds(column, 255, sw)
        assert got.dtype == np.float64
        assert got.tobytes() == find_bin_thresholds(
            column.astype(np.float64), 255, sw).tobytes()


@pytest.mark.parametrize("order", ["C", "F"])
def test_float32_bins_as_its_float64_copy_in_either_layout(order):
    X, _ = _data(n=2_000)
    # Values at and next to the thresholds, where rounding would show.
    mapper = BinMapper(max_bins=32).fit(X)
    edges = mapper.thresholds_[:, :8].astype(np.float32)
    X[:8] = edges.T
    X[8:16] = np.nextafter(edges.T, np.float32(np.inf))
    X32 = np.asarray(X, order=order)
    binned = mapper.transform(X32)
    assert binned.flags.f_contiguous
    assert_array_equal(binned, mapper.transform(X32.astype(np.float64)))
    # The kernel reads float32 in place: the same bins as searchsorted on
    # the float64 values.
    for f in range(X.shape[1]):
        t = mapper.bin_thresholds_[f]
        values = X32[:, f].astype(np.float64)
        want = np.where(np.isnan(values), mapper.missing_bin_,
                        np.searchsorted(t, values, side="left"))
        assert_array_equal(binned[:, f], want)


def test_binning_rows_is_binning_the_rows_taken():
    X, _ = _data(n=1_000)
    rng = np.random.default_rng(2)
    rows = rng.permutation(1_000)[:700]
    weights = rng.uniform(0, 2, 1_000)
    for subsample in (None, 300):  # all of the rows read, or a subsample
        mapper = BinMapper(subsample=subsample, random_state=4).fit(
            X, weights, rows=rows)
        taken = BinMapper(subsample=subsample, random_state=4).fit(
            X[rows], weights[rows])
        assert mapper.thresholds_.tobytes() == taken.thresholds_.tobytes()
    binned = mapper.transform(X, rows)
    assert binned.flags.f_contiguous
    assert_array_equal(binned, mapper.transform(X[rows]))
    # The kernel with and without row indices.
    out = np.empty((len(rows), X.shape[1]), dtype=np.uint8, order="F")
    map_to_bins(X, mapper.thresholds_, mapper.n_bins_non_missing_,
                mapper.missing_bin_, out, rows)
    assert_array_equal(out, binned)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_float32_fits_and_predicts_as_its_float64_copy(order, early_stopping):
    X, y = _data(n=12_000)
    X32 = np.asarray(X, order=order)
    X64 = X32.astype(np.float64)
    weights = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    params = dict(max_iter=15, early_stopping=early_stopping, random_state=0,
                  validation_fraction=0.2)
    a = AccelBoostRegressor(**params).fit(X32, y, sample_weight=weights)
    b = AccelBoostRegressor(**params).fit(X64, y, sample_weight=weights)
    _same_model(a, b)
    want = b.predict(X64)
    assert a.predict(X32).tobytes() == want.tobytes()
    assert b.predict(X32).tobytes() == want.tobytes()
    for staged_a, staged_b in zip(a.staged_predict(X32), b.staged_predict(X64),
                                  strict=True):
        assert staged_a.tobytes() == staged_b.tobytes()


def test_float32_classifier_with_a_scorer_is_its_float64_copy():
    # A scorer other than the loss reads raw X (a subsample of the training
    # rows, and the held-out rows) through predict.
    X, y = _data(n=15_000)
    labels = np.digitize(y, [-0.5, 0.5])
    params = dict(max_iter=8, early_stopping=True, scoring="accuracy",
                  random_state=2, stage_init="stacking")
    a = AccelBoostClassifier(**params).fit(X, labels)
    b = AccelBoostClassifier(**params).fit(X.astype(np.float64), labels)
    _same_model(a, b)
    assert a.predict_proba(X).tobytes() == b.predict_proba(X).tobytes()


# -- the held-out split without a copy keeps its meaning ----------------------------
@pytest.mark.parametrize("scoring", ["loss", "r2"])
def test_held_out_rows_fit_as_the_explicit_split(scoring):
    # Splitting by row indices changes nothing: the model is the one fitted
    # on split_validation's training copy with its held-out copy given as
    # X_val (thresholds and trees from training rows alone). 15,000 rows:
    # the r2 scorer reads a 10,000-row subsample of the 13,500 training rows.
    X, y = _data(n=15_000, seed=5)
    weights = np.random.default_rng(6).uniform(0.5, 2.0, len(y))
    params = dict(max_iter=12, random_state=7, scoring=scoring,
                  validation_fraction=0.1)
    split = AccelBoostRegressor(early_stopping=True, **params).fit(
        X, y, sample_weight=weights)
    (X_tr, y_tr, w_tr), (X_val, y_val, w_val) = split_validation(
        X, y, weights, 0.1, seed=split._random_seed)
    given = AccelBoostRegressor(early_stopping=True, **params).fit(
        X_tr, y_tr, sample_weight=w_tr, X_val=X_val, y_val=y_val,
        sample_weight_val=w_val)
    _same_model(split, given)


# -- what is used in place, and what is copied ----------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_float_arrays_are_validated_in_place(dtype, order):
    X, y = _data(n=200)
    X = np.asarray(X, dtype=dtype, order=order)
    model = AccelBoostRegressor(max_iter=2)
    assert model._validate_training_data(X, y, None, reset=True)[0] is X
    model.fit(X, y)
    assert model._predict_input(X) is X
    assert model._validation_data(X, y, None)[0] is X
    # A column slice (neither C nor F) is read in place too.
    wide = np.asarray(np.hstack([X, X]), order=order)[:, ::2]
    assert np.shares_memory(model._predict_input(wide), wide)


def test_what_validation_copies():
    X, y = _data(n=200)
    model = AccelBoostRegressor(max_iter=2)

    def validated(data, **params):
        return model.set_params(**params)._validate_training_data(
            data, y, None, reset=True)[0]

    # A DataFrame of one float dtype: its block, not a copy.
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    got = validated(frame)
    assert got.dtype == np.float32
    assert np.shares_memory(got, frame["x0"].to_numpy())
    # Other dtypes become a new float64 array.
    assert validated(np.nan_to_num(X).astype(np.int32)).dtype == np.float64
    assert validated(X.astype(np.float16)).dtype == np.float64
    mixed = frame.astype({"x0": np.float64})
    got = validated(mixed)
    assert got.dtype == np.float64
    assert not np.shares_memory(got, mixed["x1"].to_numpy())
    # A categorical column: the encoder writes every column into float64.
    got = validated(X, categorical_features=[1])
    assert got.dtype == np.float64 and not np.shares_memory(got, X)
    # Sparse matrices are refused, not densified.
    with pytest.raises(TypeError, match="dense data is required"):
        validated(sparse.csr_matrix(np.nan_to_num(X)), categorical_features=None)


@pytest.mark.parametrize("order", ["C", "F"])
def test_nan_costs_validation_a_boolean_array_not_a_copy(order):
    # scikit-learn's finiteness check: a sum, then (NaN found) an isinf mask
    # of X's shape, a quarter of float32 X; without NaN only y's validation
    # allocates (bytes per row, not per value).
    X, y = _data(n=40_000, p=100, nan=0)
    X = np.asarray(X, order=order)
    model = AccelBoostRegressor()
    peaks = []
    for nan in (False, True):
        if nan:
            X[5, 3] = np.nan
        tracemalloc.start()
        try:
            model._validate_training_data(X, y, None, reset=True)
            peaks.append(tracemalloc.get_traced_memory()[1] / X.nbytes)
        finally:
            tracemalloc.stop()
    assert peaks[0] < 0.1
    assert 0.2 < peaks[1] - peaks[0] < 0.3


def _fit_peak(X, y, nbytes, **params):
    """Peak bytes NumPy allocated during a fit, over ``nbytes`` (X's)."""
    # Few bins, so that the histograms (not per row) stay small beside X.
    model = AccelBoostRegressor(max_iter=3, max_leaf_nodes=8, max_bins=31, **params)
    model.fit(X[:2_000], y[:2_000])  # compile outside the measurement
    tracemalloc.start()
    try:
        model.fit(X, y)
        return tracemalloc.get_traced_memory()[1] / nbytes
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("early_stopping, scoring", [
    (False, "loss"), (True, "loss"), (True, "r2")])
@pytest.mark.parametrize("kind", ["float32 C", "float32 F", "float64 C",
                                  "float32 DataFrame"])
def test_a_fit_allocates_far_less_than_X(kind, early_stopping, scoring):
    # 100 float32 features: X is 400 bytes a row, its uint8 bins 100, the
    # fit's per-row state (targets, gradients, predictions, row order)
    # about 80. A copy of X would add 400 bytes a row (float32) or 800
    # (float64); the peak stays below 0.75 X. A scorer other than the loss
    # copies the held-out 10% of the rows and 10,000 training rows, no more.
    n = 40_000
    X, y = _data(n=n, p=100, seed=8, nan=0.01)
    if kind == "float32 F":
        X = np.asfortranarray(X)
    elif kind == "float64 C":
        X = X.astype(np.float64)
    nbytes = X.nbytes
    if kind == "float32 DataFrame":
        X = pd.DataFrame(X)
    peak = _fit_peak(X, y, nbytes, early_stopping=early_stopping, scoring=scoring)
    limit = 0.75 + (0.1 + 10_000 / n if scoring != "loss" else 0.0)
    assert peak < limit, f"{kind}: the fit allocated {peak:.2f} x X"


def test_an_integer_X_is_copied_to_float64():
    # The documented exception: int32 X (4 bytes a value) becomes float64.
    X, y = _data(n=40_000, p=100, seed=8, nan=0)
    X = (10 * X).astype(np.int32)
    assert _fit_peak(X, y, X.nbytes, early_stopping=False) > 2.0
