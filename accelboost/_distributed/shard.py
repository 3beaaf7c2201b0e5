"""A shard: one worker's rows, and the fit's state on them.

A shard keeps its binned rows, targets and weights, the policy's state on
them (raw predictions, momentum) and its rows of the validation set, from
the first stage to the last: only trees, histograms and sums ever leave
it. It runs every stage with the in-memory code (``fit_stage``: the
policy's plan, grow and restart rule), through a fitter whose trees and
losses are collective: each is a message to the driver, which combines
the shards' parts (``conversation``). Every shard thus takes the same
decisions on the same global numbers, and the driver checks that they stay
in step.

Nothing here imports Dask: tests run shards in process (``LocalGroup``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._dataset import Dataset
from .._engine.binning import BinMapper
from .._engine.grower import TreeParams
from .._engine.loss import Loss
from .._ensemble import TreeEnsemble
from .._fitter import StageFitter, fit_stage
from .._stages import Schedule, Stage
from .._threads import fit_n_threads, numba_threads
from .conversation import Conversation
from .rows import TreeRows


@dataclass(frozen=True)
class FitSpec:
    """What every shard needs to fit: the model's parameters, resolved.

    Attributes
    ----------
    loss : Loss
    policy : StagePolicy
    baseline : ndarray of shape (n_outputs,)
    bin_mapper : BinMapper
    tree_params : TreeParams
    max_delta_step : float or None
    interaction_groups : ndarray of uint8 or None
    monotonic_cst : ndarray of int8 or None
    max_features : int or None
    seed : int
        The fit's seed (each tree's draws follow from it).
    n_threads : int or None
        Threads each shard's kernels may use; None: its worker's threads
        (``Shard.default_threads``).
    """

    loss: Loss
    policy: object
    baseline: np.ndarray
    bin_mapper: BinMapper
    tree_params: TreeParams
    max_delta_step: float | None
    interaction_groups: np.ndarray | None
    monotonic_cst: np.ndarray | None
    max_features: int | None
    seed: int
    n_threads: int | None = None


@dataclass
class StageResult:
    """What a shard reports after a stage (the same on every shard).

    Attributes
    ----------
    stage : Stage
        The stage as taken.
    trees : list of list of ndarray
        Its trees, by role then output.
    restarted, restart_next : bool
        See ``Step``.
    losses : ndarray of shape (4,) or None
        The shard's training and validation loss sums and weight sums
        (``Loss.partial``) after the stage, when asked for.
    """

    stage: Stage
    trees: list
    restarted: bool
    restart_next: bool
    losses: np.ndarray | None


class _CollectiveLoss:
    """``loss(y, raw, sample_weight)`` over every shard's rows: this shard's
    sums, added to the others' by the driver."""

    def __init__(self, loss, exchange):
        self.loss = loss
        self.exchange = exchange

    def __call__(self, y, raw, sample_weight=None):
        total, weight = self.exchange(("sum", np.array(self.loss.partial(
            y, raw, sample_weight))))
        return float(total / weight)


class ShardTree:
    """A tree grown over shards, with this shard's rows of each leaf (what
    ``StageFitter.fit_trees`` reads of a ``GrownTree``)."""

    def __init__(self, rows, nodes, leaf_nodes, leaf_handles, leaf_lower,
                 leaf_upper):
        self._rows = rows
        self.nodes = nodes
        self.leaf_nodes = leaf_nodes
        self.leaf_handles = leaf_handles
        self.leaf_lower = leaf_lower
        self.leaf_upper = leaf_upper

    def training_output(self, out):
        """Write the tree's value at each of the shard's rows into ``out``."""
        return self._rows.output(self.leaf_handles,
                                 self.nodes["value"][self.leaf_nodes], out)


class ShardFitter(StageFitter):
    """A ``StageFitter`` whose trees and losses cover every shard's rows."""

    exchange = None  # set for each stage's conversation

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mapper = self.bin_mapper
        self.rows = TreeRows(self.X_binned, mapper.n_bins_non_missing_,
                             mapper.missing_bin_, self.n_threads)

    def loss(self, raw):
        """The weighted training loss at ``raw``, over every shard."""
        return _CollectiveLoss(self.loss_function, self.exchange)(
            self.y, raw, self.sample_weight)

    def total(self, value):
        """A sum over this shard's rows, summed over every shard."""
        return float(self.exchange(("sum", np.array([value])))[0])

    def _grow(self, gradients, hessians, rows):
        seed = self._next_tree_seed()
        sums, histogram = self.rows.begin(gradients, hessians,
                                          self._hessians_are_constant)
        reply = self.exchange(("tree", seed, sums, histogram))
        while reply[0] == "round":
            reply = self.exchange(("hists", *self.rows.round(*reply[1:])))
        return ShardTree(self.rows, *reply[1:])


