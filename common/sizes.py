"""Byte counts for a person, one way everywhere they are printed: 1.5 GiB, 12.0 MiB,
800 bytes (the node's logs and refusals, `crowd node status`, `crowd job stats`)."""

from __future__ import annotations

__all__ = ["human_size"]


def human_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
