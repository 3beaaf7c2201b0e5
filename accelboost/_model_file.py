"""Models as files: save_model / load_model (versioned JSON) and dump_model.

A model file is one JSON object (docs/model_format.md describes it field by
field): what it is (``format``, ``format_version``), who wrote it
(``accelboost_version``), the estimator class and its parameters, and the
fitted state under ``fitted``.

The fitted state is a table of components (``COMPONENTS``). Each component
owns some attributes of the fitted estimator and has an ``encode`` function
(estimator -> JSON value) and a ``decode`` function (JSON value -> those
attributes, set on the estimator). Adding a component is one entry in the
table: older files that lack it are read through its ``missing`` hook, and
``save_model`` refuses to write a model that has a fitted attribute no
component owns, so new fitted state cannot be left out of the files
unnoticed. Parameters are not a component: they go through ``get_params``
and ``set_params``, so a new constructor parameter needs no change here.

Floats are written as Python writes them (the shortest decimal that reads
back as the same double); inf, -inf and NaN, which JSON lacks, as strings
(see ``_float_to_json``). 64-bit category bitsets are hex strings, as JSON
numbers beyond 2**53 lose digits in most readers.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils.validation import check_is_fitted

from ._categorical import CategoryEncoder
from ._engine.binning import BinMapper
from ._engine.common import NODE_DTYPE
from ._ensemble import TreeEnsemble
from ._stages import AGBMPolicy, MomentumRules, Schedule, StackingPolicy, Stage

#: The value of a model file's ``format`` field.
FORMAT_NAME = "accelboost model"
#: Version of the layout this module writes. Bump it when an existing field
#: changes meaning or encoding; adding a component does not need a bump
#: (an older reader refuses a file with a component it does not know).
FORMAT_VERSION = 1

_T = TypeVar("_T")


class ModelFileError(ValueError):
    """A file that is not a model this version of accelboost can load."""


# -- floats and arrays -----------------------------------------------------

#: Bits of the NaN Python and NumPy make (``float("nan")``, ``np.nan``).
_CANONICAL_NAN = 0x7FF8000000000000


def _float_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _float_to_json(x: float) -> float | str:
    """A float as JSON: itself when finite, else "inf", "-inf" or "nan".

    A NaN other than the canonical one (a negative NaN, which x86 makes
    from ``inf - inf``, or one with a payload) is "nan:" and its 16 hex
    digits, so that every double comes back bit for bit.
    """
    if math.isfinite(x):
        return x
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    bits = _float_bits(x)
    return "nan" if bits == _CANONICAL_NAN else f"nan:{bits:016x}"


def _float_from_json(value: Any) -> float:
    if isinstance(value, str):
        if value in ("inf", "-inf", "nan"):
            return float(value)
        if value.startswith("nan:"):
            bits = int(value[4:], 16)
            return struct.unpack("<d", struct.pack("<Q", bits))[0]
        raise ValueError(f"{value!r} is not a float")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a float")
    return float(value)


def _elements_to_json(values: np.ndarray) -> list:
    """Flat JSON list of the elements of ``values`` (C order), by dtype kind."""
    flat = values.ravel()
    kind = flat.dtype.kind
    if kind == "f":
        items = flat.astype(np.float64).tolist()
        if np.isfinite(flat).all():
            return items
        return [_float_to_json(x) for x in items]
    if kind == "u" and flat.dtype.itemsize == 8:
        # Bitset words use all 64 bits: hex strings keep them exact.
        return [hex(w) for w in flat.tolist()]
    if kind in "iub" or kind == "U":
        return flat.tolist()
    if kind == "O":
        return [encode_value(x) for x in flat.tolist()]
    raise TypeError(f"arrays of dtype {flat.dtype} cannot be stored")


def _elements_from_json(data: list, dtype: np.dtype) -> np.ndarray:
    """Inverse of ``_elements_to_json``: a flat array of ``dtype``."""
    if not isinstance(data, list):
        raise ValueError("array data must be a list")
    kind = dtype.kind
    if kind == "f":
        return np.array([_float_from_json(x) for x in data], dtype=np.float64).astype(
            dtype
        )
    if kind == "u" and dtype.itemsize == 8:
        return np.array([int(w, 16) for w in data], dtype=dtype)
    if kind in "iu":
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in data):
            raise ValueError(f"{dtype} array data must be integers")
        return np.array(data, dtype=dtype)
    if kind == "b":
        if not all(isinstance(x, bool) for x in data):
            raise ValueError("bool array data must be true or false")
        return np.array(data, dtype=dtype)
    if kind == "U":
        return np.array(data, dtype=dtype)
    if kind == "O":
        out = np.empty(len(data), dtype=object)
        out[:] = [decode_value(x) for x in data]
        return out
    raise ValueError(f"arrays of dtype {dtype} are not in the format")


def encode_array(values: np.ndarray, sparse: bool = False) -> dict:
    """An ndarray as ``{"dtype", "shape", "data"}`` (data flat, C order).

    Parameters
    ----------
    values : ndarray
        Of a bool, integer, float, str or object (of storable values) dtype.
    sparse : bool, default=False
        Store only the elements that are not +0 as ``"nonzero"`` (flat
        indices) and ``"values"``, instead of ``"data"``.

    Returns
    -------
    encoded : dict
    """
    values = np.asarray(values)
    out = {"dtype": values.dtype.str, "shape": list(values.shape)}
    if sparse and values.dtype.kind in "iuf":
        flat = values.ravel()
        # +0 is left out, -0.0 is kept: the zeros come back bit for bit.
        keep = np.flatnonzero((flat != 0) | np.signbit(flat) | (flat != flat))
        out["nonzero"] = keep.tolist()
        out["values"] = _elements_to_json(flat[keep])
    else:
        out["data"] = _elements_to_json(values)
    return out


def decode_array(encoded: dict) -> np.ndarray:
    """Inverse of ``encode_array``.

    Parameters
    ----------
    encoded : dict
        ``{"dtype", "shape", "data"}``, or sparse: ``{"dtype", "shape",
        "nonzero", "values"}``.

    Returns
    -------
    values : ndarray
    """
    dtype = np.dtype(encoded["dtype"])
    shape = tuple(encoded["shape"])
    if "nonzero" in encoded:
        flat = np.zeros(math.prod(shape), dtype=dtype)
        flat[np.array(encoded["nonzero"], dtype=np.intp)] = _elements_from_json(
            encoded["values"], dtype
        )
    else:
        flat = _elements_from_json(encoded["data"], dtype)
    return flat.reshape(shape)


def encode_value(value: Any) -> Any:
    """A Python or NumPy value as JSON, types kept (tagged where JSON has none).

    ``None``, bools, ints, strs and lists are themselves; finite floats are
    JSON numbers. Everything else is a one-key object: ``{"$float": "inf"}``
    (see ``_float_to_json``), ``{"$tuple": [...]}``, ``{"$set": [...]}``,
    ``{"$dict": [[key, value], ...]}``, ``{"$ndarray": encode_array(...)}``.
    NumPy scalars become the Python ones.

    Parameters
    ----------
    value : object
        The value to store.

    Returns
    -------
    encoded : object
        A value ``json.dumps`` writes as strict JSON.

    Raises
    ------
    TypeError
        For anything else (callables, RandomState instances, ...).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        encoded = _float_to_json(float(value))
        return encoded if isinstance(encoded, float) else {"$float": encoded}
    if isinstance(value, np.ndarray):
        return {"$ndarray": encode_array(value)}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode_value(v) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    raise TypeError(f"a {type(value).__name__} cannot be stored as JSON")


