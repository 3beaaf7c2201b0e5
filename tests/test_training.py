"""Mini-batch training: the batch order and the steps against a hand-written
gradient-descent loop."""

import numpy as np

from accelboost._engine.loss import make_loss
from accelboost.parametric._network import forward, init_params, layer_shapes
from accelboost.parametric._training import BatchSampler, train_steps
from accelboost.parametric.optimizers import SGD


def test_batches_cover_each_epoch_once():
    sampler = BatchSampler(10, 3, np.random.default_rng(0))
    epoch = np.concatenate([sampler.next() for _ in range(3)])
    assert len(np.unique(epoch)) == 9  # the tenth row waits for the next epoch
    second = np.concatenate([sampler.next() for _ in range(3)])
    assert len(np.unique(second)) == 9
    assert not np.array_equal(epoch, second)


def test_full_batch_draws_nothing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    sampler = BatchSampler(10, None, rng)
    assert sampler.next() is None and BatchSampler(10, 50, rng).next() is None
    assert rng.bit_generator.state == state


def test_full_batch_sgd_on_squared_error_is_gradient_descent():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    w = rng.uniform(0.5, 2.0, size=20)
    offset = np.full((20, 1), 0.25)
    shapes = layer_shapes(3, (), 1)
    params = init_params(shapes, [0.1], np.random.default_rng(2))
    theta = params[0].copy()
    optimizer = SGD(learning_rate=0.1)
    losses = train_steps(
        params, "relu", optimizer, optimizer.init(params), X, y, offset,
        make_loss("squared_error"), w, steps=5,
        batches=BatchSampler(20, None, rng),
    )
    Xh = np.hstack([X, np.ones((20, 1))])
    expected = []
    for _ in range(5):
        residual = 0.25 + Xh @ theta[:, 0] - y
        expected.append(np.sum(w * 0.5 * residual**2) / w.sum())
        theta[:, 0] -= 0.1 * Xh.T @ (w * residual) / w.sum()
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    np.testing.assert_allclose(params[0], theta, rtol=1e-12)
    assert forward(params, X, "relu").shape == (20, 1)
