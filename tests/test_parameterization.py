"""Width-aware parameterization against the muP table of DESIGN 5.3.

The expected numbers are written out from the table's formulas
(``(base_width / width) ** c``, ``fan_in / base_width``, ...), base width 64.
"""

import math

import pytest

from accelboost.parametric._network import LayerShape, layer_shapes
from accelboost.parametric._parameterization import (
    PARAMETERIZATIONS,
    LayerScale,
    init_stds,
    layer_scales,
)
from accelboost.parametric.optimizers import (
    KFAC,
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    RMSProp,
    Shampoo,
)

BASE = 64
N_INPUTS = 10
N_OUTPUTS = 1
SQRT2 = math.sqrt(2.0)


def mlp(width):
    """Input (10 -> w), hidden (w -> w), output (w -> 1)."""
    return layer_shapes(N_INPUTS, (width, width), N_OUTPUTS)


# Per width, per layer (input, hidden, output): (lr, damping_input, damping_output).
EXPECTED_MUP = {
    # SGD (c = -1, 0, 1): input lr = width / 64, output lr = 64 / width.
    SGD: {
        64: [(1, 1, 1), (1, 1, 1), (1, 1, 1)],
        128: [(2, 1, 1), (1, 1, 1), (0.5, 1, 1)],
        256: [(4, 1, 1), (1, 1, 1), (0.25, 1, 1)],
    },
    # Adam (c = 0, 1, 1): hidden and output lr = 64 / width.
    Adam: {
        64: [(1, 1, 1), (1, 1, 1), (1, 1, 1)],
        128: [(1, 1, 1), (0.5, 1, 1), (0.5, 1, 1)],
        256: [(1, 1, 1), (0.25, 1, 1), (0.25, 1, 1)],
    },
    # K-FAC (c = 0, 0, 0): rho_A * fan_in / 64 except the input layer,
    # rho_G * 64 / fan_out except the output layer.
    KFAC: {
        64: [(1, 1, 1), (1, 1, 1), (1, 1, 1)],
        128: [(1, 1, 0.5), (1, 2, 0.5), (1, 2, 1)],
        256: [(1, 1, 0.25), (1, 4, 0.25), (1, 4, 1)],
    },
    # Shampoo (c = -1/2, 0, 1/2): input lr = sqrt(width / 64), output the
    # inverse.
    Shampoo: {
        64: [(1, 1, 1), (1, 1, 1), (1, 1, 1)],
        128: [(SQRT2, 1, 1), (1, 1, 1), (1 / SQRT2, 1, 1)],
        256: [(2, 1, 1), (1, 1, 1), (0.5, 1, 1)],
    },
}


def as_tuples(scales):
    return [(s.learning_rate, s.damping_input, s.damping_output) for s in scales]


@pytest.mark.parametrize("width", [64, 128, 256])
@pytest.mark.parametrize("optimizer_class", list(EXPECTED_MUP))
def test_mup_scales_follow_the_table(optimizer_class, width):
    scales = layer_scales(mlp(width), optimizer_class(), "mup", BASE)
    expected = EXPECTED_MUP[optimizer_class][width]
    assert all(isinstance(s, LayerScale) for s in scales)
    for got, want in zip(as_tuples(scales), expected, strict=True):
        assert got == pytest.approx(want, rel=1e-12)


def test_mup_scales_use_fan_out_of_the_input_layer_and_fan_in_elsewhere():
    # Unequal widths tell fan_in from fan_out: input 10 -> 128, hidden
    # 128 -> 256, output 256 -> 3.
    shapes = layer_shapes(N_INPUTS, (128, 256), 3)
    expected = {
        SGD: [(2, 1, 1), (1, 1, 1), (0.25, 1, 1)],
        Adam: [(1, 1, 1), (0.5, 1, 1), (0.25, 1, 1)],
        KFAC: [(1, 1, 0.5), (1, 2, 0.25), (1, 4, 1)],
        Shampoo: [(SQRT2, 1, 1), (1, 1, 1), (0.5, 1, 1)],
    }
    for optimizer_class, want in expected.items():
        got = as_tuples(layer_scales(shapes, optimizer_class(), "mup", BASE))
        for layer_got, layer_want in zip(got, want, strict=True):
            assert layer_got == pytest.approx(layer_want, rel=1e-12)
    stds = init_stds(shapes, "mup", BASE)
    assert stds == pytest.approx([10**-0.5, 128**-0.5, 8 / 256], rel=1e-12)


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSProp, AdamW])
def test_entrywise_optimizers_follow_adams_row(optimizer_class):
    scales = layer_scales(mlp(256), optimizer_class(), "mup", BASE)
    assert as_tuples(scales) == [(1, 1, 1), (0.25, 1, 1), (0.25, 1, 1)]


