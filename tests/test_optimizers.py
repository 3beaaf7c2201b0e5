"""Optimizers against independent NumPy references and closed-form facts.

The problem: two layers, each with the quadratic loss
``0.5 tr(Theta^T H Theta) - tr(B^T Theta)`` (H SPD), whose gradient is
``H Theta - B``. The references below are written from the algorithms'
papers / PyTorch's formulas, functionally (no in-place buffers), and do not
import the code under test.
"""

import dataclasses

import numpy as np
import pytest
from scipy.linalg import fractional_matrix_power

from accelboost.parametric._network import (
    Activations,
    backward,
    curvature_factors,
    forward,
)
from accelboost.parametric._parameterization import LayerScale
from accelboost.parametric.optimizers import (
    KFAC,
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Optimizer,
    RMSProp,
    Shampoo,
    make_optimizer,
)

N_STEPS = 6
SHAPES = [(5, 3), (4, 2)]  # (fan_in + 1, fan_out) of two layers
LR_SCALES = [1.0, 0.5]


def spd(rng, size, spread=1.0):
    m = rng.standard_normal((size, size + 2))
    return m @ m.T / (size + 2) + spread * np.eye(size)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    hessians = [spd(rng, rows) for rows, _ in SHAPES]
    targets = [rng.standard_normal(shape) for shape in SHAPES]
    theta0 = [rng.standard_normal(shape) for shape in SHAPES]
    # K-FAC's batch factors, one (A, G) per layer and step.
    curvature = [
        [(spd(rng, rows, 0.2), spd(rng, cols, 0.2)) for rows, cols in SHAPES]
        for _ in range(N_STEPS)
    ]
    return {"H": hessians, "B": targets, "theta0": theta0, "curvature": curvature}


def gradients(params, problem):
    return [
        h @ t - b for h, t, b in zip(problem["H"], params, problem["B"], strict=True)
    ]


def run(optimizer, problem, scales=None, n_steps=N_STEPS):
    """Trajectory (a copy of the parameters after each step)."""
    params = [t.copy() for t in problem["theta0"]]
    state = optimizer.init(params, scales)
    trajectory = []
    for step in range(n_steps):
        curvature = problem["curvature"][step] if optimizer.needs_curvature else None
        optimizer.step(params, gradients(params, problem), state, curvature)
        trajectory.append([t.copy() for t in params])
    return trajectory


def reference_run(update, problem, lr, lr_scales, n_steps=N_STEPS):
    """Drive a functional reference ``update(memory, theta, g, lr_l, t, layer)``.

    ``update`` returns the new theta and the new memory of that layer.
    """
    params = [t.copy() for t in problem["theta0"]]
    memory = [{} for _ in params]
    trajectory = []
    for t in range(1, n_steps + 1):
        grads = gradients(params, problem)
        for layer in range(len(params)):
            params[layer], memory[layer] = update(
                memory[layer],
                params[layer],
                grads[layer],
                lr * lr_scales[layer],
                t,
                layer,
            )
        trajectory.append([p.copy() for p in params])
    return trajectory


def assert_same_trajectory(got, want, rtol=1e-11):
    for step, (got_step, want_step) in enumerate(zip(got, want, strict=True)):
        for layer, (a, b) in enumerate(zip(got_step, want_step, strict=True)):
            np.testing.assert_allclose(
                a, b, rtol=rtol, atol=1e-14, err_msg=f"step {step}, layer {layer}"
            )


# --- References ------------------------------------------------------------


def sgd_reference(momentum=0.0, nesterov=False, l2=0.0):
    def update(memory, theta, g, lr, t, layer):
        g = g + l2 * theta
        if momentum == 0:
            return theta - lr * g, memory
        buf = g if t == 1 else momentum * memory["buf"] + g
        d = g + momentum * buf if nesterov else buf
        return theta - lr * d, {"buf": buf}

    return update


def adagrad_reference(eps, l2):
    def update(memory, theta, g, lr, t, layer):
        g = g + l2 * theta
        total = memory.get("sum", 0.0) + g**2
        return theta - lr * g / (np.sqrt(total) + eps), {"sum": total}

    return update