def decode_value(encoded: Any) -> Any:
    """Inverse of ``encode_value``.

    Parameters
    ----------
    encoded : object
        As ``encode_value`` returns it.

    Returns
    -------
    value : object
    """
    if isinstance(encoded, list):
        return [decode_value(v) for v in encoded]
    if not isinstance(encoded, dict):
        return encoded
    if len(encoded) != 1:
        raise ValueError(f"not a tagged value: {encoded!r}")
    ((tag, body),) = encoded.items()
    if tag == "$float":
        return _float_from_json(body)
    if tag == "$ndarray":
        return decode_array(body)
    if tag == "$tuple":
        return tuple(decode_value(v) for v in body)
    if tag == "$set":
        return {decode_value(v) for v in body}
    if tag == "$dict":
        return {decode_value(k): decode_value(v) for k, v in body}
    raise ValueError(f"unknown value tag {tag!r}")


# -- components of the fitted state ------------------------------------------


@dataclass(frozen=True)
class Component:
    """One part of the fitted state in a model file.

    Attributes
    ----------
    key : str
        Its field in the file's ``fitted`` object.
    attributes : tuple of str
        The estimator attributes it stores and restores (``save_model``
        checks that every fitted attribute belongs to a component).
    encode : callable
        ``encode(estimator)`` -> a JSON value.
    decode : callable
        ``decode(estimator, value)`` sets the attributes on the estimator.
        Components are decoded in table order, after the parameters, so a
        decoder can read the components before it.
    missing : callable or None
        ``missing(estimator)`` sets the attributes when a file (written
        before the component existed) lacks it; None: the file must have it.
    """

    key: str
    attributes: tuple
    encode: Callable[[Any], Any]
    decode: Callable[[Any, Any], None]
    missing: Callable[[Any], None] | None = None


