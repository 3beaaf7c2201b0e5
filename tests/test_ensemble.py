"""TreeEnsemble: incremental packing, lazy coefficients, copies and pickles."""

import pickle
from dataclasses import replace

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import accelboost._ensemble as ensemble_module
from accelboost._engine.common import NODE_DTYPE
from accelboost._engine.predictor import pack_trees
from accelboost._ensemble import TreeEnsemble
from accelboost._stages import Schedule, make_policy

pytestmark = pytest.mark.usefixtures("single_thread")

MISSING_BIN = 15
N_FEATURES = 3

POLICIES = {
    "zero": ("zero", 0.3, 0.0, 0.1),
    "stacking": ("stacking", 0.3, 0.7, 0.1),
    "nesterov": ("stacking", 0.3, "nesterov", 0.1),
    "agbm": ("agbm", 0.3, 0.0, 0.2),
}


def random_tree(rng, max_depth=3):
    """A random tree in the grower's layout (right child right after left)."""
    rows = [None]

    def build(i, depth):
        if depth == max_depth or rng.rand() < 0.3:
            rows[i] = dict(value=rng.normal(), is_leaf=1)
            return
        left = len(rows)
        rows.extend([None, None])
        rows[i] = dict(
            feature_idx=rng.randint(N_FEATURES),
            num_threshold=rng.normal(),
            bin_threshold=rng.randint(MISSING_BIN),
            missing_go_left=rng.randint(2),
            left=left,
            right=left + 1,
            value=rng.normal(),
        )
        build(left, depth + 1)
        build(left + 1, depth + 1)

    build(0, 0)
    tree = np.zeros(len(rows), dtype=NODE_DTYPE)
    for i, row in enumerate(rows):
        for name, value in row.items():
            tree[i][name] = value
    return tree


def random_stages(rng, policy, n_stages):
    """Stages as a fit makes them: restarts and halved steps now and then."""
    stages, index = [], 1
    for _ in range(n_stages):
        stage = policy.plan(Schedule(index))
        if rng.rand() < 0.2:
            stage = replace(stage, step_scale=float(rng.choice([0.5, 0.25, 0.0])))
        stages.append(stage)
        index = 1 if rng.rand() < 0.15 else index + 1
    return stages


def grow(ensemble, rng, stages, check=None):
    """Add stages of random trees; call ``check(ensemble)`` after each."""
    for stage in stages:
        trees = [
            [random_tree(rng) for _ in range(ensemble.n_outputs)]
            for _ in range(ensemble.policy.n_roles)
        ]
        ensemble.add_stage(trees, stage)
        if check is not None:
            check(ensemble)


def new_ensemble(name, n_outputs, seed=0):
    policy = make_policy(*POLICIES[name])
    baseline = np.random.RandomState(seed).normal(size=n_outputs)
    return TreeEnsemble(baseline, policy)


def random_rows(rng, n=40):
    X = rng.normal(size=(n, N_FEATURES))
    X[rng.rand(*X.shape) < 0.1] = np.nan
    X_binned = rng.randint(MISSING_BIN + 1, size=(n, N_FEATURES)).astype(np.uint8)
    return X, X_binned


def eager_coef(policy, n_outputs, stages):
    """The coefficient recursion stepped after every stage, arrays concatenated."""
    per_stage = n_outputs * policy.n_roles
    state = policy.start(np.zeros(0))
    coefs = []
    for stage in stages:
        n_old = len(state[0])
        units = []
        for role in range(policy.n_roles):
            unit = np.zeros(n_old + per_stage)
            lo = n_old + role * n_outputs
            unit[lo : lo + n_outputs] = 1.0
            units.append(unit)
        state = tuple(np.concatenate([s, np.zeros(per_stage)]) for s in state)
        state = policy.step(state, units, stage)
        coefs.append(state[0])
    return coefs


def assert_bits_equal(a, b):
    """Equal bit for bit (``-0.0`` differs from ``0.0``), field by field."""
    assert a.dtype == b.dtype and a.shape == b.shape
    for name in a.dtype.names or (None,):
        x, y = (a, b) if name is None else (a[name], b[name])
        if x.dtype.kind == "f":
            x, y = x.view(np.uint64), y.view(np.uint64)
        assert_array_equal(x, y)


def reference_raw(ensemble, X, binned, walk_tree):
    """``baseline + sum_t coef[t] * tree_t(x)`` with a plain tree walk."""
    raw = np.tile(ensemble.baseline, (X.shape[0], 1))
    for t, tree in enumerate(ensemble.trees):
        for i in range(X.shape[0]):
            leaf = walk_tree(tree, X[i], binned, MISSING_BIN)
            raw[i, ensemble.columns[t]] += ensemble.coef[t] * tree[leaf]["value"]
    return raw


