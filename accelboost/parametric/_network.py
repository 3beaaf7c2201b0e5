"""Dense networks as lists of parameter matrices: shapes, forward, backward.

A network is a list of float64 matrices, one per layer. Layer ``l`` maps its
input ``a`` (n, fan_in) to ``z = a @ W + b``; its matrix is ``[W; b]`` of
shape (fan_in + 1, fan_out), the bias as the last row. One matrix per layer
is what the matrix optimizers (K-FAC, Shampoo) precondition, with the bias
as a homogeneous coordinate of the input; the elementwise ones do not care.
Hidden layers apply the activation; the output layer is linear (its output
is the learner's raw prediction). A linear model is a network with no
hidden layer.

The hot products are BLAS matrix products through NumPy: for the small
networks this package boosts, a Numba loop would not beat them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "Activations",
    "LayerShape",
    "backward",
    "curvature_factors",
    "forward",
    "init_params",
    "input_gradient",
    "layer_shapes",
]

#: Activations of the hidden layers.
ACTIVATIONS = ("relu", "tanh", "identity")


@dataclass(frozen=True)
class LayerShape:
    """One dense layer's place in a network.

    Attributes
    ----------
    fan_in : int
        Inputs of the layer (the bias not counted).
    fan_out : int
        Outputs of the layer.
    role : {"input", "hidden", "output", "single"}
        The first layer, a middle one, the last one, or the only one (a
        linear model). Width-aware scaling (``_parameterization``) depends on
        it.
    """

    fan_in: int
    fan_out: int
    role: str

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the layer's matrix ``[W; b]``."""
        return (self.fan_in + 1, self.fan_out)


def layer_shapes(
    n_inputs: int, hidden_layer_sizes: tuple[int, ...], n_outputs: int
) -> list[LayerShape]:
    """The layers of a network with these widths.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer; empty for a linear model.
    n_outputs : int
        Number of raw outputs.

    Returns
    -------
    shapes : list of LayerShape
    """
    widths = [n_inputs, *hidden_layer_sizes, n_outputs]
    n_layers = len(widths) - 1
    shapes = []
    for index in range(n_layers):
        if n_layers == 1:
            role = "single"
        elif index == 0:
            role = "input"
        elif index == n_layers - 1:
            role = "output"
        else:
            role = "hidden"
        shapes.append(LayerShape(widths[index], widths[index + 1], role))
    return shapes


def init_params(
    shapes: list[LayerShape],
    stds: list[float],
    rng: np.random.Generator,
    *,
    zero_output: bool = False,
) -> list[np.ndarray]:
    """Random parameters: Gaussian weights, zero biases.

    Parameters
    ----------
    shapes : list of LayerShape
        The layers.
    stds : list of float
        Standard deviation of each layer's weights (see
        ``_parameterization.init_stds``).
    rng : numpy.random.Generator
        Source of the draws.
    zero_output : bool, default=False
        Whether the last layer starts at exactly zero (a learner whose
        output is 0 everywhere). The hidden layers are drawn either way, so
        the same seed gives the same hidden layers.

    Returns
    -------
    params : list of ndarray
        One (fan_in + 1, fan_out) matrix per layer.
    """
    params = []
    for layer, std in zip(shapes, stds, strict=True):
        theta = np.zeros(layer.shape)
        theta[:-1] = rng.standard_normal((layer.fan_in, layer.fan_out)) * std
        params.append(theta)
    if zero_output:
        params[-1][:] = 0.0
    return params


class Activations:
    """What a forward pass keeps for the backward pass.

    Attributes
    ----------
    inputs : list of ndarray
        The input of each layer, (n, fan_in).
    pre : list of ndarray
        The pre-activation of each hidden layer, (n, fan_out).
    """

    def __init__(self):
        self.inputs: list[np.ndarray] = []
        self.pre: list[np.ndarray] = []


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    return z


