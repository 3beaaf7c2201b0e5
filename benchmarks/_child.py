"""Measuring a fit: in a fresh Python process (no state leaks from one
measurement to the next), with CPU, memory and Numba probes.

:func:`run_child` runs ``python -m benchmarks._child module:function JSON``;
the child prints ``function(**spec)`` as JSON after ``BENCH_RESULT``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_RESULT_MARKER = "BENCH_RESULT "
_REPO_ROOT = Path(__file__).resolve().parent.parent
#: Environment variables that cap OpenMP and BLAS thread pools.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_child(target: str, spec: dict[str, Any], *, n_threads: int | None,
              timeout: float | None = None) -> dict[str, Any]:
    """``target`` (``"module:function"``) called with ``spec`` in a fresh
    process with OpenMP and BLAS pools capped at ``n_threads`` (None: no cap),
    killed after ``timeout`` seconds; ``{**spec, "status": "error", ...}`` when
    the child failed, timed out or printed no result."""
    env = dict(os.environ)
    for name in THREAD_ENV:
        env.pop(name, None)
        if n_threads is not None:
            env[name] = str(n_threads)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "benchmarks._child", target, json.dumps(spec)]
    try:  # subprocess.run kills the child on any exception, Ctrl-C included
        proc = subprocess.run(command, env=env, cwd=_REPO_ROOT, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {**spec, "status": "error", "reason": f"timed out after {timeout} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_RESULT_MARKER):
            return json.loads(line[len(_RESULT_MARKER):])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    return {**spec, "status": "error", "stderr_tail": tail,
            "reason": f"child exited with code {proc.returncode} and no result"}


# -- probes -----------------------------------------------------------------------
def cpu_seconds() -> float:
    """CPU seconds this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (Linux; else None)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def numba_counts(package: str = "accelboost") -> dict[str, int]:
    """Compiled signatures and on-disk cache hits and misses of the Numba
    dispatchers in a package's imported modules."""
    counts = {"signatures": 0, "cache_hits": 0, "cache_misses": 0}
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:
        return counts
    found = {}
    for name, module in list(sys.modules.items()):
        if module is not None and (name == package or name.startswith(package + ".")):
            found.update({id(v): v for v in vars(module).values()
                          if isinstance(v, Dispatcher)})
    for dispatcher in found.values():
        counts["signatures"] += len(dispatcher.signatures)
        stats = getattr(dispatcher, "stats", None)
        if stats is not None:
            counts["cache_hits"] += sum(stats.cache_hits.values())
            counts["cache_misses"] += sum(stats.cache_misses.values())
    return counts


class FitProbe:
    """Times a ``with`` block: wall and CPU seconds, the share of all CPUs
    other processes took meanwhile (Linux), and the Numba signatures compiled
    inside it (a warm-up gap). ``result()`` gives them as a dict."""

    def __enter__(self) -> FitProbe:
        self._signatures = numba_counts()["signatures"]
        self._cpu, self._busy = cpu_seconds(), machine_busy_seconds()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.start
        self.cpu = cpu_seconds() - self._cpu
        busy = machine_busy_seconds()
        self.others = None
        if busy is not None and self._busy is not None and self.wall > 0:
            others = max(0.0, busy - self._busy - self.cpu)
            self.others = others / (self.wall * (os.cpu_count() or 1))
        self.compiled = numba_counts()["signatures"] - self._signatures

    def result(self) -> dict[str, Any]:
        """``fit_s``, ``fit_cpu_s``, ``others_cpu_share``, ``numba_compiled_in_fit``."""
        return {"fit_s": self.wall, "fit_cpu_s": self.cpu,
                "others_cpu_share": self.others,
                "numba_compiled_in_fit": self.compiled}


def _status_mb(field: str) -> float | None:
    """A ``Vm*`` field of ``/proc/self/status`` in MB (None off Linux)."""
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) / 1024.0 for line in status
                         if line.startswith(field + ":")), None)
    except OSError:
        return None


def rss_mb() -> float | None:
    """This process's resident memory now, in MB (None off Linux)."""
    return _status_mb("VmRSS")


def _ru_maxrss_mb() -> float:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024.0


class PeakMemory:
    """The peak resident memory of a ``with`` block (``peak``, MB) and its
    increase over the start (``delta``): Linux resets ``VmHWM`` through
    ``clear_refs``; elsewhere the ``ru_maxrss`` increase, a lower bound
    (``method`` says which). ``start`` is the resident memory at the start
    (None off Linux)."""

    def __enter__(self) -> PeakMemory:
        self._before, self._hwm = _status_mb("VmRSS"), False
        self.start = self._before
        with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS
            self._hwm = self._before is not None
        self.method = ("VmHWM after clear_refs" if self._hwm
                       else "ru_maxrss increase (lower bound)")
        self._before = self._before if self._hwm else _ru_maxrss_mb()
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = _status_mb("VmHWM") if self._hwm else _ru_maxrss_mb()
        self.delta = max(0.0, self.peak - self._before)


def main(argv: list[str] | None = None) -> int:
    """Child side: call ``module:function`` with the JSON keyword arguments."""
    target, spec = argv if argv is not None else sys.argv[1:]
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    print(_RESULT_MARKER + json.dumps(function(**json.loads(spec))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
