"""A job's log lines for the node API, read from its log file (worker/logs.py `JobLog`).

JobLog writes each batch of complete lines and flushes it at once (one write per batch the
container's stream yields), so a line is in the file, whole, moments after the container
printed it; following is tailing the file. Polling (every POLL_S while nothing is new)
rather than inotify: nothing to install, works on every filesystem, and a poll of a file's
size costs microseconds. Reads are of at most READ_CHUNK bytes, inline on the event loop
(the node's own disk, page cache: microseconds).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Awaitable, Callable

from ...client.node_api.log_lines import parse_log_line

__all__ = ["tail_lines", "follow_lines", "TAIL_CAP", "POLL_S"]

TAIL_CAP = 1 << 20  # a plain GET answers the last MiB of the file at most
POLL_S = 0.25
READ_CHUNK = 64 << 10
PARTIAL_CAP = 256 << 10  # a line longer than any JobLog writes (64 KiB + prefix) is sent as is


def _wanted(line: str, op: str | None) -> bool:
    if op is None:
        return True
    parsed = parse_log_line(line)
    return parsed is not None and parsed.op == op


def tail_lines(path: Path, op: str | None = None, cap: int = TAIL_CAP) -> tuple[list[str], bool]:
    """The lines of the file's last `cap` bytes (of op `op`), and whether earlier ones were left out."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            start = max(0, size - cap)
            f.seek(start)
            data = f.read(size - start)
    except FileNotFoundError:
        return [], False
    if start > 0:
        data = data.partition(b"\n")[2]  # the first line is cut: dropped
    text = data.decode("utf-8", "replace")
    lines = [line for line in text.split("\n") if line]
    return [line for line in lines if _wanted(line, op)], start > 0


async def follow_lines(
    path: Path,
    send: Callable[[str], Awaitable[None]],
    *,
    op: str | None = None,
    from_start: bool = True,
    follow: bool = True,
    running: Callable[[], bool],
    poll_s: float = POLL_S,
) -> None:
    """`send` each line of the file (of op `op`), from its start or from its end now; when
    `follow`, keep reading new lines until `running()` is false (then read what is left and
    return). A file that does not exist yet is waited for while the job runs."""
    pos = 0
    if not from_start:
        try:
            pos = path.stat().st_size
        except FileNotFoundError:
            pos = 0
    partial = b""
    while True:
        alive = running()  # asked before reading: a job that ended had written everything
        data = _read(path, pos)  # b"" at the end of the file and when there is no file yet
        if data:
            pos += len(data)
            lines = (partial + data).split(b"\n")
            partial = lines.pop()
            if len(partial) > PARTIAL_CAP:
                lines.append(partial)
                partial = b""
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                if line and _wanted(line, op):
                    await send(line)
            continue
        if not follow or not alive:
            if partial:
                line = partial.decode("utf-8", "replace")
                if _wanted(line, op):
                    await send(line)
            return
        await asyncio.sleep(poll_s)


def _read(path: Path, pos: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(pos)
            return f.read(READ_CHUNK)
    except FileNotFoundError:
        return b""
