"""The whole flow on this machine (README's demo): a localnet with its storage server, a
payment mint, a staking config and a market naming it (a minimum stake, a slash penalty
with a reclaim bounty, a 1% network fee to the stakers), one node daemon that stakes what
is missing and serves (`crowd node start --stake min --stake-duration 30d --yes`, real
containers), a poster posting a Nosana-format job and waiting for it, then its logs, the
verified result, the network fee, the balances before and after, and the node claiming
the fees its stake earned. Then a service: a web server job that exposes a port, found
healthy through the node's front door (its URL read from the node's on-chain profile),
a page fetched through it, the job ended by the poster and its bundle (with the health
history) attached and verified.

Amounts are in tokens of the demo's mint (6 decimals); the fee and the claim also in base
units, where rounding shows. tests/worker/test_demo.py runs this script and checks what
it prints."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers, imported as tests.*

import requests  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402

from crowdcompute.cli.stake_render import times  # noqa: E402
from crowdcompute.client.amounts import format_tokens  # noqa: E402
from crowdcompute.client.crowd import CrowdClient  # noqa: E402
from crowdcompute.client.durations import format_span  # noqa: E402
from crowdcompute.client.jobs.program import MarketSettings  # noqa: E402
from crowdcompute.client.jobspec import parse  # noqa: E402
from crowdcompute.client.keypair import write_keypair  # noqa: E402
from crowdcompute.client.staking.settings import StakingSettings  # noqa: E402
from crowdcompute.client.token import token_account_amount  # noqa: E402
from crowdcompute.worker.local_image import IMAGE  # noqa: E402
from tests.sdk.chain_setup import Wallets  # noqa: E402

def job(image: str) -> dict:
    return {"version": "0.1", "type": "container", "ops": [
        {"type": "container/run", "id": "count", "args": {"image": image, "cmd": ["sh", "-c", "for i in 1 2 3; do echo line $i; done; echo 6 x 7 = $((6*7))"]},
         "results": {"answer": "= ([0-9]+)"}},
    ]}


# A local registry (Debian's docker-registry serves on :5000 by default): when one answers
# without a login, the demo pushes the local image there and the node pulls it.
REGISTRY = os.environ.get("CROWD_DEMO_REGISTRY", "127.0.0.1:5000")


def demo_image() -> tuple[str, str]:
    """The image the job names, and a line on how the node gets it."""
    try:
        answered = requests.get(f"http://{REGISTRY}/v2/", timeout=1).status_code == 200
    except requests.RequestException:
        answered = False
    if not answered:
        return IMAGE, f"{IMAGE}, built here (no open registry answers at {REGISTRY})"
    import docker
    from crowdcompute.worker.engine import default_base_url

    repository, tag = f"{REGISTRY}/crowdcompute/busybox", "demo"
    api = docker.APIClient(base_url=default_base_url(), version="auto", timeout=60)
    try:
        api.tag(IMAGE, repository, tag)
        errors = [c["error"] for c in api.push(repository, tag=tag, stream=True, decode=True) if "error" in c]
        api.remove_image(f"{repository}:{tag}")  # untagged here: the node pulls it from the registry
    finally:
        api.close()
    if errors:
        return IMAGE, f"{IMAGE}, built here (pushing it to {REGISTRY} failed: {errors[0]})"
    return f"{repository}:{tag}", f"{repository}:{tag}, pushed to the local registry; the node pulls it from there"

DECIMALS = 6  # the mint Wallets.create makes
TOKEN = 10**DECIMALS
# The default curve (1x at 14 days to 4x at 365): nothing unlocks during the demo, so the
# real bounds do; the node's 30-day lock earns a little more than 1x.
CURVE = StakingSettings()
LOCK = "30d"
MARKET = MarketSettings(price_per_second=TOKEN // 100, max_timeout=600, retention=60, max_attempts=2,
                        min_stake=10 * TOKEN,  # weight: 10 tokens locked 14 days, fewer locked longer
                        slash_penalty=TOKEN, reclaim_bounty_bps=1_000, fee_bps=100)
JOB_TIMEOUT = 60  # seconds the poster pays for up front (the deposit); the unused part comes back
PAGE = "hello from a service on crowdcompute"
SERVICE = {"version": "0.1", "type": "container", "ops": [
    {"type": "container/run", "id": "web", "args": {
        "image": IMAGE,
        "cmd": ["sh", "-c", f"mkdir -p /tmp/www && echo '{PAGE}' > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"],
        "expose": [{"port": 8080, "type": "web", "health_checks": [{"type": "http", "path": "/", "method": "GET",
                                                                    "expected_status": 200, "continuous": True}]}]}},
]}
NODE_TOKENS, POSTER_TOKENS = 20 * TOKEN, 10 * TOKEN
# The node's start-up notes that tell its stake step (worker/stake_setup.py), shown here.
NODE_NOTES = ("stake ", "staking ", "staked ", "         ", "joining ")
JOIN_TIMEOUT = 60


def tokens(units: int) -> str:
    return format_tokens(units, DECIMALS)


def count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def change(units: int) -> str:
    return ("+" if units >= 0 else "-") + tokens(abs(units))


def percent(bps: int) -> str:
    return f"{bps / 100:g}%"


def free_port() -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b, socket.socket() as c, socket.socket() as d:
                a.bind(("127.0.0.1", port)); b.bind(("127.0.0.1", port + 1)); c.bind(("127.0.0.1", port + 2))
                d.bind(("127.0.0.1", port + 3))
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


async def wait_joined(crowd: CrowdClient, market: Pubkey, worker: subprocess.Popen, log: Path) -> None:
    """Until the node waits in the market's queue; a node that exits (it refused to start)
    or takes too long ends the demo with its log."""
    deadline = time.monotonic() + JOIN_TIMEOUT
    while not (await crowd.get_market(market)).waiting_nodes():
        if worker.poll() is not None or time.monotonic() > deadline:
            what = f"exited {worker.returncode}" if worker.returncode is not None else f"did not join in {JOIN_TIMEOUT}s"
            raise RuntimeError(f"the node {what}; its log ({log}):\n{log.read_text(errors='replace')}")
        await asyncio.sleep(0.2)


def node_notes(log: Path) -> list[str]:
    """What the node printed about its stake up to joining the market (without colours, in
    case the environment forces them on a file)."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace")).splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith("joining ")), len(lines) - 1)
    return [line for line in lines[:end + 1] if line.startswith(NODE_NOTES)]


