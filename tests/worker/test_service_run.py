"""Service ops over the real engine: an op that exposes a port runs until the job's stop,
its endpoint is pointed at the container and health-checked by the node, failed health
and exits go to its restart policy, `depends_on` waits for health, and the bundle keeps
restarts and the health history. Intervals are short (Executor arguments) so each test
takes a few seconds."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import aiohttp

from crowdcompute.client.bundle import Bundle
from crowdcompute.client.jobspec.model import ExposedPort, HealthCheck, RestartPolicy
from crowdcompute.worker.endpoints import HEALTHY, EndpointRegistry, endpoint_id
from crowdcompute.worker.executor import JobRun

from .conftest import NODE, by_id, definition, job_id, op
from .helpers import wait_until

PAGE = "hello-from-service"
# busybox httpd in the foreground, serving a page and /health from the tmpfs
HTTPD = f"mkdir -p /tmp/www && echo {PAGE} > /tmp/www/index.html && echo ok > /tmp/www/health && exec httpd -f -p 8080 -h /tmp/www"
FAST = dict(health_startup_interval=0.1, health_interval=0.3, health_check_timeout=1.0, restart_backoff=0.1)


def serve(defn, op_id: str, *ports: ExposedPort, restart: RestartPolicy | None = None):
    """`defn` with op `op_id` exposing `ports` (the parser for `expose` is not this file's)."""
    def change(o):
        if o.id != op_id:
            return o
        return replace(o, args=replace(o.args, expose=ports, restart=restart or o.args.restart))
    return replace(defn, ops=tuple(change(o) for o in defn.ops))


def http(path: str = "/health", status: int = 200, continuous: bool = False) -> HealthCheck:
    return HealthCheck("http", path=path, expected_status=status, continuous=continuous)


class Running:
    """A job run as a task, with its stop event and the executor's endpoint table."""

    def __init__(self, executor, defn, *, seconds: float = 60) -> None:
        self.job = job_id("svc")
        self.stop = asyncio.Event()
        self.registry = executor.endpoints
        run = JobRun(self.job, NODE, "PosterTestAddress", "bafytestdefinition", time.time() + seconds)
        self.task = asyncio.create_task(executor.run(defn, run, stop=self.stop))
        self.log = executor.log_path(self.job)

    async def healthy(self, timeout: float = 30):
        async def check():
            assert not self.task.done(), self.task.result().render()
            eps = self.registry.for_job(self.job)
            return eps if eps and all(ep.state == HEALTHY for ep in eps) else None
        return await wait_until(check, timeout=timeout, interval=0.05)

    async def logged(self, text: str, timeout: float = 30) -> None:
        async def check():
            return self.log.exists() and text in self.log.read_text()
        await wait_until(check, timeout=timeout, interval=0.1)

    async def bundle(self, timeout: float = 60) -> Bundle:
        bundle = await asyncio.wait_for(self.task, timeout)
        assert Bundle.from_bytes(bundle.to_bytes()) == bundle  # the new fields read back
        return bundle


async def fetch(target: tuple[str, int], path: str = "/") -> tuple[int, str]:
    host, port = target
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        async with session.get(f"http://{host}:{port}{path}") as response:
            return response.status, await response.text()


def states(record, port: int = 8080) -> list[str]:
    health = next(h for h in record.health if h.port == port)
    return [e.state for e in health.history]


def test_a_healthy_service_is_reached_by_the_node_and_runs_until_stopped(make_executor):
    async def scenario():
        executor = make_executor(endpoints=EndpointRegistry(), **FAST)
        # as a poster writes it (Nosana's expose with a continuous http check), parsed
        checks = [{"type": "http", "path": "/health", "method": "GET", "expected_status": 200, "continuous": True}]
        defn = definition([op("web", ["sh", "-c", HTTPD], expose=[{"port": 8080, "health_checks": checks}],
                              restart_policy="always")])
        running = Running(executor, defn)
        (endpoint,) = await running.healthy()
        assert endpoint.target and endpoint.target[1] == 8080 and "GET /health -> 200" in endpoint.detail
        # the node (this host) reaches the container at its address on the job's network,
        # through the host fence (replies to the host's own connections come back)
        assert await fetch(endpoint.target, "/") == (200, PAGE + "\n")
        await asyncio.sleep(1.0)  # a few continuous checks; it keeps running (it never exits on its own)
        assert not running.task.done()
        assert running.registry.get(endpoint.id).state == HEALTHY
        running.stop.set()
        bundle = await running.bundle()
        return bundle, running, endpoint

    bundle, running, endpoint = asyncio.run(scenario())
    web = by_id(bundle, "web")
    assert bundle.status == "stopped", bundle.render()
    assert web.restarts == 0 and web.error.startswith("stopped: the job was stopped")
    assert states(web) == ["starting", "healthy", "stopped"]  # container started, passed, the job ended
    assert running.registry.for_job(running.job) == []  # closed with the job
    assert "restarts 0" in bundle.render() and "port 8080" in bundle.render()


def test_a_port_without_checks_is_healthy_once_it_accepts_a_connection(make_executor):
    async def scenario():
        executor = make_executor(endpoints=EndpointRegistry(), **FAST)
        running = Running(executor, serve(definition([op("web", ["sh", "-c", HTTPD])]), "web", ExposedPort(8080)))
        (endpoint,) = await running.healthy()
        detail = endpoint.detail
        running.stop.set()
        return detail, await running.bundle()

    detail, bundle = asyncio.run(scenario())
    assert detail.startswith("tcp connect to port 8080"), detail
    assert states(by_id(bundle, "web"))[-2:] == ["healthy", "stopped"]


def test_failing_startup_health_restarts_up_to_the_nodes_cap_then_fails_the_op(make_executor):
    executor = make_executor(endpoints=EndpointRegistry(), health_startup_timeout=0.6, max_restarts=2, **FAST)
    defn = serve(definition([op("web", ["sh", "-c", HTTPD])]), "web",
                 ExposedPort(8080, health_checks=(http("/missing"),)), restart=RestartPolicy("always"))

    async def scenario():
        running = Running(executor, defn)
        return await running.bundle()

    bundle = asyncio.run(scenario())
    web = by_id(bundle, "web")
    assert bundle.status == "failed", bundle.render()
    assert web.restarts == 2
    assert web.error.startswith("restarted 2 times (the node's cap: 2 within 600 s), still failing: unhealthy: port 8080: "
                                "not healthy within 0.6 s of its start: GET /missing -> 404, expected 200"), web.error
    # three containers, each: started, then unhealthy; then the op's end
    assert states(web) == ["starting", "unhealthy"] * 3 + ["stopped"]


def test_an_exit_restarts_on_failure_up_to_its_tries_and_no_never(make_executor):
    executor = make_executor(endpoints=EndpointRegistry(), **FAST)
    ops = [op("a", ["sh", "-c", "echo run; exit 3"], execution={"group": "g"}),
           op("b", ["sh", "-c", "echo run; exit 3"], execution={"group": "g"})]
    defn = serve(definition(ops), "a", ExposedPort(8080), restart=RestartPolicy("on-failure", 2))
    defn = serve(defn, "b", ExposedPort(8081), restart=RestartPolicy("no"))

    async def scenario():
        return await Running(executor, defn).bundle()

    bundle = asyncio.run(scenario())
    a, b = by_id(bundle, "a"), by_id(bundle, "b")
    assert a.exit_code == 3 and a.restarts == 2 and a.stdout.text == "run\n" * 3
    assert a.error == "restarted 2 times (restart_policy on-failure, 2 restarts allowed), still failing: exited with 3"
    assert b.exit_code == 3 and b.restarts == 0 and b.stdout.text == "run\n"
    assert b.error == "exited with 3 (restart_policy no)"
    assert bundle.status == "failed"


def test_a_continuous_check_that_fails_restarts_the_service(make_executor):
    """Healthy, then /health goes away: UNHEALTHY, a fresh container (healthy again), the
    same again, and on-failure's one restart is spent."""
    executor = make_executor(endpoints=EndpointRegistry(), **FAST)
    breaks = ("mkdir -p /tmp/www && echo ok > /tmp/www/health && httpd -p 8080 -h /tmp/www && "
              "sleep 1 && rm /tmp/www/health && exec sleep 600")
    defn = serve(definition([op("web", ["sh", "-c", breaks])]), "web",
                 ExposedPort(8080, health_checks=(http(continuous=True),)), restart=RestartPolicy("on-failure", 1))

    async def scenario():
        return await Running(executor, defn).bundle()

    bundle = asyncio.run(scenario())
    web = by_id(bundle, "web")
    assert web.restarts == 1, bundle.render()
    assert web.error.startswith("restarted 1 times (restart_policy on-failure, 1 restarts allowed), still failing: "
                                "unhealthy: port 8080: GET /health -> 404, expected 200"), web.error
    assert states(web) == ["starting", "healthy", "unhealthy"] * 2 + ["stopped"]


def test_depends_on_a_service_waits_for_its_health_and_its_stage_ends_with_it(make_executor):
    executor = make_executor(endpoints=EndpointRegistry(), endpoint_url=lambda ep: f"https://{ep.id}.node.test", **FAST)
    slow = f"sleep 1 && {HTTPD}"  # listens a second after its start
    fetch_page = "wget -q -O - http://web:8080/ && echo at=%%ops.web.endpoint.8080%%"
    health = [{"type": "http", "path": "/health", "method": "GET", "expected_status": 200}]
    defn = definition([
        op("web", ["sh", "-c", slow], expose=[{"port": 8080, "health_checks": health}], execution={"group": "g"}),
        op("client", ["sh", "-c", fetch_page], execution={"group": "g", "depends_on": ["web"]}),
        op("later", ["wget", "-q", "-O", "-", "http://web:8080/health"], execution={"group": "h"}),
    ])

    async def scenario():
        running = Running(executor, defn)
        nonlocal job
        job = running.job
        await running.logged("op client: exit")
        await asyncio.sleep(0.5)  # the next stage would have started by now: it waits for the service to end
        running.stop.set()
        return await running.bundle()

    job = ""
    bundle = asyncio.run(scenario())
    web, client, later = by_id(bundle, "web"), by_id(bundle, "client"), by_id(bundle, "later")
    # the page over the job's network, and the endpoint's public address as the front door serves it
    assert client.exit_code == 0 and client.stdout.text == f"{PAGE}\nat=https://{endpoint_id(job, 'web', 8080)}.node.test\n", bundle.render()
    healthy_at = next(e.at for e in web.health[0].history if e.state == "healthy")
    assert client.started_at >= healthy_at
    assert web.ended_at > client.ended_at  # the service ran on until the stop
    # a stage ends when all its ops have ended (jobspec README): the service's, at the stop
    assert later.exit_code is None and later.error == "not run: the job was stopped"
    assert bundle.status == "stopped"


def test_a_job_that_needs_egress_is_refused_unless_the_node_allows_it(make_executor, docker_api):
    defn = definition([op("a", ["true"])])
    asks = replace(defn, meta={"crowdcompute": {"egress": True}})
    closed = make_executor()
    refusal = "needs egress (meta.crowdcompute.egress) and this node does not allow it (--allow-egress)"
    assert closed.refusal(defn) is None and closed.refusal(asks) == refusal
    assert make_executor(allow_egress=True).refusal(asks) is None

    async def scenario():
        return await Running(closed, asks).bundle()

    bundle = asyncio.run(scenario())
    assert bundle.status == "failed" and bundle.ops[0].error == f"not run: {refusal}"
