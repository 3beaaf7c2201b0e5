"""StackedBoostRegressor and StackedBoostClassifier: boosting small networks.

Stage ``t`` adds a learner ``f_t`` (a linear model or a small MLP) to the
ensemble ``F_{t-1}``: ``f_t`` starts from ``stage_init``, then
``steps_per_stage`` optimizer steps lower ``loss(y, F_{t-1} + f_t)`` on
mini-batches, and ``F_t = F_{t-1} + f_t``. With ``stage_init="stacking"``
the new learner starts as a copy of the previous one with its output layer
scaled by ``momentum``: its output is ``momentum * f_{t-1}``, the look-ahead
point of Nesterov's method (DESIGN 2.2, 5.2). ``"zero"`` starts from fresh
hidden layers and a zero output layer (plain boosting); ``"random"`` from a
fresh random network.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._early_stopping import (
    check_iteration_range,
    patience_exhausted,
    split_validation,
    uses_early_stopping,
)
from .._engine.loss import Loss, make_loss
from .._labels import encode_known_labels, encode_labels
from .._restore import restored_on_failure
from ..callbacks import StageInfo, _CallbackList
from ._network import ACTIVATIONS, forward, init_params, input_gradient, layer_shapes
from ._parameterization import PARAMETERIZATIONS, init_stds, layer_scales
from ._training import BatchSampler, LossMonitor, train_steps
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer

__all__ = ["StackedBoostClassifier", "StackedBoostRegressor"]

STAGE_INITS = ("stacking", "zero", "random")

#: Rows on which ``loss_curve_`` watches the training loss at every step.
_WATCHED_ROWS = 1000

#: Share of the constant model's training loss a stage's loss must also
#: rise by to count as diverged.
_DIVERGENCE_FLOOR = 0.01

#: Scale, relative to its initial std, of the output layer K-FAC's learners
#: start with instead of exact zero.
_OUTPUT_NUDGE = 1e-3


class BaseStackedBoost(BaseEstimator, ABC):
    """Shared fit loop of the parametric boosting estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "learner": [StrOptions({"linear", "mlp"})],
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "stage_init": [StrOptions(set(STAGE_INITS))],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "steps_per_stage": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "optimizer": [StrOptions(set(OPTIMIZERS)), Optimizer],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "parameterization": [StrOptions(set(PARAMETERIZATIONS))],
        "base_width": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(
        self,
        loss,
        *,
        learner,
        hidden_layer_sizes,
        activation,
        stage_init,
        momentum,
        max_iter,
        steps_per_stage,
        batch_size,
        optimizer,
        learning_rate,
        parameterization,
        base_width,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        random_state,
    ):
        self.loss = loss
        self.learner = learner
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.stage_init = stage_init
        self.momentum = momentum
        self.max_iter = max_iter
        self.steps_per_stage = steps_per_stage
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.parameterization = parameterization
        self.base_width = base_width
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state

    # -- subclass hooks ----------------------------------------------------
    @abstractmethod
    def _encode_y(self, y: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
        """Validate ``y`` and return it as the loss reads it (float64)."""

    @abstractmethod
    def _encode_y_val(self, y) -> np.ndarray:
        """Targets of a validation set, as the loss reads them."""

    @abstractmethod
    def _make_loss(self) -> Loss:
        """The loss for the current parameters and data."""

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None, callbacks=None):
        """Fit the boosted ensemble of networks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (finite values only).
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each weighs its sample's loss, in the
            feature scaling and in its batch's gradient.
        X_val, y_val, sample_weight_val : array-like, default=None
            A validation set for early stopping, used instead of holding out
            ``validation_fraction`` of the training data.
        callbacks : list of callable or Callback, default=None
            Called after every stage with an
            :class:`accelboost.callbacks.StageInfo`; a truthy return stops
            the fit.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_failure(self):
            self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val,
                      callbacks)
        return self

    def _fit(self, X, y, sample_weight, X_val, y_val, sample_weight_val,
             callbacks):
        X, y, sample_weight = self._validate_training_data(X, y, sample_weight)
        validation = self._validation_data(X_val, y_val, sample_weight_val)
        optimizer = self._make_optimizer()
        seed = check_random_state(self.random_state).randint(
            np.iinfo(np.uint32).max, dtype=np.int64
        )
        early_stopping = uses_early_stopping(
            self.early_stopping, X.shape[0], validation is not None
        )
        if early_stopping and validation is None:
            train, validation = split_validation(
                X, y, sample_weight, self.validation_fraction,
                classes=getattr(self, "classes_", None), seed=int(seed),
            )
        else:
            train = (X, y, sample_weight)
        if not early_stopping:
            validation = None
        self._fit_stages(train, validation, optimizer, seed,
                         _CallbackList(callbacks))

    def _validate_training_data(self, X, y, sample_weight):
        X, y = validate_data(
            self, X, y, dtype=[np.float64], y_numeric=isinstance(self, RegressorMixin)
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        y = self._encode_y(y, sample_weight)
        # A zero weight removes its sample (scikit-learn's convention); rows
        # that teach nothing never fill a batch.
        keep = sample_weight > 0
        return X[keep], y[keep], sample_weight[keep]

    def _validation_data(self, X_val, y_val, sample_weight_val):
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        X_val, y_val = validate_data(
            self, X_val, y_val, dtype=[np.float64], reset=False,
            y_numeric=isinstance(self, RegressorMixin),
        )
        sample_weight_val = _check_sample_weight(
            sample_weight_val, X_val, dtype=np.float64, ensure_non_negative=True
        )
        return X_val, self._encode_y_val(y_val), sample_weight_val

    def _make_optimizer(self) -> Optimizer:
        if isinstance(self.optimizer, Optimizer):
            if self.learning_rate is not None:
                raise ValueError(
                    "learning_rate must be None when optimizer is an Optimizer "
                    "instance; set the learning rate on the instance, got "
                    f"learning_rate={self.learning_rate!r}."
                )
            return self.optimizer
        return make_optimizer(self.optimizer, self.learning_rate)

    def _architecture(self, n_features: int, n_outputs: int):
        if self.learner == "linear":
            return layer_shapes(n_features, (), n_outputs)
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not sizes or any(
            not isinstance(size, Integral) or size < 1 for size in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a non-empty "
                f"sequence of positive ints; got {self.hidden_layer_sizes!r}."
            )
        return layer_shapes(n_features, sizes, n_outputs)

    def _fit_scaling(self, X, sample_weight):
        """Weighted mean and standard deviation of the features (1 where a
        feature is constant): the networks see standardized inputs."""
        self._x_mean = np.average(X, axis=0, weights=sample_weight)
        std = np.sqrt(
            np.average((X - self._x_mean) ** 2, axis=0, weights=sample_weight)
        )
        self._x_scale = np.where(std > 1e-12 * np.maximum(1.0, abs(self._x_mean)),
                                 std, 1.0)

    def _standardize(self, X):
        return (X - self._x_mean) / self._x_scale

    def _fit_stages(self, train, validation, optimizer, seed, callbacks):
        X, y, sample_weight = train
        self._fit_scaling(X, sample_weight)
        X = self._standardize(X)
        self._loss = self._make_loss()
        n_outputs = self._loss.n_outputs
        self._shapes = self._architecture(X.shape[1], n_outputs)
        stds = init_stds(self._shapes, self.parameterization, self.base_width)
        scales = layer_scales(self._shapes, optimizer, self.parameterization,
                              self.base_width)
        # Apart, so that the rows (their number, the batches) never change
        # the initial networks.
        init_rng, batch_rng, watch_rng = (
            np.random.default_rng(s)
            for s in np.random.SeedSequence(int(seed)).spawn(3)
        )
        batches = BatchSampler(X.shape[0], self.batch_size, batch_rng)
        self._baseline = self._loss.baseline(y, sample_weight)
        raw = np.tile(self._baseline, (X.shape[0], 1))
        if validation is not None:
            X_val, y_val, sw_val = validation
            X_val = self._standardize(X_val)
            raw_val = np.tile(self._baseline, (X_val.shape[0], 1))
        self.stages_ = []
        self.train_score_ = [-self._loss(y, raw, sample_weight)]
        self.validation_score_ = []
        if validation is not None:
            self.validation_score_.append(-self._loss(y_val, raw_val, sw_val))
        # The loss curve is watched on fixed rows, not on the batches.
        watched = np.sort(watch_rng.permutation(X.shape[0])[:_WATCHED_ROWS])
        curves, batch_curves = [], []
        self.best_iteration_ = None
        callbacks.before_fit(self)
        previous = None
        for stage in range(self.max_iter):
            params = self._start_learner(previous, stds, init_rng,
                                         optimizer.needs_curvature)
            monitor = LossMonitor(X[watched], y[watched], raw[watched],
                                  sample_weight[watched])
            result = self._train_stage(params, optimizer, scales, X, y, raw,
                                       sample_weight, batches, monitor)
            if result is None:
                self._warn_diverged(stage)
                break
            output, batch_losses = result
            curves.append(monitor.losses)
            batch_curves.append(batch_losses)
            raw += output
            self.stages_.append(params)
            previous = params
            self.train_score_.append(-self._loss(y, raw, sample_weight))
            if validation is not None:
                raw_val += forward(params, X_val, self.activation)
                self.validation_score_.append(-self._loss(y_val, raw_val, sw_val))
            self.n_iter_ = len(self.stages_)
            stop = callbacks.after_stage(StageInfo(
                self, stage, self.train_score_[-1],
                self.validation_score_[-1] if validation is not None else None,
            ))
            if stop or (validation is not None and patience_exhausted(
                    self.validation_score_, self.n_iter_no_change, self.tol)):
                break
        self.n_iter_ = len(self.stages_)
        self.loss_curve_ = np.concatenate([np.empty(0), *curves])
        self.batch_loss_curve_ = np.concatenate([np.empty(0), *batch_curves])
        self.train_score_ = np.asarray(self.train_score_)
        self.validation_score_ = np.asarray(self.validation_score_)
        self.best_iteration_ = (
            int(np.argmax(self.validation_score_)) if validation is not None
            else self.n_iter_
        )
        callbacks.after_fit(self)

    def _train_stage(self, params, optimizer, scales, X, y, raw, sample_weight,
                     batches, monitor):
        """Train a stage's learner in place: its output on ``X`` and the batch
        losses, or None if the stage diverged.

        A stage diverges when a loss or an output is not finite, the
        optimizer's linear algebra fails (K-FAC's factors of a runaway
        network), or its steps leave the training loss above twice the loss
        at the stage's start (plus 1% of the constant model's loss).
        """
        # NumPy's overflow warnings on the way would only be noise: the
        # caller warns that the stage diverged.
        with np.errstate(over="ignore", invalid="ignore"):
            start = self._loss(y, raw + forward(params, X, self.activation),
                               sample_weight)
            try:
                batch_losses = train_steps(
                    params, self.activation, optimizer,
                    optimizer.init(params, scales), X, y, raw, self._loss,
                    sample_weight, steps=self.steps_per_stage, batches=batches,
                    monitor=monitor,
                )
            except np.linalg.LinAlgError:
                return None
            output = forward(params, X, self.activation)
            end = self._loss(y, raw + output, sample_weight)
        finite = np.all(np.isfinite(batch_losses)) and np.all(np.isfinite(output))
        # Doubling from a loss near zero is noise, not a runaway: the rise
        # must also be a share of the constant model's loss.
        floor = _DIVERGENCE_FLOOR * -self.train_score_[0]
        if not finite or not np.isfinite(end) or end > 2.0 * start + floor:
            return None
        return output, batch_losses

    def _start_learner(self, previous, stds, rng, nudge_output=False):
        """The new stage's learner before its optimizer steps.

        With ``nudge_output`` (K-FAC), an MLP whose output layer would start
        at exactly zero gets a tiny random one instead (DESIGN 5.3): with a
        zero output layer the hidden layers' curvature factors are zero and
        their first steps are set by the damping alone.
        """
        if self.stage_init == "stacking" and previous is not None:
            params = [theta.copy() for theta in previous]
            params[-1] *= self.momentum
        else:
            params = init_params(self._shapes, stds, rng,
                                 zero_output=self.stage_init != "random")
        output = params[-1][:-1]
        if nudge_output and len(params) > 1 and not output.any():
            output[:] = rng.standard_normal(output.shape) * (
                _OUTPUT_NUDGE * stds[-1]
            )
        return params

    def _warn_diverged(self, stage):
        warnings.warn(
            f"Training diverged at stage {stage} (a loss or prediction that is "
            "not finite, or a training loss that more than doubled during the "
            f"stage); the model keeps the {stage} stage(s) before it. Lower "
            "learning_rate (or raise K-FAC's damping).",
            ConvergenceWarning,
            stacklevel=4,
        )

    # -- prediction ----------------------------------------------------------
    def _predict_input(self, X):
        check_is_fitted(self, "stages_")
        return self._standardize(
            validate_data(self, X, dtype=[np.float64], reset=False)
        )

    def _raw_predict(self, X, iteration_range=None):
        X = self._predict_input(X)
        begin, end = check_iteration_range(iteration_range, self.n_iter_)
        if end is None:
            end = self.best_iteration_
        # The baseline is always in, as in the tree estimators.
        raw = np.tile(self._baseline, (X.shape[0], 1))
        for params in self.stages_[begin:end]:
            raw += forward(params, X, self.activation)
        return raw

    def _staged_raw_predict(self, X):
        X = self._predict_input(X)
        raw = np.tile(self._baseline, (X.shape[0], 1))
        for params in self.stages_:
            raw += forward(params, X, self.activation)
            yield raw.copy()

    def _raw_input_gradient(self, X):
        """Gradient of the standardized-units raw prediction, per sample, in
        the original input units: (n_samples, n_outputs, n_features)."""
        Z = self._predict_input(X)
        gradient = np.zeros((Z.shape[0], self._loss.n_outputs, Z.shape[1]))
        for params in self.stages_[: self.best_iteration_]:
            gradient += input_gradient(params, Z, self.activation)
        return gradient / self._x_scale

    def _linear_stages(self):
        """Sum of the linear learners' matrices, in standardized units."""
        check_is_fitted(self, "stages_")
        if self.learner != "linear":
            raise AttributeError(
                "coef_ and intercept_ exist for learner='linear' only."
            )
        total = np.zeros(self._shapes[0].shape)
        for (theta,) in self.stages_[: self.best_iteration_]:
            total += theta
        return total


