"""The estimators' fit loop on rows held by shards.

``ShardedFitMixin`` runs ``BaseAccelBoost._fit`` unchanged (plan, stage,
scores, schedule, callbacks, early stopping) with three seams replaced:
the data preparation (the bins and the baseline come from the shards), a
stage (the shards run it, ``Driver.stage``) and the scores (the shards' loss
sums). The model, the schedule and the callbacks stay in the client, as in
memory; after the fit the estimator is an ordinary in-memory one.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .._constraints import interaction_groups, monotonic_constraints
from .._engine.binning import BinMapper
from .._engine.loss import (
    BinaryLogLoss,
    Gamma,
    MultinomialLogLoss,
    Poisson,
    SquaredError,
    Tweedie,
)
from .._progress import make_progress
from .._restore import restored_on_failure
from ..callbacks import _CallbackList
from .driver import Driver
from .group import LocalGroup
from .shard import FitSpec, Shard
from .tree import ordered_sum

#: Losses whose baseline is a function of the weighted mean of ``y``, and of
#: the classes' weights: both are sums over the shards.
_MEAN_BASELINE = (SquaredError, Poisson, Gamma, Tweedie)
_CLASS_BASELINE = (BinaryLogLoss, MultinomialLogLoss)


@dataclass
class ShardedData:
    """Training rows held by a group of shards, binned.

    Attributes
    ----------
    group : LocalGroup or DaskGroup
    n_samples, n_features : int
    bin_mapper : BinMapper
        The thresholds the shards binned with.
    seed : int
        The fit's seed, drawn before the bins (their sample uses it).
    has_validation : bool
        Whether the shards hold validation rows.
    """

    group: object
    n_samples: int
    n_features: int
    bin_mapper: BinMapper
    seed: int
    has_validation: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_features)``, as the fit loop reads ``X.shape``."""
        return (self.n_samples, self.n_features)

    def driver(self, spec: FitSpec) -> Driver:
        """Start the fit on the shards (``spec``); the driver of its stages."""
        return Driver(self.group, spec, self.n_features)


class _ShardedTraining:
    """The training data as the fit loop sees it: its loss, from the shards."""

    def __init__(self, driver):
        self.driver = driver
        self.latest = None  # losses after the last stage, when computed

    def losses(self):
        """Training and validation loss of the current model."""
        if self.latest is None:
            self.latest = self.driver.losses()
        return self.latest

    def loss(self, loss=None):
        """The training loss (``loss`` is the shards' own)."""
        return float(self.losses()[0])


