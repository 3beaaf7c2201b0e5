"""Thread-count control for the Numba kernels.

accelboost depends on Numba's TBB threading layer (the ``tbb`` package),
which Numba picks first when it is installed. Its workers take work from a
shared pool and sleep when there is none, so when another process holds a
core the thread that found work finishes the region alone. Numba's OpenMP
layer gives every thread a fixed share and spins between regions: with one
core busy, fits took 15 to 270 times longer than on one thread. Kernels on
small nodes do not open a parallel region at all (``grower.MIN_PARALLEL_WORK``).
Nothing here changes an environment variable that other libraries read.
"""

from contextlib import contextmanager

import numba


def effective_n_threads(n_threads: int | None) -> int:
    """The number of threads a fit will use (``None``: all Numba threads)."""
    limit = numba.config.NUMBA_NUM_THREADS
    return limit if n_threads is None else max(1, min(int(n_threads), limit))


@contextmanager
def numba_threads(n_threads: int):
    """Run the enclosed kernels on ``n_threads`` threads, then restore."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
