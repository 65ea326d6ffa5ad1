"""Declared output files, copied out of an exited container into the result bundle.

Read through the engine's archive API (`docker cp`), which resolves the path inside the
container's own filesystem and volumes: a job that makes its output a symbolic link to a
host path gets "a symbolic link, not a regular file", never a host file. The tar stream
is read as it comes: a file up to OUTPUT_FILE_CAP is held (the bundle takes it whole or,
past the bundle's total, its size and sha256); a larger one is only hashed, up to
HASH_CAP (beyond that: its size, and no content).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
from typing import Any, Iterator

from ..client.bundle import OUTPUT_FILE_CAP, FileDigest, OutputFile, capture_outputs

HASH_CAP = 1 << 30
_DIR = 1 << 31  # Go's os.ModeDir, as the engine reports modes
_SYMLINK = 1 << 27


class _ChunkStream(io.RawIOBase):
    """A file over the SDK's chunk iterator, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def read_output(api: Any, container: str, path: str) -> bytes | FileDigest | str | None:
    """The file's bytes, its digest when over the cap, a reason (str) when the path is
    not a regular file, too large to hash or unreadable, or None when there is nothing there."""
    import docker.errors

    try:
        return _read(api, container, path)
    except docker.errors.NotFound:
        return None
    except (docker.errors.APIError, tarfile.TarError) as exc:  # one bad file is not a failed op
        return "could not be read: " + " ".join(str(exc).split())[:200]


def _read(api: Any, container: str, path: str) -> bytes | FileDigest | str | None:
    chunks, stat = api.get_archive(container, path, chunk_size=256 << 10)
    mode = int(stat.get("mode", 0))
    if mode & _DIR:
        return "a directory, not a regular file"
    if mode & _SYMLINK or stat.get("linkTarget"):
        return "a symbolic link, not a regular file"
    size = int(stat.get("size", 0))
    if size > HASH_CAP:
        return f"larger than {HASH_CAP} bytes: not read"
    with tarfile.open(fileobj=io.BufferedReader(_ChunkStream(iter(chunks)), 1 << 20), mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                return "not a regular file"
            source = tar.extractfile(member)
            assert source is not None
            if member.size <= OUTPUT_FILE_CAP:
                return source.read()
            digest = hashlib.sha256()
            while block := source.read(1 << 20):
                digest.update(block)
            return FileDigest(member.size, digest.hexdigest())
    return None


def bundle_outputs(found: list[tuple[str, bytes | FileDigest | str | None]]) -> tuple[OutputFile, ...]:
    """Bundle entries, in declared order, with the bundle's caps applied."""
    entries = capture_outputs([(path, None if isinstance(data, str) else data) for path, data in found])
    return tuple(
        dataclasses.replace(entry, error=data) if isinstance(data, str) else entry
        for entry, (_, data) in zip(entries, found)
    )
