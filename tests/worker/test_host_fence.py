"""A job reaches nothing of its host: its network is fenced off by the node's firewall rules
(worker/host_fence.py), the engine confines every container (seccomp), and a crash leaves
no network, volume, endpoint or rule behind that the next start does not remove."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import replace

import pytest

from crowdcompute.worker.confinement import confinement_problem
from crowdcompute.worker.containers import labels, network_name
from crowdcompute.worker.host_fence import BRIDGE_OPTION, HostFence, bridge_name

from .conftest import NODE, assert_runs_normally, definition, job_id, op, run_job

PORT = 47_901
# The op finds its network's gateway (even an internal network's route table names it) and
# asks it for the secret a few times (the test's service starts once the network exists).
PROBE = (
    "sleep 1; gw=$(ip route | awk '/^default via/ {print $3}'); "
    f"echo gateway=$gw; i=0; while [ $i -lt 5 ]; do nc -w 1 $gw {PORT} </dev/null && break; i=$((i+1)); sleep 0.5; done; "
    "echo tries=$i"
)


class GatewayService:
    """Serves a secret on the job network's gateway address, an address of this machine
    that exists only once the executor has made the job's network."""

    def __init__(self, docker_api, job: str) -> None:
        self.docker_api, self.job = docker_api, job
        self.listening_at: float | None = None
        self.served = 0
        self.gateway: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.time() + 30
        while not self._stop.is_set() and time.time() < deadline:
            found = self.docker_api.networks(names=[network_name(self.job)])
            if found:
                config = self.docker_api.inspect_network(found[0]["Id"])["IPAM"]["Config"]
                self.gateway = config[0]["Gateway"]
                break
            time.sleep(0.05)
        if self.gateway is None:
            return
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((self.gateway, PORT))
            server.listen()
            self.listening_at = time.time()
            serve_secret(server, self._stop, self)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def serve_secret(server: socket.socket, stop: threading.Event, counter) -> None:
    """Answers every connection with a secret line until `stop`, counting each in
    `counter.served` as it happens (a probe that got through is counted)."""
    server.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except (socket.timeout, OSError):
            continue
        with conn:
            conn.sendall(b"host-secret\n")
            counter.served += 1


def _probe(executor, docker_api):
    job = job_id("fence")
    service = GatewayService(docker_api, job)
    try:
        # two containers: the job gets its network (one alone gets none: below)
        ops = [op("probe", ["sh", "-c", PROBE]), op("peer", ["true"])]
        bundle, _ = run_job(executor, definition(ops), job=job, seconds=60)
    finally:
        service.close()
    return bundle, job, service


def test_a_service_on_the_job_networks_gateway_answers_only_without_the_fence(make_executor, docker_api):
    # Without the node's rules (the control: this is what the issue found), the job reads the secret...
    open_bundle, _, open_service = _probe(make_executor(fence=False), docker_api)
    assert "host-secret" in open_bundle.ops[0].stdout.text and open_service.served >= 1, open_bundle.render()
    # ...with them, the same probe gets nothing, though the service listened while it ran.
    executor = make_executor()
    bundle, job, service = _probe(executor, docker_api)
    probe = bundle.ops[0]
    assert service.listening_at is not None and service.gateway in probe.stdout.text, bundle.render()
    assert "host-secret" not in probe.stdout.text and service.served == 0
    assert "tries=5" in probe.stdout.text  # every try failed
    assert not asyncio.run(HostFence().fenced_jobs(NODE)) & {job}  # its rules went with its network
    assert_runs_normally(executor, job)


def test_a_job_of_one_container_has_no_network_at_all(executor, docker_api):
    """Nothing to talk to, so nothing to reach: only loopback, no job network, no rules."""
    seen: list = []
    listing = "ip -o link | awk -F': ' '{print $2}'; sleep 1"

    def watch() -> None:  # while the job runs
        deadline = time.time() + 30
        while not seen and time.time() < deadline:
            running = docker_api.containers(filters={"label": "crowdcompute.op=alone"})
            if running:
                job = running[0]["Labels"]["crowdcompute.job"]
                seen.append((docker_api.networks(filters={"label": f"crowdcompute.job={job}"}),
                             job in asyncio.run(HostFence().fenced_jobs(NODE))))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    bundle, job = run_job(executor, definition([op("alone", ["sh", "-c", listing])]))
    watcher.join(30)
    assert bundle.status == "succeeded" and bundle.ops[0].stdout.text == "lo\n", bundle.render()
    assert seen == [([], False)]  # while it ran: no network of the job, no rules for it
    assert_runs_normally(executor, job)