async def token_account(crowd: CrowdClient, address: Pubkey) -> int:
    found = await crowd.chain.account_data(address)
    return token_account_amount(found[0]) if found is not None else 0


async def flow(url: str, storage: str, wallets: Wallets, market: Pubkey, config: Pubkey, node, poster,
               worker: subprocess.Popen, log: Path, image: str = IMAGE) -> None:
    mint = wallets.mint
    async with CrowdClient(url, poster, storage=storage) as crowd, CrowdClient(url, node) as n:
        await wait_joined(crowd, market, worker, log)
        for line in node_notes(log):
            print(f"  node: {line}")
        view = await n.stakes.view(config)
        stake, cfg = view.stake, view.config
        m = await crowd.get_market(market)
        verdict = "admitted" if stake.weight >= m.min_stake else "NOT admitted"
        print(f"stake    {tokens(stake.amount)} tokens locked {format_span(stake.duration)} ({times(view.multiplier)}): weight "
              f"{stake.weight:,} >= min {m.min_stake:,}: {verdict}; the node waits for jobs")

        async def balances() -> tuple[int, int, int]:
            return await crowd.token_balance(mint), await n.token_balance(mint), await token_account(crowd, cfg.rewards_pool)

        before = await balances()
        print(f"balances before: poster {tokens(before[0])}, node {tokens(before[1])}, rewards pool {tokens(before[2])} tokens")
        t0 = time.monotonic()
        posted = await crowd.post(market, timeout=JOB_TIMEOUT, definition=parse(job(image)))
        fee = sum(e.data["fee"] for e in await crowd.events(posted.signature) if e.name == "NetworkFeePaid")
        print(f"posted job {posted.job}: deposit {tokens(posted.deposit)} tokens in escrow; network fee {tokens(fee)} tokens "
              f"({fee:,} base units, {percent(m.fee_bps)}, by the NetworkFeePaid event) paid to the stakers' rewards pool; waiting ...")
        done = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120,
                                    on_change=lambda v: print(f"  {v.status if v else 'closed'}"))
        if done is None or done.status != "done":
            raise RuntimeError(f"job {posted.job} ended {done.status if done else 'closed'}, not done; the node's log: {log}")
        cid, _, bundle = await crowd.result_bundle(posted.job)
        print(f"{done.status} in {time.monotonic() - t0:.2f}s; result {cid} (fetched and verified against the digest on-chain)\n")
        print(bundle.render())
        after = await balances()
        moved = [a - b for a, b in zip(after, before)]
        print(f"balances after:  poster {tokens(after[0])} ({change(moved[0])}), node {tokens(after[1])} ({change(moved[1])}), "
              f"rewards pool {tokens(after[2])} ({change(moved[2])}) tokens; paid {tokens(done.job.paid)} to the node, "
              f"{tokens(fee)} to the stakers")
        claim = await n.stakes.claim(config)
        received = await n.token_balance(mint) - after[1]
        left = await token_account(crowd, cfg.rewards_pool)
        rounding = "the whole fee" if claim.amount == fee else f"the fee less {count(fee - claim.amount, 'base unit')} of rounding"
        print(f"claimed  {tokens(claim.amount)} tokens ({claim.amount:,} base units by the Claimed event; node balance "
              f"{change(received)} tokens): the only staker, it gets {rounding}; the rewards pool keeps {tokens(left)} tokens")
        await service(crowd, n.pubkey, market)


