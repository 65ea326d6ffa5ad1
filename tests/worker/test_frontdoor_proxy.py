"""The front door's reverse proxy against real aiohttp servers on loopback: routing by Host
and by path, states, streaming both ways, websockets, headers, and requests that try to
choose where the door connects."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from yarl import URL

from crowdcompute.worker.endpoints import HEALTHY, STARTING, STOPPED, UNHEALTHY, EndpointRegistry
from crowdcompute.worker.frontdoor import FrontDoor

PUBLIC = "http://node.test:8080"
NODE = "NodeAddress111"


class NoFeeds:
    """Proxy tests need no job feeds: no job has an owner."""

    def owner(self, job: str) -> str | None:
        return None

    def log_path(self, job: str) -> Path:
        return Path("/nonexistent") / f"{job}.log"

    async def stats(self, job: str) -> dict:
        return {}


class Target:
    """A service as a container would run it: plain HTTP and a websocket."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.release = asyncio.Event()  # the streamed answer's last chunk waits for this
        self.last_sent_at: float | None = None
        self.body_arrivals: list[tuple[float, int]] = []
        self.first_body_chunk = asyncio.Event()
        self.ws_closed_with: int | None = None
        self.silent_saw_close = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.add_routes([
            web.route("*", "/echo{tail:.*}", self.echo),
            web.get("/chunks", self.chunks),
            web.post("/upload", self.upload),
            web.get("/ws", self.ws),
            web.get("/big", self.big),
            web.get("/silent", self.silent),
        ])
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        response = web.json_response({
            "server": self.name, "method": request.method, "path": request.raw_path,
            "headers": [[k, v] for k, v in request.headers.items()], "body": body.decode(),
        })
        response.headers["X-Custom"] = "kept"
        response.headers["Proxy-Authenticate"] = "Basic realm=hop"
        return response

    async def chunks(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        try:
            await asyncio.wait_for(self.release.wait(), 5)
        except asyncio.TimeoutError:
            pass
        await response.write(b"data: middle\n\n")
        await asyncio.sleep(0.05)
        self.last_sent_at = time.monotonic()
        await response.write(b"data: last\n\n")
        await response.write_eof()
        return response

    async def upload(self, request: web.Request) -> web.Response:
        total = 0
        async for chunk in request.content.iter_any():
            total += len(chunk)
            self.body_arrivals.append((time.monotonic(), total))
            self.first_body_chunk.set()
        return web.json_response({"received": total})

    async def silent(self, request: web.Request) -> web.StreamResponse:
        """One chunk, then nothing (a model thinking): notices when its reader goes away."""
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"thinking...\n")
        for _ in range(200):
            if request.transport is None or request.transport.is_closing():
                self.silent_saw_close.set()
                break
            await asyncio.sleep(0.05)
        return response

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (3 << 20))

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat.v1",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                if msg.data.startswith("close-"):
                    await ws.close(code=int(msg.data[6:]), message=b"bye from target")
                    break
                await ws.send_str(f"{self.name}:{msg.data}")
            elif msg.type == aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
        self.ws_closed_with = ws.close_code
        return ws


@pytest_asyncio.fixture
async def target():
    t = Target("target")
    await t.start()
    yield t
    await t.stop()


@pytest_asyncio.fixture
async def other():
    """A server the registry does not point at: requests must never reach it."""
    t = Target("other")
    await t.start()
    yield t
    await t.stop()


@pytest_asyncio.fixture
async def door():
    registry = EndpointRegistry()
    d = FrontDoor(registry, NoFeeds(), node=NODE, public_url=PUBLIC, info=lambda: {"gpus": 0})
    await d.start()
    yield d
    await d.close()


@pytest_asyncio.fixture
async def http():
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


def open_endpoint(door: FrontDoor, target: Target, *, state: str = HEALTHY, job: str = "JobA", port: int = 8000):
    ep = door.registry.open(job, "svc", port)
    door.registry.set_target(ep.id, "127.0.0.1", target.port)
    door.registry.set_state(ep.id, state, "test")
    return ep.id


def host_of(endpoint: str) -> dict[str, str]:
    return {"Host": f"{endpoint}.node.test:8080"}


@pytest.mark.asyncio
async def test_routes_by_host_and_by_path(door, target, http):
    ep = open_endpoint(door, target)
    # (encoded=True: sent byte for byte, as a browser may; the door must not requote it either)
    async with http.get(URL(f"{door.url}/echo/a%2Fb?x=1&y=%2F", encoded=True), headers=host_of(ep)) as r:
        assert r.status == 200
        body = await r.json()
    assert body["server"] == "target" and body["path"] == "/echo/a%2Fb?x=1&y=%2F"
    async with http.get(f"{door.url}/e/{ep}/echo/b?q=2") as r:
        body = await r.json()
    assert body["path"] == "/echo/b?q=2"  # the prefix stripped, the query kept
    # the same path on the node's own name is the API's, not the service's
    async with http.get(f"{door.url}/echo/a", headers={"Host": "node.test:8080"}) as r:
        assert r.status == 404 and r.headers["Content-Type"].startswith("text/plain")
    # /api/ under an endpoint's host name is the service's
    async with http.get(f"{door.url}/echo/api/info", headers=host_of(ep)) as r:
        assert (await r.json())["path"] == "/echo/api/info"
    async with http.get(f"{door.url}/api/info", headers={"Host": "node.test"}) as r:
        assert (await r.json())["node"] == NODE


