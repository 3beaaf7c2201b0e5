"""A process that keeps one CPU core busy, for contention benchmarks.

:func:`busy_core` starts a pure Python loop pinned to one core
(``os.sched_setaffinity``, where available), waits until it spins, and kills
it on leaving the ``with`` block, whatever happened inside. The loop cannot
outlive the benchmark: it checks its parent's pid between bursts of a million
empty iterations, and a Ctrl-C in the terminal reaches it too.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

#: The core the issue's benchmark keeps busy.
BUSY_CORE = 1

_LOOP = r"""
import os, sys
parent, core, pinned = int(sys.argv[1]), int(sys.argv[2]), -1
if hasattr(os, "sched_setaffinity") and core in os.sched_getaffinity(0):
    os.sched_setaffinity(0, {core})
    pinned = core
print(pinned, flush=True)
while os.getppid() == parent:
    for _ in range(1_000_000):
        pass
"""


@dataclass
class BusyLoad:
    """The running busy loop: its ``pid``, the ``core`` it is pinned to (None
    where pinning is unavailable), and ``started`` (``perf_counter``)."""

    pid: int
    core: int | None
    started: float

    def summary(self) -> dict[str, float | int | None]:
        """Pid, core, wall seconds and CPU share of the loop so far (Linux)."""
        wall = time.perf_counter() - self.started
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            cpu = None
        return {"pid": self.pid, "core": self.core, "wall_s": wall, "cpu_s": cpu,
                "cpu_share": None if cpu is None or wall <= 0 else cpu / wall}


def pick_core(preferred: int = BUSY_CORE) -> int:
    """``preferred`` if this process may use it, else the highest core it may
    use."""
    if not hasattr(os, "sched_getaffinity"):
        return preferred
    cores = os.sched_getaffinity(0)
    return preferred if preferred in cores else max(cores)


@contextlib.contextmanager
def busy_core(core: int = BUSY_CORE, timeout: float = 30.0) -> Iterator[BusyLoad]:
    """Keep ``core`` busy with a pure Python loop for the ``with`` block; the
    loop is killed and reaped on leaving it. Yields a :class:`BusyLoad`."""
    proc = subprocess.Popen([sys.executable, "-c", _LOOP, str(os.getpid()),
                             str(core)], stdout=subprocess.PIPE, text=True)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            line = proc.stdout.readline() if selector.select(timeout) else ""
        if not line:
            raise RuntimeError(f"the busy loop did not start within {timeout} s")
        pinned = int(line)
        yield BusyLoad(proc.pid, None if pinned < 0 else pinned, time.perf_counter())
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
