"""``python -m benchmarks parametric EXPERIMENT``: the claims behind the
parametric weak learners (DESIGN 5.1-5.3), each checked on our code.

Each experiment states one claim from the papers, measures it over several
seeds (medians reported) and says plainly whether it reproduced:

* ``deep-linear`` (Agarwal, Awasthi, Kale, Zhao, arXiv 2403.04978): deep
  linear residual networks ``F(x) = (I + W_L)...(I + W_1) x`` grown one layer
  at a time on an ill-conditioned regression reach a given training loss in
  fewer gradient steps when the new layer starts as a copy of the last one
  (stacking) than from zero and than from small random weights.
  Self-contained NumPy: each stage trains the new layer only (the earlier
  ones frozen, as a boosting stage leaves the earlier learners alone), which
  makes a stage a least-squares problem in ``W_{L+1}`` solved by gradient
  descent at step ``1 / lambda_max`` of that problem.
* ``boosting``: :class:`~accelboost.parametric.StackedBoostRegressor` and
  ``StackedBoostClassifier`` with small MLPs, stage_init stacking / zero /
  random at equal optimizer steps, on one regression and one classification
  table; each init at its best learning rate (chosen on a validation part),
  held-out loss after every stage (``staged_predict``). Stacking must beat
  both zero and random init. A fit that a divergence stopped early is
  recorded and counted ("stopped early k/n").
* ``width`` (Ishikawa and Karakida, arXiv 2312.12226): a 2-hidden-layer MLP
  trained for a fixed number of steps with SGD, Adam, K-FAC and Shampoo under
  the "standard" and "mup" parameterizations; the best learning rate (log2
  grid, on the final training loss: muP's protocol) per width should stay put
  under muP and move under standard where muP rescales the rate (not K-FAC,
  whose muP learning-rate exponents are all 0).
* ``catapults`` (Zhu, Liu, Radhakrishnan, Belkin, arXiv 2306.04815): SGD
  above the critical step size on a low-rank synthetic target; smaller
  batches should give more catapults (spikes of the training loss that fall
  back), a model AGOP better aligned with the target's, and lower test loss.
  Tested within each seed (Spearman) and across seeds (sign test).

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

SCHEMA_VERSION = 2
#: The experiments, in report order.
EXPERIMENTS = ("deep-linear", "boosting", "width", "catapults")
#: Default output directory, and the report's name in it.
OUT = Path("benchmarks") / "results" / "parametric"
REPORT_NAME = "report.md"
REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
#: Significant digits of the stored curves.
DIGITS = 6
#: The inits stacking must beat (deep-linear and boosting).
COMPETITORS = ("zero", "random")

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
#: from ``start[opt]`` at the narrowest width (from the previous width's best
#: beyond) until every exponent within ``margin`` of the best is evaluated.
WIDTH = {"widths": (64, 128, 256, 512, 1024),
         "max_width": {"sgd": 1024, "adam": 1024, "kfac": 512, "shampoo": 256},
         "optimizers": ("sgd", "adam", "kfac", "shampoo"),
         "parameterizations": ("standard", "mup"), "base_width": 64,
         "n_samples": 512, "steps": 100, "batch_size": 32, "activation": "relu",
         "exponents": {"sgd": (0, 18), "adam": (2, 22), "kfac": (0, 18),
                       "shampoo": (0, 20)},
         "start": {"sgd": 2, "adam": 7, "kfac": 4, "shampoo": 1}, "margin": 2}
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
#: Seeds per experiment unless ``--seeds`` says otherwise. Width is the
#: costly grid (three); catapults has ten so that the sign test across seeds
#: can reach ``p < ALPHA`` with one seed against the trend (9 of 10: p =
#: 0.011; with five seeds it would need all five).
DEFAULT_SEEDS = {"deep-linear": 5, "boosting": 5, "width": 3, "catapults": 10}
#: Significance level of the catapult experiment's sign tests.
ALPHA = 0.05


# -- shared helpers ------------------------------------------------------------------
def _rounded(values: Any) -> list[float | None]:
    """A curve as JSON numbers.

    Parameters
    ----------
    values : array-like of float
        The curve.

    Returns
    -------
    list of float or None
        Each value to :data:`DIGITS` significant digits, None where it is not
        finite.
    """
    return [float(f"{v:.{DIGITS}g}") if math.isfinite(v) else None
            for v in np.asarray(values, dtype=np.float64).tolist()]


def _as_array(curve: Sequence[float | None]) -> np.ndarray:
    """A stored curve back as floats.

    Parameters
    ----------
    curve : sequence of float or None
        A curve as stored (None: diverged).

    Returns
    -------
    ndarray of float64
        The curve, None as +inf.
    """
    return np.array([math.inf if v is None else v for v in curve], dtype=np.float64)


def _median(values: Sequence[float | None]) -> float | None:
    """Median that counts a missing value as worst.

    Parameters
    ----------
    values : sequence of float or None
        Values; None and NaN count as +inf (not reached, diverged).

    Returns
    -------
    float or None
        The median, None when it is infinite or there are no values.
    """
    array = np.array([math.inf if v is None or not math.isfinite(v) else v
                      for v in values], dtype=np.float64)
    if array.size == 0:
        return None
    value = float(np.median(array))
    return value if math.isfinite(value) else None


def _median_curve(curves: Sequence[Sequence[float | None]]) -> np.ndarray:
    """Pointwise median of equally long stored curves.

    Parameters
    ----------
    curves : sequence of sequence of float or None
        The curves (None as +inf).

    Returns
    -------
    ndarray of float64
        The median at every index (+inf where most curves are).
    """
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
        The number of steps, or None when the curve never gets there or the
        target is not finite (nothing to reach).
    """
    if not math.isfinite(target):
        return None
    hit = first_reach(_as_array(curve), target, rtol=0.0)
    return None if hit is None else hit - 1


def _fewer(ours: float | None, theirs: float | None) -> bool:
    """Whether ``ours`` steps beat ``theirs`` (None: never reached).

    Parameters
    ----------
    ours, theirs : float or None
        Steps to a loss, None when it was not reached.

    Returns
    -------
    bool
        True when ours is reached and theirs is not, or ours is smaller.
    """
    return ours is not None and (theirs is None or ours < theirs)


def _verdict(claim: str, ok: bool, evidence: str, **numbers: Any) -> dict[str, Any]:
    """One verdict as stored.

    Parameters
    ----------
    claim : str
        What was checked.
    ok : bool
        Whether it held.
    evidence : str
        The numbers behind it, as the report prints them.
    **numbers
        The same numbers as data (``numbers`` in the JSON).

    Returns
    -------
    dict
        ``claim``, ``verdict``, ``evidence``, ``numbers``.
    """
    return {"claim": claim, "verdict": REPRODUCED if ok else NOT_REPRODUCED,
            "evidence": evidence, "numbers": numbers}


def counts_toward_overall(verdict: dict[str, Any]) -> bool:
    """Whether a verdict is part of its experiment's overall verdict.

    Parameters
    ----------
    verdict : dict
        One entry of an experiment's ``verdicts``.

    Returns
    -------
    bool
        False for an extension beyond the claim and for a part of the claim
        the theory does not predict (``predicted`` False: K-FAC's standard
        parameterization in the width experiment), True otherwise.
    """
    return not verdict.get("extension") and verdict.get("predicted", True)


def _overall(verdicts: Sequence[dict[str, Any]]) -> str:
    """An experiment's verdict.

    Parameters
    ----------
    verdicts : sequence of dict
        Its verdicts.

    Returns
    -------
    str
        :data:`REPRODUCED` when there is at least one verdict that counts
        (:func:`counts_toward_overall`) and every such one is reproduced.
    """
    primary = [v for v in verdicts if counts_toward_overall(v)]
    return REPRODUCED if primary and all(v["verdict"] == REPRODUCED
                                         for v in primary) else NOT_REPRODUCED


