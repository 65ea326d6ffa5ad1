"""The node's report: GPUs through the NVML reading code (recorded H100 reading, and this
machine's real pynvml with no driver), requirement refusals, `crowd node health`, and the
engine's retries through a real socket that drops connections."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from crowdcompute.cli.main import main
from crowdcompute.client.jobspec import Limits
from crowdcompute.worker.health import EngineStatus, NodeReport, node_report
from crowdcompute.worker.nvml import GpuReading, read_gpus
from crowdcompute.worker.requirements import Requirements, refusal

from .conftest import definition, fixture_path, op
from .recorded_nvml import NoDriver, RecordedNVML

H100 = fixture_path("nvml-h100.json")
needs_h100 = pytest.mark.skipif(
    H100 is None, reason="shared/fixtures/nvml-h100.json (a recorded H100 NVML reading) is not next to this clone"
)


@pytest.fixture
def h100() -> GpuReading:
    nvml = RecordedNVML(H100)
    reading = read_gpus(nvml)
    assert nvml.initialised == 0  # every nvmlInit has its nvmlShutdown
    return reading


def report(gpu: GpuReading, *, reachable: bool = True) -> NodeReport:
    engine = EngineStatus(reachable, "unix:///var/run/docker.sock", None if reachable else "connection refused")
    return NodeReport(engine, gpu, "/w", 10 << 30, 100 << 30, "2025-01-01T00:00:00Z")


@needs_h100
def test_recorded_h100_reading(h100):
    (gpu,) = h100.gpus
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.memory_total == 85520809984 and gpu.memory_used == 503316480
    assert (gpu.utilization, gpu.memory_utilization, gpu.temperature_c) == (0, 0, 37)
    assert gpu.uuid == "GPU-e19ad267-1733-d11e-1d97-48c11c552fdc"
    assert (h100.driver_version, h100.cuda_version, h100.error) == ("580.159.04", "13.0", None)
    assert h100.to_json()["count"] == 1


@needs_h100
def test_requirements_against_the_h100(h100):
    node = report(h100)
    assert refusal(Requirements(gpu=True, required_vram=80), node) is None  # 79.6 GiB rounds to 80
    assert refusal(Requirements(), node) is None
    assert refusal(Requirements(required_vram=96), node, what="market") == (
        "market needs a GPU with 96 GB VRAM; this node's largest has 80 GB (NVIDIA H100 80GB HBM3)"
    )
    gpu_job = definition([op("t", "nvidia-smi", gpu=True, required_vram=40)])
    assert refusal(gpu_job, node) is None


def test_requirements_on_a_node_without_gpu():
    node = report(read_gpus(NoDriver()))
    assert node.gpu.error == "NVML: Driver Not Loaded (no NVIDIA driver?)"
    assert refusal(Requirements(gpu=True, required_vram=40), node) == "job needs a GPU with 40 GB VRAM; this node has none"
    assert refusal(Requirements(gpu=True), node) == "job needs a GPU; this node has none"
    cpu_job = definition([op("c", "true")], meta={"c": {"limits": {"memory": "4GiB"}}})
    assert refusal(cpu_job, node) is None
    assert refusal(cpu_job, node, limits=Limits(memory=1 << 30)) == "op c asks 4 GiB memory; this node allows at most 1 GiB"
    down = report(read_gpus(NoDriver()), reachable=False)
    assert refusal(Requirements(), down).startswith("this node cannot run containers: its container engine is unreachable")


def test_this_machines_real_pynvml_path():
    """The real module: on a machine without NVIDIA's driver, no GPU and the reason."""
    reading = read_gpus()
    if reading.gpus:  # a GPU machine: a real reading
        assert reading.driver_version and reading.gpus[0].memory_total > 0
    else:
        assert reading.error and (reading.error.startswith("NVML:") or "pynvml" in reading.error)


def test_node_report_and_cli_json(test_image, tmp_path):
    got = asyncio.run(node_report(work_dir=tmp_path / "not-yet"))
    assert got.engine.reachable and got.engine.version and got.disk_free > 0 and got.can_run
    code, out = crowd("node", "health", "--output", "json", "--work-dir", str(tmp_path))
    doc = json.loads(out)
    assert code == 0
    assert doc["engine"]["reachable"] is True and doc["disk"]["work_dir"] == str(tmp_path)
    assert set(doc) == {"checked_at", "node", "balances", "engine", "gpu", "disk"}


def test_cli_table_and_unreachable_engine_exit_1(test_image, tmp_path, monkeypatch):
    code, out = crowd("node", "health", "--work-dir", str(tmp_path))
    assert code == 0 and "Docker Engine" in out and "GPUs" in out and "free of" in out
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nobody-listens.sock")
    code, out = crowd("node", "health", "--output", "json", "--work-dir", str(tmp_path))
    assert code == 1
    assert json.loads(out)["engine"]["reachable"] is False


def crowd(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    old, sys.stdout = sys.stdout, out
    try:
        code = main(list(argv))
    finally:
        sys.stdout = old
    return code, out.getvalue()


class FlakyProxy:
    """A unix socket in front of the engine's that drops its first `drop` connections
    (as a restarting daemon does) and forwards the rest."""

    def __init__(self, path: Path, target: str, drop: int) -> None:
        self.path, self.target, self.drop = path, target, drop
        self.dropped = 0
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen(16)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.dropped < self.drop:
                self.dropped += 1
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


def test_engine_retries_dropped_connections_with_backoff_and_logs(test_image, tmp_path, caplog):
    from crowdcompute.worker.engine import Engine, EngineUnavailable, default_base_url

    target = default_base_url()
    if not target.startswith("unix://"):
        pytest.skip(f"the proxy speaks unix sockets; the engine is at {target}")
    proxy = FlakyProxy(tmp_path / "flaky.sock", target[len("unix://"):], drop=2)
    engine = Engine(f"unix://{proxy.path}", retries=4, backoff=0.05)
    try:
        with caplog.at_level(logging.WARNING, logger="crowdcompute.worker.engine"):
            info = asyncio.run(engine.info())
        assert info.reachable and info.version, info
        assert proxy.dropped == 2
        retries = [r.getMessage() for r in caplog.records if "try " in r.getMessage()]
        assert len(retries) == 2 and "try 1 of 5" in retries[0] and "try 2 of 5" in retries[1]
    finally:
        engine.close()
        proxy.close()
    gone = Engine(f"unix://{tmp_path}/nobody.sock", retries=2, backoff=0.01)
    try:
        with pytest.raises(EngineUnavailable, match=r"unreachable \(version\) after 3 tries"):
            asyncio.run(gone.call(lambda api: api.version(), what="version"))
    finally:
        gone.close()
    assert os.path.exists(proxy.path)
