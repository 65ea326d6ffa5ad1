"""A node's profile: where its front door is and what hardware it has, published on-chain.

A service job's poster reaches the containers a node runs through the node's own HTTP front
door, at the public URL the node publishes in its profile account, PDA ["node_profile",
node] of the jobs program (jobs-interface `state::NodeProfile`). The node writes it when it
starts and whenever its URL changes (`set_node_profile`); anyone reads it from the node's
address alone, and an explorer lists every profile with one getProgramAccounts filter on the
account's discriminator.

This module: the account's decoded view (`NodeProfile`), and the URL rule the program
enforces (`encode_url`), checked here first so a bad URL is an `InvalidInput` naming the
field, not a failed transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from ..errors import InvalidInput
from .layout import MAX_URL_LEN

__all__ = ["NodeProfile", "encode_url", "MAX_URL_LEN"]

_SCHEMES = ("http://", "https://")


def encode_url(url: str) -> tuple[int, bytes]:
    """The URL as set_node_profile takes it: (its length, its bytes zero-padded to
    MAX_URL_LEN). The program's rule (jobs-interface `profile::url_is_valid`): http:// or
    https:// and a host, at most MAX_URL_LEN bytes of printable ASCII without spaces."""
    if not isinstance(url, str):
        raise InvalidInput(f"url: a node URL is a string, not {type(url).__name__}")
    raw = url.encode("utf-8")
    if len(raw) > MAX_URL_LEN:
        raise InvalidInput(f"url: a node URL is at most {MAX_URL_LEN} bytes, this one is {len(raw)}")
    bad = next((byte for byte in raw if not 0x21 <= byte <= 0x7E), None)
    if bad is not None:
        raise InvalidInput(f"url: a node URL is printable ASCII without spaces; {url!r} holds byte 0x{bad:02x}")
    scheme = next((s for s in _SCHEMES if url.startswith(s)), None)
    if scheme is None:
        raise InvalidInput(f"url: a node URL starts with http:// or https://, not {url[:16]!r}")
    if len(url) == len(scheme):
        raise InvalidInput(f"url: {url!r} names no host after {scheme}")
    return len(raw), raw.ljust(MAX_URL_LEN, b"\0")


@dataclass(frozen=True)
class NodeProfile:
    """A node's profile account, decoded: `url` is the node's public URL (its front door),
    `hardware` the sha256 of its hardware summary in storage (`hardware_cid` is its CIDv0),
    `updated_at` the cluster time of its last set_node_profile (unix seconds)."""

    address: Pubkey
    node: Pubkey
    url: str
    hardware: bytes
    updated_at: int
    bump: int

    @classmethod
    def from_decoded(cls, address: Pubkey, raw: Any) -> NodeProfile:
        url = bytes(raw.url)[: raw.url_len].decode("ascii", errors="replace")
        return cls(address, raw.node, url, bytes(raw.hardware), raw.updated_at, raw.bump)

    @property
    def hardware_cid(self) -> str:
        """The hardware summary's CIDv0 in content-addressed storage (as a job's result)."""
        from ..storage import Cid

        return str(Cid(self.hardware))

    def holds(self, url: str, hardware: bytes) -> bool:
        """Whether the account already says this: set_node_profile would change nothing but
        `updated_at`."""
        return self.url == url and self.hardware == bytes(hardware)

    def to_json(self) -> dict[str, Any]:
        return {"address": str(self.address), "node": str(self.node), "url": self.url, "hardware": self.hardware.hex(),
                "hardware_cid": self.hardware_cid, "updated_at": self.updated_at}