def _encode_features(est) -> dict:
    names = getattr(est, "feature_names_in_", None)
    return {
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": None if names is None else encode_array(names),
    }


def _decode_features(est, data) -> None:
    est.n_features_in_ = _int(data["n_features_in"])
    if data["feature_names_in"] is not None:
        names = decode_array(data["feature_names_in"])
        if names.shape != (est.n_features_in_,):
            raise ValueError("feature_names_in does not match n_features_in")
        est.feature_names_in_ = names


def _encode_classes(est):
    classes = getattr(est, "classes_", None)
    return None if classes is None else encode_array(classes)


def _decode_classes(est, data) -> None:
    if data is None:
        if is_classifier(est):
            raise ValueError("a classifier's file must have its classes")
        return
    est.classes_ = decode_array(data)


#: Attributes of a fitted BinMapper that the bin_mapper component stores.
_BIN_MAPPER_ATTRIBUTES = {
    "max_bins", "subsample", "random_state", "bin_thresholds_",
    "n_bins_non_missing_", "thresholds_", "missing_bin_", "is_categorical_",
}


def _encode_bin_mapper(est) -> dict:
    mapper = est._bin_mapper
    _check_owned(mapper, _BIN_MAPPER_ATTRIBUTES, "the bin mapper")
    n_bins = mapper.n_bins_non_missing_
    thresholds = [mapper.thresholds_[f, : n_bins[f] - 1] for f in range(len(n_bins))]
    # The file keeps each feature's inner edges; the padding is rebuilt.
    if not _same_bits(_padded_thresholds(thresholds, mapper.max_bins),
                      mapper.thresholds_):
        raise ValueError(
            "the bin mapper's thresholds_ are not its edges padded with +inf; "
            "the model file format cannot store them"
        )
    is_categorical = getattr(mapper, "is_categorical_", None)
    if is_categorical is None:
        is_categorical = np.zeros(len(n_bins), dtype=np.uint8)
    return {
        "max_bins": int(mapper.max_bins),
        "subsample": encode_value(mapper.subsample),
        "random_state": encode_value(mapper.random_state),
        "missing_bin": int(mapper.missing_bin_),
        "n_bins_non_missing": _elements_to_json(n_bins),
        "thresholds": [_elements_to_json(t) for t in thresholds],
        "is_categorical": _elements_to_json(np.asarray(is_categorical)),
    }


def _padded_thresholds(thresholds: list, max_bins: int) -> np.ndarray:
    padded = np.full((len(thresholds), max_bins), np.inf)
    for f, t in enumerate(thresholds):
        padded[f, : len(t)] = t
    return padded


def _decode_bin_mapper(est, data) -> None:
    max_bins = _int(data["max_bins"])
    mapper = BinMapper(
        max_bins=max_bins,
        subsample=decode_value(data["subsample"]),
        random_state=decode_value(data["random_state"]),
    )
    n_bins = _elements_from_json(data["n_bins_non_missing"], np.dtype(np.uint32))
    thresholds = [_elements_from_json(t, np.dtype(np.float64))
                  for t in data["thresholds"]]
    n_features = est.n_features_in_
    if len(n_bins) != n_features or len(thresholds) != n_features:
        raise ValueError("the bin mapper does not have one entry per feature")
    if any(len(t) + 1 != n or n > max_bins for t, n in zip(thresholds, n_bins,
                                                           strict=True)):
        raise ValueError("n_bins_non_missing does not match the thresholds")
    mapper.bin_thresholds_ = thresholds
    mapper.n_bins_non_missing_ = n_bins
    mapper.thresholds_ = _padded_thresholds(thresholds, max_bins)
    mapper.missing_bin_ = _int(data["missing_bin"])
    mapper.is_categorical_ = _elements_from_json(
        data["is_categorical"], np.dtype(np.uint8)
    )
    if mapper.missing_bin_ != max_bins or len(mapper.is_categorical_) != n_features:
        raise ValueError("missing_bin or is_categorical does not fit max_bins")
    est._bin_mapper = mapper