class Shard:
    """One worker's rows and the fit's state on them.

    Parameters
    ----------
    X_binned : ndarray of shape (n_rows, n_features), Fortran order
        The rows, binned with the fit's thresholds.
    y : ndarray of shape (n_rows,)
        Targets, encoded as the loss expects.
    sample_weight : ndarray of shape (n_rows,) or None
    validation : tuple (X_binned, y, sample_weight) or None
        The shard's rows of the validation set.
    row_blocks : list of (int, int) or None
        ``(first global row, size)`` of each block of the rows, in order
        (``hold_out`` needs it).
    """

    def __init__(self, X_binned, y, sample_weight=None, validation=None,
                 row_blocks=None):
        self.X_binned = np.asfortranarray(X_binned)
        self.y = np.asarray(y, dtype=np.float64)
        self.sample_weight = sample_weight
        self.validation = validation
        self.row_blocks = row_blocks
        self._conversation = None

    def hold_out(self, fraction: float, seed: int) -> int:
        """Move the rows a global draw holds out into the validation set.

        Row ``i`` of the whole data is held out when the ``i``-th uniform of
        one PCG64 stream seeded by ``seed`` is below ``fraction``; each shard
        reads its rows' uniforms by advancing the stream, so the held-out
        rows do not depend on how the data is partitioned. Returns the
        number of rows held out here.
        """
        u = np.concatenate([
            np.random.Generator(np.random.PCG64(int(seed)).advance(int(start)))
            .random(int(size))
            for start, size in self.row_blocks
        ]) if self.row_blocks else np.empty(0)
        held = u < fraction
        w = self.sample_weight
        self.validation = (self.X_binned[held], self.y[held],
                           None if w is None else w[held])
        self.X_binned = np.asfortranarray(self.X_binned[~held])
        self.y = self.y[~held]
        self.sample_weight = None if w is None else w[~held]
        return int(held.sum())

    @property
    def n_rows(self) -> int:
        """Training rows on this shard."""
        return self.X_binned.shape[0]

    def target_sums(self, n_classes: int | None) -> np.ndarray:
        """Sums the baseline needs: ``[sum w y, sum w]``, or each class's
        weight (``n_classes`` given)."""
        w = np.ones_like(self.y) if self.sample_weight is None else self.sample_weight
        if n_classes is not None:
            return np.bincount(self.y.astype(np.intp), weights=w, minlength=n_classes)
        return np.array([np.dot(w, self.y), np.sum(w)])

    def default_threads(self) -> int:
        """Threads a fit uses when ``n_threads`` is None (in process: one,
        as the other shards share the cores)."""
        return 1

    def start(self, spec: FitSpec) -> None:
        """Set up the fit: the model at its baseline on every row."""
        self.spec = spec
        wanted = self.default_threads() if spec.n_threads is None else spec.n_threads
        self.n_threads = fit_n_threads(wanted, *self.X_binned.shape)
        with numba_threads(self.n_threads):
            self._start(spec)

    def _start(self, spec: FitSpec) -> None:
        self.ensemble = TreeEnsemble(spec.baseline, spec.policy)
        self.train = Dataset(None, self.y, self.sample_weight, spec.bin_mapper,
                             self.ensemble, training=True, X_binned=self.X_binned)
        self.val = None
        if self.validation is not None:
            X_val, y_val, w_val = self.validation
            self.val = Dataset(None, np.asarray(y_val, dtype=np.float64), w_val,
                               spec.bin_mapper, self.ensemble,
                               X_binned=np.asfortranarray(X_val))
        self.fitter = ShardFitter(
            self.X_binned, self.y, self.sample_weight, spec.loss, spec.bin_mapper,
            spec.tree_params, spec.max_delta_step, self.n_threads,
            spec.interaction_groups, spec.monotonic_cst, spec.max_features,
            1.0, spec.seed, 0,
        )

    def loss_sums(self) -> np.ndarray:
        """Training and validation loss sums and weights at the current model."""
        loss = self.spec.loss
        with numba_threads(self.n_threads):
            parts = [loss.partial(self.train.y, self.train.raw,
                                  self.train.sample_weight)]
            if self.val is not None:
                parts.append(loss.partial(self.val.y, self.val.raw,
                                          self.val.sample_weight))
            else:
                parts.append((0.0, 0.0))
        return np.array(parts, dtype=np.float64).ravel()

    def start_stage(self, schedule: Schedule, losses: bool):
        """Run a stage to its first collective request (see ``resume``)."""
        self.close()
        self._conversation = Conversation(self._stage, schedule, losses)
        return self._conversation.start()

    def resume(self, reply):
        """Answer the stage's last request and run it to the next one.

        Returns
        -------
        finished : bool
            The stage is over and ``value`` is its :class:`StageResult`.
        value : tuple or StageResult
            The next request: ``("tree", seed, sums, histogram)``,
            ``("hists", histograms, n_left)`` or ``("sum", array)``.
        """
        return self._conversation.resume(reply)

    def close(self) -> None:
        """Abandon a stage in progress (after another shard failed)."""
        if self._conversation is not None:
            self._conversation.close()
            self._conversation = None

    def _stage(self, exchange, schedule, losses):
        self.fitter.exchange = exchange
        with numba_threads(self.n_threads):
            step = fit_stage(self.ensemble.policy, schedule, self.fitter,
                             self.train, self.val, self.ensemble,
                             _CollectiveLoss(self.spec.loss, exchange))
        return StageResult(step.stage, step.trees, step.restarted,
                           step.restart_next, self.loss_sums() if losses else None)
