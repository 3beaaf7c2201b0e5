"""An additive ensemble of trees, each with its own coefficient.

The model is ``F(x) = baseline + sum_j coef[j] * tree_j(x)``. How the
coefficients arise is the stage policy's business: the ensemble keeps, next
to the trees, one record per stage, and ``coef`` is the model part of the
policy's state in coefficient space (the same recursion as on data, with
unit vectors as tree outputs). Prediction folds ``coef`` into the leaves, so
an accelerated model predicts as fast as a plain one; ``staged_raw_predict``
replays the recursion stage by stage instead.

A fit adds stages one at a time and, with early stopping, applies each new
stage to the validation set at once, so adding a stage must not cost more as
the ensemble grows:

- the plain (unscaled) packed node array grows by appending only the trees
  not packed yet, in buffers that double when full;
- the coefficients, which the fit loop never needs, are computed only when
  ``coef`` is asked for: in closed form when the policy has one (stacking,
  one backward pass over the stages), else by the recursion over the
  stages not applied yet;
- the folded packing is built from the plain one when ``raw_predict`` needs
  it, and kept until the next stage.
"""

import numpy as np

from ._engine.common import CATEGORY_WORDS, PREDICTOR_NODE_DTYPE
from ._engine.predictor import add_tree_values, convert_trees, scale_leaves, starts_of
from ._stages import Stage


def _grown(buffer: np.ndarray, size: int) -> np.ndarray:
    """``buffer`` if its last axis holds ``size``, else a copy at least twice as long.

    The new space is zero-filled.
    """
    capacity = buffer.shape[-1]
    if size <= capacity:
        return buffer
    grown = np.zeros(buffer.shape[:-1] + (max(size, 2 * capacity),), buffer.dtype)
    grown[..., :capacity] = buffer
    return grown


class _PackedTrees:
    """Trees in predictor form, packed into buffers that grow by doubling."""

    def __init__(self):
        self.n_nodes = 0
        self.n_trees = 0
        self.n_bitsets = 0
        self._nodes = np.zeros(0, dtype=PREDICTOR_NODE_DTYPE)
        self._starts = np.zeros(0, dtype=np.intp)
        self._columns = np.zeros(0, dtype=np.intp)
        self._bitsets = np.zeros((CATEGORY_WORDS, 0), dtype=np.uint64)

    def append(self, trees: list[np.ndarray], columns: list[int]) -> None:
        """Append trees (with their output columns) after the packed ones."""
        nodes, sizes, bitsets = convert_trees(trees)
        nodes["bitset_row"][nodes["is_categorical"] != 0] += self.n_bitsets
        n_nodes = self.n_nodes + len(nodes)
        n_trees = self.n_trees + len(trees)
        n_bitsets = self.n_bitsets + bitsets.shape[1]
        self._nodes = _grown(self._nodes, n_nodes)
        self._starts = _grown(self._starts, n_trees)
        self._columns = _grown(self._columns, n_trees)
        self._bitsets = _grown(self._bitsets, n_bitsets)
        self._nodes[self.n_nodes : n_nodes] = nodes
        self._starts[self.n_trees : n_trees] = starts_of(sizes, self.n_nodes)
        self._columns[self.n_trees : n_trees] = columns
        self._bitsets[:, self.n_bitsets : n_bitsets] = bitsets
        self.n_nodes, self.n_trees, self.n_bitsets = n_nodes, n_trees, n_bitsets

    @property
    def bitsets(self) -> np.ndarray:
        """Left categories of the packed categorical splits (a view)."""
        return self._bitsets[:, : self.n_bitsets]

    @property
    def capacity(self) -> int:
        """Nodes the buffer holds before it must grow."""
        return len(self._nodes)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(nodes, tree_starts, tree_columns)`` of the packed trees (views)."""
        return (
            self._nodes[: self.n_nodes],
            self._starts[: self.n_trees],
            self._columns[: self.n_trees],
        )

    def folded(self, coef: np.ndarray) -> np.ndarray:
        """The packed nodes with ``coef`` folded into each tree's leaves."""
        nodes, starts, _ = self.arrays
        sizes = np.diff(starts, append=self.n_nodes)
        return scale_leaves(nodes, sizes, coef)

    def copy(self) -> "_PackedTrees":
        other = _PackedTrees()
        other.n_nodes, other.n_trees = self.n_nodes, self.n_trees
        other.n_bitsets = self.n_bitsets
        other._nodes, other._starts, other._columns = (a.copy() for a in self.arrays)
        other._bitsets = self.bitsets.copy()
        return other