def _figure(nrows: int, ncols: int, width: float, height: float):
    """A matplotlib figure (Agg) and its axes grid.

    Parameters
    ----------
    nrows, ncols : int
        The grid.
    width, height : float
        Figure size in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    axes : ndarray of Axes
        Always 2-D.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)


def _save(fig: Any, path: Path) -> None:
    """Write a figure as PNG and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : Path
        Where to write it.
    """
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _log(log: Any, text: str) -> None:
    """Print a progress line.

    Parameters
    ----------
    log : file-like or None
        Where it goes (None: nowhere).
    text : str
        The line.
    """
    if log is not None:
        print(text, file=log, flush=True)


def _steps_text(value: float | None) -> str:
    """Steps as the report prints them.

    Parameters
    ----------
    value : float or None
        Steps, None when not reached.

    Returns
    -------
    str
        ``"N steps"`` or ``"not reached"``.
    """
    return "not reached" if value is None else f"{value:.0f} steps"


def _rivals(present: Sequence[str]) -> list[str]:
    """The competitors of stacking that were run.

    Parameters
    ----------
    present : sequence of str
        The inits that were run.

    Returns
    -------
    list of str
        :data:`COMPETITORS` that are in ``present``, in that order.
    """
    return [c for c in COMPETITORS if c in present]


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
    return {"runs": runs, **_summarize_deep_linear(runs, settings)}


def _summarize_deep_linear(runs: Sequence[dict[str, Any]], settings: dict[str, Any]
                           ) -> dict[str, Any]:
    """Medians per (steps per stage, init) and the verdicts.

    Parameters
    ----------
    runs : sequence of dict
        The growth runs (:func:`run_deep_linear`).
    settings : dict
        See :data:`DEEP_LINEAR`.

    Returns
    -------
    dict
        ``summary`` (``rows``) and ``verdicts``: one per steps per stage for
        stacking, and one for the scaled copy (an extension), each holding
        when it reaches every threshold in fewer median steps than zero and
        than random init.
    """
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
        rivals = _rivals(list(by_init))
        for candidate, extension in (("stacking", False), ("stacking_half", True)):
            if candidate not in by_init or not rivals:
                continue
            ours = by_init[candidate]["steps_to"]
            ok = all(_fewer(ours[k], by_init[c]["steps_to"][k])
                     for c in rivals for k in keys)
            evidence = "; ".join(
                f"relative loss {k}: {candidate} {_steps_text(ours[k])} vs "
                + ", ".join(f"{c} {_steps_text(by_init[c]['steps_to'][k])}"
                            for c in rivals) for k in keys)
            label = ("stacking (copy of the last layer)" if candidate == "stacking"
                     else f"scaled copy ({settings['half_momentum']:g} x last layer)")
            verdict = _verdict(
                f"{label} reaches each relative training loss in fewer steps than "
                f"{' and than '.join(f'{c} init' for c in rivals)} ({per_stage} "
                "step(s) per stage, median over seeds)",
                ok, evidence, steps_per_stage=per_stage, candidate=candidate,
                candidate_steps=ours,
                rival_steps={c: by_init[c]["steps_to"] for c in rivals})
            verdict["extension"] = extension
            verdicts.append(verdict)
    return {"summary": {"rows": rows}, "verdicts": verdicts}


def _plot_deep_linear(results: dict[str, Any], path: Path) -> None:
    """Median training-loss curves per init, one panel per steps per stage.

    Parameters
    ----------
    results : dict
        The stored results.
    path : Path
        The PNG to write.
    """
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


def _reach_cell(row: dict[str, Any], key: str) -> str:
    """A deep-linear table cell: median steps to a threshold and seeds reaching.

    Parameters
    ----------
    row : dict
        A summary row.
    key : str
        The threshold.

    Returns
    -------
    str
        ``"86 steps (5/5)"`` or ``"not reached (0/5)"``.
    """
    return (f"{_steps_text(row['steps_to'][key])} "
            f"({row['reached'][key]}/{row['n_seeds']})")


def _section_deep_linear(results: dict[str, Any]) -> list[str]:
    """The deep-linear section of the report.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        Markdown lines.
    """
    settings = results["config"]
    rows = [[r["steps_per_stage"], r["init"],
             *[_reach_cell(r, k) for k in r["steps_to"]],
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
        "infinite. A verdict holds when its init reaches both thresholds in "
        "fewer median steps than zero init and than random init.",
        "sigma_min / teacher's: smallest singular value of the learned map over "
        "the teacher's; near 0 means the product of layers collapsed in some "
        "direction (a copied layer that shrinks a direction shrinks it again at "
        "every stage, and a frozen earlier layer cannot undo it).",
    ]
    return lines + [""] + [f"- {n}" for n in notes]


def _numbers_deep_linear(results: dict[str, Any]) -> list[str]:
    """The deep-linear numbers the README quotes.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        One line per steps per stage: each init's median steps to every
        threshold (seeds reaching), as in the table.
    """
    rows = results["summary"]["rows"]
    keys = list(rows[0]["steps_to"])
    lines = []
    for per_stage in results["config"]["steps_per_stage"]:
        lines.append(
            f"{per_stage} step(s) per stage, median steps to relative loss "
            f"{' / '.join(keys)} (seeds reaching): " + "; ".join(
                f"{r['init']} " + " / ".join(_reach_cell(r, k) for k in keys)
                for r in rows if r["steps_per_stage"] == per_stage))
    return lines


# -- 2. boosting with small networks -------------------------------------------------
def _boosting_estimator(task: str, settings: dict[str, Any], init: str,
                        learning_rate: float, seed: int):
    """The stacked-boosting estimator of one run.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass"}
        The table's task.
    settings : dict
        See :data:`BOOSTING`.
    init : str
        ``stage_init``.
    learning_rate : float
        The optimizer's learning rate.
    seed : int
        ``random_state``.

    Returns
    -------
    StackedBoostRegressor or StackedBoostClassifier
        Unfitted, without early stopping.
    """
    from accelboost.parametric import StackedBoostClassifier, StackedBoostRegressor

    cls = StackedBoostRegressor if task == "regression" else StackedBoostClassifier
    return cls(learner="mlp", hidden_layer_sizes=tuple(settings["hidden_layer_sizes"]),
               activation=settings["activation"], stage_init=init,
               momentum=settings["momentum"], max_iter=settings["max_iter"],
               steps_per_stage=settings["steps_per_stage"],
               batch_size=settings["batch_size"], optimizer=settings["optimizer"],
               learning_rate=learning_rate, early_stopping=False,
               random_state=seed)


def _fit_recording_stops(model: Any, X: np.ndarray, y: np.ndarray) -> list[str]:
    """Fit ``model`` and keep what a divergence told.

    Parameters
    ----------
    model : estimator
        A stacked-boosting estimator.
    X, y : ndarray
        Training rows.

    Returns
    -------
    list of str
        The messages of the ConvergenceWarnings raised (a stage that diverged
        stops the fit: the model keeps the stages before it). Other warnings
        are passed on.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    stops = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            stops.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return stops


def _staged_losses(model: Any, task: str, X: np.ndarray, y: np.ndarray,
                   n_stages: int) -> list[float]:
    """Held-out loss after each stage.

    Parameters
    ----------
    model : estimator
        The fitted model.
    task : str
        Its task.
    X, y : ndarray
        Held-out rows.
    n_stages : int
        Length of the curve: a fit stopped early is padded with +inf (it
        counts as the worst loss in the medians; the stopped runs are
        counted apart).

    Returns
    -------
    list of float
        One loss per stage.
    """
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
    from . import _data

    runs, tables = [], {}
    n = settings["max_iter"]
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
                    stops = _fit_recording_stops(model, data.X_train, data.y_train)
                    fit_s = time.perf_counter() - started
                    runs.append({
                        "table": name, "task": data.task, "init": init,
                        "learning_rate": lr, "seed": seed, "fit_s": fit_s,
                        "n_stages": int(model.n_iter_),
                        "stopped_early": int(model.n_iter_) < n,
                        "stop_messages": stops,
                        "steps_per_stage": settings["steps_per_stage"],
                        "val_curve": _rounded(_staged_losses(
                            model, data.task, data.X_val, data.y_val, n)),
                        "test_curve": _rounded(_staged_losses(
                            model, data.task, data.X_test, data.y_test, n))})
            _log(log, f"boosting: {name} seed {seed} done")
    return {"runs": runs, **_summarize_boosting(runs, settings), "tables": tables}


