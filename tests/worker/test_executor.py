"""Executor over the real container engine: stages, results and literals, outputs, the job
network, volumes, restarts, refusals, stop and clean-up."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from dataclasses import replace

import pytest

from crowdcompute.client.jobspec import KINDS, Limits
from crowdcompute.worker.containers import LABEL_JOB, labels
from crowdcompute.worker.executor import HANDLERS, Executor, JobRun

from .conftest import IMAGE, NODE, by_id, definition, job_id, op, run_job


def test_stages_results_literals_outputs_and_log_file(executor):
    defn = definition(
        [
            op("make", "echo answer=42; echo warn >&2", results={"answer": "answer=(\\d+)"}),
            op("use", ["sh", "-c", 'echo got "$0"; echo "$0" > /out/r.txt', "%%ops.make.results.answer%%"], work_dir="/work"),
        ],
        meta={"use": {"outputs": ["/out/r.txt", "/out/missing.txt", "/bin"]}},
    )
    bundle, job = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    make, use = by_id(bundle, "make"), by_id(bundle, "use")
    assert make.exit_code == 0 and make.stdout.text == "answer=42\n" and make.stderr.text == "warn\n"
    assert make.results == {"answer": ("answer=42", "42")}
    # A list element that is exactly one result literal becomes the list's items.
    assert use.stdout.text == "got answer=42\n"
    r, missing, folder = use.outputs
    assert (r.path, base64.b64decode(r.to_json()["content"]), r.error) == ("/out/r.txt", b"answer=42\n", None)
    assert missing.error == "not found" and missing.size is None
    assert folder.error == "a directory, not a regular file"
    text = executor.log_path(job).read_text()
    assert "make stdout| answer=42" in text and "make stderr| warn" in text and "use stdout| got answer=42" in text
    assert f"job {job}: succeeded" in text


def test_depends_on_waits_for_the_dependency_to_end(executor):
    defn = definition([
        op("slow", "sleep 1; echo token=late", results={"t": "token=(\\w+)"}, execution={"group": "g"}),
        op("after", "echo saw %%ops.slow.results.t%%", execution={"group": "g", "depends_on": ["slow"]}),
    ])
    bundle, _ = run_job(executor, defn)
    assert by_id(bundle, "after").stdout.text == "saw token=late late\n"
    assert by_id(bundle, "after").started_at >= by_id(bundle, "slow").ended_at


def test_ops_of_a_stage_run_together_and_reach_each_other_by_name(executor, docker_api):
    """Two ops of one group at once: the client reaches the server by its alias on the
    job's network, which is internal (no route out)."""
    defn = definition([
        op("server", "echo hello-over-the-network | nc -l -p 9000", aliases="srv", execution={"group": "g"}),
        op("client", "for i in $(seq 50); do nc srv 9000 && exit 0; sleep 0.2; done; exit 1", execution={"group": "g"}),
    ])
    job = job_id("net")
    seen: list[dict] = []

    def watch() -> None:  # the job's network, while the job runs
        for _ in range(100):
            found = docker_api.networks(filters={"label": f"{LABEL_JOB}={job}"})
            if found:
                seen.append(docker_api.inspect_network(found[0]["Id"]))
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    bundle, _ = run_job(executor, defn, job=job)
    watcher.join()
    assert bundle.status == "succeeded", bundle.render()
    assert by_id(bundle, "client").stdout.text == "hello-over-the-network\n"
    assert seen and seen[0]["Internal"] is True


def test_create_volume_is_shared_by_later_ops_and_restart_on_failure(executor):
    """The third try succeeds: the volume keeps the count across tries (fresh containers)."""
    defn = definition([
        {"id": "vol", "type": "container/create-volume", "args": {"name": "state"}},
        op(
            "flaky",
            'n=$(cat /state/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /state/n; echo try=$n; [ $n -ge 3 ]',
            volumes=[{"name": "state", "dest": "/state"}],
            restart_policy={"policy": "on-failure", "restart_tries": 3},
        ),
        op("read", "cat /state/n", volumes=[{"name": "state", "dest": "/state"}]),
    ])
    bundle, _ = run_job(executor, defn)
    flaky = by_id(bundle, "flaky")
    assert flaky.exit_code == 0 and flaky.stdout.text == "try=1\ntry=2\ntry=3\n"
    assert "ran 3 times" in flaky.error
    assert by_id(bundle, "read").stdout.text == "3\n"
    assert by_id(bundle, "vol").exit_code == 0
    assert bundle.status == "succeeded"


