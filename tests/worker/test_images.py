"""A node pulls the images its jobs name from a real registry: Debian's `docker-registry`
(the distribution registry) started here on loopback, with images built from the local
busybox image pushed to it. The engine treats a loopback registry as insecure-allowed, so
no TLS is set up. Each pushed image has a layer of its own (random bytes), and its local
tag is removed after the push, so that layer is gone from the engine and a pull really
downloads it.

Endings: an image only in the registry is pulled and runs; a missing one, one over the
maximum (refused before any of its layers is fetched: the registry's access log shows
it), an unreachable registry (a closed port) and a stalled one (accepts, never answers)
each end the job with its reason, within the timeout, and nothing of the op runs. The
cache removes the least recently used image, never one a container uses."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import socket
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from crowdcompute.client.jobspec import ValidationError, parse
from crowdcompute.worker.source_policy import SourcePolicy
from crowdcompute.worker.images import ImageCache, read_record
from crowdcompute.worker.local_image import IMAGE

from .conftest import NODE, definition, op, run_job

REGISTRY_BIN = "/usr/bin/docker-registry"


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    log: Path
    proc: subprocess.Popen

    def blob_fetches(self) -> list[str]:
        """The blob paths the engine fetched (GET .../blobs/sha256:...), from the access log."""
        return re.findall(r'"GET (/v2/[^ ]+/blobs/sha256:[0-9a-f]+)', self.log.read_text(errors="replace"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory, test_image) -> Registry:
    if not Path(REGISTRY_BIN).exists():
        pytest.skip(f"{REGISTRY_BIN} is missing: Debian's docker-registry package (scripts/test.sh installs it)")
    folder = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: info\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = folder / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
    found = Registry(f"127.0.0.1:{port}", log, proc)
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"http://{found.host}/v2/", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"docker-registry did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    yield found
    proc.terminate()
    proc.wait(10)


_names = iter(range(1_000_000))


def push_image(docker_api, registry: Registry, extra_bytes: int = 4096) -> str:
    """An image of the local busybox plus a layer of `extra_bytes` random bytes, pushed to
    `registry` and then untagged here (its own layer gone from the engine); its reference."""
    ref = f"{registry.host}/crowdtest/img{os.getpid()}x{next(_names)}:t{int(time.time())}"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", f"FROM {IMAGE}\nCOPY blob /blob\n".encode()), ("blob", os.urandom(extra_bytes))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    for chunk in docker_api.build(fileobj=io.BytesIO(context.getvalue()), custom_context=True, tag=ref, rm=True,
                                  forcerm=True, decode=True):
        assert "error" not in chunk, chunk
    name, tag = ref.rsplit(":", 1)
    for chunk in docker_api.push(name, tag=tag, stream=True, decode=True):
        assert "error" not in chunk, chunk
    docker_api.remove_image(ref)
    assert not docker_api.images(name=name), "the pushed image is still on the engine"
    return ref


def gone_from_engine(docker_api, ref: str) -> bool:
    return not docker_api.images(name=ref.rsplit(":", 1)[0])


def remove_quietly(docker_api, ref: str) -> None:
    try:
        docker_api.remove_image(ref, force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass


LOOPBACK = SourcePolicy(["127.0.0.1"])  # the operator's allowance the tests' registry needs


@pytest.fixture
def pulling(make_executor, tmp_path):
    """An executor that pulls, its image record in tmp_path."""

    def make(**kwargs):
        kwargs.setdefault("pull", True)
        kwargs.setdefault("pull_timeout", 60)
        kwargs.setdefault("source_policy", LOOPBACK)  # the tests' registry is on loopback
        return make_executor(**kwargs)

    return make


# -- a job's image is pulled -----------------------------------------------------------------

def test_an_image_only_in_the_registry_is_pulled_and_runs(pulling, registry, docker_api, tmp_path, caplog):
    ref = push_image(docker_api, registry, extra_bytes=64 << 10)
    try:
        executor = pulling()
        with caplog.at_level(logging.INFO, logger="crowdcompute.worker.images"):
            bundle, _ = run_job(executor, definition([op("x", ["sh", "-c", "wc -c < /blob"])], image=ref))
        lines = [r.getMessage() for r in caplog.records if r.name == "crowdcompute.worker.images"]
        assert f"image={ref} event=pull-start" in lines
        assert any(line.startswith(f"image={ref} event=pulled ") and "layers=" in line for line in lines), lines
        assert bundle.status == "succeeded", bundle.render()
        assert bundle.ops[0].stdout.text.strip() == str(64 << 10)
        assert any(ref.split("/", 1)[1].split(":")[0] in path for path in registry.blob_fetches()), "no layer was fetched"
        record = read_record(tmp_path / "images.json")
        entry = record["images"][ref]
        assert entry["size"] >= 64 << 10 and entry["id"].startswith("sha256:")
    finally:
        remove_quietly(docker_api, ref)


def test_a_missing_image_ends_the_job_with_the_reason_and_nothing_runs(pulling, registry, docker_api):
    ref = f"{registry.host}/crowdtest/never-pushed:t1"
    executor = pulling()
    started = time.monotonic()
    bundle, job = run_job(executor, definition([op("x", "echo ran")], image=ref))
    assert time.monotonic() - started < 30
    record = bundle.ops[0]
    assert bundle.status == "failed"
    assert record.exit_code is None and record.error == f"image {ref} does not exist in its registry"
    assert record.stdout.text == ""
    assert not docker_api.containers(all=True, filters={"label": f"crowdcompute.job={job}"})


def test_an_image_over_the_maximum_is_refused_before_any_layer_is_fetched(pulling, registry, docker_api):
    ref = push_image(docker_api, registry, extra_bytes=3 << 20)
    try:
        before = len(registry.blob_fetches())
        executor = pulling(max_image_size=2 << 20)
        bundle, _ = run_job(executor, definition([op("x", "echo ran")], image=ref))
        error = bundle.ops[0].error
        assert bundle.ops[0].exit_code is None
        assert re.fullmatch(rf"image {re.escape(ref)} is \d+ bytes, over this node's maximum of {2 << 20} bytes \(.*\)", error), error
        size = int(error.split(" is ")[1].split()[0])
        assert size > 3 << 20  # the registry's manifest: the random layer plus busybox's
        assert len(registry.blob_fetches()) == before, "a layer was fetched for an image over the maximum"
        assert gone_from_engine(docker_api, ref)
    finally:
        remove_quietly(docker_api, ref)


def test_the_pulled_size_is_checked_again_after_the_pull(docker_api, registry, engine, tmp_path):
    """A maximum between the compressed size (the manifest's) and the unpacked one: the
    pull goes through, the image on disk is over it, so it is removed and refused."""
    ref = push_image(docker_api, registry, extra_bytes=1 << 20)
    try:
        compressed = _manifest_bytes(registry, ref)
        cache = ImageCache(engine, 1 << 30, tmp_path / "images.json", max_size=compressed + 1, policy=LOOPBACK)
        with pytest.raises(Exception) as caught:
            asyncio.run(cache.ensure(ref))
        assert f"image {ref} is" in str(caught.value) and f"over this node's maximum of {compressed + 1} bytes" in str(caught.value)
        assert gone_from_engine(docker_api, ref)
        assert ref not in (read_record(tmp_path / "images.json") or {}).get("images", {})
    finally:
        remove_quietly(docker_api, ref)


def test_the_pull_is_cancelled_once_its_layers_pass_the_maximum(docker_api, registry, engine):
    """The engine's progress names each layer's size as it starts: past the maximum the
    pull is cancelled there (the check behind the manifest's, for registries that list none)."""
    from crowdcompute.worker.images import ImageTooLarge, Reference
    from crowdcompute.worker.images.pull import Pull

    ref = push_image(docker_api, registry, extra_bytes=3 << 20)
    try:
        with pytest.raises(ImageTooLarge, match=rf"image {re.escape(ref)} is \d+ bytes, over this node's maximum of {1 << 20} bytes"):
            asyncio.run(Pull(engine, Reference.parse(ref), max_size=1 << 20).run(timeout=30))
    finally:
        remove_quietly(docker_api, ref)


def _manifest_bytes(registry: Registry, ref: str) -> int:
    name, tag = ref.split("/", 1)[1].rsplit(":", 1)
    manifest = requests.get(f"http://{registry.host}/v2/{name}/manifests/{tag}", timeout=10,
                            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}).json()
    return sum(layer["size"] for layer in manifest["layers"]) + manifest["config"]["size"]


# -- registries that do not answer -----------------------------------------------------------

def test_an_unreachable_registry_ends_the_job_with_the_reason(pulling, docker_api):
    ref = f"127.0.0.1:{free_port()}/crowdtest/img:t1"  # nothing listens there
    executor = pulling(pull_timeout=20)
    started = time.monotonic()
    bundle, job = run_job(executor, definition([op("x", "echo ran")], image=ref))
    assert time.monotonic() - started < 20
    error = bundle.ops[0].error
    assert error == f"registry of {ref} unreachable: connection refused", error
    assert bundle.ops[0].exit_code is None
    assert not docker_api.containers(all=True, filters={"label": f"crowdcompute.job={job}"})


@pytest.fixture
def stalled_port():
    """A loopback port that accepts connections and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_a_stalled_registry_ends_the_job_at_the_pull_timeout(pulling, stalled_port, docker_api):
    ref = f"127.0.0.1:{stalled_port}/crowdtest/img:t1"
    executor = pulling(pull_timeout=3)
    started = time.monotonic()
    bundle, job = run_job(executor, definition([op("x", "echo ran")], image=ref))
    took = time.monotonic() - started
    assert 3 <= took < 15, took
    assert bundle.ops[0].error.startswith(f"pull of {ref} timed out after 3 s"), bundle.ops[0].error
    assert not docker_api.containers(all=True, filters={"label": f"crowdcompute.job={job}"})


def test_a_stop_during_the_pull_ends_it_at_once(pulling, stalled_port):
    ref = f"127.0.0.1:{stalled_port}/crowdtest/img:t1"
    executor = pulling(pull_timeout=60)

    async def stopped_after(seconds: float):
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        from crowdcompute.worker.executor import JobRun

        run = JobRun("teststoppull" + str(next(_names)), NODE, "Poster", "bafy", time.time() + 60)
        return await executor.run(definition([op("x", "echo ran")], image=ref), run, stop=stop)

    started = time.monotonic()
    bundle = asyncio.run(stopped_after(1.0))
    assert time.monotonic() - started < 10
    assert bundle.ops[0].error == f"pull of {ref} stopped: the job was stopped"


# -- the cache -------------------------------------------------------------------------------

def test_the_cache_removes_the_least_recently_used_image_never_one_in_use(docker_api, registry, engine, tmp_path):
    refs = [push_image(docker_api, registry, extra_bytes=256 << 10) for _ in range(4)]
    busy = None
    try:
        state = tmp_path / "images.json"
        cache = ImageCache(engine, 1 << 30, state, pin_s=0, policy=LOOPBACK)  # no budget pressure while filling

        async def fill() -> None:
            for ref in refs[:3]:
                await cache.ensure(ref)
                await asyncio.sleep(0.01)  # distinct last uses
            await cache.ensure(refs[0])  # used again: now the most recent; refs[1] is the least

        asyncio.run(fill())
        sizes = {ref: e["size"] for ref, e in read_record(state)["images"].items()}
        assert set(sizes) == set(refs[:3])
        # refs[1] (the least recently used) is in use by a container that has exited
        busy = docker_api.create_container(refs[1], command=["true"])["Id"]
        # A budget that holds three of them: a fourth needs one out.
        budget = sum(sizes.values()) + max(sizes.values()) // 2
        cache = ImageCache(engine, budget, state, pin_s=0, policy=LOOPBACK)
        asyncio.run(cache.ensure(refs[3]))
        kept = read_record(state)["images"]
        assert refs[1] in kept and not gone_from_engine(docker_api, refs[1]), "an image in use was removed"
        assert refs[2] not in kept and gone_from_engine(docker_api, refs[2]), "the least recently used unused image stays"
        assert refs[0] in kept and refs[3] in kept
        assert read_record(state)["budget"] == budget
        assert sum(e["size"] for e in kept.values()) <= budget
    finally:
        if busy:
            docker_api.remove_container(busy, force=True)
        for ref in refs:
            remove_quietly(docker_api, ref)


def test_the_cache_never_removes_an_image_it_did_not_pull(docker_api, engine, tmp_path):
    """The local test image is on the engine but not the cache's: a cache with no room at
    all uses it and leaves it alone."""
    cache = ImageCache(engine, 0, tmp_path / "images.json", pin_s=0, policy=LOOPBACK)
    assert asyncio.run(cache.ensure(IMAGE))
    assert asyncio.run(cache.make_room(1 << 20)) == 1 << 20  # nothing of its own to remove
    assert docker_api.images(name=IMAGE.split(":")[0])


def test_an_image_bigger_than_the_whole_cache_is_refused_before_download(docker_api, registry, engine, tmp_path):
    ref = push_image(docker_api, registry, extra_bytes=1 << 20)
    try:
        before = len(registry.blob_fetches())
        cache = ImageCache(engine, 512 << 10, tmp_path / "images.json", policy=LOOPBACK)
        with pytest.raises(Exception, match=rf"image {re.escape(ref)} is \d+ bytes, over this node's image cache of {512 << 10} bytes"):
            asyncio.run(cache.ensure(ref))
        assert len(registry.blob_fetches()) == before
    finally:
        remove_quietly(docker_api, ref)


# -- credentials -----------------------------------------------------------------------------

def test_authentication_in_a_definition_stays_refused_with_the_reason():
    doc = {"version": "0.1", "type": "container", "ops": [{
        "type": "container/run", "id": "x",
        "args": {"image": "127.0.0.1:5000/private/img:1", "cmd": "true",
                 "authentication": {"docker": {"username": "u", "password": "p", "server": "127.0.0.1:5000"}}},
    }]}
    with pytest.raises(ValidationError) as caught:
        parse(doc)
    assert "ops[0].args.authentication: not supported: registry credentials would be public once the definition is stored" in str(caught.value)


# -- the node daemon -------------------------------------------------------------------------

def test_a_node_pulls_by_default_refuses_a_too_large_image_and_status_shows_its_cache(
        registry, docker_api, localnet, storage, wallets, market, workers, capsys):
    """`crowd node start` with --max-image-size and --pull-timeout (pulling is the default):
    a job whose image is only in the registry runs; one over the maximum is settled with
    the reason, nothing pulled, the poster paying only the seconds it took; `crowd node
    status` lists the pulled image and the cache's budget."""
    from crowdcompute.client.crowd import CrowdClient
    from tests.sdk.cli_runner import Crowd

    from .conftest import SETTINGS
    from .helpers import job as node_job, op as node_op

    small = push_image(docker_api, registry, extra_bytes=16 << 10)
    big = push_image(docker_api, registry, extra_bytes=3 << 20)
    try:
        w = workers("puller", executor=None, extra=("--allow-private-source", "127.0.0.1", "--max-image-size", "2MiB", "--pull-timeout", "30s",
                                                    "--image-cache", "1GiB"))
        w.wait_log("event=entered", timeout=90)
        assert "images   pulled when missing, without credentials (timeout 30 s, at most 2.0 MiB each); cache of 1.0 GiB" in w.log()
        poster = asyncio.run(wallets.fund(tokens=1_000_000))

        async def post(definition):
            async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
                posted = await crowd.post(market, timeout=120, definition=parse(definition))
                view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120)
                return view, (await crowd.result_bundle(posted.job))[2]

        view, bundle = asyncio.run(post(node_job(node_op("run", ["sh", "-c", "wc -c < /blob"], image=small))))
        assert view.status == "done" and bundle.status == "succeeded", bundle.render()
        assert bundle.ops[0].stdout.text.strip() == str(16 << 10)
        assert f"image={small} event=pull-start" in w.log() and f"image={small} event=pulled" in w.log()

        before = len(registry.blob_fetches())
        view, bundle = asyncio.run(post(node_job(node_op("run", ["echo", "ran"], image=big))))
        assert view.status == "done" and bundle.status == "failed"
        error = bundle.ops[0].error
        assert re.fullmatch(rf"image {re.escape(big)} is \d+ bytes, over this node's maximum of {2 << 20} bytes \(.*\)", error), error
        assert bundle.ops[0].exit_code is None and bundle.ops[0].stdout.text == ""
        assert len(registry.blob_fetches()) == before and gone_from_engine(docker_api, big)
        assert view.job.paid <= SETTINGS.price_per_second * 10, "a refused image cost the poster more than a few seconds"

        status = Crowd(capsys, localnet.url, str(w.keyfile))("node", "status", "--market", str(market), "--state-dir", str(w.state_dir))
        assert status.code == 0, status.err
        assert "images   1 pulled, " in status.out and " of a 1.0 GiB cache" in status.out
        assert re.search(rf"^ +{re.escape(small)}  [\d.]+ (KiB|MiB), last used \d{{4}}-", status.out, re.MULTILINE), status.out
        as_json = Crowd(capsys, localnet.url, str(w.keyfile))("node", "status", "--market", str(market), "--state-dir",
                                                              str(w.state_dir), "--output", "json")
        images = json.loads(as_json.out)["images"]
        assert images["budget"] == 1 << 30 and [row["image"] for row in images["images"]] == [small]
    finally:
        remove_quietly(docker_api, small)
        remove_quietly(docker_api, big)


