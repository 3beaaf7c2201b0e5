"""AccelBoostRegressor and AccelBoostClassifier.

The fit loop is short on purpose: validate, bin, build a stage fitter, then
for each stage let the policy plan it, grow its trees, step (with its
restart rule and backtracking), add it to the ensemble; score it when
something reads the scores, call the callbacks, and maybe stop. Plain and
accelerated boosting differ only in the policy object (``_stages``).
"""

import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numba
import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._categorical import make_encoder
from ._constraints import interaction_groups, monotonic_constraints
from ._dataset import Dataset
from ._early_stopping import (
    check_iteration_range,
    patience_exhausted,
    split_rows,
    uses_early_stopping,
)
from ._engine.binning import BinMapper
from ._engine.common import MAX_BINS, MAX_CATEGORIES, X_DTYPES, Y_DTYPE, binned_dtype
from ._engine.grower import TreeParams
from ._engine.loss import make_loss
from ._ensemble import TreeEnsemble
from ._evaluation import EvalRecorder, check_eval_metric, check_eval_set
from ._fitter import StageFitter, fit_stage
from ._labels import encode_known_labels, encode_labels
from ._model_file import ModelFileMixin
from ._progress import make_progress
from ._restore import restored_on_failure
from ._stages import MomentumRules, Schedule, make_policy
from ._terms import (
    ShapeFunction,
    TermsMixin,
    bin_grid,
    bins_in_use,
    decompose,
    term_values,
    training_weights,
)
from ._threads import effective_n_threads, fit_n_threads, numba_threads
from .callbacks import StageInfo, _CallbackList


def _weighted_sum(y, sample_weight) -> float:
    """``sum(sample_weight * y)``; an overflow is left to the baseline's
    check (``_check_finite_start``), which names it."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sum(y if sample_weight is None else y * sample_weight)


def _check_finite_start(what: str, value) -> None:
    """ValueError if the starting model's ``what`` (the constant model's, or a
    warm start's) overflowed: the fit would go on from NaN or infinity."""
    if not np.all(np.isfinite(value)):
        raise ValueError(
            f"The {what} of the model the fit starts from is {value}, not "
            "finite: y or sample_weight are too large in magnitude for float64 "
            "arithmetic (or the loss does not suit y). Rescale them."
        )


