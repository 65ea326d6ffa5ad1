"""`SyncCrowdClient`: the same API as `CrowdClient` for scripts that are not async. Each call
runs on a private event loop kept for the client's life (one connection pool, reused;
blocking.py); `follow_logs` is a plain iterator. `crowd.stakes` is the staking calls,
synchronous the same way."""

from __future__ import annotations

from typing import Any

from .blocking import Blocking
from .crowd import CrowdClient

__all__ = ["SyncCrowdClient"]


class SyncCrowdClient(Blocking):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(CrowdClient(*args, **kwargs))

    @property
    def aio(self) -> CrowdClient:
        """The async client underneath (for its attributes: program, cluster, keypair)."""
        return self._target

    @property
    def stakes(self) -> Any:
        """`CrowdClient.stakes` (stakes.py), each call blocking, on the client's loop."""
        return Blocking(self._target.stakes, self._loop)
