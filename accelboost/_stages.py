"""Stage-initialization policies: where each new stage starts.

The starting point of a new stage decides which optimizer boosting runs in
function space (DESIGN.md, section 2):

- ``StackingInit`` with momentum ``beta = 0`` is plain gradient boosting;
  with a constant ``beta`` or Nesterov's growing schedule the new learner
  starts as ``beta`` times the previous one (Nesterov's accelerated
  gradient)::

      Y_t = F_{t-1} + beta_t d_{t-1}        (fit point)
      d_t = beta_t d_{t-1} + nu b_t         (the new learner)
      F_t = F_{t-1} + d_t

- ``AGBMInit`` fits two trees per stage, the second to a corrected residual
  that carries the error of the previous momentum tree forward (Lu et al.,
  AISTATS 2020).

A policy grows a stage's trees (through a ``StageContext``) and defines one
pure ``step``: the new state from the old state and the trees' outputs.
That one function serves training, the validation set, ``staged_predict``,
the warm-start replay, and the coefficient space (outputs are unit vectors
over trees), which gives each tree's weight in the final model.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stage:
    """What one stage did: enough to replay it on any data.

    Attributes
    ----------
    momentum : float
        Stacking: ``beta_t``. AGBM: ``theta_m = 2 / (m + 2)``.
    reset : bool
        The momentum was reset (restarted) before this stage. Stacking
        needs no flag for it (``beta_t = 0``); AGBM sets ``h <- f``.
    index : int
        Stages since the last reset (AGBM's ``m``; the Nesterov counter).
    step_scale : float
        Factor on the learning rate of this stage: 1, or ``2**-k`` when the
        function restart's backtracking halved a plain step ``k`` times
        (0 if no halving stopped the loss from rising).
    """

    momentum: float
    reset: bool
    index: int
    step_scale: float = 1.0


class StageContext:
    """What a policy needs from the fit loop to grow one stage's trees.

    Parameters
    ----------
    gradients_at : callable
        ``gradients_at(raw) -> (g, h)``, each of shape (n_outputs, n_samples).
    fit_trees : callable
        ``fit_trees(g, h, point) -> (trees, outputs)``: one tree per output,
        and their values on the training rows, shape (n_samples, n_outputs).
    """

    def __init__(self, gradients_at, fit_trees):
        self.gradients_at = gradients_at
        self.fit_trees = fit_trees


def nesterov_momentum(index: int) -> float:
    """``beta`` of Nesterov's schedule at stage ``index`` (1-based) since reset.

    ``lambda_1 = 1``, ``lambda_t = (1 + sqrt(1 + 4 lambda_{t-1}^2)) / 2``,
    ``beta_t = (lambda_{t-1} - 1) / lambda_t``: 0, 0, 0.28, 0.43, ... -> 1.
    """
    lam_prev = 0.0
    lam = 1.0
    for _ in range(index - 1):
        lam_prev, lam = lam, (1.0 + np.sqrt(1.0 + 4.0 * lam * lam)) / 2.0
    return 0.0 if index <= 1 else (lam_prev - 1.0) / lam


class StackingInit:
    """Each stage starts from ``momentum`` times the previous learner.

    Parameters
    ----------
    learning_rate : float
        Shrinkage ``nu`` of each tree.
    momentum : float or "nesterov"
        Constant ``beta`` in [0, 1), or Nesterov's growing schedule. With 0
        this is plain gradient boosting, bit for bit.
    """

    name = "stacking"
    n_roles = 1

    def __init__(self, learning_rate: float, momentum: float | str = 0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum

    def plan(self, index: int) -> Stage:
        """The stage that comes ``index`` stages after a reset (1-based)."""
        if self.momentum == "nesterov":
            beta = nesterov_momentum(index)
        else:
            beta = 0.0 if index <= 1 else float(self.momentum)
        return Stage(momentum=beta, reset=index <= 1, index=index)

    def has_momentum(self, stage: Stage) -> bool:
        """Whether the stage differs from a plain step (restarts matter)."""
        return stage.momentum != 0.0

    @property
    def accelerated(self) -> bool:
        """Whether any stage can carry momentum (else: plain boosting)."""
        return self.momentum != 0.0

    def start(self, raw: np.ndarray) -> tuple:
        """State before the first stage: ``(F, d)`` with ``d = 0``."""
        return (raw, np.zeros_like(raw))

    def fit_point(self, state, stage):
        """``Y = F + beta d``: where the stage's gradients are taken."""
        F, d = state
        return F if stage.momentum == 0.0 else F + stage.momentum * d

    def grow(self, context: StageContext, state, stage, aux):
        """Grow the stage's trees; return ``(trees per role, outputs per role)``."""
        point = self.fit_point(state, stage)
        g, h = context.gradients_at(point)
        trees, outputs = context.fit_trees(g, h, point)
        return [trees], [outputs], g

    def step(self, state, outputs, stage, inplace=False):
        """New ``(F, d)`` from the stage's tree outputs.

        With ``inplace`` the old ``F`` and the outputs are overwritten (the
        fit loop's fast path when nothing needs the old state); the numbers
        are the same either way.
        """
        F, d = state
        (b,) = outputs
        nu = self.learning_rate * stage.step_scale
        if inplace:
            d_new = np.multiply(b, nu, out=b)
        else:
            d_new = nu * b
        if stage.momentum != 0.0:
            d_new += stage.momentum * d
        if inplace:
            F += d_new
            return (F, d_new)
        return (F + d_new, d_new)

    def new_aux(self, state):
        """Training-only state carried between stages (none here)."""
        return None

    def replay_aux(self, gradients_at, state, stage, outputs, aux):
        """Rebuild ``aux`` while replaying a fitted stage (nothing to do)."""

    def descent_check(self, state, new_state, gradients) -> float:
        """``sum g(Y) * (F_t - F_{t-1})``: positive means the step went uphill."""
        return float(np.sum(gradients.T * new_state[1]))


class AGBMInit:
    """Accelerated gradient boosting with corrected residuals (two trees a stage).

    Parameters
    ----------
    learning_rate : float
        ``eta``.
    gamma : float
        Step of the momentum sequence ``h``.

    Notes
    -----
    With ``theta_m = 2 / (m + 2)``::

        g_m = (1 - theta_m) f_m + theta_m h_m
        b1 fitted at g_m;                     f_{m+1} = g_m + eta b1
        c_m = r_m + (m + 1) / (m + 2) (c_{m-1} - b2_{m-1})   (c_0 = r_0)
        b2 fitted to c_m;                     h_{m+1} = h_m + gamma eta / theta_m b2

    ``r_m`` is the Newton step ``-g / h`` at ``g_m`` and ``b2`` is fitted to
    ``c_m`` with hessian weights, so both trees are in the same units. The
    sign in ``c_m`` is the paper's plus (Google's reference code has minus).
    The model is ``f``.
    """

    name = "agbm"
    n_roles = 2

    def __init__(self, learning_rate: float, gamma: float = 0.1):
        self.learning_rate = learning_rate
        self.gamma = gamma

    def plan(self, index: int) -> Stage:
        """Stage ``index`` (1-based) after a reset: ``m = index - 1``."""
        m = index - 1
        return Stage(momentum=2.0 / (m + 2.0), reset=index <= 1, index=index)

    def has_momentum(self, stage: Stage) -> bool:
        """Whether the stage differs from a plain step (restarts matter)."""
        return stage.index > 1

    accelerated = True

    def start(self, raw: np.ndarray) -> tuple:
        """State before the first stage: ``f = h = baseline``."""
        return (raw, raw.copy())

    def fit_point(self, state, stage):
        """``g_m = (1 - theta) f + theta h`` (with ``h = f`` after a reset)."""
        f, h = state
        if stage.reset:
            return f
        theta = stage.momentum
        return (1.0 - theta) * f + theta * h

    def grow(self, context: StageContext, state, stage, aux):
        """Grow ``b1`` at ``g_m`` and ``b2`` on the corrected residual."""
        point = self.fit_point(state, stage)
        g, h = context.gradients_at(point)
        trees1, out1 = context.fit_trees(g, h, point)
        corrected = self._corrected_residual(g, h, stage, aux)
        # point=None: b2's leaves stay Newton steps on the corrected residual
        # (no loss-specific leaf refit, which would target y instead).
        trees2, out2 = context.fit_trees(-corrected * h, h, None)
        aux["c"], aux["b2"] = corrected, out2.T
        return [trees1, trees2], [out1, out2], g

    @staticmethod
    def _corrected_residual(g, h, stage, aux):
        with np.errstate(divide="ignore", invalid="ignore"):
            residual = np.where(h > 0, -g / h, 0.0)
        m = stage.index - 1
        if m == 0 or aux.get("c") is None:
            return residual
        return residual + (m + 1.0) / (m + 2.0) * (aux["c"] - aux["b2"])

    def step(self, state, outputs, stage, inplace=False):
        """New ``(f, h)`` from the outputs of ``b1`` and ``b2`` (never in place:
        ``b2`` is kept for the next corrected residual)."""
        f, h = state
        b1, b2 = outputs
        if stage.reset:
            h = f
        point = self.fit_point((f, h), stage)
        theta = stage.momentum
        eta = self.learning_rate * stage.step_scale
        f_new = point + eta * b1
        h_new = h + (self.gamma * eta / theta) * b2
        return (f_new, h_new)

    def new_aux(self, state):
        """The corrected residual and ``b2`` of the previous stage."""
        return {"c": None, "b2": None}

    def replay_aux(self, gradients_at, state, stage, outputs, aux):
        """Rebuild ``aux`` while replaying a fitted stage (for warm start)."""
        g, h = gradients_at(self.fit_point(state, stage))
        aux["c"] = self._corrected_residual(g, h, stage, aux)
        aux["b2"] = outputs[1].T

    def descent_check(self, state, new_state, gradients) -> float:
        """``sum g(g_m) * (f_{m+1} - f_m)``: positive means uphill."""
        return float(np.sum(gradients.T * (new_state[0] - state[0])))


def make_policy(stage_init, learning_rate, momentum, agbm_gamma):
    """The policy object for the estimators' parameters."""
    if stage_init == "zero":
        return StackingInit(learning_rate, 0.0)
    if stage_init == "stacking":
        return StackingInit(learning_rate, momentum)
    return AGBMInit(learning_rate, agbm_gamma)