class _CoefficientRecursion:
    """The policy's recursion in coefficient space, applied stage by stage.

    Each part of the policy's state has one entry per tree. Stage ``k``
    appends zeros for its trees and then steps the state with one unit
    vector per role (ones at the role's trees), exactly as on data. The
    parts live in two sets of buffers with room to grow: a step reads one
    set and its result is copied into the other, so the buffers never alias
    what the policy returns.
    """

    def __init__(self, policy, n_outputs: int):
        self.policy = policy
        self.n_outputs = n_outputs
        self.n_stages = 0  # stages applied so far
        n_parts = len(policy.start(np.zeros(0)))
        self._buffers = np.zeros((2, n_parts, 0))  # (side, part, tree)
        self._side = 0  # the set holding the state
        self._units = np.zeros((policy.n_roles, 0))

    @property
    def n_trees(self) -> int:
        """Trees covered by the state."""
        return self.n_stages * self.n_outputs * self.policy.n_roles

    @property
    def state(self) -> tuple:
        """The policy's state after the applied stages (views; do not keep)."""
        return tuple(self._buffers[self._side, :, : self.n_trees])

    def advance(self, stages: list[Stage]) -> None:
        """Apply ``stages[self.n_stages:]``, the stages not applied yet."""
        n_roles = self.policy.n_roles
        for stage in stages[self.n_stages :]:
            first = self.n_trees
            n = first + self.n_outputs * n_roles
            self._buffers = _grown(self._buffers, n)
            self._units = _grown(self._units, n)
            units = self._units[:, :n]
            for role in range(n_roles):
                lo = first + role * self.n_outputs
                units[role, lo : lo + self.n_outputs] = 1.0
            result = self.policy.step(
                tuple(self._buffers[self._side, :, :n]), list(units), stage
            )
            target = self._buffers[1 - self._side, :, :n]
            for part, values in zip(target, result, strict=True):
                part[...] = values
            units[:, first:n] = 0.0
            self._side = 1 - self._side
            self.n_stages += 1

    def copy(self) -> "_CoefficientRecursion":
        """An independent copy, trimmed to the applied stages."""
        other = _CoefficientRecursion.__new__(_CoefficientRecursion)
        other.__dict__.update(self.__getstate__())
        return other

    def __getstate__(self):
        state = self.__dict__.copy()
        n_parts = self._buffers.shape[1]
        buffers = np.zeros((2, n_parts, self.n_trees))
        buffers[0] = self._buffers[self._side, :, : self.n_trees]
        state["_buffers"], state["_side"] = buffers, 0
        state["_units"] = np.zeros((self.policy.n_roles, 0))
        return state