def _activation_slope(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return (z > 0.0).astype(z.dtype)
    if activation == "tanh":
        return 1.0 - np.tanh(z) ** 2
    return np.ones_like(z)


def forward(
    params: list[np.ndarray],
    X: np.ndarray,
    activation: str,
    cache: Activations | None = None,
) -> np.ndarray:
    """Raw outputs of the network on ``X``.

    Parameters
    ----------
    params : list of ndarray
        The layers' matrices.
    X : ndarray of shape (n_samples, n_inputs)
        Inputs.
    activation : {"relu", "tanh", "identity"}
        Activation of the hidden layers.
    cache : Activations, default=None
        If given, filled with what :func:`backward` needs.

    Returns
    -------
    raw : ndarray of shape (n_samples, n_outputs)
    """
    a = X
    last = len(params) - 1
    for index, theta in enumerate(params):
        if cache is not None:
            cache.inputs.append(a)
        z = a @ theta[:-1] + theta[-1]
        if index == last:
            return z
        if cache is not None:
            cache.pre.append(z)
        a = _activate(z, activation)
    raise ValueError("A network needs at least one layer.")


def _backpropagate(params, cache, delta, activation):
    """The loss's gradient at each layer's pre-activation, last layer first.

    ``delta`` is (..., n, fan_out of the last layer); leading axes (several
    vectors backpropagated at once) are carried through.
    """
    deltas = [delta]
    for index in range(len(params) - 1, 0, -1):
        delta = (delta @ params[index][:-1].T) * _activation_slope(
            cache.pre[index - 1], activation
        )
        deltas.append(delta)
    return deltas[::-1]


def backward(
    params: list[np.ndarray],
    cache: Activations,
    output_gradient: np.ndarray,
    activation: str,
) -> list[np.ndarray]:
    """Gradient of a loss with respect to each layer's matrix.

    Parameters
    ----------
    params : list of ndarray
        The layers' matrices.
    cache : Activations
        Filled by :func:`forward` on the same batch.
    output_gradient : ndarray of shape (n_samples, n_outputs)
        Gradient of the loss with respect to the raw outputs (for a mean
        loss, already divided by the batch's weight).
    activation : str
        Activation of the hidden layers.

    Returns
    -------
    grads : list of ndarray
        One matrix per layer, shaped like ``params``.
    """
    deltas = _backpropagate(params, cache, output_gradient, activation)
    grads = []
    for a, delta in zip(cache.inputs, deltas, strict=True):
        grad = np.empty((a.shape[1] + 1, delta.shape[1]))
        grad[:-1] = a.T @ delta
        grad[-1] = delta.sum(axis=0)
        grads.append(grad)
    return grads


def curvature_factors(
    params: list[np.ndarray],
    cache: Activations,
    output_hessian: np.ndarray,
    sample_weight: np.ndarray,
    activation: str,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-FAC's Kronecker factors (A, G) of each layer on one batch.

    ``A = sum_i w_i [a_i; 1][a_i; 1]^T / sum w`` (the layer's homogeneous
    input) and ``G = sum_i sum_k s_ik s_ik^T / sum w``, where ``s_ik`` is
    output ``k``'s square-root curvature ``sqrt(h_ik) e_k`` backpropagated
    to the layer's pre-activation. With the loss's own second derivative
    this is the generalized Gauss-Newton factor (exact for one output; the
    diagonal of the softmax Hessian for several). ``h`` includes the
    sample weights, as the loss kernels return it.

    Parameters
    ----------
    params : list of ndarray
        The layers' matrices.
    cache : Activations
        Filled by :func:`forward` on the batch.
    output_hessian : ndarray of shape (n_samples, n_outputs)
        Second derivative of each sample's (weighted) loss in each raw
        output.
    sample_weight : ndarray of shape (n_samples,)
        Weights of the batch.
    activation : str
        Activation of the hidden layers.

    Returns
    -------
    factors : list of (ndarray, ndarray)
        Per layer, A of shape (fan_in + 1, fan_in + 1) and G of shape
        (fan_out, fan_out).
    """
    n, k = output_hessian.shape
    total = sample_weight.sum()
    # One backpropagated vector per output: s has shape (k, n, n_outputs).
    roots = np.zeros((k, n, k))
    roots[np.arange(k), :, np.arange(k)] = np.sqrt(np.maximum(output_hessian, 0.0)).T
    deltas = _backpropagate(params, cache, roots, activation)
    factors = []
    for a, s in zip(cache.inputs, deltas, strict=True):
        homogeneous = np.hstack([a, np.ones((n, 1))])
        A = (homogeneous * sample_weight[:, None]).T @ homogeneous / total
        flat = s.reshape(-1, s.shape[-1])
        G = flat.T @ flat / total
        factors.append((A, G))
    return factors


def input_gradient(
    params: list[np.ndarray], X: np.ndarray, activation: str
) -> np.ndarray:
    """Gradient of each raw output with respect to the inputs, per sample.

    Parameters
    ----------
    params : list of ndarray
        The layers' matrices.
    X : ndarray of shape (n_samples, n_inputs)
        Where to take the gradients.
    activation : str
        Activation of the hidden layers.

    Returns
    -------
    gradients : ndarray of shape (n_samples, n_outputs, n_inputs)
    """
    cache = Activations()
    forward(params, X, activation, cache)
    n, k = X.shape[0], params[-1].shape[1]
    seeds = np.zeros((k, n, k))
    seeds[np.arange(k), :, np.arange(k)] = 1.0
    first = _backpropagate(params, cache, seeds, activation)[0]
    # d raw_k / d x = delta at the first pre-activation times W_1^T.
    return np.transpose(first @ params[0][:-1].T, (1, 0, 2))
