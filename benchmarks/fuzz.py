"""``python -m benchmarks fuzz``: random fits against the properties every fit
must have (:mod:`accelboost._fuzz`), in child processes.

Case ``i`` of seed ``s`` is drawn from ``numpy.random.default_rng([s, i])``, so a
campaign can be run piece by piece (``--start``) and resumed: each case's
outcome is a line of ``cases-seed{s}.jsonl`` in ``--out``, and cases already there
are skipped. Worker processes run the cases; a worker that dies (a segfault)
or exceeds ``--timeout`` on a case is recorded as a crash or a hang, replaced,
and the campaign goes on. Every failure is printed with the Python code that
reproduces it and a ``--replay`` command.

Outcomes: ``ok`` (every property held), ``rejected`` (a clean ValueError or
TypeError; the report groups their messages, to be read), ``failed`` (a
property broke), ``crashed``, ``hung``.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import multiprocessing
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import numpy as np

from . import _report
from ._report import positive_int

SCHEMA_VERSION = 1
OUT = Path(__file__).resolve().parent / "results" / "fuzz"
REPORT_NAME = "report.md"
#: The function a worker runs on each case.
CHECK = "accelboost._fuzz.properties:check_case"
#: Seconds a worker may take to start (imports, Numba's cache or compilation).
START_TIMEOUT = 900.0
#: Cases a worker runs before it is ready (they load every kernel).
WARMUP_CASES = 20
WARMUP_SEED = 2**32 - 1
BAD = ("failed", "crashed", "hung")


def draw_case(seed: int, index: int):
    """Case ``index`` of the campaign of ``seed``."""
    from accelboost._fuzz.cases import Case

    return Case.draw(np.random.default_rng([seed, index]))


# -- workers ----------------------------------------------------------------------
def _serve(conn, check: str) -> None:
    """A worker: run ``check`` on each case (JSON) received, reply its outcome.

    Numba's cache is loaded (or compiled) before "ready", on a few fixed
    cases, so that it does not count against the first case's timeout; an
    exception of the harness itself is a failure with its traceback."""
    import signal
    import traceback

    from accelboost._fuzz.cases import Case

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    module, name = check.split(":")
    run = getattr(importlib.import_module(module), name)
    for index in range(WARMUP_CASES):
        run(draw_case(WARMUP_SEED, index))
    conn.send("ready")
    while (text := conn.recv()) is not None:
        tic = time.perf_counter()
        try:
            outcome = asdict(run(Case.from_json(text)))
        except Exception:  # noqa: BLE001 - recorded, the campaign goes on
            outcome = {"status": "failed", "error": "", "violations": [
                "harness: " + traceback.format_exc()]}
        conn.send({**outcome, "seconds": time.perf_counter() - tic})


class Worker:
    """A child process that runs cases one at a time."""

    def __init__(self, check: str):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, check),
                                       daemon=True)
        self.process.start()
        child.close()
        if not self.conn.poll(START_TIMEOUT) or self.conn.recv() != "ready":
            self.stop()
            raise RuntimeError(f"a fuzz worker did not start within "
                               f"{START_TIMEOUT:.0f} s")
        self.job: tuple[int, Any] | None = None
        self.deadline = float("inf")

    def submit(self, index: int, case, timeout: float) -> None:
        """Start case ``index`` (a worker that died idle is seen at collect)."""
        self.job = (index, case)
        self.deadline = time.monotonic() + timeout
        try:
            self.conn.send(case.to_json())
        except OSError:
            self.deadline = time.monotonic()

    def collect(self) -> dict[str, Any]:
        """The outcome of the submitted case (crashed if the worker died)."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(5)
            return {"status": "crashed", "violations": [
                f"crash: the worker process died (exit code "
                f"{self.process.exitcode})"]}

    def stop(self) -> None:
        """End the process (killed if it does not exit at once)."""
        if self.process.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_cases(indices: Iterable[int], *, seed: int, jobs: int = 1,
              timeout: float = 120.0, seconds: float | None = None,
              check: str = CHECK, on_result: Callable | None = None,
              draw: Callable[[int], Any] | None = None,
              log: Any = sys.stderr) -> list[dict[str, Any]]:
    """Run the cases ``indices`` of ``seed`` (or ``draw(index)``, when given)
    on ``jobs`` workers; stop issuing new cases after ``seconds``. Each result
    (``index``, ``status``, ``seconds``, ``error``, ``violations`` and, unless
    ok or rejected, the ``case`` as JSON) is passed to ``on_result`` as it
    comes."""
    draw = draw or (lambda index: draw_case(seed, index))
    total = len(indices) if hasattr(indices, "__len__") else None
    pending, started = iter(indices), time.monotonic()
    workers = [Worker(check) for _ in range(max(1, min(jobs, total or jobs)))]
    results = []
    try:
        while True:
            out_of_time = seconds is not None and time.monotonic() - started > seconds
            for worker in workers:
                index = None if out_of_time or worker.job else next(pending, None)
                if index is not None:
                    worker.submit(index, draw(index), timeout)
            busy = [w for w in workers if w.job is not None]
            if not busy:
                break
            nearest = min(w.deadline for w in busy) - time.monotonic()
            ready = wait([w.conn for w in busy], timeout=max(0.0, nearest))
            for k, worker in enumerate(workers):
                if worker.job is None:
                    continue
                # poll, not ``ready``: a replacement's start may have taken
                # long enough for this worker to finish since the wait.
                if worker.conn in ready or _answered(worker):
                    result = worker.collect()
                elif time.monotonic() >= worker.deadline:
                    result = {"status": "hung", "violations": [
                        f"hang: no outcome within {timeout:g} s"]}
                else:
                    continue
                (index, case), worker.job = worker.job, None
                result = {"index": index, **result}
                if result["status"] in BAD:
                    result["case"] = case.to_json()
                if result["status"] in ("crashed", "hung"):
                    worker.stop()
                    workers[k] = Worker(check)
                results.append(result)
                if on_result is not None:
                    on_result(result)
                _log_progress(results, result, total, started, log)
    finally:
        for worker in workers:
            worker.stop()
    return results