@pytest.mark.asyncio
async def test_path_form_without_slash_redirects(door, target, http):
    ep = open_endpoint(door, target)
    async with http.get(f"{door.url}/e/{ep}?a=1", allow_redirects=False) as r:
        assert r.status == 308 and r.headers["Location"] == f"/e/{ep}/?a=1"


@pytest.mark.asyncio
async def test_states_unknown_and_unready(door, target, http):
    async with http.get(f"{door.url}/x", headers=host_of("a" * 24)) as r:
        assert r.status == 404 and "no endpoint" in (await r.json())["error"]
    async with http.get(f"{door.url}/e/{'b' * 24}/x") as r:
        assert r.status == 404
    pending = door.registry.open("JobA", "svc", 9000)  # no target yet
    async with http.get(f"{door.url}/x", headers=host_of(pending.id)) as r:
        assert r.status == 503 and (await r.json())["state"] == STARTING
    ep = open_endpoint(door, target, state=STARTING)
    async with http.get(f"{door.url}/echo", headers=host_of(ep)) as r:
        assert r.status == 200  # a service coming up is reachable
    door.registry.set_state(ep, UNHEALTHY, "GET / -> 500")
    async with http.get(f"{door.url}/echo", headers=host_of(ep)) as r:
        assert r.status == 200
    door.registry.set_state(ep, STOPPED)
    async with http.get(f"{door.url}/echo", headers=host_of(ep)) as r:
        assert r.status == 503 and (await r.json())["state"] == STOPPED


@pytest.mark.asyncio
async def test_target_down_is_502(door, target, http):
    ep = open_endpoint(door, target)
    await target.stop()
    async with http.get(f"{door.url}/echo", headers=host_of(ep)) as r:
        assert r.status == 502 and "cannot be reached" in (await r.json())["error"]


@pytest.mark.asyncio
async def test_streamed_answer_passes_chunks_as_they_come(door, target, http):
    ep = open_endpoint(door, target)
    async with http.get(f"{door.url}/chunks", headers=host_of(ep)) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "text/event-stream"
        first = await asyncio.wait_for(r.content.readany(), 3)
        # the target holds its last chunk until we have the first one: a door that
        # buffered the answer would still be waiting here
        assert first.startswith(b"data: first") and target.last_sent_at is None
        target.release.set()
        rest = await r.read()
    assert (first + rest) == b"data: first\n\ndata: middle\n\ndata: last\n\n"


@pytest.mark.asyncio
async def test_a_client_that_leaves_a_silent_stream_frees_the_target(door, target, http):
    ep = open_endpoint(door, target)
    r = await http.get(f"{door.url}/silent", headers=host_of(ep))
    assert await asyncio.wait_for(r.content.readany(), 3) == b"thinking...\n"
    r.close()  # the poster gives up while the service sends nothing
    await asyncio.wait_for(target.silent_saw_close.wait(), 3)  # the door dropped its connection too


@pytest.mark.asyncio
async def test_request_body_streams_to_the_target(door, target, http):
    ep = open_endpoint(door, target)

    async def body():
        yield b"a" * 1000
        # the target has the first part before the second exists: nothing buffered it
        await asyncio.wait_for(target.first_body_chunk.wait(), 3)
        yield b"b" * 2000

    async with http.post(f"{door.url}/upload", headers=host_of(ep), data=body()) as r:
        assert r.status == 200 and (await r.json())["received"] == 3000
    assert target.body_arrivals[0][1] < 3000


@pytest.mark.asyncio
async def test_large_answer_keeps_its_length(door, target, http):
    ep = open_endpoint(door, target)
    async with http.get(f"{door.url}/big", headers=host_of(ep)) as r:
        assert r.headers["Content-Length"] == str(3 << 20)
        assert len(await r.read()) == 3 << 20


@pytest.mark.asyncio
async def test_headers_hop_by_hop_dropped_forwarded_set(door, target, http):
    ep = open_endpoint(door, target)
    headers = {**host_of(ep), "Connection": "keep-alive, X-Hop-Secret", "X-Hop-Secret": "1",
               "Proxy-Authorization": "Basic eA==", "X-Forwarded-For": "203.0.113.9",
               "Authorization": "Bearer for-the-service", "Cookie": "s=1"}
    async with http.post(f"{door.url}/echo", headers=headers, data=b"hello") as r:
        assert r.headers["X-Custom"] == "kept"
        assert "Proxy-Authenticate" not in r.headers
        seen = {k.lower(): v for k, v in (await r.json())["headers"]}
        body = (await r.json())["body"]
    assert body == "hello"
    assert "x-hop-secret" not in seen and "proxy-authorization" not in seen
    assert seen["authorization"] == "Bearer for-the-service" and seen["cookie"] == "s=1"
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == seen["host"] == f"{ep}.node.test:8080"


