"""The driver of a distributed fit: answers the shards' collective requests.

Each stage starts on every shard at once; the shards run it in step and
stop at each collective: a tree (the driver grows it from their
histograms, ``tree.grow_tree``) or a sum (a loss over every row). The
driver combines their parts in shard order, replies, and checks that they
asked for the same thing: shards that disagree have lost their state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._engine.grower import TreeGrower
from .shard import FitSpec, StageResult
from .tree import TreeSpec, grow_tree, ordered_sum


class ShardsOutOfStep(RuntimeError):
    """The shards asked for different things: their states diverged."""


@dataclass
class CommunicationStats:
    """What the trees of a fit cost in round trips and bytes.

    Attributes
    ----------
    rounds : list of int
        Round trips of each tree, its root's included.
    bytes : list of int
        Bytes the shards sent for each tree's histograms and sums (the
        payload; Dask's framing is not counted).
    """

    rounds: list = field(default_factory=list)
    bytes: list = field(default_factory=list)


def tree_spec(spec: FitSpec, n_features: int) -> TreeSpec:
    """The driver's tree options, validated as ``TreeGrower`` validates them."""
    mapper = spec.bin_mapper
    grower = TreeGrower(
        np.empty((0, n_features), dtype=np.uint8, order="F"), np.empty(0),
        np.empty(0), mapper.n_bins_non_missing_, mapper.missing_bin_,
        mapper.thresholds_, spec.tree_params,
        interaction_groups=spec.interaction_groups,
        is_categorical=mapper.is_categorical_,
        monotonic_cst=spec.monotonic_cst, max_features=spec.max_features,
    )
    return TreeSpec.from_grower(grower)


class Driver:
    """Runs a fit's stages over a group of shards.

    Parameters
    ----------
    group : LocalGroup or DaskGroup
        The shards, called in a fixed order.
    spec : FitSpec
        Sent to every shard.
    n_features : int
    """

    def __init__(self, group, spec: FitSpec, n_features: int):
        self.group = group
        self.tree_spec = tree_spec(spec, n_features)
        self.stats = CommunicationStats()
        group.call("start", spec)

    def losses(self) -> np.ndarray:
        """Training and validation loss of the current model (validation NaN
        without a validation set)."""
        return _losses(ordered_sum(self.group.call("loss_sums")))

    def stage(self, schedule, losses: bool) -> tuple[StageResult, np.ndarray | None]:
        """Run one stage on every shard.

        Returns
        -------
        result : StageResult
            The stage as the shards took it.
        losses : ndarray of shape (2,) or None
            Training and validation loss after it, when asked for.
        """
        try:
            replies = self.group.call("start_stage", schedule, losses)
            while not replies[0][0]:
                messages = _in_step(replies)
                if messages[0][0] == "sum":
                    replies = self.group.call(
                        "resume", ordered_sum([m[1] for m in messages]))
                elif messages[0][0] == "tree":
                    replies = self._tree(messages)
                else:
                    raise ShardsOutOfStep(f"Unexpected request {messages[0][0]!r}.")
            results = _finished(replies)
        except BaseException:
            self.group.close()
            raise
        result = results[0]
        sums = [r.losses for r in results]
        return result, None if sums[0] is None else _losses(ordered_sum(sums))

    def _tree(self, messages):
        seeds = {m[1] for m in messages}
        if len(seeds) != 1:
            raise ShardsOutOfStep(f"The shards grow different trees: seeds {seeds}.")
        sent = sum(m[2].nbytes + m[3].nbytes for m in messages)

        def exchange(request):
            nonlocal sent
            replies = self.group.call(
                "resume", ("round", request.splits, request.categories,
                           request.builds))
            answers = _in_step(replies)
            sent += sum(a[1].nbytes + a[2].nbytes for a in answers)
            return [a[1:] for a in answers]

        tree, rounds = grow_tree(self.tree_spec, seeds.pop(),
                                 [m[2:] for m in messages], exchange)
        self.stats.rounds.append(rounds + 1)
        self.stats.bytes.append(sent)
        return self.group.call("resume", ("tree", tree.nodes, tree.leaf_nodes,
                                          tree.leaf_handles, tree.leaf_lower,
                                          tree.leaf_upper))


def _losses(sums):
    train = sums[0] / sums[1]
    val = sums[2] / sums[3] if sums[3] > 0 else np.nan
    return np.array([train, val])


def _in_step(replies):
    """The shards' requests, checked to be of one kind."""
    if any(finished for finished, _ in replies):
        raise ShardsOutOfStep("Some shards finished the stage and others did not.")
    messages = [message for _, message in replies]
    kinds = {m[0] for m in messages}
    if len(kinds) != 1:
        raise ShardsOutOfStep(f"The shards sent different requests: {sorted(kinds)}.")
    return messages


def _finished(replies):
    """The shards' stage results, checked to agree."""
    if not all(finished for finished, _ in replies):
        raise ShardsOutOfStep("Some shards finished the stage and others did not.")
    results = [result for _, result in replies]
    first = results[0]
    if any((r.stage, r.restarted, r.restart_next)
           != (first.stage, first.restarted, first.restart_next) for r in results):
        raise ShardsOutOfStep("The shards took the stage differently.")
    return results
