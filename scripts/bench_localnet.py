#!/usr/bin/env python3
"""Localnet throughput, latency, start-up and memory.

Starts `python -m crowdcompute.localnet` on free ports with a fresh ledger, then measures:
  startup_s          process start -> first successful getHealth
  inproc_tps         the same kind of transfers sent straight to LiteSVM in this process,
                     measured before and after the RPC phase (the mean; both are printed)
  rpc_tps            the same transfers sent through sendTransaction by concurrent clients
                     (keep-alive connections, one request in flight on each); the server
                     answers after the transaction is durable (confirmed). As for the
                     baseline, transactions are signed before the clock starts.
  server_cpu_ms_per_tx, writer_cpu_ms_per_tx, threads_cpu_ms_per_tx, client_cpu_ms_per_tx
                     CPU per transaction of the server's event loop (its main thread), of
                     its ledger writer process, of its other threads (the native front
                     end's: HTTP, decoding and signature checks; the native check's) or
                     its verifier process, and of this benchmark client, while sending
  confirm_p50/p99_ms send -> getSignatureStatuses reports `confirmed` (sequential sample)
  notify_p50_ms      confirmation (the acknowledged reply) -> the matching signatureSubscribe
                     notification at `confirmed`, for the same sample
  rss_mb_after_100k  the server's resident memory after all transactions (--transactions)
  light_tps, localnet_unconfirmed
                     the light client of bench_light_client.py (20,000 pre-signed transfers
                     from 20 senders, 32 requests in flight, raw JSON over keep-alive HTTP,
                     skipPreflight, statuses polled until confirmed) against a fresh localnet:
                     the median of --rounds runs, and the transfers left unconfirmed in all
  light_cpu_ms_per_tx
                     for those runs (medians), CPU per transfer from the first send to the
                     poll that saw the last confirmation: {"main_thread", "writer",
                     "threads", "client"} ("threads": the server's threads other than
                     its main one, or the verifier process)
  validator_tps, validator_unconfirmed, vs_validator, validator_cpu_ms_per_tx
                     the same light client against solana-test-validator when it is on PATH
                     (fresh ledger, default settings, stopped after each run: never both
                     servers at once), the runs alternating with the localnet's (this shared
                     machine's speed drifts, and one run of either varies a lot): the median,
                     the transfers left unconfirmed in all runs, light_tps / validator_tps
                     (target >= 1.25), and the validator's CPU per transfer (all its
                     threads); null without a validator
  light_runs         every run of the comparison, in order: server, transfers/s, unconfirmed
Prints a table, then as its LAST line one JSON object with those keys and `ratio`
(rpc_tps / inproc_tps; target >= 0.25). With --light-only, only the light-client comparison
runs, and the JSON has only its keys.

CROWDCOMPUTE_LOCALNET_VERIFIER=process in the environment makes the servers started here
check signatures on the verifier process even where the native check is built;
CROWDCOMPUTE_LOCALNET_FRONTEND=python serves JSON-RPC with http.py instead of the native
front end (comparisons).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import aiohttp
from rich.console import Console
from rich.table import Table
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_light_client  # noqa: E402 - a sibling script module
LAMPORTS = 1_000_000_000


def free_port() -> int:
    """A port whose successor is free too (PubSub listens on port + 1)."""
    for _ in range(100):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        try:
            with socket.socket() as b:
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of ports")


def signed_transfer(sender: Keypair, recipient: Pubkey, lamports: int, blockhash: Hash) -> Transaction:
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=recipient, lamports=lamports))], sender.pubkey(), blockhash)
    return Transaction([sender], message, blockhash)


def own_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid`, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the main thread of process `pid` (the event loop)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def helper_cpu_seconds(pid: int, module: str) -> float:
    """CPU time of the live children of `pid` running `module` (the ledger writer, the
    signature verifier)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if module.encode() in Path(f"/proc/{child}/cmdline").read_bytes():
                total += own_cpu_seconds(int(child))
    return total


WRITER, VERIFIER = "crowdcompute.localnet.ledger.writer", "crowdcompute.localnet.runtime.verifier"


