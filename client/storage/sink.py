"""Where fetched bytes go before anyone trusts them: `VerifiedSink` recomputes their CID as
they arrive and, at `finish`, refuses them unless it is the CID asked for. A file destination
is written beside itself (`.NAME.*.part`) and renamed into place only once verified, so a
refused fetch leaves nothing behind and an existing file is never half-overwritten."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .cid import Cid
from .errors import ContentMismatch, ContentTooLarge
from .unixfs import FileImporter


class VerifiedSink:
    def __init__(self, expected: Cid, *, where: str, dest: str | Path | None = None, max_size: int | None = None) -> None:
        self.expected = expected
        self.where = where
        self.max_size = max_size
        self._importer = FileImporter()
        self._buffer = bytearray() if dest is None else None
        self._dest = None if dest is None else Path(dest)
        self._file = None
        self._tmp: str | None = None
        if self._dest is not None:
            try:
                fd, self._tmp = tempfile.mkstemp(prefix=f".{self._dest.name}.", suffix=".part", dir=self._dest.parent)
            except OSError as error:  # name the file asked for, not the staging file
                raise type(error)(error.errno, error.strerror, str(self._dest)) from None
            self._file = os.fdopen(fd, "wb")

    @property
    def size(self) -> int:
        return self._importer.size

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self.max_size is not None and self._importer.size + len(chunk) > self.max_size:
            self.abort()
            raise ContentTooLarge(f"{self.expected} from {self.where} is larger than the limit of {self.max_size} bytes")
        self._importer.update(chunk)
        if self._file is not None:
            self._file.write(chunk)
        else:
            assert self._buffer is not None
            self._buffer += chunk

    def finish(self) -> bytes | int:
        """The bytes (memory sink) or the size written to the destination; ContentMismatch if forged."""
        actual = self._importer.finish().cid
        if actual != self.expected:
            self.abort()
            raise ContentMismatch(self.expected, actual, self.where)
        if self._file is None:
            assert self._buffer is not None
            return bytes(self._buffer)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        assert self._tmp is not None and self._dest is not None
        os.replace(self._tmp, self._dest)
        self._tmp = None
        return self._importer.size

    def abort(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass
            self._tmp = None