async def service(crowd: CrowdClient, node: Pubkey, market: Pubkey) -> None:
    """A web server job: posted, healthy behind the node's front door, a page fetched
    through it, ended by the poster, its bundle attached by the node and verified."""
    import aiohttp

    print(f"\nservice  node {node} publishes its front door on-chain: {await crowd.node_url(node)} (its profile account)")
    t0 = time.monotonic()
    posted = await crowd.post(market, timeout=JOB_TIMEOUT, definition=parse(SERVICE))
    print(f"posted service job {posted.job} (web:8080 with an HTTP health check); waiting for its endpoint ...")
    deadline = time.monotonic() + 60
    endpoint = None
    while endpoint is None or endpoint["state"] != "healthy":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service's endpoint was not healthy within 60 s: {endpoint}")
        await asyncio.sleep(0.2)
        try:
            endpoint = next(iter(await crowd.endpoints(posted.job)), None)
        except Exception:  # noqa: BLE001 - not matched or not opened yet
            endpoint = None
    print(f"endpoint {endpoint['op']}:{endpoint['port']} {endpoint['state']} in {time.monotonic() - t0:.2f}s after posting: {endpoint['url']}")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get(endpoint["path_url"]) as response:
            body = (await response.text()).strip()
    print(f"fetched  {endpoint['path_url']} through the node's front door: {response.status} {body!r}")
    if body != PAGE:
        raise RuntimeError(f"the page through the front door was {body!r}, not {PAGE!r}")
    await crowd.end(posted.job)
    deadline = time.monotonic() + 60
    while not any((found := await crowd.get_job(posted.job)).result):
        if time.monotonic() > deadline:
            raise RuntimeError("the node did not attach the service's bundle within 60 s")
        await asyncio.sleep(0.2)
    cid, _, bundle = await crowd.result_bundle(found)
    health = " -> ".join(e.state for h in bundle.ops[0].health for e in h.history)
    print(f"ended    by the poster: node paid {tokens(found.paid)} tokens for {found.paid // MARKET.price_per_second} s; "
          f"bundle {cid} attached by the node and verified; health {health}")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # each line as it happens, into a pipe too (tee, the test)
    tmp = Path(tempfile.mkdtemp(prefix="crowd-demo-"))
    port = free_port()
    url, storage = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 2}"
    procs = [subprocess.Popen([sys.executable, "-m", "crowdcompute.cli", "localnet", "--rpc-port", str(port), "--ledger", str(tmp / "ledger"),
                               "--reset", "--quiet", "--slot-ms", "100", "--storage-port", str(port + 2)], cwd=ROOT)]
    try:
        asyncio.run(wait_rpc(url))
        print(f"localnet {url}, storage {storage}")
        wallets = asyncio.run(Wallets.create(url))
        market, _, config = asyncio.run(wallets.staked_market(MARKET, CURVE))
        node = asyncio.run(wallets.fund(tokens=NODE_TOKENS))
        print(f"mint     {wallets.mint} ({DECIMALS} decimals; amounts below in tokens)")
        print(f"staking  config {config}: locks {format_span(CURVE.min_duration)} to {format_span(CURVE.max_duration)}, "
              f"multiplier {times(CURVE.min_multiplier)} to {times(CURVE.max_multiplier)}")
        print(f"market   {market}: {tokens(MARKET.price_per_second)} tokens/s; min stake weight {MARKET.min_stake:,}; "
              f"slash {tokens(MARKET.slash_penalty)} token{'' if MARKET.slash_penalty == TOKEN else 's'} per reclaim ({percent(MARKET.reclaim_bounty_bps)} to the reclaimer); "
              f"network fee {percent(MARKET.fee_bps)} to the stakers")
        print(f"node     {node.pubkey()} ({tokens(NODE_TOKENS)} tokens)")
        node_key = write_keypair(node, tmp / "node.json")
        stake = ["--stake", "min", "--stake-duration", LOCK, "--yes"]
        door = ["--public-url", f"http://localhost:{port + 3}", "--listen", f"127.0.0.1:{port + 3}"]
        # the local registry is the operator's own: jobs may name it though it is on loopback
        door += ["--allow-private-source", REGISTRY]
        print(f"node     runs `crowd node start --market {market} {' '.join(stake)}`")
        print(f"node     and serves services: {' '.join(door)} (its front door, published in its on-chain profile)")
        log = tmp / "node.log"
        worker = subprocess.Popen([sys.executable, "-m", "crowdcompute.worker", "--market", str(market), "-u", url, "-k", str(node_key),
                                   "--storage", storage, "--state-dir", str(tmp / "node"), *stake, *door], cwd=ROOT,
                                  stdin=subprocess.DEVNULL, stderr=log.open("wb"))
        procs.append(worker)
        poster = asyncio.run(wallets.fund(tokens=POSTER_TOKENS))  # while the node starts
        print(f"poster   {poster.pubkey()} ({tokens(POSTER_TOKENS)} tokens)")
        image, how = demo_image()
        print(f"image    {how}")
        asyncio.run(flow(url, storage, wallets, market, config, node, poster, worker, log, image))
        worker.send_signal(signal.SIGTERM)
        print(f"node stopped: exit {worker.wait(60)} (its log: {log})")
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
