"""Training on Dask: the estimators for data spread over a cluster.

``DaskAccelBoostRegressor`` and ``DaskAccelBoostClassifier`` take the
parameters of the in-memory estimators, plus ``client`` (default: the
current Dask client), and fit on ``dask.array`` or ``dask.dataframe``
inputs. The data stays where it is: each worker bins its partitions once,
with thresholds from a sample of rows drawn across all of them (the rows an
in-memory fit would draw), and keeps its binned rows, gradients and
predictions between stages in a shard (a Dask actor). Per tree only
histograms travel, summed in a fixed order by the driver (a coordinator
actor on the first shard's worker), which chooses each split once; see
``accelboost._distributed``.

After fitting, the estimator is an ordinary in-memory model: ``predict``
on a Dask collection returns one (computed block by block), on a NumPy
array an array, and ``to_local()`` gives the in-memory estimator.

Requires ``pip install "accelboost[dask]"``; ``import accelboost`` never
imports Dask.
"""

from __future__ import annotations

import asyncio
import math
import pickle
import time
from dataclasses import dataclass

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask import delayed
from distributed import default_client, get_client, get_worker, wait
from sklearn.utils.validation import _check_sample_weight, check_array, column_or_1d

from ._distributed.driver import CommunicationStats, Driver
from ._distributed.estimator import ShardedData, ShardedFitMixin
from ._distributed.shard import FitSpec, Shard
from ._engine.binning import BinMapper
from ._engine.common import X_DTYPE, Y_DTYPE
from ._labels import encode_known_labels, encode_labels
from .estimators import AccelBoostClassifier, AccelBoostRegressor

__all__ = ["DaskAccelBoostClassifier", "DaskAccelBoostRegressor", "WorkerLostError"]

#: Seconds one call from the coordinator to the shards may take before the
#: fit gives up (a shard's first call compiles its kernels when the Numba
#: cache is cold).
CALL_TIMEOUT = 300.0

#: Seconds between checks that the shards' workers are alive while a call
#: waits.
POLL_INTERVAL = 1.0


class WorkerLostError(RuntimeError):
    """A worker holding a shard died or stopped answering during the fit."""


class DaskGroup:
    """The fit's shards: one Dask actor per worker, called in a fixed order.

    Parameters
    ----------
    client : distributed.Client
    actors : list of distributed.Actor
        In shard order.
    futures : list of distributed.Future
        The actors' futures (released by ``release``).
    timeout : float or None
        Seconds a call may take (None: no limit; the wait still checks every
        second that the shards' workers are alive).
    """

    def __init__(self, client, actors, futures, timeout=CALL_TIMEOUT):
        self.client = client
        self.actors = actors
        self.futures = futures
        self.timeout = timeout
        # Actor keeps its worker's address private; read it in one place.
        self.addresses = [actor._address for actor in actors]

    def call(self, method: str, *args) -> list:
        """``shard.method(*args)`` on every shard at once; results in order.

        Called from a worker (the coordinator), the shard on that worker runs
        in this thread as the call is made: the remote shards are called
        first, and the local one gets its own copy of the arguments, as the
        remote ones do (they are serialized while it runs).
        """
        here = _worker_address()
        local = [address == here for address in self.addresses]
        try:
            pending = {}
            for i in sorted(range(len(self.actors)), key=local.__getitem__):
                own = pickle.loads(pickle.dumps(args, pickle.HIGHEST_PROTOCOL)) \
                    if local[i] else args
                pending[i] = getattr(self.actors[i], method)(*own)
            deadline = time.monotonic() + (
                math.inf if self.timeout is None else self.timeout)
            return [self._result(pending[i], method, deadline)
                    for i in range(len(self.actors))]
        except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
            raise WorkerLostError(
                f"A Dask worker holding a shard of the training data was lost or "
                f"stopped answering during {method!r} ({type(exc).__name__}: "
                f"{exc}); its rows are gone, so the fit stopped. Refit once the "
                "cluster is healthy."
            ) from exc
        except RuntimeError as exc:
            if "Worker holding Actor was lost" not in str(exc):
                raise
            raise WorkerLostError(
                f"A Dask worker holding a shard of the training data was lost "
                f"({exc}); the fit stopped. Refit once the cluster is healthy."
            ) from exc

    def _result(self, future, method, deadline):
        """The call's result, once a second checking with the scheduler that
        no shard's worker was lost: a call in flight to a dead worker would
        otherwise wait for the shard to be rebuilt, which never happens."""
        while True:
            try:
                return future.result(timeout=POLL_INTERVAL)
            except (TimeoutError, asyncio.TimeoutError):
                if time.monotonic() >= deadline:
                    raise
            alive = self._alive()
            lost = [a for a in self.addresses if a not in alive]
            if lost:
                raise OSError(f"the scheduler lost the worker(s) {lost}")

    def _alive(self):
        """The shards' workers that the scheduler still knows."""
        return self.client.nthreads(self.addresses)

    def close(self) -> None:
        """Abandon the shards' stages in progress (best effort: a lost shard
        has nothing left to close, and is not waited for)."""
        try:
            alive = self._alive()
        except Exception:  # noqa: BLE001 - the scheduler may be gone too
            alive = {}
        for actor, address in zip(self.actors, self.addresses, strict=True):
            if address not in alive:
                continue
            try:
                actor.close().result(timeout=10)
            except Exception:  # noqa: BLE001 - the worker may be gone
                pass

    def release(self) -> None:
        """Drop the shards (their workers free the rows)."""
        self.close()
        self.client.cancel(self.futures)


