"""The light client of the localnet-vs-validator comparison (scripts/bench_localnet.py).

The same client for both servers, as a user of either would write it: `count` transfers
from `senders` funded keys, signed before the clock starts, sent as raw JSON-RPC
sendTransaction (skipPreflight, base64) over `inflight` keep-alive HTTP connections with one
request in flight on each; then signature statuses are polled (256 a call) until every
transfer is `confirmed` or `finalized`, or `give_up_s` after the last send. The figure is
transfers confirmed per second, from the first send to the poll that saw the last of them.

A validator answers sendTransaction when the transaction is received; the localnet when it
is executed and durable. Both are timed the same way: until confirmed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Callable

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

LAMPORTS = 1_000_000_000
STATUS_CHUNK = 256


@dataclass
class LightResult:
    tps: float
    confirmed: int
    unconfirmed: int
    send_s: float
    total_s: float
    client_cpu_s: float  # this process's CPU from the first send to the poll that saw the last confirmation


class RawRpc:
    """JSON-RPC over one keep-alive HTTP/1.1 connection, no client library in the way."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.next_id = reader, writer, 0

    @classmethod
    async def open(cls, host: str, port: int) -> "RawRpc":
        return cls(*await asyncio.open_connection(host, port))

    async def call(self, method: str, params: list) -> dict:
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}, separators=(",", ":")).encode()
        self.writer.write(b"POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        return json.loads(await self.reader.readexactly(length))

    def close(self) -> None:
        self.writer.close()


def _transfer(sender: Keypair, recipient: Pubkey, lamports: int, blockhash: Hash) -> bytes:
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=recipient, lamports=lamports))], sender.pubkey(), blockhash)
    return bytes(Transaction([sender], message, blockhash))


async def _confirmed(rpc: RawRpc, signatures: list[str]) -> list[bool]:
    reply = await rpc.call("getSignatureStatuses", [signatures])
    if "error" in reply:
        raise RuntimeError(f"getSignatureStatuses: {reply['error']}")
    return [bool(s) and s.get("err") is None and s.get("confirmationStatus") in ("confirmed", "finalized") for s in reply["result"]["value"]]


async def _fund(rpc: RawRpc, keys: list[Pubkey], timeout_s: float = 60) -> None:
    signatures = []
    for key in keys:
        reply = await rpc.call("requestAirdrop", [str(key), 1_000 * LAMPORTS])
        if "error" in reply:
            raise RuntimeError(f"requestAirdrop: {reply['error']}")
        signatures.append(reply["result"])
    deadline = time.monotonic() + timeout_s
    while not all(await _confirmed(rpc, signatures)):
        if time.monotonic() > deadline:
            raise RuntimeError("airdrops did not confirm")
        await asyncio.sleep(0.1)


async def run(host: str, port: int, *, count: int = 20_000, senders: int = 20, inflight: int = 32, give_up_s: float = 60,
              on_start: Callable[[], None] | None = None, on_progress: Callable[[], None] | None = None) -> LightResult:
    """`on_start()` is called right before the first send, when the clock starts, and
    `on_progress()` after each poll that found more transfers confirmed (the last call is
    where the clock stops): a caller measuring the server's CPU reads it there."""
    control = await RawRpc.open(host, port)
    try:
        keys = [Keypair() for _ in range(senders)]
        recipient = Keypair().pubkey()
        await _fund(control, [k.pubkey() for k in keys] + [recipient])
        reply = await control.call("getLatestBlockhash", [{"commitment": "confirmed"}])
        blockhash = Hash.from_string(reply["result"]["value"]["blockhash"])
        raws = [_transfer(keys[i % senders], recipient, 1 + i, blockhash) for i in range(count)]
        signatures = [str(Transaction.from_bytes(raw).signatures[0]) for raw in raws]
        bodies = [base64.b64encode(raw).decode() for raw in raws]
        connections = [await RawRpc.open(host, port) for _ in range(inflight)]
        queue = list(reversed(bodies))

        async def sender(rpc: RawRpc) -> None:
            while queue:
                reply = await rpc.call("sendTransaction", [queue.pop(), {"encoding": "base64", "skipPreflight": True}])
                if "error" in reply:
                    raise RuntimeError(f"sendTransaction: {reply['error']}")

        if on_start is not None:
            on_start()
        start, cpu_start = time.perf_counter(), time.process_time()
        await asyncio.gather(*(sender(c) for c in connections))
        sent = time.perf_counter()
        for c in connections:
            c.close()
        waiting = list(range(count))
        last_seen, cpu_at_last_seen = sent, time.process_time()
        while waiting and time.perf_counter() - sent < give_up_s:
            still = []
            for i in range(0, len(waiting), STATUS_CHUNK):
                chunk = waiting[i:i + STATUS_CHUNK]
                done = await _confirmed(control, [signatures[j] for j in chunk])
                still.extend(j for j, ok in zip(chunk, done) if not ok)
            if len(still) < len(waiting):
                last_seen, cpu_at_last_seen = time.perf_counter(), time.process_time()
                if on_progress is not None:
                    on_progress()
            waiting = still
            if waiting:
                await asyncio.sleep(0.05)
        confirmed = count - len(waiting)
        total = last_seen - start
        return LightResult(confirmed / total if total > 0 else 0.0, confirmed, len(waiting), sent - start, total, cpu_at_last_seen - cpu_start)
    finally:
        control.close()
