"""A pytest plugin for scripts/run_solana_py_suite.py: solana-py's integration suite against
the localnet.

Upstream starts solana-test-validator in docker through pytest-docker's `docker_ip` and
`docker_services` fixtures, one container per test module (`--container-scope=module`),
and asks `docker_services.port_for("localnet", 8899 | 8900)` where it listens. This plugin
gives the same two fixtures: a fresh `python -m crowdcompute.localnet` (new ledger, free
ports) per test module, stopped at the module's end. Their files are run unmodified.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from localnet_ports import free_port_pair  # tests/localnet, on the path the script sets

# The interpreter that runs the localnet: ours, even when the suite runs in another one.
LOCALNET_PYTHON = os.environ.get("SOLANA_PY_SUITE_LOCALNET_PYTHON", sys.executable)


class LocalnetServices:
    """pytest-docker's `Services` as the suite uses it, for one localnet process."""

    def __init__(self, port: int) -> None:
        self.port = port
        # docker-compose.yml's container ports -> ours: JSON-RPC, PubSub.
        self._ports = {8899: port, 8900: port + 1}

    def port_for(self, service: str, container_port: int) -> int:
        if service != "localnet" or container_port not in self._ports:
            raise ValueError(f"no port {container_port!r} of service {service!r}")
        return self._ports[container_port]

    def wait_until_responsive(self, check: Callable[[], bool], timeout: float, pause: float, clock: Callable[[], float] = time.perf_counter) -> None:
        deadline = clock() + timeout
        while clock() < deadline:
            try:
                if check():
                    return
            except Exception:  # not listening yet: as pytest-docker, try again
                pass
            time.sleep(pause)
        raise TimeoutError(f"the localnet on port {self.port} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def docker_ip() -> str:
    return "127.0.0.1"


@pytest.fixture(scope="module")
def docker_services() -> Iterator[LocalnetServices]:
    """A fresh localnet for the module, as upstream's container per module."""
    ledger = Path(tempfile.mkdtemp(prefix="solana-py-suite-"))
    port = free_port_pair()
    log = open(ledger / "localnet.log", "wb")
    process = subprocess.Popen(
        [LOCALNET_PYTHON, "-m", "crowdcompute.localnet", "--rpc-port", str(port), "--ledger", str(ledger / "ledger"), "--reset", "--quiet"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # listening: the fixtures' own check then asks getHealth
            if process.poll() is not None:
                raise RuntimeError(f"the localnet exited with {process.returncode}: see {ledger / 'localnet.log'}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield LocalnetServices(port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(ledger, ignore_errors=True)
