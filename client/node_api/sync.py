"""`SyncNodeApi`: `NodeApi` for scripts that are not async (client/blocking.py, as
`SyncCrowdClient` is for `CrowdClient`): each call runs on a private event loop kept for the
object's life, so one connection pool is reused; `follow_logs` is a plain iterator."""

from __future__ import annotations

from typing import Any

from ..blocking import Blocking
from .client import NodeApi

__all__ = ["SyncNodeApi"]


class SyncNodeApi(Blocking):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(NodeApi(*args, **kwargs))

    @property
    def aio(self) -> NodeApi:
        return self._target