@pytest.mark.parametrize("name", ["stacking", "agbm"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_incremental_packing_is_pack_trees_of_all_trees(name, n_outputs):
    rng = np.random.RandomState(1)
    ensemble = new_ensemble(name, n_outputs)
    X, _ = random_rows(rng, n=5)

    def check(ensemble):
        if rng.rand() < 0.3:
            return  # several stages to pack at once, now and then
        ensemble.stage_outputs(X, ensemble.n_stages - 1)
        nodes, starts, columns = ensemble._plain()
        expected_nodes, expected_starts, _ = pack_trees(ensemble.trees)
        assert_bits_equal(nodes, expected_nodes)
        assert_array_equal(starts, expected_starts)
        assert_array_equal(columns, ensemble.columns)
        # the folded packing is pack_trees with the coefficients
        ensemble.raw_predict(X)
        folded, _, _ = pack_trees(ensemble.trees, ensemble.coef)
        assert_bits_equal(ensemble._folded, folded)

    grow(ensemble, rng, random_stages(rng, ensemble.policy, 12), check)
    stride = ensemble.trees_per_stage
    assert ensemble.n_stages == 12 and len(ensemble.trees) == 12 * stride
    expected_columns = np.tile(np.arange(n_outputs), 12 * ensemble.policy.n_roles)
    assert_array_equal(ensemble.columns, expected_columns)


@pytest.mark.parametrize("name", ["zero", "nesterov", "agbm"])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_predictions_against_plain_tree_walk(name, n_outputs, walk_tree):
    rng = np.random.RandomState(2)
    ensemble = new_ensemble(name, n_outputs)
    X, X_binned = random_rows(rng)
    assert_array_equal(ensemble.raw_predict(X), np.tile(ensemble.baseline, (40, 1)))
    grow(ensemble, rng, random_stages(rng, ensemble.policy, 6))
    for rows, binned in ((X, False), (X_binned, True)):
        raw = ensemble.raw_predict(rows, binned, MISSING_BIN)
        assert_bits_equal(raw, reference_raw(ensemble, rows, binned, walk_tree))
    # Unscaled stage outputs: a stage's trees, per role, on their columns.
    stage = 4
    outputs = ensemble.stage_outputs(X, stage)
    assert len(outputs) == ensemble.policy.n_roles
    for role, out in enumerate(outputs):
        expected = np.zeros((len(X), n_outputs))
        for column in range(n_outputs):
            tree = ensemble.trees[
                stage * ensemble.trees_per_stage + role * n_outputs + column
            ]
            for i in range(len(X)):
                expected[i, column] = tree[walk_tree(tree, X[i], False)]["value"]
        assert_bits_equal(out, expected)
    # The recursion replayed on data ends at the folded prediction.
    *_, last = ensemble.staged_raw_predict(X)
    np.testing.assert_allclose(last, ensemble.raw_predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_lazy_coefficients_are_the_eager_recursion(name, n_outputs):
    rng = np.random.RandomState(3)
    ensemble = new_ensemble(name, n_outputs)
    stages = random_stages(rng, ensemble.policy, 30)
    expected = eager_coef(ensemble.policy, n_outputs, stages)
    assert len(ensemble.coef) == 0

    # Stacking's weights come in closed form (a different order of the same
    # products and sums: equal to rounding); AGBM's from the recursion itself.
    closed_form = name != "agbm"

    def same(coef, reference):
        if closed_form:
            np.testing.assert_allclose(coef, reference, rtol=1e-12, atol=1e-15)
        else:
            assert_bits_equal(coef, reference)

    def check(ensemble):
        if rng.rand() < 0.4:  # asked now and then: several stages applied at once
            same(ensemble.coef, expected[ensemble.n_stages - 1])

    grow(ensemble, rng, stages, check)
    same(ensemble.coef, expected[-1])
    assert not ensemble.coef.flags.writeable


def test_stacking_weights_need_no_recursion_over_the_trees():
    # 2,000 stages of Nesterov with restarts: the weights come from one
    # backward pass over the stages, never from a step over all trees.
    rng = np.random.RandomState(5)
    policy = CountingPolicy(make_policy(*POLICIES["nesterov"]))
    ensemble = TreeEnsemble(np.zeros(1), policy)
    stages = random_stages(rng, policy, 2000)
    for stage in stages:
        ensemble.stages.append(stage)  # trees do not enter the weights
        ensemble.trees.append(random_tree(rng))
    coef = ensemble.coef
    assert policy.sizes == [] and coef.shape == (2000,)
    expected = eager_coef(policy, 1, stages[:200])[-1]
    head = TreeEnsemble(np.zeros(1), policy)
    head.stages, head.trees = stages[:200], ensemble.trees[:200]
    np.testing.assert_allclose(head.coef, expected, rtol=1e-12, atol=1e-15)


class CountingPolicy:
    """A policy that counts its steps and remembers their sizes."""

    def __init__(self, policy):
        self._policy = policy
        self.sizes = []

    def __getattr__(self, name):
        return getattr(self._policy, name)

    def step(self, state, outputs, stage, inplace=False):
        self.sizes.append(len(outputs[0]))
        return self._policy.step(state, outputs, stage, inplace)


def test_work_per_stage_does_not_grow(monkeypatch):
    rng = np.random.RandomState(4)
    converted = []

    def counting_convert(trees):
        converted.append(len(trees))
        return pack_convert(trees)

    pack_convert = ensemble_module.convert_trees
    monkeypatch.setattr(ensemble_module, "convert_trees", counting_convert)
    policy = CountingPolicy(make_policy(*POLICIES["agbm"]))
    ensemble = TreeEnsemble(np.zeros(2), policy)
    X, _ = random_rows(rng, n=3)
    capacities = []

    def check(ensemble):
        ensemble.stage_outputs(X, ensemble.n_stages - 1)
        capacities.append(ensemble._packed.capacity)

    stages = random_stages(rng, policy, 200)
    grow(ensemble, rng, stages, check)
    # Each stage packed only its own trees (2 roles x 2 outputs)...
    assert converted == [4] * 200
    # ...into a buffer that grew geometrically, not once a stage.
    assert len(set(capacities)) <= np.log2(capacities[-1]) + 1
    # The fit loop never asked for the coefficients: no recursion yet.
    assert policy.sizes == []
    assert len(ensemble.coef) == 800
    assert policy.sizes == list(range(4, 801, 4))
    # One more stage: one more step of the recursion, one more tree packing.
    grow(ensemble, rng, stages[:1], check)
    ensemble.raw_predict(X)
    assert policy.sizes[200:] == [804] and converted[200:] == [4]
    # The cached coefficients and folded packing serve until the next stage.
    ensemble.raw_predict(X)
    assert len(policy.sizes) == 201 and len(converted) == 201


@pytest.mark.parametrize("name", ["nesterov", "agbm"])
def test_copy_grows_independently_and_continues_identically(name):
    rng = np.random.RandomState(5)
    ensemble = new_ensemble(name, 2)
    stages = random_stages(rng, ensemble.policy, 16)
    trees_rng = np.random.RandomState(6)
    grow(ensemble, trees_rng, stages[:8])
    X, _ = random_rows(rng)
    coef = ensemble.coef.copy()
    raw = ensemble.raw_predict(X)
    outputs = ensemble.stage_outputs(X, 7)
    n_trees = len(ensemble.trees)

    warm = ensemble.copy()
    grow(warm, trees_rng, stages[8:])
    warm.raw_predict(X)
    # The original did not move.
    assert ensemble.n_stages == 8 and len(ensemble.trees) == n_trees
    assert_bits_equal(ensemble.coef, coef)
    assert_bits_equal(ensemble.raw_predict(X), raw)
    for a, b in zip(ensemble.stage_outputs(X, 7), outputs, strict=True):
        assert_bits_equal(a, b)
    # Growing the original does not change the copy either.
    grow(ensemble, np.random.RandomState(7), stages[8:10])
    ensemble.raw_predict(X)
    # The copy continued exactly as a single run would.
    at_once = new_ensemble(name, 2)
    grow(at_once, np.random.RandomState(6), stages)
    assert_bits_equal(warm.coef, at_once.coef)
    assert_bits_equal(warm.raw_predict(X), at_once.raw_predict(X))
    for a, b in zip(warm.trees, at_once.trees, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["stacking", "agbm"])
@pytest.mark.parametrize("when", ["fresh", "coef", "predicted"])
def test_pickle_round_trip(name, when):
    rng = np.random.RandomState(8)
    ensemble = new_ensemble(name, 2)
    stages = random_stages(rng, ensemble.policy, 10)
    grow(ensemble, np.random.RandomState(9), stages[:6])
    X, X_binned = random_rows(rng)
    if when != "fresh":
        _ = ensemble.coef
    if when == "predicted":
        ensemble.raw_predict(X)
    loaded = pickle.loads(pickle.dumps(ensemble))
    # Derived caches are not pickled; the coefficient state is, trimmed
    # (stacking's closed form never runs the recursion: nothing to keep).
    state = ensemble.__getstate__()
    assert not {"_packed", "_coef", "_folded"} & set(state)
    buffers = state["_recursion"].__getstate__()["_buffers"]
    recursed = when != "fresh" and name == "agbm"
    assert buffers.shape[-1] == (len(ensemble.trees) if recursed else 0)
    assert_bits_equal(loaded.coef, ensemble.coef)
    assert_bits_equal(loaded.raw_predict(X), ensemble.raw_predict(X))
    assert_bits_equal(
        loaded.stage_outputs(X_binned, 5, True, MISSING_BIN)[0],
        ensemble.stage_outputs(X_binned, 5, True, MISSING_BIN)[0],
    )
    # Both continue identically.
    grow(loaded, np.random.RandomState(10), stages[6:])
    grow(ensemble, np.random.RandomState(10), stages[6:])
    assert_bits_equal(loaded.coef, ensemble.coef)
    assert_bits_equal(loaded.raw_predict(X), ensemble.raw_predict(X))


def test_stage_needs_one_tree_per_output_and_role():
    rng = np.random.RandomState(11)
    ensemble = new_ensemble("agbm", 2)
    stage = ensemble.policy.plan(Schedule(1))
    tree = random_tree(rng)
    with pytest.raises(ValueError, match="2 role"):
        ensemble.add_stage([[tree, tree]], stage)
    with pytest.raises(ValueError, match="2 role"):
        ensemble.add_stage([[tree, tree], [tree]], stage)
    assert ensemble.n_stages == 0 and ensemble.trees == []
