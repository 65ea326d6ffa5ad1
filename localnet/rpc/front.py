"""The JSON-RPC port served by the native front end (native/src/front.rs), the event loop's
half: what the front end's threads hand over is taken here, run, and answered.

The front end reads HTTP, recognizes a plain sendTransaction, decodes it and checks its
signatures on its own threads, without the GIL; the loop gets, through one eventfd and one
`take()` per wake-up, only what needs the bank:
- a recognized sendTransaction: its wire bytes and signature verdict go straight to the
  intake (rpc.start_send, the path rpc.py's sendTransaction takes, with the verdict known),
  and its answer is written when the transaction's future resolves: no task, no coroutine,
  no JSON parse or dump on the loop;
- any other body: rpc.py's RpcHandler, as http.py would call it.

Why: with the commit point in the journal the localnet is CPU-bound on its event loop, and a
quarter of the loop was HTTP and JSON-RPC, another twelfth handing signatures to the check's
thread (docs/architecture.md, "Where the time goes"). http.py stays the server where the
native module is not built, or with CROWDCOMPUTE_LOCALNET_FRONTEND=python.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

from . import http
from ..runtime.intake import Then
from .methods import MAX_BODY, RpcHandler, dumps, error_reply, send_outcome, start_send, tx_from_wire

__all__ = ["NativeFront", "native_frontend"]

log = logging.getLogger("crowdcompute.localnet.rpc.front")

_SEND = 0  # take()'s kind of a recognized sendTransaction (1: any other body)
_SKIP = {"skipPreflight": True}


def native_frontend(choice: str | None = None):
    """The native Frontend class, or None: not built, or `choice` (default:
    CROWDCOMPUTE_LOCALNET_FRONTEND) is "python"."""
    choice = choice or os.environ.get("CROWDCOMPUTE_LOCALNET_FRONTEND") or "native"
    if choice not in ("native", "python"):
        raise ValueError(f"unknown JSON-RPC front end {choice!r}: native or python")
    if choice == "python":
        return None
    try:
        from .._native import Frontend
    except ImportError:
        return None
    return Frontend


class NativeFront:
    """Serves `net`'s JSON-RPC on host:port through the native front end."""

    def __init__(self, net, frontend_class, host: str, port: int) -> None:
        self.handler = RpcHandler(net)
        self.ctx = self.handler.ctx
        # http.py's deadlines (one source for both servers): read when the server starts
        self.front = frontend_class(host, port, MAX_BODY, http.IDLE_TIMEOUT, http.READ_TIMEOUT)
        self.port = self.front.port
        self.loop = asyncio.get_running_loop()
        self.tasks: set[asyncio.Task] = set()
        self.answers: list[tuple[int, int, bytes]] = []  # this loop turn's, sent in one go
        self.loop.add_reader(self.front.wake_fd, self._take)

    def _take(self) -> None:
        for item in self.front.take():
            if item[0] == _SEND:
                self._send(*item[1:])
            else:
                task = self.loop.create_task(self._rpc(item[1], item[2]))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _rpc(self, token: int, body: bytes) -> None:
        try:
            status, reply = await self.handler(body)
        except Exception:  # noqa: BLE001 - the handler answers errors itself; this is a bug
            log.exception("JSON-RPC handler failed")
            status, reply = 200, dumps({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error"}, "id": None})
        self._answer(token, status, reply)

    def _answer(self, token: int, status: int, body: bytes) -> None:
        # Sent at the end of the loop turn, with the others of that turn: one wake-up of the
        # front end's thread per turn, not one per answer.
        if not self.answers:
            self.loop.call_soon(self._send_answers)
        self.answers.append((token, status, body))

    def _send_answers(self) -> None:
        answers, self.answers = self.answers, []
        self.front.respond(answers)

    def _send(self, token: int, rid: bytes, raw: bytes, signature: str | None, verified: bool, skip: bool, config: bytes | None) -> None:
        try:
            tx = tx_from_wire(raw)
            settings = _SKIP if skip else (json.loads(config) if config else {})
            then = Then(lambda result, error: self._sent(token, rid, skip, result, error))
            signature, pending = start_send(self.ctx, tx, raw, settings, verdict=verified, signature=signature, then=then)
        except Exception as exc:  # noqa: BLE001 - answered as rpc.py answers it
            self._error(token, rid, exc)
            return
        if pending is None:  # answered already (a repeat, skipping preflight)
            self._signature(token, rid, signature)

    def _sent(self, token: int, rid: bytes, skip: bool, result, error: BaseException | None) -> None:
        """The transaction ran (result), or the intake failed it (error): the answer."""
        try:
            if error is not None:
                raise error
            send_outcome(result, result.signature, skip)
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - answered as rpc.py answers it
            self._error(token, rid, exc)
            return
        self._signature(token, rid, result.signature)

    def _signature(self, token: int, rid: bytes, signature: str) -> None:
        # What rpc.dumps writes for {"jsonrpc": "2.0", "result": signature, "id": id}: the
        # front end passes only ids whose JSON text is written back unchanged.
        self._answer(token, 200, b'{"jsonrpc":"2.0","result":"%s","id":%s}' % (signature.encode(), rid))

    def _error(self, token: int, rid: bytes, exc: BaseException) -> None:
        self._answer(token, 200, dumps(error_reply(json.loads(rid), exc, "sendTransaction")))

    async def close(self) -> None:
        """Stops listening, ends every connection, and waits for requests still running."""
        self.loop.remove_reader(self.front.wake_fd)
        await asyncio.to_thread(self.front.close)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)

