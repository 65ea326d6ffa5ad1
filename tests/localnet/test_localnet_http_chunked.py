"""Chunked request bodies (RFC 9112 section 7.1) against a real server, over raw sockets:
decoded and answered like Content-Length bodies, keep-alive kept, and bad framing, oversized
bodies and hang-ups refused or dropped without disturbing anyone else. Against both JSON-RPC
front ends (the native one and http.py)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from crowdcompute.localnet.rpc.front import native_frontend
from crowdcompute.localnet.rpc.methods import MAX_BODY, VERSION

from .localnet_helpers import ThreadServer, rpc


@pytest.fixture(scope="module", params=["native", "python"])
def server(request, tmp_path_factory):
    """Each test runs against both JSON-RPC front ends: the native one (front.py) and the
    asyncio one (http.py, where the native module is not built)."""
    if request.param == "native" and native_frontend() is None:
        pytest.skip("the native module is not built (scripts/build-native.sh)")
    srv = ThreadServer(tmp_path_factory.mktemp(f"http-{request.param}"), slot_ms=100, finality_lag=None, frontend=request.param)
    yield srv
    srv.stop()

HEALTH = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getHealth"}).encode()
GET_VERSION = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "getVersion"}).encode()


def chunked(body: bytes, *, sizes: list[int] | None = None, ext: bytes = b"", trailer: bytes = b"") -> bytes:
    """`body` as chunks of the given sizes (one chunk by default), then the last chunk."""
    sizes = sizes or [len(body)]
    assert sum(sizes) == len(body)
    out, at = b"", 0
    for size in sizes:
        out += b"%x%s\r\n%s\r\n" % (size, ext, body[at:at + size])
        at += size
    return out + b"0\r\n" + trailer + b"\r\n"


def post(data: bytes, *headers: bytes) -> bytes:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + data


class Conn:
    """One client connection that reads whole responses (head and Content-Length body)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(self.buf) < length:
            self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return int(lines[0].split()[1]), headers, body

    def closed_by_server(self) -> bool:
        """True when the server closed its end (EOF or reset) within the socket timeout."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def close(self) -> None:
        self.sock.close()


def ask(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    conn = Conn(port)
    try:
        conn.send(data)
        return conn.response()
    finally:
        conn.close()


def test_chunked_post_is_answered(server):
    status, headers, body = ask(server.port, post(chunked(HEALTH)))
    assert status == 200 and headers["connection"] == "keep-alive"
    assert json.loads(body) == {"jsonrpc": "2.0", "id": 1, "result": "ok"}
    status, _, body = ask(server.port, post(chunked(GET_VERSION)))
    assert status == 200 and json.loads(body) == {"jsonrpc": "2.0", "id": 2, "result": VERSION}


def test_several_chunks_with_extensions_and_trailer(server):
    # Uppercase hex, a chunk extension with a quoted value, BWS before ';', and two trailer
    # fields: all framing, none of it part of the body.
    data = chunked(GET_VERSION, sizes=[1, 16, len(GET_VERSION) - 17], ext=b' ;name="v;x";flag', trailer=b"X-Sum: 1\r\nX-Other: 2\r\n")
    status, _, body = ask(server.port, post(data))
    assert status == 200 and json.loads(body)["result"] == VERSION
    big = b"%X\r\n" % len(HEALTH)  # uppercase hex digits, leading zeros allowed
    status, _, body = ask(server.port, post(b"000" + big + HEALTH + b"\r\n0000\r\n\r\n"))
    assert status == 200 and json.loads(body)["result"] == "ok"


def test_keep_alive_after_chunked(server):
    conn = Conn(server.port)
    try:
        conn.send(post(chunked(HEALTH, sizes=[5, len(HEALTH) - 5])))
        status, headers, body = conn.response()
        assert (status, headers["connection"], json.loads(body)["result"]) == (200, "keep-alive", "ok")
        # then a Content-Length request and a pipelined pair of chunked ones, same socket
        conn.send(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(GET_VERSION), GET_VERSION))
        status, _, body = conn.response()
        assert status == 200 and json.loads(body)["result"] == VERSION
        conn.send(post(chunked(GET_VERSION)) + post(chunked(HEALTH)))
        assert json.loads(conn.response()[2])["id"] == 2
        assert json.loads(conn.response()[2])["id"] == 1
    finally:
        conn.close()


def test_expect_100_continue_with_chunked(server):
    conn = Conn(server.port)
    try:
        conn.send(post(b"", b"Expect: 100-continue"))
        while b"\r\n\r\n" not in conn.buf:
            conn._more()
        assert conn.buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.buf = conn.buf[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        conn.send(chunked(HEALTH))
        status, _, body = conn.response()
        assert status == 200 and json.loads(body)["result"] == "ok"
    finally:
        conn.close()


def test_chunked_wins_over_content_length_and_closes(server):
    # A Content-Length of 3 would cut the body; chunked framing is used instead (RFC 9112
    # section 6.3), and the connection is closed after the answer, because such a request
    # may be a smuggling attempt.
    conn = Conn(server.port)
    try:
        conn.send(post(chunked(HEALTH), b"Content-Length: 3"))
        status, headers, body = conn.response()
        assert (status, headers["connection"], json.loads(body)["result"]) == (200, "close", "ok")
        assert conn.closed_by_server()
    finally:
        conn.close()


def test_oversized_chunked_body_is_413(server):
    # Decoded size counts, not chunk count: four chunks that together pass MAX_BODY by one byte.
    piece = b" " * (MAX_BODY // 4)
    body = piece * 4 + b" "
    conn = Conn(server.port)
    try:
        conn.send(post(chunked(body, sizes=[len(piece)] * 4 + [1])))
        status, headers, reply = conn.response()
        assert (status, headers["connection"]) == (413, "close")
        assert "larger than" in json.loads(reply)["error"]["message"]
        assert conn.closed_by_server()
    finally:
        conn.close()
    # exactly MAX_BODY decoded bytes is not too large (JSON with padding: the handler parses it)
    padded = HEALTH + b" " * (MAX_BODY - len(HEALTH))
    status, _, reply = ask(server.port, post(chunked(padded, sizes=[MAX_BODY // 2, MAX_BODY - MAX_BODY // 2])))
    assert status == 200 and json.loads(reply)["result"] == "ok"
    # A huge declared size is refused before any of its data is sent.
    status, headers, _ = ask(server.port, post(b"ffffffffffff\r\n"))
    assert (status, headers["connection"]) == (413, "close")


def test_bad_chunk_framing_is_400(server):
    bad = [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
        b"0x5\r\nhello\r\n0\r\n\r\n",  # int(x, 16) would take it, HTTP does not
        b"+5\r\nhello\r\n0\r\n\r\n",
        b"\r\nhello\r\n0\r\n\r\n",  # empty size
        b"5;" + b"e" * 2000 + b"\r\nhello\r\n0\r\n\r\n",  # size line over 1 KiB
        b"5\r\nhelloXX0\r\n\r\n",  # chunk data not followed by CRLF
        b"5\r\nhello\r\n0\r\nX-Big: " + b"t" * 20000 + b"\r\n\r\n",  # trailer over 16 KiB
    ]
    for data in bad:
        status, headers, reply = ask(server.port, post(data))
        assert (status, headers["connection"]) == (400, "close"), data[:20]
        assert "error" in json.loads(reply)
    # Transfer-Encoding in HTTP/1.0 and a last coding other than chunked have no framing (400);
    # a coding we cannot decode is 501.
    status, _, _ = ask(server.port, b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(HEALTH))
    assert status == 400
    status, _, _ = ask(server.port, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + chunked(HEALTH))
    assert status == 400
    status, _, _ = ask(server.port, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked(HEALTH))
    assert status == 501
    # neither framing header: still 411
    status, _, _ = ask(server.port, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 411


def test_truncated_chunked_bodies_leave_server_up(server):
    cuts = [b"10\r\nabc", b"5\r\nhello\r\n", b"5\r\nhello\r\n0\r\n", b"5", b"5\r\nhello\r\n0\r\nX-T: 1\r\n"]
    for cut in cuts:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(post(cut))  # then hang up mid-body
        assert rpc(server.url, "getHealth")["result"] == "ok"
    # A client stalled mid-chunk holds only its own connection.
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        stalled.sendall(post(b"40\r\n{\"jsonrpc\""))
        started = time.monotonic()
        status, _, body = ask(server.port, post(chunked(HEALTH)))
        assert status == 200 and json.loads(body)["result"] == "ok"
        assert time.monotonic() - started < 5
    finally:
        stalled.close()
    assert rpc(server.url, "getHealth")["result"] == "ok"
