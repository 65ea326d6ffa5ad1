"""The node API on a real front door: info, endpoints (public and private), the owner's
signature (every way to get it wrong), logs (plain and followed live over a websocket),
stats of a real container on the engine; through the client (NodeApi, SyncNodeApi)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from solders.keypair import Keypair

from crowdcompute.client.errors import CrowdError
from crowdcompute.client.node_api import (
    NodeApi, NodeApiError, NodeUnauthorized, NodeUnreachable, SyncNodeApi, auth_header, parse_log_line,
)
from crowdcompute.worker.containers import labels
from crowdcompute.worker.endpoints import HEALTHY, EndpointRegistry
from crowdcompute.worker.frontdoor import EngineFeeds, FrontDoor
from crowdcompute.worker.logs import JobLog
from crowdcompute.worker.nvml import read_gpus
from crowdcompute.worker.frontdoor.stats import container_stats, gpu_stats

from .conftest import fixture_path, job_id
from .recorded_nvml import RecordedNVML

NODE = "NodeAddress111"
PUBLIC = "https://node.test"
JOB = "JobAddress111"
POSTER = Keypair()
STRANGER = Keypair()


class Feeds:
    """The node's side for API tests: owners by hand, a real log folder, fixed stats."""

    def __init__(self, log_dir: Path) -> None:
        self.owners: dict[str, str] = {}
        self.log_dir = log_dir
        self.stats_calls = 0

    def owner(self, job: str) -> str | None:
        return self.owners.get(job)

    def log_path(self, job: str) -> Path:
        return self.log_dir / f"{job}.log"

    async def stats(self, job: str) -> dict:
        self.stats_calls += 1
        await asyncio.sleep(0.2)  # the engine samples for a while
        return {"svc": {"cpu_percent": 1.5, "memory_bytes": 1 << 20, "memory_limit": 1 << 26,
                        "net_rx_bytes": 0, "net_tx_bytes": 0, "pids": 1, "gpus": []}}


@pytest.fixture
def feeds(tmp_path: Path) -> Feeds:
    f = Feeds(tmp_path / "logs")
    f.owners[JOB] = str(POSTER.pubkey())
    return f


@pytest_asyncio.fixture
async def door(feeds):
    d = FrontDoor(EndpointRegistry(), feeds, node=NODE, public_url=PUBLIC,
                  info=lambda: {"gpus": {"count": 0}, "cpus": 2})
    await d.start()
    yield d
    await d.close()


@pytest_asyncio.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def signed(keypair: Keypair = POSTER, job: str = JOB, node: str = NODE, expires: float | None = None) -> dict:
    return {"Authorization": auth_header(keypair, job, node, None if expires is None else int(expires))}


@pytest.mark.asyncio
async def test_info(door, http):
    async with http.get(f"{door.url}/api/info") as r:
        body = await r.json()
    assert body["node"] == NODE and body["public_url"] == PUBLIC and body["cpus"] == 2
    assert body["version"] and body["endpoints"] == 0


@pytest.mark.asyncio
async def test_endpoints_public_and_private(door, http):
    public = door.registry.open(JOB, "svc", 8000)
    private = door.registry.open(JOB, "admin", 9000, private=True)
    door.registry.set_state(public.id, HEALTHY, "GET / -> 200 in 3 ms")
    door.registry.open("OtherJob", "svc", 8000)
    async with http.get(f"{door.url}/api/jobs/{JOB}/endpoints") as r:
        listed = (await r.json())["endpoints"]
    assert [e["id"] for e in listed] == [public.id]  # a stranger never learns the private id
    e = listed[0]
    assert e["url"] == e["host_url"] == f"https://{public.id}.node.test/"
    assert e["path_url"] == f"https://node.test/e/{public.id}/"
    assert e["state"] == HEALTHY and e["detail"] == "GET / -> 200 in 3 ms" and e["type"] == "webapi"
    assert [h["state"] for h in e["history"]] == [HEALTHY]
    async with http.get(f"{door.url}/api/jobs/{JOB}/endpoints", headers=signed()) as r:
        assert {e["id"] for e in (await r.json())["endpoints"]} == {public.id, private.id}
    async with http.get(f"{door.url}/api/jobs/{JOB}/endpoints", headers=signed(STRANGER)) as r:
        assert r.status == 401  # a wrong signature is refused, not quietly taken as none
    async with http.get(f"{door.url}/api/jobs/NoSuchJob/endpoints") as r:
        assert r.status == 404


