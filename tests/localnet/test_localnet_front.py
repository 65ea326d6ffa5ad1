"""The native JSON-RPC front end (localnet/rpc/front.py, native/src/front.rs) against the asyncio
one (http.py): the same bodies get the same answers from both, over real HTTP.

The native front end decodes a plain sendTransaction and checks its signatures on its own
thread and hands everything else to rpc.py: these tests send what it must recognize, what
it must leave to rpc.py (odd ids, duplicate fields, unusual encodings or flags, oversized or
malformed transactions), and compare the two servers' answers byte for byte where the
answer does not depend on the chain (errors), and by outcome where it does."""

from __future__ import annotations

import base64
import json
import socket

import based58
import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from crowdcompute.localnet.rpc.front import native_frontend

from .localnet_helpers import ThreadServer, funded

pytestmark = pytest.mark.skipif(native_frontend() is None, reason="the native module is not built (scripts/build-native.sh)")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(native, python): two servers, one per front end."""
    native = ThreadServer(tmp_path_factory.mktemp("native"), slot_ms=100, finality_lag=None, frontend="native")
    python = ThreadServer(tmp_path_factory.mktemp("python"), slot_ms=100, finality_lag=None, frontend="python")
    yield native, python
    native.stop()
    python.stop()


def post(port: int, body: bytes) -> tuple[int, bytes]:
    """One POST over a fresh connection: (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, reply = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), reply


def transfer_tx(client: Client, payer: Keypair, lamports: int, *, forge: bool = False) -> bytes:
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=lamports))
    tx = Transaction([payer], Message.new_with_blockhash([ix], payer.pubkey(), blockhash), blockhash)
    raw = bytes(tx)
    if forge:  # flip a bit of the signature
        raw = raw[:5] + bytes([raw[5] ^ 1]) + raw[6:]
    return raw


def send_body(data: str, config: object = "absent", rid: str = "1", extra: str = "") -> bytes:
    params = [data] if config == "absent" else [data, config]
    return ('{"jsonrpc":"2.0","id":%s,"method":"sendTransaction","params":%s%s}' % (rid, json.dumps(params), extra)).encode()


# Bodies whose answers do not depend on the chain: both servers must give the same bytes.
GARBAGE_B64 = base64.b64encode(b"\x01" + b"\x00" * 100).decode()
SAME_BYTES = [
    send_body("AQ"),  # base58 that is no transaction
    send_body(GARBAGE_B64, {"encoding": "base64"}),
    send_body("!!", {"encoding": "base64"}),  # not base64
    send_body("0OIl"),  # not base58
    send_body("AQ", {"encoding": "json"}),
    send_body("AQ", {"encoding": None, "skipPreflight": 1}),
    send_body("A" * 1700, {"encoding": "base64"}),  # over the size limit
    send_body("1" * 1700),
    send_body("AQ", rid='"with \\"escapes\\""'),
    send_body("AQ", rid="1.5"),
    send_body("AQ", rid="-0"),
    send_body("AQ", rid='"caf\\u00e9"'),
    send_body("AQ", rid="null"),
    b'{"jsonrpc":"2.0","method":"sendTransaction","params":["AQ"]}',  # no id
    b'{"jsonrpc":"2.0","id":1,"id":2,"method":"sendTransaction","params":["AQ"]}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":[]}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":"AQ"}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["AQ",{},3]}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":[5]}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["AQ", "config"]}',
    b'{"jsonrpc":"1.0","id":1,"method":"sendTransaction","params":["AQ"]}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction"}',
    b'[{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["AQ"]}]',
    b'{"jsonrpc":"2.0","id":true,"method":"sendTransaction","params":["AQ"]}',
    b'{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["AQ"]} trailing',
]


@pytest.mark.parametrize("body", SAME_BYTES, ids=range(len(SAME_BYTES)))
def test_same_answer_bytes(servers, body):
    native, python = servers
    assert post(native.port, body) == post(python.port, body)


def test_what_the_fast_path_takes(servers):
    """The first two of SAME_BYTES are plain sends (answered as rpc.py would, from the fast
    path); the ones with odd ids, flags or framing go to rpc.py whole."""
    front = servers[0].net._http.front
    for body, fast in [(SAME_BYTES[0], True), (SAME_BYTES[1], True), (SAME_BYTES[5], False), (SAME_BYTES[8], False),
                       (SAME_BYTES[10], False), (SAME_BYTES[14], False), (SAME_BYTES[22], False)]:
        before = front.counts
        post(servers[0].port, body)
        after = front.counts
        assert (after[0] - before[0], after[1] - before[1]) == (1, int(fast)), body


