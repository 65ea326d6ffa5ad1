"""The ledger's journal: every write is appended here, in the server's process, before
anyone is answered for it, and only then handed to the writer process (writer.py) for SQLite.

Why: the commit point of a transaction used to be the writer's acknowledgement (a pipe hop to
another process, its SQLite inserts and an fsync): 3 ms on the path of every sendTransaction,
longer than everything else the request does. An append to a file is a single write(2) of a
few microseconds, and what it wrote is in the kernel's page cache when it returns: it
survives kill -9 of every localnet process (not a power loss: the writer's fsynced commit
follows within milliseconds). So an answered transaction is in the journal, the writer
commits it in the background, and a restart applies to SQLite whatever the journal holds
beyond the ledger's last commit before it loads the ledger. Nothing answered is lost.

Format: segment files `journal/<first seq, 20 digits>.log`, each a run of records
    u32 length | u32 crc32 of (seq, payload) | u64 seq | payload (length bytes)
with consecutive seqs. The payload is the writer's frame (store.py's Write.frame, pickled),
whose meta sets `journal_seq` to its seq, so the ledger records the last seq it committed
in the same SQLite transaction. A record cut short by a crash (a kill during the append of
a write nobody was answered for) or that fails its checksum ends the segment's replay.

A segment is deleted once the writer has committed its last record; a new segment starts
when the current one passes SEGMENT_BYTES, so the journal stays a few MiB under any load.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Iterator

__all__ = ["Journal", "records", "clear", "JOURNAL_DIR"]

JOURNAL_DIR = "journal"
SEGMENT_BYTES = 8 << 20
_HEADER = struct.Struct("<IIQ")
_SEQ = struct.Struct("<Q")


def _checksum(seq: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq)))


def _segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.log")) if folder.is_dir() else []


def records(ledger: Path, after: int) -> Iterator[tuple[int, bytes]]:
    """The journal's intact records with a seq above `after`, in seq order."""
    expected = None
    for path in _segments(ledger / JOURNAL_DIR):
        data = path.read_bytes()
        at = 0
        while len(data) - at >= _HEADER.size:
            length, crc, seq = _HEADER.unpack_from(data, at)
            payload = data[at + _HEADER.size:at + _HEADER.size + length]
            if len(payload) != length or _checksum(seq, payload) != crc:
                break  # torn by a crash mid-append: never acknowledged to anyone
            at += _HEADER.size + length
            if expected is not None and seq != expected:
                raise ValueError(f"journal {path}: seq {seq} where {expected} was expected (a segment is missing)")
            expected = seq + 1
            if seq > after:
                yield seq, payload


def clear(ledger: Path) -> None:
    """Deletes every segment (once the ledger holds their records)."""
    for path in _segments(ledger / JOURNAL_DIR):
        path.unlink()


class Journal:
    """The appending side. `append` raises OSError when the disk refuses the write."""

    def __init__(self, ledger: Path, next_seq: int) -> None:
        self.folder = ledger / JOURNAL_DIR
        self.folder.mkdir(exist_ok=True)
        self.next_seq = next_seq
        self._closed_segments: list[tuple[Path, int]] = []  # (path, last seq), oldest first
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0

    def append(self, payload: bytes) -> int:
        """Appends `payload` as the next record; returns its seq. Once this returns, the
        record survives the death of this process."""
        if self._fd is None or self._size >= SEGMENT_BYTES:
            self._rotate()
        seq = self.next_seq
        record = _HEADER.pack(len(payload), _checksum(seq, payload), seq) + payload
        written = os.write(self._fd, record)
        if written != len(record):  # a regular file writes all of it unless the disk is full
            raise OSError(f"journal: short write ({written} of {len(record)} bytes)")
        self._size += written
        self.next_seq = seq + 1
        return seq

    def committed(self, seq: int) -> None:
        """The writer committed every record up to `seq`: segments wholly below it go."""
        while self._closed_segments and self._closed_segments[0][1] <= seq:
            path, _ = self._closed_segments.pop(0)
            path.unlink(missing_ok=True)

    def _rotate(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._closed_segments.append((self._path, self.next_seq - 1))
        self._path = self.folder / f"{self.next_seq:020d}.log"
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
