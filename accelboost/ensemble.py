"""An additive ensemble of trees, each with its own coefficient.

The model is ``F(x) = baseline + sum_j coef[j] * tree_j(x)``. How the
coefficients arise is the stage policy's business: the ensemble keeps, next
to the trees, one record per stage and the policy's state in coefficient
space (the same recursion as on data, with unit vectors as tree outputs), so
``coef`` is always that state's model part. Prediction folds ``coef`` into
the leaves, so an accelerated model predicts as fast as a plain one;
``staged_raw_predict`` replays the recursion stage by stage instead.
"""

import numpy as np

from .predictor import add_tree_values, pack_trees
from .stages import Stage


class TreeEnsemble:
    """Trees, their output columns and coefficients, and the baseline.

    Parameters
    ----------
    baseline : ndarray of shape (n_outputs,)
        Raw prediction before any tree.
    policy : StackingInit or AGBMInit
        The stage policy whose recursion combines the trees.
    """

    def __init__(self, baseline: np.ndarray, policy):
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.policy = policy
        self.trees: list[np.ndarray] = []
        self.columns: list[int] = []
        self.stages: list[Stage] = []
        self._coef_state = policy.start(np.zeros(0))
        self._packed = None

    @property
    def n_outputs(self) -> int:
        """Number of raw outputs (1, or the number of classes)."""
        return self.baseline.shape[0]

    @property
    def trees_per_stage(self) -> int:
        """Trees a stage adds: one per output and per policy role."""
        return self.n_outputs * self.policy.n_roles

    @property
    def n_stages(self) -> int:
        """Number of boosting stages."""
        return len(self.stages)

    @property
    def coef(self) -> np.ndarray:
        """Weight of each tree in the final model."""
        return self._coef_state[0]

    def add_stage(self, trees_by_role: list[list[np.ndarray]], stage: Stage) -> None:
        """Append one stage: per role, one tree per output column."""
        n_old = len(self.trees)
        unit_vectors = []
        for trees in trees_by_role:
            unit = np.zeros(n_old + self.trees_per_stage)
            for column, tree in enumerate(trees):
                unit[len(self.trees)] = 1.0
                self.trees.append(tree)
                self.columns.append(column)
            unit_vectors.append(unit)
        state = tuple(
            np.concatenate([s, np.zeros(self.trees_per_stage)])
            for s in self._coef_state
        )
        self._coef_state = self.policy.step(state, unit_vectors, stage)
        self.stages.append(stage)
        self._packed = None

    def copy(self) -> "TreeEnsemble":
        """A copy that can grow without changing this one."""
        other = TreeEnsemble(self.baseline, self.policy)
        other.trees = list(self.trees)
        other.columns = list(self.columns)
        other.stages = list(self.stages)
        other._coef_state = self._coef_state
        return other

    def _pack(self):
        if self._packed is None:
            columns = np.asarray(self.columns, dtype=np.intp)
            folded = pack_trees(self.trees, self.coef)
            plain = pack_trees(self.trees)
            self._packed = (folded, plain, columns)
        return self._packed

    def raw_predict(self, X, binned=False, missing_bin=0) -> np.ndarray:
        """Raw predictions of shape (n_samples, n_outputs), coefficients folded."""
        (nodes, starts), _, columns = self._pack()
        raw = np.tile(self.baseline, (X.shape[0], 1))
        add_tree_values(
            nodes, starts, columns, 0, len(self.trees), X, binned, missing_bin, raw
        )
        return raw

    def stage_outputs(self, X, stage, binned=False, missing_bin=0) -> list:
        """Unscaled outputs of a stage's trees, one (n, n_outputs) array per role."""
        _, (nodes, starts), columns = self._pack()
        first = stage * self.trees_per_stage
        outputs = []
        for role in range(self.policy.n_roles):
            out = np.zeros((X.shape[0], self.n_outputs))
            lo = first + role * self.n_outputs
            add_tree_values(
                nodes, starts, columns, lo, lo + self.n_outputs, X, binned,
                missing_bin, out,
            )
            outputs.append(out)
        return outputs

    def replay(self, X, binned=False, missing_bin=0, before_step=None):
        """Yield the policy's state after each stage, replaying it on ``X``.

        ``before_step(state, stage, outputs)``, if given, sees each stage
        before it is applied (to rebuild training-only state).
        """
        state = self.policy.start(np.tile(self.baseline, (X.shape[0], 1)))
        for index, stage in enumerate(self.stages):
            outputs = self.stage_outputs(X, index, binned, missing_bin)
            if before_step is not None:
                before_step(state, stage, outputs)
            state = self.policy.step(state, outputs, stage)
            yield state

    def staged_raw_predict(self, X):
        """Yield the raw predictions of the model after each stage."""
        for state in self.replay(X):
            yield state[0].copy()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_packed"] = None  # derived; rebuilt on first predict
        return state