def _encode_loss(est) -> dict:
    return {"class": type(est._loss).__name__, "n_outputs": int(est._loss.n_outputs)}


def _decode_loss(est, data) -> None:
    # The loss is rebuilt from the parameters (and classes): it has no
    # fitted state; the file's entry checks that the rebuild agrees.
    loss = est._make_loss()
    if type(loss).__name__ != data["class"] or loss.n_outputs != data["n_outputs"]:
        raise ValueError(
            f"the file's loss is {data['class']} with {data['n_outputs']} "
            f"output(s), but its parameters make {type(loss).__name__} with "
            f"{loss.n_outputs}"
        )
    est._loss = loss


#: Stage policies by the name the file gives them.
_POLICIES = {cls.__name__: cls for cls in (StackingPolicy, AGBMPolicy)}


def _encode_policy(policy) -> dict:
    if type(policy).__name__ not in _POLICIES:
        raise TypeError(f"stage policy {type(policy).__name__} cannot be stored")
    state = {
        name: _encode_dataclass(value) if name == "rules" else encode_value(value)
        for name, value in vars(policy).items()
    }
    return {"class": type(policy).__name__, "state": state}


def _decode_policy(data):
    cls = _POLICIES.get(data["class"])
    if cls is None:
        raise ValueError(f"unknown stage policy {data['class']!r}")
    state = {
        name: _decode_dataclass(MomentumRules, value) if name == "rules"
        else decode_value(value)
        for name, value in data["state"].items()
    }
    # The constructor, not __dict__: the policy is built as the fit builds it.
    policy = cls(**state)
    if vars(policy) != state:
        raise ValueError(f"the {data['class']} state does not rebuild the policy")
    return policy


def _encode_dataclass(value) -> dict:
    return {f.name: encode_value(getattr(value, f.name))
            for f in dataclasses.fields(value)}


def _decode_dataclass(cls, data: dict):
    return cls(**{name: decode_value(v) for name, v in data.items()})


def _encode_stages(stages: list) -> dict:
    return {f.name: [encode_value(getattr(s, f.name)) for s in stages]
            for f in dataclasses.fields(Stage)}


def _decode_stages(data: dict) -> list:
    columns = {name: [decode_value(v) for v in values]
               for name, values in data.items()}
    n = {len(values) for values in columns.values()}
    if len(n) > 1:
        raise ValueError("the stage fields have different lengths")
    n_stages = n.pop() if n else 0
    return [Stage(**{name: values[k] for name, values in columns.items()})
            for k in range(n_stages)]


def _encode_tree(tree: np.ndarray) -> dict:
    """A node array field by field: per field, one entry per node."""
    out = {}
    for name in tree.dtype.names:
        column = tree[name]
        items = _elements_to_json(column)
        width = math.prod(column.shape[1:])
        if column.ndim > 1:  # a subarray field: one list per node
            items = [items[i : i + width] for i in range(0, len(items), width)]
        out[name] = items
    return out


def _decode_tree(data: dict, fields: dict) -> np.ndarray:
    sizes = {len(column) for column in data.values()}
    if len(sizes) != 1:
        raise ValueError("the node fields of a tree have different lengths")
    n_nodes = sizes.pop()
    tree = np.zeros(n_nodes, dtype=NODE_DTYPE)
    for name, column in data.items():
        if name not in fields:
            raise ValueError(f"tree node field {name!r} is not in node_fields")
        dtype, shape = fields[name]
        if shape:
            column = [word for node in column for word in node]
        values = _elements_from_json(column, dtype).reshape((n_nodes, *shape))
        tree[name] = values
    _check_tree(tree)
    return tree


def _check_tree(tree: np.ndarray) -> None:
    """Refuse a node array the predictor cannot walk safely.

    The kernels do not check indices, so a damaged file must fail here, not
    crash or loop there: every inner node's children follow it, the right
    one right after the left one, and no node has two parents.
    """
    n = len(tree)
    if n == 0:
        raise ValueError("a tree has no nodes")
    inner = np.flatnonzero(tree["is_leaf"] == 0)
    left = tree["left"][inner].astype(np.int64)
    right = tree["right"][inner].astype(np.int64)
    if np.any(left <= inner) or np.any(right != left + 1) or np.any(right >= n):
        raise ValueError("a tree's child indices are out of order or out of range")
    parents = np.bincount(np.concatenate([left, right]), minlength=n)
    if np.any(parents > 1):
        raise ValueError("a tree node has two parents")