_COMMON_DOC = """
    learner : {"mlp", "linear"}, default="mlp"
        The weak learner: a multilayer perceptron with ``hidden_layer_sizes``
        and ``activation``, or a linear model.
    hidden_layer_sizes : int or tuple of int, default=(32,)
        Widths of the MLP's hidden layers.
    activation : {"relu", "tanh", "identity"}, default="relu"
        Activation of the hidden layers.
    stage_init : {"stacking", "zero", "random"}, default="stacking"
        Where each new learner starts: a copy of the previous learner with
        its output layer scaled by ``momentum`` (Nesterov's look-ahead), a
        fresh network with a zero output layer (plain boosting), or a fresh
        random network. The first learner of "stacking" starts as "zero".
        With ``momentum=0`` and linear learners, "stacking" is "zero" bit
        for bit.
    momentum : float in [0, 1], default=0.5
        Scale of the copied output layer under ``stage_init="stacking"``.
    max_iter : int, default=100
        Number of stages (learners).
    steps_per_stage : int, default=10
        Optimizer steps that fit each new learner.
    batch_size : int or None, default=200
        Rows per optimizer step; None, or at least the number of training
        rows, takes the full batch (then a weight is exactly a repeated
        row). Batches are epochs of a shuffled order, carried across stages.
    optimizer : str or Optimizer, default="adam"
        The update rule: "sgd", "momentum", "nesterov", "adagrad",
        "rmsprop", "adam", "adamw", "kfac", "shampoo", or an instance from
        :mod:`accelboost.parametric.optimizers` with its own settings. Its
        state starts afresh for each learner.
    learning_rate : float or None, default=None
        Learning rate of the optimizer named by ``optimizer``; None takes
        that optimizer's default. Must be None when ``optimizer`` is an
        instance.
    parameterization : {"standard", "mup"}, default="standard"
        Initial scales and per-layer learning rates (and K-FAC damping):
        "mup" scales them with the width as in Ishikawa and Karakida so that
        a learning rate tuned at ``base_width`` transfers to wider networks.
    base_width : int, default=64
        The width at which "mup" equals "standard".
    early_stopping : "auto" or bool, default="auto"
        Stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` stages; "auto" enables it above 10,000 samples
        or when ``X_val`` is given. Predictions then use ``best_iteration_``
        stages.
    validation_fraction : float or int, default=0.1
        Share (or number) of the training rows held out for early stopping
        when no ``X_val`` is given.
    n_iter_no_change : int, default=10
        Patience of early stopping, in stages.
    tol : float, default=1e-7
        Least improvement of the validation score that counts.
    random_state : int, RandomState instance or None, default=None
        Seeds the initializations and the batches.

    Attributes
    ----------
    stages_ : list of list of ndarray
        Each learner's layer matrices ``[W; b]`` (bias as the last row), on
        standardized inputs.
    n_iter_ : int
        Number of stages fitted.
    best_iteration_ : int
        Stages the predictions use: the best validation score's with early
        stopping, else ``n_iter_``.
    train_score_ : ndarray of shape (n_iter_ + 1,)
        Minus the training loss before the first stage and after each. Under
        squared error the loss is that of the standardized targets (half the
        mean squared error divided by the variance of y), as are
        ``validation_score_``, the loss curves and ``tol``.
    validation_score_ : ndarray
        Minus the validation loss, likewise (empty without early stopping).
    loss_curve_ : ndarray of shape (n_iter_ * steps_per_stage,)
        The training loss before every optimizer step of every stage, on the
        same (at most 1,000) training rows at every step, for
        :func:`accelboost.diagnostics.detect_catapults`.
    batch_loss_curve_ : ndarray of shape (n_iter_ * steps_per_stage,)
        The loss of each step's mini-batch before the step (noisy: each
        batch has other rows).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
"""


