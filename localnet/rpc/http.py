"""A small HTTP/1.1 server on asyncio streams, for the JSON-RPC endpoint.

Why not aiohttp: measured with scripts/bench_localnet.py on the reference 2-core machine,
aiohttp's low-level server (`aiohttp.web.Server`, no router) served about 3,000 transfers/s
where this server serves about 3,900 (server CPU 0.40 vs 0.31 ms a transaction): its
Request/Response objects cost more than the whole JSON-RPC layer. JSON-RPC needs only POST
with a body, which this file serves in about 25 us a request.

What it does: keep-alive (HTTP/1.1 default, HTTP/1.0 with `Connection: keep-alive`),
pipelined requests answered in order, `Expect: 100-continue`, and CORS pre-flight (OPTIONS)
so browser dApps can call it. A POST body is framed by Content-Length or by
`Transfer-Encoding: chunked` (RFC 9112 section 7.1: hex chunk sizes, chunk extensions
ignored, trailer fields read and dropped). When a request carries both, chunked wins, as
RFC 9112 section 6.3 says, and the connection is closed after the answer (such a request
may be a smuggling attempt, so nothing after it on that connection is trusted).
What it refuses, with a status and a JSON-RPC error body where it makes sense: a request
head (line and headers) over 16 KiB or over 100 headers (431), bodies over the limit, decoded
size for chunked ones (413), a POST with neither Content-Length nor chunked (411), a bad
Content-Length, a chunk-size line over 1 KiB or not hex, chunk data not followed by CRLF,
trailers over 16 KiB, Transfer-Encoding in an HTTP/1.0 request or not ending in chunked
(400), other transfer codings such as `gzip, chunked` (501), other methods (405). Every
error but 405 on GET closes the connection. A connection whose next request head does not
arrive within IDLE_TIMEOUT is closed, and one whose whole body (every chunk, for chunked)
does not arrive within READ_TIMEOUT, or that does not read its answer within READ_TIMEOUT,
is dropped, so a slow client cannot hold a handler or its answer's memory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

__all__ = ["serve_http"]

log = logging.getLogger("crowdcompute.localnet.rpc.http")

MAX_HEAD = 16 * 1024  # request line and headers
MAX_HEADERS = 100
IDLE_TIMEOUT = 60.0
READ_TIMEOUT = 30.0
MAX_DISCARD = 16 * 1024 * 1024  # an oversized body up to this is read and dropped (see 413)
MAX_CHUNK_LINE = 1024  # a chunk-size line, extensions included; real clients send a few bytes
_HEX = b"0123456789abcdefABCDEF"

Handler = Callable[[bytes], Awaitable[tuple[int, bytes]]]

_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
            413: "Payload Too Large", 431: "Request Header Fields Too Large", 501: "Not Implemented"}
_CORS = b"Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\nAccess-Control-Allow-Headers: content-type, solana-client\r\n"


def _response(status: int, body: bytes, *, keep_alive: bool, content_type: bytes = b"application/json") -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s" % (status, _REASONS.get(status, "Error").encode(), content_type, len(body), _CORS)
    head += b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
    return head + body


class _BadChunk(Exception):
    """Malformed chunked framing (answered 400)."""


class _TooLarge(Exception):
    """A chunked body past even MAX_DISCARD: nothing more is read."""


async def _line(reader: asyncio.StreamReader, limit: int) -> bytes:
    """One CRLF-terminated line, without the CRLF, of at most `limit` bytes."""
    try:
        line = await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError:  # past the stream limit (MAX_HEAD), so past `limit` too
        raise _BadChunk("line too long") from None
    if len(line) - 2 > limit:
        raise _BadChunk("line too long")
    return line[:-2]


def _chunk_size(line: bytes) -> int:
    size = line.partition(b";")[0].strip(b" \t")  # extensions are ignored; BWS before ';'
    # Only hex digits: int(x, 16) alone would also take "0x5", "+5" and "5_0".
    if not size or size.lstrip(_HEX):
        raise _BadChunk("bad chunk size")
    return int(size, 16)


async def _read_chunked(reader: asyncio.StreamReader, max_body: int, too_large: Callable[[], Awaitable[None]]) -> bytes | None:
    """Decodes a chunked body. Returns it, or None when it was over `max_body`: then
    `too_large()` was awaited as soon as that was known (it answers 413), and the rest of the
    body was read and dropped, up to MAX_DISCARD bytes, so that the client, still sending,
    reads the 413 instead of a reset. The caller bounds the whole read with one timeout."""
    parts: list[bytes] = []
    total, limit, over = 0, max_body, False
    while True:
        size = _chunk_size(await _line(reader, MAX_CHUNK_LINE))
        if size == 0:
            break
        total += size
        if total > limit:  # checked before the data is read: a size line alone cannot make us buffer
            if over:
                raise _TooLarge
            over, limit = True, MAX_DISCARD
            parts.clear()
            await too_large()
            if total > limit:
                raise _TooLarge
        if over:
            left = size
            while left > 0:
                data = await reader.read(min(left, 1 << 16))
                if not data:
                    raise asyncio.IncompleteReadError(b"", left)
                left -= len(data)
        else:
            parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise _BadChunk("chunk data not followed by CRLF")
    # The trailer section: field lines up to an empty line, bounded like a request head.
    trailer = 0
    while line := await _line(reader, MAX_HEAD):
        trailer += len(line) + 2
        if trailer > MAX_HEAD:
            raise _BadChunk("trailer section too large")
    return None if over else b"".join(parts)


class HttpServer:
    """The listening server and its open connections."""

    def __init__(self) -> None:
        self.server: asyncio.AbstractServer | None = None
        self.connections: set[asyncio.Task] = set()
        # connection -> loop time by which its request head (or body) must have arrived
        self.deadlines: dict[asyncio.Task, float] = {}
        self.watchdog: asyncio.Task | None = None

    async def watch(self, period: float = 1.0) -> None:
        """Cancels every connection past its deadline (checked each `period` seconds)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for task, deadline in list(self.deadlines.items()):
                if deadline < now:
                    del self.deadlines[task]
                    task.cancel()

    async def close(self) -> None:
        """Stops listening, then ends every open connection (idle keep-alives included)."""
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.server is not None:
            self.server.close()
        for task in list(self.connections):
            task.cancel()
        if self.connections:
            await asyncio.wait(list(self.connections), timeout=5)


