"""Optimizers for the parametric weak learners.

An optimizer object holds hyperparameters only (a frozen dataclass); what
changes during a fit (moments, running curvature, step count) lives in the
state that :meth:`Optimizer.init` returns. One object can therefore serve
every learner of an ensemble, each with its own state, as in optax::

    opt = make_optimizer("adam", learning_rate=1e-3)
    state = opt.init(params, scales)          # scales from _parameterization
    for _ in range(n_steps):
        grads = ...                           # _network.backward
        opt.step(params, grads, state)        # params updated in place

Parameters are the network's list of (fan_in + 1, fan_out) matrices (bias
as the last row, see ``_network``). Each optimizer multiplies layer ``l``'s
step by ``learning_rate * scales[l].learning_rate``, which is how the
width-aware parameterization (DESIGN 5.3) reaches it.

Regularization comes in two kinds, kept apart as DESIGN 3 asks:

- ``l2`` (every optimizer) adds ``l2 * theta`` to the gradient before
  anything else, so it passes through the preconditioner (moments, K-FAC
  factors' solve, Shampoo's statistics) like the gradient does;
- ``weight_decay`` (:class:`AdamW` only) shrinks the parameters directly,
  decoupled from the preconditioner.

``l2`` and ``weight_decay`` apply to the whole matrix, bias row included:
the bias is one more coordinate of each layer's matrix here.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._parameterization import LayerScale

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "KFAC",
    "Optimizer",
    "OptimizerState",
    "RMSProp",
    "Shampoo",
    "make_optimizer",
]


def _check_number(name: str, value: Any) -> None:
    # bool is a numbers.Real; a flag passed as a rate is a bug upstream.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")


def _check_nonnegative(name: str, value: Any) -> None:
    _check_number(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}.")


def _check_positive(name: str, value: Any) -> None:
    _check_number(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")


def _check_decay(name: str, value: Any) -> None:
    # A decay of 1 would freeze the running average at its first value.
    _check_number(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}.")


def _ema(average: np.ndarray, value: np.ndarray, decay: float) -> None:
    """``average <- decay * average + (1 - decay) * value``, in place."""
    average *= decay
    average += (1.0 - decay) * value


@dataclass
class OptimizerState:
    """What an optimizer carries from one step to the next in one fit.

    Attributes
    ----------
    kind : str
        ``name`` of the optimizer that made it (a state is not portable
        across optimizers).
    scales : list of LayerScale
        Per-layer multipliers, fixed for the fit.
    slots : dict of str to list
        Per-layer buffers, by kind (moments, running factors, ...).
    count : int
        Steps taken so far.
    """

    kind: str
    scales: list[LayerScale]
    slots: dict[str, list[Any]] = field(default_factory=dict)
    count: int = 0


class Optimizer:
    """Base of the optimizers: hyperparameters only, state kept apart.

    Subclasses are frozen dataclasses with at least the fields
    ``learning_rate`` and ``l2``; they provide ``_init_slots`` (their
    per-layer buffers) and ``_direction`` (the step of one layer before the
    learning rate).

    Attributes
    ----------
    mup_exponents : tuple of (float, float, float)
        ``(c_input, c_hidden, c_output)`` of the muP table (DESIGN 5.3),
        read by ``_parameterization.layer_scales``.
    needs_curvature : bool
        Whether :meth:`step` needs the K-FAC factors of the batch.
    name : str
        Name of the optimizer (a key of :data:`OPTIMIZERS`).
    """

    mup_exponents: ClassVar[tuple[float, float, float]]
    needs_curvature: ClassVar[bool] = False
    name: ClassVar[str]

    def __post_init__(self) -> None:
        _check_nonnegative("learning_rate", self.learning_rate)
        _check_nonnegative("l2", self.l2)
        self._validate()

    def _validate(self) -> None:
        """Check the subclass's own hyperparameters (raise ValueError)."""

    def _init_slots(self, params: list[np.ndarray]) -> dict[str, list[Any]]:
        return {}

    def _direction(
        self,
        index: int,
        grad: np.ndarray,
        state: OptimizerState,
        factors: tuple[np.ndarray, np.ndarray] | None,
    ) -> np.ndarray:
        """Layer ``index``'s step before the learning rate (updates ``state``)."""
        raise NotImplementedError

    def _apply(
        self,
        index: int,
        theta: np.ndarray,
        grad: np.ndarray,
        lr: float,
        state: OptimizerState,
        factors: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        """Update one layer in place with its learning rate ``lr``."""
        theta -= lr * self._direction(index, grad, state, factors)

    def init(
        self, params: list[np.ndarray], scales: list[LayerScale] | None = None
    ) -> OptimizerState:
        """A fresh state for fitting ``params``.

        Parameters
        ----------
        params : list of ndarray
            The layers' matrices (their shapes size the buffers; they are
            not modified).
        scales : list of LayerScale, default=None
            Per-layer multipliers (``_parameterization.layer_scales``);
            None means all ones.

        Returns
        -------
        state : OptimizerState
            To be passed to every :meth:`step` of this fit.
        """
        for theta in params:
            if np.ndim(theta) != 2:
                raise ValueError(
                    f"Each layer must be a 2-D matrix, got shape {np.shape(theta)}."
                )
        if scales is None:
            scales = [LayerScale() for _ in params]
        elif len(scales) != len(params):
            raise ValueError(
                f"Got {len(scales)} layer scales for {len(params)} layers."
            )
        return OptimizerState(self.name, list(scales), self._init_slots(params))

    def step(
        self,
        params: list[np.ndarray],
        grads: list[np.ndarray],
        state: OptimizerState,
        curvature: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """One step on every layer; ``params`` are updated in place.

        Parameters
        ----------
        params : list of ndarray
            The layers' float64 matrices, updated in place.
        grads : list of ndarray
            Gradient of the loss with respect to each matrix (not modified).
        state : OptimizerState
            From :meth:`init` of this optimizer; updated.
        curvature : list of (ndarray, ndarray), default=None
            Per layer, the K-FAC factors (A, G) of the batch
            (``_network.curvature_factors``). Required when
            ``needs_curvature``; ignored otherwise.
        """
        if not isinstance(state, OptimizerState) or state.kind != self.name:
            raise ValueError(
                f"state must come from init() of a {self.name!r} optimizer."
            )
        if not len(params) == len(grads) == len(state.scales):
            raise ValueError(
                f"Got {len(params)} layers, {len(grads)} gradients and "
                f"{len(state.scales)} layer scales."
            )
        for theta, grad in zip(params, grads, strict=True):
            if theta.shape != grad.shape:
                raise ValueError(
                    f"A gradient of shape {grad.shape} for a layer of shape "
                    f"{theta.shape}."
                )
        if self.needs_curvature:
            if curvature is None:
                raise ValueError(
                    f"{type(self).__name__} needs the curvature factors of the "
                    "batch (_network.curvature_factors)."
                )
            if len(curvature) != len(params):
                raise ValueError(
                    f"Got curvature factors for {len(curvature)} layers, "
                    f"{len(params)} expected."
                )
            # Checked before any layer moves: a failed step changes nothing.
            for index, (theta, (A, G)) in enumerate(
                zip(params, curvature, strict=True)
            ):
                n_rows, n_cols = theta.shape
                if np.shape(A) != (n_rows, n_rows) or np.shape(G) != (n_cols, n_cols):
                    raise ValueError(
                        f"Layer {index}: factors of shapes {np.shape(A)} and "
                        f"{np.shape(G)} for a matrix of shape {theta.shape}."
                    )
        state.count += 1
        for index, (theta, grad) in enumerate(zip(params, grads, strict=True)):
            if self.l2:
                # L2 inside the preconditioner (DESIGN 3): the decay term is
                # adapted like the gradient. A new array: grads stay intact.
                grad = grad + self.l2 * theta
            lr = self.learning_rate * state.scales[index].learning_rate
            factors = curvature[index] if self.needs_curvature else None
            self._apply(index, theta, grad, lr, state, factors)


@dataclass(frozen=True)
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    PyTorch's semantics: ``buf = momentum * buf + g`` (``buf = g`` at the
    first step), step ``g + momentum * buf`` with Nesterov momentum and
    ``buf`` without.

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size.
    momentum : float, default=0.0
        Momentum factor, in [0, 1).
    nesterov : bool, default=False
        Nesterov momentum (needs ``momentum > 0``).
    l2 : float, default=0.0
        L2 penalty added to the gradient.
    """

    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    l2: float = 0.0

    mup_exponents: ClassVar[tuple[float, float, float]] = (-1.0, 0.0, 1.0)
    name: ClassVar[str] = "sgd"

    def _validate(self) -> None:
        _check_decay("momentum", self.momentum)
        if not isinstance(self.nesterov, bool | np.bool_):
            raise ValueError(f"nesterov must be a bool, got {self.nesterov!r}.")
        if self.nesterov and self.momentum == 0:
            # Without momentum "Nesterov" would silently be plain SGD.
            raise ValueError("nesterov=True needs momentum > 0.")

    def _init_slots(self, params):
        # None until the first step, which takes the gradient itself.
        return {"buffer": [None] * len(params)} if self.momentum else {}

    def _direction(self, index, grad, state, factors):
        if not self.momentum:
            return grad
        buffers = state.slots["buffer"]
        if buffers[index] is None:
            buffers[index] = grad.copy()
        else:
            buffers[index] *= self.momentum
            buffers[index] += grad
        if self.nesterov:
            return grad + self.momentum * buffers[index]
        return buffers[index]


@dataclass(frozen=True)
class AdaGrad(Optimizer):
    """AdaGrad: steps divided by the root of the summed squared gradients.

    ``G += g**2``; ``theta -= lr * g / (sqrt(G) + eps)``. Its muP exponents
    are Adam's row of the table (DESIGN 5.3 lists Adam only): both normalize
    the gradient entry by entry, which is what sets the exponents.

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size.
    eps : float, default=1e-10
        Added to the denominator.
    l2 : float, default=0.0
        L2 penalty added to the gradient (before it is squared).
    """

    learning_rate: float = 0.01
    eps: float = 1e-10
    l2: float = 0.0

    mup_exponents: ClassVar[tuple[float, float, float]] = (0.0, 1.0, 1.0)
    name: ClassVar[str] = "adagrad"

    def _validate(self) -> None:
        _check_positive("eps", self.eps)

    def _init_slots(self, params):
        return {"sum_squares": [np.zeros_like(theta) for theta in params]}

    def _direction(self, index, grad, state, factors):
        sum_squares = state.slots["sum_squares"][index]
        sum_squares += grad * grad
        return grad / (np.sqrt(sum_squares) + self.eps)


@dataclass(frozen=True)
class RMSProp(Optimizer):
    """RMSProp: steps divided by a running root-mean-square of the gradients.

    ``v = rho * v + (1 - rho) * g**2`` from ``v = 0``, without bias
    correction (PyTorch's); ``theta -= lr * g / (sqrt(v) + eps)``. muP
    exponents: Adam's row (entrywise normalization, as for AdaGrad).

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size.
    rho : float, default=0.99
        Decay of the running average, in [0, 1).
    eps : float, default=1e-8
        Added to the denominator.
    l2 : float, default=0.0
        L2 penalty added to the gradient.
    """

    learning_rate: float = 0.001
    rho: float = 0.99
    eps: float = 1e-8
    l2: float = 0.0

    mup_exponents: ClassVar[tuple[float, float, float]] = (0.0, 1.0, 1.0)
    name: ClassVar[str] = "rmsprop"

    def _validate(self) -> None:
        _check_decay("rho", self.rho)
        _check_positive("eps", self.eps)

    def _init_slots(self, params):
        return {"square_average": [np.zeros_like(theta) for theta in params]}

    def _direction(self, index, grad, state, factors):
        square_average = state.slots["square_average"][index]
        _ema(square_average, grad * grad, self.rho)
        return grad / (np.sqrt(square_average) + self.eps)


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with bias-corrected moments and L2 inside the preconditioner.

    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g**2``;
    ``theta -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 -
    beta1**t)`` and ``v_hat = v / (1 - beta2**t)``. The ``l2`` term is part
    of ``g`` (PyTorch Adam's ``weight_decay``); for decoupled decay use
    :class:`AdamW`.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size.
    beta1 : float, default=0.9
        Decay of the first moment, in [0, 1).
    beta2 : float, default=0.999
        Decay of the second moment, in [0, 1).
    eps : float, default=1e-8
        Added to the denominator.
    l2 : float, default=0.0
        L2 penalty added to the gradient before the moments.
    """

    learning_rate: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    l2: float = 0.0

    mup_exponents: ClassVar[tuple[float, float, float]] = (0.0, 1.0, 1.0)
    name: ClassVar[str] = "adam"

    def _validate(self) -> None:
        _check_decay("beta1", self.beta1)
        _check_decay("beta2", self.beta2)
        _check_positive("eps", self.eps)

    def _init_slots(self, params):
        return {
            "first": [np.zeros_like(theta) for theta in params],
            "second": [np.zeros_like(theta) for theta in params],
        }

    def _direction(self, index, grad, state, factors):
        first = state.slots["first"][index]
        second = state.slots["second"][index]
        _ema(first, grad, self.beta1)
        _ema(second, grad * grad, self.beta2)
        # Both moments start at 0: without the correction the first steps
        # would be shrunk towards 0 by (1 - beta**t).
        first_hat = first / (1.0 - self.beta1**state.count)
        second_hat = second / (1.0 - self.beta2**state.count)
        return first_hat / (np.sqrt(second_hat) + self.eps)


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter; PyTorch AdamW).

    Each step first shrinks the layer, ``theta -= lr_l * weight_decay *
    theta``, then takes Adam's step; the decay never enters the moments, so
    it is not rescaled by the preconditioner (DESIGN 3). It applies to the
    whole matrix, bias row included (the bias is one more coordinate of the
    layer's matrix here). ``l2``, if also given, is evaluated at the
    parameters before the decay (where the gradient was taken).

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size.
    beta1 : float, default=0.9
        Decay of the first moment, in [0, 1).
    beta2 : float, default=0.999
        Decay of the second moment, in [0, 1).
    eps : float, default=1e-8
        Added to the denominator.
    l2 : float, default=0.0
        L2 penalty added to the gradient before the moments.
    weight_decay : float, default=0.01
        Decoupled decay, multiplied by the layer's learning rate.
    """

    weight_decay: float = 0.01

    name: ClassVar[str] = "adamw"

    def _validate(self) -> None:
        super()._validate()
        _check_nonnegative("weight_decay", self.weight_decay)

    def _apply(self, index, theta, grad, lr, state, factors):
        theta *= 1.0 - lr * self.weight_decay
        super()._apply(index, theta, grad, lr, state, factors)


def _damped_factor(matrix: np.ndarray, damping: float):
    """Cholesky factor of ``matrix + damping * I`` (symmetric PSD + damping)."""
    damped = matrix + damping * np.eye(matrix.shape[0])
    return cho_factor(damped, lower=True)


@dataclass(frozen=True)
class KFAC(Optimizer):
    """K-FAC: steps preconditioned by running Kronecker factors of the curvature.

    The batch factors (A, G) of each layer (``_network.curvature_factors``)
    enter running averages: the first step takes them, later steps
    ``A = ema_decay * A + (1 - ema_decay) * A_batch`` (same for G). The step
    is ``theta -= lr_l * (A + rho_A I)^-1 grad (G + rho_G I)^-1`` with
    ``rho_A = damping * scales[l].damping_input`` and ``rho_G = damping *
    scales[l].damping_output``, through Cholesky solves. With one full batch,
    ``learning_rate=1`` and a linear model under squared error this is
    Newton's step (the least-squares solution).

    Parameters
    ----------
    learning_rate : float, default=0.1
        Step size.
    damping : float, default=0.1
        Added to the diagonal of both factors; > 0 because a batch with
        fewer samples than inputs (or a dead unit) gives singular factors.
        The default keeps mini-batch fits of small MLPs stable (at 1e-3 a
        32-unit MLP on diabetes diverged in its first stage with batches of
        64); a Newton step wants it small.
    ema_decay : float, default=0.95
        Decay of the running factors, in [0, 1).
    l2 : float, default=0.0
        L2 penalty added to the gradient before the solve.
    """

    learning_rate: float = 0.1
    damping: float = 0.1
    ema_decay: float = 0.95
    l2: float = 0.0

    mup_exponents: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    needs_curvature: ClassVar[bool] = True
    name: ClassVar[str] = "kfac"

    def _validate(self) -> None:
        _check_positive("damping", self.damping)
        _check_decay("ema_decay", self.ema_decay)

    def _init_slots(self, params):
        # None until the first step, which takes the batch's factors.
        return {"A": [None] * len(params), "G": [None] * len(params)}

    def _direction(self, index, grad, state, factors):
        A_batch, G_batch = factors
        running = state.slots
        for key, batch in (("A", A_batch), ("G", G_batch)):
            if running[key][index] is None:
                running[key][index] = np.array(batch, dtype=np.float64)
            else:
                _ema(running[key][index], batch, self.ema_decay)
        scale = state.scales[index]
        A = _damped_factor(running["A"][index], self.damping * scale.damping_input)
        G = _damped_factor(running["G"][index], self.damping * scale.damping_output)
        left = cho_solve(A, grad)
        # (left G^-1)^T = G^-1 left^T, G being symmetric.
        return cho_solve(G, left.T).T


def _inverse_root(matrix: np.ndarray, exponent: float) -> np.ndarray:
    """``matrix ** -exponent`` of a symmetric PSD matrix, through eigh."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    # Rounding can leave tiny negative eigenvalues; floor them relative to
    # the largest one so the power stays finite.
    largest = max(eigenvalues[-1], np.finfo(np.float64).tiny)
    floor = max(np.finfo(np.float64).eps * largest, np.finfo(np.float64).tiny)
    powers = np.maximum(eigenvalues, floor) ** -exponent
    return (eigenvectors * powers) @ eigenvectors.T


@dataclass(frozen=True)
class Shampoo(Optimizer):
    """Shampoo: steps preconditioned by roots of summed gradient products.

    ``L`` and ``R`` start at ``eps * I``; each step ``L += g g^T``, ``R +=
    g^T g`` and ``theta -= lr_l * L^-exponent g R^-exponent`` (matrix powers
    through ``eigh``). The muP exponents are the table's for exponent 1/4,
    the value the method is designed for (the two sides' roots multiply to
    an inverse square root of the full-matrix statistics).

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size.
    eps : float, default=1e-4
        Initial diagonal of ``L`` and ``R`` (> 0: it makes them invertible).
    exponent : float, default=0.25
        Power of the inverse roots, in (0, 0.5].
    l2 : float, default=0.0
        L2 penalty added to the gradient before the statistics.
    """

    learning_rate: float = 0.01
    eps: float = 1e-4
    exponent: float = 0.25
    l2: float = 0.0

    mup_exponents: ClassVar[tuple[float, float, float]] = (-0.5, 0.0, 0.5)
    name: ClassVar[str] = "shampoo"

    def _validate(self) -> None:
        _check_positive("eps", self.eps)
        _check_number("exponent", self.exponent)
        if not 0 < self.exponent <= 0.5:
            raise ValueError(f"exponent must be in (0, 0.5], got {self.exponent!r}.")

    def _init_slots(self, params):
        return {
            "left": [self.eps * np.eye(theta.shape[0]) for theta in params],
            "right": [self.eps * np.eye(theta.shape[1]) for theta in params],
        }

    def _direction(self, index, grad, state, factors):
        left = state.slots["left"][index]
        right = state.slots["right"][index]
        left += grad @ grad.T
        right += grad.T @ grad
        return (
            _inverse_root(left, self.exponent)
            @ grad
            @ _inverse_root(right, self.exponent)
        )


#: Factories of the optimizers by name; each takes the class's keyword
#: arguments (``learning_rate`` among them).
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "momentum": functools.partial(SGD, momentum=0.9),
    "nesterov": functools.partial(SGD, momentum=0.9, nesterov=True),
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
    "kfac": KFAC,
    "shampoo": Shampoo,
}


def make_optimizer(name: str, learning_rate: float | None = None) -> Optimizer:
    """An optimizer by name with its default hyperparameters.

    Parameters
    ----------
    name : str
        A key of :data:`OPTIMIZERS`: ``"momentum"`` and ``"nesterov"`` are
        :class:`SGD` with momentum 0.9 (Nesterov's for the latter).
    learning_rate : float, default=None
        Step size; None keeps the class's default.

    Returns
    -------
    optimizer : Optimizer

    Raises
    ------
    ValueError
        If ``name`` is unknown or ``learning_rate`` is invalid.
    """
    if name not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}."
        )
    factory = OPTIMIZERS[name]
    if learning_rate is None:
        return factory()
    return factory(learning_rate=learning_rate)
