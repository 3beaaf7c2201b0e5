"""scikit-learn's own estimator checks: the suite a peer library must pass.

Nothing is skipped or marked as expected to fail. The array-API check skips
itself unless SCIPY_ARRAY_API is set, so it is set here to make it run.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from accelboost import (  # noqa: E402
    AccelBoostClassifier,
    AccelBoostRegressor,
    AdditiveBoostClassifier,
    AdditiveBoostRegressor,
    StackedBoostClassifier,
    StackedBoostRegressor,
)


@parametrize_with_checks(
    [
        AccelBoostRegressor(max_iter=20, random_state=0),
        AccelBoostClassifier(max_iter=20, random_state=0),
        AdditiveBoostRegressor(max_iter=20, interactions=2, random_state=0),
        AdditiveBoostClassifier(max_iter=20, interactions=2, random_state=0),
        StackedBoostRegressor(max_iter=20, random_state=0),
        StackedBoostClassifier(max_iter=20, random_state=0),
        # The matrix optimizers' path (curvature factors, linear learners).
        StackedBoostClassifier(learner="linear", optimizer="kfac", max_iter=10,
                               random_state=0),
        StackedBoostRegressor(optimizer="shampoo", max_iter=10, random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
