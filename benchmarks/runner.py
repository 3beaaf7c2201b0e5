"""``python -m benchmarks``: accelboost against plain gradient boosting.

One command fits accelboost's plain boosting (``zero``) and its accelerated
policies beside scikit-learn's exact GradientBoosting, HistGradientBoosting,
LightGBM and XGBoost, on the same data and tree settings, records the
held-out loss and the wall time after every tree, and writes:

* ``results.json``: every run (data set and size, method, parameters,
  threads, repeat, curve, seconds) with the library versions and the
  machine;
* ``report.md``: per data set and tree size, each method at its best
  learning rate: best held-out loss, trees and wall time to reach plain
  boosting's best held-out loss, and their ratios to plain boosting
  (medians over repeats);
* ``loss_vs_trees.png`` and ``loss_vs_seconds.png``: one panel per data set
  (a row per tree size), one line per method at its best learning rate.

The fitting, timing and held-out curves are those of
:mod:`benchmarks.bench_acceleration` (see its docstring for how each library
is timed); this module chooses what to run, repeats it, and reports.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _peers
from .bench_acceleration import (
    DATASETS,
    METHODS,
    PLAIN,
    Dataset,
    _csv,
    _lr_key,
    _versions,
    exit_status,
    first_reach,
    load_dataset,
    run_one,
    save_json,
    warm_up,
)
from .bench_engine import _positive_int, machine_info

SCHEMA_VERSION = 1
#: Methods of a full run, in table order.
RUNNER_METHODS = (
    "zero", "stacking_nesterov", "stacking_0.9", "agbm", "sklearn_gb", "sklearn",
    "lightgbm", "xgboost",
)
DEFAULTS = {
    "datasets": ("diamonds", "breast_cancer", "digits", "synthetic_regression",
                 "synthetic_binary"),
    "n_samples": 100_000,
    "methods": RUNNER_METHODS,
    "learning_rates": (0.1, 0.3, 1.0),
    "leaves": (2, 8, 31),
    "max_trees": 500,
    "repeats": 3,
    "gb_max_rows": 20_000,
}
#: ``--quick``: about two minutes on two cores (explicit options still apply).
QUICK = {
    "datasets": ("diamonds",),
    "methods": ("zero", "stacking_nesterov", "agbm", "sklearn_gb", "sklearn",
                "lightgbm", "xgboost"),
    "learning_rates": (0.1, 0.3, 1.0),
    "leaves": (2, 31),
    "max_trees": 400,
    "repeats": 1,
    "gb_max_rows": 10_000,
}


# -- running -------------------------------------------------------------------
class ProgressBar:
    """A text progress bar on a stream: redrawn in place on a terminal,
    one line per step otherwise (logs, notebooks)."""

    def __init__(self, total: int, stream: Any, width: int = 30):
        self.total = max(1, total)
        self.done = 0
        self.stream = stream
        self.width = width
        self.started = time.perf_counter()
        self._tty = bool(getattr(stream, "isatty", lambda: False)())

    def step(self, text: str) -> None:
        """Count one finished job and show ``text`` beside the bar."""
        if self.stream is None:
            return
        self.done += 1
        filled = round(self.width * self.done / self.total)
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] "
            f"{self.done}/{self.total} {_clock(elapsed)} elapsed, "
            f"~{_clock(left)} left | {text}"
        )
        end = "\n" if not self._tty or self.done == self.total else ""
        print(("\r\033[K" if self._tty else "") + line, end=end, file=self.stream,
              flush=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s"


def available_methods(methods: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The methods whose library is installed, and why the others are not run.

    Parameters
    ----------
    methods : sequence of str
        Keys of ``METHODS``.

    Returns
    -------
    runnable : list of str
        Methods to run, in the given order.
    skipped : dict
        Method name to the reason it is skipped.
    """
    runnable, skipped = [], {}
    for method in methods:
        ok, reason = _peers.is_available(METHODS[method].library)
        if ok:
            runnable.append(method)
        else:
            skipped[method] = reason
    return runnable, skipped


def _subsample(dataset: Dataset, max_rows: int, seed: int) -> Dataset:
    """The data set with at most ``max_rows`` training rows (held-out kept)."""
    n = dataset.X_train.shape[0]
    if n <= max_rows:
        return dataset
    rows = np.sort(np.random.RandomState(seed).choice(n, max_rows, replace=False))
    return Dataset(
        dataset.name, dataset.task, dataset.X_train[rows], dataset.y_train[rows],
        dataset.X_test, dataset.y_test, dataset.description,
    )