def off_loop_cpu_seconds(pid: int) -> float:
    """CPU off the event loop but for the writer: the server's threads other than its main
    one (the native front end's, the native check's; the ledger reader's, idle under these
    loads) and a verifier process if one runs."""
    return helper_cpu_seconds(pid, VERIFIER) + own_cpu_seconds(pid) - main_thread_cpu_seconds(pid)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def inproc_tps(count: int, senders: int) -> float:
    svm = LiteSVM()
    keys = [Keypair() for _ in range(senders)]
    for key in keys:
        svm.airdrop(key.pubkey(), 1_000 * LAMPORTS)
    recipient = Pubkey.new_unique()
    blockhash = svm.latest_blockhash()
    txs = [signed_transfer(keys[i % senders], recipient, 1 + i, blockhash) for i in range(count)]
    start = time.perf_counter()
    for tx in txs:
        svm.send_transaction(tx)
    return count / (time.perf_counter() - start)


class Rpc:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url, self.next_id = session, url, 0

    async def call(self, method: str, params: list | None = None) -> dict:
        self.next_id += 1
        async with self.session.post(self.url, json={"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or []}) as reply:
            body = await reply.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    async def send(self, tx: Transaction) -> str:
        encoded = base64.b64encode(bytes(tx)).decode()
        return await self.call("sendTransaction", [encoded, {"encoding": "base64", "skipPreflight": True}])

    async def blockhash(self) -> Hash:
        return Hash.from_string((await self.call("getLatestBlockhash"))["value"]["blockhash"])


async def fund(rpc: Rpc, keys: list[Keypair]) -> None:
    signatures = [await rpc.call("requestAirdrop", [str(key.pubkey()), 1_000 * LAMPORTS]) for key in keys]
    for _ in range(500):
        statuses = (await rpc.call("getSignatureStatuses", [signatures]))["value"]
        if all(s and s.get("confirmationStatus") in ("confirmed", "finalized") for s in statuses):
            return
        await asyncio.sleep(0.02)
    raise RuntimeError("airdrops did not confirm")


def send_request(request_id: int, txs: list[Transaction]) -> bytes:
    """One HTTP POST carrying sendTransaction (a JSON-RPC batch when there are several)."""
    calls = [
        {"jsonrpc": "2.0", "id": request_id * 1000 + j, "method": "sendTransaction",
         "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", "skipPreflight": True}]}
        for j, tx in enumerate(txs)
    ]
    body = json.dumps(calls[0] if len(calls) == 1 else calls, separators=(",", ":")).encode()
    return b"POST / HTTP/1.1\r\nHost: localnet\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    status = head[9:12]
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    body = await reader.readexactly(length)
    if status != b"200" or b'"error"' in body:
        raise RuntimeError(f"sendTransaction failed: {head[:12]!r} {body[:300]!r}")
    return body


async def rpc_phase(url: str, server_pid: int, count: int, clients: int, progress, batch: int = 1, segment: int = 10_000) -> tuple[float, float, float, float, float]:
    """`count` transfers from `clients` keep-alive connections, timed like the in-process
    baseline: the transactions of each segment are signed and encoded before its clock
    starts (a segment is short enough for its blockhash to stay valid), so the figure is
    the server's, not the Python client's signing and JSON work. Returns transactions per
    second, and CPU milliseconds per transaction of the server's main process, of its
    ledger writer, of its other threads (or verifier process) and of this client."""
    keys = [Keypair() for _ in range(clients)]
    recipient = Keypair()  # funded first: it stays rent-exempt as the small transfers arrive
    host, port = url.removeprefix("http://").split(":")
    async with aiohttp.ClientSession() as session:
        rpc = Rpc(session, url)
        await fund(rpc, keys + [recipient])
        recipient = recipient.pubkey()
        connections = [await asyncio.open_connection(host, int(port)) for _ in range(clients)]
        elapsed = server_cpu = writer_cpu = threads_cpu = client_cpu = 0.0
        done = 0
        while done < count:
            take = min(segment, count - done)
            blockhash = await rpc.blockhash()
            requests: list[list[bytes]] = [[] for _ in range(clients)]
            for n, i in enumerate(range(done, done + take, batch)):
                size = min(batch, done + take - i)
                txs = [signed_transfer(keys[n % clients], recipient, 1 + j, blockhash) for j in range(i, i + size)]
                requests[n % clients].append(send_request(i, txs))

            async def client(index: int) -> None:
                reader, writer = connections[index]
                for request in requests[index]:
                    writer.write(request)
                    await read_reply(reader)

            start, client_start = time.perf_counter(), time.process_time()
            server_start, writer_start, threads_start = main_thread_cpu_seconds(server_pid), helper_cpu_seconds(server_pid, WRITER), off_loop_cpu_seconds(server_pid)
            await asyncio.gather(*(client(i) for i in range(clients)))
            took = time.perf_counter() - start
            elapsed += took
            server_segment = main_thread_cpu_seconds(server_pid) - server_start
            writer_segment = helper_cpu_seconds(server_pid, WRITER) - writer_start
            threads_segment = off_loop_cpu_seconds(server_pid) - threads_start
            server_cpu += server_segment
            writer_cpu += writer_segment
            threads_cpu += threads_segment
            client_cpu += time.process_time() - client_start
            done += take
            progress(done, take / took, server_segment * 1000 / take, writer_segment * 1000 / take, threads_segment * 1000 / take)
        for _, writer in connections:
            writer.close()
        return count / elapsed, server_cpu * 1000 / count, writer_cpu * 1000 / count, threads_cpu * 1000 / count, client_cpu * 1000 / count


