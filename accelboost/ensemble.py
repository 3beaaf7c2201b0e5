"""An additive ensemble of trees, each with its own coefficient.

The model is ``F(x) = baseline + sum_t coef[t] * tree_t(x)``; for a
multiclass model every stage adds one tree per class. Prediction folds the
coefficients into the leaf values once, so the kernel walks plain trees.
"""

import numpy as np

from .predictor import add_tree_values, pack_trees


class TreeEnsemble:
    """Trees, their output columns and coefficients, and the baseline.

    Parameters
    ----------
    baseline : ndarray of shape (n_outputs,)
        Raw prediction before any tree.
    """

    def __init__(self, baseline: np.ndarray):
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.trees: list[np.ndarray] = []
        self.columns: list[int] = []
        self.coef: list[float] = []
        self._packed = None

    @property
    def n_outputs(self) -> int:
        """Number of raw outputs (1, or the number of classes)."""
        return self.baseline.shape[0]

    @property
    def n_stages(self) -> int:
        """Number of boosting stages (trees per output)."""
        return len(self.trees) // self.n_outputs

    def add_stage(self, trees: list[np.ndarray], coef: float) -> None:
        """Append one stage: a tree per output, all with weight ``coef``."""
        for column, tree in enumerate(trees):
            self.trees.append(tree)
            self.columns.append(column)
            self.coef.append(coef)
        self._packed = None

    def truncate(self, n_stages: int) -> None:
        """Keep only the first ``n_stages`` stages."""
        n_trees = n_stages * self.n_outputs
        del self.trees[n_trees:], self.columns[n_trees:], self.coef[n_trees:]
        self._packed = None

    def copy(self) -> "TreeEnsemble":
        """A copy that can grow without changing this one."""
        other = TreeEnsemble(self.baseline)
        other.trees = list(self.trees)
        other.columns = list(self.columns)
        other.coef = list(self.coef)
        return other

    def _pack(self):
        if self._packed is None:
            nodes, starts = pack_trees(self.trees, np.asarray(self.coef))
            self._packed = (nodes, starts, np.asarray(self.columns, dtype=np.intp))
        return self._packed

    def add_stages(
        self, raw, X, first, stop, binned=False, missing_bin=0
    ) -> np.ndarray:
        """Add stages ``[first, stop)`` of the model at ``X`` to ``raw``."""
        nodes, starts, columns = self._pack()
        k = self.n_outputs
        add_tree_values(
            nodes, starts, columns, first * k, stop * k, X, binned, missing_bin, raw
        )
        return raw

    def raw_predict(self, X, binned=False, missing_bin=0) -> np.ndarray:
        """Raw predictions of shape (n_samples, n_outputs)."""
        raw = np.tile(self.baseline, (X.shape[0], 1))
        return self.add_stages(raw, X, 0, self.n_stages, binned, missing_bin)

    def staged_raw_predict(self, X):
        """Yield the raw predictions after each stage (copies)."""
        raw = np.tile(self.baseline, (X.shape[0], 1))
        for stage in range(self.n_stages):
            self.add_stages(raw, X, stage, stage + 1)
            yield raw.copy()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_packed"] = None  # derived; rebuilt on first predict
        return state
