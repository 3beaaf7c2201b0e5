"""``python -m benchmarks compare``: accelboost against plain gradient boosting.

Fits accelboost's plain boosting (``zero``) and accelerated policies beside
scikit-learn's exact GradientBoosting (single-threaded, at most
``--gb-max-rows`` training rows), HistGradientBoosting, LightGBM and XGBoost
with the same trees (:mod:`._peers`; a missing peer is skipped), records the
held-out loss and wall time after every tree (:func:`._peers.fit_curve`),
tunes each method's learning rate on the grid and writes to ``--out``
``results.json`` (every run, versions, machine), ``report.md`` (per data set
and tree size, each method at its best rate: best loss, trees and seconds to
plain boosting's best and their ratios to plain's; then the conclusion in
words) and ``loss_vs_trees.png``, ``loss_vs_seconds.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _report
from ._data import load_dataset
from ._peers import METHODS, PLAIN, available_methods, fit_curve, warm_up
from ._report import csv, fmt, positive_int

SCHEMA_VERSION = 1
DATASETS = ("diamonds", "breast_cancer", "digits", "synthetic_regression",
            "synthetic_binary")
DEFAULTS = {
    "datasets": DATASETS, "n_samples": 100_000,
    "methods": ("zero", "stacking_nesterov", "stacking_0.9", "agbm", "sklearn_gb",
                "sklearn", "lightgbm", "xgboost"),
    "learning_rates": (0.1, 0.3, 1.0), "leaves": (2, 8, 31), "max_trees": 500,
    "repeats": 3, "gb_max_rows": 20_000,
}
#: ``--quick``: about 80 s on two cores (explicit options still apply).
QUICK = {
    "datasets": ("diamonds",), "leaves": (2, 31), "max_trees": 400, "repeats": 1,
    "methods": ("zero", "stacking_nesterov", "agbm", "sklearn_gb", "sklearn",
                "lightgbm", "xgboost"),
    "gb_max_rows": 10_000,
}


# -- running ------------------------------------------------------------------------
def run(*, datasets=DEFAULTS["datasets"], n_samples=DEFAULTS["n_samples"],
        methods=DEFAULTS["methods"], learning_rates=DEFAULTS["learning_rates"],
        leaves=DEFAULTS["leaves"], max_trees=DEFAULTS["max_trees"],
        repeats=DEFAULTS["repeats"], gb_max_rows=DEFAULTS["gb_max_rows"],
        n_threads: int = 2, seed: int = 0, command: str = "",
        log: Any = None) -> dict[str, Any]:
    """Fit every (data set, leaves, method, learning rate, repeat); ``zero``
    (plain boosting, the reference) always, a method whose library is missing
    never (listed in ``skipped``). Returns the report, with ``datasets``,
    ``warmup_s``, ``runs`` and ``summary`` (:func:`summarize`)."""
    runnable, skipped = available_methods([PLAIN] + [m for m in methods
                                                     if m != PLAIN])
    config = {"datasets": list(datasets), "n_samples": n_samples,
              "methods": runnable, "learning_rates": [float(v) for v in
                                                      learning_rates],
              "leaves": [int(v) for v in leaves], "max_trees": max_trees,
              "repeats": repeats, "gb_max_rows": gb_max_rows,
              "n_threads": n_threads, "seed": seed}
    report = _report.new_report("compare", SCHEMA_VERSION, command, config,
                                skipped=skipped, datasets={}, warmup_s={})
    started = time.perf_counter()
    progress = _report.Progress(len(datasets) * len(leaves) * len(runnable)
                                * len(learning_rates) * repeats, log)
    for name in datasets:
        data = load_dataset(name, n_samples=n_samples, seed=seed)
        report["datasets"][name] = data.info()
        report["warmup_s"][name] = warm_up(data, runnable, leaves, n_threads)
        subsample = _subsample(data, gb_max_rows, seed)
        for n_leaves, method, lr, repeat in itertools.product(
                leaves, runnable, learning_rates, range(repeats)):
            part = subsample if METHODS[method].library == "sklearn_gb" else data
            result = fit_curve(method, part, lr, n_leaves, max_trees, n_threads, seed)
            result.update(repeat=repeat, n_train=len(part.y_train),
                          n_test=len(part.y_test),
                          n_features=int(part.X_train.shape[1]),
                          subsampled=part is not data, n_threads=n_threads,
                          trees_per_stage=METHODS[method].trees_per_stage)
            report["runs"].append(result)
            head = f"{name} {n_leaves} leaves {method} lr={lr:g}"
            progress.step(f"{head}: error {result['reason']}" if result["status"]
                          != "ok" else f"{head}: best {np.min(result['curve']):.5g}, "
                          f"fit {result['fit_s']:.2f} s")
    report["summary"] = summarize(report)
    report["elapsed_s"] = time.perf_counter() - started
    return report


def _subsample(data, max_rows, seed):
    """The data set with at most ``max_rows`` training rows (held-out kept)."""
    n = len(data.y_train)
    if n <= max_rows:
        return data
    rows = np.sort(np.random.RandomState(seed).choice(n, max_rows, replace=False))
    return dataclasses.replace(data, X_train=data.X_train[rows],
                               y_train=data.y_train[rows])


# -- analysis -----------------------------------------------------------------------
def _median_curves(runs):
    """Median held-out curve over the repeats, and every repeat's seconds."""
    curves = np.array([[np.inf if v is None else v for v in r["curve"]]  # JSON null
                       for r in runs], dtype=np.float64)
    seconds = np.array([np.asarray(r["seconds"], dtype=np.float64) for r in runs])
    return np.median(curves, axis=0), seconds


