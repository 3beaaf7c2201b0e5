"""Thread-count control for the Numba kernels."""

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