def test_missing_image_and_unfillable_literal_fail_the_op_not_the_run(executor):
    defn = definition([
        op("gone", "echo k=v", image="crowdcompute/no-such-image:never", results={"k": "k=(\\w)"}),
        op("later", "echo %%ops.gone.results.k%%"),
        op("fine", "echo fine"),
    ])
    bundle, _ = run_job(executor, defn)
    gone, later, fine = bundle.ops
    assert gone.exit_code is None and "is not on this node (this node does not pull images)" in gone.error
    assert later.exit_code is None and later.error.startswith("literal: %%ops.gone.results.k%%")
    assert fine.exit_code == 0
    assert bundle.status == "failed"


def test_pull_allowed_but_no_registry_fails_quickly(make_executor):
    executor = make_executor(pull=True, pull_timeout=60)
    bundle, _ = run_job(executor, definition([op("x", "true", image="crowdcompute/no-such-image:never")]))
    assert "registry of crowdcompute/no-such-image:never unreachable" in bundle.ops[0].error or "timed out" in bundle.ops[0].error


def test_limits_over_the_node_and_gpu_on_a_cpu_node_are_refused(executor):
    defn = definition(
        [op("big", "true"), op("gpu", "true", gpu=True)],
        meta={"big": {"limits": {"memory": "1GiB"}}},
    )
    bundle, _ = run_job(executor, defn)
    big, gpu = bundle.ops
    assert big.error == "op big asks 1 GiB memory; this node allows at most 128 MiB"
    assert gpu.error == "op gpu needs a GPU; this node has none"


def test_every_op_kind_has_a_handler():
    """Adding a kind to client/jobspec/kinds.py without a handler here (or the reverse) fails."""
    assert list(HANDLERS) == list(KINDS)


def test_an_op_of_an_unknown_kind_is_refused_with_its_name(executor):
    """`parse` refuses unknown kinds in files; a definition built in-process can still hold
    one, and the executor refuses it before making anything, rather than run it as another."""
    parsed = definition([op("a", "true"), op("b", "echo never")])
    defn = replace(parsed, ops=(parsed.ops[0], replace(parsed.ops[1], type="container/service")))
    bundle, job = run_job(executor, defn)
    assert bundle.status == "failed"
    why = "op b is of kind 'container/service', which this node does not run (it runs container/run, container/create-volume)"
    assert {r.error for r in bundle.ops} == {f"not run: {why}"}
    assert job not in asyncio.run(executor.leftovers())  # nothing was made


def test_op_limits_below_the_node_are_applied(executor):
    defn = definition(
        [op("x", "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
                 " || cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max")],
        meta={"x": {"limits": {"pids": 20, "memory": "64MiB"}}},
    )
    bundle, _ = run_job(executor, defn)
    assert bundle.ops[0].stdout.text.split() == ["20", str(64 << 20)], bundle.render()


def test_stop_ends_running_ops_and_skips_the_rest(executor):
    defn = definition([op("long", "sleep 30"), op("never", "echo never")])

    async def scenario():
        stop = asyncio.Event()
        run = JobRun(job_id("stop"), "N", "P", "bafy", time.time() + 60)
        task = asyncio.create_task(executor.run(defn, run, stop=stop))
        await asyncio.sleep(1.5)
        stop.set()
        return await task

    bundle = asyncio.run(scenario())
    long, never = bundle.ops
    assert bundle.status == "stopped"
    assert long.exit_code in (137, 143) and long.error.startswith("stopped: the job was stopped")
    assert never.exit_code is None and never.error == "not run: the job was stopped"


def test_deadline_already_past_runs_nothing(executor):
    bundle, _ = run_job(executor, definition([op("a", "echo a")]), seconds=1)  # reserve is 2 s
    assert bundle.status == "timed-out"
    assert bundle.ops[0].error == "not run: the job's deadline came first"


def test_cleanup_job_and_leftovers(executor, make_executor, docker_api, test_image):
    """What a crash leaves (a labelled container, network and volume) is found and removed;
    a node sees only its own leftovers when nodes share the engine."""
    job, other = job_id("left"), job_id("other")
    docker_api.create_network(f"cc-{job}", internal=True, labels=labels(job, "network", node=NODE))
    docker_api.create_volume(f"cc-{job}-v-x", labels=labels(job, "volume", node=NODE))
    created = docker_api.create_container(IMAGE, ["sleep", "30"], labels=labels(job, "op", "a", NODE))
    docker_api.start(created["Id"])
    docker_api.create_container(IMAGE, ["true"], labels=labels(other, "op", "a", "AnotherNode"))
    try:
        assert job in asyncio.run(executor.leftovers())
        assert other not in asyncio.run(executor.leftovers())
        assert {job, other} <= set(asyncio.run(make_executor(node=None).leftovers()))
        asyncio.run(executor.cleanup_job(job))
        only = {"label": f"{LABEL_JOB}={job}"}
        assert job not in asyncio.run(executor.leftovers())
        assert docker_api.containers(all=True, filters=only) == []
        assert docker_api.networks(filters=only) == []
        assert not docker_api.volumes(filters=only).get("Volumes")
    finally:
        asyncio.run(executor.cleanup_job(other))


