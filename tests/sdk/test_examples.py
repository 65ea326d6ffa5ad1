"""The examples/ scripts as a dApp runs them (a subprocess, its own interpreter) against the
live localnet and storage, and Nosana-format job files posted with `crowd job post`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from crowdcompute.client.jobspec import parse
from crowdcompute.client.storage import Cid

from tests.jobspec import nosana_shapes

from .node_player import run_job

REPO = Path(__file__).resolve().parents[2]


def _script(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "examples" / name), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_post_and_wait_example(localnet, storage, market, poster, node):
    address, _ = market
    node.work(address)  # a node waits: the post is matched at once

    def play() -> None:
        import asyncio
        import time

        from crowdcompute.client.crowd import CrowdClient

        async def running_job():
            async with CrowdClient(localnet.url) as c:
                for _ in range(600):
                    m = await c.get_market(address)
                    if m.running():
                        return m.running()[0].job
                    await asyncio.sleep(0.05)

        run_job(localnet.url, node.keypair, storage.url, asyncio.run(running_job()), stdout="hello world\n")

    player = threading.Thread(target=play)
    player.start()
    result = _script("post-and-wait.py", "--market", str(address), "--url", localnet.url, "--keypair", poster[1],
                     "--storage", storage.url, str(REPO / "examples" / "hello.json"))
    player.join(60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("posted ") and lines[0].endswith("deposit 6000")
    assert lines[1].startswith(f"done on node {node.pubkey}, paid ")
    assert "== op hello-world: exit 0" in result.stdout and "hello world" in result.stdout


def test_list_market_example(localnet, market, crowd):
    address, _ = market
    for name in ("a", "b"):
        assert crowd("job", "post", "--market", str(address), "--digest", f"{ord(name):064x}", "--timeout", "1m").code == 0
    result = _script("list-market.py", str(address), "--url", localnet.url)
    assert result.returncode == 0, result.stderr
    assert f"market {address}: open, 10/s, max timeout 3600s" in result.stdout
    assert "queue: 2 waiting (jobs), 0 running" in result.stdout
    assert result.stdout.strip().endswith("jobs: 2 queued")


def test_list_market_example_unknown_market(localnet):
    result = _script("list-market.py", "11111111111111111111111111111112", "--url", localnet.url)
    assert result.returncode != 0 and "market not found" in result.stderr


SHAPES = {name: getattr(nosana_shapes, name) for name in dir(nosana_shapes) if name.isupper() and isinstance(getattr(nosana_shapes, name), dict)}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_nosana_job_files(name, crowd, market, storage, tmp_path):
    """Each Nosana example's shape, as a file: validated, stored, posted; what storage holds
    is the definition's canonical bytes and the chain holds their CID's digest."""
    from crowdcompute.client.jobspec import ValidationError

    address, _ = market
    path = tmp_path / f"{name.lower()}.json"
    path.write_text(json.dumps(SHAPES[name]))
    result = crowd("job", "post", str(path), "--market", str(address), "--storage", storage.url, "--output", "json")
    try:
        parse(SHAPES[name])
    except ValidationError as refused:  # a Nosana feature a worker refuses (jobspec/README.md): one line, nothing sent
        assert result.code == 1
        assert result.json()["error"].startswith(f"invalid job definition: {refused.problems[0]}")
        assert crowd("job", "list", "--market", str(address), "--output", "json").json() == []
        return
    assert result.code == 0, result.err
    cid = result.json()["definition"]
    stored = crowd("storage", "get", cid, "--storage", storage.url).out.encode()
    assert stored == parse(SHAPES[name]).to_bytes()
    got = crowd("job", "get", result.json()["job"], "--output", "json").json()
    assert got["definition"] == Cid.parse(cid).digest.hex()
