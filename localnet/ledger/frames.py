"""Length-prefixed frames on a pipe: how the server talks to its helper processes (the
ledger writer, writer.py, and the signature verifier, verifier.py).

A frame is a u32 little-endian length, then that many bytes. A helper waits for one whole
frame, then takes every frame already in the pipe with it: the work that queued up while it
was busy becomes one batch (for the writer, one commit). Only the standard library is
imported here, so a helper process starts in a few tens of ms.
"""

from __future__ import annotations

import os
import select
import struct

__all__ = ["LENGTH", "frame", "take_frames", "read_frames"]

LENGTH = struct.Struct("<I")


def frame(payload: bytes) -> bytes:
    return LENGTH.pack(len(payload)) + payload


def take_frames(buffer: bytearray) -> list[bytes]:
    """Takes every complete frame's payload off the front of `buffer`."""
    frames = []
    at = 0
    while len(buffer) - at >= 4:
        (length,) = LENGTH.unpack_from(buffer, at)
        if len(buffer) - at < 4 + length:
            break
        frames.append(bytes(buffer[at + 4:at + 4 + length]))
        at += 4 + length
    del buffer[:at]
    return frames


def read_frames(fd: int, buffer: bytearray) -> tuple[list[bytes], bool]:
    """Waits for at least one complete frame (or end of input), then takes whatever else
    the pipe holds already. Returns (payloads, eof)."""
    frames: list[bytes] = []
    while True:
        frames += take_frames(buffer)
        if frames and not select.select([fd], [], [], 0)[0]:
            return frames, False
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return frames + take_frames(buffer), True
        buffer.extend(chunk)