async def raw_request(door: FrontDoor, request: bytes) -> bytes:
    host, port = door.url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(1 << 16), 5)
    writer.close()
    return data


@pytest.mark.asyncio
async def test_absolute_form_target_cannot_choose_the_destination(door, target, other):
    ep = open_endpoint(door, target)
    answer = await raw_request(door, (
        f"GET http://127.0.0.1:{other.port}/echo/stolen HTTP/1.1\r\nHost: {ep}.node.test\r\n"
        "Connection: close\r\n\r\n").encode())
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["server"] == "target" and body["path"] == "/echo/stolen"


@pytest.mark.asyncio
async def test_host_naming_another_server_reaches_only_the_api(door, target, other, http):
    open_endpoint(door, target)
    for host in (f"127.0.0.1:{other.port}", f"evil.test:{other.port}", "a.b.node.test"):
        async with http.get(f"{door.url}/echo/x", headers={"Host": host}) as r:
            assert r.status == 404  # the node API has no /echo: nothing was proxied
    async with http.get(f"{door.url}/e/{'x' * 24}/../../echo") as r:
        assert r.status == 404


@pytest.mark.asyncio
async def test_websocket_both_ways(door, target, http):
    ep = open_endpoint(door, target)
    async with http.ws_connect(f"{door.url}/ws", headers=host_of(ep), protocols=("chat.v1",)) as ws:
        assert ws.protocol == "chat.v1"
        await ws.send_str("hello")
        assert (await ws.receive(timeout=3)).data == "target:hello"
        await ws.send_bytes(b"\x00\x01\x02")
        msg = await ws.receive(timeout=3)
        assert msg.type == aiohttp.WSMsgType.BINARY and msg.data == b"\x02\x01\x00"
        await ws.send_str("close-4001")  # the target closes with its code: passed on
        await asyncio.sleep(0.3)  # a slow client still gets to answer the close (no 1006)
        msg = await ws.receive(timeout=3)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4001 and msg.extra == "bye from target"
        assert ws.close_code == 4001 and ws.exception() is None


@pytest.mark.asyncio
async def test_websocket_client_close_code_reaches_the_target(door, target, http):
    ep = open_endpoint(door, target)
    ws = await http.ws_connect(f"{door.url}/e/{ep}/ws")
    await ws.send_str("ping")
    assert (await ws.receive(timeout=3)).data == "target:ping"
    await ws.close(code=4002, message=b"client done")
    for _ in range(50):
        if target.ws_closed_with is not None:
            break
        await asyncio.sleep(0.05)
    assert target.ws_closed_with == 4002


@pytest.mark.asyncio
async def test_websocket_to_a_stopped_endpoint_is_refused(door, target, http):
    ep = open_endpoint(door, target, state=STOPPED)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(f"{door.url}/ws", headers=host_of(ep))
    assert err.value.status == 503


@pytest.mark.asyncio
async def test_ip_public_url_has_no_host_names(target, http):
    registry = EndpointRegistry()
    async with FrontDoor(registry, NoFeeds(), node=NODE, public_url="http://203.0.113.7:9000", info=dict) as d:
        ep = registry.open("JobB", "svc", 80)
        registry.set_target(ep.id, "127.0.0.1", target.port)
        async with http.get(f"{d.url}/echo", headers={"Host": f"{ep.id}.203.0.113.7"}) as r:
            assert r.status == 404  # no wildcard DNS under an IP: only the path form
        async with http.get(f"{d.url}/e/{ep.id}/echo") as r:
            assert r.status == 200


@pytest.mark.asyncio
async def test_closing_the_door_closes_proxied_websockets_with_1001(target, http):
    registry = EndpointRegistry()
    d = FrontDoor(registry, NoFeeds(), node=NODE, public_url=PUBLIC, info=dict)
    await d.start()
    ep = registry.open("JobC", "svc", 80)
    registry.set_target(ep.id, "127.0.0.1", target.port)
    ws = await http.ws_connect(f"{d.url}/e/{ep.id}/ws")
    await ws.send_str("hi")
    assert (await ws.receive(timeout=3)).data == "target:hi"
    closing = asyncio.create_task(d.close())
    msg = await ws.receive(timeout=3)
    assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1001
    await asyncio.wait_for(closing, 4)  # the client answered the close: no waiting out a timeout
    for _ in range(50):
        if target.ws_closed_with is not None:
            break
        await asyncio.sleep(0.05)
    assert target.ws_closed_with == 1001  # the service is told too
    await ws.close()
