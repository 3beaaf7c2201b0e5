"""Optimizer steps of one network on a loss, in mini-batches.

The boosting estimators call :func:`train_steps` once per stage, with the
ensemble's prediction so far as ``offset``; the experiments call it with a
zero offset to train a single network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._engine.loss import Loss, allocate_gradients
from ._network import Activations, backward, curvature_factors, forward

__all__ = ["BatchSampler", "LossMonitor", "train_steps"]


class BatchSampler:
    """Row indices of successive mini-batches: epochs of a shuffled order.

    Parameters
    ----------
    n_samples : int
        Rows to draw from.
    batch_size : int or None
        Rows per batch; None, or at least ``n_samples``, gives the full
        batch (in row order) at every step and draws nothing.
    rng : numpy.random.Generator
        Source of the shuffles.
    """

    def __init__(self, n_samples: int, batch_size: int | None,
                 rng: np.random.Generator):
        self.n_samples = n_samples
        self.full = batch_size is None or batch_size >= n_samples
        self.batch_size = n_samples if self.full else batch_size
        self.rng = rng
        self._order = np.arange(n_samples)
        self._position = n_samples  # a shuffle before the first batch

    def next(self) -> np.ndarray | None:
        """Indices of the next batch, or None for the full batch."""
        if self.full:
            return None
        if self._position + self.batch_size > self.n_samples:
            # A new epoch; the rows left over from the last one are dropped.
            self._order = self.rng.permutation(self.n_samples)
            self._position = 0
        batch = self._order[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        return batch


@dataclass
class LossMonitor:
    """The loss on fixed rows before every step: a curve without batch noise.

    A mini-batch's loss jumps from batch to batch, which a spike detector
    would take for catapults; the loss on the same rows at every step only
    moves when the model does.

    Attributes
    ----------
    X, y, offset, sample_weight : ndarray
        The rows, as :func:`train_steps` takes its data.
    losses : list of float
        One weighted mean loss per step, appended by :func:`train_steps`.
    """

    X: np.ndarray
    y: np.ndarray
    offset: np.ndarray
    sample_weight: np.ndarray
    losses: list[float] = field(default_factory=list)

    def record(self, params: list[np.ndarray], activation: str, loss: Loss) -> None:
        """Append the loss of the network ``params`` on the rows."""
        raw = self.offset + forward(params, self.X, activation)
        self.losses.append(loss(self.y, raw, self.sample_weight))


def train_steps(
    params: list[np.ndarray],
    activation: str,
    optimizer,
    state,
    X: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    loss: Loss,
    sample_weight: np.ndarray,
    *,
    steps: int,
    batches: BatchSampler,
    monitor: LossMonitor | None = None,
) -> np.ndarray:
    """Run ``steps`` optimizer steps on ``loss(y, offset + network(X))``.

    Parameters
    ----------
    params : list of ndarray
        The network, updated in place.
    activation : str
        Activation of its hidden layers.
    optimizer : accelboost.parametric.optimizers.Optimizer
        The update rule.
    state : object
        The optimizer's state for ``params`` (from ``optimizer.init``).
    X : ndarray of shape (n_samples, n_features)
        Inputs (already standardized).
    y : ndarray of shape (n_samples,)
        Targets as the loss reads them.
    offset : ndarray of shape (n_samples, n_outputs)
        Raw prediction the network's output is added to (the ensemble so
        far; zeros to train the network alone).
    loss : Loss
        The loss; its gradients and hessians are weighted by
        ``sample_weight``.
    sample_weight : ndarray of shape (n_samples,)
        Weights of the samples, all positive (a batch's weight divides its
        gradient).
    steps : int
        Number of optimizer steps.
    batches : BatchSampler
        Where each step's rows come from.
    monitor : LossMonitor, default=None
        If given, records the loss on its rows before every step.

    Returns
    -------
    losses : ndarray of shape (steps,)
        The weighted mean loss of each step's batch before the step.
    """
    losses = np.empty(steps)
    for step in range(steps):
        if monitor is not None:
            monitor.record(params, activation, loss)
        rows = batches.next()
        X_b, y_b, off_b, sw_b = (
            (X, y, offset, sample_weight) if rows is None
            else (X[rows], y[rows], offset[rows], sample_weight[rows])
        )
        cache = Activations()
        raw = off_b + forward(params, X_b, activation, cache)
        total = sw_b.sum()
        losses[step] = loss(y_b, raw, sw_b)
        if not np.isfinite(losses[step]):
            # The caller sees the non-finite loss and stops the fit.
            return losses[: step + 1]
        gradients, hessians = allocate_gradients(raw.shape[1], raw.shape[0])
        loss.gradient_hessian(y_b, raw, sw_b, gradients, hessians)
        grads = backward(params, cache, gradients.T / total, activation)
        curvature = None
        if optimizer.needs_curvature:
            curvature = curvature_factors(
                params, cache, hessians.T, sw_b, activation
            )
        optimizer.step(params, grads, state, curvature)
    return losses