def test_a_run_leaves_nothing_labelled(executor, docker_api):
    defn = definition([{"id": "v", "type": "container/create-volume", "args": {"name": "data"}},
                       op("w", "echo x > /data/x", volumes=[{"name": "data", "dest": "/data"}], work_dir="/work")])
    bundle, job = run_job(executor, defn)
    assert bundle.status == "succeeded", bundle.render()
    only = {"label": f"{LABEL_JOB}={job}"}
    assert docker_api.containers(all=True, filters=only) == []
    assert docker_api.networks(filters=only) == []
    assert not docker_api.volumes(filters=only).get("Volumes")


def test_engine_unreachable_gives_a_bundle_that_says_so(tmp_path):
    from crowdcompute.worker.engine import Engine

    engine = Engine("unix:///nonexistent/docker.sock", retries=1, backoff=0.01)
    executor = Executor(engine, work_dir=tmp_path / "w", log_dir=tmp_path / "l", limits=Limits(memory=1 << 30))
    try:
        bundle, _ = run_job(executor, definition([op("a", "true")]))
    finally:
        engine.close()
    assert bundle.status == "failed"
    assert "unreachable" in bundle.ops[0].error and bundle.ops[0].exit_code is None


@pytest.mark.parametrize("gpu", [False, True])
def test_container_settings(gpu):
    """The confinement every op gets (README.md of worker), as the engine receives it."""
    from crowdcompute.worker.containers import container_spec

    defn = definition(
        [{"id": "mk", "type": "container/create-volume", "args": {"name": "d"}},
         op("train", "python train.py", gpu=gpu, work_dir="/app", volumes=[{"name": "d", "dest": "/data"}])],
    )
    train = defn.op("train")
    spec = container_spec("J", "train", train.args, Limits(cpus=1.5, memory=256 << 20, pids=99, timeout=None),
                          attempt=1, image_workdir="/", read_only=True, tmpfs_size=1 << 20)
    host = spec.host_config
    assert host["nano_cpus"] == 1_500_000_000
    assert host["mem_limit"] == host["memswap_limit"] == 256 << 20
    assert host["pids_limit"] == 99
    assert host["cap_drop"] == ["ALL"] and host["security_opt"] == ["no-new-privileges"]
    assert host["read_only"] is True and host["tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=1048576"}
    assert host["network_mode"] == "cc-J" and spec.aliases == ["train"]
    assert sorted(spec.volumes.values()) == ["/app", "/data"]
    assert spec.labels == {"crowdcompute.job": "J", "crowdcompute.op": "train", "crowdcompute.role": "op"}
    if gpu:
        (request,) = host["device_requests"]
        assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]
    else:
        assert "device_requests" not in host


def test_large_and_linked_outputs(executor):
    """Over the file cap: size and sha256 streamed, no content. A symbolic link (here to
    a file of the container; it could name a host path) is never followed."""
    import hashlib

    from crowdcompute.client.bundle import OUTPUT_FILE_CAP

    size = OUTPUT_FILE_CAP + 1000
    defn = definition(
        [op("o", f"head -c {size} /dev/zero > /out/big.bin; ln -s /etc/hostname /out/link")],
        meta={"o": {"outputs": ["/out/big.bin", "/out/link"]}},
    )
    bundle, _ = run_job(executor, defn)
    big, link = bundle.ops[0].outputs
    assert (big.size, big.sha256, big.content) == (size, hashlib.sha256(bytes(size)).hexdigest(), None)
    assert big.error == f"larger than {OUTPUT_FILE_CAP} bytes: content left out"
    assert link.error == "a symbolic link, not a regular file" and link.content is None


def test_container_removed_behind_our_back_still_gives_a_bundle(executor, docker_api):
    """`docker rm -f` by an operator (or another node's clean-up) while the op runs."""
    job = job_id("rm")

    def remove_when_running() -> None:
        for _ in range(200):
            rows = docker_api.containers(filters={"label": f"{LABEL_JOB}={job}", "status": "running"})
            if rows:
                docker_api.remove_container(rows[0]["Id"], force=True)
                return
            time.sleep(0.05)

    remover = threading.Thread(target=remove_when_running)
    remover.start()
    bundle, _ = run_job(executor, definition([op("victim", "echo up; sleep 30"), op("next", "echo next")]), job=job)
    remover.join()
    victim, after = bundle.ops
    assert victim.exit_code == 137 and victim.error == "the container was removed by someone else while it ran"
    assert after.exit_code == 0 and after.stdout.text == "next\n"
    assert bundle.status == "failed"