def _stage_steps(curve: np.ndarray, target: float, per_stage: int) -> int | None:
    """Optimizer steps until a staged curve first reaches ``target``.

    Parameters
    ----------
    curve : ndarray
        Loss after each stage.
    target : float
        The loss to reach.
    per_stage : int
        Steps per stage.

    Returns
    -------
    int or None
        Stages to get there times ``per_stage``, None when never.
    """
    stage = steps_to(np.concatenate([[math.inf], curve]), target)
    return None if stage is None else stage * per_stage


def _below_from(ours: np.ndarray, theirs: np.ndarray, per_stage: int) -> int | None:
    """Where one staged curve goes below another for good.

    Parameters
    ----------
    ours, theirs : ndarray
        Loss after each stage (equally long).
    per_stage : int
        Steps per stage.

    Returns
    -------
    int or None
        Steps to the first stage from which ``ours`` is below ``theirs`` at
        every later stage, None when it is not below at the last one.
    """
    not_below = np.flatnonzero(~(ours < theirs))
    if not_below.size == 0:
        return per_stage
    last = int(not_below[-1])
    return None if last == len(ours) - 1 else (last + 2) * per_stage


def _boosting_init_row(runs: Sequence[dict[str, Any]], settings: dict[str, Any],
                       init: str) -> dict[str, Any]:
    """One init's summary on one table: its best rate and that rate's curves.

    Parameters
    ----------
    runs : sequence of dict
        The table's runs of this init.
    settings : dict
        See :data:`BOOSTING`.
    init : str
        The init.

    Returns
    -------
    dict
        ``best_lr`` (lowest median validation loss at the full budget; ties
        to the smaller rate), its test curve and losses at the reported
        fractions, the test loss at the stage of lowest median validation
        loss, and per learning rate the final test loss and the fits stopped
        early (``stopped_early`` of the best rate, ``lr_stopped_early``).
    """
    per_stage, budget = settings["steps_per_stage"], settings["max_iter"]
    by_lr = {}
    for lr in settings["learning_rates"]:
        chosen = [r for r in runs if r["learning_rate"] == lr]
        by_lr[lr] = {"val": _median_curve([r["val_curve"] for r in chosen]),
                     "test": _median_curve([r["test_curve"] for r in chosen]),
                     "stopped": sum(bool(r["stopped_early"]) for r in chosen),
                     "n": len(chosen)}
    best = min(by_lr, key=lambda lr: (by_lr[lr]["val"][-1], lr))
    val, test = by_lr[best]["val"], by_lr[best]["test"]
    stage = int(np.argmin(val)) if np.isfinite(val).any() else None
    return {
        "init": init, "best_lr": best,
        "best_at_grid_edge": best in (min(by_lr), max(by_lr)),
        "stopped_early": by_lr[best]["stopped"], "n_seeds": by_lr[best]["n"],
        "val_final": float(val[-1]),
        "test_at": {f"{f:g}": float(test[max(1, round(f * budget)) - 1])
                    for f in settings["fractions"]},
        "test_final": float(test[-1]),
        "val_best_step": None if stage is None else (stage + 1) * per_stage,
        "test_at_val_best": None if stage is None else float(test[stage]),
        "test_curve": _rounded(test),
        "lr_final_test": {f"{lr:g}": float(c["test"][-1]) for lr, c in by_lr.items()},
        "lr_stopped_early": {f"{lr:g}": c["stopped"] for lr, c in by_lr.items()}}


def _summarize_boosting(runs: Sequence[dict[str, Any]], settings: dict[str, Any]
                        ) -> dict[str, Any]:
    """Per table: each init at its best rate, and the verdicts.

    Parameters
    ----------
    runs : sequence of dict
        The fits (:func:`run_boosting`): ``table``, ``task``, ``init``,
        ``learning_rate``, ``seed``, ``stopped_early``, ``val_curve``,
        ``test_curve``.
    settings : dict
        See :data:`BOOSTING`.

    Returns
    -------
    dict
        ``summary`` (one entry per table: ``rows`` per init, ``targets``: the
        rivals' final test losses, ``checks`` against each rival) and
        ``verdicts`` (one per table: stacking ends lower than zero and than
        random init, and reaches each one's final loss in fewer steps than
        that init does).
    """
    per_stage, budget = settings["steps_per_stage"], settings["max_iter"]
    summary, verdicts = [], []
    for name in settings["tables"]:
        mine = [r for r in runs if r["table"] == name]
        rows = {init: _boosting_init_row([r for r in mine if r["init"] == init],
                                         settings, init)
                for init in settings["inits"]}
        rivals = _rivals(list(rows))
        targets = {c: rows[c]["test_final"] for c in rivals}
        for row in rows.values():
            curve = _as_array(row["test_curve"])
            row["steps_to_final"] = {c: _stage_steps(curve, t, per_stage)
                                     for c, t in targets.items()}
        stack = rows["stacking"]
        checks = {}
        for c in rivals:
            ours, theirs = stack["steps_to_final"][c], rows[c]["steps_to_final"][c]
            checks[c] = {"lower": stack["test_final"] < targets[c],
                         "faster": _fewer(ours, theirs),
                         "steps_ratio": (None if ours is None or not theirs
                                         else ours / theirs),
                         # Descriptive, not part of the verdict.
                         "below_from_step": _below_from(
                             _as_array(stack["test_curve"]),
                             _as_array(rows[c]["test_curve"]), per_stage)}
        task = mine[0]["task"]
        entry = {"table": name, "task": task,
                 "loss": "MSE" if task == "regression" else "log loss",
                 "budget_steps": budget * per_stage, "targets": targets,
                 "checks": checks, "rows": list(rows.values())}
        summary.append(entry)
        verdicts.append(_verdict(
            f"{name}: stacking ends lower than {' and than '.join(rivals)} init at "
            "equal steps, and reaches each one's final held-out loss in fewer "
            "steps than that init does (each at its best learning rate)",
            bool(rivals) and all(ch["lower"] and ch["faster"]
                                 for ch in checks.values()),
            _boosting_evidence(entry), table=name,
            finals={r["init"]: r["test_final"] for r in rows.values()},
            checks=checks))
    return {"summary": summary, "verdicts": verdicts}


def _stopped_text(row: dict[str, Any]) -> str:
    """A row's fits stopped early, as the report prints them.

    Parameters
    ----------
    row : dict
        A boosting summary row.

    Returns
    -------
    str
        ``"k/n"``.
    """
    return f"{row['stopped_early']}/{row['n_seeds']}"


def _boosting_evidence(entry: dict[str, Any]) -> str:
    """The numbers behind a boosting verdict (also the README's).

    Parameters
    ----------
    entry : dict
        One table's summary.

    Returns
    -------
    str
        Each init's final test loss (rate, fits stopped early), then the
        steps to each rival's final loss.
    """
    rows = {r["init"]: r for r in entry["rows"]}
    finals = ", ".join(
        f"{r['init']} {fmt(r['test_final'], '.4g')} (lr {r['best_lr']:g}, stopped "
        f"early {_stopped_text(r)})" for r in entry["rows"])
    reach = "; ".join(
        f"steps to {c}'s final loss: stacking "
        f"{_steps_text(rows['stacking']['steps_to_final'][c])} vs {c} "
        f"{_steps_text(rows[c]['steps_to_final'][c])} (ratio "
        f"{fmt(check['steps_ratio'], '.2f')}; stacking's curve below {c}'s "
        + (f"from step {check['below_from_step']} on)"
           if check["below_from_step"] is not None else "not at the end)")
        for c, check in entry["checks"].items())
    return (f"test {entry['loss']} after {entry['budget_steps']} steps: {finals}; "
            f"{reach}")


