"""The embedded default backend: a local folder (`BlobStore`), its disk work done in a thread
so that an event loop never waits on a disk or on hashing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from .backend import DEFAULT_MAX_FETCH, Storage, as_cid
from .blobstore import BlobStore
from .cid import Cid


class LocalStorage(Storage):
    def __init__(self, folder: str | Path) -> None:
        self.store = BlobStore(folder)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.store.root)!r})"

    @property
    def location(self) -> str:
        return str(self.store.root)

    async def add_bytes(self, data: bytes) -> Cid:
        return (await asyncio.to_thread(self.store.add_bytes, data)).cid

    async def add_file(self, path: str | Path) -> Cid:
        return (await asyncio.to_thread(self.store.add_file, path)).cid

    async def get_bytes(self, cid: Cid | str, *, max_size: int | None = DEFAULT_MAX_FETCH) -> bytes:
        return await asyncio.to_thread(self.store.read, as_cid(cid), max_size=max_size)

    async def get_file(self, cid: Cid | str, dest: str | Path) -> int:
        return await asyncio.to_thread(self.store.copy_to, as_cid(cid), dest)
