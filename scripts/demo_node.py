"""The whole flow on this machine (README's demo): a localnet with its storage server, a
payment mint and a market, one node daemon (`crowd node start`, real containers), a poster
posting a Nosana-format job and waiting for it, then its logs, the verified result and
the balances before and after."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers, imported as tests.*

from crowdcompute.client.crowd import CrowdClient  # noqa: E402
from crowdcompute.client.jobs import MarketSettings  # noqa: E402
from crowdcompute.client.jobspec import parse  # noqa: E402
from crowdcompute.client.keypair import write_keypair  # noqa: E402
from crowdcompute.worker.local_image import IMAGE  # noqa: E402
from tests.sdk.chain_setup import Wallets  # noqa: E402

JOB = {"version": "0.1", "type": "container", "ops": [
    {"type": "container/run", "id": "count", "args": {"image": IMAGE, "cmd": ["sh", "-c", "for i in 1 2 3; do echo line $i; done; echo 6 x 7 = $((6*7))"]},
     "results": {"answer": "= ([0-9]+)"}},
]}


def free_port() -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b, socket.socket() as c:
                a.bind(("127.0.0.1", port)); b.bind(("127.0.0.1", port + 1)); c.bind(("127.0.0.1", port + 2))
            return port
        except OSError:
            continue
    raise RuntimeError("no free ports")


async def wait_rpc(url: str) -> None:
    async with CrowdClient(url) as crowd:
        for _ in range(100):
            try:
                await crowd.chain.rpc.get_slot()
                return
            except Exception:
                await asyncio.sleep(0.1)
    raise RuntimeError("the localnet did not start")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="crowd-demo-"))
    port = free_port()
    url, storage = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 2}"
    procs = [subprocess.Popen([sys.executable, "-m", "crowdcompute.cli", "localnet", "--rpc-port", str(port), "--ledger", str(tmp / "ledger"),
                               "--reset", "--quiet", "--slot-ms", "100", "--storage-port", str(port + 2)], cwd=ROOT)]
    try:
        asyncio.run(wait_rpc(url))
        print(f"localnet {url}, storage {storage}")
        wallets = asyncio.run(Wallets.create(url))
        market, _ = asyncio.run(wallets.market(MarketSettings(price_per_second=100, max_timeout=600, retention=60, max_attempts=2)))
        node = asyncio.run(wallets.fund())
        poster = asyncio.run(wallets.fund(tokens=1_000_000))
        print(f"market {market}\nnode   {node.pubkey()}\nposter {poster.pubkey()}")
        node_key = write_keypair(node, tmp / "node.json")
        worker = subprocess.Popen([sys.executable, "-m", "crowdcompute.worker", "--market", str(market), "-u", url, "-k", str(node_key),
                                   "--storage", storage, "--state-dir", str(tmp / "node")], cwd=ROOT,
                                  stderr=(tmp / "node.log").open("wb"))
        procs.append(worker)

        async def flow() -> None:
            async with CrowdClient(url, poster, storage=storage) as crowd, CrowdClient(url, node) as n:
                mint = wallets.mint
                before = (await crowd.token_balance(mint), await n.token_balance(mint))
                print(f"balances before: poster {before[0]}, node {before[1]} tokens")
                while not (await crowd.get_market(market)).waiting_nodes():
                    await asyncio.sleep(0.2)
                t0 = time.monotonic()
                posted = await crowd.post(market, timeout=60, definition=parse(JOB))
                print(f"posted job {posted.job} (deposit {posted.deposit}); waiting ...")
                view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120,
                                            on_change=lambda v: print(f"  {v.status if v else 'closed'}"))
                cid, _, bundle = await crowd.result_bundle(posted.job)
                print(f"{view.status} in {time.monotonic() - t0:.2f}s; result {cid} (fetched and verified against the digest on-chain)\n")
                print(bundle.render())
                after = (await crowd.token_balance(mint), await n.token_balance(mint))
                print(f"balances after:  poster {after[0]} ({after[0] - before[0]:+}), node {after[1]} ({after[1] - before[1]:+}); paid {view.job.paid}")

        asyncio.run(flow())
        worker.send_signal(signal.SIGTERM)
        print(f"node stopped: exit {worker.wait(60)} (its log: {tmp / 'node.log'})")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    sys.exit(main())