class BaseAccelBoost(ModelFileMixin, TermsMixin, BaseEstimator, ABC):
    """Shared fit loop of the accelboost estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "min_hessian_to_split": [Interval(Real, 0, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "max_bins": [Interval(Integral, 2, MAX_BINS, closed="both")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scoring": [str, callable, None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "stage_init": [StrOptions({"auto", "zero", "stacking", "agbm"})],
        "momentum": [Interval(Real, 0, 1, closed="left"), StrOptions({"nesterov"})],
        "restart": [StrOptions({"function", "gradient", "validation"}), None],
        "momentum_offset": [Interval(Integral, 0, None, closed="left")],
        "hybrid_patience": [Interval(Integral, 1, None, closed="left"), None],
        "agbm_gamma": [Interval(Real, 0, None, closed="neither")],
        "max_delta_step": [
            Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None
        ],
        "interaction_cst": [
            list, tuple, StrOptions({"pairwise", "no_interactions"}), None
        ],
        "importance_type": [StrOptions({"gain", "split"})],
        "categorical_features": [
            "array-like", StrOptions({"from_dtype"}), None
        ],
        "monotonic_cst": ["array-like", dict, None],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "max_features": [Interval(RealNotInt, 0, 1, closed="right")],
    }

    @abstractmethod
    def __init__(
        self,
        loss,
        *,
        learning_rate,
        max_iter,
        max_leaf_nodes,
        max_depth,
        min_samples_leaf,
        min_hessian_to_split,
        l2_regularization,
        max_bins,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        scoring,
        warm_start,
        verbose,
        random_state,
        n_threads,
        stage_init,
        momentum,
        restart,
        momentum_offset,
        hybrid_patience,
        agbm_gamma,
        max_delta_step,
        interaction_cst,
        importance_type,
        categorical_features,
        monotonic_cst,
        subsample,
        max_features,
    ):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.min_hessian_to_split = min_hessian_to_split
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scoring = scoring
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.n_threads = n_threads
        self.stage_init = stage_init
        self.momentum = momentum
        self.restart = restart
        self.momentum_offset = momentum_offset
        self.hybrid_patience = hybrid_patience
        self.agbm_gamma = agbm_gamma
        self.max_delta_step = max_delta_step
        self.interaction_cst = interaction_cst
        self.importance_type = importance_type
        self.categorical_features = categorical_features
        self.monotonic_cst = monotonic_cst
        self.subsample = subsample
        self.max_features = max_features

    # -- subclass hooks ----------------------------------------------------
    @abstractmethod
    def _encode_y(self, y, sample_weight):
        """Validate ``y`` and return it as float64 (labels as 0..K-1)."""

    @abstractmethod
    def _make_loss(self):
        """The loss object for the current parameters and data."""

    def _encode_y_val(self, y):
        """Targets of other data for the fitted model (validation, plots)."""
        return self._encode_y(y, None)

    def _check_training_part(self, y, sample_weight):
        """ValueError if the rows left for training after holding out
        ``validation_fraction`` do not suit the loss (the classes were
        checked by the split)."""

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None, eval_set=None, eval_metric=None,
            callbacks=None):
        """Fit the boosted ensemble.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value. A float32 or float64
            NumPy array, C- or Fortran-ordered (or a DataFrame whose columns
            share one of these dtypes), is read in place: the fit keeps
            its binned copy (one byte per value up to 255 bins) and no copy
            of X, early stopping's held-out rows included (a ``scoring``
            other than "loss" copies those rows, and 10,000 training rows,
            to predict on them). Other dtypes, mixed-dtype DataFrames and
            ``categorical_features`` are converted to a new float64 array
            first. A float32 X gives the model its float64 copy would.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``None`` gives every sample weight 1.
        X_val, y_val, sample_weight_val : array-like, default=None
            A validation set for early stopping, used instead of holding out
            ``validation_fraction`` of the training data.
        eval_set : list of (X, y) or (X, y, sample_weight), default=None
            Data sets scored after every stage into ``evals_result_``
            (LightGBM's and XGBoost's ``eval_set``), under the names
            ``"validation_0"``, ``"validation_1"``, ... They only watch the
            fit: early stopping uses ``X_val`` (or ``validation_fraction``).
        eval_metric : str, callable or list of them, default=None
            What ``eval_set`` records: "loss" (the default; the model's loss,
            lower is better, recorded under the loss's name), a scikit-learn
            scorer name such as "roc_auc" or "r2", or a scorer callable
            ``scorer(estimator, X, y)`` (higher is better). The loss costs a
            pass over each new stage's trees; a scorer predicts with the
            whole model at every stage.
        callbacks : list of callable or Callback, default=None
            Called after every stage with an
            :class:`accelboost.callbacks.StageInfo`; a truthy return stops
            the fit (see :mod:`accelboost.callbacks`). They run after
            ``eval_set`` is scored, so they can read ``evals_result_``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "_ensemble")
        # Validation already sets fitted attributes: it is inside too.
        with restored_on_failure(self):
            X, y, sample_weight = self._validate_training_data(
                X, y, sample_weight, reset=not warm
            )
            validation = self._validation_data(X_val, y_val, sample_weight_val)
            eval_sets = [self._validation_data(*item)
                         for item in check_eval_set(eval_set)]
            metrics = check_eval_metric(eval_metric, self.loss)
            recorders = [EvalRecorder(eval_sets, metrics)] if eval_sets else []
            callbacks = _CallbackList(recorders + list(callbacks or [])
                                      + make_progress(self.verbose, self.max_iter))
            with numba_threads(fit_n_threads(self.n_threads, *X.shape)):
                self._fit(X, y, sample_weight, validation, warm, callbacks)
        return self

    def _validate_training_data(self, X, y, sample_weight, reset):
        if reset:
            # Categories are read before validation turns X into floats.
            self._category_encoder = make_encoder(
                X, self.categorical_features, min(self.max_bins, MAX_CATEGORIES)
            )
        X = self._encode_categories(X)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=list(X_DTYPES),
            ensure_all_finite="allow-nan",
            reset=reset,
            y_numeric=isinstance(self, RegressorMixin),
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if not np.any(sample_weight > 0):
                raise ValueError(
                    "sample_weight has no positive entry; at least one sample "
                    "must have a positive weight."
                )
        y = self._encode_y(y, sample_weight)
        return X, y, self._finalize_sample_weight(sample_weight, y)

    def _finalize_sample_weight(self, sample_weight, y):
        """The training weights, given the encoded targets (class weights)."""
        return sample_weight

    def _validation_data(self, X_val, y_val, sample_weight_val):
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        X_val, y_val = validate_data(
            self,
            self._encode_categories(X_val),
            y_val,
            dtype=list(X_DTYPES),
            ensure_all_finite="allow-nan",
            reset=False,
            y_numeric=isinstance(self, RegressorMixin),
        )
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=np.float64, ensure_non_negative=True
            )
        return X_val, self._encode_y_val(y_val), sample_weight_val

    def _fit(self, X, y, sample_weight, validation, warm, callbacks):
        # Until the fit ends, predictions use every stage so far.
        self.best_iteration_ = None
        self.evals_result_ = {}  # filled by the eval_set recorder, if any
        callbacks.before_fit(self)
        early_stopping = uses_early_stopping(
            self.early_stopping, X.shape[0], validation is not None
        )
        if not warm:
            self._random_seed = self._draw_seed()
        policy = self._make_policy()
        # Early stopping and the validation-driven momentum rules score every
        # stage; only early stopping stops on the scores.
        scores_stages = early_stopping or policy.watches_validation
        train, val, fitter = self._prepare(
            X, y, sample_weight, validation if scores_stages else None,
            scores_stages, warm, policy,
        )
        scorer = self._make_scorer(scores_stages)
        with np.errstate(over="ignore", invalid="ignore"):  # checked here
            start_loss = train.loss(self._loss)
        _check_finite_start("training loss", start_loss)
        if scores_stages and not self.train_score_:
            self._record_scores(scorer, train, val)
        for _ in range(self._ensemble.n_stages, self.max_iter):
            step = self._fit_stage(fitter, train, val)
            if scores_stages:
                # Scoring costs a pass over the data: only its users pay it.
                self._record_scores(scorer, train, val)
            self._update_schedule(step)
            self.n_iter_ = self._ensemble.n_stages
            stop = callbacks.after_stage(self._stage_info())
            if stop or (early_stopping and self._should_stop()):
                break
        self._finish_fit(early_stopping)
        self._warn_if_diverged(start_loss, train.loss(self._loss))
        self._term_weights = self._training_term_weights(train)
        callbacks.after_fit(self)

    def _draw_seed(self):
        """The fit's seed (bins, held-out rows, trees), from ``random_state``."""
        return check_random_state(self.random_state).randint(
            np.iinfo(np.uint32).max, dtype=np.int64
        )

    def _prepare(self, X, y, sample_weight, validation, holds_out, warm, policy):
        """The fitted state to start from, the binned data and the fitter.

        With ``holds_out`` and no validation set given, ``validation_fraction``
        of the rows is held out: the bin thresholds and the trees see only
        the training rows, and each part is binned straight from ``X``
        through its row indices, so ``X`` is never copied.
        """
        train_rows = val_rows = None
        if holds_out and validation is None and self.validation_fraction:
            train_rows, val_rows = split_rows(
                y, sample_weight, self.validation_fraction,
                classes=getattr(self, "classes_", None), seed=self._random_seed,
            )
            self._check_training_part(
                y[train_rows],
                None if sample_weight is None else sample_weight[train_rows])
        if warm:
            self._continue_fitted_state(policy)
        else:
            self._reset_fitted_state(X, y, sample_weight, policy, train_rows)
        classes = getattr(self, "classes_", None)
        train = Dataset(X, y, sample_weight, self._bin_mapper, self._ensemble,
                        classes, training=True, rows=train_rows)
        fitter = StageFitter(
            train.X_binned,
            train.y,
            train.sample_weight,
            self._loss,
            self._bin_mapper,
            self._tree_params(),
            self._leaf_step_cap(),
            # The fit's thread count (``fit`` set it for this data size).
            numba.get_num_threads(),
            interaction_groups(self.interaction_cst, X.shape[1]),
            monotonic_constraints(self, X.shape[1]),
            self._features_per_split(X.shape[1]),
            self.subsample,
            self._random_seed,
            len(self._ensemble.trees),
        )
        train.replay(self._ensemble, fitter.gradients_at)
        val = None
        if val_rows is not None:
            val = Dataset(X, y, sample_weight, self._bin_mapper, self._ensemble,
                          classes, rows=val_rows)
        elif validation is not None:
            val = Dataset(*validation, self._bin_mapper, self._ensemble, classes)
        if val is not None:
            val.replay(self._ensemble)
            with np.errstate(over="ignore", invalid="ignore"):  # checked here
                _check_finite_start("validation loss", val.loss(self._loss))
        return train, val, fitter

    def _make_policy(self):
        rules = MomentumRules(
            restart=self.restart,
            momentum_offset=self.momentum_offset,
            hybrid_patience=self.hybrid_patience,
        )
        max_leaves = self.max_leaf_nodes or np.inf
        if self.max_depth is not None:
            max_leaves = min(max_leaves, 2**self.max_depth)
        return make_policy(
            self.stage_init,
            self.learning_rate,
            self.momentum,
            self.agbm_gamma,
            rules,
            max_leaves,
        )

    def _tree_params(self):
        return TreeParams(
            max_leaf_nodes=self.max_leaf_nodes,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            min_hessian_to_split=self.min_hessian_to_split,
            l2_regularization=self.l2_regularization,
        )

    def _features_per_split(self, n_features):
        """``max_features`` as a count (None: every feature), as HGB rounds it."""
        if self.max_features >= 1.0:
            return None
        return max(1, int(np.ceil(self.max_features * n_features)))

    def _leaf_step_cap(self):
        """``max_delta_step`` resolved: "auto" caps log-loss leaves at 1."""
        if self.max_delta_step != "auto":
            return self.max_delta_step
        return 1.0 if self.loss == "log_loss" else None

    def _warn_if_diverged(self, start_loss, end_loss):
        """A ConvergenceWarning when the fit ended above the training loss
        it started from: boosting diverged, and says which parameter to
        change."""
        if end_loss <= start_loss:
            return
        policy = self._ensemble.policy
        if policy.accelerated and self.restart not in ("function", "validation"):
            advice = (f"With restart={self.restart!r} momentum can raise the loss: "
                      "use restart='function' (the default)")
        else:
            advice = "Lower learning_rate or set max_delta_step"
        warnings.warn(
            f"The training loss rose from {start_loss:.6g} to {end_loss:.6g} "
            f"over the fit: boosting diverged. {advice}.",
            ConvergenceWarning,
            stacklevel=5,
        )

    def _reset_fitted_state(self, X, y, sample_weight, policy, rows=None):
        """A new bin mapper, loss and empty model, from the training rows
        ``rows`` of the data (None: all of them)."""
        encoder = self._category_encoder
        self._bin_mapper = BinMapper(
            max_bins=self.max_bins, random_state=self._random_seed
        ).fit(X, sample_weight,
              None if encoder is None else encoder.n_categories_, rows=rows)
        self._loss = self._make_loss()
        if rows is not None:
            y = y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]
        weights = np.ones_like(y) if sample_weight is None else sample_weight
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            baseline = self._loss.baseline(y, weights)
        _check_finite_start("raw prediction", baseline)
        self._start_model(baseline, policy)

    def _start_model(self, baseline, policy):
        """A model of no stage, at ``baseline``: a fresh fit's state."""
        self._ensemble = TreeEnsemble(baseline, policy)
        self._schedule = Schedule()
        self._restart_stages = []
        self.train_score_ = []
        self.validation_score_ = []

    def _continue_fitted_state(self, policy):
        if self.max_iter < self._ensemble.n_stages:
            raise ValueError(
                f"max_iter={self.max_iter} must be larger than or equal to "
                f"n_iter_={self._ensemble.n_stages} when warm_start==True."
            )
        fitted = self._ensemble.policy
        if type(policy) is not type(fitted) or vars(policy) != vars(fitted):
            raise ValueError(
                "warm_start cannot change stage_init, momentum, learning_rate, "
                "agbm_gamma, restart, momentum_offset or hybrid_patience: the "
                "fitted stages follow the old recursion."
            )
        self._ensemble = self._ensemble.copy()
        self._restart_stages = list(self._restart_stages)
        self.train_score_ = list(self.train_score_)
        self.validation_score_ = list(self.validation_score_)

    def _finish_fit(self, early_stopping):
        self.n_iter_ = self._ensemble.n_stages
        self.n_restarts_ = len(self._restart_stages)
        self.train_score_ = np.asarray(self.train_score_)
        self.validation_score_ = np.asarray(self.validation_score_)
        scores = self._stopping_scores()
        # Stages of the best-scoring model (0: the baseline alone).
        self.best_iteration_ = int(np.argmax(scores)) if early_stopping else (
            self.n_iter_
        )

    @property
    def feature_importances_(self):
        """Importance of each feature, from the splits of every tree.

        ``importance_type="gain"``: the total gain of the splits on the
        feature, normalized to sum to 1 (all zeros when no tree splits).
        ``"split"``: the number of splits on the feature, as LightGBM counts
        them. Gains are those of the fit, in each tree's own gradient scale.
        """
        gains, counts = self._model().split_totals(self.n_features_in_)
        if self.importance_type == "split":
            return counts
        total = gains.sum()
        return gains / total if total > 0 else gains

    @property
    def stage_coef_(self):
        """Weight of each tree in the model ``predict`` uses, after restarts.

        Trees are ordered by stage; within a stage by role (AGBM fits two
        trees a stage) and then by output column (class). After early
        stopping the model has ``best_iteration_`` stages.
        """
        return self._model().coef.copy()

    def _model(self, n_stages=None):
        """The ensemble of the first ``n_stages`` stages, which predicts.

        By default ``best_iteration_`` stages (after early stopping, the
        best-scoring model, as LightGBM predicts), or all of them while the
        fit runs (callbacks and scorers see the model as it stands).
        """
        check_is_fitted(self, "_ensemble")
        full = self._ensemble
        if n_stages is None:
            best = getattr(self, "best_iteration_", None)
            n_stages = full.n_stages if best is None else best
        key = (full, full.n_stages, n_stages)
        cached = getattr(self, "_model_cache", None)
        if cached is None or cached[0] is not full or cached[1:3] != key[1:]:
            self._model_cache = (*key, full.truncated(n_stages))
        return self._model_cache[3]

    @property
    def stage_momentum_(self):
        """Momentum each stage started from: ``beta_t`` (AGBM: ``theta_m``)."""
        check_is_fitted(self, "_ensemble")
        return np.array([stage.momentum for stage in self._ensemble.stages])

    @property
    def restart_stages_(self):
        """Stages (0-based) at which the momentum was restarted."""
        check_is_fitted(self, "_ensemble")
        return np.asarray(self._restart_stages, dtype=np.intp)

    def _fit_stage(self, fitter, train, val):
        """Plan, grow, step (the policy's restart rule included), add."""
        step = fit_stage(self._ensemble.policy, self._schedule, fitter, train, val,
                         self._ensemble, self._loss)
        if step.restarted:
            self._restart_stages.append(self._ensemble.n_stages - 1)
        return step

    def _update_schedule(self, step):
        """Let the policy plan on, from this stage and the scores so far."""
        n_stages = self._ensemble.n_stages
        self._schedule, restarted = self._ensemble.policy.next_schedule(
            self._schedule, step, n_stages, self._stopping_scores()
        )
        if restarted:
            self._restart_stages.append(n_stages - 1)

    def _stage_info(self):
        def last(scores):
            return float(scores[-1]) if len(scores) else None

        return StageInfo(
            estimator=self,
            stage=self._ensemble.n_stages - 1,
            train_score=last(self.train_score_),
            validation_score=last(self.validation_score_),
        )

    # -- terms of an additive model ------------------------------------------
    def _term_structure(self):
        """The fitted model's terms (cached for this ensemble at this size)."""
        model = self._model()
        nodes, starts, _ = model._plain()
        # Every fit makes a new ensemble (warm start a copy): a refit with
        # as many trees must not reuse the old terms.
        key = (model, len(starts))
        cached = getattr(self, "_terms_cache", None)
        if cached is None or cached[0] is not key[0] or cached[1] != key[1]:
            self._terms_cache = (*key, decompose(nodes, starts))
        return self._terms_cache[2]

    def _training_term_weights(self, train):
        try:
            structure = self._term_structure()
        except ValueError:
            return None  # not additive: no terms to weigh
        return training_weights(structure, train.X_binned, train.sample_weight,
                                self._bin_mapper.missing_bin_ + 1)

    @property
    def term_features_(self):
        """Feature indices of each term: ``(j,)`` main effects, ``(j, k)`` pairs.

        Defined when no tree path splits on more than two features (stumps,
        ``interaction_cst="no_interactions"`` or ``"pairwise"``); a
        ValueError says so otherwise.
        """
        return list(self._term_structure().terms[1:])

    @property
    def intercept_(self):
        """The raw prediction with every term at zero: the baseline plus trees
        that are a single leaf. ``decision_function`` (regressors: the raw
        prediction) is ``intercept_`` plus the sum of ``predict_terms``."""
        self._term_structure()  # raises if the model has no terms
        model = self._model()
        folded, starts, columns = model.folded_arrays()
        # A tree that is a single leaf splits on nothing: it is all intercept.
        single = folded["left"][starts] == 0
        intercept = model.baseline.copy()
        np.add.at(intercept, columns[single], folded["threshold"][starts[single]])
        return intercept[0] if intercept.shape[0] == 1 else intercept

    def _terms_at(self, X, binned):
        structure = self._term_structure()
        model = self._model()
        folded, starts, columns = model.folded_arrays()
        with numba_threads(effective_n_threads(self.n_threads)):
            values = term_values(structure, folded, model.bitsets, starts,
                                 columns, X, binned, self._bin_mapper.missing_bin_,
                                 model.n_outputs)
        values = values[:, 1:]  # term 0 is in the intercept
        return values[..., 0] if values.shape[2] == 1 else values

    def predict_terms(self, X):
        """Each term's contribution to the raw prediction of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Returns
        -------
        contributions : ndarray of shape (n_samples, n_terms)
            One column per term of ``term_features_``; ``(n_samples,
            n_terms, n_classes)`` for classifiers with more than two classes.
            ``intercept_`` plus their sum over terms is the raw prediction.
        """
        X = self._predict_input(X)
        return self._terms_at(X, binned=False)

    def shape_function(self, term):
        """A term's values on its bin grid.

        Parameters
        ----------
        term : int or str
            Index into ``term_features_``, or a name from ``term_names_``.

        Returns
        -------
        shape : ShapeFunction
            The term's features, name, bin edges and values (a 2-D grid for
            a pair; the last entry along each axis is the NaN bin).
        """
        index = self._term_index(term)
        features = self.term_features_[index]
        mapper = self._bin_mapper
        axes = bins_in_use(features, mapper.n_bins_non_missing_, mapper.missing_bin_)
        grid = bin_grid(features, axes, self.n_features_in_,
                        binned_dtype(mapper.missing_bin_))
        values = self._terms_at(grid, binned=True)[:, index]
        sizes = tuple(int(mapper.n_bins_non_missing_[f]) + 1 for f in features)
        return ShapeFunction(
            term=features,
            name=self.term_names_[index],
            thresholds=tuple(
                mapper.thresholds_[f, : mapper.n_bins_non_missing_[f]].copy()
                for f in features
            ),
            values=values.reshape(sizes + values.shape[1:]),
        )

    def _term_bin_weights(self, index):
        structure = self._term_structure()
        if getattr(self, "_term_weights", None) is None or len(
            self._term_weights
        ) != len(structure.terms) - 1:
            raise ValueError(
                "term_importances needs the training bin weights of an additive "
                "fit; refit the model."
            )
        mapper = self._bin_mapper
        # Keep the bins in use and the NaN bin, as the shape function does.
        cells = np.ix_(*bins_in_use(structure.terms[index + 1],
                                    mapper.n_bins_non_missing_, mapper.missing_bin_))
        return self._term_weights[index][cells]

    # -- scoring and early stopping ---------------------------------------
    def _make_scorer(self, early_stopping):
        if not early_stopping or self.scoring == "loss":
            return None
        return check_scoring(self, self.scoring)

    def _record_scores(self, scorer, train, val):
        if scorer is None:
            train_loss = self._loss(train.y, train.raw, train.sample_weight)
            self.train_score_.append(-train_loss)
            if val is not None:
                self.validation_score_.append(
                    -self._loss(val.y, val.raw, val.sample_weight)
                )
            return
        X_sub, y_sub, sw_sub = train.scoring_subsample(self._random_seed)
        self.train_score_.append(self._score_with(scorer, X_sub, y_sub, sw_sub))
        if val is not None:
            self.validation_score_.append(
                self._score_with(scorer, val.X, val.y_original, val.sample_weight)
            )

    def _score_with(self, scorer, X, y, sample_weight):
        # The scorer calls predict mid-fit, which needs the public fitted state.
        self.n_iter_ = self._ensemble.n_stages
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        with warnings.catch_warnings():
            # X is the user's data, validated into an array: its columns are
            # the fitted feature names, so the check's warning is spurious.
            warnings.filterwarnings(
                "ignore", message="X does not have valid feature names",
                category=UserWarning,
            )
            score = scorer(self, X, y, **kwargs)
        if not np.isfinite(score):
            # Early stopping would pick its best stage among NaN, silently.
            raise ValueError(
                f"scoring={self.scoring!r} gave {score} on {len(y)} samples "
                "(r2, for one, needs two samples and is undefined on a held-out "
                "part of one). Use scoring='loss', a larger validation_fraction "
                "or X_val, or set early_stopping=False."
            )
        return score

    def _stopping_scores(self):
        return self.validation_score_ if len(self.validation_score_) else (
            self.train_score_
        )

    def _should_stop(self):
        """True when none of the last ``n_iter_no_change`` scores improved on
        the one before them by more than ``tol`` (higher is better).

        A restart resets the patience: momentum can make the held-out score
        wobble around a restart, so the window starts after the last one.
        """
        scores = self._stopping_scores()
        window = self.n_iter_no_change + 1
        if self._restart_stages and self._restart_stages[-1] >= len(scores) - window:
            return False
        return patience_exhausted(scores, self.n_iter_no_change, self.tol)

    # -- prediction ----------------------------------------------------------
    def _predict_input(self, X):
        """``X`` validated for a fitted model (features, dtype, NaN allowed)."""
        check_is_fitted(self, "_ensemble")
        return validate_data(
            self, self._encode_categories(X), dtype=list(X_DTYPES),
            ensure_all_finite="allow-nan", reset=False,
        )

    def _encode_categories(self, X):
        """``X`` with its categorical columns as codes (unknown ones NaN)."""
        encoder = getattr(self, "_category_encoder", None)
        return X if encoder is None else encoder.transform(X)

    @property
    def is_categorical_(self):
        """Boolean mask of the categorical features, or None if there are none
        (HistGradientBoosting's attribute)."""
        check_is_fitted(self, "_ensemble")
        encoder = self._category_encoder
        return None if encoder is None else encoder.mask.copy()

    def _raw_predict(self, X, iteration_range=None):
        X = self._predict_input(X)
        begin, end = check_iteration_range(iteration_range, self._ensemble.n_stages)
        with numba_threads(effective_n_threads(self.n_threads)):
            return self._model(end).raw_predict(X, first_stage=begin)

    def _staged_raw_predict(self, X):
        X = self._predict_input(X)
        with numba_threads(effective_n_threads(self.n_threads)):
            yield from self._ensemble.staged_raw_predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_COMMON_DOC = """
    learning_rate : float, default=0.1
        Shrinkage of each tree (the coefficient a stage's trees enter with).
    max_iter : int, default=100
        Maximum number of boosting stages (trees per output).
    max_leaf_nodes : int or None, default=31
        Maximum number of leaves per tree; trees grow best-first.
    max_depth : int or None, default=None
        Maximum depth of each tree (the root has depth 0).
    min_samples_leaf : int, default=20
        Minimum number of training samples per leaf.
    min_hessian_to_split : float, default=1e-3
        Minimum sum of hessians in each child of a split.
    l2_regularization : float, default=0.0
        L2 penalty ``lambda`` on leaf values, inside the Newton step
        ``-G / (H + lambda)``.
    max_bins : int, default=255
        Maximum number of bins for non-missing values of each feature (at
        most 1023); one more bin is reserved for missing values. Up to 255
        bins are stored in one byte per value, more in two; finer bins give
        finer curves to additive models (EBM uses up to 1,024).
    early_stopping : "auto" or bool, default="auto"
        "auto" enables early stopping above 10,000 samples or when a
        validation set is passed to ``fit``.
    validation_fraction : int, float or None, default=0.1
        Share (or number) of training samples held out for early stopping;
        ``None`` scores on the training data.
    n_iter_no_change : int, default=10
        Stop when the last ``n_iter_no_change`` scores did not improve on the
        one before them by more than ``tol``.
    tol : float, default=1e-7
        Minimum improvement that counts for early stopping.
    scoring : str, callable or None, default="loss"
        Early-stopping score: "loss" (minus the loss), a scikit-learn scorer
        name or callable, or ``None`` for the estimator's ``score``.
    warm_start : bool, default=False
        Continue the previous fit with more stages instead of starting anew.
    verbose : int, default=0
        Report progress: 1 draws a tqdm progress bar over the stages with
        the latest scores (one printed line per stage if tqdm is not
        installed), 2 or more prints one line per stage.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the binning subsample.
    n_threads : int or None, default=None
        Threads for the Numba kernels; ``None`` uses all. A fit on fewer
        than 2**17 cells (rows x features) uses one thread, where a second
        costs more than it saves. The fitted model does not depend on it.
    stage_init : {"auto", "zero", "stacking", "agbm"}, default="auto"
        Where each new stage starts. "zero": plain gradient boosting.
        "stacking": the new learner starts as ``momentum`` times the previous
        one, which is Nesterov's accelerated gradient descent in function
        space. "agbm": two trees a stage, the second fitted to a corrected
        residual (accelerated gradient boosting, Lu et al. 2020). "auto":
        "stacking" with momentum 0.5 when a tree can have at most 4 leaves
        (``max_leaf_nodes``, or ``2**max_depth``), "zero" otherwise. That
        is where momentum paid on held-out loss in the evidence run on five
        real tables (README, "When to accelerate"): with stumps plain
        boosting's best learning rate was the Newton step's (1.0) and
        momentum supplies a larger step; with 4 leaves it still helped on 4
        of 5 tables (up to 4% lower loss, never more than 0.2% higher). With
        8 or 31 leaves it is a learning-rate rescale at best and cost up to
        3%. For stumps, ``momentum="nesterov"`` with ``restart="validation"``
        did best by median, but scores held-out data at every stage.
    momentum : float in [0, 1) or "nesterov", default=0.5
        Momentum of "stacking": a constant ``beta``, or Nesterov's schedule
        ``beta_t`` (0, 0, 0.28, 0.43, ... -> 1). Ignored otherwise ("auto"
        picks its own).
    restart : {"function", "gradient", "validation"} or None, default="function"
        Safeguard for momentum. "function": the training loss never rises. A
        stage whose momentum step would raise it is undone and redone
        without momentum; a plain step that still raises it (a Newton step
        with tiny hessians, where momentum pushed the scores far out) is
        halved until it does not. "gradient": momentum is dropped after a
        step that goes uphill along the gradient at the fit point.
        "validation": as "function", and momentum is also dropped after a
        stage whose validation score fell (every stage is scored, on data
        held out as for early stopping). Ignored with "zero".
    momentum_offset : int, default=0
        The first ``momentum_offset`` stages are plain boosting steps;
        momentum starts after them. Ignored with "zero".
    hybrid_patience : int or None, default=None
        Switch from momentum to plain boosting for good once the validation
        score (the training score without validation data) has not improved
        for this many stages: momentum for the fast start, plain steps for
        the fine end. Every stage is scored, on data held out as for early
        stopping. None never switches. Ignored with "zero".
    agbm_gamma : float, default=0.1
        AGBM's step ``gamma`` of the momentum sequence.
    max_delta_step : float, "auto" or None, default="auto"
        Cap on the absolute value of each leaf's step before the learning
        rate (XGBoost's ``max_delta_step``); None for no cap. "auto" caps
        log-loss leaves at 1 (a logit step of 1) and leaves the regression
        losses uncapped. Near-separable classes give Newton leaves with tiny
        hessians and huge steps; with the cap, plain stumps at learning
        rate 1.0 on a near-separable problem stayed within 2.4% of the best
        rate's held-out log loss (5.3% uncapped), and at learning rate 0.1
        the cap never cost more than 0.6% on four binary tables.
    interaction_cst : {"pairwise", "no_interactions"} or list of lists of int, \
            default=None
        HistGradientBoosting's interaction constraints: groups of feature
        indices that may interact. A node may split on the features of the
        groups that hold every feature split on above it, so each path from
        the root to a leaf stays inside one group. Features in no group form
        one more group together. "no_interactions": one feature per tree (an
        additive model); "pairwise": at most two features per path.

    categorical_features : "from_dtype", array-like of bool, int or str, or \
None, default="from_dtype"
        HistGradientBoosting's values: "from_dtype" takes the pandas
        ``category`` columns of a DataFrame; a boolean mask, indices or
        column names pick columns of any type (strings included); None has
        no categorical feature. A categorical column's categories become
        codes in the dtype's (or sorted) order; beyond ``min(max_bins,
        256)`` categories the rarest share one code. Trees split them into
        two sets of categories, found as LightGBM and HistGradientBoosting
        find them (categories sorted by gradient over hessian, at most 32
        on the left). A category unseen in ``fit`` is a missing value.
    monotonic_cst : array-like of int of shape (n_features,), dict or None, \
default=None
        HistGradientBoosting's monotonic constraints: 1 increasing, -1
        decreasing, 0 free, by position or (a dict) by feature name. Every
        tree is monotone (children's values bounded at their parent's
        midpoint, refit leaves clipped into the bounds) and every stage
        policy combines trees with non-negative weights, so the model is
        monotone along each constrained feature. Not for multiclass
        problems or categorical features.
    subsample : float in (0, 1], default=1.0
        Share of the rows each stage's trees grow on, drawn anew without
        replacement every stage (XGBoost's ``subsample``, LightGBM's
        ``bagging_fraction`` with ``bagging_freq=1``), seeded by
        ``random_state``.
    max_features : float in (0, 1], default=1.0
        Share of the features each split search may use, drawn anew at
        every node (HistGradientBoosting 1.4's ``max_features``, rounded up,
        at least one), among those interaction constraints allow.
    importance_type : {"gain", "split"}, default="gain"
        What ``feature_importances_`` measures: the total gain of the splits
        on each feature, normalized to sum to 1, or their number (LightGBM's
        ``importance_type``).

    Attributes
    ----------
    n_iter_ : int
        Number of stages fitted.
    best_iteration_ : int
        Number of stages of the best-scoring model when early stopping is on
        (0: the baseline alone); ``n_iter_`` otherwise. The predict methods,
        the term API, ``feature_importances_`` and ``stage_coef_`` use this
        model, as LightGBM does; ``iteration_range`` reaches the others.
    evals_result_ : dict
        Per ``eval_set`` entry (``"validation_0"``, ...), per metric, its
        value after each stage (LightGBM's ``evals_result_``); empty
        without ``eval_set``.
    is_categorical_ : ndarray of bool of shape (n_features_in_,) or None
        The categorical features (None if there are none).
    n_restarts_ : int
        Number of momentum restarts.
    train_score_ : ndarray of shape (n_iter_ + 1,) or (0,)
        Score on the training data before the first stage and after each
        one, when stages are scored: with early stopping, or with a momentum
        rule that reads the scores (``restart="validation"``,
        ``hybrid_patience``); empty otherwise, as scoring costs a pass over
        the data. Minus the loss, or the ``scoring`` score on at most 10,000
        training samples for another scorer.
    validation_score_ : ndarray of shape (n_iter_ + 1,) or (0,)
        Score on the validation data; empty when stages are not scored or
        with ``validation_fraction=None``.
    feature_importances_ : ndarray of shape (n_features_in_,)
        Importance of each feature (see ``importance_type``).
    stage_coef_ : ndarray of shape (n_trees,)
        Weight of each tree in the final model, after restarts.
    stage_momentum_ : ndarray of shape (n_iter_,)
        Momentum each stage started from: ``beta_t`` for "stacking" (0 for
        "zero" and after a restart), ``theta_m = 2 / (m + 2)`` for "agbm".
    restart_stages_ : ndarray of shape (n_restarts_,)
        Stages (0-based) whose momentum was restarted: with "function" the
        stage redone without momentum, with "gradient" the uphill stage
        after which the momentum was dropped, with "validation" the stage
        whose validation score fell.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen in ``fit`` (only when X has string column names).
"""


