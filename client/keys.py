"""Addresses as callers write them: a Pubkey, or its base58 text (stripped)."""

from __future__ import annotations

from solders.pubkey import Pubkey

from .errors import InvalidInput

__all__ = ["parse_address"]


def parse_address(value: Pubkey | str, what: str) -> Pubkey:
    """`value` as a Pubkey, or InvalidInput naming `what` ("job", "market", ...)."""
    if isinstance(value, Pubkey):
        return value
    try:
        return Pubkey.from_string(str(value).strip())
    except ValueError:
        raise InvalidInput(f"not a {what} address: {value!r}") from None