def test_transfers_land_the_same_way(servers):
    """A valid transfer in every form the fast path takes (and a few it leaves to rpc.py)
    lands on both servers; a forged one and one that cannot pay its way never land, answered
    alike."""
    outcomes = []
    before = servers[0].net._http.front.counts[1]
    for server in servers:
        client = Client(server.url, commitment=Confirmed, timeout=20)
        payer = funded(client, 10_000_000_000)
        seen = []
        forms = [
            lambda raw: send_body(based58.b58encode(raw).decode()),
            lambda raw: send_body(base64.b64encode(raw).decode(), {"encoding": "base64"}),
            lambda raw: send_body(base64.b64encode(raw).decode(), {"encoding": "base64", "skipPreflight": True}, rid='"str-id"'),
            lambda raw: send_body(base64.b64encode(raw).decode(), {"encoding": "base64", "skipPreflight": False, "preflightCommitment": "processed"}),
            lambda raw: send_body(base64.b64encode(raw).decode(), {"encoding": "base64", "maxRetries": 0}, rid="null"),
            lambda raw: send_body(based58.b58encode(raw).decode(), None, rid="123456789012345678901234567890"),
            # a JSON escape in the transaction's string ("\/" is "/")
            lambda raw: send_body(base64.b64encode(raw).decode(), {"encoding": "base64"}).replace(b"/", b"\\/"),
        ]
        for i, form in enumerate(forms):
            raw = transfer_tx(client, payer, 1_000_000 + i)
            status, reply = post(server.port, form(raw))
            answer = json.loads(reply)
            assert status == 200 and answer.get("result") == str(Signature.from_bytes(raw[1:65])), (i, answer)
            seen.append(answer["id"])
            assert client.get_signature_statuses([Signature.from_bytes(raw[1:65])]).value[0] is not None
        # never landed: a forged signature, an unfunded payer: refused with preflight,
        # answered with their signature and dropped with skipPreflight (as agave does)
        forged, broke = transfer_tx(client, payer, 7, forge=True), transfer_tx(client, Keypair(), 5)
        for raw, whole in ((forged, True), (broke, False)):
            for config in ({"encoding": "base64"}, {"encoding": "base64", "skipPreflight": True}):
                answer = json.loads(post(server.port, send_body(base64.b64encode(raw).decode(), config))[1])
                error = answer.get("error")
                seen.append(answer["result"] == str(Signature.from_bytes(raw[1:65])) if error is None else error if whole else (error["code"], error["message"]))
            assert client.get_signature_statuses([Signature.from_bytes(raw[1:65])], search_transaction_history=True).value[0] is None
        # the same transaction twice, skipping preflight: its signature both times
        raw = transfer_tx(client, payer, 99)
        body = send_body(base64.b64encode(raw).decode(), {"encoding": "base64", "skipPreflight": True})
        seen.append(json.loads(post(server.port, body)[1])["result"] == json.loads(post(server.port, body)[1])["result"])
        outcomes.append(seen)
    assert outcomes[0] == outcomes[1]
    # the native server took every one of those sends on its fast path (7 valid, 2 forged,
    # 2 unfunded, 2 repeated), airdrops aside (rpc.py's)
    assert servers[0].net._http.front.counts[1] - before == 13
    assert outcomes[0][-1] is True
    assert outcomes[0][7]["code"] == -32003 and outcomes[0][8:11:2] == [True, True]


def test_pipelined_sends_answered_in_order(servers):
    """Several requests in one write, sends and others mixed: answered in order, each once."""
    native, _ = servers
    client = Client(native.url, commitment=Confirmed, timeout=20)
    payer = funded(client, 10_000_000_000)
    bodies = []
    for i in range(6):
        raw = transfer_tx(client, payer, 2_000_000 + i)
        bodies.append(send_body(base64.b64encode(raw).decode(), {"encoding": "base64", "skipPreflight": True}, rid=str(i)))
        bodies.append(b'{"jsonrpc":"2.0","id":"h%d","method":"getHealth"}' % i)
    wire = b"".join(b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies)
    with socket.create_connection(("127.0.0.1", native.port), timeout=20) as s:
        s.sendall(wire)
        data = b""
        while data.count(b"HTTP/1.1 200") < len(bodies) or not data.endswith(b"}"):
            chunk = s.recv(65536)
            assert chunk, "closed early"
            data += chunk
    ids = [json.loads(part.split(b"\r\n\r\n", 1)[1])["id"] for part in data.split(b"HTTP/1.1 ")[1:]]
    assert ids == [x for i in range(6) for x in (i, f"h{i}")]


def test_close_frees_the_port_and_ends_connections(tmp_path):
    server = ThreadServer(tmp_path / "ledger", slot_ms=100, finality_lag=None, frontend="native")
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        assert post(server.port, b'{"jsonrpc":"2.0","id":1,"method":"getHealth"}')[0] == 200
        server.stop()
        assert idle.recv(10) == b""  # the server ended the idle keep-alive connection
        with socket.socket() as s:  # the port is free again
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", server.port))
    finally:
        idle.close()


def test_unknown_front_end_is_refused(tmp_path):
    from crowdcompute.localnet.rpc.front import native_frontend as choose

    with pytest.raises(ValueError, match="native or python"):
        choose("rust")
