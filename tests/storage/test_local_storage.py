"""The local folder backend: atomic writes, safe concurrent adds, verified reads."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from crowdcompute.client.storage import (BlobStore, Cid, ContentMismatch, ContentNotFound, ContentTooLarge,
                                         LocalStorage, open_storage)
from crowdcompute.client.storage.schemes import default_storage_dir
from crowdcompute.client.storage.unixfs import CHUNK_SIZE, cid_of

from .vectors import HELLO_WORLD_NL, deterministic_bytes

MULTI_CHUNK = deterministic_bytes(2 * CHUNK_SIZE + 99, "local")


@pytest.mark.asyncio
async def test_add_and_get_round_trip(tmp_path):
    storage = LocalStorage(tmp_path)
    cid = await storage.add_bytes(HELLO_WORLD_NL[0])
    assert str(cid) == HELLO_WORLD_NL[1]
    assert (tmp_path / "blobs" / HELLO_WORLD_NL[1]).read_bytes() == HELLO_WORLD_NL[0]
    assert await storage.get_bytes(cid) == HELLO_WORLD_NL[0]
    assert await storage.get_bytes(HELLO_WORLD_NL[1]) == HELLO_WORLD_NL[0]  # a CID string works too


@pytest.mark.asyncio
async def test_add_file_and_get_file_stream(tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(MULTI_CHUNK)
    storage = LocalStorage(tmp_path / "store")
    cid = await storage.add_file(source)
    assert cid == cid_of(MULTI_CHUNK)
    dest = tmp_path / "out.bin"
    assert await storage.get_file(cid, dest) == len(MULTI_CHUNK)
    assert dest.read_bytes() == MULTI_CHUNK
    assert not list(tmp_path.glob(".out.bin.*"))  # no staging file left


@pytest.mark.asyncio
async def test_a_corrupted_blob_is_refused_naming_both_cids(tmp_path):
    storage = LocalStorage(tmp_path)
    cid = await storage.add_bytes(MULTI_CHUNK)
    blob = tmp_path / "blobs" / str(cid)
    damaged = bytearray(MULTI_CHUNK)
    damaged[CHUNK_SIZE + 5] ^= 1  # one bit in the second chunk
    blob.write_bytes(damaged)
    with pytest.raises(ContentMismatch) as refused:
        await storage.get_bytes(cid)
    assert str(cid) in str(refused.value) and str(cid_of(bytes(damaged))) in str(refused.value)
    assert refused.value.expected == cid and refused.value.actual == cid_of(bytes(damaged))
    # A file destination that existed keeps its old bytes; no staging file remains.
    dest = tmp_path / "kept.txt"
    dest.write_bytes(b"old")
    with pytest.raises(ContentMismatch):
        await storage.get_file(cid, dest)
    assert dest.read_bytes() == b"old"
    assert not list(tmp_path.glob(".kept.txt.*"))


@pytest.mark.asyncio
async def test_adding_again_repairs_a_corrupted_blob(tmp_path):
    storage = LocalStorage(tmp_path)
    cid = await storage.add_bytes(b"payload")
    (tmp_path / "blobs" / str(cid)).write_bytes(b"garbage")
    assert await storage.add_bytes(b"payload") == cid
    assert await storage.get_bytes(cid) == b"payload"


@pytest.mark.asyncio
async def test_missing_content(tmp_path):
    storage = LocalStorage(tmp_path)
    absent = cid_of(b"never added")
    with pytest.raises(ContentNotFound, match=str(absent)):
        await storage.get_bytes(absent)
    with pytest.raises(ContentNotFound):
        await storage.get_file(absent, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


@pytest.mark.asyncio
async def test_get_bytes_respects_max_size(tmp_path):
    storage = LocalStorage(tmp_path)
    cid = await storage.add_bytes(MULTI_CHUNK)
    with pytest.raises(ContentTooLarge):
        await storage.get_bytes(cid, max_size=CHUNK_SIZE)
    assert await storage.get_bytes(cid, max_size=None) == MULTI_CHUNK


def test_concurrent_adds_of_the_same_content_are_safe(tmp_path):
    store = BlobStore(tmp_path)
    content = deterministic_bytes(3 * CHUNK_SIZE, "concurrent")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.add_bytes(content), range(16)))
    assert {r.cid for r in results} == {cid_of(content)}
    assert store.read(results[0].cid, max_size=None) == content
    assert list(store.tmp.iterdir()) == []
    assert [p.name for p in store.blobs.iterdir()] == [str(cid_of(content))]


def test_an_aborted_write_leaves_nothing(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(ContentTooLarge):
        with store.writer(max_size=10) as writer:
            writer.write(b"0123456789")
            writer.write(b"!")
    assert list(store.tmp.iterdir()) == [] and list(store.blobs.iterdir()) == []


def test_stale_temporary_files_are_cleaned(tmp_path):
    store = BlobStore(tmp_path)
    stale, fresh = store.tmp / "add-stale", store.tmp / "add-fresh"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(stale, (0, 0))
    assert store.clean_tmp(older_than_s=3600) == 1
    assert [p.name for p in store.tmp.iterdir()] == ["add-fresh"]


def test_open_storage_picks_the_backend(tmp_path, monkeypatch):
    monkeypatch.delenv("CROWD_STORAGE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_storage_dir() == tmp_path / "data" / "crowdcompute" / "storage"
    default = open_storage()
    assert isinstance(default, LocalStorage) and default.location == str(tmp_path / "data" / "crowdcompute" / "storage")
    monkeypatch.setenv("CROWD_STORAGE", str(tmp_path / "env"))
    assert open_storage().location == str(tmp_path / "env")
    assert open_storage(tmp_path / "explicit").location == str(tmp_path / "explicit")
    from crowdcompute.client.storage import HttpStorage

    remote = open_storage("http://127.0.0.1:5001/")
    assert isinstance(remote, HttpStorage) and remote.url == "http://127.0.0.1:5001"


def test_open_storage_reads_the_scheme_table(tmp_path, monkeypatch):
    from crowdcompute.client.storage import SCHEMES, UnknownScheme

    assert sorted(SCHEMES) == ["file", "http", "https"]
    local = open_storage(f"file://{tmp_path / 'by url'}".replace(" ", "%20"))
    assert isinstance(local, LocalStorage) and local.location == str(tmp_path / "by url")
    with pytest.raises(UnknownScheme) as refused:
        open_storage("s3://bucket/store")
    assert str(refused.value) == (
        "unknown storage scheme 's3' in 's3://bucket/store': known are http://, https://, file://, or give a folder"
    )
    assert isinstance(refused.value, ValueError)  # as before for callers that catch ValueError
    with pytest.raises(UnknownScheme, match="a folder on this machine"):
        open_storage("file://elsewhere/store")
    monkeypatch.setenv("CROWD_STORAGE", "ipfs://nope")  # the environment goes through the same table
    with pytest.raises(UnknownScheme, match="'ipfs'"):
        open_storage()


def test_cid_equality_is_by_digest():
    assert Cid(bytes(32)) == Cid.parse(str(Cid(bytes(32))))