def test_the_engine_confines_jobs_with_seccomp_and_an_unconfined_engine_is_refused(executor, engine):
    assert asyncio.run(executor.preflight()) is None  # this engine: seccomp on, job networks fenced
    bundle, _ = run_job(executor, definition([op("status", ["grep", "Seccomp:", "/proc/self/status"])]))
    assert bundle.ops[0].stdout.text.split() == ["Seccomp:", "2"]  # 2: a filter applies
    info = asyncio.run(engine.info())
    assert confinement_problem(info) is None
    none = replace(info, security=tuple(s for s in info.security if "seccomp" not in s))
    assert confinement_problem(none).startswith("the container engine applies no seccomp profile")
    unconfined = replace(info, security=("name=seccomp,profile=unconfined",))
    assert "'unconfined'" in confinement_problem(unconfined)


def test_after_a_crash_networks_volumes_endpoints_and_rules_of_the_node_are_removed(executor, docker_api, test_image):
    """As a crash leaves them: the job's network (with a container of someone else's still
    attached), a volume, the firewall rules, and no container of the job."""
    job = job_id("crash")
    asyncio.run(HostFence().fence(job, NODE))
    network = docker_api.create_network(network_name(job), driver="bridge", internal=True,
                                        labels=labels(job, "network", node=NODE), options={BRIDGE_OPTION: bridge_name(job)})
    docker_api.create_volume(f"cc-{job}-v-data", labels=labels(job, "volume", "a", NODE))
    stranger = docker_api.create_container(test_image, ["sleep", "60"])
    try:
        docker_api.start(stranger)
        docker_api.connect_container_to_network(stranger, network["Id"])
        assert job in asyncio.run(executor.leftovers())
        asyncio.run(executor.cleanup_job(job))
        assert not docker_api.networks(names=[network_name(job)])
        assert not docker_api.volumes(filters={"label": f"crowdcompute.job={job}"}).get("Volumes")
        assert job not in asyncio.run(HostFence().fenced_jobs(NODE))
        assert job not in asyncio.run(executor.leftovers())
    finally:
        docker_api.remove_container(stranger, force=True)


@pytest.mark.parametrize("node, sees", [(NODE, True), ("AnotherNode", False)])
def test_leftovers_of_rules_are_the_nodes_own(make_executor, node, sees):
    job = job_id("rules")
    fence = HostFence()
    asyncio.run(fence.fence(job, NODE))
    try:
        assert (job in asyncio.run(make_executor(node=node).leftovers())) is sees
    finally:
        asyncio.run(fence.unfence(job))


def test_a_node_that_cleans_up_after_settling_leaves_network_and_rules_until_then(make_executor, docker_api):
    """clean_after_run=False (the node's executor): the job's network and its rules stay
    after the run, for the node to remove once the job is settled; then nothing is left."""
    executor = make_executor(clean_after_run=False)
    bundle, job = run_job(executor, definition([op("a", ["true"]), op("b", ["true"])]))
    assert bundle.status == "succeeded", bundle.render()
    assert docker_api.networks(filters={"label": f"crowdcompute.job={job}"})
    assert job in asyncio.run(HostFence().fenced_jobs(NODE))
    asyncio.run(executor.cleanup_job(job))
    assert not docker_api.networks(filters={"label": f"crowdcompute.job={job}"})
    assert job not in asyncio.run(HostFence().fenced_jobs(NODE))
    assert job not in asyncio.run(executor.leftovers())


