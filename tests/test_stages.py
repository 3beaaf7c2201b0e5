"""Stage policies against the recursions of DESIGN.md section 2, in NumPy."""

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from accelboost._stages import (
    AGBMPolicy,
    Schedule,
    StackingPolicy,
    Stage,
    nesterov_momentum,
)


def reference_nesterov_betas(n):
    lam = [1.0]
    for _ in range(n):
        lam.append((1 + np.sqrt(1 + 4 * lam[-1] ** 2)) / 2)
    # beta_1 = 0, beta_t = (lambda_{t-1} - 1) / lambda_t
    return [0.0] + [(lam[t - 1] - 1) / lam[t] for t in range(1, n)]


def test_nesterov_schedule():
    betas = [nesterov_momentum(t) for t in range(1, 41)]
    assert_allclose(betas, reference_nesterov_betas(40), rtol=1e-14)
    assert betas[0] == betas[1] == 0.0
    assert_allclose(betas[2:4], [0.2818, 0.4340], atol=1e-4)
    assert np.all(np.diff(betas[1:]) > 0) and betas[-1] < 1


def test_plans_reset_after_a_restart():
    policy = StackingPolicy(0.1, 0.8)
    assert policy.plan(Schedule(1)) == Stage(momentum=0.0, index=1)
    assert policy.plan(Schedule(2)).momentum == 0.8
    assert AGBMPolicy(0.1).plan(Schedule(1)).momentum == 1.0  # theta_0 = 2 / 2
    assert AGBMPolicy(0.1).plan(Schedule(3)).momentum == 0.5  # theta_2 = 2 / 4


def _random_outputs(rng, n_stages, shape, n_roles):
    return [[rng.normal(size=shape) for _ in range(n_roles)] for _ in range(n_stages)]


def test_stacking_step_is_the_momentum_recursion():
    rng = np.random.RandomState(0)
    nu = 0.3
    policy = StackingPolicy(nu, "nesterov")
    outputs = _random_outputs(rng, 12, (50, 2), 1)
    state = policy.start(np.full((50, 2), 0.7))
    F, d = np.full((50, 2), 0.7), np.zeros((50, 2))
    for t, (b,) in enumerate(outputs, start=1):
        beta = reference_nesterov_betas(12)[t - 1]
        F_next_expected = F + beta * d + nu * b
        d = beta * d + nu * b
        F = F_next_expected
        state = policy.step(state, [b], policy.plan(Schedule(t)))
        assert_allclose(state[0], F, rtol=1e-12)
        assert_allclose(state[1], d, rtol=1e-12)


def test_agbm_step_is_the_corrected_residual_recursion():
    rng = np.random.RandomState(1)
    eta, gamma = 0.3, 0.1
    policy = AGBMPolicy(eta, gamma)
    outputs = _random_outputs(rng, 10, (40, 1), 2)
    f = h = np.full((40, 1), -0.2)
    state = policy.start(f.copy())
    for m, (b1, b2) in enumerate(outputs):
        theta = 2 / (m + 2)
        g = (1 - theta) * f + theta * h
        f, h = g + eta * b1, h + gamma * eta / theta * b2
        state = policy.step(state, [b1, b2], policy.plan(Schedule(m + 1)))
        assert_allclose(state[0], f, rtol=1e-12)
        assert_allclose(state[1], h, rtol=1e-12)


def test_agbm_reset_sets_h_to_f():
    policy = AGBMPolicy(0.5, 0.1)
    f, h = np.ones((3, 1)), np.full((3, 1), 5.0)
    b1, b2 = np.full((3, 1), 2.0), np.zeros((3, 1))
    f_new, h_new = policy.step((f, h), [b1, b2], policy.plan(Schedule(1)))
    assert_array_equal(f_new, f + 0.5 * b1)  # a plain step from f
    assert_array_equal(h_new, f)


def test_corrected_residual_uses_the_plus_sign():
    g, h = np.array([[2.0, -1.0]]), np.array([[1.0, 0.5]])
    aux = {"c": np.array([[1.0, 1.0]]), "b2": np.array([[0.25, 3.0]])}
    stage = AGBMPolicy(0.1).plan(Schedule(3))  # m = 2
    c = AGBMPolicy._corrected_residual(g, h, stage, aux)
    assert_allclose(c, [[-2.0 + 0.75 * 0.75, 2.0 + 0.75 * -2.0]])


def test_coefficient_space_gives_the_data_space_model():
    # Folding coefficients into trees is exact: stepping the recursion on
    # unit vectors gives weights w with F = F_0 + sum_j w_j b_j.
    rng = np.random.RandomState(2)
    for policy in (StackingPolicy(0.2, 0.9), StackingPolicy(0.5, "nesterov"),
                   AGBMPolicy(0.4, 0.2)):
        roles = policy.n_roles
        outputs = _random_outputs(rng, 15, (30, 1), roles)
        state = policy.start(np.zeros((30, 1)))
        coef = policy.start(np.zeros(0))
        for t, outs in enumerate(outputs, start=1):
            stage = policy.plan(Schedule(1 if t == 7 else t))  # a reset in the middle
            state = policy.step(state, outs, stage)
            n = len(coef[0])
            coef = tuple(np.concatenate([c, np.zeros(roles)]) for c in coef)
            units = [np.eye(n + roles)[n + r] for r in range(roles)]
            coef = policy.step(coef, units, stage)
        trees = np.column_stack([o[:, 0] for outs in outputs for o in outs])
        assert_allclose(state[0][:, 0], trees @ coef[0], rtol=1e-10, atol=1e-12)


def test_hybrid_switches_when_the_best_score_is_older_than_patience():
    # Against the rule stated plainly: switch once the first best score so
    # far lies more than ``patience`` stages before the latest one.
    from accelboost._stages import MomentumRules, Step

    rng = np.random.RandomState(3)
    patience = 4
    policy = StackingPolicy(0.1, 0.5, MomentumRules(hybrid_patience=patience))
    for _ in range(20):
        scores = list(np.round(np.cumsum(rng.normal(size=40)), 1))
        schedule = Schedule()
        for n in range(1, len(scores)):
            stage = policy.plan(schedule)
            step = Step(stage, [], (), None, False, False)
            schedule, _ = policy.next_schedule(schedule, step, n, scores[: n + 1])
            seen = scores[: n + 1]
            expected = any(
                int(np.argmax(seen[: k + 1])) < k - patience for k in range(n + 1)
            )
            assert schedule.plain == expected
            if schedule.plain:
                assert policy.plan(schedule).momentum == 0.0