def bad_headers() -> dict[str, dict]:
    now = time.time()
    good = signed()["Authorization"]
    signer, expires, signature = good.split(" ", 1)[1].split(":")
    return {
        "none": {},
        "malformed": {"Authorization": "CrowdSig nonsense"},
        "another scheme": {"Authorization": "Bearer " + good.split(" ", 1)[1]},
        "bad signature text": {"Authorization": f"CrowdSig {signer}:{expires}:notbase58!"},
        "expired": signed(expires=now - 1),
        "too far ahead": signed(expires=now + 3600),
        "another wallet": signed(STRANGER),
        "another job": signed(job="OtherJob"),
        "another node": signed(node="OtherNode"),
        "signer field swapped": {"Authorization": f"CrowdSig {STRANGER.pubkey()}:{expires}:{signature}"},
        "expiry edited": {"Authorization": f"CrowdSig {signer}:{int(expires) + 5}:{signature}"},
        "huge": {"Authorization": "CrowdSig " + "A" * 5000},
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("route", ["stats", "logs"])
async def test_owner_only_routes_refuse_every_bad_signature(door, http, route):
    for case, headers in bad_headers().items():
        async with http.get(f"{door.url}/api/jobs/{JOB}/{route}", headers=headers) as r:
            assert r.status == 401, case
            assert (await r.json())["error"], case
    async with http.get(f"{door.url}/api/jobs/{JOB}/{route}", headers=signed()) as r:
        assert r.status == 200


@pytest.mark.asyncio
async def test_a_job_that_does_not_run_here_has_no_owner(door, feeds, http):
    headers = signed()
    del feeds.owners[JOB]
    async with http.get(f"{door.url}/api/jobs/{JOB}/stats", headers=headers) as r:
        assert r.status == 401 and "does not run on this node" in (await r.json())["error"]


@pytest.mark.asyncio
async def test_websocket_logs_refuse_a_stranger_before_upgrading(door, http):
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(f"{door.url}/api/jobs/{JOB}/logs", headers=signed(STRANGER))
    assert err.value.status == 401


def write_lines(feeds: Feeds, job: str = JOB) -> JobLog:
    log = JobLog(feeds.log_path(job))
    log.note("op svc started")
    log.lines("svc", "stdout", [b"loading model", b"listening on :8000"])
    log.lines("side", "stderr", [b"warming up"])
    return log


@pytest.mark.asyncio
async def test_plain_logs_and_op_filter(door, feeds):
    write_lines(feeds).close()
    async with NodeApi(door.url, NODE, POSTER) as api:
        lines = await api.logs(JOB)
        assert [parse_log_line(line).text for line in lines] == ["op svc started", "loading model", "listening on :8000", "warming up"]
        svc = [parse_log_line(line) for line in await api.logs(JOB, op="svc")]
    assert [(p.op, p.stream, p.text) for p in svc] == [("svc", "stdout", "loading model"), ("svc", "stdout", "listening on :8000")]


@pytest.mark.asyncio
async def test_plain_logs_are_the_last_mib(door, feeds, http):
    log = JobLog(feeds.log_path(JOB))
    for i in range(300):
        log.lines("svc", "stdout", [f"{i:04d} ".encode() + b"x" * 4000])
    log.close()
    async with http.get(f"{door.url}/api/jobs/{JOB}/logs", headers=signed()) as r:
        body = await r.json()
    assert body["truncated"] is True
    assert sum(len(line) + 1 for line in body["lines"]) <= 1 << 20
    assert body["lines"][-1].split("| ")[1].startswith("0299 ")
    assert all(parse_log_line(line) for line in body["lines"])  # the cut first line was dropped


@pytest.mark.asyncio
async def test_follow_logs_live_until_the_job_ends(door, feeds):
    log = write_lines(feeds)
    async with NodeApi(door.url, NODE, POSTER) as api:
        lines = api.follow_logs(JOB, op="svc")
        first = await asyncio.wait_for(lines.__anext__(), 3)
        assert first.endswith("svc stdout| loading model")
        assert (await asyncio.wait_for(lines.__anext__(), 3)).endswith("listening on :8000")
        # written after the client connected: arrives while the job runs
        log.lines("svc", "stdout", [b"request 1 done"])
        assert (await asyncio.wait_for(lines.__anext__(), 3)).endswith("request 1 done")
        log.lines("side", "stdout", [b"not this op"])
        log.lines("svc", "stderr", [b"last words"])
        del feeds.owners[JOB]  # the job ended on the node: what is left is sent, then the end
        assert (await asyncio.wait_for(lines.__anext__(), 3)).endswith("svc stderr| last words")
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(lines.__anext__(), 3)
    log.close()


@pytest.mark.asyncio
async def test_closing_the_door_ends_a_followed_log(feeds):
    log = write_lines(feeds)
    door = FrontDoor(EndpointRegistry(), feeds, node=NODE, public_url=PUBLIC, info=dict)
    await door.start()
    async with NodeApi(door.url, NODE, POSTER) as api:
        lines = api.follow_logs(JOB, op="svc")
        await asyncio.wait_for(lines.__anext__(), 3)
        closing = asyncio.create_task(door.close())

        async def rest() -> list[str]:
            return [line async for line in lines]

        left = await asyncio.wait_for(rest(), 3)  # the node going away ends the iteration, no error
        assert all(line.endswith("listening on :8000") for line in left)
        await asyncio.wait_for(closing, 4)
    log.close()


@pytest.mark.asyncio
async def test_follow_logs_from_now(door, feeds):
    log = write_lines(feeds)
    async with NodeApi(door.url, NODE, POSTER) as api:
        lines = api.follow_logs(JOB, from_start=False)
        task = asyncio.ensure_future(lines.__anext__())
        await asyncio.sleep(0.5)  # connected and at the end of the file
        log.lines("svc", "stdout", [b"new line"])
        assert (await asyncio.wait_for(task, 3)).endswith("svc stdout| new line")
        await lines.aclose()
    log.close()


@pytest.mark.asyncio
async def test_logs_websocket_with_the_query_parameter(door, feeds, http):
    write_lines(feeds).close()
    header = signed()["Authorization"]
    async with http.ws_connect(f"{door.url}/api/jobs/{JOB}/logs", params={"auth": header, "follow": "0"}) as ws:
        got = []
        async for msg in ws:
            got.append(msg.data)
            await asyncio.sleep(0.1)  # a slow reader still gets the whole close handshake
    assert len(got) == 4 and ws.close_code == 1000 and ws.exception() is None


@pytest.mark.asyncio
async def test_client_routes_and_errors(door, feeds):
    ep = door.registry.open(JOB, "svc", 8000, private=True)
    async with NodeApi(door.url, NODE, POSTER) as api:
        assert (await api.info())["node"] == NODE
        assert [e["id"] for e in await api.endpoints(JOB)] == [ep.id]
        assert (await api.stats(JOB))["ops"]["svc"]["memory_bytes"] == 1 << 20
    async with NodeApi(door.url, NODE) as anonymous:
        assert await anonymous.endpoints(JOB) == []
        with pytest.raises(NodeUnauthorized):
            await anonymous.stats(JOB)
    async with NodeApi(door.url, NODE, STRANGER) as stranger:
        with pytest.raises(NodeUnauthorized, match="signed by"):
            await stranger.stats(JOB)
        with pytest.raises(NodeUnauthorized):
            async for _ in stranger.follow_logs(JOB):
                pass
        with pytest.raises(NodeApiError) as err:
            await stranger.endpoints("NoSuchJob")
        assert err.value.status == 404 and isinstance(err.value, CrowdError)
    async with NodeApi(door.url, "AnotherNode", POSTER) as wrong_node:
        with pytest.raises(NodeUnauthorized):
            await wrong_node.stats(JOB)
    async with NodeApi("http://127.0.0.1:9", NODE, POSTER, timeout=2) as nowhere:
        with pytest.raises(NodeUnreachable):
            await nowhere.info()


@pytest.mark.asyncio
async def test_sync_client(door, feeds):
    log = write_lines(feeds)
    log.close()

    def use() -> tuple[dict, list[str]]:
        with SyncNodeApi(door.url, NODE, POSTER) as api:
            return api.info(), list(api.follow_logs(JOB, follow=False))

    info, lines = await asyncio.to_thread(use)
    assert info["node"] == NODE and len(lines) == 4


@pytest.mark.asyncio
async def test_stats_asked_in_a_burst_sample_the_engine_once(door, feeds, http):
    async def ask():
        async with http.get(f"{door.url}/api/jobs/{JOB}/stats", headers=signed()) as r:
            assert r.status == 200
            return (await r.json())["ops"]

    answers = await asyncio.gather(*(ask() for _ in range(20)))
    assert all(a == answers[0] for a in answers) and feeds.stats_calls == 1


@pytest.mark.asyncio
async def test_log_streams_per_job_are_bounded(door, feeds, http):
    from crowdcompute.worker.frontdoor.api import MAX_FOLLOWERS

    write_lines(feeds).close()
    url = f"{door.url}/api/jobs/{JOB}/logs"
    open_ = [await http.ws_connect(url, headers=signed()) for _ in range(MAX_FOLLOWERS)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(url, headers=signed())
    assert err.value.status == 429
    await open_[0].close()
    await asyncio.sleep(0.2)
    again = await http.ws_connect(url, headers=signed())  # a closed stream frees its place
    for ws in [again, *open_[1:]]:
        await ws.close()


# -- stats of a real container ---------------------------------------------------------

@pytest.mark.asyncio
async def test_stats_of_a_running_container(engine, test_image, tmp_path):
    job = job_id("door")
    name = f"cc-{job}-svc-1"

    def run(api):
        api.create_container(test_image, command=["sh", "-c", "x=$(head -c 4000000 /dev/zero | tr '\\0' a); sleep 60"],
                             name=name, labels=labels(job, "op", "svc", "NodeDoorTest"),
                             host_config=api.create_host_config(mem_limit=64 << 20, network_mode="none"))
        api.start(name)

    await engine.call(run, retry=False)
    try:
        feeds = EngineFeeds(engine, tmp_path, {job: str(POSTER.pubkey())}.get, node="NodeDoorTest")
        async with FrontDoor(EndpointRegistry(), feeds, node=NODE, public_url=PUBLIC, info=dict) as door:
            async with NodeApi(door.url, NODE, POSTER, timeout=30) as api:
                await asyncio.sleep(0.5)
                stats = (await api.stats(job))["ops"]
        svc = stats["svc"]
        assert svc["memory_bytes"] > 0 and svc["memory_limit"] == 64 << 20
        assert svc["pids"] >= 1 and svc["cpu_percent"] >= 0 and svc["gpus"] == []
        assert svc["net_rx_bytes"] == 0  # no network at all
        assert await feeds.stats("NoSuchJob") == {}
    finally:
        await engine.call(lambda api: api.remove_container(name, force=True), control=True)


def test_container_stats_formula():
    raw = {
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000}, "system_cpu_usage": 20_000_000, "online_cpus": 4},
        "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000}, "system_cpu_usage": 10_000_000},
        "memory_stats": {"usage": 50 << 20, "limit": 1 << 30, "stats": {"inactive_file": 10 << 20}},
        "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 7}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
        "pids_stats": {"current": 3},
    }
    assert container_stats(raw) == {"cpu_percent": 80.0, "memory_bytes": 40 << 20, "memory_limit": 1 << 30,
                                    "net_rx_bytes": 101, "net_tx_bytes": 9, "pids": 3}
    assert container_stats({})["memory_bytes"] == 0  # a container that just ended


def test_gpu_stats_from_a_recorded_h100():
    path = fixture_path("nvml-h100.json")
    if path is None:
        pytest.skip("shared/fixtures/nvml-h100.json is not here")
    gpus = gpu_stats(read_gpus(RecordedNVML(path)))
    assert gpus and gpus[0]["name"].startswith("NVIDIA H100")
    assert gpus[0]["memory_total"] > 70 << 30 and gpus[0]["memory_used"] is not None
    assert set(gpus[0]) == {"index", "name", "uuid", "utilization", "memory_used", "memory_total"}


@pytest.mark.asyncio
async def test_client_times_out_on_a_node_that_never_answers():
    """A port that accepts connections and says nothing: every call ends in NodeUnreachable."""
    async def silent(reader, writer):
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with NodeApi(f"http://127.0.0.1:{port}", NODE, POSTER, timeout=0.5) as api:
            with pytest.raises(NodeUnreachable):
                await api.info()
            with pytest.raises(NodeUnreachable):
                async for _ in api.follow_logs(JOB):
                    pass
    finally:
        server.close()
