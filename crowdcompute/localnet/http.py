"""A small HTTP/1.1 server on asyncio streams, for the JSON-RPC endpoint.

Why not aiohttp: importing `aiohttp.web` alone takes about 0.45 s on the reference 2-core
machine, which makes the "ready within 0.5 s" target impossible, and aiohttp is not among
the project's dependencies; JSON-RPC needs only POST with a Content-Length body.

What it does: keep-alive (HTTP/1.1 default, HTTP/1.0 with `Connection: keep-alive`),
pipelined requests answered in order, `Expect: 100-continue`, and CORS pre-flight (OPTIONS)
so browser dApps can call it. What it refuses, with a status and a JSON-RPC error body
where it makes sense: a request head (line and headers) over 16 KiB or over 100 headers (431),
bodies over the limit (413), missing Content-Length or chunked bodies (411), other methods
(405). A connection whose next request head does not arrive within IDLE_TIMEOUT is closed, and one
whose body does not arrive within READ_TIMEOUT is dropped, so a slow client cannot hold a
handler.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

__all__ = ["serve_http"]

log = logging.getLogger("crowdcompute.localnet.http")

MAX_HEAD = 16 * 1024  # request line and headers
MAX_HEADERS = 100
IDLE_TIMEOUT = 60.0
READ_TIMEOUT = 30.0
MAX_DISCARD = 16 * 1024 * 1024  # an oversized body up to this is read and dropped (see 413)

Handler = Callable[[bytes], Awaitable[tuple[int, bytes]]]

_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
            413: "Payload Too Large", 431: "Request Header Fields Too Large"}
_CORS = b"Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\nAccess-Control-Allow-Headers: content-type, solana-client\r\n"


def _response(status: int, body: bytes, *, keep_alive: bool, content_type: bytes = b"application/json") -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s" % (status, _REASONS.get(status, "Error").encode(), content_type, len(body), _CORS)
    head += b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
    return head + body


class HttpServer:
    """The listening server and its open connections."""

    def __init__(self) -> None:
        self.server: asyncio.AbstractServer | None = None
        self.connections: set[asyncio.Task] = set()

    async def close(self) -> None:
        """Stops listening, then ends every open connection (idle keep-alives included)."""
        if self.server is not None:
            self.server.close()
        for task in list(self.connections):
            task.cancel()
        if self.connections:
            await asyncio.wait(list(self.connections), timeout=5)


async def serve_http(handler: Handler, host: str, port: int, *, max_body: int, error_body: Callable[[str], bytes]) -> HttpServer:
    """Serves POST bodies to `handler(body) -> (status, json bytes)` on host:port."""
    http = HttpServer()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        http.connections.add(task)
        try:
            while True:
                # One read and one timer per request head: a `wait_for` per header line cost
                # more than executing the transaction (it makes a task and a timer each time).
                try:
                    async with asyncio.timeout(IDLE_TIMEOUT):
                        head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed (between requests, or mid-head)
                except asyncio.LimitOverrunError:
                    writer.write(_response(431, error_body("request head too large"), keep_alive=False))
                    return
                except TimeoutError:
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
                if "chunked" in headers.get("transfer-encoding", "").lower() or "content-length" not in headers:
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
                try:
                    async with asyncio.timeout(READ_TIMEOUT):
                        body = await reader.readexactly(length)
                except (TimeoutError, asyncio.IncompleteReadError):
                    return
                status, reply = await handler(body)
                writer.write(_response(status, reply, keep_alive=keep_alive))
                await writer.drain()
                if not keep_alive:
                    await writer.drain()
                    return
        except (ConnectionError, asyncio.CancelledError, asyncio.TimeoutError):
            pass
        except Exception:  # noqa: BLE001 - one connection's failure is never the server's
            log.exception("http connection failed")
        finally:
            http.connections.discard(task)
            try:
                writer.close()
            except RuntimeError:
                pass

    # The stream limit bounds a request head (431 beyond it).
    http.server = await asyncio.start_server(connection, host, port, limit=MAX_HEAD, reuse_address=True)
    return http
