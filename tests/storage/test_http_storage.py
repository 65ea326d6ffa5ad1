"""The HTTP backend against the live `crowd storage serve` (and, for what a well-behaved
server cannot show, small real servers that lie or only speak the gateway path)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web

from crowdcompute.client.storage import (ContentMismatch, ContentNotFound, ContentTooLarge, HttpStorage,
                                         StorageError, StorageUnavailable)
from crowdcompute.client.storage import server as storage_server_module
from crowdcompute.client.storage.blobstore import BlobStore
from crowdcompute.client.storage.unixfs import CHUNK_SIZE, cid_of

from .conftest import MAX_UPLOAD
from .vectors import HELLO_WORLD_NL, deterministic_bytes

CONTENT = deterministic_bytes(5 * CHUNK_SIZE + 3, "http")  # six chunks, under the server's limit


@pytest.mark.asyncio
async def test_round_trip_bytes_and_files(storage_server, tmp_path):
    async with HttpStorage(storage_server.url) as storage:
        cid = await storage.add_bytes(HELLO_WORLD_NL[0])
        assert str(cid) == HELLO_WORLD_NL[1]
        assert await storage.get_bytes(cid) == HELLO_WORLD_NL[0]
        source = tmp_path / "big.bin"
        source.write_bytes(CONTENT)
        big = await storage.add_file(source)
        assert big == cid_of(CONTENT)
        assert storage_server.blob(big).read_bytes() == CONTENT  # stored as its bytes, by CID
        dest = tmp_path / "back.bin"
        assert await storage.get_file(big, dest) == len(CONTENT)
        assert dest.read_bytes() == CONTENT


@pytest.mark.asyncio
async def test_empty_file_round_trip(storage_server):
    async with HttpStorage(storage_server.url) as storage:
        cid = await storage.add_bytes(b"")
        assert str(cid) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
        assert await storage.get_bytes(cid) == b""


@pytest.mark.asyncio
async def test_a_corrupted_blob_on_the_server_is_refused(storage_server, tmp_path):
    content = deterministic_bytes(CHUNK_SIZE + 10, "served-corrupt")
    async with HttpStorage(storage_server.url) as storage:
        cid = await storage.add_bytes(content)
        storage_server.blob(cid).write_bytes(content[:-1] + b"\x00")
        with pytest.raises(ContentMismatch) as refused:
            await storage.get_bytes(cid)
        assert str(cid) in str(refused.value) and storage_server.url in str(refused.value)
        with pytest.raises(ContentMismatch):
            await storage.get_file(cid, tmp_path / "out.bin")
        assert list(tmp_path.iterdir()) == []  # nothing written, no staging file left
        await storage.add_bytes(content)  # re-adding repairs it
        assert await storage.get_bytes(cid) == content


@pytest.mark.asyncio
async def test_missing_content_is_not_found(storage_server):
    async with HttpStorage(storage_server.url) as storage:
        with pytest.raises(ContentNotFound, match="could not find"):
            await storage.get_bytes(cid_of(b"nobody added this"))


@pytest.mark.asyncio
async def test_an_upload_over_the_server_limit_is_refused(storage_server):
    async with HttpStorage(storage_server.url) as storage:
        with pytest.raises(ContentTooLarge, match="413"):
            await storage.add_bytes(bytes(MAX_UPLOAD + 1))
        assert await storage.add_bytes(b"still serving") == cid_of(b"still serving")


@pytest.mark.asyncio
async def test_unreachable_storage(unused_tcp_port):
    async with HttpStorage(f"http://127.0.0.1:{unused_tcp_port}", connect_timeout=5) as storage:
        with pytest.raises(StorageUnavailable, match=f"cannot reach storage at http://127.0.0.1:{unused_tcp_port}"):
            await storage.get_bytes(cid_of(b"x"))
        with pytest.raises(StorageUnavailable):
            await storage.add_bytes(b"x")
        with pytest.raises(ConnectionError):  # also a stdlib ConnectionError
            await storage.add_bytes(b"x")


async def _serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.mark.asyncio
async def test_a_server_that_answers_another_cid_for_an_add_is_refused(unused_tcp_port):
    async def lying_add(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text=json.dumps({"Name": "f", "Hash": str(cid_of(b"other")), "Size": "13"}) + "\n",
                            content_type="application/json")

    app = web.Application()
    app.router.add_post("/api/v0/add", lying_add)
    runner = await _serve(app, unused_tcp_port)
    try:
        async with HttpStorage(f"http://127.0.0.1:{unused_tcp_port}") as storage:
            with pytest.raises(ContentMismatch, match=str(cid_of(b"mine"))):
                await storage.add_bytes(b"mine")
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_a_gateway_without_the_rpc_is_read_through_the_gateway_path(unused_tcp_port, tmp_path):
    # Only our server's gateway handler: /api/v0/cat answers 404, as on a plain gateway.
    app = web.Application()
    app[storage_server_module.STORE] = BlobStore(tmp_path)
    app.router.add_get("/ipfs/{cid}", storage_server_module.gateway)
    cid = app[storage_server_module.STORE].add_bytes(CONTENT).cid
    runner = await _serve(app, unused_tcp_port)
    try:
        async with HttpStorage(f"http://127.0.0.1:{unused_tcp_port}") as storage:
            assert await storage.get_bytes(cid) == CONTENT
            with pytest.raises(ContentNotFound):
                await storage.get_bytes(cid_of(b"absent"))
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_a_server_that_is_not_kubo(unused_tcp_port):
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/api/v0/add", html)
    runner = await _serve(app, unused_tcp_port)
    try:
        async with HttpStorage(f"http://127.0.0.1:{unused_tcp_port}") as storage:
            with pytest.raises(StorageError, match="not a kubo RPC answer"):
                await storage.add_bytes(b"x")
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_a_shared_session_is_left_open(storage_server):
    async with aiohttp.ClientSession() as session:
        async with HttpStorage(storage_server.url, session=session) as storage:
            await storage.add_bytes(b"shared")
        assert not session.closed