def rmsprop_reference(rho, eps, l2):
    def update(memory, theta, g, lr, t, layer):
        g = g + l2 * theta
        v = rho * memory.get("v", 0.0) + (1 - rho) * g**2
        return theta - lr * g / (np.sqrt(v) + eps), {"v": v}

    return update


def adam_reference(beta1, beta2, eps, l2, weight_decay=0.0):
    # PyTorch's arrangement: step size lr / (1 - beta1^t), denominator
    # sqrt(v) / sqrt(1 - beta2^t) + eps.
    def update(memory, theta, g, lr, t, layer):
        g = g + l2 * theta
        m = beta1 * memory.get("m", 0.0) + (1 - beta1) * g
        v = beta2 * memory.get("v", 0.0) + (1 - beta2) * g**2
        denominator = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        theta = theta * (1 - lr * weight_decay)
        return theta - lr / (1 - beta1**t) * m / denominator, {"m": m, "v": v}

    return update


def kfac_reference(problem, damping, ema, l2, damping_scales):
    def update(memory, theta, g, lr, t, layer):
        g = g + l2 * theta
        A_batch, G_batch = problem["curvature"][t - 1][layer]
        if t == 1:
            A, G = A_batch, G_batch
        else:
            A = ema * memory["A"] + (1 - ema) * A_batch
            G = ema * memory["G"] + (1 - ema) * G_batch
        rho_A = damping * damping_scales[layer][0]
        rho_G = damping * damping_scales[layer][1]
        A_inv = np.linalg.inv(A + rho_A * np.eye(len(A)))
        G_inv = np.linalg.inv(G + rho_G * np.eye(len(G)))
        return theta - lr * A_inv @ g @ G_inv, {"A": A, "G": G}

    return update


def shampoo_reference(eps, exponent, l2):
    def update(memory, theta, g, lr, t, layer):
        g = g + l2 * theta
        L = memory.get("L", eps * np.eye(g.shape[0])) + g @ g.T
        R = memory.get("R", eps * np.eye(g.shape[1])) + g.T @ g
        d = (
            fractional_matrix_power(L, -exponent)
            @ g
            @ fractional_matrix_power(R, -exponent)
        )
        return theta - lr * np.real(d), {"L": L, "R": R}

    return update


KFAC_DAMPING_SCALES = [(2.0, 0.5), (0.25, 3.0)]

