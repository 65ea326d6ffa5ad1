"""Worker tests run real containers on the machine's container engine, with the local image
crowdcompute/busybox:local built here when missing (crowdcompute.worker.local_image).
They are skipped, with the reason, only when no engine is reachable.

The node tests add one live localnet and one storage server per session (real HTTP and
websockets), a payment mint, funded posters and nodes, fresh markets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

docker = pytest.importorskip("docker", reason="the worker extra is not installed (pip install -e '.[worker]')")

from crowdcompute.client.jobspec import Limits, parse  # noqa: E402
from crowdcompute.worker.engine import Engine, default_base_url  # noqa: E402
from crowdcompute.worker.executor import Executor, JobRun  # noqa: E402
from crowdcompute.worker.local_image import IMAGE, ensure_image  # noqa: E402
from crowdcompute.client import MarketSettings  # noqa: E402

from tests.localnet.localnet_helpers import ThreadServer  # noqa: E402
from tests.sdk.chain_setup import Wallets  # noqa: E402

from .helpers import StorageThread, Worker  # noqa: E402

# Small limits keep hostile jobs cheap; short grace and reserve keep deadlines short.
NODE = "NodeTestAddress"
TEST_LIMITS = Limits(cpus=0.5, memory=128 << 20, pids=64, timeout=60)


@pytest.fixture(scope="session")
def docker_api():
    try:
        api = docker.APIClient(base_url=default_base_url(), version="auto", timeout=30)
        api.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no container engine reachable at {default_base_url()}: {exc}")
    yield api
    api.close()


@pytest.fixture(scope="session")
def test_image(docker_api) -> str:
    ensure_image(docker_api)
    return IMAGE


@pytest.fixture
def engine(test_image):
    engine = Engine(timeout=30)
    yield engine
    engine.close()


@pytest.fixture
def make_executor(engine, tmp_path):
    def make(**kwargs: Any) -> Executor:
        kwargs.setdefault("limits", TEST_LIMITS)
        kwargs.setdefault("stop_grace", 1.0)
        kwargs.setdefault("reserve", 2.0)
        kwargs.setdefault("node", NODE)  # leftovers(): this suite's jobs only
        return Executor(engine, work_dir=tmp_path / "work", log_dir=tmp_path / "logs", **kwargs)

    return make


@pytest.fixture
def executor(make_executor) -> Executor:
    return make_executor()


_counter = iter(range(1_000_000))


def job_id(tag: str) -> str:
    """Distinct per test run, so parallel CI jobs on one engine never share names."""
    return f"test{tag}{int(time.time() * 1000) % 10**9}{next(_counter)}"


def definition(ops: list[dict[str, Any]], *, meta: dict[str, Any] | None = None, image: str = IMAGE):
    doc: dict[str, Any] = {"version": "0.1", "type": "container", "global": {"image": image}, "ops": ops}
    if meta is not None:
        doc["meta"] = {"crowdcompute": {"ops": meta}}
    return parse(doc)


def op(op_id: str, cmd: Any, **args: Any) -> dict[str, Any]:
    extra = {k: args.pop(k) for k in ("results", "execution") if k in args}
    return {"id": op_id, "type": "container/run", "args": {"cmd": cmd, **args}, **extra}


def run_job(executor: Executor, defn, *, job: str | None = None, seconds: float = 60, stop=None):
    """Run `defn` to its bundle; returns (bundle, job id)."""
    job = job or job_id("j")
    run = JobRun(job, NODE, "PosterTestAddress", "bafytestdefinition", time.time() + seconds)
    bundle = asyncio.run(executor.run(defn, run, stop=stop))
    bundle.to_bytes()  # every bundle the executor makes is a valid, canonical one
    return bundle, job


def assert_runs_normally(executor: Executor, after_job: str) -> None:
    """After a hostile job: nothing of it is left, and a plain job succeeds."""
    bundle, job = run_job(executor, definition([op("ok", "echo still-fine")]))
    assert bundle.status == "succeeded", bundle.render()
    assert bundle.ops[0].stdout.text == "still-fine\n"
    left = asyncio.run(executor.leftovers())
    assert after_job not in left and job not in left


def by_id(bundle, op_id: str):
    return next(o for o in bundle.ops if o.id == op_id)


def fixture_path(name: str) -> Path | None:
    """shared/fixtures/NAME in the repository's folder or any folder above it (CI keeps
    it at ../shared/fixtures next to the clone)."""
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "fixtures" / name
        if candidate.is_file():
            return candidate
    return None


# -- the node daemon's tests ------------------------------------------------------------

# Short retention so settled jobs can be cleaned; two reclaims before a refund.
SETTINGS = MarketSettings(price_per_second=10, max_timeout=600, min_stake=0, retention=1, max_attempts=2)


@pytest.fixture(scope="session")
def localnet(tmp_path_factory) -> ThreadServer:
    srv = ThreadServer(tmp_path_factory.mktemp("worker-ledger"), slot_ms=50)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def storage(tmp_path_factory) -> StorageThread:
    srv = StorageThread(tmp_path_factory.mktemp("worker-storage"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def wallets(localnet: ThreadServer) -> Wallets:
    return asyncio.run(Wallets.create(localnet.url))


@pytest.fixture
def market(wallets: Wallets):
    return asyncio.run(wallets.market(SETTINGS))[0]


@pytest.fixture
def poster(wallets: Wallets):
    return asyncio.run(wallets.fund(tokens=10_000_000))


@pytest.fixture
def workers(tmp_path, localnet, storage, wallets, market):
    """start(name=..., **options) -> a running Worker on `market`; all killed at the end."""
    started: list[Worker] = []

    def start(name: str = "worker", keypair=None, **options) -> Worker:
        keypair = keypair or asyncio.run(wallets.fund())
        w = Worker(tmp_path, localnet.url, keypair, market, storage.url, name=name, **options)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