class ShardedFitMixin:
    """Fit a ``BaseAccelBoost`` estimator on ``ShardedData``."""

    def _check_sharded_params(self, warm: bool) -> None:
        """NotImplementedError for what the shards do not support yet."""
        unsupported = []
        if warm:
            unsupported.append("warm_start=True")
        if self.subsample < 1.0:
            unsupported.append(f"subsample={self.subsample}")
        if self.scoring != "loss":
            unsupported.append(f"scoring={self.scoring!r}")
        if unsupported:
            raise NotImplementedError(
                f"{type(self).__name__} does not support {', '.join(unsupported)} "
                "yet; fit the in-memory estimator instead."
            )

    @contextmanager
    def _restored_on_failure(self):
        """On any failure (a lost worker, an interrupt), put the estimator
        back as it was: a fitted model is never lost to a failed refit."""
        try:
            with restored_on_failure(self):
                yield
        finally:
            for name in ("_sharded_data", "_sharded_training"):
                self.__dict__.pop(name, None)

    def _fit_sharded(self, data: ShardedData, callbacks=None):
        """Fit on the shards' rows (inside ``_restored_on_failure``)."""
        self._check_sharded_params(self.warm_start and hasattr(self, "_ensemble"))
        callbacks = _CallbackList(list(callbacks or [])
                                  + make_progress(self.verbose, self.max_iter))
        self._sharded_data = data
        self._fit(data, None, None, True if data.has_validation else None,
                  False, callbacks)
        return self

    def _fit_local_shards(self, X, y, sample_weight=None, n_shards=2,
                          validation=None, callbacks=None):
        """Fit on in-process shards (``LocalGroup``): the distributed code
        path without a cluster, for tests.

        The rows are cut into ``n_shards`` nearly equal consecutive parts
        (a list of sizes gives them exactly, zeros allowed), and so is
        ``validation`` (X_val, y_val, sample_weight_val) if given.
        """
        with self._restored_on_failure():
            return self._fit_local(X, y, sample_weight, n_shards, validation,
                                   callbacks)

    def _fit_local(self, X, y, sample_weight, n_shards, validation, callbacks):
        X, y, sample_weight = self._validate_training_data(X, y, sample_weight,
                                                           reset=True)
        seed = super()._draw_seed()
        encoder = self._category_encoder
        mapper = BinMapper(max_bins=self.max_bins, random_state=seed).fit(
            X, sample_weight, None if encoder is None else encoder.n_categories_)
        parts = _parts(X.shape[0], n_shards)
        val_parts = [None] * len(parts)
        if validation is not None:
            X_val, y_val, w_val = self._validation_data(*validation)
            val_parts = [
                (mapper.transform(X_val[r]), y_val[r],
                 None if w_val is None else w_val[r])
                for r in _parts(X_val.shape[0], len(parts))
            ]
        shards = [
            Shard(mapper.transform(X[rows]), y[rows],
                  None if sample_weight is None else sample_weight[rows], val,
                  [(rows[0] if len(rows) else 0, len(rows))])
            for rows, val in zip(parts, val_parts, strict=True)
        ]
        data = ShardedData(LocalGroup(shards), X.shape[0], X.shape[1], mapper, seed,
                           validation is not None)
        return self._fit_sharded(data, callbacks)

    # -- seams of BaseAccelBoost._fit ---------------------------------------
    def _draw_seed(self):
        data = getattr(self, "_sharded_data", None)
        return super()._draw_seed() if data is None else data.seed

    def _prepare(self, X, y, sample_weight, validation, holds_out, warm, policy):
        data = X
        if holds_out and validation is None and self.validation_fraction:
            # Not train_test_split's rows (which need the rows together): a
            # draw per row from one stream, the same for any partitioning.
            held = data.group.call("hold_out", float(self.validation_fraction),
                                   int(self._random_seed))
            if sum(held) == 0 or sum(held) == data.n_samples:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} held out "
                    f"{sum(held)} of {data.n_samples} rows; early stopping needs "
                    "rows on both sides.")
            validation = True
        self._bin_mapper = data.bin_mapper
        self._loss = self._make_loss()
        self._start_model(self._sharded_baseline(data.group), policy)
        spec = FitSpec(
            loss=self._loss,
            policy=policy,
            baseline=self._ensemble.baseline,
            bin_mapper=data.bin_mapper,
            tree_params=self._tree_params(),
            max_delta_step=self._leaf_step_cap(),
            interaction_groups=interaction_groups(self.interaction_cst,
                                                  data.n_features),
            monotonic_cst=monotonic_constraints(self, data.n_features),
            max_features=self._features_per_split(data.n_features),
            seed=self._random_seed,
            n_threads=self.n_threads,
        )
        driver = data.driver(spec)
        self._sharded_training = _ShardedTraining(driver)
        self._scores_stages = holds_out
        self.fit_stats_ = driver.stats
        return self._sharded_training, validation, driver

    def _sharded_baseline(self, group):
        loss = self._loss
        if isinstance(loss, _CLASS_BASELINE):
            n_classes = len(self.classes_)
            weights = ordered_sum(group.call("target_sums", n_classes))
            return loss.baseline(np.arange(n_classes, dtype=np.float64), weights)
        if isinstance(loss, _MEAN_BASELINE):
            total, weight = ordered_sum(group.call("target_sums", None))
            return loss.baseline(np.array([total / weight]), None)
        raise NotImplementedError(
            f"{type(self).__name__} does not support loss={self.loss!r} yet: its "
            "baseline and leaves are quantiles, which need the rows together."
        )

    def _fit_stage(self, fitter, train, val):
        result, losses = fitter.stage(self._schedule, self._scores_stages)
        if result.restarted:
            self._restart_stages.append(self._ensemble.n_stages)
        self._ensemble.add_stage(result.trees, result.stage)
        train.latest = losses
        return result

    def _record_scores(self, scorer, train, val):
        train_loss, val_loss = train.losses()
        self.train_score_.append(-float(train_loss))
        if val is not None:
            self.validation_score_.append(-float(val_loss))

    def _training_term_weights(self, train):
        # The bin weights of an additive model's terms would need a pass
        # over the shards; term_importances says to refit in memory.
        return None


def _parts(n_rows, n_shards):
    """Consecutive row ranges: ``n_shards`` nearly equal ones, or of the
    given sizes."""
    sizes = n_shards
    if np.isscalar(n_shards):
        sizes = np.diff(np.linspace(0, n_rows, n_shards + 1).astype(np.intp))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    if bounds[-1] != n_rows:
        raise ValueError(f"Shard sizes {list(sizes)} do not add up to {n_rows} rows.")
    return [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