CASES = {
    "sgd": (SGD(0.1), sgd_reference()),
    "sgd_l2": (SGD(0.1, l2=0.3), sgd_reference(l2=0.3)),
    "momentum": (SGD(0.05, momentum=0.9), sgd_reference(0.9)),
    "nesterov": (
        SGD(0.05, momentum=0.8, nesterov=True, l2=0.1),
        sgd_reference(0.8, True, 0.1),
    ),
    "adagrad": (AdaGrad(0.1, eps=1e-3, l2=0.2), adagrad_reference(1e-3, 0.2)),
    "rmsprop": (RMSProp(0.01, rho=0.9, l2=0.1), rmsprop_reference(0.9, 1e-8, 0.1)),
    "adam": (Adam(0.01, beta2=0.99, l2=0.1), adam_reference(0.9, 0.99, 1e-8, 0.1)),
    "adamw": (
        AdamW(0.01, eps=1e-3, l2=0.1, weight_decay=0.5),
        adam_reference(0.9, 0.999, 1e-3, 0.1, weight_decay=0.5),
    ),
    "shampoo": (Shampoo(0.1, eps=1e-3, l2=0.1), shampoo_reference(1e-3, 0.25, 0.1)),
    "shampoo_half": (Shampoo(0.1, exponent=0.5), shampoo_reference(1e-4, 0.5, 0.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference_with_layer_learning_rates(problem, case):
    optimizer, update = CASES[case]
    scales = [LayerScale(learning_rate=s) for s in LR_SCALES]
    got = run(optimizer, problem, scales)
    want = reference_run(update, problem, optimizer.learning_rate, LR_SCALES)
    # Shampoo's reference takes its roots by Schur decomposition, not eigh.
    assert_same_trajectory(got, want, rtol=1e-8 if "shampoo" in case else 1e-11)


def test_kfac_matches_reference_with_layer_scales(problem):
    optimizer = KFAC(0.5, damping=0.1, ema_decay=0.8, l2=0.05)
    scales = [
        LayerScale(lr, *damping)
        for lr, damping in zip(LR_SCALES, KFAC_DAMPING_SCALES, strict=True)
    ]
    got = run(optimizer, problem, scales)
    update = kfac_reference(problem, 0.1, 0.8, 0.05, KFAC_DAMPING_SCALES)
    want = reference_run(update, problem, 0.5, LR_SCALES)
    assert_same_trajectory(got, want)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_layer_scale_is_a_learning_rate_multiplier(problem, name):
    # Layer 1 at scale 0.5 moves as it would with half the learning rate.
    optimizer = make_optimizer(name, learning_rate=0.2)
    halved = dataclasses.replace(optimizer, learning_rate=0.1)
    scaled = run(optimizer, problem, [LayerScale(1.0), LayerScale(0.5)])
    full = run(optimizer, problem)
    half = run(halved, problem)
    for got, first, second in zip(scaled, full, half, strict=True):
        np.testing.assert_allclose(got[0], first[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], second[1], rtol=1e-12)
    assert not np.allclose(full[-1][1], half[-1][1])


# --- Closed-form facts ----------------------------------------------------


@pytest.mark.parametrize(
    "optimizer", [Adam(0.03), AdamW(0.03, weight_decay=0.0), AdaGrad(0.03)]
)
def test_first_step_is_learning_rate_times_sign(problem, optimizer):
    (after,) = run(optimizer, problem, n_steps=1)
    for theta0, theta1, g in zip(
        problem["theta0"], after, gradients(problem["theta0"], problem), strict=True
    ):
        np.testing.assert_allclose(theta0 - theta1, 0.03 * np.sign(g), atol=1e-8)


def heavy_ball(problem, lr, momentum, n_steps=N_STEPS):
    """x_{k+1} = x_k - lr g(x_k) + momentum (x_k - x_{k-1}), x_{-1} = x_0."""
    previous = [t.copy() for t in problem["theta0"]]
    current = [t.copy() for t in problem["theta0"]]
    trajectory = []
    for _ in range(n_steps):
        grads = gradients(current, problem)
        following = [
            x - lr * g + momentum * (x - p)
            for x, g, p in zip(current, grads, previous, strict=True)
        ]
        previous, current = current, following
        trajectory.append([t.copy() for t in current])
    return trajectory


def test_momentum_is_heavy_ball(problem):
    got = run(SGD(0.05, momentum=0.9), problem, n_steps=12)
    assert_same_trajectory(got, heavy_ball(problem, 0.05, 0.9, n_steps=12))


def test_nesterov_differs_from_heavy_ball(problem):
    nesterov = run(SGD(0.05, momentum=0.9, nesterov=True), problem)
    ball = heavy_ball(problem, 0.05, 0.9)
    # The first steps coincide only if momentum is ignored; from the start
    # Nesterov looks ahead (its first step is (1 + momentum) g).
    assert not np.allclose(nesterov[0][0], ball[0][0])
    assert not np.allclose(nesterov[-1][0], ball[-1][0])


def test_adamw_decay_is_not_adam_l2(problem):
    adamw = run(AdamW(0.01, weight_decay=0.5), problem)
    adam = run(Adam(0.01, l2=0.5), problem)
    assert not np.allclose(adamw[-1][0], adam[-1][0], rtol=1e-3)
    assert_same_trajectory(
        adamw,
        reference_run(
            adam_reference(0.9, 0.999, 1e-8, 0.0, 0.5), problem, 0.01, [1, 1]
        ),
    )
    assert_same_trajectory(
        adam,
        reference_run(adam_reference(0.9, 0.999, 1e-8, 0.5), problem, 0.01, [1, 1]),
    )


def test_adamw_decays_the_bias_row(problem):
    # With a zero gradient Adam's step is 0 and only the decay moves theta.
    params = [t.copy() for t in problem["theta0"]]
    optimizer = AdamW(0.1, weight_decay=0.3)
    optimizer.step(params, [np.zeros_like(t) for t in params], optimizer.init(params))
    for before, after in zip(problem["theta0"], params, strict=True):
        np.testing.assert_allclose(after, before * (1 - 0.1 * 0.3), rtol=1e-14)


def test_kfac_newton_step_solves_least_squares():
    rng = np.random.default_rng(1)
    n, d = 60, 3
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.1] + [0.0, 2.0, -1.0]
    y = X @ [1.0, -2.0, 3.0] + 0.5 + 0.1 * rng.standard_normal(n)
    params = [rng.standard_normal((d + 1, 1))]
    cache = Activations()
    raw = forward(params, X, "identity", cache)
    grads = backward(params, cache, (raw - y[:, None]) / n, "identity")
    curvature = curvature_factors(
        params, cache, np.ones((n, 1)), np.ones(n), "identity"
    )
    optimizer = KFAC(learning_rate=1.0, damping=1e-12)
    optimizer.step(params, grads, optimizer.init(params), curvature)
    solution = np.linalg.lstsq(np.hstack([X, np.ones((n, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(params[0][:, 0], solution, rtol=1e-8)


def test_kfac_needs_curvature(problem):
    params = [t.copy() for t in problem["theta0"]]
    optimizer = KFAC()
    state = optimizer.init(params)
    grads = gradients(params, problem)
    with pytest.raises(ValueError, match="curvature"):
        optimizer.step(params, grads, state)
    with pytest.raises(ValueError, match="curvature"):
        optimizer.step(params, grads, state, problem["curvature"][0][:1])
    # A bad second layer must not leave the first one (or the state) moved.
    (A0, G0), (A1, G1) = problem["curvature"][0]
    with pytest.raises(ValueError, match="shape"):
        optimizer.step(params, grads, state, [(A0, G0), (G1, A1)])
    for got, want in zip(params, problem["theta0"], strict=True):
        np.testing.assert_array_equal(got, want)
    assert state.count == 0


def test_shampoo_first_step(problem):
    g = gradients(problem["theta0"], problem)
    (after,) = run(Shampoo(0.1, eps=1e-3), problem, n_steps=1)
    for theta0, theta1, grad in zip(problem["theta0"], after, g, strict=True):
        L = 1e-3 * np.eye(grad.shape[0]) + grad @ grad.T
        R = 1e-3 * np.eye(grad.shape[1]) + grad.T @ grad
        step = (
            fractional_matrix_power(L, -0.25) @ grad @ fractional_matrix_power(R, -0.25)
        )
        np.testing.assert_allclose(theta0 - theta1, 0.1 * np.real(step), rtol=1e-8)


def test_shampoo_first_step_without_eps_is_the_polar_factor(problem):
    # g = U S V^T: (g g^T)^-1/4 g (g^T g)^-1/4 = U V^T.
    (after,) = run(Shampoo(1.0, eps=1e-12), problem, n_steps=1)
    for theta0, theta1, grad in zip(
        problem["theta0"], after, gradients(problem["theta0"], problem), strict=True
    ):
        U, _, Vt = np.linalg.svd(grad, full_matrices=False)
        np.testing.assert_allclose(theta0 - theta1, U @ Vt, atol=1e-5)


# --- State and objects -----------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_states_are_independent(problem, name):
    optimizer = make_optimizer(name)
    busy = [t.copy() for t in problem["theta0"]]
    fresh = [t.copy() for t in problem["theta0"]]
    busy_state = optimizer.init(busy)
    fresh_state = optimizer.init(fresh)
    curvature = problem["curvature"][0] if optimizer.needs_curvature else None
    for _ in range(3):
        optimizer.step(busy, gradients(busy, problem), busy_state, curvature)
    optimizer.step(fresh, gradients(fresh, problem), fresh_state, curvature)
    (first,) = run(optimizer, problem, n_steps=1)
    for got, want in zip(fresh, first, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_leaves_gradients_alone(problem, name, l2):
    # Buffers must not alias the caller's gradients, or a later step would
    # write into arrays the caller still owns.
    optimizer = dataclasses.replace(make_optimizer(name), l2=l2)
    params = [t.copy() for t in problem["theta0"]]
    state = optimizer.init(params)
    seen = []
    for step in range(2):
        grads = gradients(params, problem)
        seen.append((grads, [g.copy() for g in grads]))
        curvature = problem["curvature"][step] if optimizer.needs_curvature else None
        optimizer.step(params, grads, state, curvature)
    for grads, kept in seen:
        for g, k in zip(grads, kept, strict=True):
            np.testing.assert_array_equal(g, k)


def test_state_and_step_checks(problem):
    params = [t.copy() for t in problem["theta0"]]
    with pytest.raises(ValueError, match="layer scales"):
        Adam().init(params, [LayerScale()])
    with pytest.raises(ValueError, match="'adam'"):
        Adam().step(params, gradients(params, problem), SGD().init(params))
    with pytest.raises(ValueError, match="shape"):
        Adam().step(
            params, [g.T for g in gradients(params, problem)], Adam().init(params)
        )


def test_optimizers_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Adam().learning_rate = 1.0


def test_make_optimizer():
    assert set(OPTIMIZERS) == {
        "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
        "kfac", "shampoo",
    }  # fmt: skip
    for name in OPTIMIZERS:
        assert isinstance(make_optimizer(name), Optimizer)
    assert make_optimizer("momentum") == SGD(momentum=0.9)
    assert make_optimizer("nesterov") == SGD(momentum=0.9, nesterov=True)
    assert make_optimizer("adam") == Adam()
    assert make_optimizer("adam").learning_rate == 0.001
    assert make_optimizer("kfac", learning_rate=0.5) == KFAC(learning_rate=0.5)
    assert KFAC.needs_curvature and not Shampoo.needs_curvature
    with pytest.raises(ValueError, match="adamw.*sgd"):
        make_optimizer("lbfgs")
    with pytest.raises(ValueError, match="learning_rate"):
        make_optimizer("sgd", learning_rate=-1.0)


@pytest.mark.parametrize(
    ("factory", "kwargs", "match"),
    [
        (SGD, {"learning_rate": -0.1}, "learning_rate"),
        (SGD, {"learning_rate": float("nan")}, "learning_rate"),
        (SGD, {"momentum": 1.0}, "momentum"),
        (SGD, {"momentum": -0.1}, "momentum"),
        (SGD, {"nesterov": True}, "nesterov"),
        (SGD, {"l2": -1.0}, "l2"),
        (AdaGrad, {"eps": -1e-3}, "eps"),
        (RMSProp, {"rho": 1.0}, "rho"),
        (Adam, {"beta1": 1.0}, "beta1"),
        (Adam, {"beta2": -0.5}, "beta2"),
        (Adam, {"learning_rate": "0.1"}, "learning_rate"),
        (AdamW, {"weight_decay": -0.01}, "weight_decay"),
        (AdamW, {"beta1": 1.5}, "beta1"),
        (KFAC, {"damping": 0.0}, "damping"),
        (KFAC, {"ema_decay": 1.0}, "ema_decay"),
        (Shampoo, {"exponent": 0.0}, "exponent"),
        (Shampoo, {"exponent": 0.75}, "exponent"),
        (Shampoo, {"eps": 0.0}, "eps"),
    ],
)
def test_bad_hyperparameters(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


@pytest.mark.parametrize("cls", [AdaGrad, RMSProp, Adam, AdamW])
def test_a_zero_eps_is_refused(cls):
    # With a zero output layer the first gradient of a layer can be 0: 0/0.
    with pytest.raises(ValueError, match="eps must be > 0"):
        cls(eps=0.0)
