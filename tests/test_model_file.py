"""Model files: save_model/load_model round trips bit for bit, and dump_model."""

import json
import math
import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.metrics import make_scorer, mean_squared_error
from sklearn.utils._param_validation import StrOptions

import accelboost
from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost._engine.common import NODE_DTYPE
from accelboost._model_file import (
    COMPONENTS,
    FORMAT_VERSION,
    decode_array,
    decode_value,
    encode_array,
    encode_value,
)

# -- losses, read from the estimators so that new ones are covered ---------------

#: What a loss needs beyond its name to be built.
_LOSS_KWARGS = {"quantile": {"quantile": 0.5}}


def _loss_names(cls) -> list:
    return sorted(
        name
        for constraint in cls._parameter_constraints["loss"]
        if isinstance(constraint, StrOptions)
        for name in constraint.options
    )


REGRESSION_LOSSES = _loss_names(AccelBoostRegressor)
CLASSIFICATION_LOSSES = _loss_names(AccelBoostClassifier)

COMMON = dict(max_iter=8, max_leaf_nodes=6, learning_rate=0.3, random_state=0,
              early_stopping=False)


def _data(n=240, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    X[rng.rand(n) < 0.15, 1] = np.nan
    f = X[:, 0] + np.sin(2 * X[:, 2]) + 0.5 * np.nan_to_num(X[:, 1], nan=1.0)
    return X, f + 0.3 * rng.normal(size=n)


def _test_rows(X):
    """The training rows, a row of NaN and rows beyond the training range."""
    extra = np.array([[np.nan] * X.shape[1], [1e6] * X.shape[1],
                      [-1e6] * X.shape[1]])
    return np.vstack([X, extra])


def _labels(y, kind):
    binary = kind.startswith("binary")
    codes = np.digitize(y, [np.median(y)] if binary
                        else np.quantile(y, [1 / 3, 2 / 3]))
    if kind == "binary":
        return np.array(["no", "yes"])[codes]
    if kind == "binary int":
        return np.array([3, 7])[codes]
    # Object labels, as a pandas column of strings gives them.
    return np.array(["low", "mid", "high"], dtype=object)[codes]


# -- comparing two models -----------------------------------------------------


def _assert_identical(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype.kind in "biufV":  # V: node records, compared byte for byte
        assert a.tobytes() == b.tobytes()
    else:
        assert a.tolist() == b.tolist()


def _prediction_methods(model):
    if isinstance(model, AccelBoostClassifier):
        return ["predict", "predict_proba", "decision_function"]
    return ["predict"]


def _assert_same_model(original, loaded, X):
    assert type(loaded) is type(original)
    assert loaded.get_params() == original.get_params()
    for name in ("n_features_in_", "n_iter_", "best_iteration_", "n_restarts_"):
        assert getattr(loaded, name) == getattr(original, name)
    for name in ("train_score_", "validation_score_", "feature_importances_",
                 "stage_coef_", "stage_momentum_", "restart_stages_"):
        _assert_identical(getattr(loaded, name), getattr(original, name))
    assert getattr(loaded, "evals_result_", None) == getattr(
        original, "evals_result_", None)
    for name in ("feature_names_in_", "classes_"):
        assert hasattr(loaded, name) == hasattr(original, name)
        if hasattr(original, name):
            _assert_identical(getattr(loaded, name), getattr(original, name))
    ours, theirs = loaded._ensemble, original._ensemble
    _assert_identical(ours.baseline, theirs.baseline)
    assert ours.stages == theirs.stages
    assert type(ours.policy) is type(theirs.policy)
    assert vars(ours.policy) == vars(theirs.policy)
    assert len(ours.trees) == len(theirs.trees)
    for mine, yours in zip(ours.trees, theirs.trees, strict=True):
        _assert_identical(mine, yours)
    _assert_identical(loaded._bin_mapper.thresholds_, original._bin_mapper.thresholds_)
    _assert_identical(loaded._bin_mapper.n_bins_non_missing_,
                      original._bin_mapper.n_bins_non_missing_)
    every_stage = (0, original.n_iter_)
    for method in _prediction_methods(original):
        _assert_identical(getattr(loaded, method)(X), getattr(original, method)(X))
        _assert_identical(getattr(loaded, method)(X, iteration_range=every_stage),
                          getattr(original, method)(X, iteration_range=every_stage))
        staged = list(getattr(loaded, "staged_" + method)(X))
        expected = list(getattr(original, "staged_" + method)(X))
        assert len(staged) == len(expected) == original.n_iter_
        for mine, yours in zip(staged, expected, strict=True):
            _assert_identical(mine, yours)


def _round_trip(model, tmp_path, name="model.json"):
    path = tmp_path / name
    model.save_model(path)
    loaded = type(model)().load_model(path)
    # Everything is in the file: saving the loaded model writes it again.
    copy = tmp_path / ("again-" + name)
    loaded.save_model(copy)
    assert copy.read_bytes() == path.read_bytes()
    return loaded


# -- round trips ------------------------------------------------------------------


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_regression_round_trip_for_every_loss(loss, tmp_path):
    X, y = _data()
    y = np.exp(0.3 * y)  # positive: every regression loss takes it
    model = AccelBoostRegressor(loss=loss, **_LOSS_KWARGS.get(loss, {}), **COMMON)
    model.fit(X, y)
    _assert_same_model(model, _round_trip(model, tmp_path), _test_rows(X))


@pytest.mark.parametrize("loss", CLASSIFICATION_LOSSES)
@pytest.mark.parametrize("kind", ["binary", "binary int", "multiclass"])
def test_classification_round_trip(loss, kind, tmp_path):
    X, y = _data()
    labels = _labels(y, kind)
    model = AccelBoostClassifier(loss=loss, **COMMON).fit(X, labels)
    loaded = _round_trip(model, tmp_path)
    _assert_same_model(model, loaded, _test_rows(X))
    # Labels keep their type: strings stay strings, ints stay ints.
    assert loaded.classes_.dtype == model.classes_.dtype
    assert type(loaded.predict(X[:1])[0]) is type(model.predict(X[:1])[0])


def test_a_dict_parameter_keeps_its_key_types(tmp_path):
    X, y = _data()
    labels = _labels(y, "binary int")
    model = AccelBoostClassifier(class_weight={3: 2.0, 7: 0.5}, **COMMON)
    loaded = _round_trip(model.fit(X, labels), tmp_path)
    assert loaded.class_weight == {3: 2.0, 7: 0.5}
    _assert_same_model(model, loaded, _test_rows(X))


POLICIES = {
    "zero": dict(stage_init="zero"),
    "stacking 0.5": dict(stage_init="stacking", momentum=0.5),
    "nesterov": dict(stage_init="stacking", momentum="nesterov"),
    "agbm": dict(stage_init="agbm"),
}


@pytest.mark.parametrize("policy", list(POLICIES))
def test_every_stage_policy_round_trips(policy, tmp_path):
    X, y = _data()
    params = {**COMMON, "max_iter": 12, "learning_rate": 1.0, **POLICIES[policy]}
    model = AccelBoostRegressor(**params).fit(X, y)
    _assert_same_model(model, _round_trip(model, tmp_path), _test_rows(X))


def test_multiclass_agbm_round_trips(tmp_path):
    X, y = _data()
    model = AccelBoostClassifier(stage_init="agbm", **COMMON).fit(
        X, _labels(y, "multiclass"))
    _assert_same_model(model, _round_trip(model, tmp_path), _test_rows(X))


def test_early_stopping_with_restarts_round_trips(tmp_path):
    X, y = _data(400)
    params = {**COMMON, "early_stopping": True, "max_iter": 60}
    model = AccelBoostRegressor(
        n_iter_no_change=3, validation_fraction=0.25, stage_init="stacking",
        momentum="nesterov", restart="validation", **params,
    ).fit(X, y)
    assert len(model.validation_score_) == model.n_iter_ + 1
    assert model.best_iteration_ < model.n_iter_ and model.n_restarts_ > 0
    loaded = _round_trip(model, tmp_path)
    _assert_same_model(model, loaded, _test_rows(X))


def test_evals_result_round_trips(tmp_path):
    X, y = _data(300)
    model = AccelBoostRegressor(**COMMON).fit(
        X[:200], y[:200], eval_set=[(X[:200], y[:200]), (X[200:], y[200:])])
    assert len(model.evals_result_) == 2
    loaded = _round_trip(model, tmp_path)
    assert loaded.evals_result_ == model.evals_result_
    _assert_same_model(model, loaded, _test_rows(X))


def test_sample_weights_and_terms_round_trip(tmp_path):
    X, y = _data()
    weights = np.random.RandomState(1).choice([0.0, 0.5, 1.0, 3.0], size=len(y))
    model = AccelBoostRegressor(interaction_cst="no_interactions", **COMMON)
    model.fit(X, y, sample_weight=weights)
    loaded = _round_trip(model, tmp_path)
    _assert_same_model(model, loaded, _test_rows(X))
    _assert_identical(loaded.term_importances(), model.term_importances())


def test_nan_everywhere_round_trips(tmp_path):
    X, y = _data()
    X[:, 3] = np.nan  # a feature with no value at all: one bin, no threshold
    X[::5, 0] = np.nan
    model = AccelBoostRegressor(**COMMON).fit(X, y)
    assert model._bin_mapper.n_bins_non_missing_[3] == 1
    _assert_same_model(model, _round_trip(model, tmp_path), _test_rows(X))


def test_categorical_features_round_trip(tmp_path):
    rng = np.random.RandomState(0)
    colors = np.array(["red", "green", "blue", "rare1", "rare2"])
    frame = pd.DataFrame({
        "x": rng.normal(size=600),
        "color": pd.Categorical(colors[rng.choice(5, 600, p=[.4, .3, .26, .02, .02])]),
        "grade": rng.choice([3.0, 7.0, 9.0, np.nan], 600),
    })
    y = (frame["color"].isin(["red", "rare2"]) * 2.0 + frame["x"]).to_numpy()
    # max_bins=4 merges the two rare colours into one code.
    model = AccelBoostRegressor(max_iter=20, max_bins=4, early_stopping=False,
                                categorical_features=["color", "grade"]).fit(frame, y)
    assert model._category_encoder.merged_[1] is not None
    loaded = _round_trip(model, tmp_path)
    new = frame.iloc[:6].copy()
    new["color"] = pd.Categorical(["rare1", "blue", "purple", None, "red", "rare2"])
    new["grade"] = [3.0, 5.0, np.nan, 9.0, 7.0, 3.0]
    _assert_same_model(model, loaded, frame)
    _assert_identical(loaded.predict(new), model.predict(new))
    assert_array_equal(loaded.is_categorical_, [False, True, True])


def test_dataframe_feature_names_round_trip(tmp_path):
    X, y = _data()
    frame = pd.DataFrame(X, columns=["age", "income", "score", "height"])
    model = AccelBoostClassifier(**COMMON).fit(frame, _labels(y, "multiclass"))
    loaded = _round_trip(model, tmp_path)
    assert list(loaded.feature_names_in_) == ["age", "income", "score", "height"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning
        _assert_same_model(model, loaded, frame)
    assert loaded.dump_model()["feature_names"] == list(frame.columns)


@pytest.mark.parametrize("kind", ["regression", "multiclass"])
def test_term_api_after_load(kind, tmp_path):
    X, y = _data()
    params = dict(interaction_cst="no_interactions", **COMMON)
    if kind == "regression":
        model = AccelBoostRegressor(**params).fit(X, y)
    else:
        model = AccelBoostClassifier(**params).fit(X, _labels(y, kind))
    loaded = _round_trip(model, tmp_path)
    rows = _test_rows(X)
    assert loaded.term_features_ == model.term_features_
    assert loaded.term_names_ == model.term_names_
    _assert_identical(loaded.intercept_, model.intercept_)
    _assert_identical(loaded.predict_terms(rows), model.predict_terms(rows))
    for k in range(len(model.term_features_)):
        mine, yours = loaded.shape_function(k), model.shape_function(k)
        assert mine.term == yours.term and mine.name == yours.name
        _assert_identical(mine.values, yours.values)
        for a, b in zip(mine.thresholds, yours.thresholds, strict=True):
            _assert_identical(a, b)
    _assert_identical(loaded.term_importances(), model.term_importances())


def test_warm_start_continues_a_loaded_model_as_the_original(tmp_path):
    X, y = _data()
    params = {**COMMON, "max_iter": 5, "warm_start": True,
              "stage_init": "stacking", "momentum": "nesterov"}
    model = AccelBoostRegressor(**params).fit(X, y)
    loaded = _round_trip(model, tmp_path)
    for m in (model, loaded):
        m.set_params(max_iter=10).fit(X, y)
    _assert_same_model(model, loaded, _test_rows(X))


def test_parameters_that_are_not_json_are_null_with_a_note(tmp_path):
    X, y = _data()
    scorer = make_scorer(mean_squared_error, greater_is_better=False)
    params = {**COMMON, "random_state": np.random.RandomState(0)}
    model = AccelBoostRegressor(scoring=scorer, interaction_cst=[(0, 1), [2, 3]],
                                **params).fit(X, y)
    path = tmp_path / "model.json"
    model.save_model(path)
    doc = json.loads(path.read_text())
    assert doc["params"]["scoring"] is None and doc["params"]["random_state"] is None
    assert set(doc["param_notes"]) == {"scoring", "random_state"}
    # Those parameters keep the loading estimator's values; the rest, tuples
    # inside lists included, come back as they were.
    loaded = AccelBoostRegressor(scoring="r2").load_model(path)
    assert loaded.scoring == "r2" and loaded.random_state is None
    assert loaded.interaction_cst == [(0, 1), [2, 3]]
    _assert_identical(loaded.predict(X), model.predict(X))


def test_the_file_is_strict_json_with_the_documented_fields(tmp_path):
    X, y = _data()
    model = AccelBoostRegressor(**COMMON).fit(X, y)
    path = tmp_path / "model.json"
    model.save_model(path)

    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    assert list(doc) == ["format", "format_version", "accelboost_version",
                         "estimator", "params", "param_notes", "fitted"]
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["accelboost_version"] == accelboost.__version__
    assert doc["estimator"] == "AccelBoostRegressor"
    assert set(doc["params"]) == set(model.get_params())
    assert list(doc["fitted"]) == [
        "features", "classes", "categories", "bin_mapper", "loss", "ensemble",
        "iterations", "scores", "evals_result", "fit_state", "term_weights",
    ]


def test_a_split_of_nan_from_every_value_round_trips(tmp_path):
    # NaN alone drives the target: the root sends every value left and NaN
    # right, at threshold +inf, which JSON has no number for.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    missing = rng.rand(300) < 0.3
    X[missing, 0] = np.nan
    y = np.where(missing, 5.0, 0.0) + 0.1 * rng.normal(size=300)
    model = AccelBoostRegressor(**COMMON).fit(X, y)
    assert model._ensemble.trees[0]["num_threshold"][0] == np.inf
    path = tmp_path / "model.json"
    model.save_model(path)
    doc = json.loads(path.read_text())
    assert doc["fitted"]["ensemble"]["trees"][0]["num_threshold"][0] == "inf"
    _assert_same_model(model, _round_trip(model, tmp_path), _test_rows(X))
    assert model.dump_model()["trees"][0]["tree_structure"]["threshold"] == np.inf


def test_loading_replaces_the_fitted_state(tmp_path):
    X, y = _data()
    plain = AccelBoostRegressor(**COMMON).fit(X, y)
    plain.save_model(tmp_path / "plain.json")
    named = AccelBoostRegressor(max_iter=3).fit(
        pd.DataFrame(X, columns=list("abcd")), y)
    assert named.load_model(tmp_path / "plain.json") is named
    assert not hasattr(named, "feature_names_in_")
    _assert_same_model(plain, named, X)


# -- errors -------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    X, y = _data()
    model = AccelBoostRegressor(**COMMON).fit(X, y)
    path = tmp_path / "model.json"
    model.save_model(path)
    return model, path


def _rewrite(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_a_newer_format_version_is_refused_naming_both(saved):
    _, path = saved
    _rewrite(path, lambda doc: doc.update(format_version=FORMAT_VERSION + 1))
    match = (rf"format version {FORMAT_VERSION + 1}.*newer than format version "
             rf"{FORMAT_VERSION}")
    with pytest.raises(ValueError, match=match):
        AccelBoostRegressor().load_model(path)


def test_a_file_of_the_other_estimator_is_refused(saved):
    _, path = saved
    with pytest.raises(ValueError, match="holds a model of class AccelBoostRegressor"):
        AccelBoostClassifier().load_model(path)


@pytest.mark.parametrize("content", [
    b"", b"hello", b"\x89PNG\r\n\x1a\n\x00\xff", b"[1, 2]", b"{}",
    b'{"format": "xgboost", "format_version": 1}',
])
def test_a_file_that_is_not_a_model_is_refused(content, tmp_path):
    path = tmp_path / "garbage.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not an accelboost model file"):
        AccelBoostRegressor().load_model(path)


def _break_a_child(doc):
    doc["fitted"]["ensemble"]["trees"][0]["left"][0] = 10**6


def _drop_a_component(doc):
    del doc["fitted"]["ensemble"]


def _add_a_component(doc):
    doc["fitted"]["from_the_future"] = {}


def _bad_parameter(doc):
    doc["params"]["max_bins"] = -3


@pytest.mark.parametrize("damage", [_break_a_child, _drop_a_component,
                                    _add_a_component, _bad_parameter])
def test_a_damaged_file_is_refused_and_changes_nothing(damage, saved):
    model, path = saved
    _rewrite(path, damage)
    X, y = _data()
    other = AccelBoostRegressor(max_iter=2).fit(X, y)
    before = other.predict(X)
    with pytest.raises(ValueError, match="not a valid AccelBoostRegressor model"):
        other.load_model(path)
    assert other.max_iter == 2
    _assert_identical(other.predict(X), before)


def test_unfitted_models_cannot_be_saved_or_dumped(tmp_path):
    for model in (AccelBoostRegressor(), AccelBoostClassifier()):
        with pytest.raises(NotFittedError):
            model.save_model(tmp_path / "model.json")
        with pytest.raises(NotFittedError):
            model.dump_model()
    assert not (tmp_path / "model.json").exists()


def test_fitted_state_no_component_stores_is_refused(saved, tmp_path):
    model, _ = saved
    model.new_fitted_thing_ = np.ones(3)
    with pytest.raises(NotImplementedError, match="new_fitted_thing_"):
        model.save_model(tmp_path / "other.json")


# -- encodings ------------------------------------------------------------------


def _bits_to_float(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _through_json(value):
    text = json.dumps(value, allow_nan=False)
    return json.loads(text)


def test_floats_round_trip_bit_for_bit():
    values = np.array([
        0.0, -0.0, 0.1, 1 / 3, 5e-324, -2.2250738585072014e-308,
        1.7976931348623157e308, np.inf, -np.inf, np.nan,
        _bits_to_float(0xFFF8000000000000),  # -nan, as x86 makes inf - inf
        _bits_to_float(0x7FF8000000000123),  # a NaN with a payload
    ])
    encoded = _through_json(encode_array(values))
    assert encoded["data"][7:10] == ["inf", "-inf", "nan"]
    _assert_identical(decode_array(encoded), values)
    for x in values:
        back = decode_value(_through_json(encode_value(x)))
        assert struct.pack("<d", back) == struct.pack("<d", x)


def test_uint64_words_are_exact_hex_strings():
    words = np.array([[0, 1, 2**63, 2**64 - 1]], dtype=np.uint64)
    encoded = _through_json(encode_array(words))
    assert encoded["data"] == ["0x0", "0x1", "0x8000000000000000",
                               "0xffffffffffffffff"]
    _assert_identical(decode_array(encoded), words)


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "nesterov", [1, [2, 3]], (0, (1, 2)), {1, 2},
    {0: 1.0, "a": None}, np.array(["a", "bc"]), np.array(["x", 1], dtype=object),
    np.array([[True, False]]), np.arange(6, dtype=np.int64).reshape(2, 3),
    np.zeros((0, 3)),
])
def test_values_keep_their_types(value):
    back = decode_value(_through_json(encode_value(value)))
    if isinstance(value, np.ndarray):
        _assert_identical(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_sparse_arrays_keep_negative_zero():
    values = np.zeros((3, 4))
    values[1, 2], values[2, 0] = -0.0, 2.5
    encoded = _through_json(encode_array(values, sparse=True))
    assert encoded["nonzero"] == [6, 8] and "data" not in encoded
    _assert_identical(decode_array(encoded), values)


@pytest.mark.parametrize("value", [lambda x: x, np.random.RandomState(0), object()])
def test_values_json_cannot_hold_are_refused(value):
    with pytest.raises(TypeError):
        encode_value(value)


def test_categorical_splits_are_stored_and_dumped(tmp_path):
    X, y = _data()
    model = AccelBoostRegressor(**COMMON).fit(X, y)
    tree = model._ensemble.trees[0]
    assert not tree["is_leaf"][0]
    # Make the root a categorical split whose bitset uses the top bits.
    tree["is_categorical"][0] = 1
    tree["left_categories"][0] = [2**63 | 5, 0, 1, 2**64 - 1]
    model.save_model(tmp_path / "model.json")
    loaded = AccelBoostRegressor().load_model(tmp_path / "model.json")
    _assert_identical(loaded._ensemble.trees[0], tree)
    root = loaded.dump_model()["trees"][0]["tree_structure"]
    assert root["decision_type"] == "in" and "threshold" not in root
    assert root["categories"] == [0, 2, 63, 128, *range(192, 256)]


# -- dump_model -----------------------------------------------------------------


def _leaf_value(node, row):
    while "leaf_value" not in node:
        x = row[node["split_feature"]]
        if math.isnan(x):
            left = node["missing_go_left"]
        elif node["decision_type"] == "<=":
            left = x <= node["threshold"]
        else:
            left = int(x) in node["categories"]
        node = node["left_child"] if left else node["right_child"]
    return node["leaf_value"]


def _dumped_raw(dump, X):
    """Raw predictions from the dump alone, in pure Python."""
    raw = []
    for row in X.tolist():
        values = list(dump["baseline"])
        for tree in dump["trees"]:
            # Tree by tree, as the predictor adds them: the sums agree exactly.
            values[tree["output"]] += tree["coef"] * _leaf_value(
                tree["tree_structure"], row)
        raw.append(values)
    return np.array(raw)


DUMPED = {
    "squared error": (AccelBoostRegressor, dict(loss="squared_error"), None),
    "poisson": (AccelBoostRegressor, dict(loss="poisson"), None),
    "nesterov": (AccelBoostRegressor,
                 dict(stage_init="stacking", momentum="nesterov"), None),
    "agbm": (AccelBoostRegressor, dict(stage_init="agbm"), None),
    "early stopped": (AccelBoostRegressor, dict(
        early_stopping=True, max_iter=60, n_iter_no_change=3,
        validation_fraction=0.25, stage_init="stacking", momentum="nesterov",
        restart="validation"), None),
    "binary": (AccelBoostClassifier, {}, "binary"),
    "multiclass agbm": (AccelBoostClassifier, dict(stage_init="agbm"), "multiclass"),
}


@pytest.mark.parametrize("name", list(DUMPED))
def test_dumped_trees_reproduce_the_raw_predictions(name):
    cls, params, labels = DUMPED[name]
    X, y = _data(400)
    y = np.exp(0.3 * y) if labels is None else _labels(y, labels)
    model = cls(**{**COMMON, **params}).fit(X, y)
    dump = model.dump_model()
    json.dumps(dump)  # plain data
    rows = _test_rows(X)[::7]
    # The model predict uses: best_iteration_ stages.
    _assert_identical(_dumped_raw(dump, rows), model._raw_predict(rows))
    trees = dump["trees"]
    assert [t["coef"] for t in trees] == model.stage_coef_.tolist()
    assert dump["baseline"] == model._ensemble.baseline.tolist()
    assert dump["format_version"] == FORMAT_VERSION
    assert dump["n_stages"] == model.best_iteration_
    assert dump["n_iter"] == model.n_iter_
    per_stage = dump["trees_per_stage"]
    assert len(trees) == per_stage * model.best_iteration_
    assert [t["stage"] for t in trees] == [i // per_stage for i in range(len(trees))]
    # Any number of stages, as iteration_range=(0, n) predicts.
    for n in (0, 1, model.n_iter_):
        _assert_identical(_dumped_raw(model.dump_model(n), rows),
                          model._raw_predict(rows, (0, n)))
    if name == "early stopped":
        assert model.best_iteration_ < model.n_iter_


def test_dump_describes_each_node():
    X, y = _data()
    model = AccelBoostClassifier(**COMMON).fit(X, _labels(y, "multiclass"))
    dump = model.dump_model()
    assert dump["classes"] == ["high", "low", "mid"]
    assert dump["feature_names"] == ["x0", "x1", "x2", "x3"]
    assert [t["output"] for t in dump["trees"][:3]] == [0, 1, 2]
    root = dump["trees"][0]["tree_structure"]
    assert set(root) == {"node_index", "split_feature", "decision_type", "threshold",
                         "missing_go_left", "gain", "count", "value", "depth",
                         "left_child", "right_child"}
    assert root["decision_type"] == "<=" and root["count"] == len(X)
    node, leaves = root, 0
    stack = [root]
    while stack:
        node = stack.pop()
        if "leaf_value" in node:
            assert set(node) == {"node_index", "leaf_value", "count", "depth"}
            leaves += 1
        else:
            assert node["left_child"]["count"] + node["right_child"]["count"] == (
                node["count"])
            stack += [node["left_child"], node["right_child"]]
    assert leaves == dump["trees"][0]["num_leaves"]


# -- the documentation ----------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "model_format.md"


def test_the_format_document_names_every_component_and_node_field():
    text = DOC.read_text(encoding="utf-8")
    for component in COMPONENTS:
        assert f"### `{component.key}`" in text
    for field in NODE_DTYPE.names:
        assert f"`{field}`" in text


def test_the_documented_tree_walk_reproduces_the_predictions():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"),
                        flags=re.DOTALL)
    namespace = {}
    exec(blocks[-1], namespace)
    X, y = _data()
    model = AccelBoostClassifier(stage_init="agbm", **COMMON).fit(
        X, _labels(y, "multiclass"))
    dump = model.dump_model()
    rows = _test_rows(X)[::9]
    raw = np.array([namespace["raw_prediction"](dump, row) for row in rows.tolist()])
    _assert_identical(raw, model.decision_function(rows))
