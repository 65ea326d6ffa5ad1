"""One interface over every place content can live, and the rule that picks one.

`open_storage(spec)`:
  - an http(s) URL: a kubo RPC endpoint (`crowd storage serve`, a kubo daemon's :5001, a
    pinning service speaking the same subset) -> `HttpStorage`;
  - anything else: a local folder -> `LocalStorage`;
  - nothing: $CROWD_STORAGE if set (a URL or a folder), else the default folder
    $XDG_DATA_HOME/crowdcompute/storage (~/.local/share/crowdcompute/storage).

Every backend verifies what it returns: the CID of the bytes is recomputed and a mismatch
raises ContentMismatch. Adds return the CID computed here, never one a server made up.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

from .cid import Cid

ENV_VAR = "CROWD_STORAGE"
# `crowd storage serve`: beside the localnet's 8899 (JSON-RPC) and 8900 (PubSub); not kubo's
# 5001, so that a kubo daemon can run on the same machine. Here, not in server.py, so that
# `crowd --help` does not import aiohttp.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8901
DEFAULT_MAX_UPLOAD = 1 << 30
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


def default_storage_dir() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "crowdcompute" / "storage"


def open_storage(spec: str | Path | None = None) -> Storage:
    if spec is None or spec == "":
        spec = os.environ.get(ENV_VAR) or default_storage_dir()
    if isinstance(spec, str) and spec.startswith(("http://", "https://")):
        from .http import HttpStorage

        return HttpStorage(spec)
    from .local import LocalStorage

    return LocalStorage(spec)


def as_cid(cid: Cid | str) -> Cid:
    return cid if isinstance(cid, Cid) else Cid.parse(cid)
