"""``python -m benchmarks parametric EXPERIMENT``: the claims behind the
parametric weak learners (DESIGN 5.1-5.3), each checked on our code.

Each experiment states one claim from the papers, measures it over several
seeds (medians reported) and says plainly whether it reproduced:

* ``deep-linear`` (Agarwal, Awasthi, Kale, Zhao, arXiv 2403.04978): deep
  linear residual networks ``F(x) = (I + W_L)...(I + W_1) x`` grown one layer
  at a time on an ill-conditioned regression reach a given training loss in
  fewer gradient steps when the new layer starts as a copy of the last one
  (stacking) than from zero or small random weights. Self-contained NumPy:
  each stage trains the new layer only (the earlier ones frozen, as a
  boosting stage leaves the earlier learners alone), which makes a stage a
  least-squares problem in ``W_{L+1}`` solved by gradient descent at step
  ``1 / lambda_max`` of that problem.
* ``boosting``: :class:`~accelboost.parametric.StackedBoostRegressor` and
  ``StackedBoostClassifier`` with small MLPs, stage_init stacking / zero /
  random at equal optimizer steps, on one regression and one classification
  table; each init at its best learning rate (chosen on a validation part),
  held-out loss after every stage (``staged_predict``).
* ``width`` (Ishikawa and Karakida, arXiv 2312.12226): a 2-hidden-layer MLP
  trained for a fixed number of steps with SGD, Adam, K-FAC and Shampoo under
  the "standard" and "mup" parameterizations; the best learning rate
  (log2 grid) per width should stay put under muP and move under standard.
* ``catapults`` (Zhu, Liu, Radhakrishnan, Belkin, arXiv 2306.04815): SGD
  above the critical step size on a low-rank synthetic target; smaller
  batches should give more catapults (spikes of the training loss that fall
  back), a model AGOP better aligned with the target's, and lower test loss.

Each writes ``<out>/<experiment>.json`` (settings, command, per-seed raw
curves, summary, verdicts) and ``<out>/<experiment>.png``, then regenerates
``<out>/report.md`` from every experiment's JSON in ``out``. ``--quick`` runs
tiny settings (seconds; for the tests), ``--seeds N`` overrides the seeds
(defaults: :data:`DEFAULT_SEEDS`). BLAS runs on one thread (threadpoolctl):
on a 2-core machine shared with other work the many small products here are
faster and steadier that way than with OpenBLAS's two spinning threads.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._report import first_reach, fmt, machine_info, new_report, positive_int, save_json
from ._report import table as md_table

SCHEMA_VERSION = 1
#: The experiments, in report order.
EXPERIMENTS = ("deep-linear", "boosting", "width", "catapults")
#: Default output directory, and the report's name in it.
OUT = Path("benchmarks") / "results" / "parametric"
REPORT_NAME = "report.md"
REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
#: Significant digits of the stored curves.
DIGITS = 6

# -- settings ----------------------------------------------------------------------
#: deep-linear: dimension, rows, condition number of the input covariance
#: (eigenvalues log-spaced from 1 down to 1/condition_number, random
#: rotation), the teacher (a product of ``teacher_depth`` factors ``I +
#: teacher_scale * G / sqrt(d)``), gradient steps in all, steps per stage
#: (one curve each), the inits, the std of "random" entries, the momentum of
#: "stacking_half" (a scaled copy, DESIGN 5.2's beta; an extension) and the
#: relative training losses to reach.
DEEP_LINEAR = {"dim": 16, "n_samples": 1024, "condition_number": 1000.0,
               "teacher_depth": 8, "teacher_scale": 0.3, "total_steps": 2000,
               "steps_per_stage": (1, 10),
               "inits": ("stacking", "zero", "random", "stacking_half"),
               "random_std": 0.01, "half_momentum": 0.5,
               "thresholds": (1e-2, 1e-3)}
DEEP_LINEAR_QUICK = {**DEEP_LINEAR, "dim": 6, "n_samples": 64, "total_steps": 150,
                     "steps_per_stage": (1, 5)}
#: boosting: tables (``_data.load_dataset``, 60/20/20 split per seed), row
#: caps, the learner and optimizer, the learning-rate grid, stages, steps per
#: stage, batch size, stacking's momentum, and the fractions of the step
#: budget at which the held-out loss is reported.
BOOSTING = {"tables": ("diamonds", "digits"), "max_train_rows": 10_000,
            "max_heldout_rows": 5_000, "hidden_layer_sizes": (32,),
            "activation": "relu", "optimizer": "adam",
            "learning_rates": (5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1),
            "max_iter": 100, "steps_per_stage": 10, "batch_size": 128,
            "momentum": 0.5, "inits": ("stacking", "zero", "random"),
            "fractions": (0.1, 0.25, 0.5, 1.0)}
BOOSTING_QUICK = {**BOOSTING, "max_train_rows": 600, "max_heldout_rows": 300,
                  "learning_rates": (5e-3, 2e-2), "max_iter": 6,
                  "steps_per_stage": 4, "batch_size": 64}
#: width: widths (each optimizer up to its ``max_width``), optimizers,
#: parameterizations, muP's base width, the task (``_data.make_synthetic``
#: regression rows, standardized, the same for every seed), steps, batch size,
#: and the learning-rate grid ``2 ** -k`` for k in ``exponents[opt]``, searched
#: from ``start[opt]`` outward until the best rate has worse neighbours.
WIDTH = {"widths": (64, 128, 256, 512, 1024),
         "max_width": {"sgd": 1024, "adam": 1024, "kfac": 512, "shampoo": 512},
         "optimizers": ("sgd", "adam", "kfac", "shampoo"),
         "parameterizations": ("standard", "mup"), "base_width": 64,
         "n_samples": 512, "steps": 100, "batch_size": 32, "activation": "relu",
         "exponents": {"sgd": (0, 18), "adam": (2, 22), "kfac": (0, 18),
                       "shampoo": (0, 20)},
         "start": {"sgd": 2, "adam": 7, "kfac": 4, "shampoo": 1}}
WIDTH_QUICK = {**WIDTH, "widths": (16, 32, 64),
               "max_width": {"sgd": 64, "adam": 64, "kfac": 32, "shampoo": 32},
               "base_width": 16, "n_samples": 128, "steps": 10, "batch_size": 16}
#: A best learning rate "stays put" when its log2 spread over the widths is at
#: most this (one grid step), and "moves" when at least this.
STAYS_PUT_OCTAVES = 1
MOVES_OCTAVES = 2
#: Top of the width chart's loss axis (twice the loss of predicting 0).
WIDTH_CHART_TOP = 1.0
#: catapults: input dimension, rows (training, fresh test rows), hidden width
#: (one hidden layer), activation, the step size as a multiple of the
#: critical ``2 / lambda_max`` (full-batch Hessian at initialization, power
#: iteration on finite-difference Hessian-vector products), the batch sizes,
#: SGD steps (equal for every batch size), the catapult detector's factor and
#: window, power iterations, and the step-size multiple of a reference run
#: below the critical one (full batch, no catapult expected).
CATAPULTS = {"dim": 32, "n_samples": 512, "n_test": 2000, "width": 512,
             "activation": "relu", "lr_factor": 1.3,
             "batch_sizes": (512, 128, 32, 16, 8), "steps": 2000, "factor": 2.0,
             "window": 100, "power_iterations": 30, "reference_lr_factor": 0.5}
CATAPULTS_QUICK = {**CATAPULTS, "dim": 8, "n_samples": 64, "n_test": 200,
                   "width": 64, "batch_sizes": (64, 16, 4), "steps": 150,
                   "window": 20, "power_iterations": 10}
#: Seeds per experiment unless ``--seeds`` says otherwise (width is the
#: costly grid: three).
DEFAULT_SEEDS = {"deep-linear": 5, "boosting": 5, "width": 3, "catapults": 5}
#: Significance level of the catapult experiment's rank correlations.
ALPHA = 0.05


# -- shared helpers ------------------------------------------------------------------
def _rounded(values: Any) -> list[float | None]:
    """A curve as JSON numbers of :data:`DIGITS` significant digits (None for
    a non-finite value)."""
    return [float(f"{v:.{DIGITS}g}") if math.isfinite(v) else None
            for v in np.asarray(values, dtype=np.float64).tolist()]


def _as_array(curve: Sequence[float | None]) -> np.ndarray:
    """A stored curve back as floats (None as +inf)."""
    return np.array([math.inf if v is None else v for v in curve], dtype=np.float64)


def _median(values: Sequence[float | None]) -> float | None:
    """Median with None and NaN counted as +inf (not reached, diverged); None
    when the median itself is infinite."""
    array = np.array([math.inf if v is None or not math.isfinite(v) else v
                      for v in values], dtype=np.float64)
    if array.size == 0:
        return None
    value = float(np.median(array))
    return value if math.isfinite(value) else None


def _median_curve(curves: Sequence[Sequence[float | None]]) -> np.ndarray:
    """Pointwise median of equally long stored curves (None as +inf)."""
    return np.median(np.array([_as_array(c) for c in curves]), axis=0)


def steps_to(curve: Sequence[float | None], target: float) -> int | None:
    """First index of ``curve`` at or below ``target``, or None.

    Parameters
    ----------
    curve : sequence of float or None
        Losses, index = optimizer steps taken (None: diverged).
    target : float
        The loss to reach.

    Returns
    -------
    int or None
        The number of steps, or None when the curve never gets there.
    """
    hit = first_reach(_as_array(curve), target, rtol=0.0)
    return None if hit is None else hit - 1


def _verdict(claim: str, ok: bool, evidence: str, **numbers: Any) -> dict[str, Any]:
    return {"claim": claim, "verdict": REPRODUCED if ok else NOT_REPRODUCED,
            "evidence": evidence, "numbers": numbers}


def _overall(verdicts: Sequence[dict[str, Any]]) -> str:
    """Reproduced when every primary verdict is."""
    primary = [v for v in verdicts if not v.get("extension")]
    return REPRODUCED if primary and all(v["verdict"] == REPRODUCED
                                         for v in primary) else NOT_REPRODUCED


def _figure(nrows: int, ncols: int, width: float, height: float):
    """A matplotlib figure (Agg) and its axes grid (always 2-D)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _log(log: Any, text: str) -> None:
    if log is not None:
        print(text, file=log, flush=True)


