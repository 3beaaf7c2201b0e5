"""accelboost: accelerated gradient boosting on histogram trees.

Each new stage of the additive ensemble can start from the previous learner
(stacking), which runs Nesterov's accelerated gradient descent in function
space; starting from zero is plain gradient boosting.
"""

from .additive import AdditiveBoostClassifier, AdditiveBoostRegressor
from .estimators import AccelBoostClassifier, AccelBoostRegressor
from .parametric import StackedBoostClassifier, StackedBoostRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "AccelBoostClassifier",
    "AccelBoostRegressor",
    "AdditiveBoostClassifier",
    "AdditiveBoostRegressor",
    "StackedBoostClassifier",
    "StackedBoostRegressor",
    "__version__",
]