class TreeEnsemble:
    """Trees, their output columns and coefficients, and the baseline.

    Parameters
    ----------
    baseline : ndarray of shape (n_outputs,)
        Raw prediction before any tree.
    policy : StackingPolicy or AGBMPolicy
        The stage policy whose recursion combines the trees.
    """

    def __init__(self, baseline: np.ndarray, policy):
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.policy = policy
        self.trees: list[np.ndarray] = []
        self.stages: list[Stage] = []
        self._recursion = _CoefficientRecursion(policy, self.n_outputs)
        self._drop_derived()

    def _drop_derived(self):
        """Forget everything rebuilt on demand from the trees and stages."""
        self._packed = _PackedTrees()
        self._coef = None
        self._folded = None

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
        """Weight of each tree in the final model (read-only)."""
        if self._coef is None:
            coef = self.policy.coefficients(self.stages, self.n_outputs)
            if coef is None:  # no closed form: the recursion on unit vectors
                self._recursion.advance(self.stages)
                coef = self._recursion.state[0].copy()
            self._coef = coef
            self._coef.flags.writeable = False
        return self._coef

    def add_stage(self, trees_by_role: list[list[np.ndarray]], stage: Stage) -> None:
        """Append one stage: per role, one tree per output column."""
        if len(trees_by_role) != self.policy.n_roles or any(
            len(trees) != self.n_outputs for trees in trees_by_role
        ):
            raise ValueError(
                f"a stage has {self.policy.n_roles} role(s) of {self.n_outputs} "
                "tree(s) each"
            )
        for trees in trees_by_role:
            self.trees.extend(trees)
        self.stages.append(stage)
        self._coef = None
        self._folded = None

    def split_totals(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """Per feature, the total gain and the number of splits of all trees.

        Parameters
        ----------
        n_features : int
            Number of features.

        Returns
        -------
        gains, counts : ndarray of shape (n_features,)
            Sum of the split gains, and the number of splits, on each feature.
        """
        if not self.trees:
            return np.zeros(n_features), np.zeros(n_features)
        nodes = np.concatenate(self.trees)
        splits = nodes[nodes["is_leaf"] == 0]
        features = splits["feature_idx"].astype(np.intp)
        gains = np.bincount(features, weights=splits["gain"], minlength=n_features)
        counts = np.bincount(features, minlength=n_features).astype(np.float64)
        return gains, counts

    def copy(self) -> "TreeEnsemble":
        """A copy that can grow without changing this one."""
        other = TreeEnsemble.__new__(TreeEnsemble)
        other.__dict__.update(self.__dict__)
        other.trees = list(self.trees)
        other.stages = list(self.stages)
        other._recursion = self._recursion.copy()
        other._packed = self._packed.copy()
        return other

    def truncated(self, n_stages: int) -> "TreeEnsemble":
        """The model of the first ``n_stages`` stages (this one if all).

        Its coefficients are those of the shorter recursion, not a slice of
        this model's: with momentum a stage's weight depends on the stages
        after it.
        """
        if n_stages >= self.n_stages:
            return self
        other = TreeEnsemble(self.baseline, self.policy)
        other.trees = self.trees[: n_stages * self.trees_per_stage]
        other.stages = self.stages[:n_stages]
        return other

    def _plain(self):
        """``(nodes, tree_starts, tree_columns)`` of all trees, leaves unscaled."""
        packed = self._packed
        if packed.n_trees < len(self.trees):
            packed.append(
                self.trees[packed.n_trees :],
                self.columns[packed.n_trees :].tolist(),
            )
        return packed.arrays

    @property
    def bitsets(self) -> np.ndarray:
        """Left categories of all categorical splits, for the predictor kernels."""
        self._plain()
        return self._packed.bitsets

    @property
    def columns(self) -> np.ndarray:
        """Output column of each tree: stages hold, per role, one per column."""
        return np.arange(len(self.trees)) % self.n_outputs

    def folded_arrays(self):
        """``(nodes, tree_starts, tree_columns)``, coefficients folded into leaves."""
        _, starts, columns = self._plain()
        if self._folded is None:
            self._folded = self._packed.folded(self.coef)
        return self._folded, starts, columns

    def raw_predict(self, X, binned=False, missing_bin=0, first_stage=0) -> np.ndarray:
        """Raw predictions of shape (n_samples, n_outputs), coefficients folded.

        With ``first_stage`` the trees of the stages before it are left out
        (the baseline stays), as XGBoost's ``iteration_range`` slices trees.
        """
        folded, starts, columns = self.folded_arrays()
        raw = np.tile(self.baseline, (X.shape[0], 1))
        add_tree_values(
            folded, self.bitsets, starts, columns, first_stage * self.trees_per_stage,
            len(self.trees), X, binned, missing_bin, raw,
        )
        return raw

    def stage_outputs(self, X, stage, binned=False, missing_bin=0) -> list:
        """Unscaled outputs of a stage's trees, one (n, n_outputs) array per role."""
        nodes, starts, columns = self._plain()
        first = stage * self.trees_per_stage
        outputs = []
        for role in range(self.policy.n_roles):
            out = np.zeros((X.shape[0], self.n_outputs))
            lo = first + role * self.n_outputs
            add_tree_values(
                nodes, self.bitsets, starts, columns, lo, lo + self.n_outputs, X,
                binned, missing_bin, out,
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
        # Derived from the trees; rebuilt on first use. The coefficient state
        # is kept: rebuilding it replays every stage over every tree.
        for name in ("_packed", "_coef", "_folded"):
            state.pop(name)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._drop_derived()