def test_scales_accept_the_optimizer_class():
    shapes = mlp(256)
    assert layer_scales(shapes, KFAC, "mup", BASE) == layer_scales(
        shapes, KFAC(), "mup", BASE
    )


@pytest.mark.parametrize("width", [64, 128, 256])
def test_mup_stds(width):
    stds = init_stds(mlp(width), "mup", BASE)
    # Input and hidden: fan_in ** -0.5; output: sqrt(64) / fan_in = 8 / width.
    expected = {
        64: [10**-0.5, 1 / 8, 1 / 8],
        128: [10**-0.5, 128**-0.5, 1 / 16],
        256: [10**-0.5, 1 / 16, 1 / 32],
    }[width]
    assert stds == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("width", [64, 128, 256])
def test_standard_is_all_ones_and_fan_in_stds(width):
    shapes = mlp(width)
    for name, factory in OPTIMIZERS.items():
        scales = layer_scales(shapes, factory(), "standard", BASE)
        assert as_tuples(scales) == [(1, 1, 1)] * 3, name
    assert init_stds(shapes, "standard", BASE) == pytest.approx(
        [10**-0.5, width**-0.5, width**-0.5], rel=1e-12
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mup_at_base_width_is_standard(name):
    shapes = mlp(BASE)
    optimizer = OPTIMIZERS[name]()
    assert layer_scales(shapes, optimizer, "mup", BASE) == layer_scales(
        shapes, optimizer, "standard", BASE
    )
    assert init_stds(shapes, "mup", BASE) == pytest.approx(
        init_stds(shapes, "standard", BASE), rel=1e-12
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_linear_model_has_no_width(name):
    shapes = layer_shapes(300, (), 2)
    assert [layer.role for layer in shapes] == ["single"]
    scales = layer_scales(shapes, OPTIMIZERS[name](), "mup", BASE)
    assert scales == [LayerScale(1.0, 1.0, 1.0)]
    assert init_stds(shapes, "mup", BASE) == pytest.approx([300**-0.5])


@pytest.mark.parametrize("parameterization", ["ntk", "MUP", "", None])
def test_unknown_parameterization(parameterization):
    for call in (
        lambda: init_stds(mlp(64), parameterization, BASE),
        lambda: layer_scales(mlp(64), Adam(), parameterization, BASE),
    ):
        with pytest.raises(ValueError, match="standard.*mup"):
            call()
    assert PARAMETERIZATIONS == ("standard", "mup")


@pytest.mark.parametrize("base_width", [0, -64, 64.0, True])
def test_bad_base_width(base_width):
    with pytest.raises(ValueError, match="base_width"):
        init_stds(mlp(64), "mup", base_width)
    with pytest.raises(ValueError, match="base_width"):
        layer_scales(mlp(64), SGD(), "standard", base_width)


def test_unknown_role():
    shapes = [LayerShape(3, 4, "middle")]
    with pytest.raises(ValueError, match="role"):
        init_stds(shapes, "mup", BASE)


def test_mup_refuses_a_shampoo_exponent_it_has_no_row_for():
    shapes = layer_shapes(3, (8,), 1)
    assert len(layer_scales(shapes, Shampoo(exponent=0.25), "mup", 4)) == 2
    with pytest.raises(ValueError, match="exponent=0.5"):
        layer_scales(shapes, Shampoo(exponent=0.5), "mup", 4)
    assert len(layer_scales(shapes, Shampoo(exponent=0.5), "standard", 4)) == 2