def summarize(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per data set and tree size: ``plain``, plain boosting at its best
    learning rate (its best held-out ``loss``, the ``trees`` and ``seconds``
    to it; None when plain failed), and ``rows``, each method at its own best
    rate (lowest loss of the median curve over repeats): ``best_loss``, the
    trees (stages times trees per stage) and seconds, medians over repeats, to
    plain's best and their ratios to plain's, ``fit_s``, ``n_restarts``."""
    return [_summarize_one(report, name, leaves)
            for name in report["config"]["datasets"]
            for leaves in report["config"]["leaves"]]


def _best_runs(report, name, leaves):
    """Per method: (learning rate, median curve, seconds, runs) at its best
    rate; and the methods with a failed run."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    failed = set()
    for r in report["runs"]:
        if r["dataset"] == name and int(r["leaves"]) == leaves:
            if r["status"] != "ok":
                failed.add(r["method"])
            else:
                groups.setdefault((r["method"], _report.rate_key(r["learning_rate"])),
                                  []).append(r)
    best: dict[str, tuple] = {}
    for (method, lr), runs in groups.items():
        curve, seconds = _median_curves(runs)
        if method not in best or np.min(curve) < np.min(best[method][1]):
            best[method] = (lr, curve, seconds, runs)
    return best, failed


def _summarize_one(report, name, leaves):
    best, failed = _best_runs(report, name, leaves)
    entry: dict[str, Any] = {"dataset": name, "leaves": leaves, "rows": [],
                             "plain": None}
    if PLAIN not in best:
        return entry
    lr, curve, seconds, _ = best[PLAIN]
    stage = int(np.argmin(curve)) + 1
    plain = entry["plain"] = {
        "learning_rate": lr, "loss": float(curve[stage - 1]),
        "trees": stage * METHODS[PLAIN].trees_per_stage,
        "seconds": float(np.median(seconds[:, stage - 1]))}
    for method in report["config"]["methods"]:
        row: dict[str, Any] = {"method": method, "label": METHODS[method].label}
        entry["rows"].append(row)
        if method not in best:
            row["status"] = "error" if method in failed else "missing"
            continue
        lr, curve, seconds, runs = best[method]
        per_stage = METHODS[method].trees_per_stage
        stages = _report.first_reach(curve, plain["loss"])
        to_seconds = None if stages is None else float(np.median(
            seconds[:, stages - 1]))
        row.update(
            status="ok", learning_rate=lr, best_loss=float(np.min(curve)),
            best_trees=(int(np.argmin(curve)) + 1) * per_stage,
            trees_to_plain=None if stages is None else stages * per_stage,
            seconds_to_plain=to_seconds,
            fit_s=float(np.median([r["fit_s"] for r in runs])),
            n_restarts=int(np.median([r.get("n_restarts", 0) for r in runs])),
            subsampled=bool(runs[0].get("subsampled", False)),
            n_train=runs[0].get("n_train"))
        row["trees_ratio"] = _report.ratio(row["trees_to_plain"], plain["trees"])
        row["seconds_ratio"] = _report.ratio(to_seconds, plain["seconds"])
    return entry


def conclusion(summary: Sequence[dict[str, Any]]) -> list[str]:
    """The conclusion in words, from the summary: per data set and tree size,
    whether an accelerated method reached plain boosting's best held-out loss
    in fewer trees (acceleration paid) or not, and the fastest library."""
    lines, paid, unpaid = ["## Conclusion", ""], [], []
    for entry in summary:
        where = f"{entry['dataset']}, {entry['leaves']} leaves"
        plain = entry["plain"]
        ok = [r for r in entry["rows"] if r["status"] == "ok"]
        accelerated = [r for r in ok if METHODS[r["method"]].accelerated]
        if plain is None or not accelerated:
            lines.append(f"- **{where}**: nothing to compare (plain boosting or "
                         "every accelerated method failed or was not run).")
            continue
        faster = [r for r in accelerated if (r["trees_ratio"] or 2.0) < 1.0]
        if faster:
            r = min(faster, key=lambda r: r["trees_ratio"])
            paid.append(where)
            text = (f"acceleration paid: {r['label']} reached plain boosting's best "
                    f"held-out loss in {r['trees_to_plain']} trees against "
                    f"{plain['trees']} ({r['trees_ratio']:.2f}×, "
                    f"{fmt(r['seconds_ratio'], '.2f', '×')} the seconds), and its "
                    f"own best is {_relative(r['best_loss'], plain['loss'])}")
        else:
            r = min(accelerated, key=lambda r: r["best_loss"])
            unpaid.append(where)
            reach = ("reached it only after as many trees or more" if r[
                "trees_to_plain"] else "never reached it")
            text = (f"acceleration did not pay: no accelerated method reached "
                    f"plain boosting's best held-out loss in fewer trees; the "
                    f"closest, {r['label']}, {reach}, its best "
                    f"{_relative(r['best_loss'], plain['loss'])}")
        timed = [x for x in ok if x["seconds_to_plain"] is not None]
        fastest = min(timed, key=lambda x: x["seconds_to_plain"]) if timed else None
        if fastest is not None and fastest["method"] == PLAIN:
            text += (f". Plain accelboost was the fastest to that loss "
                     f"({plain['seconds']:.2f} s)")
        elif fastest is not None:
            text += (f". Fastest to plain's best: {fastest['label']}, "
                     f"{fastest['seconds_to_plain']:.2f} s against plain "
                     f"accelboost's {plain['seconds']:.2f} s "
                     f"({fastest['seconds_ratio']:.2f}×)")
        lines.append(f"- **{where}**: {text}.")
    lines += ["", f"Acceleration paid in {len(paid)} of {len(paid) + len(unpaid)} "
              "cases" + (f" ({'; '.join(paid)})" if paid else "")
              + (f"; it did not in {'; '.join(unpaid)}." if unpaid else ".")]
    return lines


def _relative(loss, reference):
    change = 100 * (loss / reference - 1) if reference > 0 else 0.0
    return (f"{abs(change):.1f}% {'below' if change < 0 else 'above'} plain's "
            f"({loss:.5g} against {reference:.5g})")


# -- report -------------------------------------------------------------------------
def _settings(report: dict[str, Any]) -> list[str]:
    """The report's notes on what was run and how to read the tables."""
    config = report["config"]
    return [
        f"{config['max_trees']} stages per fit, learning rates "
        f"{', '.join(f'{v:g}' for v in config['learning_rates'])} (each method at "
        f"its best), {config['repeats']} repeat(s) (medians), "
        f"{config['n_threads']} thread(s); scikit-learn's exact GradientBoosting "
        f"is single-threaded and fitted on at most {config['gb_max_rows']:,} "
        "training rows (marked *subsample*).",
        "*Trees to plain's best*: trees (stages × trees per stage) until the "
        "held-out loss is at or below plain boosting's best; *× plain*: that "
        "over plain's trees (or seconds) to its own best; — = never reached. "
        "Seconds are measured after every stage through each library's "
        "callbacks, and interpolated for sklearn HGB (no callbacks: a line from "
        "a one-tree fit to the full fit).",
    ] + [f"{METHODS[m].label} skipped: {why}." for m, why in
         report.get("skipped", {}).items()] + _busy_warning(report["runs"])


def _busy_warning(runs) -> list[str]:
    busy = [r for r in runs if (r.get("others_cpu_share") or 0) > _report.BUSY_SHARE]
    return [f"**Warning: other processes used more than "
            f"{100 * _report.BUSY_SHARE:.0f}% of the CPUs during {len(busy)} of "
            f"{len(runs)} fits: their seconds are unreliable (losses and trees "
            "are not affected).**"] if busy else []


def format_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: settings, a table per data set and tree size,
    and the conclusion."""
    lines = _report.header("accelboost against plain gradient boosting", report,
                           _settings(report))
    headers = ["method", "best lr", "best held-out loss", "at tree",
               "trees to plain's best", "× plain", "seconds to plain's best",
               "× plain", "fit s", "restarts"]
    for entry in report["summary"]:
        info = report["datasets"].get(entry["dataset"], {})
        lines += ["", f"## {entry['dataset']}, {entry['leaves']} leaves", "",
                  f"{info.get('description', '')}; {info.get('n_train', 0):,} "
                  f"training and {info.get('n_test', 0):,} held-out rows, "
                  f"held-out {info.get('loss', 'loss')}.", ""]
        if entry["plain"] is None:
            lines.append("Plain boosting failed: no reference.")
            continue
        rows = []
        for row in entry["rows"]:
            label = row["label"] + (" (*subsample*)" if row.get("subsampled") else "")
            if row["status"] != "ok":
                rows.append([label, row["status"]] + [""] * 8)
                continue
            rows.append([label, f"{row['learning_rate']:g}", f"{row['best_loss']:.5g}",
                         row["best_trees"], fmt(row["trees_to_plain"], "d"),
                         fmt(row["trees_ratio"], ".2f", "×"),
                         fmt(row["seconds_to_plain"]),
                         fmt(row["seconds_ratio"], ".2f", "×"),
                         f"{row['fit_s']:.2f}", row["n_restarts"]])
        lines += _report.table(headers, rows)
    return "\n".join(lines + [""] + conclusion(report["summary"])) + "\n"


def plot_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """``loss_vs_trees.png`` and ``loss_vs_seconds.png``: a panel per data set
    and tree size, a line per method at its best learning rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, leaves = report["config"]["datasets"], report["config"]["leaves"]
    entries = {(e["dataset"], e["leaves"]): e for e in report["summary"]}
    paths = []
    for axis in ("trees", "seconds"):
        fig, axes = plt.subplots(len(leaves), len(names), squeeze=False,
                                 figsize=(5 * len(names), 3.6 * len(leaves)))
        for (i, n_leaves), (j, name) in itertools.product(enumerate(leaves),
                                                          enumerate(names)):
            _plot_panel(axes[i, j], report, entries[(name, n_leaves)], axis)
        fig.tight_layout()
        paths.append(out_dir / f"loss_vs_{axis}.png")
        fig.savefig(paths[-1], dpi=90)
        plt.close(fig)
    return paths


def _plot_panel(ax, report, entry, axis):
    best, _ = _best_runs(report, entry["dataset"], entry["leaves"])
    for row in entry["rows"]:
        if row["status"] != "ok":
            continue
        lr, curve, seconds, _ = best[row["method"]]
        per_stage = METHODS[row["method"]].trees_per_stage
        x = (np.arange(1, len(curve) + 1) * per_stage if axis == "trees"
             else np.median(seconds, axis=0))
        ax.plot(x, curve, label=f"{row['label']} (lr {lr:g})")
    if entry["plain"] is not None:
        ax.axhline(entry["plain"]["loss"], color="grey", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    if axis == "seconds":
        ax.set_xscale("log")
    ax.set_xlabel("trees" if axis == "trees" else "wall time since fit start (s)")
    loss = report["datasets"].get(entry["dataset"], {}).get("loss", "loss")
    ax.set_ylabel(f"held-out {loss}")
    ax.set_title(f"{entry['dataset']}, {entry['leaves']} leaves")
    ax.legend(fontsize=7)


# -- command line -------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks compare``."""
    parser.add_argument("--quick", action="store_true",
                        help="about 80 s: diamonds, 400 stages, leaves 2 and 31, "
                        "one repeat (explicit options still apply)")
    options = {  # what each setting of DEFAULTS is, and how it is parsed
        "datasets": ("data sets", csv(str, DATASETS)),
        "n_samples": ("training rows of the synthetic data sets", positive_int),
        "methods": ("methods, of " + ",".join(METHODS) + "; zero is always run",
                    csv(str, tuple(METHODS))),
        "learning_rates": ("the learning-rate grid", csv(float)),
        "leaves": ("leaves per tree", csv(int)),
        "max_trees": ("stages per fit", positive_int),
        "repeats": ("fits per configuration", positive_int),
        "gb_max_rows": ("training rows of exact GradientBoosting at most",
                        positive_int)}
    for key, (what, kind) in options.items():
        default = DEFAULTS[key]
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument("--" + key.replace("_", "-"), type=kind, default=None,
                            help=f"{what} (default: {shown})")
    parser.add_argument("--n-threads", type=positive_int, default=2,
                        help="threads per library (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--out", type=Path, default=Path("benchmark_results"),
                        help="directory for results.json, report.md and the "
                        "plots (default: %(default)s)")
    parser.add_argument("--from-json", metavar="PATH", type=Path, default=None,
                        help="run nothing: write report.md and the plots of saved "
                        "results again, beside them")
    parser.add_argument("--no-plots", action="store_true",
                        help="skip the PNG plots (no matplotlib needed)")


def main(args: argparse.Namespace, command: str) -> int:
    """Run the comparison; 0 when every fit succeeded, 1 otherwise."""
    preset = {**DEFAULTS, **(QUICK if args.quick else {})}
    settings = {key: preset[key] if getattr(args, key) is None else getattr(args, key)
                for key in DEFAULTS}
    if any(v < 2 for v in settings["leaves"]):
        raise SystemExit("--leaves must be at least 2")
    if any(v <= 0 for v in settings["learning_rates"]):
        raise SystemExit("--learning-rates must be positive")
    if args.from_json is not None:  # render saved results again
        report, args.out = json.loads(args.from_json.read_text()), args.from_json.parent
        report["summary"] = summarize(report)
    else:
        for method, reason in available_methods(settings["methods"])[1].items():
            print(f"{METHODS[method].label}: {reason}; skipped.", file=sys.stderr)
        report = run(**settings, n_threads=args.n_threads, seed=args.seed,
                     command=command, log=sys.stderr)
        _report.save_json(report, args.out / "results.json")
    text = format_markdown(report)
    (args.out / "report.md").write_text(text)
    print(text)
    written = [args.out / "report.md"] + ([] if args.from_json else [
        args.out / "results.json"])
    if not args.no_plots:
        written += plot_report(report, args.out)
    print("written: " + ", ".join(str(p) for p in written))
    return _report.exit_status(report["runs"],
                               ("dataset", "leaves", "method", "learning_rate"))
