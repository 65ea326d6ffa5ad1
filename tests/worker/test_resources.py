"""Resources over real servers on loopback (tests/worker/resource_servers.py: moto's S3 server,
a Hugging Face-compatible endpoint served here, Debian's docker-registry holding an Ollama
model) into real jobs on the real engine: mounted read-only, cached, verified, shared by
concurrent jobs, evicted least recently used first, and every failure a job's reason."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid

import pytest

from crowdcompute.client.jobspec.resources import HFResource
from crowdcompute.worker.executor import JobRun
from crowdcompute.worker.resources import ResourceCache, ResourceError, Sources
from crowdcompute.worker.resources.cache import LABEL_NODE, LABEL_ROLE, ROLE, STATE_FILE

from .conftest import NODE, by_id, definition, job_id, op, run_job
from .resource_servers import HubServer, MotoS3, Registry

WEIGHTS = bytes(range(256)) * 40  # 10 KiB "model"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = MotoS3(tmp_path_factory.mktemp("moto"))
    server.bucket("models")
    server.put("models", "tiny/a.txt", b"hello from s3\n")
    server.put("models", "tiny/sub/b.txt", b"nested\n")
    yield server
    server.stop()


@pytest.fixture
def hub():
    server = HubServer()
    server.add("org/tiny", {"config.json": b'{"layers": 2}\n', "model.safetensors": WEIGHTS}, lfs={"model.safetensors"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    if not Registry.available():
        pytest.skip("docker-registry is not installed (apt-get install docker-registry; scripts/test.sh does)")
    server = Registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture
def make_cache(engine, tmp_path, docker_api, s3, hub):
    """A cache of its own node label (so its volumes are found and removed after the test)."""
    nodes: list[str] = []

    def make(*, budget: int = 1 << 30, stall_s: float = 5.0, tries: int = 2, ollama: str | None = None) -> ResourceCache:
        node = f"restest-{uuid.uuid4().hex[:12]}"
        nodes.append(node)
        sources = Sources(s3_endpoint=s3.url, hf_endpoint=hub.url, ollama_registry=ollama, stall_s=stall_s)
        return ResourceCache(engine, tmp_path / f"state-{node}", budget=budget, sources=sources, node=node, tries=tries)

    yield make
    for node in nodes:
        for row in docker_api.volumes(filters={"label": [f"{LABEL_NODE}={node}"]}).get("Volumes") or []:
            docker_api.remove_volume(row["Name"], force=True)


def resource_volumes(docker_api, cache: ResourceCache) -> list[str]:
    rows = docker_api.volumes(filters={"label": [f"{LABEL_ROLE}={ROLE}", f"{LABEL_NODE}={cache.node}"]}).get("Volumes") or []
    return sorted(row["Name"] for row in rows)


def not_run(bundle) -> set[str]:
    return {o.error for o in bundle.ops}


def test_an_s3_prefix_is_mounted_read_only_and_the_second_job_uses_the_cache(make_executor, make_cache, s3, docker_api):
    cache = make_cache()
    executor = make_executor(resources=cache)
    defn = definition([op("read", "cat /data/a.txt /data/sub/b.txt; touch /data/new 2>/dev/null || echo read-only",
                          resources=[{"type": "S3", "url": "s3://models/tiny", "target": "/data"}])])
    first, _ = run_job(executor, defn)
    assert first.status == "succeeded", first.render()
    assert by_id(first, "read").stdout.text == "hello from s3\nnested\nread-only\n"
    (record,) = first.resources
    assert (record.type, record.source, record.size, record.cached) == ("S3", "s3://models/tiny", 21, False)
    assert record.download_ms is not None and record.digest.startswith("s3-listing:")
    second, _ = run_job(executor, defn)
    assert second.status == "succeeded" and second.resources[0].cached and second.resources[0].download_ms is None
    assert cache.downloads == 1 and len(resource_volumes(docker_api, cache)) == 1
    state = json.loads((cache.path).read_text())
    assert [e["source"] for e in state["entries"]] == ["s3://models/tiny"]
    assert "resource S3 s3://models/tiny: 21 bytes" in first.render()


def test_ops_of_one_job_share_one_volume_at_their_own_targets(make_executor, make_cache, s3, docker_api):
    cache = make_cache()
    executor = make_executor(resources=cache)
    s3_tiny = {"type": "S3", "url": "s3://models/tiny", "files": ["a.txt"]}
    defn = definition([op("one", "cat /x/a.txt", resources=[{**s3_tiny, "target": "/x"}]),
                       op("two", "cat /y/a.txt", resources=[{**s3_tiny, "target": "/y"}])])
    bundle, _ = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    assert [by_id(bundle, o).stdout.text for o in ("one", "two")] == ["hello from s3\n"] * 2
    assert len(bundle.resources) == 1 and cache.downloads == 1 and len(resource_volumes(docker_api, cache)) == 1


def test_hugging_face_files_arrive_verified_from_one_commit(make_executor, make_cache, hub):
    executor = make_executor(resources=make_cache())
    defn = definition([op("read", "sha256sum /models/model.safetensors; cat /models/config.json; ls /models",
                          resources=[{"type": "HF", "repo": "org/tiny", "target": "/models"}])])
    bundle, _ = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    out = by_id(bundle, "read").stdout.text
    assert out.startswith(hashlib.sha256(WEIGHTS).hexdigest())
    assert '{"layers": 2}' in out and ".cache" not in out and ".partial" not in out  # only the repo's files
    (record,) = bundle.resources
    assert record.digest == hub.repos["org/tiny"].commit and record.size == len(WEIGHTS) + 14


def test_an_ollama_model_lands_in_ollamas_own_layout(make_executor, make_cache, registry):
    model = f"tiny{uuid.uuid4().hex[:6]}"
    digest, manifest = registry.push_ollama(f"{model}:q4", {"application/vnd.ollama.image.model": WEIGHTS,
                                                            "application/vnd.ollama.image.template": b"{{ .Prompt }}"})
    executor = make_executor(resources=make_cache(ollama=registry.url))
    defn = definition([op("read", f"cat /root/.ollama/models/manifests/registry.ollama.ai/library/{model}/q4; echo; "
                                  "ls /root/.ollama/models/blobs | wc -l",
                          resources=[{"type": "Ollama", "model": f"{model}:q4"}])])
    bundle, _ = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    text = by_id(bundle, "read").stdout.text
    assert text.split("\n")[0] == manifest.decode() and text.split("\n")[1].strip() == "3"  # config + 2 layers
    assert bundle.resources[0].digest == digest


def test_two_jobs_that_need_one_resource_at_once_download_it_once(make_executor, make_cache, hub, docker_api):
    cache = make_cache()
    executor = make_executor(resources=cache)
    hub.delay_s = 1.0  # each file's GET held open, so the second job comes while the first downloads
    defn = definition([op("read", "wc -c < /m/model.safetensors", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}])])

    async def both():
        runs = [JobRun(job_id("c"), NODE, "Poster", "bafydef", time.time() + 60) for _ in range(2)]
        return await asyncio.gather(*(executor.run(defn, run) for run in runs))

    bundles = asyncio.run(both())
    assert [b.status for b in bundles] == ["succeeded", "succeeded"], bundles[0].render()
    assert [by_id(b, "read").stdout.text.strip() for b in bundles] == [str(len(WEIGHTS))] * 2
    assert hub.gets == {"config.json": 1, "model.safetensors": 1} and cache.downloads == 1
    assert len(resource_volumes(docker_api, cache)) == 1


def test_corrupt_bytes_are_never_mounted_and_the_job_ends_with_the_reason(make_executor, make_cache, hub, docker_api):
    hub.corrupt.add("model.safetensors")
    cache = make_cache(tries=2)
    executor = make_executor(resources=cache)
    defn = definition([op("a", "cat /m/model.safetensors", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}]),
                       op("b", "echo never")])
    bundle, _ = run_job(executor, defn)
    assert bundle.status == "failed"
    (error,) = not_run(bundle)
    assert error.startswith("not run: resource hf://org/tiny@main: file model.safetensors: sha256 "), error
    assert "(corrupt download) (tried 2 times)" in error
    assert hub.gets["model.safetensors"] == 2  # retried once
    assert resource_volumes(docker_api, cache) == [] and cache.entries == {}


def test_a_corrupt_transfer_is_retried_and_the_retry_is_mounted(make_executor, make_cache, hub):
    hub.corrupt.add("model.safetensors")
    hub.corrupt_times = 1
    executor = make_executor(resources=make_cache(tries=2))
    defn = definition([op("a", "sha256sum /m/model.safetensors", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}])])
    bundle, _ = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    assert by_id(bundle, "a").stdout.text.startswith(hashlib.sha256(WEIGHTS).hexdigest())
    assert hub.gets["model.safetensors"] == 2


def test_a_missing_file_ends_the_job_without_a_retry(make_executor, make_cache, hub):
    executor = make_executor(resources=make_cache())
    defn = definition([op("a", "true", resources=[{"type": "S3", "url": "s3://models/tiny", "files": ["nope.bin"], "target": "/d"}])])
    bundle, _ = run_job(executor, defn)
    assert not_run(bundle) == {"not run: resource s3://models/tiny: file nope.bin: the server answered 404 (not found)"}
    hub.lost.add("config.json")  # listed by the Hub, then not served
    defn = definition([op("a", "true", resources=[{"type": "HF", "repo": "org/tiny", "target": "/d"}])])
    bundle, _ = run_job(executor, defn)
    (error,) = not_run(bundle)
    assert error.startswith("not run: resource hf://org/tiny@main: file config.json: not found"), error
    assert "tried" not in error  # not found is not retried


def test_a_server_that_stalls_ends_the_job_with_the_reason(make_executor, make_cache, hub, docker_api):
    hub.stall.add("model.safetensors")
    cache = make_cache(stall_s=1.0, tries=1)
    executor = make_executor(resources=cache)
    defn = definition([op("a", "true", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}])])
    bundle, _ = run_job(executor, defn, seconds=120)
    (error,) = not_run(bundle)
    assert error.startswith("not run: resource hf://org/tiny@main: file model.safetensors: the server stalled"), error
    assert resource_volumes(docker_api, cache) == []


def test_a_download_past_the_deadline_ends_the_job(make_executor, make_cache, hub):
    hub.stall.add("model.safetensors")
    executor = make_executor(resources=make_cache(stall_s=3.0, tries=1))
    defn = definition([op("a", "true", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}])])

    async def timed():
        started = time.monotonic()
        run = JobRun(job_id("d"), NODE, "Poster", "bafydef", time.time() + 4)  # the executor keeps 2 s in reserve
        return await executor.run(defn, run), time.monotonic() - started

    bundle, took = asyncio.run(timed())  # (asyncio.run then waits for the library's download thread to give up)
    assert not_run(bundle) == {"not run: resources: the job's deadline came while they downloaded"}
    assert took < 4


def test_a_resource_larger_than_the_cache_budget_is_refused(make_executor, make_cache, hub, docker_api):
    cache = make_cache(budget=4096)
    executor = make_executor(resources=cache)
    defn = definition([op("a", "true", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}])])
    bundle, _ = run_job(executor, defn)
    (error,) = not_run(bundle)
    assert error.startswith("not run: resource hf://org/tiny@main: it holds ") and error.endswith(
        "over this node's resource cache of 4 KiB"), error
    assert hub.gets == {} and resource_volumes(docker_api, cache) == []


def test_least_recently_used_resources_are_evicted_within_the_budget(make_cache, hub, docker_api):
    for name in ("a", "b", "c"):
        hub.add(f"org/{name}", {"w.bin": name.encode() * 4000}, lfs={"w.bin"})
    cache = make_cache(budget=9000)  # two of them

    async def go():
        held = {}
        for name in ("a", "b", "a", "c"):  # a used again after b: b is the least recently used when c comes
            entry, _ = await cache.hold(HFResource("/m", repo=f"org/{name}"), "job1")
            cache.release("job1")
            held[name] = entry.volume
        return held

    held = asyncio.run(go())
    assert resource_volumes(docker_api, cache) == sorted([held["a"], held["c"]])
    assert sorted(e.source for e in cache.entries.values()) == ["hf://org/a@main", "hf://org/c@main"]
    again = ResourceCache(cache.engine, cache.path.parent, budget=9000, sources=cache.sources, node=cache.node)
    assert sorted(again.entries) == sorted(cache.entries)  # the state record outlives the process


def test_a_resource_held_by_a_running_job_is_not_evicted(make_cache, hub, docker_api):
    hub.add("org/big", {"w.bin": b"x" * 8000}, lfs={"w.bin"})
    hub.add("org/big2", {"w.bin": b"y" * 8000}, lfs={"w.bin"})
    cache = make_cache(budget=9000)

    async def go():
        await cache.hold(HFResource("/m", repo="org/big"), "running")  # not released: its job still runs
        with pytest.raises(ResourceError, match="full with resources in use"):
            await cache.hold(HFResource("/n", repo="org/big2"), "other")
        cache.release("running")
        await cache.hold(HFResource("/n", repo="org/big2"), "other")

    asyncio.run(go())
    assert [e.source for e in cache.entries.values()] == ["hf://org/big2@main"]
    assert len(resource_volumes(docker_api, cache)) == 1


def test_a_node_without_a_resource_cache_says_so(make_executor):
    defn = definition([op("a", "true", resources=[{"type": "Ollama", "model": "tinyllama"}])])
    bundle, _ = run_job(make_executor(), defn)
    assert not_run(bundle) == {"not run: this node keeps no resource cache (it fetches no S3, Hugging Face or Ollama resources)"}


def test_leftover_partial_volumes_are_removed_on_first_use(make_cache, docker_api, hub):
    cache = make_cache()
    docker_api.create_volume("cc-res-leftover-" + cache.node[-12:], labels={LABEL_ROLE: ROLE, LABEL_NODE: cache.node})
    (cache.path.parent).mkdir(parents=True, exist_ok=True)
    cache.path.write_text("not json")  # an unreadable record: an empty cache, not a crash
    asyncio.run(cache.hold(HFResource("/m", repo="org/tiny"), None))
    assert len(resource_volumes(docker_api, cache)) == 1 and (cache.path.parent / STATE_FILE).is_file()


def test_a_markets_prefetch_list_is_held_ahead_and_never_evicted(make_cache, hub, tmp_path):
    from crowdcompute.worker.resources.prefetch import load_prefetch, prefetch_in_background

    hub.add("org/other", {"w.bin": b"z" * 8000}, lfs={"w.bin"})
    listing = tmp_path / "prefetch.json"
    listing.write_text(json.dumps([{"type": "HF", "repo": "org/tiny", "target": "/models"}]))
    cache = make_cache(budget=19000)

    async def go():
        await prefetch_in_background(cache, load_prefetch(listing))
        entry, record = await cache.hold(HFResource("/models", repo="org/tiny"), "job")  # a job after it: cached
        assert record.cached and entry.pinned
        cache.release("job")
        await cache.hold(HFResource("/m", repo="org/other"), "job2")  # fits beside it; then needs room:
        cache.release("job2")
        hub.add("org/third", {"w.bin": b"t" * 8000}, lfs={"w.bin"})
        await cache.hold(HFResource("/m", repo="org/third"), "job3")  # evicts org/other, never the pinned one

    asyncio.run(go())
    assert sorted(e.source for e in cache.entries.values()) == ["hf://org/third@main", "hf://org/tiny@main"]
    listing.write_text(json.dumps([{"type": "HF", "repo": "../x", "target": "/"}]))
    with pytest.raises(ValueError, match=r"prefetch\[0\]\.repo: expected a Hugging Face repo id"):
        load_prefetch(listing)


def test_names_a_server_gives_never_leave_the_volume():
    from crowdcompute.worker.resources.plan import safe_relpath

    for bad in ("../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", "a/.", "", "a\\..\\b", "a\0b"):
        assert safe_relpath(bad) is None, bad
    assert safe_relpath("split_files/vae/wan.safetensors") == "split_files/vae/wan.safetensors"


def test_the_node_flags_reach_the_cache(tmp_path, engine):
    from crowdcompute.worker.executor_factory import make_executor as factory
    from crowdcompute.worker.options import add_start_arguments
    import argparse

    parser = argparse.ArgumentParser()
    add_start_arguments(parser)
    args = parser.parse_args(["--market", "m", "--resource-cache", "3GiB", "--s3-endpoint", "http://127.0.0.1:9000/",
                              "--hf-endpoint", "http://127.0.0.1:9001", "--ollama-registry", "http://127.0.0.1:9002"])
    settings = {"state_dir": tmp_path, **{k: getattr(args, k) for k in ("resource_cache", "s3_endpoint", "hf_endpoint", "ollama_registry")}}
    executor = factory(work_dir=tmp_path / "work", log_dir=tmp_path / "logs", gpus=0, node="n", resources=settings)
    cache = executor.resources
    assert (cache.budget, cache.sources.s3.endpoint, cache.sources.hf.endpoint, cache.sources.ollama.registry) == (
        3 << 30, "http://127.0.0.1:9000", "http://127.0.0.1:9001", "http://127.0.0.1:9002")
    assert cache.path == tmp_path / STATE_FILE
    with pytest.raises(SystemExit):
        parser.parse_args(["--market", "m", "--s3-endpoint", "ftp://x"])


def test_a_tampered_ollama_layer_fails_its_digest(make_executor, make_cache, registry, docker_api):
    model = f"bad{uuid.uuid4().hex[:6]}"
    layer = b"GGUF" + bytes(range(256)) * 8
    registry.push_ollama(model, {"application/vnd.ollama.image.model": layer})
    registry.tamper("sha256:" + hashlib.sha256(layer).hexdigest())
    cache = make_cache(ollama=registry.url)
    bundle, _ = run_job(make_executor(resources=cache), definition([op("a", "true", resources=[{"type": "Ollama", "model": model}])]))
    (error,) = not_run(bundle)
    assert error.startswith(f"not run: resource ollama://{model}: file blobs/sha256-{hashlib.sha256(layer).hexdigest()}: sha256 ")
    assert error.endswith("(corrupt download) (tried 2 times)") and resource_volumes(docker_api, cache) == []
