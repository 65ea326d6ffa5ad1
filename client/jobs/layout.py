"""Sizes and constants of the jobs program's accounts (mirrors jobs-interface/src/state.rs;
tests check them against the IDL and the program)."""

from __future__ import annotations

__all__ = ["MARKET_HEADER_LEN", "QUEUE_ENTRY_LEN", "JOB_LEN", "NIL", "MAX_CAPACITY", "market_size", "JOB_SIZE", "NODE_PROFILE_LEN",
           "NODE_PROFILE_SIZE", "MAX_URL_LEN"]

DISCRIMINATOR_LEN = 8
MARKET_HEADER_LEN = 210
QUEUE_ENTRY_LEN = 77
JOB_LEN = 275
NIL = 0xFFFF
MAX_CAPACITY = NIL - 1
JOB_SIZE = DISCRIMINATOR_LEN + JOB_LEN
NODE_PROFILE_LEN = 274
NODE_PROFILE_SIZE = DISCRIMINATOR_LEN + NODE_PROFILE_LEN
MAX_URL_LEN = 200  # jobs-interface/src/profile.rs


def market_size(capacity: int) -> int:
    """Bytes of a market account whose queue holds `capacity` entries."""
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValueError(f"capacity must be between 1 and {MAX_CAPACITY}, got {capacity!r}")
    return DISCRIMINATOR_LEN + MARKET_HEADER_LEN + capacity * QUEUE_ENTRY_LEN
