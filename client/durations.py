"""Durations as people type them: 90s, 10m, 1h, 1h30m, 2d, or plain seconds."""

from __future__ import annotations

import re

from .errors import InvalidInput

__all__ = ["parse_duration", "format_duration", "format_span"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_PART = re.compile(r"(\d+)([smhd])")


def parse_duration(text: str | int) -> int:
    """Seconds in `text`; InvalidInput for anything else (including zero)."""
    if isinstance(text, int):
        seconds = text
    else:
        value = text.strip().lower()
        if value.isdigit():
            seconds = int(value)
        else:
            parts = _PART.findall(value)
            if not parts or "".join(n + u for n, u in parts) != value:
                raise InvalidInput(f"not a duration: {text!r} (use e.g. 90s, 10m, 1h, 1h30m, 2d)")
            seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise InvalidInput(f"a duration must be positive: {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m"


def format_span(seconds: int) -> str:
    """A duration in the units `parse_duration` reads, exactly: 1209600 -> "14d",
    90061 -> "1d1h1m1s" (for lock durations, where days matter more than minutes)."""
    seconds = int(seconds)
    if seconds <= 0:
        return f"{seconds}s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
