"""`SyncCrowdClient`: the same API as `CrowdClient` for scripts that are not async. Each call
runs on a private event loop kept for the client's life (one connection pool, reused).
`crowd.stakes` is the staking calls, synchronous the same way."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Iterator

from .crowd import CrowdClient

__all__ = ["SyncCrowdClient"]


class _Blocking:
    """An async object's coroutine methods, each run to completion on `loop`; other
    attributes as they are."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if inspect.isasyncgenfunction(attr) or getattr(attr, "__name__", "") in _ASYNC_ITERATORS:
            @functools.wraps(attr)
            def iterate(*args: Any, **kwargs: Any) -> Iterator[Any]:
                return _blocking_iterator(attr(*args, **kwargs), self._loop)

            return iterate
        if asyncio.iscoroutinefunction(attr):
            @functools.wraps(attr)
            def call(*args: Any, **kwargs: Any) -> Any:
                return self._loop.run_until_complete(attr(*args, **kwargs))

            return call
        return attr


# Methods that return an async iterator without being async generators themselves.
_ASYNC_ITERATORS = {"follow_logs"}


def _blocking_iterator(items: Any, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    try:
        while True:
            try:
                yield loop.run_until_complete(items.__anext__())
            except StopAsyncIteration:
                return
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            loop.run_until_complete(close())


class SyncCrowdClient(_Blocking):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(CrowdClient(*args, **kwargs), asyncio.new_event_loop())

    @property
    def aio(self) -> CrowdClient:
        """The async client underneath (for its attributes: program, cluster, keypair)."""
        return self._target

    @property
    def stakes(self) -> Any:
        """`CrowdClient.stakes` (stakes.py), each call blocking."""
        return _Blocking(self._target.stakes, self._loop)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._target.close())
            self._loop.close()

    def __enter__(self) -> SyncCrowdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