async def latency_phase(url: str, ws_url: str, samples: int) -> tuple[list[float], list[float]]:
    """Sequential sends: send -> confirmed status, and acknowledged reply -> notification."""
    key, recipient = Keypair(), Keypair()
    confirm_ms: list[float] = []
    notify_ms: list[float] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        rpc = Rpc(session, url)
        await fund(rpc, [key, recipient])
        recipient = recipient.pubkey()
        blockhash = await rpc.blockhash()
        for i in range(samples):
            tx = signed_transfer(key, recipient, 1 + i, blockhash)
            signature = str(tx.signatures[0])
            await ws.send_json({"jsonrpc": "2.0", "id": i, "method": "signatureSubscribe", "params": [signature, {"commitment": "confirmed"}]})
            await ws.receive_json(timeout=5)  # the subscription id
            started = time.perf_counter()
            await rpc.send(tx)
            acknowledged = time.perf_counter()
            while True:
                statuses = (await rpc.call("getSignatureStatuses", [[signature]]))["value"]
                if statuses[0] and statuses[0].get("confirmationStatus") in ("confirmed", "finalized"):
                    break
                await asyncio.sleep(0.001)
            confirm_ms.append((time.perf_counter() - started) * 1000)
            while True:
                message = await ws.receive_json(timeout=5)
                if message.get("method") == "signatureNotification":
                    break
            notify_ms.append(max(0.0, (time.perf_counter() - acknowledged) * 1000))
    return confirm_ms, notify_ms


