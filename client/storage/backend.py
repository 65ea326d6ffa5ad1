"""The one interface over every place content can live (`Storage`); which backend a spec
opens is schemes.py's table, and implementations import this module, never the reverse.

Every backend verifies what it returns: the CID of the bytes is recomputed and a mismatch
raises ContentMismatch. Adds return the CID computed here, never one a server made up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

from .cid import Cid

# In-memory fetches (job definitions, result bundles read whole) stop at this many bytes
# unless the caller says otherwise; a hostile CID must not fill a worker's memory.
DEFAULT_MAX_FETCH = 64 << 20


class Storage(ABC):
    """Content-addressed storage: add bytes, get them back by CID, verified."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the content lives (a folder or a URL), for messages."""

    @abstractmethod
    async def add_bytes(self, data: bytes) -> Cid: ...

    @abstractmethod
    async def add_file(self, path: str | Path) -> Cid:
        """Streams the file; never holds it whole in memory."""

    @abstractmethod
    async def get_bytes(self, cid: Cid | str, *, max_size: int | None = DEFAULT_MAX_FETCH) -> bytes: ...

    @abstractmethod
    async def get_file(self, cid: Cid | str, dest: str | Path) -> int:
        """Streams to `dest` (replaced atomically once verified); returns the size."""

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()


def as_cid(cid: Cid | str) -> Cid:
    return cid if isinstance(cid, Cid) else Cid.parse(cid)
