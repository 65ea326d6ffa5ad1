"""Malformed, oversized and rude HTTP clients, and parallel senders: the server answers with
errors, never crashes or hangs, and serves everyone else."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time

from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

import pytest

from crowdcompute.localnet.rpc.front import native_frontend

from .localnet_helpers import RENT_EXEMPT_0, ThreadServer, funded, rpc, send


@pytest.fixture(scope="module", params=["native", "python"])
def front_server(request, tmp_path_factory):
    """A server per JSON-RPC front end: the native one (front.py) and http.py."""
    if request.param == "native" and native_frontend() is None:
        pytest.skip("the native module is not built (scripts/build-native.sh)")
    srv = ThreadServer(tmp_path_factory.mktemp(f"hostile-{request.param}"), slot_ms=100, finality_lag=None, frontend=request.param)
    yield srv
    srv.stop()


def raw_http(port: int, data: bytes, *, read: bool = True, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out:
                    head, _, body = out.partition(b"\r\n\r\n")
                    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")]
                    if length and len(body) >= length[0]:
                        break
        except (ConnectionResetError, socket.timeout):
            pass
        return out


def test_malformed_http(front_server):
    server = front_server
    port = server.port
    assert raw_http(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 405")
    assert b"ok" in raw_http(port, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert raw_http(port, b"OPTIONS / HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 204")
    # a chunked body is decoded (tests/localnet/test_localnet_http_chunked.py): "hello" is no JSON
    chunked = raw_http(port, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert chunked.startswith(b"HTTP/1.1 200") and b"-32700" in chunked
    assert raw_http(port, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 411")
    assert raw_http(port, b"POST / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431")
    assert raw_http(port, b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n").startswith(b"HTTP/1.1 413")
    assert raw_http(port, b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw_http(port, b"\x00\x01garbage\r\n\r\n").startswith(b"HTTP/1.1 400")
    # deeply nested JSON: a parse error, not a crash
    deep = b"[" * 200_000 + b"]" * 200_000
    assert rpc(server.url, None, raw=deep)["error"]["code"] in (-32700, -32600)
    # keep-alive: two requests on one connection, answered in order
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "getHealth"}).encode()
    request = b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request + request)
        data = b""
        deadline = time.monotonic() + 5
        while data.count(b'"id":7') < 2 and time.monotonic() < deadline:
            data += s.recv(65536)
        assert data.count(b"HTTP/1.1 200") == 2


def test_rude_clients_disturb_no_one(front_server):
    server = front_server
    client = Client(server.url, commitment=Confirmed, timeout=20)
    port = server.port
    payer = funded(client)
    to = Keypair().pubkey()
    amount = RENT_EXEMPT_0 + 31  # `to` is new: left rent-exempt
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    tx = Transaction([payer], Message.new_with_blockhash([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=amount))], payer.pubkey(), blockhash), blockhash)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}]}).encode()
    # hang up right after sending the request: the transaction still lands
    raw_http(port, b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body), read=False)
    # half a request, then silence or a hang-up
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
    raw_http(port, b"POST / HTTP/1.1\r\nContent-Len", read=False)
    try:
        assert rpc(server.url, "getHealth")["result"] == "ok"
        deadline = time.monotonic() + 5
        while client.get_balance(to, Confirmed).value != amount and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get_balance(to, Confirmed).value == amount
    finally:
        stalled.close()


def test_parallel_senders(server):
    client = Client(server.url, commitment=Confirmed, timeout=30)
    payers = [funded(client) for _ in range(8)]
    to = Keypair().pubkey()
    amounts = [RENT_EXEMPT_0 + 1000 + i for i in range(5)]  # whichever lands first leaves `to` rent-exempt
    sigs: list = []
    errors: list = []

    def sender(payer):
        c = Client(server.url, commitment=Confirmed, timeout=30)
        try:
            for i in range(5):
                sigs.append(send(c, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=amounts[i]))], [payer]))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(p,)) for p in payers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(sigs) == 40
    statuses = client.get_signature_statuses(sigs).value
    assert all(s is not None and s.err is None for s in statuses)
    assert client.get_balance(to).value == 8 * sum(amounts)
    assert len(client.get_signatures_for_address(to).value) == 40


def test_half_closed_client_gets_its_answer_then_eof(front_server):
    """A client that sends keep-alive requests and then shuts its side (SHUT_WR) gets every
    answer, then the end of the stream: the server notices the close that came with the
    data (no 60 s idle wait)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "getHealth"}).encode()
    request = b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with socket.create_connection(("127.0.0.1", front_server.port), timeout=5) as s:
        s.sendall(request * 2)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):  # a timeout here fails the test
            data += chunk
    assert data.count(b"HTTP/1.1 200") == 2 and data.count(b'"id":9') == 2


@pytest.mark.parametrize("frontend", ["native", "python"])
def test_stalled_and_idle_connections_are_dropped(frontend, tmp_path, monkeypatch):
    """A body that stops arriving is dropped after READ_TIMEOUT and an idle keep-alive
    connection after IDLE_TIMEOUT (both front ends take http.py's; shortened here), while
    a client that keeps to them is served throughout."""
    from crowdcompute.localnet.rpc import http

    if frontend == "native" and native_frontend() is None:
        pytest.skip("the native module is not built (scripts/build-native.sh)")
    monkeypatch.setattr(http, "READ_TIMEOUT", 1.0)
    monkeypatch.setattr(http, "IDLE_TIMEOUT", 2.0)
    server = ThreadServer(tmp_path / "ledger", slot_ms=100, finality_lag=None, frontend=frontend)
    try:
        stalled = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        stalled.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getHealth"}).encode()
        idle.sendall(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        assert b'"result":"ok"' in idle.recv(65536)  # answered, then left idle
        started = time.monotonic()
        assert stalled.recv(100) == b""  # dropped without an answer
        stalled_after = time.monotonic() - started
        assert idle.recv(100) == b""
        idle_after = time.monotonic() - started
        assert stalled_after < 4 and 1 < idle_after < 6, (stalled_after, idle_after)
        assert rpc(server.url, "getHealth")["result"] == "ok"
        stalled.close()
        idle.close()
    finally:
        server.stop()
