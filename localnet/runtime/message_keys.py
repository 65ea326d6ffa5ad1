"""Which of a message's static keys are writable, from its header alone (solders' legacy
Message has no is_writable): one rule for the bank, the nonce check and the RPC encodings."""

from __future__ import annotations

from solders.message import Message, MessageV0
from solders.pubkey import Pubkey

__all__ = ["is_writable", "writable_keys"]


def is_writable(message: Message | MessageV0, index: int) -> bool:
    """Signed keys are writable before the read-only signed ones, unsigned keys before the
    read-only unsigned ones at the end."""
    header = message.header
    signed = header.num_required_signatures
    if index < signed:
        return index < signed - header.num_readonly_signed_accounts
    return index < len(message.account_keys) - header.num_readonly_unsigned_accounts


def writable_keys(message: Message | MessageV0, keys: list[Pubkey]) -> list[Pubkey]:
    """The writable ones of `keys` (the message's static keys), in order: the two ranges
    `is_writable` describes, sliced rather than tested key by key."""
    header = message.header
    signed = header.num_required_signatures
    return keys[:signed - header.num_readonly_signed_accounts] + keys[signed:len(keys) - header.num_readonly_unsigned_accounts]
