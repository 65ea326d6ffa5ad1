"""The CIDs we compute are the ones kubo's `ipfs add` gives (vectors and sources: vectors.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcompute.client.storage.cid import Cid
from crowdcompute.client.storage.dagpb import leaf_parts, parent_block, Link, varint
from crowdcompute.client.storage.unixfs import CHUNK_SIZE, MAX_LINKS, FileImporter, import_bytes, import_file

from .vectors import EMPTY, HELLO_WORLD_NL, KUBO_PROFILE, ZEROS_45_9MB, deterministic_bytes, profile_content


@pytest.mark.parametrize("data, cid", [HELLO_WORLD_NL, EMPTY], ids=["hello world\\n", "empty"])
def test_small_vectors(data, cid):
    assert str(import_bytes(data).cid) == cid


def test_hello_world_block_and_sizes_as_kubo_answers():
    # The leaf block is PBNode{Data: UnixFS{Type: File, Data: "hello world\n", filesize: 12}}:
    # 20 bytes, which kubo's add answers as "Size": "20".
    head, tail = leaf_parts(12)
    assert head + b"hello world\n" + tail == bytes.fromhex("0a120802120c") + b"hello world\n" + bytes.fromhex("180c")
    imported = import_bytes(b"hello world\n")
    assert (imported.size, imported.dag_size) == (12, 20)


@pytest.mark.parametrize("what, size, seed, cid", KUBO_PROFILE, ids=[v[0] for v in KUBO_PROFILE])
def test_kubo_cid_profile_vectors(what, size, seed, cid):
    data = profile_content(size, seed)
    assert len(data) == size
    assert str(import_bytes(data).cid) == cid


def test_js_ipfs_unixfs_parity_with_go_ipfs_two_level_zeros():
    size, cid = ZEROS_45_9MB
    assert size > MAX_LINKS * CHUNK_SIZE  # the root is over two levels
    importer = FileImporter()
    zeros = bytes(300_000)  # fed as js-ipfs-unixfs's test feeds it
    for _ in range(size // len(zeros)):
        importer.update(zeros)
    assert str(importer.finish().cid) == cid


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_pieces_of_any_size_give_the_cid_of_the_whole(data):
    content = deterministic_bytes(3 * CHUNK_SIZE + 1234, "pieces")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(content)), max_size=12)))
    importer = FileImporter()
    start = 0
    for cut in cuts + [len(content)]:
        importer.update(content[start:cut])
        start = cut
    assert importer.finish() == import_bytes(content)


def test_file_import_matches_bytes_import(tmp_path):
    content = deterministic_bytes(5 * CHUNK_SIZE + 7, "file")
    path = tmp_path / "content.bin"
    path.write_bytes(content)
    assert import_file(path) == import_bytes(content)


def test_parent_node_layout_links_before_data():
    # Two children: PBLink{Hash, Name "", Tsize} x2 (field 2), then Data (field 1) holding
    # UnixFS{Type File, filesize 3, blocksizes 1, 2}. Written out by hand from the encodings
    # go-merkledag and go-unixfs use.
    links = [Link(bytes([1]) * 32, 10, 1), Link(bytes([2]) * 32, 300, 2)]
    link1 = b"\x0a\x22\x12\x20" + bytes([1]) * 32 + b"\x12\x00" + b"\x18\x0a"
    link2 = b"\x0a\x22\x12\x20" + bytes([2]) * 32 + b"\x12\x00" + b"\x18\xac\x02"
    unixfs = b"\x08\x02\x18\x03\x20\x01\x20\x02"
    expected = b"\x12" + varint(len(link1)) + link1 + b"\x12" + varint(len(link2)) + link2 + b"\x0a\x08" + unixfs
    assert parent_block(links) == expected


def test_importer_refuses_use_after_finish():
    importer = FileImporter()
    importer.update(b"x")
    assert importer.finish().cid == Cid.parse(str(import_bytes(b"x").cid))
    with pytest.raises(RuntimeError):
        importer.update(b"y")
    with pytest.raises(RuntimeError):
        importer.finish()
