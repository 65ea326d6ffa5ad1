"""Worker benchmark (a script, not a test): prints a table, then as its LAST line one JSON
object: bare_docker_run_s (median `docker run --rm` of the no-op image), turnaround_p50_s
(post -> result verified by the poster, median over --jobs jobs on one node),
overhead_p50_s (their difference), match_to_start_p50_s (the poster's notification of the
match -> the container's start, from the bundle), stages_p50_s (where a turnaround's time
goes, each stage's median; they add up to about turnaround_p50_s), jobs_per_min (--workers
nodes x --throughput-jobs no-op jobs, all settled), workers, jobs, and the service figures
(a node with a front door, --services web-server jobs one after another):
service_ready_p50_s (post -> the endpoint healthy and answering through the front door),
bare_service_ready_s (a bare `docker run` of the same server until it answers),
service_overhead_p50_s (their difference; target <= 1 s), proxy_added_ms_p50 (a request
through the front door minus the same request straight to the container, p50 of
--proxy-requests each; target <= 1 ms). Streaming, websockets and the node's memory with 50
endpoints: scripts/bench_frontdoor.py. And bench_resources.py's figures (a job with a cached
resource against one with none: cached_resource_extra_p50_s).

The stages, on one clock (the node's log lines carry milliseconds; the poster and the node
run on this machine):
  post           the poster's post, sent and confirmed
  match          confirmed -> the node hears of the match (`event=matched`)
  prepare        -> the node starts the job (`event=start`: its entry read, the job watched)
  to_container   -> the op starts (the bundle's started_at: definition fetched and
                 checked, the job's network if it has one)
  container      the op (the bundle's started_at -> ended_at): its container created and
                 started, the program's run, its exit seen, the container removed
  after_exit     -> the executor is done (`event=ran`: the bundle made)
  settle         -> the poster sees the job done (bundle stored, `finish` confirmed and
                 notified)
  fetch_verify   -> the poster has the bundle, checked against the digest on-chain

    .venv/bin/python scripts/bench_worker.py --jobs 20 --workers 4 --throughput-jobs 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers, imported as tests.*

from crowdcompute.client.bundle import parse_timestamp  # noqa: E402
from crowdcompute.client.crowd import CrowdClient  # noqa: E402
from crowdcompute.client.jobs.program import MarketSettings  # noqa: E402
from crowdcompute.client.jobspec import parse  # noqa: E402
from crowdcompute.worker.local_image import IMAGE  # noqa: E402
from tests.localnet.localnet_helpers import ThreadServer  # noqa: E402
from tests.sdk.chain_setup import Wallets  # noqa: E402
from tests.worker.helpers import StorageThread, Worker  # noqa: E402

HTTPD = "mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"
WEB = parse({"version": "0.1", "type": "container", "ops": [{"type": "container/run", "id": "web", "args": {
    "image": IMAGE, "cmd": ["sh", "-c", HTTPD],
    "expose": [{"port": 8080, "health_checks": [{"type": "http", "path": "/", "method": "GET", "expected_status": 200}]}]}}]})
NOOP = parse({"version": "0.1", "type": "container", "ops": [{"type": "container/run", "id": "noop", "args": {"image": IMAGE, "cmd": ["true"]}}]})


def bare_docker(n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", IMAGE, "true"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def one_job(url, storage, poster, market) -> tuple[float, float, dict[str, float], str]:
    async with CrowdClient(url, poster, storage=storage) as crowd:
        seen: dict[str, float] = {}
        t0 = time.time()
        posted = await crowd.post(market, timeout=60, definition=NOOP)
        marks = {"t0": t0, "posted": time.time()}
        await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120,
                             on_change=lambda v: seen.setdefault(v.status if v else "closed", time.time()))
        marks["done_seen"] = time.time()
        _, _, bundle = await crowd.result_bundle(posted.job)
        done = time.time()
        marks["fetched"] = done
        marks["container_started"] = parse_timestamp(bundle.ops[0].started_at).timestamp()
        marks["container_ended"] = parse_timestamp(bundle.ops[0].ended_at).timestamp()
        matched = seen.get("running", t0)
        return done - t0, marks["container_started"] - matched, marks, str(posted.job)


NODE_EVENTS = {"matched": "event=matched", "start": "event=start", "ran": "event=ran"}
STAGES = [("post", "t0", "posted"), ("match", "posted", "matched"), ("prepare", "matched", "start"),
          ("to_container", "start", "container_started"), ("container", "container_started", "container_ended"),
          ("after_exit", "container_ended", "ran"), ("settle", "ran", "done_seen"), ("fetch_verify", "done_seen", "fetched")]


def node_marks(log: str, job: str) -> dict[str, float]:
    """When the node logged each of NODE_EVENTS for `job` (its log lines start with local
    time to the millisecond)."""
    marks: dict[str, float] = {}
    for line in log.splitlines():
        if f"job={job} " not in line:
            continue
        for name, event in NODE_EVENTS.items():
            if event in line and name not in marks:
                marks[name] = datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
    return marks


def stage_medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(statistics.median(run[end] - run[start] for run in runs), 3) for name, start, end in STAGES}


async def answers(session, url: str, deadline: float, headers=None) -> None:
    while True:
        try:
            async with session.get(url, headers=headers) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not listening yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        await asyncio.sleep(0.02)


async def bare_service(n: int) -> float:
    """`docker run -d` of the web server until it answers on its address."""
    import aiohttp

    times = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for _ in range(n):
            t0 = time.perf_counter()
            cid = subprocess.run(["docker", "run", "-d", "--rm", IMAGE, "sh", "-c", HTTPD], check=True, capture_output=True,
                                 text=True).stdout.strip()
            ip = subprocess.run(["docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", cid], check=True, capture_output=True,
                                text=True).stdout.strip()
            await answers(session, f"http://{ip}:8080/", time.monotonic() + 30)
            times.append(time.perf_counter() - t0)
            subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    return statistics.median(times)


async def services(url, storage, poster, market, n: int, requests: int) -> tuple[float, float]:
    """(post -> healthy and answering through the door, p50 s; the door's added ms at p50)."""
    import aiohttp

    ready, added = [], 0.0
    async with CrowdClient(url, poster, storage=storage) as crowd, \
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for i in range(n):
            t0 = time.monotonic()
            posted = await crowd.post(market, timeout=120, definition=WEB)
            endpoint = None
            while endpoint is None or endpoint["state"] != "healthy":
                if time.monotonic() > t0 + 60:
                    raise RuntimeError("no healthy endpoint within 60 s")
                try:
                    endpoint = next(iter(await crowd.endpoints(posted.job)), None)
                except Exception:  # noqa: BLE001 - not matched or not opened yet
                    endpoint = None
                if endpoint is None or endpoint["state"] != "healthy":
                    await asyncio.sleep(0.02)
            await answers(session, endpoint["path_url"], t0 + 60)
            ready.append(time.monotonic() - t0)
            if i == n - 1:
                added = await proxy_added_ms(session, endpoint["path_url"], str(posted.job), requests)
            await crowd.end(posted.job)
            while not (await crowd.get_market(market)).waiting_nodes():  # the node attaches the bundle and re-enters:
                await asyncio.sleep(0.05)  # the next post then matches at once, as a batch job's does
    return statistics.median(ready), added


async def proxy_added_ms(session, door_url: str, job: str, requests: int) -> float:
    """The same small GET through the front door and straight to the container (its
    address on the job's network, which this host reaches as the node does)."""
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=crowdcompute.job={job}"], check=True, capture_output=True,
                         text=True).stdout.split()
    ip = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", ids[0]], check=True,
                        capture_output=True, text=True).stdout.strip()

    async def p50(url: str) -> float:
        samples = []
        for _ in range(requests):
            t0 = time.perf_counter()
            async with session.get(url) as r:
                await r.read()
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    direct, through = [], []
    for _ in range(3):  # interleaved rounds: the machine's noise falls on both
        direct.append(await p50(f"http://{ip}:8080/"))
        through.append(await p50(door_url))
    return (statistics.median(through) - statistics.median(direct)) * 1000


