"""Boosting an additive model's pair terms on coarse two-feature grids.

After the main effects, what a pair of features still explains is a pure
interaction: its marginals are already fitted, so a greedy tree's first cut
gains nothing and never gets to the second one. EBM's pair trees look
ahead: a cut on one feature is chosen together with the best cut of the
other feature in each half. On each pair's coarse grid (32 bins a feature,
as EBM and FAST use) that search is cheap, and a pair term is a table on its
grid: each stage adds one tree's leaf values to one pair's table.

Each stage fits the tree of the pair with the best gain (one per output for
several classes), with plain steps of ``learning_rate``; the phase stops
like the main effects' (``n_iter_no_change``, ``tol``) and keeps the tables
of its best validation score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._engine.interactions import best_pair_trees, pair_histograms, pair_tree_values
from ._engine.loss import Loss, allocate_gradients


@dataclass
class PairPart:
    """One part of a bag's data during the pair phase.

    Attributes
    ----------
    coarse : ndarray of uint8, shape (n_samples, n_features)
        Coarse codes.
    y : ndarray of shape (n_samples,)
        Targets as the loss takes them.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights.
    raw : ndarray of shape (n_samples, n_outputs)
        Raw predictions, updated in place stage by stage.
    """

    coarse: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    raw: np.ndarray

    def add(self, pair: tuple, output: int, values: np.ndarray) -> None:
        """Add a pair tree's cell values to the raw predictions."""
        j, k = pair
        self.raw[:, output] += values[self.coarse[:, j], self.coarse[:, k]]


@dataclass(frozen=True)
class PairParams:
    """How the pair phase boosts.

    Attributes
    ----------
    n_coarse : int
        Coarse bins per feature (NaN gets one more).
    learning_rate, l2_regularization, min_weight : float
        Shrinkage, L2 penalty, and minimum weight of a leaf.
    max_iter, n_iter_no_change : int
        Stage cap, and the patience of early stopping.
    tol : float
        Minimum improvement of the validation score.
    """

    n_coarse: int
    learning_rate: float
    l2_regularization: float
    min_weight: float
    max_iter: int
    n_iter_no_change: int
    tol: float


def boost_pairs(pairs: list, loss: Loss, train: PairPart, val: PairPart,
                params: PairParams) -> tuple[np.ndarray, np.ndarray, int]:
    """Boost pair terms on top of the raw predictions of ``train`` and ``val``.

    Parameters
    ----------
    pairs : list of tuple of int
        The pairs ``(j, k)`` a stage may choose from.
    loss : Loss
        The loss.
    train, val : PairPart
        Training and validation parts; their ``raw`` is updated. Without a
        validation part (None) every stage is kept.
    params : PairParams
        Settings.

    Returns
    -------
    tables : ndarray of shape (n_pairs, size, size, n_outputs)
        Each pair's term on its coarse grid (axis 1 is ``j``), at the best
        validation score.
    scores : ndarray of shape (n_stages,)
        Minus the validation loss after each stage.
    best_stage : int
        Stages of the kept tables (0: none).
    """
    size = params.n_coarse + 1
    n_outputs = loss.n_outputs
    pair_array = np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
    tables = np.zeros((len(pairs), size, size, n_outputs))
    best_tables = tables.copy() if val is not None else tables
    hist = np.empty((len(pairs), size, size, 3))
    gains = np.empty(len(pairs))
    trees = np.empty((len(pairs), 4), dtype=np.intp)
    weights = (np.ones(len(train.y)) if train.sample_weight is None
               else train.sample_weight)
    gradients, hessians = allocate_gradients(n_outputs, len(train.y))
    scores, best_stage = [], 0
    best_score = None if val is None else -loss(val.y, val.raw, val.sample_weight)
    for stage in range(1, params.max_iter + 1):
        loss.gradient_hessian(train.y, train.raw, weights, gradients, hessians)
        for output in range(n_outputs):
            pair_histograms(train.coarse, pair_array,
                            np.asarray(gradients[output], dtype=np.float64),
                            np.asarray(hessians[output], dtype=np.float64),
                            weights, hist)
            best_pair_trees(hist, params.l2_regularization, params.min_weight,
                            gains, trees)
            p = int(np.argmax(gains))
            if not np.isfinite(gains[p]):
                continue
            values = params.learning_rate * pair_tree_values(
                hist[p], trees[p], params.l2_regularization
            )
            tables[p, :, :, output] += values
            train.add(pairs[p], output, values)
            if val is not None:
                val.add(pairs[p], output, values)
        if val is None:  # every stage is kept: best_tables is tables
            best_stage = stage
            continue
        scores.append(-loss(val.y, val.raw, val.sample_weight))
        if scores[-1] > best_score + params.tol:
            best_score, best_stage = scores[-1], stage
            best_tables[...] = tables
        elif stage - best_stage >= params.n_iter_no_change:
            break
    return best_tables, np.asarray(scores), best_stage
