"""Resources decided while a job runs, and resources an op may write to, over the real loopback
servers (resource_servers.py) into real jobs on the real engine:

  * an op's `resources` written with literals (Nosana's job-literals example) are filled in
    from an earlier op's results when the op starts, checked by the rules of written ones,
    fetched through the node's cache and mounted for that op; a hostile value fails that op
    with the reason, and nothing is fetched for it;
  * `allowWrite` (Nosana's sogni-ai example): the op writes to the job's private copy, the
    node's cached copy (and another job's view of it) stays as it was, the copy goes with
    the job, and a copy over the job's disk budget fails the op before anything is copied.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path

from crowdcompute.worker.resources.private import copy_volume_name

from crowdcompute.worker.executor import JobRun

from .conftest import NODE, by_id, definition, job_id, op, run_job
from .test_resources import WEIGHTS, hub, make_cache, resource_volumes, s3  # noqa: F401 (fixtures)

S3_TINY = {"type": "S3", "url": "s3://models/tiny", "target": "/data"}


def setter(**values: str) -> dict:
    """An op that prints `key: value` lines, each declared as a result (Nosana's literal-setter)."""
    # %% written as %''% (two quoted strings the shell joins): the setter's own command holds no literal
    lines = "; ".join(f"echo {key}: '{value}'".replace("%%", "%''%") for key, value in values.items())
    return op("setter", lines, results={key: f"(?<={key}: ).*" for key in values}, execution={"group": "pre"})


def later(op_id: str, cmd: str, resources: list) -> dict:
    return op(op_id, cmd, resources=resources, execution={"group": "main"})


def job_volumes(docker_api, job: str) -> list[str]:
    return [row["Name"] for row in docker_api.volumes(filters={"label": f"crowdcompute.job={job}"}).get("Volumes") or []]


def test_a_resource_named_by_an_earlier_ops_results_is_fetched_and_mounted_for_the_later_op(make_executor, make_cache, s3, hub):
    cache = make_cache()
    executor = make_executor(resources=cache)
    defn = definition([
        setter(resources_json=json.dumps([S3_TINY]), repo="org/tiny"),
        later("use", "cat /data/a.txt; sha256sum /models/model.safetensors; touch /data/x 2>/dev/null || echo read-only",
              [{"__spread__": "%%ops.setter.results.resources_json%%"},
               {"type": "HF", "repo": "%%ops.setter.results.repo%%", "files": ["model.safetensors"], "target": "/models"}]),
    ])
    assert cache.downloads == 0
    bundle, _ = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    out = by_id(bundle, "use").stdout.text.split("\n")
    assert out[0] == "hello from s3" and out[1].startswith(hashlib.sha256(WEIGHTS).hexdigest()) and out[2] == "read-only"
    assert sorted((r.type, r.source, r.cached) for r in bundle.resources) == [
        ("HF", "hf://org/tiny@main", False), ("S3", "s3://models/tiny", False)]
    assert cache.downloads == 2 and hub.gets == {"model.safetensors": 1}
    again, _ = run_job(executor, defn)  # a second job: the same values, from the cache
    assert again.status == "succeeded" and all(r.cached for r in again.resources) and cache.downloads == 2


def test_a_hostile_value_fails_only_its_op_with_the_reason(make_executor, make_cache, s3, hub):
    cache = make_cache()
    executor = make_executor(resources=cache)
    spread = [{"__spread__": "%%ops.setter.results.bad%%"}]
    defn = definition([
        setter(dots=json.dumps({**S3_TINY, "target": "/data/../etc"}),
               iam=json.dumps({**S3_TINY, "IAM": {"ACCESS_KEY_ID": "AKIA", "SECRET_ACCESS_KEY": "s"}}),
               scheme=json.dumps([{**S3_TINY, "url": "file:///etc/passwd"}]),
               nested=json.dumps({**S3_TINY, "url": "%%ops.setter.results.iam%%"}),
               target="/x/../../etc", notjson="{oops"),
        later("dots", "true", [{"__spread__": "%%ops.setter.results.dots%%"}]),
        later("iam", "true", [{"__spread__": "%%ops.setter.results.iam%%"}]),
        later("scheme", "true", [{"__spread__": "%%ops.setter.results.scheme%%"}]),
        later("nested", "true", [{"__spread__": "%%ops.setter.results.nested%%"}]),
        later("field", "true", [{**S3_TINY, "target": "%%ops.setter.results.target%%"}]),
        later("notjson", "true", [{"__spread__": "%%ops.setter.results.notjson%%"}]),
        later("fine", "cat /data/a.txt", [S3_TINY]),  # the node, and the job's other ops, go on
    ])
    bundle, _ = run_job(executor, defn)
    errors = {o.id: o.error for o in bundle.ops}
    assert errors["dots"] == ("literal: resources[0] %%ops.setter.results.dots%%[0].target: '..' is not allowed, "
                              "got '/data/../etc'"), errors
    assert errors["iam"].startswith("literal: resources[0] %%ops.setter.results.iam%%[0].IAM: not supported: credentials")
    assert errors["scheme"] == ("literal: resources[0] %%ops.setter.results.scheme%%[0].url: expected an http, https or "
                                "s3 URL, got scheme 'file'")
    assert errors["nested"] == ("literal: resources[0] %%ops.setter.results.nested%%[0].url: a value filled in when the "
                                "op starts cannot hold another literal")
    assert errors["field"] == "literal: resources[0].target: '..' is not allowed, got '/x/../../etc'"
    assert errors["notjson"].startswith("literal: resources[0] %%ops.setter.results.notjson%%: '{oops' is not JSON")
    assert all(by_id(bundle, o).exit_code is None for o in ("dots", "iam", "scheme", "nested", "field", "notjson"))
    assert by_id(bundle, "fine").stdout.text == "hello from s3\n" and by_id(bundle, "setter").exit_code == 0
    assert cache.downloads == 1  # the written resource only: nothing was fetched for a refused value
    assert bundle.status == "failed"


def test_an_op_with_allow_write_writes_to_its_jobs_copy_and_the_cache_stays_as_it_was(make_executor, make_cache, s3,
                                                                                    docker_api):
    cache = make_cache()
    executor = make_executor(resources=cache)
    writer = definition([
        op("write", "echo changed > /data/a.txt && echo new > /data/new && rm /data/sub/b.txt && cat /data/a.txt /data/new",
           resources=[{**S3_TINY, "allowWrite": True}]),
        op("second", "cat /data/a.txt", resources=[{**S3_TINY, "allowWrite": True}], execution={"depends_on": ["write"]}),
    ])
    bundle, job = run_job(executor, writer)
    assert bundle.status == "succeeded", bundle.render()
    assert by_id(bundle, "write").stdout.text == "changed\nnew\n"
    assert by_id(bundle, "second").stdout.text == "changed\n"  # one copy per job: its ops share it
    (entry,) = cache.entries.values()
    folder = Path(docker_api.inspect_volume(entry.volume)["Mountpoint"])
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == ["a.txt", "sub", "sub/b.txt"]
    assert (folder / "a.txt").read_bytes() == b"hello from s3\n"
    assert job_volumes(docker_api, job) == [] and copy_volume_name(job, entry.key) not in {
        row["Name"] for row in docker_api.volumes().get("Volumes") or []}  # the copy went with the job
    reader = definition([op("read", "cat /data/a.txt /data/sub/b.txt; ls /data/new 2>/dev/null || echo no-new",
                             resources=[S3_TINY])])
    other, _ = run_job(executor, reader)
    assert by_id(other, "read").stdout.text == "hello from s3\nnested\nno-new\n"
    again, _ = run_job(executor, definition([op("write", "cat /data/a.txt; ls /data/new 2>/dev/null || echo no-new",
                                                resources=[{**S3_TINY, "allowWrite": True}])]))
    assert by_id(again, "write").stdout.text == "hello from s3\nno-new\n"  # a fresh copy for each job
    assert cache.downloads == 1 and len(resource_volumes(docker_api, cache)) == 1


def test_a_copy_over_the_jobs_disk_budget_fails_the_op_before_copying(make_executor, make_cache, hub, docker_api):
    cache = make_cache()
    executor = make_executor(resources=cache, disk_budget=4096, clean_after_run=False)  # the model is 10 KiB
    defn = definition([op("write", "true", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m", "allowWrite": True}]),
                       op("read", "wc -c < /m/model.safetensors", resources=[{"type": "HF", "repo": "org/tiny", "target": "/m"}])])
    bundle, job = run_job(executor, defn)
    assert bundle.status == "failed"
    error = by_id(bundle, "write").error
    assert error.startswith("resource hf://org/tiny@main: a writable copy of 10254 bytes would put the job's volumes at "), error
    assert error.endswith("over its disk budget of 4 KiB") and by_id(bundle, "write").exit_code is None
    assert by_id(bundle, "read").stdout.text.strip() == str(len(WEIGHTS))  # read-only, it costs the job nothing
    (entry,) = cache.entries.values()
    try:  # the job's volumes as it left them: no copy was begun
        assert copy_volume_name(job, entry.key) not in job_volumes(docker_api, job)
    finally:
        asyncio.run(executor.cleanup_job(job))


def test_a_late_download_is_bounded_by_the_jobs_deadline(make_executor, make_cache, hub):
    hub.stall.add("model.safetensors")
    executor = make_executor(resources=make_cache(stall_s=3.0, tries=1))
    defn = definition([setter(repo="org/tiny"),
                       later("use", "true", [{"type": "HF", "repo": "%%ops.setter.results.repo%%", "target": "/m"}])])

    async def timed():
        started = time.monotonic()
        run = JobRun(job_id("late"), NODE, "Poster", "bafydef", time.time() + 5)  # the executor keeps 2 s in reserve
        return await executor.run(defn, run), time.monotonic() - started

    bundle, took = asyncio.run(timed())  # (asyncio.run then waits for the library's download thread to give up)
    assert by_id(bundle, "use").error == "resources: the job's deadline came while they downloaded", bundle.render()
    assert by_id(bundle, "setter").exit_code == 0 and took < 5
