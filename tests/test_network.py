"""Dense networks: gradients, K-FAC factors and input gradients against
finite differences and per-sample NumPy constructions."""

import numpy as np
import pytest

from accelboost.parametric._network import (
    Activations,
    backward,
    curvature_factors,
    forward,
    init_params,
    input_gradient,
    layer_shapes,
)


def _network(hidden, n_inputs=4, n_outputs=2, seed=0):
    shapes = layer_shapes(n_inputs, hidden, n_outputs)
    rng = np.random.default_rng(seed)
    params = init_params(shapes, [0.7] * len(shapes), rng)
    for theta in params:  # non-zero biases, so their gradients are tested too
        theta[-1] = rng.normal(size=theta.shape[1])
    X = rng.normal(size=(9, n_inputs))
    return params, X


def test_layer_roles():
    assert [s.role for s in layer_shapes(3, (), 1)] == ["single"]
    assert [s.role for s in layer_shapes(3, (5, 6, 7), 2)] == [
        "input", "hidden", "hidden", "output"
    ]
    assert [s.shape for s in layer_shapes(3, (5,), 2)] == [(4, 5), (6, 2)]


def test_forward_matches_explicit_layers():
    params, X = _network((5, 3), n_outputs=2)
    h1 = np.maximum(X @ params[0][:-1] + params[0][-1], 0)
    h2 = np.maximum(h1 @ params[1][:-1] + params[1][-1], 0)
    expected = h2 @ params[2][:-1] + params[2][-1]
    np.testing.assert_allclose(forward(params, X, "relu"), expected, rtol=1e-12)


def test_zero_output_keeps_the_hidden_draws():
    shapes = layer_shapes(3, (4,), 1)
    a = init_params(shapes, [1.0, 1.0], np.random.default_rng(1))
    b = init_params(shapes, [1.0, 1.0], np.random.default_rng(1), zero_output=True)
    np.testing.assert_array_equal(a[0], b[0])
    assert not b[1].any() and a[1][:-1].any()


@pytest.mark.parametrize("activation", ["tanh", "identity", "relu"])
@pytest.mark.parametrize("hidden", [(), (6,), (5, 4)])
def test_backward_matches_finite_differences(activation, hidden):
    params, X = _network(hidden)
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.5, 2.0, size=(X.shape[0], 2))

    def objective(ps):  # a weighted linear functional of the outputs
        return float(np.sum(weights * forward(ps, X, activation)))

    cache = Activations()
    forward(params, X, activation, cache)
    grads = backward(params, cache, weights, activation)
    eps = 1e-6
    for layer, theta in enumerate(params):
        numeric = np.zeros_like(theta)
        for index in np.ndindex(theta.shape):
            old = theta[index]
            theta[index] = old + eps
            up = objective(params)
            theta[index] = old - eps
            down = objective(params)
            theta[index] = old
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[layer], numeric, rtol=1e-5, atol=1e-6)


def test_curvature_factors_match_per_sample_construction():
    params, X = _network((5,), n_outputs=2)
    rng = np.random.default_rng(4)
    h = rng.uniform(0.1, 1.0, size=(X.shape[0], 2))
    w = rng.uniform(0.5, 2.0, size=X.shape[0])
    cache = Activations()
    forward(params, X, "tanh", cache)
    factors = curvature_factors(params, cache, h, w, "tanh")
    # Reference: per sample and output, backpropagate sqrt(h) e_k by hand.
    W1, W2 = params[0][:-1], params[1][:-1]
    z1 = X @ W1 + params[0][-1]
    a1 = np.tanh(z1)
    A0 = np.zeros((5, 5))
    A1 = np.zeros((6, 6))
    G0 = np.zeros((5, 5))
    G1 = np.zeros((2, 2))
    for i in range(X.shape[0]):
        x_h = np.append(X[i], 1.0)
        a_h = np.append(a1[i], 1.0)
        A0 += w[i] * np.outer(x_h, x_h)
        A1 += w[i] * np.outer(a_h, a_h)
        for k in range(2):
            s_out = np.zeros(2)
            s_out[k] = np.sqrt(h[i, k])
            s_hidden = (W2 @ s_out) * (1 - np.tanh(z1[i]) ** 2)
            G1 += np.outer(s_out, s_out)
            G0 += np.outer(s_hidden, s_hidden)
    total = w.sum()
    for (A, G), (A_ref, G_ref) in zip(factors, [(A0, G0), (A1, G1)], strict=True):
        np.testing.assert_allclose(A, A_ref / total, rtol=1e-12)
        np.testing.assert_allclose(G, G_ref / total, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("hidden", [(), (7,), (6, 5)])
def test_input_gradient_matches_finite_differences(hidden):
    params, X = _network(hidden, n_outputs=3)
    gradients = input_gradient(params, X, "tanh")
    assert gradients.shape == (X.shape[0], 3, X.shape[1])
    eps = 1e-6
    for j in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[j] = eps
        numeric = (forward(params, X + step, "tanh")
                   - forward(params, X - step, "tanh")) / (2 * eps)
        np.testing.assert_allclose(gradients[:, :, j], numeric, rtol=1e-6, atol=1e-8)


def test_input_gradient_of_a_linear_model_is_its_weights():
    params, X = _network((), n_outputs=1)
    gradients = input_gradient(params, X, "relu")
    expected = np.tile(params[0][:-1, 0], (9, 1))
    np.testing.assert_array_equal(gradients[:, 0, :], expected)
