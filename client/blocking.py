"""`Blocking`: an async object's API for code that is not async. Each coroutine method runs
to completion on a private event loop kept for the wrapper's life (one connection pool,
reused); a method that returns an async iterator (`follow_logs`) becomes a plain iterator;
other attributes are the object's own. `SyncCrowdClient` (sync.py) and `SyncNodeApi`
(node_api/sync.py) are this over `CrowdClient` and `NodeApi`."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Iterator

__all__ = ["Blocking", "ASYNC_ITERATORS"]

# Methods that return an async iterator without being async generators themselves.
ASYNC_ITERATORS = {"follow_logs"}


class Blocking:
    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._target = target
        self._loop = loop or asyncio.new_event_loop()

    @property
    def aio(self) -> Any:
        """The async object underneath (for its attributes)."""
        return self._target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if inspect.isasyncgenfunction(attr) or getattr(attr, "__name__", "") in ASYNC_ITERATORS:
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

    def close(self) -> None:
        """Closes the object (its `close()`), then the loop."""
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._target.close())
            self._loop.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
