"""Fits one stage's trees: one per output, at the point a policy chooses.

Built once per fit from explicit inputs (the binned training data, the
targets, the loss, the bin mapper and the tree parameters), so that a stage
policy can grow trees without reaching back into the estimator.
"""

from __future__ import annotations

import numpy as np

from ._engine.binning import BinMapper
from ._engine.common import Y_DTYPE
from ._engine.grower import TreeGrower, TreeParams
from ._engine.loss import Loss, allocate_gradients


class StageFitter:
    """Grows a stage's trees on the training data.

    Parameters
    ----------
    X_binned : ndarray of shape (n_samples, n_features), dtype uint8
        The training data, binned (Fortran order).
    y : ndarray of shape (n_samples,)
        Targets, encoded as the loss expects.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights; None for unit weights.
    loss : Loss
        The loss being minimised.
    bin_mapper : BinMapper
        The fitted bin mapper (bin counts, missing bin, thresholds).
    params : TreeParams
        Tree-shape parameters.
    max_delta_step : float or None
        Cap on the absolute value of a leaf's step before the learning rate
        (XGBoost's ``max_delta_step``); None for no cap.
    n_threads : int
        Threads the grower may use.
    interaction_groups : ndarray of uint8, shape (n_groups, n_features) or None
        Interaction constraints as a membership matrix; None for none.
    """

    def __init__(
        self,
        X_binned: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        loss: Loss,
        bin_mapper: BinMapper,
        params: TreeParams,
        max_delta_step: float | None,
        n_threads: int,
        interaction_groups: np.ndarray | None = None,
    ):
        self.X_binned = X_binned
        self.y = y
        self.sample_weight = sample_weight
        self.loss_function = loss
        self.bin_mapper = bin_mapper
        self.params = params
        self.max_delta_step = max_delta_step
        self.n_threads = n_threads
        self.interaction_groups = interaction_groups
        self.n_samples = X_binned.shape[0]
        self.weights = (
            np.ones(self.n_samples, dtype=Y_DTYPE)
            if sample_weight is None
            else sample_weight
        )
        self._hessians_are_constant = (
            loss.constant_hessian and sample_weight is None
        )
        self._gradients, self._hessians = allocate_gradients(
            loss.n_outputs, self.n_samples
        )

    def gradients_at(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians at ``raw``, each (n_outputs, n_samples).

        The arrays are the fitter's buffers: the next call overwrites them.
        """
        self.loss_function.gradient_hessian(
            self.y, raw, self.weights, self._gradients, self._hessians
        )
        return self._gradients, self._hessians

    def loss(self, raw: np.ndarray) -> float:
        """The weighted training loss at ``raw``."""
        return self.loss_function(self.y, raw, self.sample_weight)

    def fit_trees(
        self, gradients: np.ndarray, hessians: np.ndarray, point: np.ndarray | None
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Grow one tree per output on these gradients.

        Parameters
        ----------
        gradients, hessians : ndarray of shape (n_outputs, n_samples)
            What each output's tree is fitted to.
        point : ndarray of shape (n_samples, n_outputs) or None
            The raw scores the gradients were taken at; the loss refits the
            leaves there (absolute error: medians). None keeps the Newton
            leaves (a tree fitted to something other than the loss).

        Returns
        -------
        trees : list of ndarray
            Node arrays, one per output.
        outputs : ndarray of shape (n_samples, n_outputs)
            Each tree's value on the training rows.
        """
        n_outputs = gradients.shape[0]
        outputs = np.empty((self.n_samples, n_outputs), dtype=Y_DTYPE)
        trees = []
        for k in range(n_outputs):
            tree = self._grow(gradients[k], hessians[k])
            if point is not None:
                self.loss_function.refit_leaves(tree, self.y, point[:, k], self.weights)
            if self.max_delta_step is not None:
                values = tree.nodes["value"]
                np.clip(values, -self.max_delta_step, self.max_delta_step, out=values)
            tree.training_output(outputs[:, k])
            trees.append(tree.nodes)
        return trees, outputs

    def _grow(self, gradients, hessians):
        mapper = self.bin_mapper
        return TreeGrower(
            self.X_binned,
            gradients,
            hessians,
            mapper.n_bins_non_missing_,
            mapper.missing_bin_,
            mapper.thresholds_,
            self.params,
            hessians_are_constant=self._hessians_are_constant,
            n_threads=self.n_threads,
            interaction_groups=self.interaction_groups,
        ).grow()