def run(
    *,
    datasets: Sequence[str] = DEFAULTS["datasets"],
    n_samples: int = DEFAULTS["n_samples"],
    methods: Sequence[str] = DEFAULTS["methods"],
    learning_rates: Sequence[float] = DEFAULTS["learning_rates"],
    leaves: Sequence[int] = DEFAULTS["leaves"],
    max_trees: int = DEFAULTS["max_trees"],
    repeats: int = DEFAULTS["repeats"],
    gb_max_rows: int = DEFAULTS["gb_max_rows"],
    n_threads: int = 2,
    seed: int = 0,
    command: str = "",
    progress: Any = None,
) -> dict[str, Any]:
    """Fit every (data set, leaves, method, learning rate, repeat).

    Parameters
    ----------
    datasets : sequence of str
        Names known to :func:`benchmarks.bench_acceleration.load_dataset`.
    n_samples : int
        Training rows of the synthetic data sets.
    methods : sequence of str
        Keys of ``METHODS``; "zero" (plain boosting, the reference) is always
        run, and a method whose library is missing is skipped and reported.
    learning_rates : sequence of float
        Grid each method is tuned on (by its best held-out loss).
    leaves : sequence of int
        Leaves per tree.
    max_trees : int
        Boosting stages per fit.
    repeats : int
        Fits of each configuration; the report gives medians over them.
    gb_max_rows : int
        scikit-learn's exact GradientBoosting is fitted on a random subsample
        of at most this many training rows (the held-out rows are the same).
    n_threads : int, default=2
        Threads of every library (GradientBoosting uses one).
    seed : int, default=0
        Data, subsample and estimator seed.
    command : str, default=""
        The command line, recorded in the results.
    progress : file-like or None, default=None
        Where the progress bar goes (None: silent).

    Returns
    -------
    report : dict
        ``schema_version``, ``command``, ``config``, ``machine``,
        ``versions``, ``skipped`` (method to reason), ``datasets``
        (description and sizes), ``warmup_s``, ``runs`` and ``summary``
        (see :func:`summarize`).
    """
    wanted = [PLAIN] + [m for m in methods if m != PLAIN]
    runnable, skipped = available_methods(wanted)
    config = {
        "datasets": list(datasets), "n_samples": n_samples, "methods": runnable,
        "learning_rates": [float(v) for v in learning_rates],
        "leaves": [int(v) for v in leaves], "max_trees": max_trees,
        "repeats": repeats, "gb_max_rows": gb_max_rows, "n_threads": n_threads,
        "seed": seed,
    }
    report: dict[str, Any] = {
        "benchmark": "runner", "schema_version": SCHEMA_VERSION, "command": command,
        "config": config, "machine": machine_info(), "versions": _versions(),
        "skipped": skipped, "datasets": {}, "warmup_s": {}, "runs": [],
    }
    bar = ProgressBar(
        len(datasets) * len(leaves) * len(runnable) * len(learning_rates) * repeats,
        progress,
    )
    for name in datasets:
        dataset = load_dataset(name, n_samples, seed)
        report["datasets"][name] = dataset.info()
        report["warmup_s"][name] = warm_up(dataset, runnable, leaves, n_threads)
        subsample = _subsample(dataset, gb_max_rows, seed)
        for n_leaves, method, lr, repeat in itertools.product(
            leaves, runnable, learning_rates, range(repeats)
        ):
            gb = METHODS[method].library == "sklearn_gb"
            data = subsample if gb else dataset
            result = run_one(method, data, lr, n_leaves, max_trees, n_threads, seed)
            result.update(
                repeat=repeat, n_train=int(data.X_train.shape[0]),
                n_test=int(data.X_test.shape[0]),
                n_features=int(data.X_train.shape[1]),
                subsampled=data is not dataset, n_threads=n_threads,
                trees_per_stage=METHODS[method].trees_per_stage,
            )
            report["runs"].append(result)
            bar.step(_status(result))
    report["summary"] = summarize(report)
    return report