def _worker_address():
    """The address of the worker running this code (None in the client)."""
    try:
        return get_worker().address
    except ValueError:
        return None


class _Coordinator:
    """The driver of a fit, run on the worker of the first shard.

    A tree costs about ten round trips to every shard. From the client each
    is a hop through the scheduler; from a worker it is a direct connection,
    and the shard on the same worker is called in process. The client then
    makes one call per stage.
    """

    def start(self, actors, spec: FitSpec, n_features: int, timeout: float) -> None:
        """Start the fit on the shards (``actors``, in shard order)."""
        group = DaskGroup(get_client(), actors, [], timeout)
        self.driver = Driver(group, spec, n_features)
        self._reported = 0

    def stage(self, schedule, losses: bool):
        """``Driver.stage``, with the round trips and bytes of its trees."""
        result, values = self.driver.stage(schedule, losses)
        stats, first = self.driver.stats, self._reported
        self._reported = len(stats.rounds)
        return result, values, stats.rounds[first:], stats.bytes[first:]

    def losses(self):
        """``Driver.losses``."""
        return self.driver.losses()


class _RemoteDriver:
    """The client's side of a ``_Coordinator``: a ``Driver`` to the fit loop."""

    def __init__(self, coordinator: DaskGroup):
        self.coordinator = coordinator
        self.stats = CommunicationStats()

    def stage(self, schedule, losses: bool):
        """``Driver.stage``, run by the coordinator."""
        result, values, rounds, sent = self.coordinator.call("stage", schedule,
                                                             losses)[0]
        self.stats.rounds.extend(rounds)
        self.stats.bytes.extend(sent)
        return result, values

    def losses(self):
        """``Driver.losses``, run by the coordinator."""
        return self.coordinator.call("losses")[0]


@dataclass
class _DaskData(ShardedData):
    """Rows held by shard actors, whose fit is driven from a worker."""

    def driver(self, spec: FitSpec) -> _RemoteDriver:
        """Start the coordinator on the first shard's worker, and the fit."""
        group = self.group
        future = group.client.submit(_Coordinator, actor=True,
                                     workers=[group.addresses[0]], pure=False)
        group.futures.append(future)  # released with the shards
        try:
            actor = future.result(timeout=group.timeout)
        except TimeoutError as exc:
            raise WorkerLostError(
                "The coordinator of the fit could not start on the first shard's "
                f"worker within {group.timeout} s."
            ) from exc
        # A stage has no deadline here: the coordinator bounds each of its
        # calls, and the wait checks every second that its worker is alive.
        coordinator = DaskGroup(group.client, [actor], [], timeout=None)
        coordinator.call("start", group.actors, spec, self.n_features, group.timeout)
        return _RemoteDriver(coordinator)


