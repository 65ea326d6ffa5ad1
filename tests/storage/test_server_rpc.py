"""What `crowd storage serve` answers on the wire, checked with a plain HTTP client against
the shapes kubo's RPC uses (core/commands/add.go's AddEvent, go-ipfs-cmds' errors)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from crowdcompute.client.storage.unixfs import CHUNK_SIZE, cid_of, import_bytes

from .conftest import MAX_UPLOAD
from .vectors import HELLO_WORLD_NL, deterministic_bytes

HELLO, HELLO_CID = HELLO_WORLD_NL


def _form(*files: tuple[str, bytes]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, data in files:
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def _post(url: str, path: str, **kwargs):
    async with aiohttp.ClientSession() as session:
        async with session.post(url + path, **kwargs) as response:
            return response.status, response.headers.copy(), await response.read()


@pytest.mark.asyncio
async def test_add_answers_as_kubo(storage_server):
    status, headers, body = await _post(storage_server.url, "/api/v0/add",
                                        params={"cid-version": "0", "pin": "true", "quiet": "true"},
                                        data=_form(("hello.txt", HELLO)))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    # kubo: {"Name":"hello.txt","Hash":"QmT78z...","Size":"20"}; Size is the DAG's bytes, a string.
    assert json.loads(body) == {"Name": "hello.txt", "Hash": HELLO_CID, "Size": "20"}


@pytest.mark.asyncio
async def test_add_of_several_files_answers_a_line_each(storage_server):
    big = deterministic_bytes(CHUNK_SIZE + 1, "rpc-two")
    status, _, body = await _post(storage_server.url, "/api/v0/add", data=_form(("a", HELLO), ("b", big)))
    assert status == 200
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert lines == [{"Name": "a", "Hash": HELLO_CID, "Size": "20"},
                     {"Name": "b", "Hash": str(cid_of(big)), "Size": str(import_bytes(big).dag_size)}]
    assert import_bytes(big).dag_size > len(big)  # two leaves and a root


@pytest.mark.asyncio
async def test_add_silent_answers_nothing(storage_server):
    status, _, body = await _post(storage_server.url, "/api/v0/add", params={"silent": "true"}, data=_form(("a", b"s")))
    assert (status, body) == (200, b"")
    assert storage_server.blob(cid_of(b"s")).read_bytes() == b"s"


@pytest.mark.asyncio
@pytest.mark.parametrize("option, value", [("cid-version", "1"), ("raw-leaves", "true"), ("chunker", "size-1024"),
                                           ("hash", "blake3"), ("trickle", "true")])
async def test_add_refuses_options_that_change_the_cid(storage_server, option, value):
    status, _, body = await _post(storage_server.url, "/api/v0/add", params={option: value}, data=_form(("a", HELLO)))
    error = json.loads(body)
    assert status == 400 and error["Type"] == "error" and error["Code"] == 1
    assert f"{option}={value}" in error["Message"]


@pytest.mark.asyncio
async def test_add_accepts_kubos_default_values_spelled_out(storage_server):
    params = {"cid-version": "0", "raw-leaves": "false", "chunker": "size-262144", "hash": "sha2-256",
              "pin": "false", "progress": "false", "quieter": "1"}
    status, _, body = await _post(storage_server.url, "/api/v0/add", params=params, data=_form(("a", HELLO)))
    assert status == 200 and json.loads(body)["Hash"] == HELLO_CID


@pytest.mark.asyncio
async def test_add_bad_bool_and_no_file(storage_server):
    status, _, body = await _post(storage_server.url, "/api/v0/add", params={"pin": "maybe"}, data=_form(("a", HELLO)))
    assert status == 400 and "bool" in json.loads(body)["Message"]
    status, _, body = await _post(storage_server.url, "/api/v0/add")
    assert status == 400 and json.loads(body) == {"Message": 'argument "path" is required', "Code": 1, "Type": "error"}


@pytest.mark.asyncio
async def test_a_malformed_multipart_body_is_a_client_error(storage_server):
    truncated = b'--zz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'  # no closing boundary
    status, _, body = await _post(storage_server.url, "/api/v0/add", data=truncated,
                                  headers={"Content-Type": "multipart/form-data; boundary=zz"})
    error = json.loads(body)
    assert status == 400 and error["Code"] == 1 and error["Message"].startswith("malformed multipart body")


@pytest.mark.asyncio
async def test_add_over_the_limit_is_413_streamed_or_declared(storage_server):
    just_over = bytes(MAX_UPLOAD + 1)  # within the multipart slack: refused while streaming
    status, _, body = await _post(storage_server.url, "/api/v0/add", data=_form(("a", just_over)))
    assert status == 413 and json.loads(body)["Type"] == "error"
    far_over = bytes(MAX_UPLOAD + (1 << 20))  # refused on its Content-Length alone
    status, _, body = await _post(storage_server.url, "/api/v0/add", data=_form(("a", far_over)))
    assert status == 413 and str(MAX_UPLOAD) in json.loads(body)["Message"]
    assert not storage_server.blob(cid_of(just_over)).exists()
    assert list((storage_server.folder / "tmp").iterdir()) == []


@pytest.mark.asyncio
async def test_cat_streams_the_bytes(storage_server):
    await _post(storage_server.url, "/api/v0/add", data=_form(("hello.txt", HELLO)))
    for arg in (HELLO_CID, f"/ipfs/{HELLO_CID}"):
        status, headers, body = await _post(storage_server.url, "/api/v0/cat", params={"arg": arg})
        assert (status, body) == (200, HELLO)
        assert headers["X-Stream-Output"] == "1" and headers["Content-Type"].startswith("text/plain")


@pytest.mark.asyncio
async def test_cat_errors_as_kubo(storage_server):
    absent = str(cid_of(b"absent"))
    status, _, body = await _post(storage_server.url, "/api/v0/cat", params={"arg": absent})
    assert status == 500
    assert json.loads(body) == {"Message": f"block was not found locally (offline): ipld: could not find {absent}",
                                "Code": 0, "Type": "error"}
    status, _, body = await _post(storage_server.url, "/api/v0/cat", params={"arg": "not-a-cid"})
    assert status == 500 and json.loads(body)["Message"].startswith("invalid path 'not-a-cid'")
    status, _, body = await _post(storage_server.url, "/api/v0/cat")
    assert status == 400 and json.loads(body)["Message"] == 'argument "ipfs-path" is required'


@pytest.mark.asyncio
async def test_rpc_is_post_only_and_unknown_commands_are_404(storage_server):
    async with aiohttp.ClientSession() as session:
        async with session.get(storage_server.url + "/api/v0/cat", params={"arg": HELLO_CID}) as response:
            assert response.status == 405
        async with session.post(storage_server.url + "/api/v0/pin/ls") as response:
            assert response.status == 404
        async with session.post(storage_server.url + "/api/v0/version") as response:
            assert response.status == 200 and (await response.json())["Version"].startswith("crowdcompute-")


@pytest.mark.asyncio
async def test_gateway_path(storage_server):
    content = deterministic_bytes(CHUNK_SIZE * 2, "gateway")
    await _post(storage_server.url, "/api/v0/add", data=_form(("g", content)))
    cid = str(cid_of(content))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{storage_server.url}/ipfs/{cid}") as response:
            assert response.status == 200 and await response.read() == content
            assert response.headers["X-Ipfs-Path"] == f"/ipfs/{cid}"
        async with session.get(f"{storage_server.url}/ipfs/{cid}", headers={"Range": "bytes=10-19"}) as response:
            assert response.status == 206 and await response.read() == content[10:20]
        async with session.head(f"{storage_server.url}/ipfs/{cid}") as response:
            assert response.status == 200 and int(response.headers["Content-Length"]) == len(content)
        async with session.get(f"{storage_server.url}/ipfs/{cid_of(b'absent')}") as response:
            assert response.status == 404
        async with session.get(f"{storage_server.url}/ipfs/nope") as response:
            assert response.status == 400 and "invalid CID" in await response.text()