def _answered(worker: Worker) -> bool:
    """Whether the worker has sent something (or died)."""
    try:
        return worker.conn.poll(0) or not worker.process.is_alive()
    except OSError:
        return True


def _log_progress(results, result, total, started, log) -> None:
    """A line for every bad case and every 500th case."""
    if log is None or not (result["status"] in BAD or len(results) % 500 == 0
                           or len(results) == total):
        return
    elapsed, total = time.monotonic() - started, total or "?"
    text = (f"case {result['index']}: {result['status']}: "
            f"{result['violations'][0][:300]}" if result["status"] in BAD
            else _counts_line(results))
    print(f"[{len(results)}/{total}] {elapsed:.0f} s | {text}", file=log, flush=True)


def _counts_line(results) -> str:
    counts = collections.Counter(r["status"] for r in results)
    return ", ".join(f"{counts[s]} {s}" for s in ("ok", "rejected", *BAD))


# -- the campaign file and its report ---------------------------------------------
def results_path(out: Path, seed: int) -> Path:
    """The campaign file of ``seed`` in ``out``."""
    return out / f"cases-seed{seed}.jsonl"


def read_results(path: Path) -> list[dict[str, Any]]:
    """The outcomes recorded in a campaign file (none if it does not exist)."""
    if not path.exists():
        return []
    results = []
    for line in path.read_text().splitlines():
        try:
            results.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill: rerun it
            continue
    return results


def summarize(results) -> dict[str, Any]:
    """Counts by outcome, violations by property, rejections by message."""
    statuses = collections.Counter(r["status"] for r in results)
    properties = collections.Counter(  # cases per broken property
        prop for r in results if r["status"] in BAD
        for prop in {v.split(":")[0] for v in r.get("violations", [])})
    rejections = collections.Counter(
        _message_kind(r.get("error", "")) for r in results
        if r["status"] == "rejected")
    silent_nan = sum(
        any(v.startswith("finite_model:") for v in r.get("violations", []))
        for r in results if r["status"] == "failed")
    seconds = [r["seconds"] for r in results if "seconds" in r]
    return {"n_cases": len(results), "statuses": dict(statuses),
            "silent_nan": silent_nan, "properties": dict(properties),
            "rejections": dict(rejections.most_common()),
            "median_case_s": _report.median(seconds),
            "total_case_s": float(np.sum(seconds)) if seconds else 0.0}


