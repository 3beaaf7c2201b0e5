"""Stage policies: where each stage starts, how it steps, when it restarts.

The starting point of a new stage decides which optimizer boosting runs in
function space (DESIGN.md, section 2):

- ``StackingPolicy`` with momentum ``beta = 0`` is plain gradient boosting;
  with a constant ``beta`` or Nesterov's growing schedule the new learner
  starts as ``beta`` times the previous one (Nesterov's accelerated
  gradient)::

      Y_t = F_{t-1} + beta_t d_{t-1}        (fit point)
      d_t = beta_t d_{t-1} + nu b_t         (the new learner)
      F_t = F_{t-1} + d_t

- ``AGBMPolicy`` fits two trees per stage, the second to a corrected residual
  that carries the error of the previous momentum tree forward (Lu et al.,
  AISTATS 2020).

A policy follows the :class:`StagePolicy` protocol. The fit loop asks it to
``plan`` the next stage from the :class:`Schedule`, to ``grow`` the stage's
trees through a stage fitter, to ``advance`` (step, with the restart rule
and backtracking), and, once the stage is scored, for the next ``Schedule``.
Its one pure ``step`` serves training, the validation set,
``staged_predict``, the warm-start replay and the coefficient space (outputs
are unit vectors over trees), which gives each tree's weight in the model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numba import njit

#: Backtracking halves a plain step at most 20 times, then takes no step.
MIN_STEP_SCALE = 2.0**-20


@dataclass(frozen=True)
class Stage:
    """What one stage did: enough to replay it on any data.

    Attributes
    ----------
    momentum : float
        Stacking: ``beta_t``. AGBM: ``theta_m = 2 / (m + 2)``.
    index : int
        Stages since the last restart, 1-based (AGBM's ``m + 1``; the
        Nesterov counter). Index 1 is a restart's plain first stage.
    step_scale : float
        Factor on the learning rate of this stage: 1, or ``2**-k`` when the
        function restart's backtracking halved a plain step ``k`` times
        (0 if no halving stopped the loss from rising).
    """

    momentum: float
    index: int
    step_scale: float = 1.0

    @property
    def reset(self) -> bool:
        """Whether the momentum was reset before this stage (AGBM: ``h <- f``)."""
        return self.index <= 1


@dataclass(frozen=True)
class Schedule:
    """Where the momentum stands before the next stage.

    Attributes
    ----------
    index : int
        Index of the next stage since the last restart (1 after a restart).
    plain : bool
        The hybrid rule switched momentum off for the rest of the fit.
    best : int
        Position of the best stopping score so far (the first, on ties),
        kept so that the hybrid rule costs the same at every stage.
    """

    index: int = 1
    plain: bool = False
    best: int = 0


@dataclass
class GrownStage:
    """A stage's trees and what they tell about the fit point.

    Attributes
    ----------
    trees : list of list of ndarray
        Node arrays, one list per role, one tree per output in each.
    outputs : list of ndarray
        Values of each role's trees on the training rows, (n_samples, n_outputs).
    gradients : ndarray of shape (n_outputs, n_samples)
        Gradients at the fit point (the gradient restart's test).
    """

    trees: list
    outputs: list
    gradients: np.ndarray


@dataclass
class Step:
    """The outcome of a stage after the restart rule and backtracking.

    Attributes
    ----------
    stage : Stage
        The stage as taken (a function restart replaces a momentum stage by
        a plain one; backtracking lowers its ``step_scale``).
    trees : list of list of ndarray
        The trees of the stage as taken.
    state : tuple of ndarray
        The policy's state on the training rows after the stage.
    loss : float or None
        The training loss after the stage, when the rule computed it.
    restarted : bool
        The momentum restarted at this stage (the function rule redid it
        without momentum; the gradient rule found it uphill).
    restart_next : bool
        The next stage starts afresh (the gradient rule: after an uphill
        step the momentum is dropped).
    """

    stage: Stage
    trees: list
    state: tuple
    loss: float | None
    restarted: bool
    restart_next: bool


class StageFitter(Protocol):
    """What a policy needs to grow trees (see ``accelboost._fitter``)."""

    def gradients_at(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians, each (n_outputs, n_samples), at ``raw``."""

    def fit_trees(self, gradients, hessians, point) -> tuple[list, np.ndarray]:
        """One tree per output and their values on the training rows."""

    def loss(self, raw: np.ndarray) -> float:
        """The training loss at ``raw``."""

    def total(self, value: float) -> float:
        """A sum over the fitter's rows, completed over all training rows
        (the identity in memory; a sum over the shards of a distributed fit)."""


class StagePolicy(Protocol):
    """The protocol the fit loop, the ensemble and the replay rely on."""

    #: Trees per output a stage fits (AGBM: 2).
    n_roles: int
    #: Whether any stage can carry momentum (else: plain boosting).
    accelerated: bool
    #: Whether the fit loop must score every stage on the validation data.
    watches_validation: bool

    def plan(self, schedule: Schedule) -> Stage:
        """The next stage."""

    def start(self, raw: np.ndarray) -> tuple:
        """The state before the first stage."""

    def grow(self, fitter: StageFitter, state, stage: Stage, aux) -> GrownStage:
        """Grow the stage's trees where the policy says."""

    def step(self, state, outputs, stage: Stage, inplace: bool = False) -> tuple:
        """The new state from the stage's tree outputs (pure)."""

    def advance(self, fitter, state, aux, stage, grown, reference) -> Step:
        """Step, under the restart rule and backtracking."""

    def next_schedule(
        self, schedule: Schedule, step: Step, n_stages: int, scores
    ) -> tuple[Schedule, bool]:
        """The schedule after a stage, and whether scores restarted momentum."""


def nesterov_momentum(index: int) -> float:
    """``beta`` of Nesterov's schedule at stage ``index`` (1-based) since reset.

    ``lambda_1 = 1``, ``lambda_t = (1 + sqrt(1 + 4 lambda_{t-1}^2)) / 2``,
    ``beta_t = (lambda_{t-1} - 1) / lambda_t``: 0, 0, 0.28, 0.43, ... -> 1.
    """
    if index <= 1:
        return 0.0
    # The lambdas are kept: a long fit without restarts would otherwise
    # recompute the whole sequence at every stage (quadratic time).
    while len(_NESTEROV_LAMBDAS) <= index:
        lam = _NESTEROV_LAMBDAS[-1]
        _NESTEROV_LAMBDAS.append((1.0 + np.sqrt(1.0 + 4.0 * lam * lam)) / 2.0)
    return (_NESTEROV_LAMBDAS[index - 1] - 1.0) / _NESTEROV_LAMBDAS[index]


#: ``lambda_t`` of Nesterov's schedule at index t (``lambda_1 = 1``).
_NESTEROV_LAMBDAS = [0.0, 1.0]


@dataclass(frozen=True)
class MomentumRules:
    """When momentum is used, restarted and given up (see the estimators).

    Attributes
    ----------
    restart : {"function", "gradient", "validation"} or None
        The momentum restart rule.
    momentum_offset : int
        The first ``momentum_offset`` stages of a fit are plain.
    hybrid_patience : int or None
        Momentum is switched off for good once the stopping score has not
        improved for this many stages.
    """

    restart: str | None = "function"
    momentum_offset: int = 0
    hybrid_patience: int | None = None


class _MomentumPolicy:
    """Restart rules, backtracking and the schedule, shared by the policies.

    Parameters
    ----------
    learning_rate : float
        Shrinkage of each tree.
    rules : MomentumRules
        When momentum is used, restarted and given up.
    """

    n_roles = 1

    def __init__(self, learning_rate: float, rules: MomentumRules):
        self.learning_rate = learning_rate
        self.rules = rules

    # Subclasses define: accelerated, _stage(index), has_momentum(stage),
    # start, fit_point, grow, step, descent_check, new_aux, replay_aux.

    @property
    def watches_validation(self) -> bool:
        """Whether a rule reads the score of every stage."""
        rules = self.rules
        return self.accelerated and (
            rules.restart == "validation" or rules.hybrid_patience is not None
        )

    def coefficients(self, stages: list, n_outputs: int) -> np.ndarray | None:
        """Each tree's weight in the model in closed form, or None if the
        policy has none (the ensemble then runs the recursion)."""
        return None

    def plan(self, schedule: Schedule) -> Stage:
        """The next stage: a plain one once the hybrid switched momentum off."""
        return self._stage(1 if schedule.plain else schedule.index)

    def advance(self, fitter: StageFitter, state, aux, stage, grown, reference):
        """Step from ``state`` under the restart rule.

        "function": a momentum step that raises the training loss above
        ``reference`` is undone and redone without momentum (a restart); a
        plain Newton step can still overshoot where momentum pushed the
        scores far out and the hessians are tiny, so it is halved until the
        loss does not rise (backtracking); "validation" keeps this guard and
        adds its own restarts in ``next_schedule``. "gradient": a step that goes
        uphill along the gradient at the fit point is kept, and the momentum
        restarts after it.
        """
        # "validation" keeps the training-loss guard: it only adds restarts.
        guarded = self.rules.restart in ("function", "validation") and self.accelerated
        checks_gradient = self.rules.restart == "gradient" and self.has_momentum(stage)
        # Without a check the old state is not needed: update in place.
        new_state = self.step(
            state, grown.outputs, stage, inplace=not (guarded or checks_gradient)
        )
        if checks_gradient:
            uphill = fitter.total(
                self.descent_check(state, new_state, grown.gradients)) > 0
            return Step(stage, grown.trees, new_state, None, uphill, uphill)
        if not guarded:
            return Step(stage, grown.trees, new_state, None, False, False)
        new_loss = fitter.loss(new_state[0])
        restarted = new_loss > reference() and self.has_momentum(stage)
        if restarted:
            stage = self._stage(1)
            grown = self.grow(fitter, state, stage, aux)
            new_state = self.step(state, grown.outputs, stage)
            new_loss = fitter.loss(new_state[0])
        while new_loss > reference() and stage.step_scale > 0.0:
            scale = stage.step_scale / 2.0
            stage = replace(stage, step_scale=scale if scale >= MIN_STEP_SCALE else 0.0)
            new_state = self.step(state, grown.outputs, stage)
            new_loss = fitter.loss(new_state[0])
        return Step(stage, grown.trees, new_state, new_loss, restarted, False)

    def next_schedule(
        self, schedule: Schedule, step: Step, n_stages: int, scores
    ) -> tuple[Schedule, bool]:
        """The schedule after a stage, and whether the scores restarted it.

        Parameters
        ----------
        schedule : Schedule
            The schedule the stage was planned from.
        step : Step
            The stage as taken.
        n_stages : int
            Stages in the model, this one included.
        scores : sequence of float
            Stopping scores so far (higher is better; one per stage plus the
            baseline's), or empty when the fit does not score stages.

        Returns
        -------
        schedule : Schedule
            The schedule of the next stage.
        restarted : bool
            The "validation" rule restarted the momentum after this stage
            (its score fell).
        """
        rules = self.rules
        best = schedule.best
        if len(scores) and scores[-1] > scores[best]:
            best = len(scores) - 1
        patience = rules.hybrid_patience
        stalled = patience is not None and best < len(scores) - 1 - patience
        plain = schedule.plain or stalled
        fell = len(scores) >= 2 and scores[-1] < scores[-2]
        restarted = (
            rules.restart == "validation" and fell and self.has_momentum(step.stage)
        )
        if step.restart_next or restarted or n_stages <= rules.momentum_offset:
            index = 1
        else:
            index = step.stage.index + 1
        return Schedule(index=index, plain=plain, best=best), restarted


@njit(nogil=True, cache=True)
def _stacking_weights(momenta, scales, learning_rate):
    """``nu s_k c_k`` with ``c_k = 1 + beta_{k+1} c_{k+1}``, from the last stage."""
    n = momenta.shape[0]
    weights = np.empty(n)
    chain = 0.0
    for k in range(n - 1, -1, -1):
        chain = 1.0 + (momenta[k + 1] * chain if k + 1 < n else 0.0)
        weights[k] = learning_rate * scales[k] * chain
    return weights


class StackingPolicy(_MomentumPolicy):
    """Each stage starts from ``momentum`` times the previous learner.

    Parameters
    ----------
    learning_rate : float
        Shrinkage ``nu`` of each tree.
    momentum : float or "nesterov"
        Constant ``beta`` in [0, 1), or Nesterov's growing schedule. With 0
        this is plain gradient boosting, bit for bit.
    rules : MomentumRules, default=MomentumRules()
        When momentum is used, restarted and given up.
    """

    def __init__(
        self,
        learning_rate: float,
        momentum: float | str = 0.0,
        rules: MomentumRules = MomentumRules(),
    ):
        super().__init__(learning_rate, rules)
        self.momentum = momentum

    @property
    def accelerated(self) -> bool:
        """Whether any stage can carry momentum (else: plain boosting)."""
        return self.momentum != 0.0

    def _stage(self, index: int) -> Stage:
        if self.momentum == "nesterov":
            beta = nesterov_momentum(index)
        else:
            beta = 0.0 if index <= 1 else float(self.momentum)
        return Stage(momentum=beta, index=index)

    def has_momentum(self, stage: Stage) -> bool:
        """Whether the stage differs from a plain step (restarts matter)."""
        return stage.momentum != 0.0

    def coefficients(self, stages: list, n_outputs: int) -> np.ndarray:
        """Each tree's weight, in O(stages): ``nu s_k c_k``.

        Tree ``k`` enters ``d_k`` with ``nu s_k`` and every later ``d_t``
        with the product of the momenta since, so its weight in
        ``F = sum_t d_t`` is ``nu s_k c_k`` with ``c_k = 1 + beta_{k+1}
        c_{k+1}`` and ``c_T = 1`` (a restart's ``beta = 0`` cuts the chain).
        Equal to the recursion on unit vectors up to rounding, without its
        O(stages^2) cost.
        """
        momenta = np.array([stage.momentum for stage in stages], dtype=np.float64)
        scales = np.array([stage.step_scale for stage in stages], dtype=np.float64)
        weights = _stacking_weights(momenta, scales, float(self.learning_rate))
        return np.repeat(weights, n_outputs)

    def start(self, raw: np.ndarray) -> tuple:
        """State before the first stage: ``(F, d)`` with ``d = 0``."""
        return (raw, np.zeros_like(raw))

    def fit_point(self, state, stage):
        """``Y = F + beta d``: where the stage's gradients are taken."""
        F, d = state
        return F if stage.momentum == 0.0 else F + stage.momentum * d

    def grow(self, fitter: StageFitter, state, stage, aux) -> GrownStage:
        """Grow one tree per output at the fit point."""
        point = self.fit_point(state, stage)
        g, h = fitter.gradients_at(point)
        trees, outputs = fitter.fit_trees(g, h, point)
        return GrownStage([trees], [outputs], g)

    def step(self, state, outputs, stage, inplace=False):
        """New ``(F, d)`` from the stage's tree outputs.

        With ``inplace`` the old ``F`` and the outputs are overwritten (the
        fit loop's fast path when nothing needs the old state); the numbers
        are the same either way.
        """
        F, d = state
        (b,) = outputs
        nu = self.learning_rate * stage.step_scale
        d_new = np.multiply(b, nu, out=b) if inplace else nu * b
        if stage.momentum != 0.0:
            d_new += stage.momentum * d
        if inplace:
            F += d_new
            return (F, d_new)
        return (F + d_new, d_new)

    def new_aux(self):
        """Training-only state carried between stages (none here)."""
        return None

    def replay_aux(self, gradients_at, state, stage, outputs, aux):
        """Rebuild ``aux`` while replaying a fitted stage (nothing to do)."""

    def descent_check(self, state, new_state, gradients) -> float:
        """``sum g(Y) * (F_t - F_{t-1})``: positive means the step went uphill."""
        return float(np.sum(gradients.T * new_state[1]))


class AGBMPolicy(_MomentumPolicy):
    """Accelerated gradient boosting with corrected residuals (two trees a stage).

    Parameters
    ----------
    learning_rate : float
        ``eta``.
    gamma : float
        Step of the momentum sequence ``h``.
    rules : MomentumRules, default=MomentumRules()
        When momentum is used, restarted and given up.

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

    n_roles = 2
    accelerated = True

    def __init__(
        self,
        learning_rate: float,
        gamma: float = 0.1,
        rules: MomentumRules = MomentumRules(),
    ):
        super().__init__(learning_rate, rules)
        self.gamma = gamma

    def _stage(self, index: int) -> Stage:
        return Stage(momentum=2.0 / (index + 1.0), index=index)  # m = index - 1

    def has_momentum(self, stage: Stage) -> bool:
        """Whether the stage differs from a plain step (restarts matter)."""
        return stage.index > 1

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

    def grow(self, fitter: StageFitter, state, stage, aux) -> GrownStage:
        """Grow ``b1`` at ``g_m`` and ``b2`` on the corrected residual."""
        point = self.fit_point(state, stage)
        g, h = fitter.gradients_at(point)
        trees1, out1 = fitter.fit_trees(g, h, point)
        corrected = self._corrected_residual(g, h, stage, aux)
        # point=None: b2's leaves stay Newton steps on the corrected residual
        # (no loss-specific leaf refit, which would target y instead).
        trees2, out2 = fitter.fit_trees(-corrected * h, h, None)
        aux["c"], aux["b2"] = corrected, out2.T
        return GrownStage([trees1, trees2], [out1, out2], g)

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

    def new_aux(self):
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


#: ``stage_init="auto"``: the momentum for trees of at most this many leaves,
#: from the evidence run (README, "When to accelerate"): a constant 0.5 up to
#: 4 leaves, plain boosting above. Nesterov's schedule paid most with stumps
#: on one table (-8.8%) but lost 1.0% on another, beyond the 0.5% a default
#: may lose.
AUTO_MOMENTUM = ((4, 0.5),)


def auto_momentum(max_leaves: float) -> float | str:
    """The momentum ``stage_init="auto"`` uses for trees of ``max_leaves``.

    Parameters
    ----------
    max_leaves : float
        The most leaves a tree can have (``inf`` without a limit).

    Returns
    -------
    momentum : float or "nesterov"
        0.0 (plain boosting) for trees larger than the table's last entry.
    """
    for leaves, momentum in AUTO_MOMENTUM:
        if max_leaves <= leaves:
            return momentum
    return 0.0


def make_policy(
    stage_init: str,
    learning_rate: float,
    momentum: float | str = 0.0,
    agbm_gamma: float = 0.1,
    rules: MomentumRules = MomentumRules(),
    max_leaves: float = np.inf,
) -> StackingPolicy | AGBMPolicy:
    """The policy for the estimators' parameters.

    Parameters
    ----------
    stage_init : {"auto", "zero", "stacking", "agbm"}
        Where each stage starts; "auto" is "stacking" with
        ``auto_momentum(max_leaves)``.
    learning_rate : float
        Shrinkage of each tree.
    momentum : float or "nesterov", default=0.0
        Momentum of "stacking".
    agbm_gamma : float, default=0.1
        AGBM's ``gamma``.
    rules : MomentumRules, default=MomentumRules()
        When momentum is used, restarted and given up; ignored by "zero",
        which has no momentum.
    max_leaves : float, default=inf
        The most leaves a tree can have ("auto" only).

    Returns
    -------
    policy : StackingPolicy or AGBMPolicy
    """
    if stage_init == "auto":
        momentum = auto_momentum(max_leaves)
        stage_init = "stacking" if momentum != 0.0 else "zero"
    if stage_init == "zero":
        return StackingPolicy(learning_rate, 0.0)
    if stage_init == "stacking":
        return StackingPolicy(learning_rate, momentum, rules)
    return AGBMPolicy(learning_rate, agbm_gamma, rules)