async def throughput(url, storage, wallets, market, jobs: int) -> float:
    posters = [await wallets.fund(tokens=10_000_000) for _ in range(8)]
    sem = asyncio.Semaphore(16)

    async def one(i):
        async with sem:
            async with CrowdClient(url, posters[i % len(posters)], storage=storage) as crowd:
                posted = await crowd.post(market, timeout=120, definition=NOOP)
                view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=600)
                return view.status

    t0 = time.time()
    statuses = await asyncio.gather(*(one(i) for i in range(jobs)))
    elapsed = time.time() - t0
    assert all(s == "done" for s in statuses), statuses
    return jobs / elapsed * 60


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=20, help="jobs of the turnaround phase, one after another on one node (default 20)")
    ap.add_argument("--workers", type=int, default=4, help="nodes of the throughput phase (default 4)")
    ap.add_argument("--throughput-jobs", type=int, default=200, help="no-op jobs posted in the throughput phase, taken by all the nodes (default 200)")
    ap.add_argument("--services", type=int, default=10, help="web-server jobs of the service phase, one after another (default 10)")
    ap.add_argument("--proxy-requests", type=int, default=200, help="requests per round of the proxy comparison (default 200)")
    ap.add_argument("--resource-jobs", type=int, default=10, help="jobs of each kind in bench_resources.py's phase (default 10)")
    args = ap.parse_args()
    for name in ("jobs", "workers", "throughput_jobs", "services", "proxy_requests", "resource_jobs"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    subprocess.run([sys.executable, "-m", "crowdcompute.worker.local_image"], check=True, cwd=ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="crowd-bench-"))
    net = ThreadServer(tmp / "ledger", slot_ms=100)
    store = StorageThread(tmp / "storage")
    started: list[Worker] = []
    try:
        wallets = asyncio.run(Wallets.create(net.url))
        settings = MarketSettings(price_per_second=1, max_timeout=600, retention=1, max_attempts=2, max_entries_per_node=4)
        market = asyncio.run(wallets.market(settings, capacity=256))[0]
        bare = bare_docker(5)
        w = Worker(tmp, net.url, asyncio.run(wallets.fund()), market, store.url, name="single", executor=None)
        started.append(w)
        w.wait_log("event=entered", timeout=120)
        poster = asyncio.run(wallets.fund(tokens=10_000_000))
        turn, m2s, runs = [], [], []
        for _ in range(args.jobs):
            t, s, marks, job = asyncio.run(one_job(net.url, store.url, poster, market))
            turn.append(t)
            m2s.append(s)
            runs.append((marks, job))
            asyncio.run(asyncio.sleep(0.3))  # the node re-enters; the next post then matches at once
        log = w.log()
        stages = stage_medians([{**marks, **node_marks(log, job)} for marks, job in runs])
        w.terminate()
        market2 = asyncio.run(wallets.market(settings, capacity=256))[0]
        for i in range(args.workers):
            wi = Worker(tmp, net.url, asyncio.run(wallets.fund()), market2, store.url, name=f"w{i}", executor=None)
            started.append(wi)
        for wi in started[1:]:
            wi.wait_log("event=entered", timeout=120)
        jpm = asyncio.run(throughput(net.url, store.url, wallets, market2, args.throughput_jobs))
        for wi in started[1:]:
            wi.terminate()
        bare_svc = asyncio.run(bare_service(5))
        market3 = asyncio.run(wallets.market(settings, capacity=16))[0]
        port = free_port()
        door = Worker(tmp, net.url, asyncio.run(wallets.fund()), market3, store.url, name="door", executor=None,
                      extra=("--public-url", f"http://127.0.0.1:{port}", "--listen", f"127.0.0.1:{port}"))
        started.append(door)
        door.wait_log("event=entered", timeout=120)
        ready, added = asyncio.run(services(net.url, store.url, poster, market3, args.services, args.proxy_requests))
        result = {"bare_docker_run_s": round(bare, 3), "turnaround_p50_s": round(statistics.median(turn), 3),
                  "overhead_p50_s": round(statistics.median(turn) - bare, 3), "match_to_start_p50_s": round(statistics.median(m2s), 3),
                  "stages_p50_s": stages, "jobs_per_min": round(jpm, 1), "workers": args.workers, "jobs": args.throughput_jobs,
                  "service_ready_p50_s": round(ready, 3), "bare_service_ready_s": round(bare_svc, 3),
                  "service_overhead_p50_s": round(ready - bare_svc, 3), "proxy_added_ms_p50": round(added, 3),
                  "services": args.services}
        from bench_resources import resource_start  # beside this script

        result.update(resource_start(args.resource_jobs))
        print(f"{'measure':28} value")
        for k, v in result.items():
            if k == "stages_p50_s":
                for stage, seconds in v.items():
                    print(f"  stage {stage:20} {seconds}")
            else:
                print(f"{k:28} {v}")
        print(json.dumps(result))
        return 0
    finally:
        for wi in started:
            wi.stop()
        store.stop()
        net.stop()


if __name__ == "__main__":
    sys.exit(main())
