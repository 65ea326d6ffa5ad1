"""The reverse proxy to a service's container: HTTP (streamed both ways) and websockets.

Streaming: the request body goes to the target as the client sends it, and the answer's
chunks go to the client as the target sends them (`iter_any`), never gathered: a token
stream from an LLM reaches the poster token by token, and a large download costs one chunk
of memory. Bodies are passed raw (no decompression), so Content-Length and
Content-Encoding stay true.

Where it connects: only `target`, the (address, port) the executor put in the registry.
The request's path and query are appended to it as a relative reference; its Host header,
its absolute-form request target ("GET http://elsewhere/ HTTP/1.1") and anything else it
names are never used to choose a destination.

Headers: hop-by-hop ones (RFC 9110 7.6.1, and those the Connection header lists) are
dropped both ways; Host is passed as the client sent it (the app sees the name it is
reached by, as Caddy does); X-Forwarded-For gets the client's address appended,
X-Forwarded-Proto is the public URL's scheme, X-Forwarded-Host the Host the client sent.

Timeouts: connecting 5 s (a pool wait included, 10 s); none on reading, since a model may
think for minutes before its first token and a stream may last the job's life.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Iterable

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

log = logging.getLogger(__name__)

__all__ = ["Proxy", "HOP_BY_HOP"]

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
})
# the websocket handshake's own headers: each side's library makes its own
WS_HANDSHAKE = frozenset({
    "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
    "sec-websocket-protocol",
})
CONNECT_S = 5.0
POOL_WAIT_S = 10.0
WS_CLOSE_S = 5.0  # how long a closing side waits for the other's answering close frame
MAX_WS_MESSAGE = 16 << 20  # a websocket message is held whole: bounded per message
# close codes a peer may not send (RFC 6455 7.4.1): what is sent on instead
UNSENDABLE_CLOSE = {1005: 1000, 1006: 1011, 1015: 1011}


def _hop_by_hop(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> set[str]:
    listed = {h.strip().lower() for v in headers.getall("Connection", ()) for h in v.split(",")}
    return HOP_BY_HOP | listed


def _copy(headers: CIMultiDictProxy[str] | CIMultiDict[str], drop: Iterable[str] = ()) -> CIMultiDict[str]:
    skip = _hop_by_hop(headers) | set(drop)
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in skip)


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket" and "upgrade" in request.headers.get(
        "Connection", "").lower()


class Proxy:
    """One pooled client session for all endpoints of the node."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self._session: aiohttp.ClientSession | None = None
        self.stopping = asyncio.Event()  # set when the door closes: open websockets end with 1001

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1024, limit_per_host=256, force_close=False, ttl_dns_cache=None),
            timeout=aiohttp.ClientTimeout(total=None, connect=POOL_WAIT_S, sock_connect=CONNECT_S, sock_read=None),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # the client's cookies pass as headers; the door keeps none
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
        )

    async def close(self) -> None:
        self.stopping.set()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _target_url(self, target: tuple[str, int], path: str, query: str, *, ws: bool = False) -> URL:
        host, port = target
        return URL.build(scheme="ws" if ws else "http", host=host, port=port, path=path or "/",
                         query_string=query, encoded=True)

    def _forwarded(self, request: web.Request, headers: CIMultiDict[str]) -> None:
        peer = request.remote or ""
        prior = request.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
        headers["X-Forwarded-Proto"] = self.scheme
        if request.headers.get("Host"):
            headers["X-Forwarded-Host"] = request.headers["Host"]

    async def handle(self, request: web.Request, target: tuple[str, int], path: str) -> web.StreamResponse:
        """Forward `request` (its path replaced by `path`, which starts with "/") to `target`."""
        query = request.rel_url.raw_query_string
        if is_websocket(request):
            return await self._websocket(request, target, path, query)
        return await self._http(request, target, path, query)

    async def _http(self, request: web.Request, target: tuple[str, int], path: str, query: str) -> web.StreamResponse:
        assert self._session is not None, "Proxy.start() first"
        headers = _copy(request.headers, drop=("expect",))  # this server already answered any 100-continue
        self._forwarded(request, headers)
        body = request.content.iter_any() if request.body_exists else None
        try:
            upstream = await self._session.request(
                request.method, self._target_url(target, path, query), headers=headers, data=body,
                allow_redirects=False, compress=None, chunked=None,
            )
        except asyncio.TimeoutError:
            return _error(504, f"the service at port {target[1]} did not accept a connection within {CONNECT_S:g} s")
        except (aiohttp.ClientError, OSError) as exc:
            return _error(502, f"the service at port {target[1]} cannot be reached: {_short(exc)}")
        try:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in _copy(upstream.headers, drop=("content-length",)).items():
                response.headers.add(name, value)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length  # raw bytes: still true
            await response.prepare(request)
            while True:
                try:
                    chunk = await upstream.content.readany()
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    # the target broke mid-answer: the status is sent, so the only signal
                    # left is a connection that ends before the body does
                    log.info("proxy to port %d broke mid-answer: %s", target[1], _short(exc))
                    if request.transport is not None:
                        request.transport.close()
                    return response
                if not chunk:
                    break
                await response.write(chunk)  # the client gone: raises, and the finally drops the target's answer
            await response.write_eof()
            return response
        finally:
            upstream.release()  # returns a finished connection to the pool, closes an unfinished one

    async def _websocket(self, request: web.Request, target: tuple[str, int], path: str, query: str) -> web.StreamResponse:
        assert self._session is not None, "Proxy.start() first"
        protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        headers = _copy(request.headers, drop=WS_HANDSHAKE)
        self._forwarded(request, headers)
        try:
            upstream = await self._session.ws_connect(
                self._target_url(target, path, query, ws=True), headers=headers, protocols=protocols,
                autoping=True, max_msg_size=MAX_WS_MESSAGE, autoclose=False,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=WS_CLOSE_S),
            )
        except aiohttp.WSServerHandshakeError as exc:
            return _error(502, f"the service at port {target[1]} refused the websocket: {exc.status} {_short(exc.message)}")
        except asyncio.TimeoutError:
            return _error(504, f"the service at port {target[1]} did not accept a connection within {CONNECT_S:g} s")
        except (aiohttp.ClientError, OSError) as exc:
            return _error(502, f"the service at port {target[1]} cannot be reached: {_short(exc)}")
        client = web.WebSocketResponse(protocols=(upstream.protocol,) if upstream.protocol else (),
                                       autoping=True, max_msg_size=MAX_WS_MESSAGE, autoclose=False, timeout=WS_CLOSE_S)
        try:
            await client.prepare(request)
        except Exception:
            await upstream.close()
            raise
        try:
            await _pump_both(client, upstream, self.stopping)
        finally:
            if not upstream.closed:
                await upstream.close()
            if not client.closed:
                await client.close()
        return client


