"""`SyncNodeApi`: `NodeApi` for scripts that are not async (as client/sync.py does for
`CrowdClient`): each call runs on a private event loop kept for the object's life, so one
connection pool is reused; `follow_logs` is a plain iterator."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

from .client import NodeApi

__all__ = ["SyncNodeApi"]


class SyncNodeApi:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self.aio = NodeApi(*args, **kwargs)

    def info(self) -> dict[str, Any]:
        return self._loop.run_until_complete(self.aio.info())

    def endpoints(self, job: str) -> list[dict[str, Any]]:
        return self._loop.run_until_complete(self.aio.endpoints(job))

    def stats(self, job: str) -> dict[str, Any]:
        return self._loop.run_until_complete(self.aio.stats(job))

    def logs(self, job: str, op: str | None = None) -> list[str]:
        return self._loop.run_until_complete(self.aio.logs(job, op))

    def follow_logs(self, job: str, op: str | None = None, follow: bool = True, from_start: bool = True) -> Iterator[str]:
        lines = self.aio.follow_logs(job, op, follow, from_start)
        try:
            while True:
                try:
                    yield self._loop.run_until_complete(lines.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._loop.run_until_complete(lines.aclose())

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self.aio.close())
            self._loop.close()

    def __enter__(self) -> SyncNodeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
