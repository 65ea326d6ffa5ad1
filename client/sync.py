"""`SyncCrowdClient`: the same API as `CrowdClient` for scripts that are not async. Each call
runs on a private event loop kept for the client's life (one connection pool, reused)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from .crowd import CrowdClient

__all__ = ["SyncCrowdClient"]


class SyncCrowdClient:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._async = CrowdClient(*args, **kwargs)

    @property
    def aio(self) -> CrowdClient:
        """The async client underneath (for its attributes: program, cluster, keypair)."""
        return self._async

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._async, name)
        if asyncio.iscoroutinefunction(attr):
            @functools.wraps(attr)
            def call(*args: Any, **kwargs: Any) -> Any:
                return self._loop.run_until_complete(attr(*args, **kwargs))

            return call
        return attr

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._async.close())
            self._loop.close()

    def __enter__(self) -> SyncCrowdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