def _encode_ensemble(est) -> dict:
    ensemble = est._ensemble
    return {
        "baseline": _elements_to_json(ensemble.baseline),
        "policy": _encode_policy(ensemble.policy),
        "stages": _encode_stages(ensemble.stages),
        "node_fields": [
            [name, NODE_DTYPE[name].base.str, list(NODE_DTYPE[name].shape)]
            for name in NODE_DTYPE.names
        ],
        "trees": [_encode_tree(tree) for tree in ensemble.trees],
    }


def _node_fields(declared: list) -> dict:
    """The file's node fields, checked against this version's NODE_DTYPE.

    A field this version lacks is an error (it could change predictions); a
    field the file lacks stays zero in every node (e.g. a file written
    before categorical splits has none).
    """
    fields = {}
    for name, dtype_str, shape in declared:
        if name not in NODE_DTYPE.names:
            raise ValueError(f"unknown tree node field {name!r}")
        dtype, ours = np.dtype(dtype_str), NODE_DTYPE[name]
        if tuple(shape) != ours.shape or not np.can_cast(dtype, ours.base, "safe"):
            raise ValueError(
                f"tree node field {name!r} is {dtype_str}{tuple(shape)}, which "
                f"does not fit {ours.base.str}{ours.shape}"
            )
        fields[name] = (dtype, tuple(shape))
    return fields


def _decode_ensemble(est, data) -> None:
    baseline = _elements_from_json(data["baseline"], np.dtype(np.float64))
    policy = _decode_policy(data["policy"])
    stages = _decode_stages(data["stages"])
    fields = _node_fields(data["node_fields"])
    trees = [_decode_tree(tree, fields) for tree in data["trees"]]
    ensemble = TreeEnsemble(baseline, policy)
    if ensemble.n_outputs != est._loss.n_outputs:
        raise ValueError("the baseline does not have one value per output")
    per_stage = ensemble.trees_per_stage
    if len(trees) != len(stages) * per_stage:
        raise ValueError(
            f"{len(trees)} trees for {len(stages)} stages of {per_stage} tree(s)"
        )
    n_features = est.n_features_in_
    for tree in trees:
        inner = tree["is_leaf"] == 0
        if np.any(tree["feature_idx"][inner] >= n_features):
            raise ValueError("a tree splits on a feature the model does not have")
    n_outputs = ensemble.n_outputs
    for k, stage in enumerate(stages):
        first = k * per_stage
        ensemble.add_stage(
            [trees[first + role * n_outputs : first + (role + 1) * n_outputs]
             for role in range(policy.n_roles)],
            stage,
        )
    est._ensemble = ensemble


def _encode_iterations(est) -> dict:
    return {
        "n_iter": int(est.n_iter_),
        "best_iteration": int(est.best_iteration_),
        "n_restarts": int(est.n_restarts_),
        "restart_stages": [int(s) for s in est._restart_stages],
    }


def _decode_iterations(est, data) -> None:
    est.n_iter_ = _int(data["n_iter"])
    est.best_iteration_ = _int(data["best_iteration"])
    est.n_restarts_ = _int(data["n_restarts"])
    est._restart_stages = [_int(s) for s in data["restart_stages"]]
    if est.n_iter_ != est._ensemble.n_stages:
        raise ValueError("n_iter does not match the number of stages")


def _encode_scores(est) -> dict:
    return {
        "train_score": encode_array(np.asarray(est.train_score_)),
        "validation_score": encode_array(np.asarray(est.validation_score_)),
    }


def _decode_scores(est, data) -> None:
    est.train_score_ = decode_array(data["train_score"])
    est.validation_score_ = decode_array(data["validation_score"])


def _encode_evals_result(est) -> dict:
    result = getattr(est, "evals_result_", {})
    if not all(isinstance(name, str) for name in result) or not all(
        isinstance(metric, str) for record in result.values() for metric in record
    ):
        raise TypeError("evals_result_ keys must be strings to be stored")
    return {
        name: {metric: [_float_to_json(float(v)) for v in values]
               for metric, values in record.items()}
        for name, record in result.items()
    }


def _decode_evals_result(est, data) -> None:
    est.evals_result_ = {
        name: {metric: [_float_from_json(v) for v in values]
               for metric, values in record.items()}
        for name, record in data.items()
    }


def _encode_fit_state(est) -> dict:
    return {
        "random_seed": encode_value(est._random_seed),
        "schedule": _encode_dataclass(est._schedule),
    }


def _decode_fit_state(est, data) -> None:
    est._random_seed = decode_value(data["random_seed"])
    est._schedule = _decode_dataclass(Schedule, data["schedule"])


