"""Shared plain-NumPy references for the kernel tests.

Everything here is written the obvious, slow way (boolean masks, Python
loops) on purpose: it is the yardstick the Numba kernels are measured
against, so it must not share their code paths.
"""

from collections import namedtuple

import numpy as np
import pytest

from accelboost._engine.binning import BinMapper
from accelboost._threads import numba_threads

#: One candidate split of the brute-force search (the kernel's ``SplitInfo``
#: fields, plus the number of rows sent left).
Candidate = namedtuple(
    "Candidate",
    "gain feature bin missing_go_left sum_gradient_left sum_hessian_left count_left",
)


def _score(sum_g, sum_h, l2):
    denominator = sum_h + l2
    return sum_g * sum_g / denominator if denominator > 0 else 0.0


def _goes_left(column, bin_threshold, missing_go_left, missing_bin):
    """Boolean mask of the rows a split sends left (``column`` is binned)."""
    missing = column == missing_bin
    return np.where(missing, bool(missing_go_left), column <= bin_threshold)


def _brute_force_splits(
    X_binned,
    rows,
    gradients,
    hessians,
    n_bins_non_missing,
    missing_bin,
    l2,
    min_samples_leaf,
    min_hessian,
):
    """Every admissible split of the node holding ``rows``.

    Tries every feature, every bin threshold and both missing directions,
    summing gradients and hessians over boolean masks of the rows. Returns a
    list of ``Candidate``.
    """
    g = gradients[rows]
    h = hessians[rows]
    sum_g, sum_h, n = g.sum(), h.sum(), len(rows)
    parent = _score(sum_g, sum_h, l2)
    out = []
    for f in range(X_binned.shape[1]):
        column = X_binned[rows, f]
        for b in range(int(n_bins_non_missing[f])):
            for missing_left in (False, True):
                left = _goes_left(column, b, missing_left, missing_bin)
                n_l = int(left.sum())
                n_r = n - n_l
                if n_l == 0 or n_r == 0:
                    continue  # not a split
                g_l, h_l = g[left].sum(), h[left].sum()
                g_r, h_r = g[~left].sum(), h[~left].sum()
                if min(n_l, n_r) < min_samples_leaf or min(h_l, h_r) < min_hessian:
                    continue
                gain = _score(g_l, h_l, l2) + _score(g_r, h_r, l2) - parent
                out.append(Candidate(gain, f, b, missing_left, g_l, h_l, n_l))
    return out


def _walk_tree(nodes, x_row, binned, missing_bin=None):
    """Route one row through a node array; return the index of its leaf."""
    i = 0
    while not nodes[i]["is_leaf"]:
        node = nodes[i]
        x = x_row[node["feature_idx"]]
        missing = x == missing_bin if binned else np.isnan(x)
        if node["is_categorical"]:
            # Bins of a categorical feature are its category codes, in raw
            # and binned rows alike; the left set is a bitset of them.
            code = int(x) if not missing else 0
            words = node["left_categories"]
            left = 0 <= code < 64 * len(words) and bool(
                (int(words[code // 64]) >> (code % 64)) & 1
            )
        elif binned:
            left = x <= node["bin_threshold"]
        else:
            left = x <= node["num_threshold"]
        if missing:
            left = bool(node["missing_go_left"])
        i = int(node["left"] if left else node["right"])
    return i


def _make_binned_data(seed, n_samples=300, n_features=4, nan_fraction=0.1, max_bins=32):
    """Random features (continuous, tied, low-cardinality) with NaNs, binned.

    Returns ``X, mapper, X_binned, mapper.thresholds_`` (the thresholds as
    the grower takes them: (n_features, max_bins), padded with +inf).
    """
    rng = np.random.RandomState(seed)
    columns = []
    for f in range(n_features):
        kind = f % 3
        if kind == 0:
            col = rng.normal(size=n_samples)
        elif kind == 1:
            col = np.round(rng.normal(size=n_samples), 1)  # many ties
        else:
            col = rng.randint(0, 4, size=n_samples).astype(float)  # 4 values
        col[rng.rand(n_samples) < nan_fraction] = np.nan
        columns.append(col)
    X = np.column_stack(columns)
    mapper = BinMapper(max_bins=max_bins, random_state=0)
    X_binned = mapper.fit_transform(X)
    return X, mapper, X_binned, mapper.thresholds_


@pytest.fixture
def single_thread():
    """Run the test's kernels on one Numba thread.

    On a loaded machine every parallel region costs milliseconds of fork/join
    waiting for a core, which makes tests that call kernels on many tiny
    nodes slow. The kernel tests use this and check separately, bit for bit,
    that two threads give the same results as one.
    """
    with numba_threads(1):
        yield


@pytest.fixture
def brute_force_splits():
    return _brute_force_splits


@pytest.fixture
def goes_left():
    return _goes_left


@pytest.fixture
def walk_tree():
    return _walk_tree


@pytest.fixture
def make_binned_data():
    return _make_binned_data