async def wait_healthy(url: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            try:
                async with session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getHealth"}) as reply:
                    if (await reply.json()).get("result") == "ok":
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
    raise RuntimeError("localnet did not become healthy")


@dataclass
class LightRun:
    """One run of the light client: against which server, its result, and CPU milliseconds
    per transfer from the first send to the last poll (the localnet's main thread, writer
    and other threads, or the validator's process; and the client's)."""

    server: str
    result: bench_light_client.LightResult
    cpu_ms: dict[str, float]

    def line(self) -> str:
        cpu = ", ".join(f"{name} {ms:.3f}" for name, ms in self.cpu_ms.items())
        return f"{self.server}: {self.result.tps:,.0f} confirmed/s, {self.result.unconfirmed} unconfirmed; CPU ms a transfer: {cpu}"


def light_run(server: str, port: int, count: int, readings: dict[str, Callable[[], float]]) -> LightRun:
    """The light client against a server listening on `port`; `readings` name the CPU
    counters (seconds) read when its clock starts and when it stops (the poll that saw the
    last confirmation: not the wait for transfers that never confirm)."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}

    def read_into(into: dict[str, float]) -> Callable[[], None]:
        return lambda: into.update({name: read() for name, read in readings.items()})

    result = asyncio.run(bench_light_client.run("127.0.0.1", port, count=count, on_start=read_into(first), on_progress=read_into(last)))
    cpu = {name: (last.get(name, first[name]) - first[name]) * 1000 / count for name in readings}
    cpu["client"] = result.client_cpu_s * 1000 / count
    return LightRun(server, result, cpu)


def validator_run(binary: str, count: int) -> LightRun:
    """The light client against solana-test-validator (fresh ledger, default settings),
    which is stopped before this returns."""
    port, faucet, gossip = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as ledger:
        proc = subprocess.Popen([binary, "--reset", "--quiet", "--ledger", ledger, "--bind-address", "127.0.0.1", "--rpc-port", str(port),
                                 "--faucet-port", str(faucet), "--gossip-port", str(gossip)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=ledger)
        try:
            url = f"http://127.0.0.1:{port}"
            asyncio.run(wait_healthy(url, time.perf_counter() + 60))
            time.sleep(2)  # healthy before its first confirmed slot: let blockhashes be served
            return light_run("validator", port, count, {"validator": lambda: own_cpu_seconds(proc.pid)})
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def localnet_run(count: int) -> LightRun:
    """The light client against a fresh localnet, stopped before this returns."""
    port = free_port()
    with tempfile.TemporaryDirectory() as ledger:
        server = subprocess.Popen([sys.executable, "-m", "crowdcompute.localnet", "--rpc-port", str(port), "--ledger", ledger, "--reset", "--quiet"], cwd=ROOT)
        try:
            asyncio.run(wait_healthy(f"http://127.0.0.1:{port}", time.perf_counter() + 30))
            return light_run("localnet", port, count, {
                "main_thread": lambda: main_thread_cpu_seconds(server.pid),
                "writer": lambda: helper_cpu_seconds(server.pid, WRITER),
                # the verifier process, or the server's other threads (the front end's, the check's)
                "threads": lambda: off_loop_cpu_seconds(server.pid),
            })
        finally:
            server.terminate()
            server.wait(timeout=30)


def comparison(count: int, rounds: int, with_validator: bool, console: Console) -> tuple[list[LightRun], list[LightRun]]:
    """`rounds` light-client runs on the localnet, each after one on solana-test-validator
    when it is on PATH and wanted: (validator runs, localnet runs). Alternating, one server
    at a time, so that both see the machine as it was around them."""
    binary = shutil.which("solana-test-validator") if with_validator else None
    if with_validator and binary is None:
        console.print("solana-test-validator not on PATH: no comparison with it")
    validator: list[LightRun] = []
    localnet: list[LightRun] = []
    for round_ in range(1, rounds + 1):
        if binary is not None:
            console.print(f"round {round_}/{rounds}: validator, light client, {count:,} transfers...")
            validator.append(validator_run(binary, count))
            console.print("  " + validator[-1].line())
        console.print(f"round {round_}/{rounds}: localnet, light client, {count:,} transfers...")
        localnet.append(localnet_run(count))
        console.print("  " + localnet[-1].line())
    return validator, localnet


def median_cpu(runs: list[LightRun]) -> dict[str, float]:
    return {name: round(statistics.median(run.cpu_ms[name] for run in runs), 3) for name in runs[0].cpu_ms}


def validator_then_localnet(validator: list[LightRun], localnet: list[LightRun]) -> list[LightRun]:
    """The runs in the order they ran (each validator run right before its localnet run)."""
    out: list[LightRun] = []
    for index, run in enumerate(localnet):
        out += validator[index:index + 1] + [run]
    return out


def light_figures(validator: list[LightRun], light: list[LightRun]) -> dict:
    light_tps = statistics.median(run.result.tps for run in light)
    validator_tps = statistics.median(run.result.tps for run in validator) if validator else None
    return {
        "light_tps": round(light_tps, 1),
        "localnet_unconfirmed": sum(run.result.unconfirmed for run in light),
        "light_cpu_ms_per_tx": median_cpu(light),
        "validator_tps": round(validator_tps, 1) if validator else None,
        "validator_unconfirmed": sum(run.result.unconfirmed for run in validator) if validator else None,
        "vs_validator": round(light_tps / validator_tps, 3) if validator_tps else None,
        "validator_cpu_ms_per_tx": median_cpu(validator) if validator else None,
        "light_runs": [[run.server, round(run.result.tps, 1), run.result.unconfirmed] for run in validator_then_localnet(validator, light)],
    }


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:,}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value) if value and isinstance(value[0], list) else ", ".join(f"{v:,}" if not isinstance(v, str) else v for v in value)
    return f"{value:,}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=100_000, help="transfers sent through RPC (default 100000)")
    parser.add_argument("--inproc", type=int, default=20_000, help="transfers sent in-process (default 20000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent RPC clients (default 32)")
    parser.add_argument("--samples", type=int, default=200, help="sequential latency samples (default 200)")
    parser.add_argument("--batch", type=int, default=1, help="sendTransaction calls per JSON-RPC batch request (default 1)")
    parser.add_argument("--light", type=int, default=20_000, help="transfers of the light-client comparison (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="light-client runs on each server, alternating (default 3; medians compared)")
    parser.add_argument("--no-validator", action="store_true", help="skip the comparison with solana-test-validator even when it is on PATH")
    parser.add_argument("--light-only", action="store_true", help="run only the light-client comparison")
    args = parser.parse_args(argv)
    for name in ("transactions", "inproc", "clients", "samples", "batch", "light", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)!r}")

    console = Console(stderr=True)
    validator, light = comparison(args.light, args.rounds, not args.no_validator, console)
    if args.light_only:
        print(json.dumps(light_figures(validator, light)))
        return 0
    port = free_port()
    url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port + 1}"
    with tempfile.TemporaryDirectory() as ledger:
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "crowdcompute.localnet", "--rpc-port", str(port), "--ledger", ledger, "--reset", "--quiet"], cwd=ROOT)
        try:
            asyncio.run(wait_healthy(url, started + 30))
            startup = time.perf_counter() - started
            console.print(f"startup {startup:.3f} s; in-process baseline ({args.inproc:,} transfers)...")
            before = inproc_tps(args.inproc, args.clients)
            console.print(f"RPC: {args.transactions:,} transfers from {args.clients} clients...")
            rpc, server_ms, writer_ms, threads_ms, client_ms = asyncio.run(rpc_phase(url, server.pid, args.transactions, args.clients, lambda i, rate, server_ms, writer_ms, threads_ms: console.print(
                f"  {i:,} sent ({rate:,.0f}/s; CPU a transaction: server {server_ms:.3f} ms, writer {writer_ms:.3f} ms, threads {threads_ms:.3f} ms)"), args.batch))
            # The baseline again, after: this shared host's speed drifts over minutes, and the
            # ratio should compare the RPC phase with the host as it was around it.
            after = inproc_tps(args.inproc, args.clients)
            baseline = (before + after) / 2
            console.print(f"latency: {args.samples} sequential transfers...")
            confirm, notify = asyncio.run(latency_phase(url, ws_url, args.samples))
            memory = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    figures = {
        "inproc_tps": round(baseline, 1),
        "inproc_tps_before_after": [round(before, 1), round(after, 1)],
        "rpc_tps": round(rpc, 1),
        "ratio": round(rpc / baseline, 3),
        "server_cpu_ms_per_tx": round(server_ms, 3),
        "writer_cpu_ms_per_tx": round(writer_ms, 3),
        "threads_cpu_ms_per_tx": round(threads_ms, 3),
        "client_cpu_ms_per_tx": round(client_ms, 3),
        "confirm_p50_ms": round(statistics.median(confirm), 2),
        "confirm_p99_ms": round(percentile(confirm, 0.99), 2),
        "notify_p50_ms": round(statistics.median(notify), 2),
        "notify_p99_ms": round(percentile(notify, 0.99), 2),
        "startup_s": round(startup, 3),
        **light_figures(validator, light),
        "rss_mb_after_100k": round(memory, 1),
        "transactions": args.transactions,
        "clients": args.clients,
        "batch": args.batch,
        "rounds": args.rounds,
    }
    table = Table(title="localnet benchmark (this machine; the light-client figures are medians of --rounds runs)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, _cell(value))
    Console().print(table)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