def _encode_term_weights(est):
    weights = getattr(est, "_term_weights", None)
    if weights is None:
        return None
    # Most bins of a term hold no training weight: sparse is much smaller.
    return [encode_array(w, sparse=True) for w in weights]


def _decode_term_weights(est, data) -> None:
    est._term_weights = None if data is None else [decode_array(w) for w in data]


def _encode_categories(est):
    encoder = getattr(est, "_category_encoder", None)
    if encoder is None:
        return None

    def values(arrays):
        return [None if a is None else encode_value(a.tolist()) for a in arrays]

    return {
        "mask": [bool(m) for m in encoder.mask],
        "max_categories": int(encoder.max_categories),
        "categories": values(encoder.categories_),
        "merged": values(encoder.merged_),
    }


def _decode_categories(est, data) -> None:
    if data is None:
        est._category_encoder = None
        return

    def arrays(encoded):
        return [None if a is None else np.array(decode_value(a)) for a in encoded]

    encoder = CategoryEncoder(np.array(data["mask"], dtype=bool),
                              _int(data["max_categories"]))
    encoder.categories_ = arrays(data["categories"])
    encoder.merged_ = arrays(data["merged"])
    if not len(encoder.categories_) == len(encoder.merged_) == len(encoder.mask):
        raise ValueError("categories do not match the categorical mask")
    est._category_encoder = encoder


#: The fitted state, in decoding order (a decoder may read what the
#: components before it restored).
COMPONENTS: tuple[Component, ...] = (
    Component("features", ("n_features_in_", "feature_names_in_"),
              _encode_features, _decode_features),
    Component("classes", ("classes_",), _encode_classes, _decode_classes),
    Component("categories", ("_category_encoder",), _encode_categories,
              _decode_categories, missing=lambda est: _decode_categories(est, None)),
    Component("bin_mapper", ("_bin_mapper",), _encode_bin_mapper,
              _decode_bin_mapper),
    Component("loss", ("_loss",), _encode_loss, _decode_loss),
    Component("ensemble", ("_ensemble",), _encode_ensemble, _decode_ensemble),
    Component("iterations",
              ("n_iter_", "best_iteration_", "n_restarts_", "_restart_stages"),
              _encode_iterations, _decode_iterations),
    Component("scores", ("train_score_", "validation_score_"), _encode_scores,
              _decode_scores),
    Component("evals_result", ("evals_result_",), _encode_evals_result,
              _decode_evals_result, missing=lambda est: _decode_evals_result(est, {})),
    Component("fit_state", ("_random_seed", "_schedule"), _encode_fit_state,
              _decode_fit_state),
    Component("term_weights", ("_term_weights",), _encode_term_weights,
              _decode_term_weights),
)

#: Attributes that are not model state: caches (any name ending in
#: ``_cache`` too) and scikit-learn's routing and output configuration.
_NOT_STATE = {"_metadata_request", "_sklearn_output_config"}


def _check_owned(obj, owned: set, what: str) -> None:
    unknown = sorted(set(vars(obj)) - owned)
    if unknown:
        raise NotImplementedError(
            f"{what} has attributes the model file does not store: {unknown}. "
            "Add them to a component in accelboost/_model_file.py."
        )


def _fitted_attributes(est) -> set:
    params = set(est.get_params(deep=False))
    return {
        name for name in vars(est)
        if name not in params and name not in _NOT_STATE
        and not name.endswith("_cache")
    }


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


# -- the file ------------------------------------------------------------------


def _library_version() -> str:
    import accelboost

    version = getattr(accelboost, "__version__", None)
    if version is not None:
        return str(version)
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("accelboost")
    except PackageNotFoundError:
        return "unknown"


def _encode_params(est) -> tuple[dict, dict]:
    """``get_params`` as JSON, and a note for each parameter stored as null."""
    params, notes = {}, {}
    for name, value in est.get_params(deep=False).items():
        try:
            params[name] = encode_value(value)
        except TypeError as exc:
            params[name] = None
            notes[name] = (
                f"not stored ({exc}); a loaded model keeps the loading "
                "estimator's value"
            )
    return params, notes


