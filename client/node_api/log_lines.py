"""A line of a job's log, as the node keeps it and the node API sends it:

    <time, ISO 8601 UTC> <op id> <stream>| <text>

`stream` is stdout or stderr; the node's own lines have op `-` and stream `node`. Op ids
have no spaces (client/jobspec), so the first two spaces and the first "| " split a line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LogLine", "parse_log_line"]


@dataclass(frozen=True)
class LogLine:
    time: str
    op: str
    stream: str
    text: str


def parse_log_line(line: str) -> LogLine | None:
    """The parts of `line`; None for one that is not in the format (the file's closing
    marker when it reached its cap)."""
    head, sep, text = line.partition("| ")
    if not sep:
        return None
    fields = head.split(" ")
    if len(fields) != 3 or not all(fields):
        return None
    return LogLine(fields[0], fields[1], fields[2], text)
