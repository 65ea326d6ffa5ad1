"""CIDs as `ipfs add` makes them by default: CIDv0, the base58btc multihash of a dag-pb node.

The chain stores only the 32-byte sha2-256 digest of a content's root dag-pb node (as
Nosana does); `Cid` turns it back into the CID any IPFS node or gateway serves it under:
CIDv0 = base58btc(0x12 0x20 || digest), 46 characters starting "Qm". A CIDv1 naming the same
dag-pb node ("bafy...", base32) is accepted too and means the same digest.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import based58

from .errors import InvalidCid

DIGEST_SIZE = 32
SHA2_256 = 0x12  # multihash code
DAG_PB = 0x70  # multicodec code
RAW = 0x55
_V0_PREFIX = bytes([SHA2_256, DIGEST_SIZE])


@dataclass(frozen=True, slots=True)
class Cid:
    """A dag-pb sha2-256 CID, held as its 32-byte digest; `str()` gives the CIDv0."""

    digest: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.digest, bytes) or len(self.digest) != DIGEST_SIZE:
            raise InvalidCid(f"a CID digest is {DIGEST_SIZE} bytes, got {self.digest!r}")

    @classmethod
    def parse(cls, text: str) -> Cid:
        """A CIDv0 ("Qm...") or a base32 CIDv1 of a dag-pb node ("bafy..."); else InvalidCid."""
        if not isinstance(text, str):
            raise InvalidCid(f"a CID is a string, got {text!r}")
        text = text.strip()
        if text.startswith("/ipfs/"):  # the path form kubo's RPC also takes
            text = text[len("/ipfs/"):].rstrip("/")
        if len(text) == 46 and text.startswith("Qm"):
            try:
                raw = bytes(based58.b58decode(text.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise InvalidCid(f"invalid CID {text!r}: not base58") from None
            if len(raw) == 34 and raw[:2] == _V0_PREFIX:
                return cls(raw[2:])
            raise InvalidCid(f"invalid CID {text!r}: not a sha2-256 multihash")
        if text.startswith("b"):
            return cls._parse_v1(text)
        raise InvalidCid(f"invalid CID {text!r}: expected a CIDv0 (Qm..., 46 characters) or a base32 CIDv1 (bafy...)")

    @classmethod
    def _parse_v1(cls, text: str) -> Cid:
        body = text[1:].upper()
        try:
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except (ValueError, UnicodeEncodeError):
            raise InvalidCid(f"invalid CID {text!r}: not base32") from None
        version, rest = _uvarint(raw)
        codec, rest = _uvarint(rest)
        if version != 1:
            raise InvalidCid(f"invalid CID {text!r}: unknown CID version {version}")
        if codec == RAW:
            raise InvalidCid(f"unsupported CID {text!r}: a raw-leaves CIDv1; add content with kubo's defaults (CIDv0, dag-pb)")
        if codec != DAG_PB or rest[:2] != _V0_PREFIX or len(rest) != 34:
            raise InvalidCid(f"unsupported CID {text!r}: only dag-pb nodes hashed with sha2-256 are supported")
        return cls(rest[2:])

    @classmethod
    def from_hex(cls, text: str) -> Cid:
        try:
            return cls(bytes.fromhex(text))
        except ValueError:
            raise InvalidCid(f"not a 32-byte hex digest: {text!r}") from None

    @property
    def hex(self) -> str:
        return self.digest.hex()

    def __str__(self) -> str:
        return based58.b58encode(_V0_PREFIX + self.digest).decode("ascii")

    def __repr__(self) -> str:
        return f"Cid({str(self)!r})"


def digest_to_cid(digest: bytes) -> str:
    """The CIDv0 of a root node's 32-byte digest (what the chain stores)."""
    return str(Cid(bytes(digest)))


def cid_to_digest(cid: str) -> bytes:
    """The 32-byte digest the chain stores for a CID."""
    return Cid.parse(cid).digest


def _uvarint(data: bytes) -> tuple[int, bytes]:
    value = shift = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, data[index + 1:]
        shift += 7
    raise InvalidCid("invalid CID: truncated varint")
