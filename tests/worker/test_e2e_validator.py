"""The end-to-end flow against a real solana-test-validator (agave) with the jobs program
loaded at its Anchor.toml address (`--bpf-program`): nothing in the client, the CLI or the
worker may depend on a quirk of our localnet (400 ms slots, finalized ~31 slots behind
confirmed, agave's RPC and PubSub answers).

A storage server, a payment mint and wallets funded through the validator's faucet
(requestAirdrop) and SPL Token, a market opened with the SDK, two node daemons as real
subprocesses (`python -m crowdcompute.worker` and `crowd node start`, the real container
executor, the local image),
jobs posted with the SDK and with `crowd job post FILE --wait`, results fetched and verified
(`crowd job get` / `logs`, the bundle's CID recomputed), token balances before and after
(each node paid price x elapsed, the poster refunded the rest), and a node killed with
SIGKILL mid-job and restarted, the job settled exactly once.

Marked `validator`; skipped with the reason when solana-test-validator is not on PATH:

    PATH=/opt/agave/bin:$PATH .venv/bin/python -m pytest -m validator tests/worker/test_e2e_validator.py -rs
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from crowdcompute.client import MarketSettings
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import parse
from crowdcompute.client.keypair import write_keypair
from crowdcompute.client.storage.unixfs import cid_of

from tests.localnet.validator_node import SKIP_REASON, VALIDATOR_BIN, run_validator
from tests.sdk.chain_setup import Wallets

from .helpers import CROWD, REPO, StorageThread, Worker, job, op

# Checked before any fixture: a missing validator starts nothing (not even the image build).
pytestmark = [pytest.mark.validator, pytest.mark.skipif(shutil.which(VALIDATOR_BIN) is None, reason=SKIP_REASON)]

PRICE = 10
SETTINGS = MarketSettings(price_per_second=PRICE, max_timeout=600, min_stake=0, retention=1, max_attempts=2)
SETTLED = ["done", "ended", "failed"]


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    yield from run_validator(tmp_path_factory.mktemp("e2e-validator-ledger"))


@pytest.fixture(scope="module")
def vstorage(tmp_path_factory):
    srv = StorageThread(tmp_path_factory.mktemp("e2e-validator-storage"))
    yield srv
    srv.stop()


def crowd_cli(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """`crowd ...` as a shell runs it (a separate process, the console script's module)."""
    return subprocess.run([sys.executable, "-c", CROWD, *argv],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, env={**os.environ, "NO_COLOR": "1"})


def test_end_to_end_on_solana_test_validator(validator, vstorage, test_image, tmp_path):
    url = validator.url
    wallets = asyncio.run(Wallets.create(url))
    market = asyncio.run(wallets.market(SETTINGS))[0]
    poster = asyncio.run(wallets.fund(tokens=1_000_000))
    poster_file = str(write_keypair(poster, tmp_path / "poster.json"))
    # a: `python -m crowdcompute.worker`; b: `crowd node start`; both the real container executor.
    nodes = [Worker(tmp_path, url, asyncio.run(wallets.fund()), market, vstorage.url, name=name, executor=None, cli=cli)
             for name, cli in (("a", False), ("b", True))]
    try:
        for w in nodes:
            w.wait_log("event=entered", timeout=120)

        async def tokens(owner) -> int:
            async with CrowdClient(url) as c:
                return await c.token_balance(wallets.mint, owner)

        before = {key: asyncio.run(tokens(key)) for key in [poster.pubkey(), *(w.pubkey for w in nodes)]}

        # 1. Posted with the SDK, awaited over PubSub at `confirmed`, the bundle fetched and verified.
        async def sdk_post():
            async with CrowdClient(url, poster, storage=vstorage.url) as crowd:
                definition = parse(job({**op("make", ["sh", "-c", "echo 42"]), "results": {"answer": "[0-9]+"}},
                                       {**op("use", ["sh", "-c", "echo got %%ops.make.results.answer%%"]),
                                        "execution": {"depends_on": ["make"]}}))
                posted = await crowd.post(market, timeout=120, definition=definition)
                view = await crowd.wait_for(posted.job, SETTLED, timeout=120)
                return posted, view, await crowd.result_bundle(posted.job)

        posted, view, (cid, data, bundle) = asyncio.run(sdk_post())
        assert view.status == "done" and view.job.node in {w.pubkey for w in nodes}
        assert bundle.status == "succeeded" and [o.stdout.text for o in bundle.ops] == ["42\n", "got 42\n"]
        assert str(cid_of(data)) == cid and bundle.job == str(posted.job)

        # 2. A Nosana-format file posted with `crowd job post FILE --wait`, read back with get and logs.
        spec = tmp_path / "hello.json"
        spec.write_text(json.dumps(job(op("hello", ["echo", "hello from the validator"]))))
        chain = ["-u", url, "-k", poster_file, "--storage", vstorage.url, "--output", "json"]
        posted_cli = crowd_cli("job", "post", str(spec), "--market", str(market), "--timeout", "2m", "--wait", "--wait-timeout", "2m", *chain)
        assert posted_cli.returncode == 0, posted_cli.stderr
        cli_job = json.loads(posted_cli.stdout)
        assert cli_job["status"] == "done" and cli_job["node"] in {str(w.pubkey) for w in nodes}
        reads = ["-u", url, "--output", "json"]  # get and why read the chain only
        got = crowd_cli("job", "get", cli_job["job"], *reads)
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout)["status"] == "done"
        logs = crowd_cli("job", "logs", cli_job["job"], *chain)
        assert logs.returncode == 0, logs.stderr
        logged = json.loads(logs.stdout)
        assert logged["status"] == "succeeded" and logged["bundle_json"]["ops"][0]["id"] == "hello"
        why = crowd_cli("job", "why", cli_job["job"], *reads)
        assert why.returncode == 0 and json.loads(why.stdout)["status"] == "done", why.stderr

        async def fetch_checked(address):
            async with CrowdClient(url, poster, storage=vstorage.url) as crowd:
                return await crowd.result_bundle(address)

        cid2, data2, bundle2 = asyncio.run(fetch_checked(cli_job["job"]))
        assert logged["bundle"] == cid2 == str(cid_of(data2))
        assert bundle2.ops[0].stdout.text == "hello from the validator\n"

        # 3. A node killed with SIGKILL mid-job and restarted with its folder: settled once.
        async def post_slow():
            async with CrowdClient(url, poster, storage=vstorage.url) as crowd:
                return (await crowd.post(market, timeout=120, definition=parse(job(op("slow", ["sh", "-c", "sleep 4; echo slept"]))))).job

        slow = asyncio.run(post_slow())
        deadline = time.monotonic() + 60
        runner = None
        while runner is None and time.monotonic() < deadline:
            runner = next((w for w in nodes if f"job={slow} event=start" in w.log()), None)
            time.sleep(0.1)
        assert runner is not None, "no node started the slow job"
        runner.kill9()
        runner.start()

        async def wait_slow():
            async with CrowdClient(url, poster, storage=vstorage.url) as crowd:
                return await crowd.wait_for(slow, SETTLED, timeout=150), (await crowd.result_bundle(slow))[2]

        slow_view, slow_bundle = asyncio.run(wait_slow())
        assert slow_view.status == "done" and slow_bundle.status == "succeeded" and slow_bundle.ops[0].stdout.text == "slept\n"
        # The poster can see `done` before the node's own confirmation returns: wait for its line.
        finished = f"job={slow} event=finished"
        deadline = time.monotonic() + 30
        while not any(finished in w.log() for w in nodes) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sum(w.log().count(finished) for w in nodes) == 1
        assert "(re-run after a restart)" in runner.log()

        # 4. Balances: each node got price x elapsed of its jobs, the poster paid exactly that.
        async def settled_jobs():
            async with CrowdClient(url) as c:
                return [await c.get_job(a) for a in (posted.job, cli_job["job"], slow)]

        jobs = asyncio.run(settled_jobs())
        after = {key: asyncio.run(tokens(key)) for key in before}
        for j in jobs:
            # paid = price x elapsed (whole seconds of chain time, from its start to finish, which
            # lies between posting and closing); the deposit left is 0: the rest went back.
            assert j.state == "Done" and j.deposit == 0 and j.paid % PRICE == 0, j
            assert 0 <= j.paid // PRICE <= min(j.closed_at - j.posted_at, j.timeout), j
        assert jobs[2].paid >= PRICE  # the slow job ran seconds (twice): never free
        assert before[poster.pubkey()] - after[poster.pubkey()] == sum(j.paid for j in jobs)
        for w in nodes:
            assert after[w.pubkey] - before[w.pubkey] == sum(j.paid for j in jobs if j.node == w.pubkey)
    finally:
        for w in nodes:
            w.stop()
