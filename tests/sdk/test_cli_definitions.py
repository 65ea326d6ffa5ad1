"""Posting job definitions (Nosana's format, JSON and YAML, files and inline) through the
live storage server: stored first, digest on-chain; --wait --download and logs fetch and
verify the result bundle; bad definitions and a silent storage send nothing."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import load, parse
from crowdcompute.client.jobspec.kinds import wants_gpu
from crowdcompute.client.storage import Cid, cid_of

from tests.localnet.localnet_helpers import free_port_pair

from .node_player import run_job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HELLO = EXAMPLES / "hello.json"


def _jobs(crowd, market) -> list:
    return crowd("job", "list", "--market", str(market), "--output", "json").json()


def test_post_a_file_stores_the_definition_first(crowd, market, storage):
    address, _ = market
    result = crowd("job", "post", str(HELLO), "--market", str(address), "--storage", storage.url, "--output", "json")
    assert result.code == 0, result.err
    posted = result.json()
    expected = load(HELLO).to_bytes()
    assert posted["definition"] == str(cid_of(expected))
    got = crowd("job", "get", posted["job"], "--output", "json").json()
    assert got["definition_cid"] == posted["definition"] and got["status"] == "queued"
    fetched = crowd("storage", "get", posted["definition"], "--storage", storage.url)
    assert fetched.code == 0


def test_yaml_and_inline_definitions(crowd, market, storage, tmp_path):
    address, _ = market
    yaml_file = tmp_path / "job.yaml"
    yaml_file.write_text("version: '0.1'\ntype: container\nops:\n  - type: container/run\n    id: count\n"
                         "    args: {image: alpine, cmd: [sh, -c, 'seq 3']}\n")
    from_yaml = crowd("job", "post", str(yaml_file), "--market", str(address), "--storage", storage.url, "--output", "json")
    assert from_yaml.code == 0, from_yaml.err
    assert from_yaml.json()["definition"] == str(cid_of(load(yaml_file).to_bytes()))

    inline = crowd("job", "post", "--image", "pytorch/pytorch", "--gpu", "--market", str(address), "--storage", storage.url,
                   "--timeout", "2m", "--output", "json", "--", "python", "-c", "print(1)")
    assert inline.code == 0, inline.err
    stored = crowd("storage", "get", inline.json()["definition"], "--storage", storage.url).out
    definition = parse(json.loads(stored))
    op = definition.ops[0]
    assert op.args.image == "pytorch/pytorch" and wants_gpu(definition)
    assert inline.json()["deposit"] == 1200


def test_invalid_definitions_send_nothing(crowd, market, storage, tmp_path):
    address, _ = market
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "0.1", "type": "container", "ops": [{"type": "container/run", "id": "x", "args": {}}]}))
    result = crowd("job", "post", str(bad), "--market", str(address), "--storage", storage.url)
    assert result.code == 1
    assert result.error_line.startswith("error: invalid job definition: ops[0].args.image")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert crowd("job", "post", str(broken), "--market", str(address), "--storage", storage.url).error_line.startswith("error: ")
    assert crowd("job", "post", "--image", "", "--market", str(address), "--storage", storage.url).code == 1
    assert crowd("job", "post", str(HELLO), "--market", str(address), "--storage", storage.url, "--", "ls").error_line == \
        "error: a command after -- needs --image (a FILE carries its own commands)"
    assert _jobs(crowd, address) == []


def test_storage_that_does_not_answer_sends_nothing(crowd, market):
    address, _ = market
    dead = f"http://127.0.0.1:{free_port_pair()}"
    result = crowd("job", "post", str(HELLO), "--market", str(address), "--storage", dead)
    assert result.code == 1 and dead in result.error_line
    assert _jobs(crowd, address) == []


def test_wait_and_download(crowd, market, storage, node, localnet, tmp_path):
    address, _ = market
    played: list[bytes] = []

    def play() -> None:
        # The node queues first, so the post is matched at once; then it runs and finishes.
        async def job_of_node():
            async with CrowdClient(localnet.url) as c:
                for _ in range(400):
                    running = (await c.get_market(address)).running()
                    if running:
                        return running[0].job
                    import asyncio

                    await asyncio.sleep(0.05)

        import asyncio

        job = asyncio.run(job_of_node())
        played.append(run_job(localnet.url, node.keypair, storage.url, job, stdout="hello world\n"))

    node.work(address)
    player = threading.Thread(target=play)
    player.start()
    out_dir = tmp_path / "out"
    result = crowd("job", "post", str(HELLO), "--market", str(address), "--storage", storage.url, "--wait", "--download", str(out_dir))
    player.join(30)
    assert result.code == 0, result.err
    assert "hello world" in result.out and "verified, written to" in result.out
    assert f"running on node {node.pubkey}" in result.err and "done" in result.err  # the live line's steps
    bundle = json.loads((out_dir / "bundle.json").read_text())
    assert bundle["status"] == "succeeded"
    assert (out_dir / "hello-world" / "stdout.log").read_text() == "hello world\n"
    assert Cid(played[0]).digest == played[0]

    job = bundle["job"]
    logs = crowd("job", "logs", job, "--storage", storage.url)
    assert logs.code == 0 and "== op hello-world: exit 0" in logs.out and "hello world" in logs.out
    as_json = crowd("job", "logs", job, "--storage", storage.url, "--output", "json").json()
    assert as_json["bundle"] == str(Cid(played[0])) and as_json["status"] == "succeeded"


def test_logs_errors(crowd, market, storage, node, localnet, tmp_path):
    address, _ = market
    posted = crowd("job", "post", str(HELLO), "--market", str(address), "--storage", storage.url, "--output", "json").json()
    assert crowd("job", "logs", posted["job"], "--storage", storage.url).error_line == \
        f"error: job {posted['job']} is queued: only a done job has a result bundle"
    node.work(address)
    # A result whose bundle storage does not hold: the fetch fails with one line.
    node.finish(posted["job"], bytes(range(1, 33)))
    missing = crowd("job", "logs", posted["job"], "--storage", str(tmp_path / "empty-store"))
    assert missing.code == 1 and missing.error_line.startswith("error: ")