class StackedBoostRegressor(RegressorMixin, BaseStackedBoost):
    __doc__ = """Boosting with small networks as weak learners, each stage
    started from the previous learner (stacking).

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        The loss. Under squared error the targets are standardized inside
        (predictions are in the original units).
""" + _COMMON_DOC + """
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from accelboost import StackedBoostRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = StackedBoostRegressor(max_iter=20, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
"""

    _parameter_constraints: dict = {
        **BaseStackedBoost._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        learner="mlp",
        hidden_layer_sizes=(32,),
        activation="relu",
        stage_init="stacking",
        momentum=0.5,
        max_iter=100,
        steps_per_stage=10,
        batch_size=200,
        optimizer="adam",
        learning_rate=None,
        parameterization="standard",
        base_width=64,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-7,
        random_state=None,
    ):
        super().__init__(
            loss,
            learner=learner,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            stage_init=stage_init,
            momentum=momentum,
            max_iter=max_iter,
            steps_per_stage=steps_per_stage,
            batch_size=batch_size,
            optimizer=optimizer,
            learning_rate=learning_rate,
            parameterization=parameterization,
            base_width=base_width,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            random_state=random_state,
        )

    def _encode_y(self, y, sample_weight):
        y = self._check_poisson_y(np.asarray(y, dtype=np.float64), "y")
        if self.loss == "poisson":
            self._y_mean, self._y_scale = 0.0, 1.0
            return y
        # Squared error on standardized targets: one learning rate suits any
        # scale of y. The moments are taken on y / max|y|, which cannot
        # overflow however large y is.
        magnitude = float(np.max(np.abs(y))) or 1.0
        unit = y / magnitude
        mean = np.average(unit, weights=sample_weight)
        std = float(np.sqrt(np.average((unit - mean) ** 2, weights=sample_weight)))
        self._y_mean = float(mean * magnitude)
        self._y_scale = std * magnitude if std > 0 else 1.0
        return (y - self._y_mean) / self._y_scale

    def _check_poisson_y(self, y, name):
        """``y`` (or ``y_val``), checked for what Poisson needs."""
        if self.loss != "poisson":
            return y
        if np.any(y < 0):
            raise ValueError(f"loss='poisson' requires non-negative {name}.")
        if name == "y" and not np.sum(y) > 0:
            raise ValueError("loss='poisson' requires sum(y) > 0.")
        return y

    def _encode_y_val(self, y):
        y = self._check_poisson_y(np.asarray(y, dtype=np.float64), "y_val")
        return (y - self._y_mean) / self._y_scale

    def _make_loss(self):
        return make_loss(self.loss)

    def _to_response(self, raw):
        if self.loss == "poisson":
            return np.exp(raw[:, 0])
        return self._y_mean + self._y_scale * raw[:, 0]

    def predict(self, X, iteration_range=None):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        iteration_range : tuple of (int, int), default=None
            Use stages ``begin`` to ``end`` (the first ``best_iteration_``
            stages if None).

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return self._to_response(self._raw_predict(X, iteration_range))

    def staged_predict(self, X):
        """Predictions after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        y : ndarray of shape (n_samples,)
        """
        for raw in self._staged_raw_predict(X):
            yield self._to_response(raw)

    def input_gradient(self, X):
        """Gradient of the raw prediction with respect to each input.

        For squared error the raw prediction is the prediction; for Poisson
        it is its logarithm. Exact (backpropagation), used by
        :func:`accelboost.diagnostics.agop`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Where to take the gradients.

        Returns
        -------
        gradients : ndarray of shape (n_samples, 1, n_features)
        """
        scale = self._y_scale if self.loss == "squared_error" else 1.0
        return scale * self._raw_input_gradient(X)

    @property
    def coef_(self):
        """The linear model's coefficients in the original units
        (``learner="linear"``), shape (n_features,); under Poisson, those of
        the log of the mean."""
        total = self._linear_stages()
        return self._y_scale * total[:-1, 0] / self._x_scale

    @property
    def intercept_(self):
        """The linear model's intercept in the original units (under
        Poisson, of the log of the mean)."""
        total = self._linear_stages()
        return float(
            self._y_mean + self._y_scale * (self._baseline[0] + total[-1, 0])
            - self._x_mean @ self.coef_
        )


