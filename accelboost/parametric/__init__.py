"""Boosting with parametric weak learners (linear models, small MLPs).

With trees, "the new learner starts from the previous one" can only be done
in function space. With a parametric learner it is literal: the new
learner's parameters start as a copy of the previous learner's, output layer
scaled by the momentum, and a few optimizer steps fit it to the current
residual.
"""

from .estimators import StackedBoostClassifier, StackedBoostRegressor

__all__ = ["StackedBoostClassifier", "StackedBoostRegressor"]