def _steps_text(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f} steps"


# -- 1. deep linear residual networks ------------------------------------------------
def deep_linear_problem(settings: dict[str, Any], seed: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Ill-conditioned inputs and a deep linear teacher's targets.

    Parameters
    ----------
    settings : dict
        ``dim``, ``n_samples``, ``condition_number``, ``teacher_depth`` and
        ``teacher_scale`` (see :data:`DEEP_LINEAR`).
    seed : int
        Seed of the rotation, the rows and the teacher.

    Returns
    -------
    X : ndarray of shape (n_samples, dim)
        Gaussian rows with covariance ``Q diag(v) Q^T``, ``v`` log-spaced from
        1 to ``1 / condition_number``.
    Y : ndarray of shape (n_samples, dim)
        ``X A^T`` for the teacher ``A = prod_k (I + scale * G_k / sqrt(dim))``.
    """
    rng = np.random.default_rng([seed, 0])
    d = settings["dim"]
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    variances = np.logspace(0.0, -np.log10(settings["condition_number"]), d)
    X = (rng.standard_normal((settings["n_samples"], d)) * np.sqrt(variances)
         ) @ rotation.T
    teacher = np.eye(d)
    for _ in range(settings["teacher_depth"]):
        factor = settings["teacher_scale"] * rng.standard_normal((d, d)) / np.sqrt(d)
        teacher = (np.eye(d) + factor) @ teacher
    return X, X @ teacher.T


def grow_deep_linear(X: np.ndarray, Y: np.ndarray, init: str, steps_per_stage: int,
                     total_steps: int, rng: np.random.Generator, *,
                     random_std: float = 0.01, half_momentum: float = 0.5
                     ) -> dict[str, Any]:
    """Grow ``F(x) = (I + W_L)...(I + W_1) x`` one layer per stage.

    Each stage appends ``W_{L+1}`` (started by ``init``) and takes
    ``steps_per_stage`` gradient steps on it alone, the earlier layers
    frozen: on the frozen features ``Z = F_L(X)`` the loss ``0.5 mean ||Z +
    Z W^T - Y||^2`` is quadratic in ``W`` with Hessian ``Z^T Z / n``, and the
    step is ``1 / lambda_max`` of it.

    Parameters
    ----------
    X, Y : ndarray of shape (n_samples, dim)
        Inputs and targets.
    init : {"stacking", "zero", "random", "stacking_half"}
        The new layer's start: a copy of the last layer, zero, Gaussian
        entries of std ``random_std``, or ``half_momentum`` times a copy. The
        first layer of "stacking" and "stacking_half" starts at zero.
    steps_per_stage : int
        Gradient steps per stage.
    total_steps : int
        Steps in all (stages = ``total_steps // steps_per_stage``).
    rng : numpy.random.Generator
        Source of the "random" starts.
    random_std : float, default=0.01
        Std of a "random" start's entries.
    half_momentum : float, default=0.5
        Scale of the copy under "stacking_half".

    Returns
    -------
    dict
        ``curve`` (training loss relative to the depth-0 model ``F = I``,
        before the first step and after each), ``depth`` (layers grown) and
        ``sigma_min_ratio`` (smallest singular value of the learned map over
        the teacher's least-squares map's: near 0 when the product collapsed).
    """
    n, d = X.shape
    features = X.copy()
    base = 0.5 * np.mean(np.sum((X - Y) ** 2, axis=1))
    curve = [1.0]
    product = np.eye(d)
    previous = np.zeros((d, d))
    for _ in range(total_steps // steps_per_stage):
        if init == "stacking":
            W = previous.copy()
        elif init == "stacking_half":
            W = half_momentum * previous
        elif init == "random":
            W = random_std * rng.standard_normal((d, d))
        else:
            W = np.zeros((d, d))
        covariance = features.T @ features / n
        cross = (Y - features).T @ features / n
        lr = 1.0 / np.linalg.eigvalsh(covariance)[-1]
        for _ in range(steps_per_stage):
            W -= lr * (W @ covariance - cross)
            residual = features + features @ W.T - Y
            curve.append(0.5 * np.mean(np.sum(residual**2, axis=1)) / base)
        features = features + features @ W.T
        product = (np.eye(d) + W) @ product
        previous = W
    teacher = np.linalg.lstsq(X, Y, rcond=None)[0].T
    ratio = (np.linalg.svd(product, compute_uv=False)[-1]
             / np.linalg.svd(teacher, compute_uv=False)[-1])
    return {"curve": curve, "depth": total_steps // steps_per_stage,
            "sigma_min_ratio": float(ratio)}


def run_deep_linear(settings: dict[str, Any], seeds: Sequence[int],
                    log: Any = None) -> dict[str, Any]:
    """Every (steps per stage, init, seed) growth run, summary and verdicts.

    Parameters
    ----------
    settings : dict
        See :data:`DEEP_LINEAR`.
    seeds : sequence of int
        One problem per seed.
    log : file-like or None, default=None
        Where progress lines go.

    Returns
    -------
    dict
        ``runs``, ``summary``, ``verdicts``.
    """
    runs = []
    for seed in seeds:
        X, Y = deep_linear_problem(settings, seed)
        eigenvalues = np.linalg.eigvalsh(X.T @ X / X.shape[0])
        for per_stage in settings["steps_per_stage"]:
            for init in settings["inits"]:
                grown = grow_deep_linear(
                    X, Y, init, per_stage, settings["total_steps"],
                    np.random.default_rng([seed, 1]),
                    random_std=settings["random_std"],
                    half_momentum=settings["half_momentum"])
                runs.append({
                    "seed": seed, "steps_per_stage": per_stage, "init": init,
                    "condition_number": float(eigenvalues[-1] / eigenvalues[0]),
                    "curve": _rounded(grown["curve"]), "depth": grown["depth"],
                    "sigma_min_ratio": grown["sigma_min_ratio"],
                    "steps_to": {f"{t:g}": steps_to(grown["curve"], t)
                                 for t in settings["thresholds"]},
                    "final": float(grown["curve"][-1])})
        _log(log, f"deep-linear: seed {seed} done")
    return _summarize_deep_linear(runs, settings)


def _summarize_deep_linear(runs, settings):
    rows = []
    for per_stage in settings["steps_per_stage"]:
        for init in settings["inits"]:
            chosen = [r for r in runs if r["steps_per_stage"] == per_stage
                      and r["init"] == init]
            rows.append({
                "steps_per_stage": per_stage, "init": init,
                "steps_to": {key: _median([r["steps_to"][key] for r in chosen])
                             for key in chosen[0]["steps_to"]},
                "reached": {key: sum(r["steps_to"][key] is not None for r in chosen)
                            for key in chosen[0]["steps_to"]},
                "final": _median([r["final"] for r in chosen]),
                "sigma_min_ratio": _median([r["sigma_min_ratio"] for r in chosen]),
                "n_seeds": len(chosen)})
    verdicts = []
    keys = [f"{t:g}" for t in settings["thresholds"]]
    for per_stage in settings["steps_per_stage"]:
        by_init = {r["init"]: r for r in rows if r["steps_per_stage"] == per_stage}
        for candidate, extension in (("stacking", False), ("stacking_half", True)):
            if candidate not in by_init or "zero" not in by_init:
                continue
            ours, zero = by_init[candidate]["steps_to"], by_init["zero"]["steps_to"]
            ok = all(ours[k] is not None and (zero[k] is None or ours[k] < zero[k])
                     for k in keys)
            evidence = "; ".join(
                f"relative loss {k}: {candidate} {_steps_text(ours[k])} vs "
                f"zero {_steps_text(zero[k])}" for k in keys)
            label = ("stacking (copy of the last layer)" if candidate == "stacking"
                     else f"scaled copy ({settings['half_momentum']:g} x last layer)")
            verdict = _verdict(
                f"{label} reaches each relative training loss in fewer steps than "
                f"zero init ({per_stage} step(s) per stage, median over seeds)",
                ok, evidence, steps_per_stage=per_stage, candidate=candidate,
                candidate_steps=ours, zero_steps=zero)
            verdict["extension"] = extension
            verdicts.append(verdict)
    return {"runs": runs, "summary": {"rows": rows}, "verdicts": verdicts}


def _plot_deep_linear(results, path):
    settings = results["config"]
    per_stage = settings["steps_per_stage"]
    fig, axes = _figure(1, len(per_stage), 5.5 * len(per_stage), 4.2)
    for ax, k in zip(axes[0], per_stage, strict=True):
        for i, init in enumerate(settings["inits"]):
            curves = [r["curve"] for r in results["runs"]
                      if r["steps_per_stage"] == k and r["init"] == init]
            ax.plot(_median_curve(curves), color=f"C{i}", label=init)
        for t in settings["thresholds"]:
            ax.axhline(t, color="grey", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("gradient steps")
        ax.set_ylabel("training loss / loss of F = I (median over seeds)")
        ax.set_title(f"deep linear, {k} step(s) per stage")
        ax.legend()
    _save(fig, path)


def _section_deep_linear(results):
    settings = results["config"]
    rows = [[r["steps_per_stage"], r["init"],
             *[f"{_steps_text(r['steps_to'][k])} ({r['reached'][k]}/{r['n_seeds']})"
               for k in r["steps_to"]],
             fmt(r["final"], ".2e"), fmt(r["sigma_min_ratio"], ".2e")]
            for r in results["summary"]["rows"]]
    keys = list(results["summary"]["rows"][0]["steps_to"])
    lines = md_table(["steps/stage", "init",
                      *[f"steps to {k} (seeds reaching)" for k in keys],
                      "final rel. loss", "sigma_min / teacher's"], rows)
    notes = [
        f"Setting: d = {settings['dim']}, n = {settings['n_samples']} noise-free "
        f"rows, input covariance eigenvalues log-spaced over a condition number "
        f"of {settings['condition_number']:g} (random rotation), target a random "
        f"deep linear teacher of {settings['teacher_depth']} factors I + "
        f"{settings['teacher_scale']:g} G / sqrt(d); {settings['total_steps']} "
        "gradient steps in all; loss relative to the depth-0 model F = I.",
        "Choice: each stage trains only the new layer (earlier layers frozen), "
        "the stagewise protocol of the paper's boosting analogy; the paper's full "
        "text was not available offline, so its exact experimental protocol "
        "could not be checked. Step size 1 / lambda_max of each stage's "
        "(quadratic) problem.",
        f"Inits: stacking = copy of the last layer; zero; random = N(0, "
        f"{settings['random_std']:g}^2) entries; stacking_half = "
        f"{settings['half_momentum']:g} x copy (DESIGN 5.2's beta, an extension "
        "beyond the claim). Medians count a seed that never reached as "
        "infinite.",
        "sigma_min / teacher's: smallest singular value of the learned map over "
        "the teacher's; near 0 means the product of layers collapsed in some "
        "direction (a copied layer that shrinks a direction shrinks it again at "
        "every stage, and a frozen earlier layer cannot undo it).",
    ]
    return lines + [""] + [f"- {n}" for n in notes]


# -- 2. boosting with small networks -------------------------------------------------
def _boosting_estimator(task: str, settings: dict[str, Any], init: str,
                        learning_rate: float, seed: int):
    from accelboost.parametric import StackedBoostClassifier, StackedBoostRegressor

    cls = StackedBoostRegressor if task == "regression" else StackedBoostClassifier
    return cls(learner="mlp", hidden_layer_sizes=tuple(settings["hidden_layer_sizes"]),
               activation=settings["activation"], stage_init=init,
               momentum=settings["momentum"], max_iter=settings["max_iter"],
               steps_per_stage=settings["steps_per_stage"],
               batch_size=settings["batch_size"], optimizer=settings["optimizer"],
               learning_rate=learning_rate, early_stopping=False,
               random_state=seed)


def _staged_losses(model: Any, task: str, X: np.ndarray, y: np.ndarray,
                   n_stages: int) -> list[float]:
    """Held-out loss after each stage, padded with +inf past a divergence."""
    from ._peers import heldout_loss

    staged = (model.staged_predict(X) if task == "regression"
              else model.staged_predict_proba(X))
    curve = [heldout_loss(task, y, p) for p in staged]
    return curve + [math.inf] * (n_stages - len(curve))


def run_boosting(settings: dict[str, Any], seeds: Sequence[int],
                 log: Any = None) -> dict[str, Any]:
    """Every (table, init, learning rate, seed) fit, summary and verdicts.

    Parameters
    ----------
    settings : dict
        See :data:`BOOSTING`.
    seeds : sequence of int
        Each seed fixes one train / validation / test split of each table and
        the estimators' ``random_state``.
    log : file-like or None, default=None
        Where progress lines go.

    Returns
    -------
    dict
        ``runs``, ``summary``, ``verdicts``, ``tables`` (their descriptions).
    """
    from sklearn.exceptions import ConvergenceWarning

    from . import _data

    runs, tables = [], {}
    for name in settings["tables"]:
        for seed in seeds:
            data = _data.load_dataset(name, validation=True, seed=seed,
                                      max_train_rows=settings["max_train_rows"],
                                      max_heldout_rows=settings["max_heldout_rows"])
            # The first seed's split describes the table (each seed has its own).
            tables.setdefault(name, data.info())
            for init in settings["inits"]:
                for lr in settings["learning_rates"]:
                    model = _boosting_estimator(data.task, settings, init, lr, seed)
                    started = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        model.fit(data.X_train, data.y_train)
                    fit_s = time.perf_counter() - started
                    n = settings["max_iter"]
                    runs.append({
                        "table": name, "task": data.task, "init": init,
                        "learning_rate": lr, "seed": seed, "fit_s": fit_s,
                        "n_stages": int(model.n_iter_),
                        "steps_per_stage": settings["steps_per_stage"],
                        "val_curve": _rounded(_staged_losses(
                            model, data.task, data.X_val, data.y_val, n)),
                        "test_curve": _rounded(_staged_losses(
                            model, data.task, data.X_test, data.y_test, n))})
            _log(log, f"boosting: {name} seed {seed} done")
    summary, verdicts = _summarize_boosting(runs, settings)
    return {"runs": runs, "summary": summary, "verdicts": verdicts,
            "tables": tables}


def _summarize_boosting(runs, settings):
    per_stage = settings["steps_per_stage"]
    budget = settings["max_iter"]
    summary, verdicts = [], []
    for name in settings["tables"]:
        rows = {}
        for init in settings["inits"]:
            by_lr = {}
            for lr in settings["learning_rates"]:
                chosen = [r for r in runs if r["table"] == name
                          and r["init"] == init and r["learning_rate"] == lr]
                by_lr[lr] = {"val": _median_curve([r["val_curve"] for r in chosen]),
                             "test": _median_curve([r["test_curve"] for r in chosen])}
            # The best rate: lowest median validation loss at the full budget.
            best = min(by_lr, key=lambda lr: (by_lr[lr]["val"][-1], lr))
            test = by_lr[best]["test"]
            rows[init] = {
                "init": init, "best_lr": best,
                "best_at_grid_edge": best in (min(by_lr), max(by_lr)),
                "val_final": float(by_lr[best]["val"][-1]),
                "test_at": {f"{f:g}": float(test[max(1, round(f * budget)) - 1])
                            for f in settings["fractions"]},
                "test_final": float(test[-1]),
                "test_min": float(np.min(test)),
                "test_min_step": int(np.argmin(test) + 1) * per_stage,
                "test_curve": _rounded(test),
                "lr_final_test": {f"{lr:g}": float(c["test"][-1])
                                  for lr, c in by_lr.items()}}
        target = rows["zero"]["test_final"]
        for row in rows.values():
            stage = steps_to(np.concatenate([[math.inf], _as_array(row["test_curve"])]),
                             target)
            row["steps_to_zero_final"] = None if stage is None else stage * per_stage
        zero_steps = rows["zero"]["steps_to_zero_final"]
        stack = rows["stacking"]
        ratio = (None if stack["steps_to_zero_final"] is None
                 else stack["steps_to_zero_final"] / zero_steps)
        kind = next(r["task"] for r in runs if r["table"] == name)
        summary.append({"table": name, "task": kind,
                        "loss": "MSE" if kind == "regression" else "log loss",
                        "budget_steps": budget * per_stage, "target": target,
                        "steps_ratio": ratio, "rows": list(rows.values())})
        lower = stack["test_final"] < rows["zero"]["test_final"]
        faster = ratio is not None and ratio < 1
        verdicts.append(_verdict(
            f"{name}: stacking reaches zero init's held-out loss in fewer steps and "
            "ends lower at equal steps (each at its best learning rate)",
            lower and faster,
            f"test {summary[-1]['loss']} after {budget * per_stage} steps: "
            f"stacking {stack['test_final']:.4g} (lr {stack['best_lr']:g}) vs zero "
            f"{rows['zero']['test_final']:.4g} (lr {rows['zero']['best_lr']:g})"
            + "".join(f", {init} {row['test_final']:.4g}" for init, row in rows.items()
                      if init not in ("stacking", "zero"))
            + "; steps to zero's final "
            f"loss: stacking {_steps_text(stack['steps_to_zero_final'])} vs zero "
            f"{_steps_text(zero_steps)} (ratio {fmt(ratio, '.2f')})",
            table=name, stacking_final=stack["test_final"],
            zero_final=rows["zero"]["test_final"], steps_ratio=ratio))
    return summary, verdicts


def _plot_boosting(results, path):
    entries = results["summary"]
    fig, axes = _figure(1, len(entries), 6 * len(entries), 4.5)
    settings = results["config"]
    for ax, entry in zip(axes[0], entries, strict=True):
        for i, row in enumerate(entry["rows"]):
            for lr in settings["learning_rates"]:
                chosen = [r["test_curve"] for r in results["runs"]
                          if r["table"] == entry["table"] and r["init"] == row["init"]
                          and r["learning_rate"] == lr]
                curve = _median_curve(chosen)
                steps = np.arange(1, len(curve) + 1) * settings["steps_per_stage"]
                best = lr == row["best_lr"]
                ax.plot(steps, curve, color=f"C{i}", linewidth=2 if best else 0.6,
                        alpha=1 if best else 0.35,
                        label=f"{row['init']} (best lr {lr:g})" if best else None)
        ax.axhline(entry["target"], color="grey", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        finite = [v for row in entry["rows"] for v in row["test_curve"]
                  if v is not None]
        # The best curves' first stages set the top; worse rates may leave it.
        starts = [row["test_curve"][0] for row in entry["rows"]
                  if row["test_curve"][0] is not None]
        top = min(max(starts + [entry["target"] * 1.5]), entry["target"] * 10)
        ax.set_ylim(min(finite) * 0.95, top)
        ax.set_xlabel("optimizer steps")
        ax.set_ylabel(f"test {entry['loss']} (median over seeds)")
        ax.set_title(f"{entry['table']}: thick = best lr per init")
        ax.legend()
    _save(fig, path)


def _section_boosting(results):
    settings = results["config"]
    lines = []
    for entry in results["summary"]:
        fractions = list(entry["rows"][0]["test_at"])
        rows = [[r["init"], f"{r['best_lr']:g}" + (" (grid edge)"
                                                  if r["best_at_grid_edge"] else ""),
                 *[fmt(r["test_at"][f], ".4g") for f in fractions],
                 f"{fmt(r['test_min'], '.4g')} @ {r['test_min_step']}",
                 _steps_text(r["steps_to_zero_final"])] for r in entry["rows"]]
        lines += [f"**{entry['table']}** ({entry['task']}, test {entry['loss']}; "
                  f"{results['tables'][entry['table']]['description']}; "
                  f"{results['tables'][entry['table']]['n_train']} training rows)",
                  ""]
        lines += md_table(
            ["init", "best lr", *[f"at {float(f):.0%} of {entry['budget_steps']} "
                                  "steps" for f in fractions],
             "min @ step", "steps to zero's final"], rows)
        lines += ["", "Final test loss (median over seeds; — where the median "
                  "run diverged) at every learning rate:", ""]
        rates = list(entry["rows"][0]["lr_final_test"])
        lines += md_table(["init", *rates], [
            [r["init"], *[fmt(r["lr_final_test"][lr], ".4g") for lr in rates]]
            for r in entry["rows"]])
        lines.append("")
    lines += [
        f"- Setting: MLP {tuple(settings['hidden_layer_sizes'])} "
        f"({settings['activation']}), {settings['optimizer']}, "
        f"{settings['max_iter']} stages x {settings['steps_per_stage']} steps, "
        f"batch {settings['batch_size']}, stacking momentum {settings['momentum']:g}, "
        "no early stopping. Each seed is a new 60/20/20 split and random_state.",
        "- The learning rate of each init is the grid value "
        f"({', '.join(f'{v:g}' for v in settings['learning_rates'])}) with the "
        "lowest median validation loss at the full budget; the test curves are "
        "that rate's (median over seeds per stage). \"Steps to zero's final\" is "
        "the first stage at which the median test curve is at or below zero "
        "init's final median test loss.",
    ]
    return lines


# -- 3. width and learning-rate transfer ---------------------------------------------
def bracket_best(evaluate: Callable[[int], float], start: int, low: int, high: int
                 ) -> dict[int, float]:
    """Search a grid of exponents for the minimum of ``evaluate``.

    Evaluates ``start``, then both neighbours of the current best until the
    best has evaluated (or out-of-grid) neighbours on both sides. Ties, and
    a grid where every value is infinite (all diverged), move towards
    larger exponents (smaller learning rates ``2 ** -k``).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(k) -> loss`` (+inf for a divergence).
    start : int
        First exponent evaluated (clipped to the grid).
    low, high : int
        The grid, ``low..high`` inclusive.

    Returns
    -------
    dict of int to float
        Every evaluated exponent and its loss.
    """
    found: dict[int, float] = {}
    pending = [min(max(start, low), high)]
    while pending:
        for k in pending:
            found[k] = float(evaluate(k))
        best = min(found, key=lambda k: (found[k], -k))
        neighbours = (best - 1, best + 1) if math.isfinite(found[best]) else (
            max(found) + 1,)
        pending = [k for k in neighbours if low <= k <= high and k not in found]
    return found


def _best_exponent(found: dict[Any, float | None]) -> int | None:
    finite = {int(k): v for k, v in found.items() if v is not None}
    return min(finite, key=lambda k: (finite[k], -k)) if finite else None


def _width_task(settings: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    from . import _data

    X, y = _data.make_synthetic("regression", settings["n_samples"], seed=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, (y - y.mean()) / y.std()


def _train_width(X, y, optimizer, parameterization, width, exponent, seed, settings):
    from accelboost._engine.loss import make_loss
    from accelboost.parametric._network import forward, init_params, layer_shapes
    from accelboost.parametric._parameterization import init_stds, layer_scales
    from accelboost.parametric._training import BatchSampler, train_steps
    from accelboost.parametric.optimizers import make_optimizer

    n = X.shape[0]
    shapes = layer_shapes(X.shape[1], (width, width), 1)
    init_rng, batch_rng = (np.random.default_rng(s) for s in
                           np.random.SeedSequence([seed, width]).spawn(2))
    params = init_params(shapes, init_stds(shapes, parameterization,
                                           settings["base_width"]), init_rng)
    opt = make_optimizer(optimizer, 2.0**-exponent)
    state = opt.init(params, layer_scales(shapes, opt, parameterization,
                                          settings["base_width"]))
    loss = make_loss("squared_error")
    with np.errstate(all="ignore"):
        try:
            batch_losses = train_steps(
                params, settings["activation"], opt, state, X, y, np.zeros((n, 1)),
                loss, np.ones(n), steps=settings["steps"],
                batches=BatchSampler(n, settings["batch_size"], batch_rng))
        except np.linalg.LinAlgError:
            # Parameters blown up by too large a rate leave K-FAC's factors
            # numerically indefinite: a divergence like a non-finite loss.
            return math.inf, []
        final = float(np.mean(loss.pointwise(y, forward(params, X,
                                                        settings["activation"]))))
    return (final if math.isfinite(final) else math.inf), batch_losses


def run_width(settings: dict[str, Any], seeds: Sequence[int],
              log: Any = None) -> dict[str, Any]:
    """The learning-rate search per (optimizer, parameterization, width).

    Parameters
    ----------
    settings : dict
        See :data:`WIDTH`.
    seeds : sequence of int
        Seeds of the initialization and the batches (the task is fixed); a
        learning rate's loss is the median of its seeds' final training
        losses.
    log : file-like or None, default=None
        Where progress lines go.

    Returns
    -------
    dict
        ``runs``, ``summary``, ``verdicts``.
    """
    X, y = _width_task(settings)
    runs, curves = [], []
    for optimizer in settings["optimizers"]:
        low, high = settings["exponents"][optimizer]
        for parameterization in settings["parameterizations"]:
            start = settings["start"][optimizer]
            for width in settings["widths"]:
                if width > settings["max_width"][optimizer]:
                    continue
                started = time.perf_counter()

                def evaluate(k, width=width, parameterization=parameterization,
                             optimizer=optimizer):
                    finals = []
                    for seed in seeds:
                        final, batch = _train_width(X, y, optimizer, parameterization,
                                                    width, k, seed, settings)
                        finals.append(final)
                        runs.append({"optimizer": optimizer,
                                     "parameterization": parameterization,
                                     "width": width, "exponent": k,
                                     "learning_rate": 2.0**-k, "seed": seed,
                                     "final_loss": final if math.isfinite(final)
                                     else None, "batch_losses": _rounded(batch)})
                    return float(np.median(finals))

                found = bracket_best(evaluate, start, low, high)
                best = _best_exponent({k: v if math.isfinite(v) else None
                                       for k, v in found.items()})
                start = best if best is not None else start
                curves.append({"optimizer": optimizer,
                               "parameterization": parameterization,
                               "width": width,
                               "losses": {str(k): (v if math.isfinite(v) else None)
                                          for k, v in sorted(found.items())},
                               "best_exponent": best,
                               "best_lr": None if best is None else 2.0**-best,
                               "seconds": time.perf_counter() - started})
                _log(log, f"width: {optimizer} {parameterization} {width}: best lr "
                     f"2^-{best} ({len(found)} rates, "
                     f"{time.perf_counter() - started:.0f} s)")
    return _summarize_width(runs, curves, settings)


def _summarize_width(runs, curves, settings):
    spreads, verdicts = [], []
    for optimizer in settings["optimizers"]:
        by_param = {}
        for parameterization in settings["parameterizations"]:
            chosen = [c for c in curves if c["optimizer"] == optimizer
                      and c["parameterization"] == parameterization
                      and c["best_exponent"] is not None]
            widths = [c["width"] for c in chosen]
            best = [c["best_exponent"] for c in chosen]
            spread = max(best) - min(best) if best else None
            # Slope of log2(best lr) against log2(width): -1 = lr ~ 1/width.
            slope = (float(np.polyfit(np.log2(widths), -np.asarray(best), 1)[0])
                     if len(best) > 1 else None)
            by_param[parameterization] = {
                "optimizer": optimizer, "parameterization": parameterization,
                "widths": widths, "best_exponents": best, "spread": spread,
                "slope": slope}
            spreads.append(by_param[parameterization])
        mup, standard = by_param.get("mup"), by_param.get("standard")
        if mup is None or standard is None or mup["spread"] is None \
                or standard["spread"] is None:
            continue
        ok = (mup["spread"] <= STAYS_PUT_OCTAVES
              and standard["spread"] >= MOVES_OCTAVES)
        verdicts.append(_verdict(
            f"{optimizer}: under muP the best learning rate stays put across "
            f"widths {mup['widths'][0]}-{mup['widths'][-1]} (log2 spread <= "
            f"{STAYS_PUT_OCTAVES}), under standard it moves (>= {MOVES_OCTAVES})",
            ok,
            f"best lr 2^-k, k by width: muP {mup['best_exponents']} (spread "
            f"{mup['spread']}, slope {fmt(mup['slope'], '+.2f')}), standard "
            f"{standard['best_exponents']} (spread {standard['spread']}, slope "
            f"{fmt(standard['slope'], '+.2f')})",
            optimizer=optimizer, mup_spread=mup["spread"],
            standard_spread=standard["spread"]))
    return {"runs": runs, "summary": {"curves": curves, "spreads": spreads},
            "verdicts": verdicts}


def _plot_width(results, path):
    import matplotlib

    settings = results["config"]
    optimizers = settings["optimizers"]
    params = settings["parameterizations"]
    fig, axes = _figure(len(params), len(optimizers), 4.2 * len(optimizers),
                        3.6 * len(params))
    widths = settings["widths"]
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(widths)))
    for row, parameterization in zip(axes, params, strict=True):
        for ax, optimizer in zip(row, optimizers, strict=True):
            for color, width in zip(colors, widths, strict=True):
                curve = next((c for c in results["summary"]["curves"]
                              if c["optimizer"] == optimizer and c["width"] == width
                              and c["parameterization"] == parameterization), None)
                if curve is None:
                    continue
                ks = sorted(int(k) for k in curve["losses"])
                losses = [curve["losses"][str(k)] for k in ks]
                lr = [-k for k in ks]
                ax.plot(lr, [np.nan if v is None else v for v in losses], "o-",
                        color=color, markersize=3, label=f"width {width}")
                if curve["best_exponent"] is not None:
                    ax.plot(-curve["best_exponent"],
                            curve["losses"][str(curve["best_exponent"])], "*",
                            color=color, markersize=12)
            ax.set_yscale("log")
            # Targets are standardized: predicting 0 scores 0.5; twice that is
            # divergence for this chart's purpose (such rates sit off it).
            ax.set_ylim(top=WIDTH_CHART_TOP)
            ax.set_xlabel("log2 learning rate")
            ax.set_ylabel("final training loss (median)")
            ax.set_title(f"{optimizer}, {parameterization}")
    axes[0][0].legend(fontsize=7)
    _save(fig, path)


def _section_width(results):
    settings = results["config"]
    rows = []
    for s in results["summary"]["spreads"]:
        rows.append([s["optimizer"], s["parameterization"],
                     ", ".join(f"{w}: 2^-{k}" for w, k in
                               zip(s["widths"], s["best_exponents"], strict=True)),
                     s["spread"], fmt(s["slope"], "+.2f")])
    lines = md_table(["optimizer", "parameterization", "best lr per width",
                      "log2 spread", "slope of log2 lr vs log2 width"], rows)
    caps = ", ".join(f"{o} {w}" for o, w in settings["max_width"].items())
    lines += ["", f"- Setting: MLP with 2 hidden layers of the given width "
              f"({settings['activation']}; input, hidden and output layer), trained "
              f"{settings['steps']} steps, batch {settings['batch_size']}, on "
              f"{settings['n_samples']} rows of make_synthetic('regression') "
              "(28 features, standardized, the same rows for every seed); loss = "
              "final training MSE / 2 on all rows, median over seeds; muP base "
              f"width {settings['base_width']} (both parameterizations coincide "
              "there).",
              f"- Widths {', '.join(map(str, settings['widths']))}, each optimizer up "
              f"to its cap ({caps}): wider K-FAC and Shampoo steps (a Cholesky "
              "solve or two eigh of width x width per layer per step) do not fit "
              "the 10-minute budget; 2048 was left out for the same reason.",
              "- Learning rates 2^-k, searched per width from the previous width's "
              "best outward until the best has worse neighbours (bracket_best); "
              "the plot shows every rate tried (losses above "
              f"{WIDTH_CHART_TOP:g}, twice that of predicting 0, sit off the chart). "
              "A run whose loss is not finite, or whose K-FAC factors stop being "
              "positive definite, counts as diverged (infinite loss).",
              "- K-FAC's muP learning-rate exponents are all 0 (DESIGN 5.3): muP "
              "changes only its output init and damping, so its standard "
              "parameterization is not expected to need a moving rate either."]
    return lines


# -- 4. catapults in SGD -------------------------------------------------------------
class _Network:
    """A trained network as :func:`accelboost.diagnostics.agop` reads it."""

    def __init__(self, params, activation):
        self.params, self.activation = params, activation

    def input_gradient(self, X):
        """Exact input gradients, (n_samples, 1, n_features)."""
        from accelboost.parametric._network import input_gradient

        return input_gradient(self.params, X, self.activation)


def _product_target(seed: int, n: int, dim: int, stream: int):
    """Rows ``x ~ N(0, I)`` and ``y = z1 * z2`` with ``z = U^T x`` (U: 2
    orthonormal columns fixed by the seed), and the gradient of the target."""
    basis, _ = np.linalg.qr(np.random.default_rng([seed, 0]).standard_normal(
        (dim, dim)))
    U = basis[:, :2]
    X = np.random.default_rng([seed, stream]).standard_normal((n, dim))
    z = X @ U

    def gradient(rows):
        projected = rows @ U
        return projected[:, 1:2] * U[:, 0] + projected[:, 0:1] * U[:, 1]

    return X, z[:, 0] * z[:, 1], gradient


def _half_mse(params, X, y, activation):
    from accelboost.parametric._network import forward

    with np.errstate(all="ignore"):
        value = float(0.5 * np.mean((forward(params, X, activation)[:, 0] - y) ** 2))
    return value if math.isfinite(value) else math.inf


def sharpness(params: list[np.ndarray], X: np.ndarray, y: np.ndarray,
              activation: str, iterations: int = 30, seed: int = 0,
              eps: float = 1e-4) -> float:
    """Largest eigenvalue of the full-batch Hessian of ``0.5 * MSE``.

    Power iteration on Hessian-vector products taken as central differences
    of the gradient (``eps`` along a unit direction).

    Parameters
    ----------
    params : list of ndarray
        The network (``_network`` layout).
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    activation : str
        Hidden activation.
    iterations : int, default=30
        Power iterations.
    seed : int, default=0
        Seed of the starting direction.
    eps : float, default=1e-4
        Finite-difference step.

    Returns
    -------
    float
        The Rayleigh quotient of the last direction (the critical SGD step
        size is 2 over it).
    """
    from accelboost.parametric._network import Activations, backward, forward

    def gradient(theta):
        cache = Activations()
        out = forward(theta, X, activation, cache)
        return backward(theta, cache, (out - y[:, None]) / len(y), activation)

    rng = np.random.default_rng(seed)
    direction = [rng.standard_normal(p.shape) for p in params]
    value = 0.0
    for _ in range(iterations):
        norm = math.sqrt(sum(float(np.sum(v * v)) for v in direction))
        direction = [v / norm for v in direction]
        plus = gradient([p + eps * v for p, v in zip(params, direction, strict=True)])
        minus = gradient([p - eps * v for p, v in zip(params, direction, strict=True)])
        product = [(a - b) / (2 * eps) for a, b in zip(plus, minus, strict=True)]
        value = sum(float(np.sum(a * v)) for a, v in
                    zip(product, direction, strict=True))
        direction = product
    return value


def _sgd_run(params0, X, y, X_test, y_test, true_agop, lr, batch_size, seed,
             settings):
    """SGD from ``params0``: the full training loss after every step, the
    catapults in it, AGOP alignment and test loss."""
    from accelboost._engine.loss import make_loss
    from accelboost.diagnostics import agop, agop_alignment, detect_catapults
    from accelboost.parametric._training import BatchSampler, LossMonitor, train_steps
    from accelboost.parametric.optimizers import make_optimizer

    activation = settings["activation"]
    params = [p.copy() for p in params0]
    opt = make_optimizer("sgd", lr)
    n = X.shape[0]
    batches = BatchSampler(n, batch_size, np.random.default_rng([seed, 2, batch_size]))
    loss, offset, weights = make_loss("squared_error"), np.zeros((n, 1)), np.ones(n)
    # The loss on all training rows before every step, then after the last.
    monitor = LossMonitor(X, y, offset, weights)
    with np.errstate(all="ignore"):
        train_steps(params, activation, opt, opt.init(params), X, y, offset, loss,
                    weights, steps=settings["steps"], batches=batches,
                    monitor=monitor)
    curve = [*monitor.losses, _half_mse(params, X, y, activation)]
    record = {"seed": seed, "batch_size": batch_size, "learning_rate": lr,
              "curve": _rounded(curve),
              "diverged": not all(math.isfinite(v) for v in curve)}
    if record["diverged"]:
        return record
    found = detect_catapults(curve, factor=settings["factor"],
                             window=settings["window"])
    model_agop = agop(_Network(params, activation), X_test, method="exact",
                      max_samples=None)
    return {**record, "catapults": found.count,
            "positions": found.positions.tolist(),
            "heights": _rounded(found.heights), "spike_diverged": found.diverged,
            "alignment": agop_alignment(model_agop, true_agop),
            "train_loss": curve[-1],
            "test_loss": _half_mse(params, X_test, y_test, activation)}


def run_catapults(settings: dict[str, Any], seeds: Sequence[int],
                  log: Any = None) -> dict[str, Any]:
    """SGD at every batch size per seed, summary and verdicts.

    Parameters
    ----------
    settings : dict
        See :data:`CATAPULTS`.
    seeds : sequence of int
        Each seed draws the target's subspace, the rows, the initial network
        (shared by the seed's batch sizes) and the batches.
    log : file-like or None, default=None
        Where progress lines go.

    Returns
    -------
    dict
        ``runs``, ``summary``, ``verdicts``.
    """
    from accelboost.diagnostics import true_agop
    from accelboost.parametric._network import init_params, layer_shapes
    from accelboost.parametric._parameterization import init_stds

    runs = []
    for seed in seeds:
        X, y, _ = _product_target(seed, settings["n_samples"], settings["dim"], 1)
        X_test, y_test, gradient = _product_target(seed, settings["n_test"],
                                                   settings["dim"], 2)
        target_agop = true_agop(gradient, X_test)
        shapes = layer_shapes(settings["dim"], (settings["width"],), 1)
        params0 = init_params(shapes, init_stds(shapes, "standard", 64),
                              np.random.default_rng([seed, 3]))
        top = sharpness(params0, X, y, settings["activation"],
                        settings["power_iterations"], seed)
        critical = 2.0 / top
        jobs = [(b, settings["lr_factor"], "sgd") for b in settings["batch_sizes"]]
        jobs.append((settings["n_samples"], settings["reference_lr_factor"],
                     "reference"))
        for batch_size, multiple, kind in jobs:
            record = _sgd_run(params0, X, y, X_test, y_test, target_agop,
                              multiple * critical, batch_size, seed, settings)
            runs.append({**record, "kind": kind, "sharpness": top,
                         "critical_lr": critical, "lr_multiple": multiple})
        _log(log, f"catapults: seed {seed} done (lambda_max {top:.3g})")
    return _summarize_catapults(runs, settings)


def _summarize_catapults(runs, settings):
    from scipy.stats import spearmanr

    sgd = [r for r in runs if r["kind"] == "sgd"]
    ok_runs = [r for r in sgd if not r["diverged"]]
    rows = []
    for kind, batch_size in [("sgd", b) for b in settings["batch_sizes"]] + [
            ("reference", settings["n_samples"])]:
        chosen = [r for r in runs if r["kind"] == kind
                  and r["batch_size"] == batch_size]
        fine = [r for r in chosen if not r["diverged"]]
        rows.append({"kind": kind, "batch_size": batch_size,
                     "lr_multiple": chosen[0]["lr_multiple"],
                     "diverged": len(chosen) - len(fine), "n_seeds": len(chosen),
                     **{key: _median([r[key] for r in fine]) for key in
                        ("catapults", "alignment", "test_loss", "train_loss")}})
    correlations, verdicts = {}, []
    for key, sign, text in (
            ("catapults", -1, "smaller batches give more catapults"),
            ("alignment", -1, "smaller batches give higher AGOP alignment"),
            ("test_loss", +1, "smaller batches give lower test loss")):
        x = [r["batch_size"] for r in ok_runs]
        values = [r[key] for r in ok_runs]
        if len(set(x)) > 1 and len(set(values)) > 1:
            result = spearmanr(x, values)
            rho, p = float(result.statistic), float(result.pvalue)
        else:
            rho, p = None, None
        correlations[key] = {"rho": rho, "p": p, "n": len(ok_runs)}
        ok = rho is not None and sign * rho > 0 and p < ALPHA
        medians = ", ".join(f"b={r['batch_size']}: {fmt(r[key], '.4g')}"
                            for r in rows if r["kind"] == "sgd")
        verdicts.append(_verdict(
            text, ok, f"Spearman rho(batch size, {key}) = {fmt(rho, '+.2f')} "
            f"(p = {fmt(p, '.2g')}, {len(ok_runs)} runs); medians {medians}",
            metric=key, rho=rho, p=p))
    diverged = [r["batch_size"] for r in sgd if r["diverged"]]
    return {"runs": runs, "summary": {"rows": rows, "correlations": correlations,
                                      "diverged_batch_sizes": diverged},
            "verdicts": verdicts}


def _plot_catapults(results, path):
    settings = results["config"]
    fig, axes = _figure(1, 4, 19, 4.2)
    first = results["runs"][0]["seed"]
    sizes = list(settings["batch_sizes"])
    for i, b in enumerate(sizes):
        run = next(r for r in results["runs"] if r["seed"] == first
                   and r["kind"] == "sgd" and r["batch_size"] == b)
        axes[0][0].plot(_as_array(run["curve"]), color=f"C{i}", linewidth=0.8,
                        label=f"batch {b}" + (" (diverged)" if run["diverged"]
                                              else ""))
    axes[0][0].set_yscale("log")
    # A diverged run would squash the others: the axis stops well above the
    # initial loss.
    axes[0][0].set_ylim(top=100 * run["curve"][0])
    axes[0][0].set_xlabel("SGD step")
    axes[0][0].set_ylabel("full training loss")
    axes[0][0].set_title(f"seed {first}")
    axes[0][0].legend(fontsize=7)
    ok = [r for r in results["runs"] if r["kind"] == "sgd" and not r["diverged"]]
    for ax, key, label in zip(axes[0][1:], ("catapults", "alignment", "test_loss"),
                              ("catapults", "AGOP alignment with the target's",
                               "test loss (0.5 MSE)"), strict=True):
        ax.scatter([r["batch_size"] for r in ok], [r[key] for r in ok], s=12,
                   alpha=0.6)
        rows = [r for r in results["summary"]["rows"] if r["kind"] == "sgd"
                and r[key] is not None]
        ax.plot([r["batch_size"] for r in rows], [r[key] for r in rows], "k-o",
                label="median")
        reference = next(r for r in results["summary"]["rows"]
                         if r["kind"] == "reference")
        if reference[key] is not None:
            ax.axhline(reference[key], color="grey", linestyle=":",
                       label="full batch below critical lr")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    _save(fig, path)


def _section_catapults(results):
    settings = results["config"]
    rows = [[r["kind"], r["batch_size"], f"{r['lr_multiple']:g}",
             f"{r['diverged']}/{r['n_seeds']}", fmt(r["catapults"], ".0f"),
             fmt(r["alignment"], ".4f"), fmt(r["test_loss"], ".4g"),
             fmt(r["train_loss"], ".3g")] for r in results["summary"]["rows"]]
    lines = md_table(["run", "batch", "lr / critical", "diverged", "catapults",
                      "AGOP alignment", "test loss", "train loss"], rows)
    full = next(r for r in results["summary"]["rows"] if r["kind"] == "sgd"
                and r["batch_size"] == settings["n_samples"])
    below = next(r for r in results["summary"]["rows"] if r["kind"] == "reference")
    lines += ["", f"- Full batch above ({full['lr_multiple']:g} x) against below "
              f"({below['lr_multiple']:g} x) the critical step: "
              f"{fmt(full['catapults'], '.0f')} against "
              f"{fmt(below['catapults'], '.0f')} catapults, AGOP alignment "
              f"{fmt(full['alignment'], '.4f')} against "
              f"{fmt(below['alignment'], '.4f')}, test loss "
              f"{fmt(full['test_loss'], '.4g')} against "
              f"{fmt(below['test_loss'], '.4g')}. Not part of the verdicts, and "
              "confounded: the smaller step also trains less in the same steps "
              f"(train loss {fmt(full['train_loss'], '.3g')} against "
              f"{fmt(below['train_loss'], '.3g')}).",
              f"- Setting: x ~ N(0, I_{settings['dim']}), y = z1 z2 with z = "
              "U^T x (U: 2 orthonormal columns per seed), so the true AGOP is U "
              f"U^T; {settings['n_samples']} training rows, {settings['n_test']} "
              f"fresh test rows; MLP with one hidden layer of {settings['width']} "
              f"({settings['activation']}, standard init), the same initial "
              "network for every batch size of a seed.",
              f"- SGD at {settings['lr_factor']:g} x the critical step 2 / "
              "lambda_max (full-batch Hessian at initialization, power iteration) "
              f"for every batch size, {settings['steps']} steps each (equal steps, "
              "not epochs: small batches get no extra updates). A batch size "
              "whose run diverged is left out of the medians and correlations.",
              f"- Catapults: detect_catapults(factor={settings['factor']:g}, "
              f"window={settings['window']}) on the full training loss after every "
              "step (not the batch loss, whose sampling noise alone makes factor-2 "
              "spikes at small batches). AGOP: exact input gradients of the trained "
              "network on the test rows; alignment = cosine with U U^T.",
              "- Verdicts: Spearman correlation between batch size and each "
              f"measure over all non-diverged (seed, batch) runs, sign as claimed "
              f"and p < {ALPHA:g}. Reference row: full batch at "
              f"{settings['reference_lr_factor']:g} x the critical step (no "
              "catapult expected)."]
    return lines


# -- the experiments, the report, the command line -----------------------------------
@dataclasses.dataclass(frozen=True)
class Experiment:
    """One experiment: its claim, settings and the functions that run,
    draw and report it."""

    name: str
    claim: str
    settings: dict[str, Any]
    quick: dict[str, Any]
    run: Callable[..., dict[str, Any]]
    plot: Callable[[dict[str, Any], Path], None]
    section: Callable[[dict[str, Any]], list[str]]


REGISTRY: dict[str, Experiment] = {e.name: e for e in (
    Experiment("deep-linear", "Deep linear residual networks grown by stacking "
               "(new layer = copy of the last) reach a given training loss in "
               "fewer steps than with zero or random new layers",
               DEEP_LINEAR, DEEP_LINEAR_QUICK, run_deep_linear, _plot_deep_linear,
               _section_deep_linear),
    Experiment("boosting", "Boosting small MLPs: stacking reaches a given held-out "
               "loss in fewer optimizer steps, and a lower loss at equal steps, "
               "than zero or random stage inits",
               BOOSTING, BOOSTING_QUICK, run_boosting, _plot_boosting,
               _section_boosting),
    Experiment("width", "Under muP the best learning rate stays put as the width "
               "grows; under the standard parameterization it moves",
               WIDTH, WIDTH_QUICK, run_width, _plot_width, _section_width),
    Experiment("catapults", "SGD above the critical step: smaller batches give more "
               "catapults, higher AGOP alignment and lower test loss",
               CATAPULTS, CATAPULTS_QUICK, run_catapults, _plot_catapults,
               _section_catapults),
)}


def git_state() -> dict[str, Any] | None:
    """The checkout the results come from.

    Returns
    -------
    dict or None
        ``head`` (the commit) and ``dirty`` (whether ``accelboost/`` or
        ``benchmarks/`` had uncommitted changes), or None outside a git
        checkout.
    """
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "accelboost", "benchmarks"],
            cwd=root, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"head": head, "dirty": bool(changes.strip())}


def run_experiment(name: str, *, quick: bool = False, seeds: int | None = None,
                   out: Path = OUT, command: str = "", log: Any = sys.stderr
                   ) -> dict[str, Any]:
    """Run one experiment, write its JSON and PNG.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    quick : bool, default=False
        Tiny settings (seconds).
    seeds : int or None, default=None
        Number of seeds (0, 1, ...); None takes :data:`DEFAULT_SEEDS`.
    out : Path, default=OUT
        Output directory.
    command : str, default=""
        The command line, stored in the results.
    log : file-like or None, default=sys.stderr
        Where progress lines go.

    Returns
    -------
    dict
        The results as written to ``<out>/<name>.json``.
    """
    from threadpoolctl import threadpool_limits

    experiment = REGISTRY[name]
    settings = dict(experiment.quick if quick else experiment.settings)
    n_seeds = DEFAULT_SEEDS[name] if seeds is None else seeds
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        found = experiment.run(settings, list(range(n_seeds)), log)
    results = new_report(
        f"parametric/{name}", SCHEMA_VERSION, command,
        {**settings, "quick": quick}, found.pop("runs"), started,
        experiment=name, claim=experiment.claim, seeds=list(range(n_seeds)),
        verdict=_overall(found["verdicts"]), commit=git_state(), **found)
    out.mkdir(parents=True, exist_ok=True)
    save_json(results, out / f"{name}.json")
    # Plot from the stored JSON: what the notebook and the report read.
    stored = json.loads((out / f"{name}.json").read_text())
    experiment.plot(stored, out / f"{name}.png")
    _log(log, f"{name}: {stored['verdict']} in {stored['elapsed_s']:.0f} s")
    return stored


def format_report(results: Sequence[dict[str, Any]]) -> str:
    """``report.md`` from the experiments' results (in :data:`EXPERIMENTS`
    order).

    Parameters
    ----------
    results : sequence of dict
        Loaded ``<experiment>.json`` files.

    Returns
    -------
    str
        The Markdown report.
    """
    machine = results[0].get("machine", machine_info()) if results else {}
    lines = ["# Parametric weak learners: the claims, checked", "",
             "Generated by `python -m benchmarks parametric` (benchmarks/"
             "parametric.py). Each claim from the papers behind DESIGN 5.1-5.3 "
             "is measured over several seeds (medians) and reported as "
             "reproduced or not, with the numbers; a claim that did not "
             "reproduce is a finding, not a bug to tune away.", "",
             f"Machine: {machine.get('cpu_model') or '?'}, "
             f"{machine.get('cpu_count', '?')} CPUs (BLAS on one thread).", ""]
    lines += md_table(["experiment", "claim", "verdict", "seeds", "wall time"], [
        [r["experiment"], r["claim"], f"**{r['verdict']}**", len(r["seeds"]),
         f"{r['elapsed_s'] / 60:.1f} min" + (" (quick)" if r["config"]["quick"]
                                             else "")] for r in results])
    for r in results:
        commit = r.get("commit") or {}
        where = (f"; accelboost at {commit['head'][:10]}"
                 + (" with uncommitted changes" if commit["dirty"] else "")
                 if commit else "")
        lines += ["", f"## {r['experiment']}: {r['verdict']}", "",
                  f"Claim: {r['claim']}.", "", f"Command: `{r['command']}`; seeds "
                  f"{r['seeds'][0]}-{r['seeds'][-1]}; wall time "
                  f"{r['elapsed_s'] / 60:.1f} min{where}.", ""]
        for v in r["verdicts"]:
            tag = " (extension, not part of the claim)" if v.get("extension") else ""
            lines.append(f"- **{v['verdict']}**{tag}: {v['claim']}. {v['evidence']}.")
        lines += ["", *REGISTRY[r["experiment"]].section(r), "",
                  f"![{r['experiment']}]({r['experiment']}.png)"]
    return "\n".join(lines) + "\n"


def write_report(out: Path) -> Path:
    """Regenerate ``<out>/report.md`` from the experiments' JSON files there.

    Parameters
    ----------
    out : Path
        The results directory.

    Returns
    -------
    Path
        The report's path.
    """
    results = []
    for name in EXPERIMENTS:
        path = out / f"{name}.json"
        if path.exists():
            loaded = json.loads(path.read_text())
            if loaded.get("benchmark") == f"parametric/{name}":
                results.append(loaded)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_NAME
    path.write_text(format_report(results))
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks parametric``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("experiment", choices=(*EXPERIMENTS, "all"),
                        help="which claim to check ('all': the four in turn)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings, seconds per experiment (the tests)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="results directory (default: %(default)s)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="seeds per setting (default: " + ", ".join(
                            f"{k} {v}" for k, v in DEFAULT_SEEDS.items()) + ")")


def main(args: argparse.Namespace, command: str) -> int:
    """Run the chosen experiment(s), then regenerate the report.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options (:func:`add_arguments`).
    command : str
        The command line, stored in the results.

    Returns
    -------
    int
        0.
    """
    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    for name in names:
        run_experiment(name, quick=args.quick, seeds=args.seeds, out=args.out,
                       command=command)
    path = write_report(args.out)
    print(f"report written to {path}")
    return 0
