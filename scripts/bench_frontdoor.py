"""Benchmark the node's front door (worker/frontdoor/): what it adds to a request.

Prints:
  - p50/p99 latency of a small GET straight to a service and through the door (same run,
    interleaved), and the added ms at p50 (target: <= 1 ms)
  - time to the first chunk of a streamed answer whose second chunk comes 0.5 s later,
    straight and through (the door adds ~nothing and never waits for the whole body)
  - websocket round trip (send, echo back) straight and through
  - the door process's RSS with no endpoints and with 50 registered and idle

The service and each door run in processes of their own (this script, re-invoked), so the
client's event loop does not share a CPU turn with what it measures.

    .venv/bin/python scripts/bench_frontdoor.py [--requests 2000] [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

STREAM_PAUSE_S = 0.5


# -- the processes this script starts -------------------------------------------------

async def serve_target() -> None:
    async def small(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first\n")
        await asyncio.sleep(STREAM_PAUSE_S)
        await response.write(b"second\n")
        await response.write_eof()
        return response

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.add_routes([web.get("/", small), web.get("/stream", stream), web.get("/ws", echo)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


async def serve_door(target_port: int, endpoints: int) -> None:
    from crowdcompute.worker.endpoints import HEALTHY, EndpointRegistry
    from crowdcompute.worker.frontdoor import FrontDoor

    class Feeds:
        def owner(self, job: str) -> None:
            return None

        def log_path(self, job: str) -> Path:
            return Path("/nonexistent")

        async def stats(self, job: str) -> dict:
            return {}

    registry = EndpointRegistry()
    ids = []
    for i in range(endpoints):
        ep = registry.open(f"BenchJob{i}", "svc", 8000)
        registry.set_target(ep.id, "127.0.0.1", target_port)
        registry.set_state(ep.id, HEALTHY, "bench")
        ids.append(ep.id)
    door = FrontDoor(registry, Feeds(), node="BenchNode", public_url="http://node.bench", info=dict)
    await door.start()
    print(door.url, " ".join(ids), flush=True)
    await asyncio.Event().wait()


def start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- measurements -----------------------------------------------------------------------

def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def latency(session: aiohttp.ClientSession, direct: str, door: str, host: str, n: int) -> None:
    straight, through = [], []
    for _ in range(50):  # warm both pools
        async with session.get(direct) as r:
            await r.read()
        async with session.get(door, headers={"Host": host}) as r:
            await r.read()
    for _ in range(n):
        t = time.perf_counter()
        async with session.get(direct) as r:
            await r.read()
        straight.append(time.perf_counter() - t)
        t = time.perf_counter()
        async with session.get(door, headers={"Host": host}) as r:
            assert r.status == 200
            await r.read()
        through.append(time.perf_counter() - t)
    print(f"small GET ({n} each, keep-alive, interleaved)")
    print(f"  straight  p50 {pct(straight, .5):.3f} ms  p99 {pct(straight, .99):.3f} ms")
    print(f"  via door  p50 {pct(through, .5):.3f} ms  p99 {pct(through, .99):.3f} ms")
    print(f"  added at p50: {pct(through, .5) - pct(straight, .5):.3f} ms (target <= 1 ms)")


async def first_chunk(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> tuple[float, float]:
    t = time.perf_counter()
    async with session.get(url, headers=headers) as r:
        await r.content.readany()
        first = time.perf_counter() - t
        await r.read()
        return first, time.perf_counter() - t


async def streaming(session: aiohttp.ClientSession, direct: str, door: str, host: str) -> None:
    rows = {"straight": [], "via door": []}
    for _ in range(5):
        rows["straight"].append(await first_chunk(session, direct, {}))
        rows["via door"].append(await first_chunk(session, door, {"Host": host}))
    print(f"streamed answer (second chunk {STREAM_PAUSE_S * 1000:.0f} ms after the first; median of 5)")
    for name, samples in rows.items():
        firsts, totals = [s[0] for s in samples], [s[1] for s in samples]
        print(f"  {name:9} first chunk {statistics.median(firsts) * 1000:.2f} ms  whole {statistics.median(totals) * 1000:.1f} ms")


async def ws_round_trip(session: aiohttp.ClientSession, direct: str, door: str, host: str, n: int) -> None:
    results = {}
    for name, url, headers in (("straight", direct, {}), ("via door", door, {"Host": host})):
        async with session.ws_connect(url, headers=headers) as ws:
            samples = []
            for i in range(n):
                t = time.perf_counter()
                await ws.send_str(f"m{i}")
                msg = await ws.receive()
                assert msg.data == f"m{i}"
                samples.append(time.perf_counter() - t)
        results[name] = samples
    print(f"websocket round trip ({n} messages)")
    for name, samples in results.items():
        print(f"  {name:9} p50 {pct(samples, .5):.3f} ms  p99 {pct(samples, .99):.3f} ms")
    print(f"  added at p50: {pct(results['via door'], .5) - pct(results['straight'], .5):.3f} ms")


async def main(args: argparse.Namespace) -> None:
    target, port = start("--serve-target")
    empty, _ = start("--serve-door", port, "0")
    fifty, line = start("--serve-door", port, "50")
    door_url, *ids = line.split()
    host = f"{ids[0]}.node.bench"
    try:
        await asyncio.sleep(0.5)
        rss_empty, rss_fifty = rss_kib(empty.pid), rss_kib(fifty.pid)
        direct = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            await latency(session, direct + "/", door_url + "/", host, args.requests)
            await streaming(session, direct + "/stream", door_url + "/stream", host)
            await ws_round_trip(session, direct + "/ws", door_url + "/ws", host, args.messages)
        print("door process RSS")
        print(f"  no endpoints            {rss_empty / 1024:.1f} MiB")
        print(f"  50 endpoints, idle      {rss_fifty / 1024:.1f} MiB (+{(rss_fifty - rss_empty):d} KiB)")
        print(f"  50 endpoints, after run {rss_kib(fifty.pid) / 1024:.1f} MiB")
    finally:
        for proc in (target, empty, fifty):
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--serve-target", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-door", nargs=2, metavar=("TARGET_PORT", "ENDPOINTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_target:
        asyncio.run(serve_target())
    elif args.serve_door:
        asyncio.run(serve_door(int(args.serve_door[0]), int(args.serve_door[1])))
    else:
        asyncio.run(main(args))