class StackedBoostClassifier(ClassifierMixin, BaseStackedBoost):
    __doc__ = """Classification by boosting small networks, each stage started
    from the previous learner (stacking).

    Parameters
    ----------
    loss : {"log_loss"}, default="log_loss"
        Binary cross-entropy for two classes, multinomial for more.
""" + _COMMON_DOC + """
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from accelboost import StackedBoostClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = StackedBoostClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 3)
"""

    _parameter_constraints: dict = {
        **BaseStackedBoost._parameter_constraints,
        "loss": [StrOptions({"log_loss"})],
    }

    def __init__(
        self,
        loss="log_loss",
        *,
        learner="mlp",
        hidden_layer_sizes=(32,),
        activation="relu",
        stage_init="stacking",
        momentum=0.5,
        max_iter=100,
        steps_per_stage=10,
        batch_size=200,
        optimizer="adam",
        learning_rate=None,
        parameterization="standard",
        base_width=64,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-7,
        random_state=None,
    ):
        super().__init__(
            loss,
            learner=learner,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            stage_init=stage_init,
            momentum=momentum,
            max_iter=max_iter,
            steps_per_stage=steps_per_stage,
            batch_size=batch_size,
            optimizer=optimizer,
            learning_rate=learning_rate,
            parameterization=parameterization,
            base_width=base_width,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            random_state=random_state,
        )

    def _encode_y(self, y, sample_weight):
        self.classes_, encoded = encode_labels(y)
        return encoded

    def _encode_y_val(self, y):
        return encode_known_labels(y, self.classes_)

    def _make_loss(self):
        return make_loss("log_loss", n_classes=len(self.classes_))

    def decision_function(self, X, iteration_range=None):
        """Raw scores: the logit (binary) or one score per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        iteration_range : tuple of (int, int), default=None
            Use stages ``begin`` to ``end`` (the first ``best_iteration_``
            stages if None).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        raw = self._raw_predict(X, iteration_range)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X, iteration_range=None):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        iteration_range : tuple of (int, int), default=None
            Use stages ``begin`` to ``end`` (the first ``best_iteration_``
            stages if None).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        raw = self._raw_predict(X, iteration_range)
        return self._loss.inverse_link(raw)

    def predict(self, X, iteration_range=None):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        iteration_range : tuple of (int, int), default=None
            Use stages ``begin`` to ``end`` (the first ``best_iteration_``
            stages if None).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X, iteration_range)
        return self.classes_[np.argmax(proba, axis=1)]

    def staged_predict_proba(self, X):
        """Class probabilities after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        proba : ndarray of shape (n_samples, n_classes)
        """
        for raw in self._staged_raw_predict(X):
            yield self._loss.inverse_link(raw)

    def staged_predict(self, X):
        """Class labels after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Yields
        ------
        labels : ndarray of shape (n_samples,)
        """
        for proba in self.staged_predict_proba(X):
            yield self.classes_[np.argmax(proba, axis=1)]

    def input_gradient(self, X):
        """Gradient of the decision function with respect to each input.

        Exact (backpropagation), used by :func:`accelboost.diagnostics.agop`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Where to take the gradients.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_outputs, n_features)
            One output for two classes (the logit), else one per class.
        """
        return self._raw_input_gradient(X)