class HostService:
    """A service on every address of this machine (as the node API would be), on a free port."""

    def __init__(self) -> None:
        self.served = 0
        self.server = socket.socket()
        self.server.bind(("0.0.0.0", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        serve_secret(self.server, self._stop, self)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()


def _service_probe(executor, port: int):
    """A service job (one op exposing a port: it gets a network) that serves a page and
    probes the host's port on its gateway meanwhile; the host fetches the page, then stops it."""
    from crowdcompute.client.jobspec.model import ExposedPort
    from crowdcompute.worker.endpoints import HEALTHY
    from crowdcompute.worker.executor import JobRun

    from .helpers import wait_until

    script = (
        "mkdir -p /tmp/www && echo served-to-the-host > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && "
        "gw=$(ip route | awk '/^default via/ {print $3}'); echo gateway=$gw; i=0; "
        f"while [ $i -lt 5 ]; do nc -w 1 $gw {port} </dev/null && break; i=$((i+1)); sleep 0.3; done; "
        "echo tries=$i; exec sleep 600"
    )
    defn = definition([op("web", ["sh", "-c", script])])
    web = replace(defn.ops[0], args=replace(defn.ops[0].args, expose=(ExposedPort(8080),)))
    defn = replace(defn, ops=(web,))
    job = job_id("svcfence")

    async def scenario():
        import aiohttp

        stop = asyncio.Event()
        task = asyncio.create_task(executor.run(defn, JobRun(job, NODE, "Poster", "bafy", time.time() + 60), stop=stop))

        async def healthy():
            eps = executor.endpoints.for_job(job)
            return eps[0] if eps and eps[0].state == HEALTHY else None

        endpoint = await wait_until(healthy, timeout=30, interval=0.05)
        host, target_port = endpoint.target
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async with session.get(f"http://{host}:{target_port}/") as response:
                page = await response.text()

        async def probed():
            return "tries=" in executor.log_path(job).read_text()

        await wait_until(probed, timeout=30, interval=0.1)
        stop.set()
        return page, await task

    page, bundle = asyncio.run(scenario())
    return page, bundle, job


def test_the_host_reaches_a_service_in_a_job_that_cannot_reach_the_host(make_executor):
    """The fence lets in only replies to the host's own connections: the node fetches the
    service's page, while the service's own connections to the host get nothing."""
    service = HostService()
    try:
        # the control: without the rules, the same job reads the host's secret
        page, bundle, _ = _service_probe(make_executor(fence=False), service.port)
        assert "host-secret" in bundle.ops[0].stdout.text and service.served >= 1, bundle.render()
        served = service.served
        executor = make_executor()
        page, bundle, job = _service_probe(executor, service.port)
    finally:
        service.close()
    web = bundle.ops[0]
    assert page == "served-to-the-host\n"
    assert "gateway=" in web.stdout.text and "host-secret" not in web.stdout.text, bundle.render()
    assert "tries=5" in web.stdout.text and service.served == served  # every try failed
    assert not asyncio.run(HostFence().fenced_jobs(NODE)) & {job}
    assert_runs_normally(executor, job)


def test_egress_rules_keep_private_and_host_ranges_out_and_let_only_replies_in():
    from crowdcompute.worker.host_fence import PRIVATE_V4, job_rules

    closed = job_rules("j1", NODE)
    assert closed[0].endswith("-m conntrack --ctstate ESTABLISHED,RELATED " '-m comment --comment "crowdcompute job=j1 node=' f'{NODE}" -j ACCEPT')
    assert [r.split()[-1] for r in closed] == ["ACCEPT", "DROP", "DROP", "DROP"]
    out = job_rules("j1", NODE, egress=True)
    bridge = bridge_name("j1")
    dropped = {r.split(" -d ")[1].split()[0] for r in out if " -d " in r}
    assert dropped == set(PRIVATE_V4) >= {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16"}
    assert all(f"-i {bridge} ! -o {bridge} -d" in r and r.endswith("-j DROP") for r in out if " -d " in r)
    inbound = [r for r in out if f"-o {bridge} ! -i {bridge}" in r]
    assert [r.split()[-1] for r in inbound] == ["RETURN", "DROP"] and "ESTABLISHED,RELATED" in inbound[0]
    assert "fe80::/10" in " ".join(job_rules("j1", NODE, egress=True, v6=True))


def test_an_allowed_egress_job_gets_a_routed_network_with_the_egress_rules(make_executor, docker_api):
    """--allow-egress and a job that asks: its network is not internal, its rules are the
    egress set (no internet here to reach, so the rules are what is checked)."""
    import subprocess

    executor = make_executor(allow_egress=True, clean_after_run=False)
    # a private address off the host: routed out (the network is not internal) into the DROP
    probe = "ip route | grep -c '^default'; nc -w 1 10.255.255.1 80 </dev/null; true"
    defn = replace(definition([op("a", ["sh", "-c", probe])]), meta={"crowdcompute": {"egress": True}})
    bundle, job = run_job(executor, defn)
    try:
        assert bundle.status == "succeeded", bundle.render()
        assert bundle.ops[0].stdout.text.startswith("1\n")  # a default route: egress
        (network,) = docker_api.networks(filters={"label": f"crowdcompute.job={job}"})
        assert docker_api.inspect_network(network["Id"])["Internal"] is False
        listed = subprocess.run(["iptables", "-S", "CROWDCOMPUTE-FORWARD"], capture_output=True, text=True).stdout
        mine = [line for line in listed.splitlines() if f"job={job} " in line]
        assert any("-d 192.168.0.0/16" in line and line.endswith("-j DROP") for line in mine), listed
        assert any("RELATED,ESTABLISHED" in line and line.endswith("-j RETURN") for line in mine), listed
        counted = subprocess.run(["iptables", "-L", "CROWDCOMPUTE-FORWARD", "-v", "-n", "-x"], capture_output=True, text=True).stdout
        ten = [line.split() for line in counted.splitlines() if f"job={job} " in line and "10.0.0.0/8" in line]
        assert ten and int(ten[0][0]) >= 1, counted  # the probe's packets met the 10.0.0.0/8 DROP
    finally:
        asyncio.run(executor.cleanup_job(job))
    assert job not in asyncio.run(executor.leftovers())
