"""Thread control: the threading layer, thread counts, and their restoration."""

import platform

import numba
import numpy as np
import pytest

from accelboost import AccelBoostRegressor
from accelboost._threads import (
    MIN_PARALLEL_CELLS,
    effective_n_threads,
    fit_n_threads,
    numba_threads,
)


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"),
    reason="the tbb dependency is declared for x86-64 only",
)
def test_fits_run_on_the_tbb_threading_layer():
    # The OpenMP layer spins and waits for a descheduled thread; the package
    # depends on tbb so that Numba picks its work-stealing layer instead.
    X = np.random.RandomState(0).normal(size=(200, 3))
    AccelBoostRegressor(max_iter=2, n_threads=2).fit(X, X[:, 0])
    assert numba.threading_layer() == "tbb"


def test_effective_n_threads_is_clamped_to_the_pool():
    limit = numba.config.NUMBA_NUM_THREADS
    assert effective_n_threads(None) == limit
    assert effective_n_threads(1) == 1
    assert effective_n_threads(0) == 1
    assert effective_n_threads(limit + 5) == limit


def test_numba_threads_restores_the_count_even_on_error():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError), numba_threads(1):
        assert numba.get_num_threads() == 1
        raise RuntimeError
    assert numba.get_num_threads() == before


def test_small_fits_run_on_one_thread():
    limit = numba.config.NUMBA_NUM_THREADS
    rows = MIN_PARALLEL_CELLS // 8
    assert fit_n_threads(None, rows - 1, 8) == 1
    assert fit_n_threads(None, rows, 8) == limit
    assert fit_n_threads(1, rows, 8) == 1
    # Wide data pays for parallel histograms even with few rows.
    assert fit_n_threads(None, 100, MIN_PARALLEL_CELLS // 100 + 1) == limit
