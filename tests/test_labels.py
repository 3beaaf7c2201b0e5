"""Class labels shared by the classifiers: indices, one-class and unknown-label
errors, and the warm-start message."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from accelboost import AccelBoostClassifier
from accelboost._labels import encode_known_labels, encode_labels


def test_labels_become_sorted_indices():
    classes, encoded = encode_labels(np.array(["b", "a", "c", "a"]))
    assert classes.tolist() == ["a", "b", "c"]
    assert encoded.dtype == np.float64
    assert encoded.tolist() == [1.0, 0.0, 2.0, 0.0]
    np.testing.assert_array_equal(
        encode_known_labels(["c", "a"], classes), [2.0, 0.0]
    )


def test_one_class_and_unknown_labels_are_named():
    with pytest.raises(ValueError, match=r"only one class \(3\)"):
        encode_labels([3, 3, 3])
    with pytest.raises(ValueError, match=r"only one class \('cat'\)"):
        encode_labels(np.array(["cat", "cat"]))
    with pytest.raises(ValueError, match=r"y_val contains .* \['z'\]"):
        encode_known_labels(["a", "z"], np.array(["a", "b"]))
    with pytest.raises(ValueError, match="Unknown label type"):
        encode_labels([0.5, 1.5, 2.5])


def test_warm_start_cannot_add_a_class():
    X, y = load_iris(return_X_y=True)
    model = AccelBoostClassifier(max_iter=2, warm_start=True)
    model.fit(X[y < 2], y[y < 2])
    model.set_params(max_iter=4)
    with pytest.raises(ValueError, match="warm_start cannot add classes"):
        model.fit(X, y)
    assert model.n_iter_ == 2
