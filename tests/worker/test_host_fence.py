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
            server.settimeout(0.2)
            self.listening_at = time.time()
            while not self._stop.is_set():
                try:
                    conn, _ = server.accept()
                except (socket.timeout, OSError):
                    continue
                with conn:
                    conn.sendall(b"host-secret\n")
                    self.served += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


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
