"""Width-aware parameterization: initial scales and per-layer multipliers.

Under the standard parameterization every layer starts with weights of
standard deviation ``fan_in ** -0.5`` and every layer takes the optimizer's
own learning rate and damping. Under muP (DESIGN 5.3; Ishikawa and
Karakida, arXiv 2312.12226) the output layer starts smaller and the
learning rate and K-FAC damping of each layer are rescaled with its width,
so that hyperparameters tuned at ``base_width`` keep working on a wider
network. At ``width == base_width`` both parameterizations coincide, which
is what makes ``base_width`` the width the hyperparameters were tuned at.

The optimizers know nothing of widths: they receive one :class:`LayerScale`
per layer and multiply their step (and K-FAC its damping) by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._network import LayerShape

if TYPE_CHECKING:  # the optimizers import LayerScale from here
    from .optimizers import Optimizer

__all__ = ["PARAMETERIZATIONS", "LayerScale", "init_stds", "layer_scales"]

#: Accepted values of ``parameterization``.
PARAMETERIZATIONS = ("standard", "mup")

_ROLES = ("input", "hidden", "output", "single")


@dataclass(frozen=True)
class LayerScale:
    """Per-layer multipliers of an optimizer's hyperparameters.

    Attributes
    ----------
    learning_rate : float, default=1.0
        Multiplier of the optimizer's learning rate for this layer.
    damping_input : float, default=1.0
        Multiplier of K-FAC's damping of the A (input) factor.
    damping_output : float, default=1.0
        Multiplier of K-FAC's damping of the G (output) factor.
    """

    learning_rate: float = 1.0
    damping_input: float = 1.0
    damping_output: float = 1.0


def _check(shapes: list[LayerShape], parameterization: str, base_width: int) -> None:
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"parameterization must be one of {PARAMETERIZATIONS}, "
            f"got {parameterization!r}."
        )
    # bool is an int; a width of True is a bug upstream, not a width of 1.
    if isinstance(base_width, bool) or not isinstance(base_width, int):
        raise ValueError(f"base_width must be an int, got {base_width!r}.")
    if base_width < 1:
        raise ValueError(f"base_width must be at least 1, got {base_width}.")
    for layer in shapes:
        if layer.role not in _ROLES:
            raise ValueError(
                f"A layer's role must be one of {_ROLES}, got {layer.role!r}."
            )


def init_stds(
    shapes: list[LayerShape], parameterization: str, base_width: int
) -> list[float]:
    """Standard deviation of each layer's initial weights.

    Parameters
    ----------
    shapes : list of LayerShape
        The layers (``_network.layer_shapes``).
    parameterization : {"standard", "mup"}
        ``"standard"``: ``fan_in ** -0.5`` for every layer. ``"mup"``: the
        same for the input and hidden layers (and a linear model's single
        layer); ``base_width ** 0.5 / fan_in`` for the output layer, which
        is the standard value at ``fan_in == base_width`` and falls as
        ``1 / fan_in`` beyond it.
    base_width : int
        Width the hyperparameters were tuned at (validated for both
        parameterizations, so a bad value fails early).

    Returns
    -------
    stds : list of float
        One per layer.

    Raises
    ------
    ValueError
        If ``parameterization`` is unknown, ``base_width`` is not a
        positive int, or a layer has an unknown role.
    """
    _check(shapes, parameterization, base_width)
    stds = []
    for layer in shapes:
        if parameterization == "mup" and layer.role == "output":
            stds.append(base_width**0.5 / layer.fan_in)
        else:
            stds.append(layer.fan_in**-0.5)
    return stds


def _mup_scale(layer: LayerShape, optimizer: Optimizer, base_width: int) -> LayerScale:
    c_input, c_hidden, c_output = optimizer.mup_exponents
    if layer.role == "single":
        # A linear model has no width to transfer across.
        return LayerScale()
    # The width of the input layer is what it maps to; that of the hidden
    # and output layers is what they read from (the table's convention).
    if layer.role == "input":
        exponent, width = c_input, layer.fan_out
    elif layer.role == "hidden":
        exponent, width = c_hidden, layer.fan_in
    else:
        exponent, width = c_output, layer.fan_in
    learning_rate = (base_width / width) ** exponent
    if not optimizer.needs_curvature:
        return LayerScale(learning_rate=learning_rate)
    # K-FAC: rho_A grows with fan_in and rho_G shrinks with fan_out, except
    # on the sides that face the data (input layer's A) and the loss (output
    # layer's G), whose sizes do not grow with the width.
    damping_input = 1.0 if layer.role == "input" else layer.fan_in / base_width
    damping_output = 1.0 if layer.role == "output" else base_width / layer.fan_out
    return LayerScale(learning_rate, damping_input, damping_output)


def layer_scales(
    shapes: list[LayerShape],
    optimizer: Optimizer,
    parameterization: str,
    base_width: int,
) -> list[LayerScale]:
    """Per-layer multipliers of the optimizer's learning rate and damping.

    Parameters
    ----------
    shapes : list of LayerShape
        The layers (``_network.layer_shapes``).
    optimizer : Optimizer
        The optimizer (instance or class); its ``mup_exponents``
        ``(c_input, c_hidden, c_output)`` and ``needs_curvature`` are read.
    parameterization : {"standard", "mup"}
        ``"standard"``: all multipliers 1. ``"mup"``: learning-rate
        multiplier ``(base_width / width) ** c_role``, where a layer's width
        is ``fan_out`` for the input layer and ``fan_in`` for hidden and
        output layers; a single layer (linear model) keeps 1. For an
        optimizer that needs curvature (K-FAC), ``damping_input =
        fan_in / base_width`` for hidden and output layers (1 for the input
        layer) and ``damping_output = base_width / fan_out`` for input and
        hidden layers (1 for the output layer); otherwise the damping
        multipliers are 1.
    base_width : int
        Width the hyperparameters were tuned at.

    Returns
    -------
    scales : list of LayerScale
        One per layer.

    Raises
    ------
    ValueError
        If ``parameterization`` is unknown, ``base_width`` is not a
        positive int, a layer has an unknown role, or the optimizer is a
        Shampoo with an exponent other than 1/4 under "mup" (the table has
        that exponent's row only).
    """
    _check(shapes, parameterization, base_width)
    if parameterization == "standard":
        return [LayerScale() for _ in shapes]
    exponent = getattr(optimizer, "exponent", 0.25)
    if optimizer.name == "shampoo" and exponent != 0.25:
        raise ValueError(
            "parameterization='mup' has Shampoo's exponents for exponent=0.25 "
            f"only; got exponent={exponent!r}."
        )
    return [_mup_scale(layer, optimizer, base_width) for layer in shapes]
