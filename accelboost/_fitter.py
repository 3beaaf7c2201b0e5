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
from ._engine.predictor import add_tree_values, pack_trees


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
    monotonic_cst : ndarray of int8, shape (n_features,) or None
        Monotonic constraints (-1, 0, 1 per feature); None for none.
    max_features : int or None
        Features drawn at random for each split search; None for all.
    subsample : float
        Share of the rows each stage's trees are grown on (drawn without
        replacement); 1.0 for all.
    seed : int
        Seeds the row and feature draws: the k-th tree grown by this fitter
        draws from ``(seed, first_tree + k)``, so a fit is reproducible and a
        warm start continues the sequence.
    first_tree : int
        Trees already in the model (warm start).
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
        monotonic_cst: np.ndarray | None = None,
        max_features: int | None = None,
        subsample: float = 1.0,
        seed: int = 0,
        first_tree: int = 0,
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
        self.monotonic_cst = monotonic_cst
        self.max_features = max_features
        self.subsample = subsample
        self.seed = seed
        self._n_grown = first_tree
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

    def total(self, value: float) -> float:
        """``value``, a sum over the training rows (all of them are here)."""
        return value

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
        rows = self._draw_rows()
        trees = []
        for k in range(n_outputs):
            tree = self._grow(gradients[k], hessians[k], rows)
            values = tree.nodes["value"]
            if point is not None:
                self.loss_function.refit_leaves(tree, self.y, point[:, k], self.weights)
                # A refit leaf stays within its monotonic bounds (infinite
                # without constraints), so the tree stays monotone.
                leaves = tree.leaf_nodes
                values[leaves] = np.clip(values[leaves], tree.leaf_lower,
                                         tree.leaf_upper)
            if self.max_delta_step is not None:
                # Clipping is monotone: it keeps monotonic trees monotonic.
                np.clip(values, -self.max_delta_step, self.max_delta_step, out=values)
            if rows is None:
                tree.training_output(outputs[:, k])
            else:  # rows outside the draw reach their leaves by a walk
                outputs[:, k] = 0.0
                nodes, starts, bitsets = pack_trees([tree.nodes])
                add_tree_values(nodes, bitsets, starts, np.zeros(1, dtype=np.intp),
                                0, 1, self.X_binned, True,
                                self.bin_mapper.missing_bin_, outputs[:, k : k + 1])
            trees.append(tree.nodes)
        return trees, outputs

    def _draw_rows(self) -> np.ndarray | None:
        """The rows of this stage's trees (None: all), sorted, as uint32."""
        if self.subsample >= 1.0:
            return None
        n_rows = max(1, int(self.subsample * self.n_samples))
        rng = np.random.default_rng([self.seed, self._n_grown])
        rows = rng.choice(self.n_samples, size=n_rows, replace=False)
        return np.sort(rows).astype(np.uint32)

    def _next_tree_seed(self) -> int:
        """The seed of the next tree's draws: from ``(seed, trees grown)``."""
        seed = int(np.random.SeedSequence([self.seed, self._n_grown])
                   .generate_state(1, np.uint64)[0])
        self._n_grown += 1
        return seed

    def _grow(self, gradients, hessians, rows):
        mapper = self.bin_mapper
        seed = self._next_tree_seed()
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
            is_categorical=mapper.is_categorical_,
            monotonic_cst=self.monotonic_cst,
            max_features=self.max_features,
            seed=seed,
            sample_indices=rows,
        ).grow()


def fit_stage(policy, schedule, fitter, train, val, ensemble, loss):
    """Fit one stage and add it: plan, grow, step (restart rule included).

    Parameters
    ----------
    policy : StagePolicy
        Plans the stage, grows its trees and steps.
    schedule : Schedule
        Where the momentum stands before the stage.
    fitter : StageFitter
        Grows the trees on ``train``.
    train, val : Dataset
        The training data, and the validation data or None; both are moved
        to the new stage's state.
    ensemble : TreeEnsemble
        The model; the stage is added to it.
    loss : callable
        ``loss(y, raw, sample_weight)``: the training loss a momentum step
        must not raise (the restart rule's reference).

    Returns
    -------
    step : Step
        The stage as taken.
    """
    stage = policy.plan(schedule)
    grown = policy.grow(fitter, train.state, stage, train.aux)
    step = policy.advance(
        fitter, train.state, train.aux, stage, grown, lambda: train.loss(loss)
    )
    # The kept step's loss is the next stage's reference: no second pass.
    train.advance(step.state, step.loss)
    ensemble.add_stage(step.trees, step.stage)
    if val is not None:
        val.advance_with_last_stage(ensemble)
    return step
