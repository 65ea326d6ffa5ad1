"""A service job end to end: a node daemon with a front door (--public-url) and the real
executor, a poster on a live localnet. The poster finds the node's front door from the
node's on-chain profile, sees the endpoint come up healthy, reaches the page through the
door (by host name and by path), follows the logs and reads the stats (signed by its
wallet; anyone else gets 401), while an op of the same job finds the node's API shut to it;
then the poster's `end` stops it and the bundle (with the health history) is attached."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import parse
from crowdcompute.client.node_api import NodeApi, NodeUnauthorized, auth_header

from crowdcompute.client.keypair import write_keypair

from .helpers import CROWD, REPO, job, op, wait_until

PAGE = "hello-through-the-front-door"
HTTPD = (f"mkdir -p /tmp/www && echo {PAGE} > /tmp/www/index.html && echo ok > /tmp/www/health && echo serving && "
         "exec httpd -f -p 8080 -h /tmp/www")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(port: int) -> str:
    """From inside the job, once the service is healthy: the service by its op id (the
    job's own network), then the node's front door at every address of the host a
    container could guess. busybox-static's wget crashes in glibc's resolver (static NSS),
    so nslookup (busybox's own DNS client) finds the address and nc speaks HTTP."""
    get = "printf 'GET %s HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s %s 2>/dev/null"
    return ("ip=$(nslookup web 2>/dev/null | awk '/^Address/ {a=$NF} END {print a}'); "
            + (get % ("/", "$ip", "8080")) + " | grep -q " + PAGE + " && echo sibling-reached-$ip; "
            "gw=$(echo $ip | awk -F. '{print $1\".\"$2\".\"$3\".1\"}'); "
            f"for a in $gw 172.17.0.1 127.0.0.1; do if " + (get % ("/api/info", "$a", port)) + " | grep -q public_url; "
            "then echo door-reached-$a; else echo door-shut-$a; fi; done; sleep 600")


def service(port: int) -> dict:
    web = {**op("web", ["sh", "-c", HTTPD], expose=[{"port": 8080, "type": "web", "health_checks": [
        {"type": "http", "path": "/health", "method": "GET", "expected_status": 200, "continuous": True}]}]),
        "execution": {"group": "svc"}}
    # depends_on a service: starts once its endpoint is first healthy
    prober = {**op("probe", ["sh", "-c", probe(port)]), "execution": {"group": "svc", "depends_on": ["web"]}}
    return job(web, prober)


def crowd_json(*argv: str) -> dict:
    """`crowd ... --output json` as a poster runs it."""
    run = subprocess.run([sys.executable, "-c", CROWD, *argv, "--output", "json"], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_a_service_job_through_the_front_door(localnet, storage, wallets, poster, market, workers, test_image, tmp_path):
    port = free_port()
    public = f"http://localhost:{port}"
    node = workers("svc", executor=None, extra=("--public-url", public, "--listen", f"0.0.0.0:{port}"))
    node.wait_log("event=entered", timeout=90)
    assert "event=profile" in node.log()
    stranger = asyncio.run(wallets.fund())

    async def go():
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            assert await crowd.node_url(node.pubkey) == public  # the profile names the door
            posted = await crowd.post(market, timeout=300, definition=parse(service(port)))
            job_id = str(posted.job)
            await crowd.wait_for(posted.job, ["running"], timeout=60)

            async def healthy():
                try:
                    eps = await crowd.endpoints(posted.job)
                except Exception:  # noqa: BLE001 - the task may not have opened it yet
                    return None
                return eps if eps and all(e["state"] == "healthy" for e in eps) else None

            (ep,) = await wait_until(healthy, timeout=60, interval=0.25)
            assert ep["op"] == "web" and ep["port"] == 8080 and ep["url"]
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                async with http.get(ep["path_url"]) as r:  # the path form
                    assert r.status == 200 and PAGE in await r.text()
                async with http.get(f"http://127.0.0.1:{port}/", headers={"Host": f"{ep['id']}.localhost:{port}"}) as r:
                    assert r.status == 200 and PAGE in await r.text()  # the host-name form
                async with http.get(f"http://127.0.0.1:{port}/", headers={"Host": f"nosuchendpoint.localhost:{port}"}) as r:
                    assert r.status == 404

            # live logs and stats: the poster's own, signed by its wallet
            lines = []
            async for line in crowd.follow_logs(posted.job, "web"):
                lines.append(line)
                if "serving" in line:
                    break
            assert any("serving" in line for line in lines)
            stats = await crowd.stats(posted.job)
            assert stats["ops"]["web"]["memory_bytes"] > 0

            # the same through the CLI, as a poster types it
            key = str(write_keypair(poster, tmp_path / "poster.json"))
            shown = crowd_json("job", "endpoints", job_id, "-u", localnet.url, "-k", key)
            assert [(e["op"], e["state"], e["path_url"]) for e in shown["endpoints"]] == [("web", "healthy", ep["path_url"])]
            assert crowd_json("job", "stats", job_id, "-u", localnet.url, "-k", key)["ops"]["web"]["memory_bytes"] > 0

            # anyone else, an expired proof, or none: 401
            async with NodeApi(public, str(node.pubkey), stranger) as other:
                with pytest.raises(NodeUnauthorized):
                    await other.stats(job_id)
            async with aiohttp.ClientSession() as http:
                expired = auth_header(poster, job_id, str(node.pubkey), expires=int(time.time()) - 5)
                for headers in ({}, {"Authorization": expired}):
                    async with http.get(f"{public}/api/jobs/{job_id}/stats", headers=headers) as r:
                        assert r.status == 401

            async def probed() -> None:  # the probe op has tried the door at every address
                seen = 0
                async for line in crowd.follow_logs(posted.job, "probe"):
                    seen += "door-" in line
                    if seen == 3:
                        return

            await asyncio.wait_for(probed(), 60)
            await crowd.end(posted.job)

            async def attached():
                found = await crowd.get_job(posted.job)
                return found if any(found.result) else None

            found = await wait_until(attached, timeout=90, interval=0.5)
            return found, (await crowd.result_bundle(found))[2]

    found, bundle = asyncio.run(go())
    assert found.state == "Ended"
    web, prober = (next(o for o in bundle.ops if o.id == name) for name in ("web", "probe"))
    states = [e.state for h in web.health for e in h.history]
    assert states[:2] == ["starting", "healthy"] or states[0] == "healthy", states
    out = prober.stdout.text
    assert "sibling-reached" in out, (out, prober.stderr.text)  # ops of one job reach each other (nc works)
    assert "door-reached" not in out and out.count("door-shut-") == 3, out  # never the node's door

    # `crowd job post FILE --wait` as a poster runs it: its live lines (stderr, not a
    # terminal: one line per change) show the endpoint and its health once the node reports
    # them; the poster's end then ends the wait ("ended": not done, exit 1).
    spec = tmp_path / "web.json"
    spec.write_text(json.dumps(job({**op("web", ["sh", "-c", HTTPD], expose=[{"port": 8080, "health_checks": [
        {"type": "http", "path": "/health", "method": "GET", "expected_status": 200}]}])})))
    key = str(write_keypair(poster, tmp_path / "poster.json"))
    waiting = subprocess.Popen([sys.executable, "-c", CROWD, "job", "post", str(spec), "--market", str(market), "--wait",
                                "--timeout", "5m", "-u", localnet.url, "-k", key, "--storage", storage.url],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in waiting.stderr:
            seen.append(line)
            if " healthy http" in line and "endpoint web:8080" in line:
                break
        assert any("endpoint web:8080 healthy http" in line for line in seen), "".join(seen)
        posted = next(line.split()[2] for line in seen if line.startswith("posted job "))

        async def end():
            async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
                await crowd.end(posted)

        asyncio.run(end())
        out, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 1 and "was ended by its poster" in err, (out, err)
    finally:
        if waiting.poll() is None:
            waiting.kill()
