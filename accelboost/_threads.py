"""Thread-count control for the Numba kernels.

accelboost depends on Numba's TBB threading layer (the ``tbb`` package),
which Numba picks first when it is installed. Its workers take work from a
shared pool and sleep when there is none, so when another process holds a
core the thread that has one finishes the region. Numba's OpenMP layer
gives every thread a fixed share and spins between regions: with one core
busy, fits took up to 270 times longer than on one thread. Nothing here
changes an environment variable that other libraries read.

A parallel region also costs a wake-up, and on a busy machine possibly a
wait for a descheduled thread, so work too small to pay for it stays on the
calling thread: small fits run on one thread (``fit_n_threads``), and the
grower decides per node (``grower.MIN_PARALLEL_WORK``).
"""

from contextlib import contextmanager

import numba

#: Training cells (rows x features) below which a fit runs on one thread. A
#: 2,000 x 9 fit took 0.54 ms a tree on one thread and 0.62 ms on two, idle.
MIN_PARALLEL_CELLS = 1 << 17


def effective_n_threads(n_threads: int | None) -> int:
    """The number of threads a fit will use (``None``: all Numba threads)."""
    limit = numba.config.NUMBA_NUM_THREADS
    return limit if n_threads is None else max(1, min(int(n_threads), limit))


def fit_n_threads(n_threads: int | None, n_samples: int, n_features: int) -> int:
    """Threads for a fit on ``n_samples x n_features`` (1 if too small to pay)."""
    if n_samples * n_features < MIN_PARALLEL_CELLS:
        return 1
    return effective_n_threads(n_threads)


@contextmanager
def numba_threads(n_threads: int):
    """Run the enclosed kernels on ``n_threads`` threads, then restore."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