class AccelBoostRegressor(RegressorMixin, BaseAccelBoost):
    __doc__ = (
        """Histogram gradient boosting regressor.

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "poisson", "gamma", "tweedie", \
"quantile", "huber"}, default="squared_error"
        Loss to minimise. "poisson", "gamma" and "tweedie" use a log link:
        "poisson" and "tweedie" need ``y >= 0`` with ``sum(y) > 0``,
        "gamma" needs ``y > 0``. "quantile" is the pinball loss at
        ``quantile``, "huber" is quadratic within ``huber_delta`` of the
        target and linear beyond. "absolute_error" and "quantile" refit each
        leaf to the weighted quantile of its residuals, as
        HistGradientBoosting does.
    quantile : float in (0, 1) or None, default=None
        The quantile ``loss="quantile"`` predicts (HistGradientBoosting's
        ``quantile``); required with that loss.
    huber_delta : float, default=0.9
        Where "huber" turns from quadratic to linear, in units of ``y``
        (LightGBM's ``alpha`` for ``objective="huber"``).
    power : float in (1, 2), default=1.5
        Variance power of "tweedie" (LightGBM's
        ``tweedie_variance_power``): 1 is Poisson, 2 is gamma.
"""
        + _COMMON_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from accelboost import AccelBoostRegressor
    >>> X, y = make_regression(n_samples=200, random_state=0)
    >>> model = AccelBoostRegressor(max_iter=20).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    """
    )

    _parameter_constraints: dict = {
        **BaseAccelBoost._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "poisson",
                             "gamma", "tweedie", "quantile", "huber"})],
        "quantile": [Interval(Real, 0, 1, closed="neither"), None],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "power": [Interval(Real, 1, 2, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        quantile=None,
        huber_delta=0.9,
        power=1.5,
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=31,
        max_depth=None,
        min_samples_leaf=20,
        min_hessian_to_split=1e-3,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-7,
        scoring="loss",
        warm_start=False,
        verbose=0,
        random_state=None,
        n_threads=None,
        stage_init="auto",
        momentum=0.5,
        restart="function",
        momentum_offset=0,
        hybrid_patience=None,
        agbm_gamma=0.1,
        max_delta_step="auto",
        interaction_cst=None,
        importance_type="gain",
        categorical_features="from_dtype",
        monotonic_cst=None,
        subsample=1.0,
        max_features=1.0,
    ):
        super().__init__(
            loss=loss,
            learning_rate=learning_rate,
            max_iter=max_iter,
            max_leaf_nodes=max_leaf_nodes,
            max_depth=max_depth,
            min_samples_leaf=min_samples_leaf,
            min_hessian_to_split=min_hessian_to_split,
            l2_regularization=l2_regularization,
            max_bins=max_bins,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            scoring=scoring,
            warm_start=warm_start,
            verbose=verbose,
            random_state=random_state,
            n_threads=n_threads,
            stage_init=stage_init,
            momentum=momentum,
            restart=restart,
            momentum_offset=momentum_offset,
            hybrid_patience=hybrid_patience,
            agbm_gamma=agbm_gamma,
            max_delta_step=max_delta_step,
            interaction_cst=interaction_cst,
            importance_type=importance_type,
            categorical_features=categorical_features,
            monotonic_cst=monotonic_cst,
            subsample=subsample,
            max_features=max_features,
        )
        self.quantile = quantile
        self.huber_delta = huber_delta
        self.power = power

    def _encode_y(self, y, sample_weight):
        y = np.asarray(y, dtype=Y_DTYPE)
        self._check_targets(np.min(y), _weighted_sum(y, sample_weight))
        return y

    def _check_training_part(self, y, sample_weight):
        try:
            self._check_targets(np.min(y), _weighted_sum(y, sample_weight))
        except ValueError as exc:
            raise ValueError(
                f"{exc} The training part left by holding out "
                f"validation_fraction={self.validation_fraction} does not have "
                "it. Pass X_val and y_val, or set early_stopping=False."
            ) from None

    def _check_targets(self, y_min, weighted_sum):
        """ValueError if targets of this minimum and weighted sum do not suit
        the loss (the summary Dask data is checked by)."""
        if self.loss in ("poisson", "tweedie"):
            if y_min < 0:
                raise ValueError(f"loss={self.loss!r} requires non-negative y.")
            if not weighted_sum > 0:
                raise ValueError(f"loss={self.loss!r} requires sum(y) > 0.")
        elif self.loss == "gamma" and y_min <= 0:
            raise ValueError("loss='gamma' requires strictly positive y.")
        elif self.loss == "quantile" and self.quantile is None:
            raise ValueError(
                "loss='quantile' requires the quantile parameter, a float in "
                "(0, 1); got quantile=None."
            )

    def _make_loss(self):
        return make_loss(self.loss, quantile=self.quantile,
                         huber_delta=self.huber_delta, power=self.power)

    def predict(self, X, iteration_range=None):
        """Predict regression targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.
        iteration_range : tuple of (int, int) or None, default=None
            Use the trees of stages ``begin`` to ``end - 1`` (the baseline
            is always included), with the coefficients of the model of
            ``end`` stages. None: ``best_iteration_`` stages, which after
            early stopping is the best-scoring model, not all ``n_iter_``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        raw = self._raw_predict(X, iteration_range)
        return self._loss.inverse_link(raw)[:, 0]

    def staged_predict(self, X):
        """Yield the predictions for ``X`` after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Yields
        ------
        y : ndarray of shape (n_samples,)
        """
        for raw in self._staged_raw_predict(X):
            yield self._loss.inverse_link(raw)[:, 0]


class AccelBoostClassifier(ClassifierMixin, BaseAccelBoost):
    __doc__ = (
        """Histogram gradient boosting classifier.

    Binary problems fit one tree per stage on the logit; problems with K > 2
    classes fit K trees per stage on the softmax's raw scores.

    Parameters
    ----------
    loss : {"log_loss"}, default="log_loss"
        Cross-entropy, binary or multinomial.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        from class label to weight, or "balanced" for ``n_samples /
        (n_classes * count(class))`` (scikit-learn's
        ``compute_sample_weight``). They apply to the held-out validation
        rows too, as in HistGradientBoosting; an explicit ``X_val`` keeps its
        own ``sample_weight_val``.
"""
        + _COMMON_DOC
        + """    classes_ : ndarray of shape (n_classes,)
        Class labels.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from accelboost import AccelBoostClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = AccelBoostClassifier(max_iter=20).fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 3)
    """
    )

    _parameter_constraints: dict = {
        **BaseAccelBoost._parameter_constraints,
        "loss": [StrOptions({"log_loss"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        loss="log_loss",
        *,
        class_weight=None,
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=31,
        max_depth=None,
        min_samples_leaf=20,
        min_hessian_to_split=1e-3,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-7,
        scoring="loss",
        warm_start=False,
        verbose=0,
        random_state=None,
        n_threads=None,
        stage_init="auto",
        momentum=0.5,
        restart="function",
        momentum_offset=0,
        hybrid_patience=None,
        agbm_gamma=0.1,
        max_delta_step="auto",
        interaction_cst=None,
        importance_type="gain",
        categorical_features="from_dtype",
        monotonic_cst=None,
        subsample=1.0,
        max_features=1.0,
    ):
        super().__init__(
            loss=loss,
            learning_rate=learning_rate,
            max_iter=max_iter,
            max_leaf_nodes=max_leaf_nodes,
            max_depth=max_depth,
            min_samples_leaf=min_samples_leaf,
            min_hessian_to_split=min_hessian_to_split,
            l2_regularization=l2_regularization,
            max_bins=max_bins,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            scoring=scoring,
            warm_start=warm_start,
            verbose=verbose,
            random_state=random_state,
            n_threads=n_threads,
            stage_init=stage_init,
            momentum=momentum,
            restart=restart,
            momentum_offset=momentum_offset,
            hybrid_patience=hybrid_patience,
            agbm_gamma=agbm_gamma,
            max_delta_step=max_delta_step,
            interaction_cst=interaction_cst,
            importance_type=importance_type,
            categorical_features=categorical_features,
            monotonic_cst=monotonic_cst,
            subsample=subsample,
            max_features=max_features,
        )
        self.class_weight = class_weight

    def _encode_y(self, y, sample_weight):
        if hasattr(self, "classes_") and self.warm_start and hasattr(self, "_ensemble"):
            return encode_known_labels(
                y, self.classes_, name="y",
                reason="not in the first fit; warm_start cannot add classes",
            )
        self.classes_, encoded = encode_labels(y)
        return encoded

    def _finalize_sample_weight(self, sample_weight, y):
        if self.class_weight is None:
            return sample_weight
        # Keys of a dict are class labels, as the user gave them.
        labels = self.classes_[y.astype(np.intp)]
        weights = compute_sample_weight(self.class_weight, labels)
        return weights if sample_weight is None else sample_weight * weights

    def _encode_y_val(self, y):
        return encode_known_labels(y, self.classes_)

    def _make_loss(self):
        return make_loss("log_loss", n_classes=len(self.classes_))

    def decision_function(self, X, iteration_range=None):
        """Raw scores: the logit (binary) or one score per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.
        iteration_range : tuple of (int, int) or None, default=None
            Use the trees of stages ``begin`` to ``end - 1`` (the baseline
            is always included), with the coefficients of the model of
            ``end`` stages. None: ``best_iteration_`` stages, which after
            early stopping is the best-scoring model, not all ``n_iter_``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        raw = self._raw_predict(X, iteration_range)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def staged_decision_function(self, X):
        """Yield ``decision_function(X)`` after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Yields
        ------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        for raw in self._staged_raw_predict(X):
            yield raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X, iteration_range=None):
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.
        iteration_range : tuple of (int, int) or None, default=None
            Use the trees of stages ``begin`` to ``end - 1`` (the baseline
            is always included), with the coefficients of the model of
            ``end`` stages. None: ``best_iteration_`` stages, which after
            early stopping is the best-scoring model, not all ``n_iter_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        raw = self._raw_predict(X, iteration_range)
        return self._loss.inverse_link(raw)

    def staged_predict_proba(self, X):
        """Yield ``predict_proba(X)`` after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Yields
        ------
        proba : ndarray of shape (n_samples, n_classes)
        """
        for raw in self._staged_raw_predict(X):
            yield self._loss.inverse_link(raw)

    def predict(self, X, iteration_range=None):
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.
        iteration_range : tuple of (int, int) or None, default=None
            Use the trees of stages ``begin`` to ``end - 1`` (the baseline
            is always included), with the coefficients of the model of
            ``end`` stages. None: ``best_iteration_`` stages, which after
            early stopping is the best-scoring model, not all ``n_iter_``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        raw = self._raw_predict(X, iteration_range)
        return _labels_from_raw(self.classes_, raw)

    def staged_predict(self, X):
        """Yield the predicted labels after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Yields
        ------
        labels : ndarray of shape (n_samples,)
        """
        for raw in self._staged_raw_predict(X):
            yield _labels_from_raw(self.classes_, raw)


def _labels_from_raw(classes: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Class labels decided on raw scores of shape (n, 1) or (n, n_classes).

    Deciding on the raw scores, not on rounded probabilities, keeps predict
    in agreement with decision_function.
    """
    if raw.shape[1] == 1:
        return classes[(raw[:, 0] > 0).astype(np.intp)]
    return classes[np.argmax(raw, axis=1)]