class _DaskShard(Shard):
    """A shard built on its worker from the worker's prepared blocks."""

    def __init__(self, blocks, validation_blocks, row_blocks):
        super().__init__(*_concatenate(blocks),
                         _concatenate(validation_blocks) if validation_blocks
                         else None, row_blocks)

    def default_threads(self) -> int:
        """The worker's threads, as LightGBM-Dask and XGBoost-Dask use them."""
        return get_worker().state.nthreads


def _concatenate(blocks):
    """Binned rows (Fortran order, one copy), targets and weights of blocks."""
    n_rows = sum(b[0].shape[0] for b in blocks)
    first = blocks[0][0]
    X = np.empty((n_rows, first.shape[1]), dtype=first.dtype, order="F")
    np.concatenate([b[0] for b in blocks], axis=0, out=X)
    y = np.concatenate([b[1] for b in blocks])
    weights = [b[2] for b in blocks]
    w = None if all(v is None for v in weights) else np.concatenate(weights)
    return X, y, w


def _prepare_block(X, y, sample_weight, mapper, classes):
    """Validate one block, encode its targets and bin its rows (on a worker)."""
    X = check_array(X, dtype=X_DTYPE, ensure_all_finite="allow-nan",
                    ensure_min_samples=0)
    y = column_or_1d(y)
    if classes is None:
        y = check_array(y, ensure_2d=False, dtype=Y_DTYPE, ensure_min_samples=0,
                        input_name="y")
    else:
        y = encode_known_labels(y, classes, name="y")
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
    return mapper.transform(X), y, sample_weight


def _blocks(array):
    """The row blocks of a 2-D or 1-D Dask array, as delayed objects."""
    array = array.rechunk({1: -1}) if array.ndim == 2 else array
    return list(array.to_delayed().ravel())


def _as_arrays(X, y, sample_weight):
    """``X``, ``y`` and the weights as Dask arrays with the same row chunks."""
    feature_names = None
    if isinstance(X, dd.DataFrame):
        feature_names = np.asarray(X.columns, dtype=object)
        X = X.to_dask_array(lengths=True)
    elif not isinstance(X, da.Array):
        raise TypeError(
            "X must be a dask.array.Array or a dask.dataframe.DataFrame, got "
            f"{type(X).__name__}; fit the in-memory estimator on in-memory data."
        )
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X, got an array of shape {X.shape}.")
    if np.isnan(X.shape[0]):
        X = X.compute_chunk_sizes()
    rows = (X.chunks[0],)

    def aligned(v, name):
        if v is None:
            return None
        if isinstance(v, dd.Series | dd.DataFrame):
            v = v.to_dask_array(lengths=True)
        elif not isinstance(v, da.Array):
            v = da.from_array(np.asarray(v), chunks=rows)
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if v.ndim != 1 or v.shape[0] != X.shape[0]:
            raise ValueError(
                f"{name} must have shape ({X.shape[0]},) to match X, got "
                f"{v.shape}."
            )
        return v.rechunk(rows)

    return X, aligned(y, "y"), aligned(sample_weight, "sample_weight"), feature_names