async def serve_http(handler: Handler, host: str, port: int, *, max_body: int, error_body: Callable[[str], bytes]) -> HttpServer:
    """Serves POST bodies to `handler(body) -> (status, json bytes)` on host:port."""
    http = HttpServer()

    async def chunked_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str], version: str) -> bytes | None:
        """The body of a request with Transfer-Encoding, or None once it was refused."""
        codings = [c.strip().lower() for c in headers["transfer-encoding"].split(",")]
        if version != "HTTP/1.1" or codings[-1] != "chunked":
            # RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding, or a request
            # whose last coding is not chunked, has no knowable framing.
            writer.write(_response(400, error_body("bad Transfer-Encoding"), keep_alive=False))
            return None
        if codings != ["chunked"]:
            writer.write(_response(501, error_body("only the chunked transfer coding is supported"), keep_alive=False))
            return None
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        answered = False

        async def too_large() -> None:
            nonlocal answered
            answered = True
            writer.write(_response(413, error_body(f"request body larger than {max_body} bytes"), keep_alive=False))
            await writer.drain()

        try:
            async with asyncio.timeout(READ_TIMEOUT):
                return await _read_chunked(reader, max_body, too_large)
        except _BadChunk as exc:
            if not answered:
                writer.write(_response(400, error_body(f"bad chunked body: {exc}"), keep_alive=False))
            return None
        except (_TooLarge, TimeoutError, asyncio.IncompleteReadError):
            return None

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        http.connections.add(task)
        deadlines = http.deadlines
        try:
            while True:
                # Deadlines, not timers: a timer per request cost more than parsing it. The
                # watchdog (HttpServer.watch) cancels a connection past its deadline.
                deadlines[task] = loop.time() + IDLE_TIMEOUT
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed (between requests, or mid-head)
                except asyncio.LimitOverrunError:
                    writer.write(_response(431, error_body("request head too large"), keep_alive=False))
                    return
                lines = head[:-4].decode("latin-1").split("\r\n")
                parts = lines[0].split()
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    writer.write(_response(400, error_body("bad request line"), keep_alive=False))
                    return
                if len(lines) - 1 > MAX_HEADERS:
                    writer.write(_response(431, error_body("too many headers"), keep_alive=False))
                    return
                verb, path, version = parts
                headers: dict[str, str] = {}
                for raw in lines[1:]:
                    name, _, value = raw.partition(":")
                    headers[name.strip().lower()] = value.strip()
                connection_header = headers.get("connection", "").lower()
                keep_alive = ("close" not in connection_header) if version == "HTTP/1.1" else ("keep-alive" in connection_header)
                if verb == "OPTIONS":
                    writer.write(_response(204, b"", keep_alive=keep_alive))
                    await writer.drain()
                    if not keep_alive:
                        return
                    continue
                if verb == "GET":
                    if path.split("?")[0] == "/health":
                        writer.write(_response(200, b"ok", keep_alive=keep_alive, content_type=b"text/plain"))
                    else:
                        writer.write(_response(405, error_body("use POST"), keep_alive=keep_alive))
                    await writer.drain()
                    if not keep_alive:
                        return
                    continue
                if verb != "POST":
                    writer.write(_response(405, error_body("use POST"), keep_alive=False))
                    return
                if "transfer-encoding" in headers:
                    body = await chunked_body(reader, writer, headers, version)
                    if body is None:
                        return  # answered (400, 413 or 501) or dropped; the connection closes
                    if "content-length" in headers:
                        keep_alive = False  # RFC 9112 section 6.3: close after answering
                    status, reply = await handler(body)
                    writer.write(_response(status, reply, keep_alive=keep_alive))
                    await writer.drain()
                    if not keep_alive:
                        return
                    continue
                if "content-length" not in headers:
                    writer.write(_response(411, error_body("Content-Length required"), keep_alive=False))
                    return
                try:
                    length = int(headers["content-length"])
                    if length < 0:
                        raise ValueError
                except ValueError:
                    writer.write(_response(400, error_body("bad Content-Length"), keep_alive=False))
                    return
                if length > max_body:
                    writer.write(_response(413, error_body(f"request body larger than {max_body} bytes"), keep_alive=False))
                    await writer.drain()
                    # Read (and drop) a moderately oversized body before closing, so the
                    # client, still sending, reads the 413 instead of a reset.
                    left = length if length <= MAX_DISCARD else 0
                    while left > 0:
                        chunk = await asyncio.wait_for(reader.read(min(left, 1 << 16)), READ_TIMEOUT)
                        if not chunk:
                            break
                        left -= len(chunk)
                    return
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                deadlines[task] = loop.time() + READ_TIMEOUT
                try:
                    body = await reader.readexactly(length)
                except asyncio.IncompleteReadError:
                    return
                del deadlines[task]  # the handler is ours: no deadline while it runs
                status, reply = await handler(body)
                writer.write(_response(status, reply, keep_alive=keep_alive))
                # A client that does not read its (large) answer must not hold it forever.
                deadlines[task] = loop.time() + READ_TIMEOUT
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError, asyncio.TimeoutError):
            pass
        except Exception:  # noqa: BLE001 - one connection's failure is never the server's
            log.exception("http connection failed")
        finally:
            http.connections.discard(task)
            http.deadlines.pop(task, None)
            try:
                writer.close()
            except RuntimeError:
                pass

    # The stream limit bounds a request head (431 beyond it).
    loop = asyncio.get_running_loop()
    http.server = await asyncio.start_server(connection, host, port, limit=MAX_HEAD, reuse_address=True)
    http.watchdog = asyncio.ensure_future(http.watch())
    return http