async def _forward(source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
                   sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> tuple[int, str]:
    """Messages from `source` to `sink` until `source` closes; returns its close code and reason."""
    while True:
        msg = await source.receive()
        if msg.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(msg.data)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(msg.data)
        elif msg.type == aiohttp.WSMsgType.CLOSE:
            return (int(msg.data) if msg.data else 1000), (msg.extra or "")
        elif msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return source.close_code or 1006, ""  # gone without a close frame of its own


async def _pump_both(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse,
                     stopping: asyncio.Event) -> None:
    """Both directions until one side closes; then its close (code and reason) is passed to
    the other side; or, when `stopping` is set, both are closed with 1001. The readers are
    stopped first: aiohttp's close() with a receive() pending in another task drops the
    connection without waiting for the peer's answering close frame."""
    to_upstream = asyncio.create_task(_forward(client, upstream))
    to_client = asyncio.create_task(_forward(upstream, client))
    stop = asyncio.create_task(stopping.wait())
    try:
        done, _ = await asyncio.wait((to_upstream, to_client, stop), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (to_upstream, to_client, stop):
            task.cancel()
        await asyncio.gather(to_upstream, to_client, stop, return_exceptions=True)
    if stop in done:
        await asyncio.gather(client.close(code=1001, message=b"node shutting down"),
                             upstream.close(code=1001, message=b"node shutting down"), return_exceptions=True)
        return
    first = to_upstream if to_upstream in done else to_client
    source, sink = (client, upstream) if first is to_upstream else (upstream, client)
    if first.cancelled() or first.exception() is not None:
        code, reason = 1011, ""  # a send failed: the sink is gone
    else:
        code, reason = first.result()
    code = UNSENDABLE_CLOSE.get(code, code)
    message = reason.encode()[:123]  # a close frame's reason fits in 123 bytes
    await asyncio.gather(source.close(code=code, message=message), sink.close(code=code, message=message),
                         return_exceptions=True)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."
