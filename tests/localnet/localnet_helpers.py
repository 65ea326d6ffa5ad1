"""Helpers for the localnet tests: a real server on free ports (in a thread with its own
event loop, or as a subprocess), reached only over HTTP and websockets. A module name of
its own, so that it never collides with tests/conftest.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import Transaction

from crowdcompute.localnet.ledger.finality import FINALITY_LAG
from crowdcompute.localnet.server import Localnet

from .localnet_ports import free_port_pair  # noqa: F401 - re-exported: the helpers' callers import it from here

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# The rent-exempt minimum of an account with no data: a transaction may not leave a writable
# account with 0 < lamports < this (InsufficientFundsForRent), so a transfer to a new address
# or an airdrop must bring at least this much.
RENT_EXEMPT_0 = 890_880


def rpc(url: str, method: str, params: object = None, *, raw: bytes | None = None, timeout: float = 10) -> object:
    """A raw JSON-RPC call over HTTP (no client library): returns the parsed reply."""
    body = raw if raw is not None else json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params is not None else {})}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


class ThreadServer:
    """A Localnet in a background thread with its own event loop."""

    def __init__(self, ledger: Path, slot_ms: int, *, finality_lag: int | None = FINALITY_LAG, frontend: str | None = None,
                 port: int | None = None) -> None:
        """`port`: a stopped server's, to start again where its clients look for it."""
        self.port = port or free_port_pair()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port + 1}"
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.net = Localnet(ledger, slot_ms=slot_ms, finality_lag=finality_lag, frontend=frontend)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "server did not start"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.net.start("127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.net.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def funded(client: Client, lamports: int = 10_000_000_000) -> Keypair:
    keypair = Keypair()
    sig = client.request_airdrop(keypair.pubkey(), lamports).value
    client.confirm_transaction(sig, Confirmed, sleep_seconds=0.05)
    return keypair


def send(client: Client, instructions: list, signers: list[Keypair], *, skip_preflight: bool = False):
    """Signs with a fresh blockhash and sends; returns the signature (acknowledged = committed)."""
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    message = Message.new_with_blockhash(instructions, signers[0].pubkey(), blockhash)
    tx = Transaction(signers, message, blockhash)
    from solana.rpc.types import TxOpts

    return client.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=skip_preflight, preflight_commitment=Confirmed)).value


class ProcessServer:
    """`python -m crowdcompute.localnet` as a subprocess."""

    def __init__(self, ledger: Path, slot_ms: int = 50, *, reset: bool = False, port: int | None = None, extra: list[str] = ()) -> None:
        self.port = port or free_port_pair()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [PYTHON, "-m", "crowdcompute.localnet", "--rpc-port", str(self.port), "--ledger", str(ledger), "--slot-ms", str(slot_ms), "--quiet"]
        if reset:
            args.append("--reset")
        args += list(extra)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait_ready(self, timeout: float = 15) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()}")
            try:
                if rpc(self.url, "getHealth", timeout=1).get("result") == "ok":
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.01)
        raise TimeoutError("server not ready")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


def send_raw(server, tx, *, skip_preflight: bool = False) -> dict:
    """sendTransaction of a signed transaction over raw JSON-RPC (base64): the whole reply."""
    import base64

    return rpc(server.url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", "skipPreflight": skip_preflight}])