def _plot_boosting(results: dict[str, Any], path: Path) -> None:
    """Median test curves per init and rate, one panel per table.

    Parameters
    ----------
    results : dict
        The stored results.
    path : Path
        The PNG to write.
    """
    entries = results["summary"]
    fig, axes = _figure(1, len(entries), 6 * len(entries), 4.5)
    settings = results["config"]
    for ax, entry in zip(axes[0], entries, strict=True):
        colors = {}
        for i, row in enumerate(entry["rows"]):
            colors[row["init"]] = f"C{i}"
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
        targets = [t for t in entry["targets"].values() if t is not None]
        for c, t in entry["targets"].items():
            if t is not None:
                ax.axhline(t, color=colors[c], linestyle=":", linewidth=1)
        ax.set_yscale("log")
        finite = [v for row in entry["rows"] for v in row["test_curve"]
                  if v is not None]
        if targets and finite:
            # The best curves' first stages set the top; worse rates may leave
            # it.
            starts = [row["test_curve"][0] for row in entry["rows"]
                      if row["test_curve"][0] is not None]
            low = min(targets)
            ax.set_ylim(min(finite) * 0.95,
                        min(max(starts + [max(targets) * 1.2]), low * 10))
        ax.set_xlabel("optimizer steps")
        ax.set_ylabel(f"test {entry['loss']} (median over seeds)")
        ax.set_title(f"{entry['table']}: thick = best lr per init, dotted = "
                     "rivals' final")
        ax.legend()
    _save(fig, path)