def _status(result: dict[str, Any]) -> str:
    head = (f"{result['dataset']} {result['leaves']} leaves {result['method']} "
            f"lr={result['learning_rate']:g}")
    if result["status"] != "ok":
        return f"{head}: error {result['reason']}"
    return f"{head}: best {np.min(result['curve']):.5g}, fit {result['fit_s']:.2f} s"


# -- analysis --------------------------------------------------------------------
def summarize(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per data set and tree size: each method at its best learning rate.

    The reference is plain boosting (accelboost's ``zero``) at its best
    learning rate: its best held-out loss, and the trees and seconds it took
    to get there. For every method at its own best learning rate (lowest
    best held-out loss; the median curve over repeats) the summary gives the
    trees and seconds to reach that loss (seconds: median over repeats) and
    the ratios to plain's. Trees are stages times trees per stage (AGBM
    fits two a stage).

    Parameters
    ----------
    report : dict
        ``config`` and ``runs`` of :func:`run`.

    Returns
    -------
    summary : list of dict
        One entry per (data set, leaves): ``dataset``, ``leaves``, ``plain``
        (``loss``, ``trees``, ``seconds``, ``learning_rate``) and ``rows``,
        one per method with ``method``, ``label``, ``status``,
        ``learning_rate``, ``best_loss``, ``best_trees``,
        ``trees_to_plain``, ``trees_ratio``, ``seconds_to_plain``,
        ``seconds_ratio``, ``fit_s`` (median), ``n_restarts``,
        ``subsampled`` and ``n_train``.
    """
    config = report["config"]
    summary = []
    for name in config["datasets"]:
        for leaves in config["leaves"]:
            summary.append(_summarize_one(report, name, leaves))
    return summary


def _median_curves(runs):
    """Median held-out curve and median seconds over the repeats of a run."""
    curves = np.array([np.asarray(r["curve"], dtype=np.float64) for r in runs])
    seconds = np.array([np.asarray(r["seconds"], dtype=np.float64) for r in runs])
    return np.median(curves, axis=0), seconds


def _summarize_one(report, name, leaves):
    config = report["config"]
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    failed: set[str] = set()
    for r in report["runs"]:
        if r["dataset"] != name or int(r["leaves"]) != leaves:
            continue
        if r["status"] != "ok":
            failed.add(r["method"])
            continue
        groups.setdefault((r["method"], _lr_key(r["learning_rate"])), []).append(r)
    best: dict[str, tuple[float, np.ndarray, np.ndarray, list]] = {}
    for (method, lr), runs in groups.items():
        curve, seconds = _median_curves(runs)
        if method not in best or np.min(curve) < np.min(best[method][1]):
            best[method] = (lr, curve, seconds, runs)
    entry: dict[str, Any] = {"dataset": name, "leaves": leaves, "rows": []}
    if PLAIN not in best:
        entry["plain"] = None
        return entry
    lr, curve, seconds, _ = best[PLAIN]
    plain_stage = int(np.argmin(curve)) + 1
    plain = {
        "learning_rate": lr, "loss": float(curve[plain_stage - 1]),
        "trees": plain_stage * METHODS[PLAIN].trees_per_stage,
        "seconds": float(np.median(seconds[:, plain_stage - 1])),
    }
    entry["plain"] = plain
    for method in config["methods"]:
        row: dict[str, Any] = {"method": method, "label": METHODS[method].label}
        if method not in best:
            row["status"] = "error" if method in failed else "missing"
            entry["rows"].append(row)
            continue
        lr, curve, seconds, runs = best[method]
        per_stage = METHODS[method].trees_per_stage
        stages = first_reach(curve, plain["loss"])
        to_seconds = (
            None if stages is None else float(np.median(seconds[:, stages - 1]))
        )
        row.update(
            status="ok", learning_rate=lr, best_loss=float(np.min(curve)),
            best_trees=(int(np.argmin(curve)) + 1) * per_stage,
            trees_to_plain=None if stages is None else stages * per_stage,
            seconds_to_plain=to_seconds,
            fit_s=float(np.median([r["fit_s"] for r in runs])),
            n_restarts=int(np.median([r.get("n_restarts", 0) for r in runs])),
            subsampled=bool(runs[0].get("subsampled", False)),
            n_train=runs[0].get("n_train"),
        )
        row["trees_ratio"] = (
            None if stages is None else row["trees_to_plain"] / plain["trees"]
        )
        row["seconds_ratio"] = (
            None if to_seconds is None or plain["seconds"] <= 0
            else to_seconds / plain["seconds"]
        )
        entry["rows"].append(row)
    return entry


# -- reporting -------------------------------------------------------------------
def format_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: what was run, then a table per data set and
    tree size.

    Parameters
    ----------
    report : dict
        A report of :func:`run`.

    Returns
    -------
    text : str
        Markdown.
    """
    config = report["config"]
    machine = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v)
    lines = [
        "# accelboost against plain gradient boosting",
        "",
        f"Command: `{report.get('command') or 'python -m benchmarks'}`",
        "",
        f"- {config['max_trees']} stages per fit, learning rates "
        f"{', '.join(f'{v:g}' for v in config['learning_rates'])} (each method at "
        f"its best), {config['repeats']} repeat(s) (medians), "
        f"{config['n_threads']} thread(s); scikit-learn's exact GradientBoosting "
        f"is single-threaded and fitted on at most {config['gb_max_rows']:,} "
        "training rows (marked *subsample*).",
        f"- Machine: {machine.get('cpu_model') or machine.get('processor') or '?'}, "
        f"{machine.get('cpu_count', '?')} CPUs; "
        f"{versions}.",
        "- *Trees to plain's best*: trees (stages × trees per stage) until the "
        "held-out loss is at or below plain boosting's best; *× plain*: that "
        "over plain's trees (or seconds) to its own best; — = never reached.",
    ]
    for method, reason in report.get("skipped", {}).items():
        lines.append(f"- {METHODS[method].label} skipped: {reason}.")
    for entry in report["summary"]:
        info = report["datasets"].get(entry["dataset"], {})
        lines += [
            "",
            f"## {entry['dataset']}, {entry['leaves']} leaves",
            "",
            f"{info.get('description', '')}; {info.get('n_train', '?'):,} training "
            f"and {info.get('n_test', '?'):,} held-out rows, held-out "
            f"{info.get('loss', 'loss')}.",
            "",
        ]
        if entry["plain"] is None:
            lines.append("Plain boosting failed: no reference.")
            continue
        lines += _table(entry)
    return "\n".join(lines) + "\n"