# -- hostile references ----------------------------------------------------------------------

@pytest.mark.parametrize("image", ["127.0.0.1:5000/a?b=1", "127.0.0.1:5000/../v2/x", "host/a%2fb", "UPPER/case", "a@sha256:zz",
                                   "a:" + "t" * 200, "a/" * 200 + "a"])
def test_a_reference_outside_the_engines_grammar_is_refused_before_any_request(image):
    """A job's image reaches the manifest's URL: nothing outside the grammar gets there."""
    from crowdcompute.worker.images import Reference
    from crowdcompute.worker.images.reference import InvalidReference

    with pytest.raises(InvalidReference, match="is not a valid image reference"):
        Reference.parse(image)


def test_references_as_the_engine_reads_them():
    from crowdcompute.worker.images import Reference

    hub = Reference.parse("busybox")
    assert (hub.registry, hub.api_host, hub.repository, hub.reference) == ("docker.io", "registry-1.docker.io", "library/busybox", "latest")
    local = Reference.parse("127.0.0.1:5000/tools/busybox:1")
    assert (local.registry, local.repository, local.name, local.reference) == ("127.0.0.1:5000", "tools/busybox",
                                                                              "127.0.0.1:5000/tools/busybox", "1")
    digest = "sha256:" + "a" * 64
    pinned = Reference.parse(f"ghcr.io/a/b:c@{digest}")
    assert (pinned.registry, pinned.repository, pinned.tag, pinned.reference) == ("ghcr.io", "a/b", "c", digest)
