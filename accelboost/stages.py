"""Stage-initialization policies: where each new stage starts.

A policy tells the fit loop at which raw prediction the next stage's trees
are fitted (the gradients are taken there) and with which coefficient the
stage's trees enter the model. Plain gradient boosting is the policy that
starts every stage from zero: trees are fitted at the current model ``F``
and enter it with weight ``learning_rate``::

    b_t = tree fitted to (g, h) at F_{t-1}
    F_t = F_{t-1} + learning_rate * b_t

The accelerated policies (stacking with Nesterov momentum, AGBM) extend this
interface with their own state.
"""

import numpy as np


class ZeroInit:
    """Plain gradient boosting: every stage starts from zero.

    Parameters
    ----------
    learning_rate : float
        Shrinkage of each tree.
    """

    name = "zero"

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate

    def fit_point(self, raw: np.ndarray) -> np.ndarray:
        """Raw prediction at which the next stage's gradients are taken."""
        return raw

    def stage_coef(self) -> float:
        """Coefficient of the next stage's trees in the model."""
        return self.learning_rate
