"""A folder of blobs keyed by CID: the local backend's and the storage server's disk layout.

    <root>/blobs/<CIDv0>   the file's bytes, exactly as added (no DAG blocks: any block can
                           be rebuilt from them, and the CID is recomputed on every read)
    <root>/tmp/            writes in progress

A write goes to a fresh temporary file, is fsynced, then renamed over `blobs/<CID>` and the
folder fsynced: a reader sees the whole blob or none, and concurrent adds of the same
content (threads or processes) each rename identical bytes into place, which is harmless.
Synchronous on purpose: async callers run it in a thread (`LocalStorage`, the server).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from .cid import Cid
from .errors import ContentNotFound, ContentTooLarge
from .sink import VerifiedSink
from .unixfs import READ_SIZE, FileImporter, Imported


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.blobs = self.root / "blobs"
        self.tmp = self.root / "tmp"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(exist_ok=True)

    def __repr__(self) -> str:
        return f"BlobStore({str(self.root)!r})"

    def path(self, cid: Cid) -> Path:
        return self.blobs / str(cid)

    def has(self, cid: Cid) -> bool:
        return self.path(cid).is_file()

    def writer(self, *, max_size: int | None = None) -> BlobWriter:
        return BlobWriter(self, max_size=max_size)

    def add_bytes(self, data: bytes | bytearray | memoryview) -> Imported:
        with self.writer() as writer:
            writer.write(data)
            return writer.commit()

    def add_file(self, source: str | Path) -> Imported:
        with open(source, "rb") as file, self.writer() as writer:
            while chunk := file.read(READ_SIZE):
                writer.write(chunk)
            return writer.commit()

    def open(self, cid: Cid) -> BinaryIO:
        try:
            return open(self.path(cid), "rb")
        except FileNotFoundError:
            raise ContentNotFound(f"{cid} is not in {self.root}") from None

    def read(self, cid: Cid, *, max_size: int | None = None) -> bytes:
        """The verified bytes (ContentMismatch if the blob on disk was altered)."""
        result = self._verified_copy(cid, VerifiedSink(cid, where=str(self.root), max_size=max_size))
        assert isinstance(result, bytes)
        return result

    def copy_to(self, cid: Cid, dest: str | Path) -> int:
        """Writes the verified bytes to `dest` (atomically); returns their size."""
        with self.open(cid):  # ContentNotFound before any file is created
            pass
        result = self._verified_copy(cid, VerifiedSink(cid, where=str(self.root), dest=dest))
        assert isinstance(result, int)
        return result

    def _verified_copy(self, cid: Cid, sink: VerifiedSink) -> bytes | int:
        try:
            with self.open(cid) as file:
                while chunk := file.read(READ_SIZE):
                    sink.write(chunk)
            return sink.finish()
        finally:
            sink.abort()  # no-op once finished

    def clean_tmp(self, older_than_s: float = 3600) -> int:
        """Removes writes abandoned by crashed processes; returns how many."""
        removed = 0
        cutoff = time.time() - older_than_s
        for entry in self.tmp.iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed


class BlobWriter:
    """One blob being written: `write` as often as needed, then `commit` (or `abort`)."""

    def __init__(self, store: BlobStore, *, max_size: int | None) -> None:
        self.store = store
        self.max_size = max_size
        self._importer = FileImporter()
        fd, self._tmp = tempfile.mkstemp(prefix="add-", dir=store.tmp)
        self._file = os.fdopen(fd, "wb")
        self._done = False

    @property
    def size(self) -> int:
        return self._importer.size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.max_size is not None and self._importer.size + len(data) > self.max_size:
            raise ContentTooLarge(f"content larger than the limit of {self.max_size} bytes")
        self._importer.update(data)
        self._file.write(data)

    def commit(self) -> Imported:
        imported = self._importer.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self.store.path(imported.cid))
        self._done = True
        _fsync_dir(self.store.blobs)
        return imported

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
