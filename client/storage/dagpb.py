"""The two protobuf messages of a UnixFS file, encoded by hand, byte for byte as kubo writes them.

dag-pb PBNode:  Links = 2 (repeated PBLink), Data = 1; encoded Links first, then Data
                (go-merkledag / go-codec-dagpb canonical order).
dag-pb PBLink:  Hash = 1 (the child's CIDv0 bytes: its multihash), Name = 2 (always written,
                empty for file chunks), Tsize = 3 (the child's whole sub-DAG in bytes).
UnixFS Data:    Type = 1 (File = 2), Data = 2 (omitted when empty), filesize = 3 (always
                written), blocksizes = 4 (repeated, not packed; one per child).

A leaf's block is `node(links=[], data=unixfs(chunk, len(chunk)))`; it is hashed in pieces
(`leaf_parts`) so that a 256 KiB chunk is never copied just to be hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .cid import SHA2_256, DIGEST_SIZE

UNIXFS_FILE = 2
_LINK_HASH_PREFIX = bytes([0x0A, 2 + DIGEST_SIZE, SHA2_256, DIGEST_SIZE])  # field 1, length 34, multihash header
_EMPTY_NAME = b"\x12\x00"  # field 2, length 0


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Link:
    """A child of a file node: its root digest, its sub-DAG's size (Tsize), its file bytes."""

    digest: bytes
    tsize: int
    filesize: int


def leaf_parts(chunk_size: int) -> tuple[bytes, bytes]:
    """The bytes before and after a chunk of `chunk_size` bytes in its leaf block."""
    if chunk_size == 0:
        return b"\x0a\x04\x08\x02\x18\x00", b""  # the empty file: no Data field
    size = varint(chunk_size)
    head = b"\x08\x02\x12" + size  # Type = File, Data = <chunk>
    tail = b"\x18" + size  # filesize
    unixfs_len = len(head) + chunk_size + len(tail)
    return b"\x0a" + varint(unixfs_len) + head, tail


def parent_block(links: Sequence[Link]) -> bytes:
    """A file node over `links`: no data of its own, their file sizes as blocksizes."""
    out = bytearray()
    for link in links:
        body = _LINK_HASH_PREFIX + link.digest + _EMPTY_NAME + b"\x18" + varint(link.tsize)
        out += b"\x12" + varint(len(body)) + body
    unixfs = bytearray(b"\x08\x02\x18" + varint(sum(link.filesize for link in links)))
    for link in links:
        unixfs += b"\x20" + varint(link.filesize)
    out += b"\x0a" + varint(len(unixfs)) + unixfs
    return bytes(out)
