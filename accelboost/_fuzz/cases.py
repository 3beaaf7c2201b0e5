"""A fit as a flat, JSON-able record: the data's recipe and the parameters.

Every field of :class:`Case` is drawn from :data:`SPACE`: by a NumPy generator
(:meth:`Case.draw`, the ``benchmarks fuzz`` campaign) or by hypothesis
(``tests/test_properties.py``), which shrinks a failing case toward each
field's first value. The data are rebuilt from the record (``data_seed``), so a
case is its own reproduction.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Options:
    """A field drawn from ``values`` (with ``weights`` by a NumPy generator;
    hypothesis draws them evenly and shrinks toward the first)."""

    values: tuple
    weights: tuple | None = None


@dataclass(frozen=True)
class Integers:
    """A field drawn from ``low..high``, log-uniformly by a NumPy generator
    when ``log`` (small data and short fits are the common case)."""

    low: int
    high: int
    log: bool = False


#: Kinds of a feature column in ``x_columns="mixed"`` data.
COLUMN_KINDS = ("normal", "constant", "duplicated", "huge", "tiny", "integer",
                "heavy_tailed", "ties")
#: Kinds of a regression target.
Y_KINDS = ("normal", "counts", "positive", "huge", "tiny", "constant", "zeros",
           "negative", "nan", "inf")
#: Kinds of sample weights (``"none"``: no weights).
WEIGHT_KINDS = ("none", "uniform", "integer", "some_zero", "one_positive",
                "all_zero", "negative", "huge", "tiny")
#: Labels of the classes, by ``label_kind``.
LABELS = {"int": np.array([-1, 3, 7, 10]),
          "str": np.array(["cat", "dog", "emu", "fox"]),
          "float": np.array([0.0, 1.0, 2.0, 5.0])}

#: Each field of a case and the values it is drawn from.
SPACE: dict[str, Options | Integers] = {
    # -- the estimator ------------------------------------------------------
    "estimator": Options(("regressor", "classifier", "additive_regressor",
                          "additive_classifier"), (0.4, 0.4, 0.1, 0.1)),
    # -- the data -----------------------------------------------------------
    "n_rows": Integers(1, 3000, log=True),
    "n_features": Integers(1, 8, log=True),
    "data_seed": Integers(0, 2**31 - 1),
    "x_columns": Options(("normal", "mixed")),
    "x_missing": Options((0.0, 0.05, 0.5, 1.0), (0.5, 0.25, 0.15, 0.1)),
    "x_inf": Options((False, True), (0.98, 0.02)),
    "x_dtype": Options(("float64", "float32", "int64"), (0.7, 0.2, 0.1)),
    "x_order": Options(("C", "F")),
    "y_kind": Options(Y_KINDS, (0.35, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1,
                                0.025, 0.025)),
    "n_classes": Options((2, 3, 4, 1), (0.45, 0.3, 0.2, 0.05)),
    "label_kind": Options(tuple(LABELS)),
    "class_balance": Options(("balanced", "imbalanced", "singleton"),
                             (0.6, 0.3, 0.1)),
    "weight_kind": Options(WEIGHT_KINDS, (0.4, 0.15, 0.1, 0.1, 0.07, 0.03,
                                          0.03, 0.06, 0.06)),
    # -- the parameters -----------------------------------------------------
    "loss": Options(("squared_error", "absolute_error", "poisson", "gamma",
                     "tweedie", "quantile", "huber")),
    "class_weight": Options((None, "balanced"), (0.8, 0.2)),
    "stage_init": Options(("auto", "zero", "stacking", "agbm")),
    "momentum": Options((0.5, 0.0, 0.9, "nesterov")),
    "restart": Options(("function", "gradient", "validation", None)),
    "learning_rate": Options((0.1, 0.5, 1.0, 2.0, 0.01)),
    "max_iter": Integers(1, 40, log=True),
    "warm_stages": Options((0, 5), (0.85, 0.15)),
    "max_leaf_nodes": Options((31, 2, 3, 7)),
    "min_samples_leaf": Options((20, 1, 3)),
    "l2_regularization": Options((0.0, 1.0)),
    "max_bins": Options((255, 16, 2)),
    "early_stopping": Options(("auto", False, True)),
    "validation_fraction": Options((0.1, 0.3, 2)),
    "n_iter_no_change": Options((10, 1, 3)),
    "subsample": Options((1.0, 0.5), (0.8, 0.2)),
    "max_features": Options((1.0, 0.5), (0.8, 0.2)),
    "max_delta_step": Options(("auto", None, 0.5)),
    "hybrid_patience": Options((None, 2), (0.8, 0.2)),
    "interaction_cst": Options((None, "no_interactions", "pairwise"),
                               (0.7, 0.15, 0.15)),
    "monotonic": Options((False, True), (0.85, 0.15)),
    "categorical": Options((False, True), (0.85, 0.15)),
    "scoring": Options(("loss", None), (0.8, 0.2)),
    "n_bags": Options((1, 2)),
    "interactions": Options((0, 2)),
    "n_threads": Options((1, 2)),
    "random_state": Integers(0, 1000),
}


@dataclass(frozen=True)
class Case:
    """One fit: the estimator, the recipe of its data and its parameters
    (fields and their values: :data:`SPACE`)."""

    estimator: str
    n_rows: int
    n_features: int
    data_seed: int
    x_columns: str
    x_missing: float
    x_inf: bool
    x_dtype: str
    x_order: str
    y_kind: str
    n_classes: int
    label_kind: str
    class_balance: str
    weight_kind: str
    loss: str
    class_weight: str | None
    stage_init: str
    momentum: float | str
    restart: str | None
    learning_rate: float
    max_iter: int
    warm_stages: int
    max_leaf_nodes: int
    min_samples_leaf: int
    l2_regularization: float
    max_bins: int
    early_stopping: str | bool
    validation_fraction: float | int
    n_iter_no_change: int
    subsample: float
    max_features: float
    max_delta_step: str | float | None
    hybrid_patience: int | None
    interaction_cst: str | None
    monotonic: bool
    categorical: bool
    scoring: str | None
    n_bags: int
    interactions: int
    n_threads: int
    random_state: int

    # -- drawing and records --------------------------------------------------
    @classmethod
    def draw(cls, rng: np.random.Generator) -> Case:
        """A case drawn from :data:`SPACE` by ``rng``."""
        fields = {}
        for name, dim in SPACE.items():
            if isinstance(dim, Options):
                p = None if dim.weights is None else np.asarray(dim.weights) / sum(
                    dim.weights)
                fields[name] = dim.values[rng.choice(len(dim.values), p=p)]
            elif dim.log:
                fields[name] = int(np.exp(rng.uniform(np.log(dim.low),
                                                      np.log(dim.high + 1))))
                fields[name] = min(fields[name], dim.high)
            else:
                fields[name] = int(rng.integers(dim.low, dim.high + 1))
        return cls(**fields)

    def to_json(self) -> str:
        """The case as one line of JSON (:meth:`from_json` reads it)."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Case:
        """The case of a :meth:`to_json` line."""
        return cls(**json.loads(text))

    def reproduction(self) -> str:
        """Python code that rebuilds the case's data and fits its estimator."""
        warm = ""
        if self.warm_stages and self.is_boosting:
            warm = (f"model.set_params(warm_start=True, max_iter={self.max_iter} + "
                    f"{self.warm_stages})\n"
                    "model.fit(X, y, sample_weight=sample_weight)\n")
        return (
            "from accelboost._fuzz.cases import Case\n"
            f"case = Case.from_json({self.to_json()!r})\n"
            "X, y, sample_weight = case.data()\n"
            "model = case.make_estimator()\n"
            "model.fit(X, y, sample_weight=sample_weight)\n" + warm
        )

    # -- the estimator ----------------------------------------------------------
    @property
    def is_classifier(self) -> bool:
        """Whether the case fits a classifier."""
        return self.estimator.endswith("classifier")

    @property
    def is_boosting(self) -> bool:
        """Whether the case fits an AccelBoost estimator (not an additive one)."""
        return not self.estimator.startswith("additive")

    @property
    def effective_loss(self) -> str | None:
        """The regressor's loss (an additive one takes squared error for the
        losses it does not have); None for classifiers."""
        if self.is_classifier:
            return None
        if self.is_boosting or self.loss in (
                "squared_error", "absolute_error", "poisson"):
            return self.loss
        return "squared_error"

    def make_estimator(self, n_threads: int | None = None) -> Any:
        """The case's unfitted estimator (``n_threads`` replaces the case's)."""
        from .. import (
            AccelBoostClassifier,
            AccelBoostRegressor,
            AdditiveBoostClassifier,
            AdditiveBoostRegressor,
        )

        params = {
            "learning_rate": self.learning_rate, "max_iter": self.max_iter,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "l2_regularization": self.l2_regularization, "max_bins": self.max_bins,
            "early_stopping": self.early_stopping,
            "n_iter_no_change": self.n_iter_no_change, "momentum": self.momentum,
            "hybrid_patience": self.hybrid_patience,
            "n_threads": n_threads or self.n_threads,
            "random_state": self.random_state,
        }
        if not self.is_boosting:
            # The additive models' own parameters; their losses and stage
            # starts are a subset, and their validation share a fraction.
            params.update(
                n_bags=self.n_bags, interactions=self.interactions,
                validation_fraction=float(self.validation_fraction)
                if self.validation_fraction < 1 else 0.1,
                stage_init=self.stage_init if self.stage_init != "agbm" else "stacking",
            )
            if self.is_classifier:
                return AdditiveBoostClassifier(**params)
            return AdditiveBoostRegressor(loss=self.effective_loss, **params)
        params.update(
            validation_fraction=self.validation_fraction,
            stage_init=self.stage_init, restart=self.restart,
            subsample=self.subsample, max_features=self.max_features,
            max_delta_step=self.max_delta_step,
            interaction_cst=self.interaction_cst, scoring=self.scoring,
            # Column 0 rises with the target; it is categorical or monotonic
            # (monotonic constraints have no meaning for multiclass).
            categorical_features=[0] if self.categorical else None,
            monotonic_cst=[1] + [0] * (self.n_features - 1) if self.monotonic
            and not self.categorical and not (
                self.is_classifier and self.n_classes > 2) else None,
        )
        if self.is_classifier:
            return AccelBoostClassifier(class_weight=self.class_weight, **params)
        return AccelBoostRegressor(
            loss=self.loss, quantile=0.8 if self.loss == "quantile" else None,
            **params)

    # -- the data -------------------------------------------------------------
    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``X, y, sample_weight`` of the case, rebuilt from ``data_seed``."""
        rng = np.random.default_rng(self.data_seed)
        X = self._features(rng)
        latent = _latent(X[:, 0]) + 0.5 * rng.normal(size=self.n_rows)
        y = self._labels(rng, latent) if self.is_classifier else self._target(
            rng, latent)
        return X, y, self._weights(rng)

    def _features(self, rng):
        n, p = self.n_rows, self.n_features
        if self.x_dtype == "int64":
            X = rng.integers(-5, 6, size=(n, p))
            return np.asfortranarray(X) if self.x_order == "F" else X
        X = rng.normal(size=(n, p))
        if self.x_columns == "mixed":
            for j in range(p):
                X[:, j] = _column(rng, COLUMN_KINDS[rng.integers(len(COLUMN_KINDS))],
                                  X[:, 0], n, np.finfo(self.x_dtype))
        if self.x_missing:
            for j in np.flatnonzero(rng.random(p) < 0.5):
                X[rng.random(n) < self.x_missing, j] = np.nan
        if self.categorical:  # codes 0..9 of column 0's deciles (NaN missing)
            column = X[:, 0]
            finite = np.isfinite(column)
            cuts = np.quantile(column[finite], np.linspace(0.1, 0.9, 9)) if (
                finite.any()) else np.zeros(9)
            X[finite, 0] = np.searchsorted(cuts, column[finite])
        if self.x_inf:
            X[rng.integers(n), rng.integers(p)] = rng.choice([-np.inf, np.inf])
        X = X.astype(self.x_dtype)
        return np.asfortranarray(X) if self.x_order == "F" else X

    def _target(self, rng, latent):
        kind = self.y_kind
        if kind == "normal":  # a target the loss takes
            kind = {"poisson": "counts", "tweedie": "counts",
                    "gamma": "positive"}.get(self.effective_loss, kind)
        y = {
            "normal": lambda: latent,
            "counts": lambda: rng.poisson(np.exp(latent)).astype(np.float64),
            "positive": lambda: np.exp(latent),
            "huge": lambda: latent * 1e150,
            "tiny": lambda: latent * 1e-150,
            "constant": lambda: np.full(self.n_rows, 2.5),
            "zeros": lambda: np.zeros(self.n_rows),
            "negative": lambda: -np.abs(latent) - 1.0,
            "nan": lambda: latent,
            "inf": lambda: latent,
        }[kind]()
        if kind in ("nan", "inf"):
            y[rng.integers(self.n_rows)] = np.nan if kind == "nan" else np.inf
        return y

    def _labels(self, rng, latent):
        k = self.n_classes
        if self.class_balance == "balanced":
            cuts = np.quantile(latent, np.linspace(0, 1, k + 1)[1:-1])
            codes = np.searchsorted(cuts, latent)
        else:
            p = 0.7 ** np.arange(k)
            codes = rng.choice(k, size=self.n_rows, p=p / p.sum())
            if self.class_balance == "singleton" and k > 1:
                codes[codes == k - 1] = 0
                codes[rng.integers(self.n_rows)] = k - 1
        return LABELS[self.label_kind][codes]

    def _weights(self, rng):
        n, kind = self.n_rows, self.weight_kind
        if kind == "none":
            return None
        w = rng.uniform(0.1, 3.0, size=n)
        if kind == "integer":
            w = rng.integers(0, 4, size=n).astype(np.float64)
        elif kind == "some_zero":
            w[rng.random(n) < 0.5] = 0.0
        elif kind == "one_positive":
            w[:] = 0.0
            w[rng.integers(n)] = 1.0
        elif kind == "all_zero":
            w[:] = 0.0
        elif kind == "negative":
            w[rng.integers(n)] = -1.0
        elif kind == "huge":
            w *= 1e200
        elif kind == "tiny":
            w *= 1e-300
        return w


def _latent(column):
    """A signal in [-1, 1] from a feature column, whatever its scale."""
    x = column.astype(np.float64)
    finite = np.isfinite(x)
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.std(x[finite]) if finite.any() else 1.0
        scale = scale if np.isfinite(scale) and scale > 0 else np.max(
            np.abs(x[finite]), initial=1.0)
        return np.tanh(np.where(finite, x, 0.0) / scale)


def _column(rng, kind, first, n, finfo):
    """One feature column of ``kind`` (``first``: column 0, to duplicate);
    huge and tiny near the limits of the dtype ``finfo`` describes."""
    if kind == "constant":
        return np.full(n, 3.0)
    if kind == "duplicated":
        return first.copy()
    if kind == "huge":
        return rng.normal(size=n) * (finfo.max / 1e8)
    if kind == "tiny":
        return rng.normal(size=n) * (finfo.tiny * 1e3)
    if kind == "integer":
        return rng.integers(0, 3, size=n).astype(np.float64)
    if kind == "heavy_tailed":
        return rng.standard_cauchy(size=n)
    if kind == "ties":
        return np.round(rng.normal(size=n), 1)
    return rng.normal(size=n)