def _read_document(path) -> dict:
    """The file's JSON object, after checking it is a model file we can read."""
    with open(path, "rb") as file:
        raw = file.read()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{os.fspath(path)!r} is not an accelboost model file: it is not "
            f"JSON ({exc})."
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{os.fspath(path)!r} is not an accelboost model file: it has no "
            f'"format": "{FORMAT_NAME}" field.'
        )
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{os.fspath(path)!r} has an invalid format_version {version!r}."
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{os.fspath(path)!r} has model format version {version} (written "
            f"by accelboost {doc.get('accelboost_version', 'unknown')}), newer "
            f"than format version {FORMAT_VERSION}, the newest this accelboost "
            f"({_library_version()}) reads. Upgrade accelboost to load it."
        )
    return doc


def _decode_params(est, doc: dict, path) -> None:
    params, notes = doc["params"], doc.get("param_notes", {})
    ours = est.get_params(deep=False)
    unknown = sorted(set(params) - set(ours))
    if unknown:
        warnings.warn(
            f"{os.fspath(path)!r} sets parameters {unknown} that "
            f"{type(est).__name__} no longer has; they are ignored.",
            UserWarning,
            stacklevel=3,
        )
    est.set_params(**{
        name: decode_value(value) for name, value in params.items()
        if name in ours and name not in notes
    })
    est._validate_params()