def _section_boosting(results: dict[str, Any]) -> list[str]:
    """The boosting section of the report.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        Markdown lines.
    """
    settings = results["config"]
    lines = []
    for entry in results["summary"]:
        fractions = list(entry["rows"][0]["test_at"])
        rivals = list(entry["targets"])
        rows = [[r["init"], f"{r['best_lr']:g}" + (" (grid edge)"
                                                  if r["best_at_grid_edge"] else ""),
                 _stopped_text(r),
                 *[fmt(r["test_at"][f], ".4g") for f in fractions],
                 f"{fmt(r['test_at_val_best'], '.4g')} @ "
                 f"{fmt(r['val_best_step'], 'd')}",
                 *[_steps_text(r["steps_to_final"][c]) for c in rivals]]
                for r in entry["rows"]]
        lines += [f"**{entry['table']}** ({entry['task']}, test {entry['loss']}; "
                  f"{results['tables'][entry['table']]['description']}; "
                  f"{results['tables'][entry['table']]['n_train']} training rows)",
                  ""]
        lines += md_table(
            ["init", "best lr", "stopped early", *[
                f"at {float(f):.0%} of {entry['budget_steps']} steps"
                for f in fractions],
             "at the stage of lowest validation loss (step)",
             *[f"steps to {c}'s final" for c in rivals]], rows)
        lines += ["", "Final test loss (median over seeds; — where the median "
                  "fit stopped early) and fits stopped early by a divergence, at "
                  "every learning rate:", ""]
        rates = list(entry["rows"][0]["lr_final_test"])
        lines += md_table(["init", *rates], [
            [r["init"], *[f"{fmt(r['lr_final_test'][lr], '.4g')} (stopped early "
                          f"{r['lr_stopped_early'][lr]}/{r['n_seeds']})"
                          for lr in rates]]
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
        "that rate's (median over seeds per stage). The column \"at the stage of "
        "lowest validation loss\" is the median test loss at the stage where the "
        "median validation curve is lowest (a stage chosen without the test "
        "part). \"Steps to X's final\" is the first stage at which the median "
        "test curve is at or below X's final median test loss.",
        "- Stopped early: a stage that diverged (the estimator's "
        "ConvergenceWarning) ends the fit, which keeps the stages before it. "
        "Such a fit's curves count as infinite after its last stage, so it "
        "weighs as the worst seed in every median; \"stopped early k/n\" says how "
        "many of the n seeds stopped at each (init, learning rate).",
        "- Verdict per table: stacking's final median test loss is below zero "
        "init's and below random init's, and stacking reaches each one's final "
        "loss in fewer steps than that init itself first does. A rival whose "
        "median curve dips below its own final loss early (and rises after) "
        "reaches that loss early: the rule counts it as faster there. \"Below "
        "from step N on\" (descriptive, not part of the verdict) is the first "
        "step from which stacking's median test curve stays below the rival's at "
        "every later stage.",
    ]
    return lines


def _numbers_boosting(results: dict[str, Any]) -> list[str]:
    """The boosting numbers the README quotes.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        One line per table: the verdict's evidence.
    """
    return [f"{entry['table']} ({entry['task']}): {_boosting_evidence(entry)}"
            for entry in results["summary"]]


# -- 3. width and learning-rate transfer ---------------------------------------------
def bracket_best(evaluate: Callable[[int], float], start: int, low: int, high: int,
                 margin: int = 2) -> dict[int, float]:
    """Search a grid of exponents for the minimum of ``evaluate``.

    Evaluates ``start``, then every exponent within ``margin`` of the current
    best, again around each new best, until all of ``best - margin .. best +
    margin`` on the grid are evaluated: a local dip next to the start cannot
    hide a lower value two grid steps away. While every value so far is
    infinite (all diverged) it walks towards larger exponents (smaller
    learning rates ``2 ** -k``), one at a time. Ties go to the larger
    exponent.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(k) -> loss`` (+inf for a divergence).
    start : int
        First exponent evaluated (clipped to the grid).
    low, high : int
        The grid, ``low..high`` inclusive.
    margin : int, default=2
        How far around the best every exponent is evaluated.

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
        around = (range(best - margin, best + margin + 1)
                  if math.isfinite(found[best]) else (max(found) + 1,))
        pending = [k for k in around if low <= k <= high and k not in found]
    return found


def _best_exponent(found: dict[Any, float | None]) -> int | None:
    """The exponent of the lowest finite loss.

    Parameters
    ----------
    found : dict
        Exponent (int or its string) to loss (None: diverged).

    Returns
    -------
    int or None
        The best exponent (ties to the larger one), None when every loss
        diverged or there is none.
    """
    finite = {int(k): v for k, v in found.items()
              if v is not None and math.isfinite(v)}
    return min(finite, key=lambda k: (finite[k], -k)) if finite else None


def _widths(settings: dict[str, Any], optimizer: str) -> list[int]:
    """The widths an optimizer is measured at.

    Parameters
    ----------
    settings : dict
        See :data:`WIDTH`.
    optimizer : str
        The optimizer.

    Returns
    -------
    list of int
        ``widths`` up to the optimizer's ``max_width``.
    """
    return [w for w in settings["widths"] if w <= settings["max_width"][optimizer]]


def _moves_under_standard(optimizer: str) -> bool:
    """Whether the theory predicts a moving best rate under standard.

    Parameters
    ----------
    optimizer : str
        The optimizer's name.

    Returns
    -------
    bool
        True when muP rescales some layer's learning rate with the width
        (a muP learning-rate exponent is not 0, DESIGN 5.3): only then does
        the standard parameterization, which does not, need a rate that moves.
    """
    from accelboost.parametric.optimizers import make_optimizer

    return any(c != 0 for c in make_optimizer(optimizer, 1.0).mup_exponents)


def _width_task(settings: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The width experiment's rows, the same for every seed.

    Parameters
    ----------
    settings : dict
        See :data:`WIDTH`.

    Returns
    -------
    X : ndarray of shape (n_samples, 28)
        Standardized features.
    y : ndarray of shape (n_samples,)
        Standardized target.
    """
    from . import _data

    X, y = _data.make_synthetic("regression", settings["n_samples"], seed=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, (y - y.mean()) / y.std()


def _train_width(X: np.ndarray, y: np.ndarray, optimizer: str,
                 parameterization: str, width: int, exponent: int, seed: int,
                 settings: dict[str, Any]) -> tuple[float, Any]:
    """Train one MLP at learning rate ``2 ** -exponent``.

    Parameters
    ----------
    X, y : ndarray
        The task.
    optimizer : str
        The optimizer's name.
    parameterization : {"standard", "mup"}
        Initial scales and per-layer multipliers.
    width : int
        Width of both hidden layers.
    exponent : int
        The learning rate is ``2 ** -exponent``.
    seed : int
        Seed of the initialization and the batches.
    settings : dict
        See :data:`WIDTH`.

    Returns
    -------
    final : float
        Training loss (``0.5 * MSE`` on all rows) after the steps, +inf when
        it diverged.
    batch_losses : array-like
        Each step's batch loss.
    """
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
            for width in _widths(settings, optimizer):
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

                found = bracket_best(evaluate, start, low, high, settings["margin"])
                best = _best_exponent(found)
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
    return {"runs": runs, **_summarize_width(runs, curves, settings)}


def _spread(exponents: Sequence[int | None]) -> int | None:
    """Log2 spread of best exponents over the widths.

    Parameters
    ----------
    exponents : sequence of int or None
        Best exponent per width (None: every rate diverged there).

    Returns
    -------
    int or None
        ``max - min``; None when a width has no best or there is none.
    """
    if not exponents or any(k is None for k in exponents):
        return None
    return max(exponents) - min(exponents)


def _seed_bests(runs: Sequence[dict[str, Any]], widths: Sequence[int]
                ) -> dict[str, list[int | None]]:
    """Each seed's own best exponent per width.

    Parameters
    ----------
    runs : sequence of dict
        The runs of one (optimizer, parameterization): ``seed``, ``width``,
        ``exponent``, ``final_loss``.
    widths : sequence of int
        The widths, in order.

    Returns
    -------
    dict of str to list of int or None
        Per seed, the exponent of its lowest final loss among the rates
        evaluated at each width (the search's, chosen on the median).
    """
    losses: dict[int, dict[int, dict[int, float | None]]] = {}
    for r in runs:
        losses.setdefault(r["seed"], {}).setdefault(r["width"], {})[
            r["exponent"]] = r["final_loss"]
    return {str(seed): [_best_exponent(by_width.get(w, {})) for w in widths]
            for seed, by_width in sorted(losses.items())}


def _width_entry(runs: Sequence[dict[str, Any]], curves: Sequence[dict[str, Any]],
                 settings: dict[str, Any], optimizer: str,
                 parameterization: str) -> dict[str, Any]:
    """The best rates of one (optimizer, parameterization) over the widths.

    Parameters
    ----------
    runs : sequence of dict
        Every run of the experiment.
    curves : sequence of dict
        Every search result (one per optimizer, parameterization, width).
    settings : dict
        See :data:`WIDTH`.
    optimizer, parameterization : str
        Which one.

    Returns
    -------
    dict
        ``widths`` (every width measured for the optimizer),
        ``best_exponents`` (None where every rate diverged or no search ran),
        ``missing_widths``, ``edge_widths`` (best on the grid's edge),
        ``spread`` and ``slope`` (None when a width is missing),
        ``seed_best_exponents`` and ``seed_spreads`` (each seed's own best),
        ``problems`` (why the spread cannot be trusted, if anything).
    """
    low, high = settings["exponents"][optimizer]
    widths = _widths(settings, optimizer)
    searched = {c["width"]: c["best_exponent"] for c in curves
                if c["optimizer"] == optimizer
                and c["parameterization"] == parameterization}
    best = [searched.get(w) for w in widths]
    missing = [w for w, k in zip(widths, best, strict=True) if k is None]
    edge = [w for w, k in zip(widths, best, strict=True) if k in (low, high)]
    spread = _spread(best)
    # Slope of log2(best lr) against log2(width): -1 = lr ~ 1/width.
    slope = (round(float(np.polyfit(np.log2(widths), -np.asarray(best, dtype=float),
                                    1)[0]), 9) + 0.0  # no "-0.00"
             if spread is not None and len(widths) > 1 else None)
    seeds = _seed_bests([r for r in runs if r["optimizer"] == optimizer
                         and r["parameterization"] == parameterization], widths)
    problems = (["no width measured"] if not widths else []) + [
        f"width {w}: " + ("every learning rate diverged" if w in searched
                          else "not measured") for w in missing] + [
        f"width {w}: best rate 2^-{k} on the grid's edge (the best may lie "
        "beyond)" for w, k in zip(widths, best, strict=True) if w in edge]
    return {"optimizer": optimizer, "parameterization": parameterization,
            "widths": widths, "best_exponents": best, "missing_widths": missing,
            "edge_widths": edge, "spread": spread, "slope": slope,
            "seed_best_exponents": seeds,
            "seed_spreads": {s: _spread(ks) for s, ks in seeds.items()},
            "problems": problems}


def _best_text(entry: dict[str, Any]) -> str:
    """The best rate per width, as the report prints it.

    Parameters
    ----------
    entry : dict
        One (optimizer, parameterization) of the width summary.

    Returns
    -------
    str
        ``"64: 2^-2, 128: 2^-3 (grid edge), 256: all diverged"``.
    """
    def cell(width, k):
        if k is None:
            return f"{width}: all diverged"
        return f"{width}: 2^-{k}" + (" (grid edge)" if width in entry["edge_widths"]
                                     else "")

    return ", ".join(cell(w, k) for w, k in zip(entry["widths"],
                                                entry["best_exponents"], strict=True))


def _seed_spreads_text(entry: dict[str, Any]) -> str:
    """Each seed's own spread, as the report prints it.

    Parameters
    ----------
    entry : dict
        One (optimizer, parameterization) of the width summary.

    Returns
    -------
    str
        The spreads in seed order (— where a seed has a width without a best).
    """
    return ", ".join(fmt(v, "d") for v in entry["seed_spreads"].values())


def _width_evidence(entry: dict[str, Any]) -> str:
    """The numbers behind a width verdict (also the README's).

    Parameters
    ----------
    entry : dict
        One (optimizer, parameterization) of the width summary.

    Returns
    -------
    str
        Best rate per width, spread, slope, each seed's own spread, problems.
    """
    text = (f"best lr by width: {_best_text(entry)} (log2 spread "
            f"{fmt(entry['spread'], 'd')}, slope {fmt(entry['slope'], '+.2f')}; "
            f"each seed's own spread: {_seed_spreads_text(entry)})")
    return text + "".join(f"; {p}" for p in entry["problems"])


def _width_verdict(entry: dict[str, Any]) -> dict[str, Any]:
    """One half of the width claim for one optimizer.

    Parameters
    ----------
    entry : dict
        One (optimizer, parameterization) of the width summary.

    Returns
    -------
    dict
        A verdict: under muP the best rate stays put (log2 spread at most
        :data:`STAYS_PUT_OCTAVES`), under standard it moves (at least
        :data:`MOVES_OCTAVES`); not reproduced whenever a width is missing or
        a best sits on the grid's edge. ``predicted`` is False for the
        standard half of an optimizer whose muP learning-rate exponents are
        all 0 (K-FAC): the theory does not predict that it moves, so that
        half is reported but left out of the overall verdict.
    """
    optimizer, parameterization = entry["optimizer"], entry["parameterization"]
    widths, spread = entry["widths"], entry["spread"]
    span = f"widths {widths[0]}-{widths[-1]}" if widths else "no widths"
    usable = spread is not None and not entry["problems"]
    if parameterization == "mup":
        predicted = True
        ok = usable and spread <= STAYS_PUT_OCTAVES
        claim = (f"{optimizer}, muP: the best learning rate stays put across {span} "
                 f"(log2 spread <= {STAYS_PUT_OCTAVES})")
    else:
        predicted = _moves_under_standard(optimizer)
        ok = usable and spread >= MOVES_OCTAVES
        claim = (f"{optimizer}, standard: the best learning rate moves across {span} "
                 f"(log2 spread >= {MOVES_OCTAVES})")
        if not predicted:
            claim += (f"; not predicted by the theory: {optimizer}'s muP "
                      "learning-rate exponents are all 0, so muP does not rescale "
                      "its rate and standard has nothing to correct")
    verdict = _verdict(claim, ok, _width_evidence(entry), optimizer=optimizer,
                       parameterization=parameterization, spread=spread,
                       seed_spreads=entry["seed_spreads"],
                       problems=entry["problems"])
    verdict["predicted"] = predicted
    return verdict


def _summarize_width(runs: Sequence[dict[str, Any]], curves: Sequence[dict[str, Any]],
                     settings: dict[str, Any]) -> dict[str, Any]:
    """Spreads of the best rate and the verdicts.

    Parameters
    ----------
    runs : sequence of dict
        Every training run (``optimizer``, ``parameterization``, ``width``,
        ``exponent``, ``seed``, ``final_loss``).
    curves : sequence of dict
        Every search result (``optimizer``, ``parameterization``, ``width``,
        ``best_exponent``, ``losses``).
    settings : dict
        See :data:`WIDTH`.

    Returns
    -------
    dict
        ``summary`` (``curves`` and ``spreads``: one entry per optimizer and
        parameterization, :func:`_width_entry`) and ``verdicts`` (two per
        optimizer, :func:`_width_verdict`).
    """
    spreads = [_width_entry(runs, curves, settings, optimizer, parameterization)
               for optimizer in settings["optimizers"]
               for parameterization in settings["parameterizations"]]
    return {"summary": {"curves": list(curves), "spreads": spreads},
            "verdicts": [_width_verdict(entry) for entry in spreads]}


def _plot_width(results: dict[str, Any], path: Path) -> None:
    """Final training loss against the learning rate per width.

    Parameters
    ----------
    results : dict
        The stored results.
    path : Path
        The PNG to write.
    """
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


def _section_width(results: dict[str, Any]) -> list[str]:
    """The width section of the report.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        Markdown lines.
    """
    settings = results["config"]
    rows = [[s["optimizer"], s["parameterization"], _best_text(s),
             fmt(s["spread"], "d"), _seed_spreads_text(s), fmt(s["slope"], "+.2f")]
            for s in results["summary"]["spreads"]]
    lines = md_table(["optimizer", "parameterization",
                      "best lr per width (median over seeds)", "log2 spread",
                      "each seed's own spread", "slope of log2 lr vs log2 width"],
                     rows)
    caps = ", ".join(f"{o} {w}" for o, w in settings["max_width"].items())
    lines += ["", f"- Setting: MLP with 2 hidden layers of the given width "
              f"({settings['activation']}; input, hidden and output layer), trained "
              f"{settings['steps']} steps, batch {settings['batch_size']}, on "
              f"{settings['n_samples']} rows of make_synthetic('regression') "
              "(28 features, standardized, the same rows for every seed); loss = "
              "final training MSE / 2 on all rows, median over seeds; muP base "
              f"width {settings['base_width']} (both parameterizations coincide "
              "there).",
              "- The best rate is chosen on the final *training* loss, as muP's "
              "transfer experiments do (the claim is about optimization), unlike "
              "the boosting experiment, which chooses on a validation part.",
              f"- Widths {', '.join(map(str, settings['widths']))}, each optimizer up "
              f"to its cap ({caps}): wider K-FAC and Shampoo runs (a Cholesky "
              "solve, or two eigendecompositions, of width x width per layer per "
              "step) do not fit the 10-minute budget with the search below; 2048 "
              "was left out for the same reason.",
              f"- Learning rates 2^-k: at the narrowest width the search starts "
              "from a fixed exponent per optimizer, at each wider one from the "
              "previous width's best, and it goes on until every exponent within "
              f"{settings['margin']} of the best is evaluated (bracket_best), so a "
              "lower loss two grid steps away is not missed. The plot shows every "
              f"rate tried (losses above {WIDTH_CHART_TOP:g}, twice that of "
              "predicting 0, sit off the chart). A run whose loss is not finite, "
              "or whose K-FAC factors stop being positive definite, counts as "
              "diverged (infinite loss).",
              "- Each seed's own spread: the spread of the exponent of that seed's "
              "lowest loss per width among the rates evaluated (the search "
              "follows the median); it shows how much of a spread is noise.",
              f"- Verdicts: muP's half holds at a log2 spread <= "
              f"{STAYS_PUT_OCTAVES}, standard's at >= {MOVES_OCTAVES}; neither "
              "holds when a width has no finite loss at any rate (the spread is "
              "then undefined) or a best rate sits on the grid's edge.",
              "- K-FAC's muP learning-rate exponents are all 0 (DESIGN 5.3): muP "
              "changes only its output init and damping, so the theory does not "
              "predict that its best rate moves under the standard "
              "parameterization. That half is reported but not counted in the "
              "overall verdict; K-FAC's muP half is."]
    return lines


def _numbers_width(results: dict[str, Any]) -> list[str]:
    """The width numbers the README quotes.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        One line per optimizer and parameterization.
    """
    return [f"{s['optimizer']}, {s['parameterization']}: {_width_evidence(s)}"
            for s in results["summary"]["spreads"]]


# -- 4. catapults in SGD -------------------------------------------------------------
class _Network:
    """A trained network as :func:`accelboost.diagnostics.agop` reads it.

    Parameters
    ----------
    params : list of ndarray
        The network (``_network`` layout).
    activation : str
        Hidden activation.
    """

    def __init__(self, params, activation):
        self.params, self.activation = params, activation

    def input_gradient(self, X):
        """Exact input gradients.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows.

        Returns
        -------
        ndarray of shape (n_samples, 1, n_features)
            The gradient of the output at each row.
        """
        from accelboost.parametric._network import input_gradient

        return input_gradient(self.params, X, self.activation)


def _product_target(seed: int, n: int, dim: int, stream: int):
    """Rows of the low-rank product target and the target's gradient.

    Parameters
    ----------
    seed : int
        Fixes ``U`` (2 orthonormal columns).
    n : int
        Rows.
    dim : int
        Input dimension.
    stream : int
        Which draw of rows (training and test differ).

    Returns
    -------
    X : ndarray of shape (n, dim)
        ``x ~ N(0, I)``.
    y : ndarray of shape (n,)
        ``z1 * z2`` with ``z = U^T x``.
    gradient : callable
        ``gradient(rows)``: the target's gradient at each row.
    """
    basis, _ = np.linalg.qr(np.random.default_rng([seed, 0]).standard_normal(
        (dim, dim)))
    U = basis[:, :2]
    X = np.random.default_rng([seed, stream]).standard_normal((n, dim))
    z = X @ U

    def gradient(rows):
        projected = rows @ U
        return projected[:, 1:2] * U[:, 0] + projected[:, 0:1] * U[:, 1]

    return X, z[:, 0] * z[:, 1], gradient


def _half_mse(params: list[np.ndarray], X: np.ndarray, y: np.ndarray,
              activation: str) -> float:
    """Half the mean squared error of a network.

    Parameters
    ----------
    params : list of ndarray
        The network.
    X, y : ndarray
        Rows and targets.
    activation : str
        Hidden activation.

    Returns
    -------
    float
        ``0.5 * MSE``, +inf when not finite.
    """
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
    """SGD from ``params0`` at one batch size.

    Parameters
    ----------
    params0 : list of ndarray
        The seed's initial network (copied).
    X, y : ndarray
        Training rows.
    X_test, y_test : ndarray
        Fresh test rows.
    true_agop : ndarray of shape (dim, dim)
        The target's AGOP on the test rows.
    lr : float
        SGD's step size.
    batch_size : int
        Rows per step.
    seed : int
        The seed (batches).
    settings : dict
        See :data:`CATAPULTS`.

    Returns
    -------
    dict
        The full training loss before every step and after the last
        (``curve``), ``diverged``; unless it diverged, the catapults in the
        curve, the AGOP alignment with ``true_agop``, the final training and
        test losses.
    """
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
    return {"runs": runs, **_summarize_catapults(runs, settings)}




#: The catapult claim's three parts: measure, the sign of its rank
#: correlation with the batch size that the claim predicts, and the claim.
CATAPULT_CLAIMS = (("catapults", -1, "smaller batches give more catapults"),
                   ("alignment", -1, "smaller batches give higher AGOP alignment"),
                   ("test_loss", +1, "smaller batches give lower test loss"))


def sign_test(rhos: Sequence[float | None], sign: int) -> dict[str, Any]:
    """One-sided sign test of per-seed trends.

    Parameters
    ----------
    rhos : sequence of float or None
        One rank correlation per seed (None: no trend measurable, e.g. a
        constant measure).
    sign : {-1, 1}
        The predicted sign.

    Returns
    -------
    dict
        ``claimed`` and ``opposite`` (seeds with a trend of the predicted
        and of the other sign), ``ties`` (None or 0, left out), ``p``
        (binomial probability of at least ``claimed`` of ``claimed +
        opposite`` seeds under no trend; None with no seed left) and
        ``p_opposite`` (the same for the other sign).
    """
    from scipy.stats import binomtest

    claimed = sum(1 for r in rhos if r is not None and sign * r > 0)
    opposite = sum(1 for r in rhos if r is not None and sign * r < 0)
    n = claimed + opposite

    def p(k):
        return float(binomtest(k, n, 0.5, alternative="greater").pvalue) if n else None

    return {"claimed": claimed, "opposite": opposite, "ties": len(rhos) - n,
            "p": p(claimed), "p_opposite": p(opposite)}


def _seed_trends(runs: Sequence[dict[str, Any]], key: str) -> dict[str, float | None]:
    """Spearman's rho between batch size and a measure, within each seed.

    Parameters
    ----------
    runs : sequence of dict
        Non-diverged SGD runs (``seed``, ``batch_size``, ``key``).
    key : str
        The measure.

    Returns
    -------
    dict of str to float or None
        Per seed, rho over that seed's runs; None when the batch sizes or the
        values do not vary.
    """
    from scipy.stats import spearmanr

    trends = {}
    for seed in sorted({r["seed"] for r in runs}):
        mine = [r for r in runs if r["seed"] == seed]
        x, values = [r["batch_size"] for r in mine], [r[key] for r in mine]
        trends[str(seed)] = (float(spearmanr(x, values).statistic)
                             if len(set(x)) > 1 and len(set(values)) > 1 else None)
    return trends


def _summarize_catapults(runs: Sequence[dict[str, Any]], settings: dict[str, Any]
                         ) -> dict[str, Any]:
    """Medians per batch size, trends blocked by seed, and the verdicts.

    Parameters
    ----------
    runs : sequence of dict
        Every run (:func:`run_catapults`): ``seed``, ``kind`` ("sgd" or
        "reference"), ``batch_size``, ``lr_multiple``, ``diverged`` and, when
        not diverged, ``catapults``, ``alignment``, ``test_loss``,
        ``train_loss``.
    settings : dict
        See :data:`CATAPULTS`.

    Returns
    -------
    dict
        ``summary``: ``rows`` (medians per batch size over the runs that did
        not diverge), ``trends`` (per measure: each seed's Spearman rho and
        the sign test across seeds, :func:`sign_test`), ``diverged_runs`` and
        ``n_runs`` (SGD runs dropped for diverging, and all of them);
        ``verdicts``: one per part of the claim, holding when the sign test
        in the claimed direction has p < :data:`ALPHA`. Runs of one seed share
        its data and initial network, so they are not independent: the test
        counts seeds, not runs. A diverged run is dropped alone; its seed's
        other batch sizes stay.
    """
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
    diverged = [{"seed": r["seed"], "batch_size": r["batch_size"]}
                for r in sgd if r["diverged"]]
    trends, verdicts = {}, []
    for key, sign, text in CATAPULT_CLAIMS:
        by_seed = _seed_trends(ok_runs, key)
        finite = [v for v in by_seed.values() if v is not None]
        trends[key] = {"rho_by_seed": by_seed, "sign": sign,
                       "median_rho": float(np.median(finite)) if finite else None,
                       **sign_test(list(by_seed.values()), sign)}
        test = trends[key]
        verdicts.append(_verdict(
            text, test["p"] is not None and test["p"] < ALPHA,
            _trend_text(key, test, rows, len(diverged), len(sgd)),
            metric=key, median_rho=test["median_rho"], claimed=test["claimed"],
            opposite=test["opposite"], p=test["p"], p_opposite=test["p_opposite"]))
    return {"summary": {"rows": rows, "trends": trends, "diverged_runs": diverged,
                        "n_runs": len(sgd)},
            "verdicts": verdicts}


def _trend_text(key: str, test: dict[str, Any], rows: Sequence[dict[str, Any]],
                n_diverged: int, n_runs: int) -> str:
    """The numbers behind a catapult verdict (also the README's).

    Parameters
    ----------
    key : str
        The measure.
    test : dict
        Its per-seed trends and sign test.
    rows : sequence of dict
        The medians per batch size.
    n_diverged, n_runs : int
        SGD runs dropped for diverging, and all SGD runs.

    Returns
    -------
    str
        Median per-seed rho, seeds of each sign, both p-values, the medians.
    """
    n = test["claimed"] + test["opposite"]
    medians = ", ".join(f"b={r['batch_size']}: {fmt(r[key], '.4g')}"
                        for r in rows if r["kind"] == "sgd")
    return (f"Spearman rho(batch size, {key}) within each seed: median "
            f"{fmt(test['median_rho'], '+.2f')}, sign as claimed in "
            f"{test['claimed']} of {n} seeds (sign test p = {fmt(test['p'], '.2g')}; "
            f"opposite sign in {test['opposite']}, p = "
            f"{fmt(test['p_opposite'], '.2g')}; {test['ties']} seed(s) without a "
            f"trend left out; {n_diverged} of {n_runs} runs dropped as diverged); "
            f"medians {medians}")


def _plot_catapults(results: dict[str, Any], path: Path) -> None:
    """The first seed's loss curves and each measure against the batch size.

    Parameters
    ----------
    results : dict
        The stored results.
    path : Path
        The PNG to write.
    """
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
    reference = next(r for r in results["summary"]["rows"]
                     if r["kind"] == "reference")
    for ax, key, label in zip(axes[0][1:], ("catapults", "alignment", "test_loss"),
                              ("catapults", "AGOP alignment with the target's",
                               "test loss (0.5 MSE)"), strict=True):
        # One thin line per seed: the trend the verdicts test.
        for seed in sorted({r["seed"] for r in ok}):
            mine = sorted((r for r in ok if r["seed"] == seed),
                          key=lambda r: r["batch_size"])
            ax.plot([r["batch_size"] for r in mine], [r[key] for r in mine],
                    color="C0", alpha=0.3, linewidth=0.8, marker=".")
        rows = [r for r in results["summary"]["rows"] if r["kind"] == "sgd"
                and r[key] is not None]
        ax.plot([r["batch_size"] for r in rows], [r[key] for r in rows], "k-o",
                label="median")
        if reference[key] is not None:
            ax.axhline(reference[key], color="grey", linestyle=":",
                       label="full batch below critical lr")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    _save(fig, path)


def _section_catapults(results: dict[str, Any]) -> list[str]:
    """The catapults section of the report.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        Markdown lines.
    """
    settings = results["config"]
    summary = results["summary"]
    rows = [[r["kind"], r["batch_size"], f"{r['lr_multiple']:g}",
             f"{r['diverged']}/{r['n_seeds']}", fmt(r["catapults"], "g"),
             fmt(r["alignment"], ".4f"), fmt(r["test_loss"], ".4g"),
             fmt(r["train_loss"], ".3g")] for r in summary["rows"]]
    lines = md_table(["run", "batch", "lr / critical", "diverged", "catapults",
                      "AGOP alignment", "test loss", "train loss"], rows)
    lines += ["", "Spearman rho(batch size, measure) within each seed (— : no "
              "trend, the measure did not vary):", ""]
    seeds = list(next(iter(summary["trends"].values()))["rho_by_seed"])
    lines += md_table(["measure", *[f"seed {s}" for s in seeds]], [
        [key, *[fmt(test["rho_by_seed"][s], "+.2f") for s in seeds]]
        for key, test in summary["trends"].items()])
    full = next(r for r in summary["rows"] if r["kind"] == "sgd"
                and r["batch_size"] == settings["n_samples"])
    below = next(r for r in summary["rows"] if r["kind"] == "reference")
    dropped = ", ".join(f"seed {d['seed']} batch {d['batch_size']}"
                        for d in summary["diverged_runs"]) or "none"
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
              "not epochs: small batches get no extra updates).",
              "- A diverged run is dropped: that run only, not its batch size (the "
              "other seeds' runs at that batch size stay in the medians, and the "
              "seed's other batch sizes in its trend). Dropped: "
              f"{len(summary['diverged_runs'])} of {summary['n_runs']} SGD runs "
              f"({dropped}).",
              f"- Catapults: detect_catapults(factor={settings['factor']:g}, "
              f"window={settings['window']}) on the full training loss after every "
              "step (not the batch loss, whose sampling noise alone makes factor-2 "
              "spikes at small batches). AGOP: exact input gradients of the trained "
              "network on the test rows; alignment = cosine with U U^T.",
              "- Verdicts: the runs of a seed share its data and initial network, "
              "so they are not independent; the test is blocked by seed. Within "
              "each seed, Spearman's rho between batch size and the measure; "
              "across seeds, a one-sided sign test on the signs of those rhos "
              "(seeds without a trend left out). A part of the claim holds when "
              f"the sign test in the claimed direction gives p < {ALPHA:g}. "
              "Reference row: full batch at "
              f"{settings['reference_lr_factor']:g} x the critical step (no "
              "catapult expected)."]
    return lines


def _numbers_catapults(results: dict[str, Any]) -> list[str]:
    """The catapult numbers the README quotes.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    list of str
        One line per part of the claim: the verdict's evidence.
    """
    return [f"{v['claim']}: {v['evidence']}" for v in results["verdicts"]]


# -- the experiments, the report, the command line -----------------------------------
@dataclasses.dataclass(frozen=True)
class Experiment:
    """One experiment: its claim, settings and the functions that run, draw
    and report it.

    Attributes
    ----------
    name : str
        The subcommand's argument.
    claim : str
        The claim checked, as the report states it.
    settings, quick : dict
        Full and tiny settings.
    run : callable
        ``run(settings, seeds, log)``: ``runs``, ``summary``, ``verdicts``.
    plot : callable
        ``plot(results, path)``: the PNG from the stored results.
    section : callable
        ``section(results)``: the report's Markdown lines.
    numbers : callable
        ``numbers(results)``: the lines the README quotes.
    """

    name: str
    claim: str
    settings: dict[str, Any]
    quick: dict[str, Any]
    run: Callable[..., dict[str, Any]]
    plot: Callable[[dict[str, Any], Path], None]
    section: Callable[[dict[str, Any]], list[str]]
    numbers: Callable[[dict[str, Any]], list[str]]


REGISTRY: dict[str, Experiment] = {e.name: e for e in (
    Experiment("deep-linear", "Deep linear residual networks grown by stacking "
               "(new layer = copy of the last) reach a given training loss in "
               "fewer steps than with zero new layers and than with random ones",
               DEEP_LINEAR, DEEP_LINEAR_QUICK, run_deep_linear, _plot_deep_linear,
               _section_deep_linear, _numbers_deep_linear),
    Experiment("boosting", "Boosting small MLPs: stacking reaches a given held-out "
               "loss in fewer optimizer steps, and a lower loss at equal steps, "
               "than zero stage inits and than random ones",
               BOOSTING, BOOSTING_QUICK, run_boosting, _plot_boosting,
               _section_boosting, _numbers_boosting),
    Experiment("width", "Under muP the best learning rate (on training loss) stays "
               "put as the width grows; under the standard parameterization it "
               "moves, where muP rescales the rate (SGD, Adam, Shampoo; not "
               "K-FAC, whose muP learning-rate exponents are all 0)",
               WIDTH, WIDTH_QUICK, run_width, _plot_width, _section_width,
               _numbers_width),
    Experiment("catapults", "SGD above the critical step: smaller batches give more "
               "catapults, higher AGOP alignment and lower test loss",
               CATAPULTS, CATAPULTS_QUICK, run_catapults, _plot_catapults,
               _section_catapults, _numbers_catapults),
)}


def git_state() -> dict[str, Any] | None:
    """The checkout the results come from.

    Returns
    -------
    dict or None
        ``head`` (the commit) and ``dirty`` (whether ``accelboost/`` or
        ``benchmarks/``, results aside, had uncommitted changes), or None
        outside a git checkout.
    """
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "accelboost", "benchmarks",
             # The results written so far are not the code that made them.
             ":(exclude)benchmarks/results"],
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
         _wall_time(r)] for r in results])
    for r in results:
        commit = r.get("commit") or {}
        where = (f"; accelboost at {commit['head'][:10]}"
                 + (" with uncommitted changes" if commit["dirty"] else "")
                 if commit else "")
        lines += ["", f"## {r['experiment']}: {r['verdict']}", "",
                  f"Claim: {r['claim']}.", "", f"Command: `{r['command']}`; seeds "
                  f"{r['seeds'][0]}-{r['seeds'][-1]}; wall time "
                  f"{_wall_time(r)}{where}.", ""]
        for v in r["verdicts"]:
            lines.append(f"- **{v['verdict']}**{_verdict_tag(v)}: {v['claim']}. "
                         f"{v['evidence']}.")
        lines += ["", *REGISTRY[r["experiment"]].section(r), "",
                  f"![{r['experiment']}]({r['experiment']}.png)"]
    lines += ["", "## Numbers for the README", "",
              "The README quotes these, as printed here (the same strings as the "
              "verdicts and tables above)."]
    for r in results:
        lines += ["", f"**{r['experiment']}: {r['verdict']}** ({len(r['seeds'])} "
                  f"seeds, {_wall_time(r)})", ""]
        lines += [f"- {line}" for line in REGISTRY[r["experiment"]].numbers(r)]
    return "\n".join(lines) + "\n"


def _verdict_tag(verdict: dict[str, Any]) -> str:
    """How the report marks a verdict left out of the overall one.

    Parameters
    ----------
    verdict : dict
        One verdict.

    Returns
    -------
    str
        Empty for a verdict that counts (:func:`counts_toward_overall`).
    """
    if verdict.get("extension"):
        return " (extension, not part of the claim)"
    if not verdict.get("predicted", True):
        return " (not predicted by the theory; not counted in the overall verdict)"
    return ""


def _wall_time(results: dict[str, Any]) -> str:
    """An experiment's wall time as the report prints it.

    Parameters
    ----------
    results : dict
        The stored results.

    Returns
    -------
    str
        Minutes and seconds, marked when the settings were the quick ones.
    """
    return (f"{results['elapsed_s'] / 60:.1f} min ({results['elapsed_s']:.0f} s)"
            + (" (quick)" if results["config"]["quick"] else ""))


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
