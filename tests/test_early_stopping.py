"""The held-out split of early stopping (``_early_stopping``): weights on
both sides, errors that name the user's labels, and the estimators' fits
from the fuzzing campaign's reproductions (issue 14)."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import UndefinedMetricWarning

from accelboost import (
    AccelBoostClassifier,
    AccelBoostRegressor,
    AdditiveBoostClassifier,
    AdditiveBoostRegressor,
)
from accelboost._early_stopping import keep_weight_on_both_sides, split_validation

X30 = np.arange(30.0).reshape(-1, 1)


def _one_positive_weight():
    sw = np.zeros(30)
    sw[0] = 1.0
    return sw


@pytest.mark.parametrize("estimator, y", [
    (AccelBoostRegressor(early_stopping=True, random_state=1), X30[:, 0]),
    (AccelBoostClassifier(early_stopping=True, random_state=51), np.arange(30) % 3),
])
def test_one_positive_weight_cannot_be_split_and_says_so(estimator, y):
    # The campaign's reproduction: before, ZeroDivisionError (regression) or
    # an all-NaN predict_proba (multiclass).
    with pytest.raises(ValueError,
                       match="fewer than two samples have a positive weight"):
        estimator.fit(X30, y, sample_weight=_one_positive_weight())


@pytest.mark.parametrize("seed", range(12))
def test_two_positive_weights_end_up_on_both_sides(seed):
    sw = _one_positive_weight()
    sw[17] = 2.0
    y = np.arange(30) % 3
    model = AccelBoostClassifier(early_stopping=True, random_state=seed,
                                 max_iter=20).fit(X30, y, sample_weight=sw)
    assert np.isfinite(model.validation_score_).all()
    assert np.isfinite(model.train_score_).all()
    proba = model.predict_proba(X30)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_keep_weight_on_both_sides_trades_one_row_and_keeps_the_rest():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(4, 40))
        rows = rng.permutation(n)
        n_val = int(rng.integers(1, n))
        train, val = rows[n_val:], rows[:n_val]
        w = np.zeros(n)
        w[rng.choice(n, size=int(rng.integers(2, n + 1)), replace=False)] = 1.0
        new_train, new_val = keep_weight_on_both_sides(train, val, w, 0.1)
        # Same sizes, same rows overall, positive weight on both sides.
        assert len(new_train) == len(train) and len(new_val) == len(val)
        assert_array_equal(np.sort(np.concatenate([new_train, new_val])),
                           np.arange(n))
        assert w[new_train].sum() > 0 and w[new_val].sum() > 0
        if w[train].sum() > 0 and w[val].sum() > 0:  # nothing to fix
            assert_array_equal(new_train, train)
            assert_array_equal(new_val, val)
        else:  # one row each way
            assert len(np.setdiff1d(new_train, train)) == 1


def test_the_traded_rows_share_a_class_when_they_can():
    # Every positive weight is in training; the row that goes over (class 2)
    # is replaced by validation's first row of class 2, not its first row
    # (class 0), so training keeps every class.
    y = np.array([0, 1, 2, 0, 1, 2, 1, 2])
    w = np.zeros(8)
    w[[2, 5]] = 1.0
    train, val = np.array([0, 1, 2, 4, 5]), np.array([3, 6, 7])
    new_train, new_val = keep_weight_on_both_sides(train, val, w, 0.3, y)
    assert_array_equal(new_train, [0, 1, 7, 4, 5])
    assert_array_equal(new_val, [3, 6, 2])
    # Without the classes, the first row of validation comes back.
    new_train, _ = keep_weight_on_both_sides(train, val, w, 0.3)
    assert_array_equal(new_train, [0, 1, 3, 4, 5])


def test_split_is_the_one_train_test_split_makes():
    # Splitting indices rather than arrays changes nothing.
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 3, 50).astype(float)
    w = rng.uniform(0.5, 2.0, 50)
    (X_a, y_a, w_a), (X_b, y_b, w_b) = split_validation(
        X, y, w, 0.2, classes=np.array(["a", "b", "c"]), seed=7)
    expected = train_test_split(X, y, w, test_size=0.2, stratify=y, random_state=7)
    for got, want in zip((X_a, X_b, y_a, y_b, w_a, w_b), expected, strict=True):
        assert_array_equal(got, want)


def test_a_validation_set_without_positive_weight_is_an_error():
    # scikit-learn's weight check says so before any fitting.
    with pytest.raises(ValueError, match="at least one non-zero"):
        AccelBoostRegressor(max_iter=5).fit(
            X30, X30[:, 0], X_val=X30[:5], y_val=X30[:5, 0],
            sample_weight_val=np.zeros(5))


def test_too_few_members_names_the_users_label():
    y = np.array(["dog"] * 29 + ["cat"])
    with pytest.raises(ValueError,
                       match=r"Classes with too few members are: \['cat'\]"):
        AccelBoostClassifier(early_stopping=True).fit(X30, y)


@pytest.mark.parametrize("estimator", [AccelBoostClassifier, AdditiveBoostClassifier])
def test_a_singleton_class_is_named_by_the_additive_models_too(estimator):
    # The additive bags split with the same function (before: scikit-learn's
    # "minimum number of groups" error).
    y = np.array(["dog"] * 29 + ["cat"])
    with pytest.raises(ValueError, match=r"too few members are: \['cat'\]"):
        estimator(early_stopping=True, random_state=0).fit(X30, y)


@pytest.mark.parametrize("estimator, n, y", [
    (AccelBoostRegressor, 1, [1.0]),
    (AccelBoostClassifier, 6, [0, 1, 2, 0, 1, 2]),  # 10% of 6 rows: < 3 classes
    (AdditiveBoostClassifier, 6, [0, 1, 2, 0, 1, 2]),
])
def test_a_split_too_small_for_its_parts_names_validation_fraction(estimator, n, y):
    # Found by fuzzing: the error was train_test_split's, naming test_size.
    with pytest.raises(ValueError, match=r"validation_fraction=0.1 cannot hold "
                       rf"out a validation set from {n} samples") as error:
        estimator(early_stopping=True, validation_fraction=0.1,
                  random_state=0).fit(X30[:n], np.array(y))
    assert "test_size" not in str(error.value)


@pytest.mark.parametrize("loss", ["poisson", "tweedie"])
def test_a_training_part_without_positive_targets_is_an_error(loss):
    # Found by fuzzing: sum(y) > 0 held for the data but not for the rows left
    # after the split; the baseline was log(0) and predictions -inf.
    y = np.zeros(30)
    y[0] = 3.0
    seed = next(s for s in range(100) if 0 not in _training_rows(y, s))
    with pytest.raises(ValueError, match=r"requires sum\(y\) > 0\. The "
                       "training part left by holding out validation_fraction"):
        AccelBoostRegressor(loss=loss, early_stopping=True,
                            random_state=seed).fit(X30, y)


def _training_rows(y, random_state):
    """The training rows an estimator of this random_state keeps."""
    from accelboost._early_stopping import split_rows

    seed = AccelBoostRegressor(random_state=random_state)._draw_seed()
    return split_rows(y, None, 0.1, seed=seed)[0]


def test_additive_model_bags_keep_weight_on_both_sides():
    sw = _one_positive_weight()
    sw[29] = 1.0
    model = AdditiveBoostRegressor(early_stopping=True, n_bags=3,
                                   random_state=0).fit(X30, X30[:, 0], sample_weight=sw)
    assert np.isfinite(model.predict(X30)).all()


def test_predict_is_the_last_staged_predict_after_a_divergence():
    # The campaign's reproduction of an infinite leaf folded with weight 0.
    rng = np.random.default_rng(1220)
    rng.integers(10, 80)
    rng.integers(2, 4)
    X = rng.normal(size=(42, 1))
    y = np.arange(42) % 3
    rng.shuffle(y)
    model = AccelBoostClassifier(
        stage_init="agbm", restart=None, learning_rate=1.0, max_iter=23,
        max_leaf_nodes=2, min_samples_leaf=3, early_stopping=False).fit(X, y)
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba, list(model.staged_predict_proba(X))[-1],
                               rtol=0, atol=1e-12)


def test_a_scorer_that_gives_nan_is_an_error_not_a_silent_best_stage():
    # Found by fuzzing: r2 on a held-out part of one sample is NaN, and
    # early stopping picked its best stage among NaN (the baseline).
    model = AccelBoostRegressor(max_iter=5, random_state=0).fit(X30, X30[:, 0])
    expected = model.predict(X30)
    with pytest.raises(ValueError, match=r"scoring='r2' gave nan on 1 samples"), \
            pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        model.set_params(early_stopping=True, scoring="r2",
                         validation_fraction=1).fit(X30, X30[:, 0])
    assert_array_equal(model.predict(X30), expected)