class ModelFileMixin:
    """save_model, load_model and dump_model for the AccelBoost estimators."""

    def save_model(self, path: str | os.PathLike) -> None:
        """Write the fitted model to a JSON file.

        The file holds the estimator's class and parameters and everything
        the fitted model needs to predict and to give its terms (format
        described in docs/model_format.md). A parameter that is not
        JSON-able (a callable ``scoring``, a RandomState ``random_state``)
        is stored as null with a note in ``param_notes``.

        Parameters
        ----------
        path : str or path-like
            The file to write (overwritten if it exists).

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        """
        check_is_fitted(self, "_ensemble")
        owned = {name for component in COMPONENTS for name in component.attributes}
        unowned = sorted(_fitted_attributes(self) - owned)
        if unowned:
            raise NotImplementedError(
                f"The model file does not store the fitted attributes {unowned}; "
                "add a component for them in accelboost/_model_file.py."
            )
        params, notes = _encode_params(self)
        doc = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "accelboost_version": _library_version(),
            "estimator": type(self).__name__,
            "params": params,
            "param_notes": notes,
            "fitted": {c.key: c.encode(self) for c in COMPONENTS},
        }
        # Encoded in full before the file is opened: a failure leaves no
        # half-written file. allow_nan=False: the file is strict JSON.
        text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)

    def load_model(self: _T, path: str | os.PathLike) -> _T:
        """Restore a model written by ``save_model`` into this estimator.

        The file's parameters replace this estimator's (except those the
        file could not store, see ``param_notes``, which keep their values
        here), and its fitted state replaces any this estimator had. The
        loaded model predicts exactly as the saved one did.

        Parameters
        ----------
        path : str or path-like
            A file written by ``save_model`` of the same estimator class.

        Returns
        -------
        self : object
            This estimator, fitted.

        Raises
        ------
        ValueError
            If the file is not an accelboost model file, is of a newer
            format version than this accelboost reads, holds another
            estimator class, or is damaged. Nothing is changed then.
        """
        doc = _read_document(path)
        name = type(self).__name__
        if doc.get("estimator") != name:
            raise ModelFileError(
                f"{os.fspath(path)!r} holds a model of class "
                f"{doc.get('estimator')}; load it with "
                f"{doc.get('estimator')}().load_model(path), not {name}()."
            )
        # Decode into a copy, so that a damaged file leaves this one as it was.
        target = clone(self)
        try:
            _decode_params(target, doc, path)
            fitted = doc["fitted"]
            unknown = sorted(set(fitted) - {c.key for c in COMPONENTS})
            if unknown:
                raise ModelFileError(
                    f"it has components {unknown} that this accelboost "
                    f"({_library_version()}) does not know: upgrade accelboost"
                )
            for component in COMPONENTS:
                if component.key in fitted:
                    component.decode(target, fitted[component.key])
                elif component.missing is not None:
                    component.missing(target)
                else:
                    raise ModelFileError(f"it has no {component.key!r} component")
        except (KeyError, TypeError, ValueError, IndexError, AttributeError,
                OverflowError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else exc
            raise ModelFileError(
                f"{os.fspath(path)!r} is not a valid {name} model file: {detail}"
            ) from exc
        self.__dict__.clear()
        self.__dict__.update(target.__dict__)
        return self

    def dump_model(self, n_stages: int | None = None) -> dict:
        """The trees of the model as plain Python data (json.dumps-able).

        The raw prediction (regressors: on the link scale; classifiers:
        ``decision_function``) of a row is ``baseline[output]`` plus, over
        the trees of that output, ``coef`` times the ``leaf_value`` of the
        leaf the row reaches (docs/model_format.md, "dump_model").

        Parameters
        ----------
        n_stages : int or None, default=None
            Dump the model of the first ``n_stages`` stages, which
            ``iteration_range=(0, n_stages)`` predicts with. None: the model
            ``predict`` uses (``best_iteration_`` stages).

        Returns
        -------
        dump : dict
            ``format_version``, ``estimator``, ``loss``, ``n_features``,
            ``feature_names``, ``classes``, ``n_outputs``, ``baseline``,
            ``n_iter``, ``best_iteration``, ``n_stages``,
            ``trees_per_stage`` and ``trees``: one dict per tree with its
            ``tree_index``, ``stage``, ``role``, ``output``, ``coef``,
            ``num_leaves`` and ``tree_structure``, its root node as a nested
            dict.

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        """
        check_is_fitted(self, "_ensemble")
        if n_stages is not None and not 0 <= n_stages <= self.n_iter_:
            raise ValueError(
                f"n_stages must be in [0, n_iter_={self.n_iter_}], got {n_stages}."
            )
        # The truncated model, not a slice: with momentum a tree's weight
        # depends on the stages after it.
        ensemble = self._model(n_stages)
        names = getattr(self, "feature_names_in_", None)
        coef = ensemble.coef
        n_outputs, per_stage = ensemble.n_outputs, ensemble.trees_per_stage
        classes = getattr(self, "classes_", None)
        return {
            "format_version": FORMAT_VERSION,
            "estimator": type(self).__name__,
            "loss": str(self.loss),
            "n_features": int(self.n_features_in_),
            "feature_names": [
                str(names[f]) if names is not None else f"x{f}"
                for f in range(self.n_features_in_)
            ],
            "classes": None if classes is None else classes.tolist(),
            "n_outputs": int(n_outputs),
            "baseline": ensemble.baseline.tolist(),
            "n_iter": int(self.n_iter_),
            "best_iteration": int(self.best_iteration_),
            "n_stages": int(ensemble.n_stages),
            "trees_per_stage": int(per_stage),
            "trees": [
                {
                    "tree_index": t,
                    "stage": t // per_stage,
                    "role": (t % per_stage) // n_outputs,
                    "output": t % n_outputs,
                    "coef": float(coef[t]),
                    "num_leaves": int(np.sum(tree["is_leaf"] != 0)),
                    "tree_structure": tree_structure(tree),
                }
                for t, tree in enumerate(ensemble.trees)
            ],
        }


def _categories(words: np.ndarray) -> list:
    """The bins set in a left-categories bitset (bin b: bit b & 63 of word b >> 6)."""
    return [64 * w + b for w, word in enumerate(words.tolist())
            for b in range(64) if (word >> b) & 1]


def _node_dict(tree: np.ndarray, i: int) -> dict:
    node = tree[i]
    if node["is_leaf"]:
        return {
            "node_index": i,
            "leaf_value": float(node["value"]),
            "count": int(node["count"]),
            "depth": int(node["depth"]),
        }
    out = {"node_index": i, "split_feature": int(node["feature_idx"])}
    if node["is_categorical"]:
        out["decision_type"] = "in"
        out["categories"] = _categories(node["left_categories"])
    else:
        out["decision_type"] = "<="
        out["threshold"] = float(node["num_threshold"])
    out.update(
        missing_go_left=bool(node["missing_go_left"]),
        gain=float(node["gain"]),
        count=int(node["count"]),
        value=float(node["value"]),
        depth=int(node["depth"]),
    )
    return out


def tree_structure(tree: np.ndarray) -> dict:
    """A node array as nested dicts, from the root (see ``dump_model``).

    Parameters
    ----------
    tree : ndarray of NODE_DTYPE
        One tree; node 0 is the root.

    Returns
    -------
    root : dict
        Inner nodes have ``left_child`` and ``right_child``, leaves
        ``leaf_value``.
    """
    root = _node_dict(tree, 0)
    # A stack, not recursion: a tree without max_depth can be deeper than
    # Python's recursion limit.
    stack = [root]
    while stack:
        node = stack.pop()
        if "leaf_value" in node:
            continue
        record = tree[node["node_index"]]
        node["left_child"] = _node_dict(tree, int(record["left"]))
        node["right_child"] = _node_dict(tree, int(record["right"]))
        stack += [node["left_child"], node["right_child"]]
    return root
