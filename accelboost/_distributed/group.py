"""Shards in this process: the distributed fit without a cluster.

``LocalGroup`` calls each shard in turn, passing every argument through
pickle as a cluster would, so that tests of the distributed code need no
Dask and catch what a remote call would not carry.
"""

from __future__ import annotations

import pickle


class LocalGroup:
    """A fixed-order group of in-process shards.

    Parameters
    ----------
    shards : list of Shard
    """

    def __init__(self, shards):
        self.shards = list(shards)

    def call(self, method: str, *args) -> list:
        """``shard.method(*args)`` on every shard, in order; their results."""
        payload = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
        return [getattr(shard, method)(*pickle.loads(payload))
                for shard in self.shards]

    def close(self) -> None:
        """Abandon the shards' stages in progress."""
        for shard in self.shards:
            shard.close()