def _message_kind(message: str) -> str:
    """A rejection's message with its numbers and quoted values blanked, so
    that one kind of error is counted once."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message.splitlines()[0])
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", message)[:160]


def reproduction(result: dict[str, Any]) -> str:
    """The code and the command that replay a recorded case."""
    from accelboost._fuzz.cases import Case

    case = Case.from_json(result["case"])
    return (f"```python\n{case.reproduction()}```\n"
            f"`python -m benchmarks fuzz --replay '{result['case']}'`")


def markdown(report: dict[str, Any]) -> str:
    """The campaign's report."""
    summary = report["summary"]
    statuses = summary["statuses"]
    lines = _report.header("Fuzzing: random fits against accelboost's properties",
                           report, [
        f"Seed {report['config']['seed']}: {summary['n_cases']:,} cases recorded "
        f"in `{report['config']['file']}`; median case "
        f"{_report.fmt(summary['median_case_s'], '.3f', ' s')}, "
        f"{summary['total_case_s'] / 60:.1f} min of cases in all.",
        "Properties: `accelboost/_fuzz/properties.py`; cases: "
        "`accelboost/_fuzz/cases.py`."])
    lines += ["", *_report.table(
        ["ok", "rejected (clean error)", "failed", "crashed", "hung", "silent NaN"],
        [[statuses.get(s, 0) for s in ("ok", "rejected", *BAD)]
         + [summary["silent_nan"]]])]
    if summary["properties"]:
        lines += ["", "## Broken properties", "", *_report.table(
            ["property", "cases"], sorted(summary["properties"].items()))]
    lines += ["", "## Rejections, by message", "", *_report.table(
        ["cases", "message"], [[n, f"`{m}`"] for m, n in
                               summary["rejections"].items()])]
    bad = report.get("failures", [])
    if bad:
        lines += ["", "## Failures", ""]
        for result in bad:
            lines += [f"### case {result['index']}: {result['status']}", "",
                      *[f"- {v}" for v in result["violations"]], "",
                      reproduction(result), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- command line -------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks fuzz``."""
    parser.add_argument("--cases", type=positive_int, default=None,
                        help="cases to run from --start (default: 1000, or no "
                        "limit with --seconds)")
    parser.add_argument("--start", type=int, default=0,
                        help="index of the first case (default: 0)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop issuing cases after this many seconds")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="worker processes (default: 1)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds a case may take before it is a hang "
                        "(default: 120)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="results directory (default: %(default)s)")
    parser.add_argument("--replay", metavar="JSON", default=None,
                        help="run this one case (a failure's JSON) and print it")
    parser.add_argument("--report-only", action="store_true",
                        help="only re-render report.md from the campaign file")


def main(args: argparse.Namespace, command: str) -> int:
    """Run the cases not yet recorded, append them to the campaign file, write
    and print the report; 1 if any case failed, crashed or hung."""
    if args.replay:
        return _replay(args.replay, args.timeout)
    path = results_path(args.out, args.seed)
    done = {r["index"] for r in read_results(path)}
    if not args.report_only:
        cases = args.cases or (10**7 if args.seconds else 1000)
        todo = (i for i in range(args.start, args.start + cases) if i not in done)
        if not args.seconds:
            todo = list(todo)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as file:
            def append(result):
                file.write(json.dumps(result) + "\n")
                file.flush()

            run_cases(todo, seed=args.seed, jobs=args.jobs, timeout=args.timeout,
                      seconds=args.seconds, on_result=append)
    results = read_results(path)
    report = _report.new_report(
        "fuzz", SCHEMA_VERSION, command,
        {"seed": args.seed, "file": path.name},
        summary=summarize(results),
        failures=[r for r in results if r["status"] in BAD])
    text = markdown(report)
    (args.out / REPORT_NAME).write_text(text)
    print(text)
    return 1 if report["failures"] else 0


def _replay(text: str, timeout: float) -> int:
    """Run one case in a worker and print its outcome."""
    from accelboost._fuzz.cases import Case

    case = Case.from_json(text)
    [result] = run_cases([0], seed=0, timeout=timeout, draw=lambda _: case,
                         log=None)
    print(json.dumps(result, indent=1))
    print(case.reproduction())
    return 1 if result["status"] in BAD else 0