def _table(entry):
    header = ("| method | best lr | best held-out loss | at tree | trees to plain's "
              "best | × plain | seconds to plain's best | × plain | fit s | "
              "restarts |")
    lines = [header, "|" + "---|" * 10]
    for row in entry["rows"]:
        label = row["label"] + (" (*subsample*)" if row.get("subsampled") else "")
        if row["status"] != "ok":
            lines.append(f"| {label} | {row['status']} |" + " |" * 8)
            continue
        cells = [
            label, f"{row['learning_rate']:g}", f"{row['best_loss']:.5g}",
            str(row["best_trees"]), _opt(row["trees_to_plain"], "d"),
            _opt(row["trees_ratio"], ".2f", "×"), _opt(row["seconds_to_plain"], ".2f"),
            _opt(row["seconds_ratio"], ".2f", "×"), f"{row['fit_s']:.2f}",
            str(row["n_restarts"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _opt(value, spec, suffix=""):
    return "—" if value is None else format(value, spec) + suffix


def plot_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Held-out loss against trees and against seconds, as two PNG files.

    Parameters
    ----------
    report : dict
        A report of :func:`run`.
    out_dir : Path
        Directory for ``loss_vs_trees.png`` and ``loss_vs_seconds.png``.

    Returns
    -------
    paths : list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = report["config"]
    names, leaves = config["datasets"], config["leaves"]
    entries = {(e["dataset"], e["leaves"]): e for e in report["summary"]}
    paths = []
    for axis in ("trees", "seconds"):
        fig, axes = plt.subplots(
            len(leaves), len(names), figsize=(5 * len(names), 3.6 * len(leaves)),
            squeeze=False,
        )
        for i, n_leaves in enumerate(leaves):
            for j, name in enumerate(names):
                _plot_panel(axes[i, j], report, entries[(name, n_leaves)], axis)
        fig.tight_layout()
        path = out_dir / f"loss_vs_{axis}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def _plot_panel(ax, report, entry, axis):
    info = report["datasets"].get(entry["dataset"], {})
    for row in entry["rows"]:
        if row["status"] != "ok":
            continue
        runs = [
            r for r in report["runs"]
            if r["dataset"] == entry["dataset"] and r["leaves"] == entry["leaves"]
            and r["method"] == row["method"] and r["status"] == "ok"
            and _lr_key(r["learning_rate"]) == row["learning_rate"]
        ]
        curve, seconds = _median_curves(runs)
        per_stage = METHODS[row["method"]].trees_per_stage
        x = (np.arange(1, len(curve) + 1) * per_stage if axis == "trees"
             else np.median(seconds, axis=0))
        ax.plot(x, curve, label=f"{row['label']} (lr {row['learning_rate']:g})")
    if entry["plain"] is not None:
        ax.axhline(entry["plain"]["loss"], color="grey", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    if axis == "seconds":
        ax.set_xscale("log")
    ax.set_xlabel("trees" if axis == "trees" else "wall time since fit start (s)")
    ax.set_ylabel(f"held-out {info.get('loss', 'loss')}")
    ax.set_title(f"{entry['dataset']}, {entry['leaves']} leaves")
    ax.legend(fontsize=7)


# -- command line ----------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="accelboost (plain and accelerated) against scikit-learn's "
        "GradientBoosting and HistGradientBoosting, LightGBM and XGBoost: "
        "held-out loss per tree and wall time.",
        epilog="Speed benchmarks are subcommands: 'python -m benchmarks "
        "contention' (fit time with one core busy) and 'python -m benchmarks "
        "stages' (long fits; stumps against HistGradientBoosting); each takes "
        "--help.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="about two minutes: diamonds, 400 stages, leaves 2 "
                        "and 31, one repeat (explicit options still apply)")
    parser.add_argument("--datasets", type=_csv(str, DATASETS), default=None,
                        help="comma-separated, from " + ",".join(DATASETS)
                        + " (default: all)")
    parser.add_argument("--n-samples", type=_positive_int, default=None,
                        help="training rows of the synthetic data sets (default: "
                        f"{DEFAULTS['n_samples']:,})")
    parser.add_argument("--methods", type=_csv(str, tuple(METHODS)), default=None,
                        help="comma-separated, from " + ",".join(METHODS)
                        + " (default: " + ",".join(RUNNER_METHODS)
                        + "); zero is always run")
    parser.add_argument("--learning-rates", type=_csv(float), default=None,
                        help="comma-separated grid (default: 0.1,0.3,1.0)")
    parser.add_argument("--leaves", type=_csv(int), default=None,
                        help="comma-separated leaves per tree (default: 2,8,31)")
    parser.add_argument("--max-trees", type=_positive_int, default=None,
                        help=f"stages per fit (default: {DEFAULTS['max_trees']})")
    parser.add_argument("--repeats", type=_positive_int, default=None,
                        help=f"fits per configuration (default: "
                        f"{DEFAULTS['repeats']})")
    parser.add_argument("--gb-max-rows", type=_positive_int, default=None,
                        help="training rows of exact GradientBoosting at most "
                        f"(default: {DEFAULTS['gb_max_rows']:,})")
    parser.add_argument("--n-threads", type=_positive_int, default=2,
                        help="threads per library (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--out", type=Path, default=Path("benchmark_results"),
                        help="directory for results.json, report.md and the "
                        "plots (default: %(default)s)")
    parser.add_argument("--no-plots", action="store_true",
                        help="skip the PNG plots (no matplotlib needed)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 when every fit succeeded, 1 otherwise.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    preset = {**DEFAULTS, **(QUICK if args.quick else {})}
    settings = {
        key: getattr(args, key) if getattr(args, key) is not None else preset[key]
        for key in DEFAULTS
    }
    if any(v < 2 for v in settings["leaves"]):
        parser.error("--leaves must be at least 2")
    if any(v <= 0 for v in settings["learning_rates"]):
        parser.error("--learning-rates must be positive")
    command = "python -m benchmarks " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    for method, reason in available_methods(settings["methods"])[1].items():
        print(f"{METHODS[method].label}: {reason}; skipped.", file=sys.stderr)
    report = run(**settings, n_threads=args.n_threads, seed=args.seed,
                 command=command.strip(), progress=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    save_json(report, args.out / "results.json")
    text = format_markdown(report)
    (args.out / "report.md").write_text(text)
    print(text)
    written = [args.out / "results.json", args.out / "report.md"]
    if not args.no_plots:
        written += plot_report(report, args.out)
    print("written: " + ", ".join(str(p) for p in written))
    return exit_status(report["runs"])