class _DaskEstimatorMixin(ShardedFitMixin):
    """Fit on Dask collections; predict on them; become in-memory."""

    _local_class = None  # the in-memory estimator class

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None, callbacks=None):
        """Fit on Dask collections.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
            Training data, (n_samples, n_features); NaN marks a missing value.
        y : dask.array.Array or dask.dataframe.Series
            Targets, with the same row partitions as ``X``.
        sample_weight : dask.array.Array or dask.dataframe.Series, default=None
            Non-negative weights.
        X_val, y_val, sample_weight_val : Dask collections, default=None
            A validation set for early stopping (spread over the shards).
        callbacks : list of callable or Callback, default=None
            Called in the client after every stage, as in memory.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._check_sharded_params(self.warm_start and hasattr(self, "_ensemble"))
        if self.categorical_features not in ("from_dtype", None):
            raise NotImplementedError(
                f"{type(self).__name__} does not support categorical_features "
                "yet; encode categories as numbers."
            )
        if getattr(self, "class_weight", None) is not None:
            raise NotImplementedError(
                f"{type(self).__name__} does not support class_weight yet; pass "
                "the weights as sample_weight."
            )
        client = self.client or default_client()
        X, y, sample_weight, names = _as_arrays(X, y, sample_weight)
        group = None
        try:
            with self._restored_on_failure():
                data, group = self._distribute(client, X, y, sample_weight, names,
                                               X_val, y_val, sample_weight_val)
                self._fit_sharded(data, callbacks)
        finally:
            if group is not None:
                group.release()
        return self

    def _distribute(self, client, X, y, sample_weight, names, X_val, y_val,
                    sample_weight_val):
        """Bin the rows on their workers and start one shard per worker."""
        n_samples, n_features = X.shape
        seed = super()._draw_seed()
        mapper = BinMapper(max_bins=self.max_bins, random_state=seed)
        rows = mapper.sample_rows(n_samples)
        X_sample = X if rows is None else X[rows]
        w_sample = sample_weight if rows is None or sample_weight is None \
            else sample_weight[rows]
        X_sample, w_sample, summary = client.compute(
            [X_sample, w_sample, self._target_summary(y, sample_weight)], sync=True)
        self._category_encoder = None
        X_sample = self._validate_sample(X_sample, names)
        if w_sample is not None:
            w_sample = _check_sample_weight(w_sample, X_sample, dtype=np.float64,
                                            ensure_non_negative=True)
        classes = self._check_target_summary(summary)
        mapper.fit(X_sample, w_sample)

        def prepare(X, y, w):
            ws = [None] * len(_blocks(y)) if w is None else _blocks(w)
            return [delayed(_prepare_block)(xb, yb, wb, mapper, classes)
                    for xb, yb, wb in zip(_blocks(X), _blocks(y), ws, strict=True)]

        parts = client.compute(prepare(X, y, sample_weight))
        val_parts = []
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            X_val, y_val, w_val, _ = _as_arrays(X_val, y_val, sample_weight_val)
            if X_val.shape[1] != n_features:
                raise ValueError(
                    f"X_val has {X_val.shape[1]} features, but {type(self).__name__}"
                    f" is expecting {n_features} features as input.")
            val_parts = client.compute(prepare(X_val, y_val, w_val))
        wait(parts + val_parts)
        group = _start_shards(client, parts, val_parts, X.chunks[0])
        data = _DaskData(group, n_samples, n_features, mapper, seed,
                         bool(val_parts))
        return data, group

    def _validate_sample(self, X_sample, names):
        X_sample = check_array(X_sample, dtype=X_DTYPE, ensure_all_finite="allow-nan")
        self.n_features_in_ = X_sample.shape[1]
        if names is not None and all(isinstance(n, str) for n in names):
            self.feature_names_in_ = names
        else:
            self.__dict__.pop("feature_names_in_", None)
        return X_sample

    # -- prediction ------------------------------------------------------
    def _predict_dask(self, X, method, n_columns=None):
        """``method`` of the in-memory model on each block of ``X``."""
        local = self.to_local()
        # One column: predictions, or a classifier's labels.
        labels = getattr(self, "classes_", None)
        dtype = np.float64 if labels is None else labels.dtype
        if isinstance(X, dd.DataFrame):
            # Partition by partition, as frames: the columns keep their names.
            if n_columns is None:
                meta = pd.Series(dtype=dtype)
                return X.map_partitions(_call_on_frame, local, method, meta=meta)
            meta = pd.DataFrame({i: pd.Series(dtype=np.float64)
                                 for i in range(n_columns)})
            return X.map_partitions(_call_on_frame, local, method,
                                    meta=meta).to_dask_array(lengths=True)
        if not isinstance(X, da.Array):
            return getattr(local, method)(X)
        X = X.rechunk({1: -1})
        if n_columns is None:
            return X.map_blocks(_call_method, local, method, drop_axis=1,
                                dtype=dtype)
        return X.map_blocks(_call_method, local, method, dtype=np.float64,
                            chunks=(X.chunks[0], (n_columns,)))

    def to_local(self):
        """The fitted model as the in-memory estimator (same parameters).

        Returns
        -------
        estimator : AccelBoostRegressor or AccelBoostClassifier
        """
        params = self.get_params(deep=False)
        params.pop("client")
        local = self._local_class(**params)
        local.__dict__.update({k: v for k, v in self.__dict__.items()
                               if k not in params and k != "client"})
        return local

    def __getstate__(self):
        # A client is a live connection: a pickled model does not keep it.
        state = super().__getstate__()
        state["client"] = None
        return state


def _call_method(block, model, method):
    return getattr(model, method)(block)


def _call_on_frame(frame, model, method):
    """``model.method`` of a pandas partition, as a Series or a DataFrame."""
    out = getattr(model, method)(frame)
    if out.ndim == 1:
        return pd.Series(out, index=frame.index)
    return pd.DataFrame(out, index=frame.index)


def _start_shards(client, parts, val_parts, block_sizes):
    """One shard per worker that holds prepared blocks, in block order."""
    holders = client.who_has(parts)
    starts = np.concatenate([[0], np.cumsum(block_sizes)[:-1]])
    by_worker, blocks_of = {}, {}
    for part, start, size in zip(parts, starts, block_sizes, strict=True):
        worker = sorted(holders[part.key])[0]
        by_worker.setdefault(worker, []).append(part)
        blocks_of.setdefault(worker, []).append((int(start), int(size)))
    workers = list(by_worker)  # in the order of their first block
    val_by_shard = [[] for _ in workers]
    for i, part in enumerate(val_parts):
        val_by_shard[i % len(workers)].append(part)
    futures = [
        client.submit(_DaskShard, by_worker[w], val_by_shard[i], blocks_of[w],
                      actor=True, workers=[w], pure=False)
        for i, w in enumerate(workers)
    ]
    actors = [future.result() for future in futures]
    # The prepared blocks are released with the caller's last reference
    # (cancelling them would cancel the shards built from them).
    return DaskGroup(client, actors, futures)


class DaskAccelBoostRegressor(_DaskEstimatorMixin, AccelBoostRegressor):
    """Accelerated gradient boosting regression on Dask.

    The parameters are those of :class:`accelboost.AccelBoostRegressor`,
    plus ``client``. Not supported yet (NotImplementedError): the
    quantile losses (``absolute_error``, ``quantile``, ``huber``),
    ``subsample < 1``, ``warm_start``, a ``scoring`` other than "loss",
    and categorical features. Early stopping on ``validation_fraction``
    holds out each row with that probability (a draw per row from one
    stream seeded by ``random_state``, whatever the partitions), not
    ``train_test_split``'s rows: pass ``X_val`` to control them.

    Parameters
    ----------
    client : distributed.Client, default=None
        The cluster to fit on; None uses the current default client.
    **params
        See :class:`accelboost.AccelBoostRegressor`. ``n_threads`` is per worker:
        None uses each worker's threads (its ``nthreads``).
    """

    _local_class = AccelBoostRegressor
    _parameter_constraints: dict = {
        **AccelBoostRegressor._parameter_constraints,
        "client": "no_validation",
    }

    def predict(self, X, iteration_range=None):
        """Predictions for ``X`` (a Dask array for Dask input)."""
        if iteration_range is not None:
            return self.to_local().predict(X, iteration_range)
        return self._predict_dask(X, "predict")

    def __init__(
        self,
        *,
        loss='squared_error',
        quantile=None,
        huber_delta=0.9,
        power=1.5,
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=31,
        max_depth=None,
        min_samples_leaf=20,
        min_hessian_to_split=0.001,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping='auto',
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-07,
        scoring='loss',
        warm_start=False,
        verbose=0,
        random_state=None,
        n_threads=None,
        stage_init='auto',
        momentum=0.5,
        restart='function',
        momentum_offset=0,
        hybrid_patience=None,
        agbm_gamma=0.1,
        max_delta_step='auto',
        interaction_cst=None,
        importance_type='gain',
        categorical_features='from_dtype',
        monotonic_cst=None,
        subsample=1.0,
        max_features=1.0,
        client=None,
    ):
        super().__init__(
            loss=loss,
            quantile=quantile,
            huber_delta=huber_delta,
            power=power,
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
        self.client = client

    def _target_summary(self, y, sample_weight):
        w = 1.0 if sample_weight is None else sample_weight
        return [y.min(), (y * w).sum(), da.isfinite(y).all()]

    def _check_target_summary(self, summary):
        y_min, weighted_sum, finite = summary
        if not finite:
            raise ValueError("Input y contains NaN or infinity.")
        self._check_targets(y_min, weighted_sum)
        return None


class DaskAccelBoostClassifier(_DaskEstimatorMixin, AccelBoostClassifier):
    """Accelerated gradient boosting classification on Dask.

    The parameters are those of :class:`accelboost.AccelBoostClassifier`,
    plus ``client``. Not supported yet (NotImplementedError):
    ``class_weight`` (pass ``sample_weight``), ``subsample < 1``,
    ``warm_start``, a ``scoring`` other than "loss", and categorical
    features. Early stopping on ``validation_fraction`` holds out each row
    with that probability (a draw per row, whatever the partitions; not
    stratified), not ``train_test_split``'s rows: pass ``X_val`` to control
    them.

    Parameters
    ----------
    client : distributed.Client, default=None
        The cluster to fit on; None uses the current default client.
    **params
        See :class:`accelboost.AccelBoostClassifier`. ``n_threads`` is per worker:
        None uses each worker's threads (its ``nthreads``).
    """

    _local_class = AccelBoostClassifier
    _parameter_constraints: dict = {
        **AccelBoostClassifier._parameter_constraints,
        "client": "no_validation",
    }

    def __init__(
        self,
        *,
        loss='log_loss',
        class_weight=None,
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=31,
        max_depth=None,
        min_samples_leaf=20,
        min_hessian_to_split=0.001,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping='auto',
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-07,
        scoring='loss',
        warm_start=False,
        verbose=0,
        random_state=None,
        n_threads=None,
        stage_init='auto',
        momentum=0.5,
        restart='function',
        momentum_offset=0,
        hybrid_patience=None,
        agbm_gamma=0.1,
        max_delta_step='auto',
        interaction_cst=None,
        importance_type='gain',
        categorical_features='from_dtype',
        monotonic_cst=None,
        subsample=1.0,
        max_features=1.0,
        client=None,
    ):
        super().__init__(
            loss=loss,
            class_weight=class_weight,
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
        self.client = client

    def _target_summary(self, y, sample_weight):
        return da.unique(y)

    def _check_target_summary(self, labels):
        self.classes_, _ = encode_labels(labels)
        return self.classes_

    def predict(self, X, iteration_range=None):
        """Class labels of ``X`` (a Dask array for Dask input)."""
        if iteration_range is not None:
            return self.to_local().predict(X, iteration_range)
        return self._predict_dask(X, "predict")

    def predict_proba(self, X, iteration_range=None):
        """Class probabilities of ``X``, (n_samples, n_classes)."""
        if iteration_range is not None:
            return self.to_local().predict_proba(X, iteration_range)
        return self._predict_dask(X, "predict_proba", len(self.classes_))
