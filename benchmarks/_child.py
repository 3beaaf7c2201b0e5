"""Run one benchmark measurement in a fresh Python process.

For any measuring function (bench_engine, contention, stages): the parent
runs ``python -m benchmarks._child module:function JSON``, the child calls
``function(**spec)`` and prints its JSON result on a line starting with
``_RESULT_MARKER``, and the parent reads that line back. A fresh process
per measurement means a first call pays Numba's cache load again (the
warm-up measures it) and no state leaks from one library or configuration
to the next.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The child prints its result on a line starting with this marker.
_RESULT_MARKER = "BENCH_RESULT "
_REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variables that cap OpenMP and BLAS thread pools.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def child_env(n_threads: int | None) -> dict[str, str]:
    """The environment of a child process.

    Parameters
    ----------
    n_threads : int or None
        Cap of the OpenMP and BLAS pools; ``None`` removes any cap, so each
        library uses its own default (all CPUs).

    Returns
    -------
    env : dict
        A copy of this process's environment with the thread caps set and
        the repository root on ``PYTHONPATH``.
    """
    env = dict(os.environ)
    for name in THREAD_ENV:
        if n_threads is None:
            env.pop(name, None)
        else:
            env[name] = str(n_threads)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def run_child(
    target: str,
    spec: dict[str, Any],
    *,
    n_threads: int | None,
    timeout: float | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Call a measuring function in a fresh process and return its result.

    Parameters
    ----------
    target : str
        ``"module:function"``, e.g. ``"benchmarks.bench_stages:measure_long"``.
    spec : dict
        Keyword arguments of the function (JSON-serialisable).
    n_threads : int or None
        Thread cap of the child's OpenMP and BLAS pools (see
        :func:`child_env`).
    timeout : float or None, default=None
        Seconds after which the child is killed and an error recorded.
    extra_env : dict or None, default=None
        More environment variables for the child (e.g. ``NUMBA_CACHE_DIR``).

    Returns
    -------
    result : dict
        The function's result, or ``{**spec, "status": "error", "reason":
        ...}`` when the child failed, timed out or printed no result.
    """
    command = [sys.executable, "-m", "benchmarks._child", target, json.dumps(spec)]
    failed = {**spec, "status": "error"}
    env = {**child_env(n_threads), **(extra_env or {})}
    try:
        # subprocess.run kills the child on any exception, Ctrl-C included.
        proc = subprocess.run(
            command, env=env, cwd=_REPO_ROOT, capture_output=True,
            text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return {**failed, "reason": f"timed out after {timeout} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_RESULT_MARKER):
            return json.loads(line[len(_RESULT_MARKER):])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    return {
        **failed,
        "reason": f"child exited with code {proc.returncode} and no result",
        "stderr_tail": tail,
    }


def main(argv: list[str] | None = None) -> int:
    """Child side: call ``module:function`` with the JSON keyword arguments.

    Parameters
    ----------
    argv : list of str or None, default=None
        ``[target, spec_json]`` (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 (failures are reported inside the result).
    """
    target, spec = argv if argv is not None else sys.argv[1:]
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(**json.loads(spec))
    print(_RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
