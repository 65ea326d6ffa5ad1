"""The CID `ipfs add` gives a file with kubo's defaults, computed as the bytes stream past.

Defaults (kubo's unixfs-v0-2015 profile, still its default): fixed 256 KiB chunks
(size-262144), balanced layout of at most 174 links per node, dag-pb leaves (no raw
leaves), CIDv0. The layout follows boxo's balanced builder: a single chunk is its own root;
otherwise chunks are grouped 174 at a time into parents, parents 174 at a time into
grandparents, and so on, every group holding consecutive children, up to the one root. A
level whose last group holds a single child still gets a parent (175 chunks give a root over
a full node and a node over one chunk).

`FileImporter` keeps one pending chunk and, per level, the links of the node being filled:
memory is O(chunk + 174 * depth) whatever the file's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .cid import Cid
from .dagpb import Link, leaf_parts, parent_block

CHUNK_SIZE = 262_144
MAX_LINKS = 174
READ_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class Imported:
    cid: Cid
    size: int  # the file's bytes
    dag_size: int  # every block of its DAG, in bytes (kubo's "Size" in `add` answers)


class FileImporter:
    """Feed bytes with `update` in pieces of any size; `finish` gives the CID."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._levels: list[list[Link]] = [[]]
        self._size = 0
        self._finished = False

    @property
    def size(self) -> int:
        return self._size

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise RuntimeError("FileImporter.update after finish")
        view = memoryview(data).cast("B")
        self._size += len(view)
        if self._pending:
            take = min(CHUNK_SIZE - len(self._pending), len(view))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < CHUNK_SIZE:
                return
            self._leaf(self._pending)
            self._pending = bytearray()
        while len(view) >= CHUNK_SIZE:  # whole chunks straight from the caller's buffer
            self._leaf(view[:CHUNK_SIZE])
            view = view[CHUNK_SIZE:]
        self._pending += view

    def finish(self) -> Imported:
        if self._finished:
            raise RuntimeError("FileImporter.finish called twice")
        self._finished = True
        if self._pending or self._size == 0:  # the empty file is one empty leaf
            self._leaf(self._pending)
        level = 0
        while True:
            group = self._levels[level]
            if level == len(self._levels) - 1 and len(group) == 1:
                root = group[0]
                return Imported(Cid(root.digest), self._size, root.tsize)
            self._levels[level] = []
            self._push(level + 1, _parent(group))
            level += 1

    def _leaf(self, chunk: bytes | bytearray | memoryview) -> None:
        head, tail = leaf_parts(len(chunk))
        digest = hashlib.sha256(head)
        digest.update(chunk)
        digest.update(tail)
        self._push(0, Link(digest.digest(), len(head) + len(chunk) + len(tail), len(chunk)))

    def _push(self, level: int, link: Link) -> None:
        if level == len(self._levels):
            self._levels.append([])
        if len(self._levels[level]) == MAX_LINKS:
            # The node at this level is full and more follows: it is final.
            full, self._levels[level] = self._levels[level], []
            self._push(level + 1, _parent(full))
        self._levels[level].append(link)


def _parent(links: list[Link]) -> Link:
    block = parent_block(links)
    return Link(hashlib.sha256(block).digest(), len(block) + sum(link.tsize for link in links),
                sum(link.filesize for link in links))


def import_bytes(data: bytes | bytearray | memoryview) -> Imported:
    importer = FileImporter()
    importer.update(data)
    return importer.finish()


def import_chunks(chunks: Iterable[bytes]) -> Imported:
    importer = FileImporter()
    for chunk in chunks:
        importer.update(chunk)
    return importer.finish()


def import_file(path: str | Path) -> Imported:
    """Reads the file once, READ_SIZE at a time."""
    importer = FileImporter()
    with open(path, "rb") as file:
        while chunk := file.read(READ_SIZE):
            importer.update(chunk)
    return importer.finish()


def cid_of(data: bytes | bytearray | memoryview) -> Cid:
    """The CID `ipfs add` gives these bytes."""
    return import_bytes(data).cid
