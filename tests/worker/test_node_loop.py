"""The node daemon's loop against a live localnet and storage, as a real subprocess: it
enters the market, learns of assignments by subscription, runs, stores the bundle, finishes
and re-enters; failures of the job itself are settled with a bundle that says why.
(Ops run as local processes here: tests/worker/process_executor.py; the Docker flow is
test_e2e_*.py.)"""

from __future__ import annotations

import asyncio
import json

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import parse

from .helpers import entries_of, job, op, wait_until


def post_and_wait(localnet, storage, poster, market, definition, *, timeout=60, wait=60, digest=None):
    async def go():
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            if digest is not None:
                posted = await crowd.post(market, timeout=timeout, digest=digest)
            else:
                posted = await crowd.post(market, timeout=timeout, definition=parse(definition))
            view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=wait)
            bundle = (await crowd.result_bundle(posted.job))[2] if view.status == "done" else None
            return view, bundle

    return asyncio.run(go())


def test_runs_jobs_settles_and_reenters(localnet, storage, poster, market, workers):
    w = workers()
    w.wait_log("event=entered")
    for i in range(3):
        view, bundle = post_and_wait(localnet, storage, poster, market, job(op("say", ["sh", "-c", f"echo hello {i}"])))
        assert view.status == "done" and view.job.node == w.pubkey
        assert bundle.status == "succeeded" and bundle.ops[0].stdout.text == f"hello {i}\n" and bundle.ops[0].exit_code == 0
        assert view.job.paid % view.job.price_per_second == 0  # price x whole seconds elapsed
    # it re-entered after the last job: waiting again, nothing running
    running, waiting = asyncio.run(wait_until(lambda: _waiting(localnet, market, w.pubkey)))
    assert not running and len(waiting) == 1
    text = w.log()
    assert text.count("event=finished") == 3 and "Traceback" not in text


async def _waiting(localnet, market, node):
    running, waiting = await entries_of(localnet.url, market, node)
    return (running, waiting) if waiting and not running else None


def test_failed_and_invalid_and_gpu_jobs_are_settled_with_the_reason(localnet, storage, poster, market, workers):
    w = workers()
    w.wait_log("event=entered")
    view, bundle = post_and_wait(localnet, storage, poster, market, job(op("bad", ["sh", "-c", "echo oops >&2; exit 3"])))
    assert view.status == "done" and bundle.status == "failed"
    assert bundle.ops[0].exit_code == 3 and bundle.ops[0].stderr.text == "oops\n"

    # bytes that are JSON but not a job definition, stored and posted by digest
    async def store(data: bytes):
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            return (await (await crowd.storage()).add_bytes(data)).digest

    view, bundle = post_and_wait(localnet, storage, poster, market, None,
                                 digest=asyncio.run(store(json.dumps({"version": "0.1", "ops": "nope"}).encode())))
    assert view.status == "done" and bundle.status == "failed"
    assert bundle.ops[0].error.startswith("invalid job definition") and "ops" in bundle.ops[0].error

    # 50,000 levels deep (its decoder would raise RecursionError): failed with the reason, settled
    # once, never given back (a node that quit it would take it again and again)
    view, bundle = post_and_wait(localnet, storage, poster, market, None, digest=asyncio.run(store(b"[" * 50_000 + b"]" * 50_000)))
    assert view.status == "done" and bundle.status == "failed"
    assert bundle.ops[0].error.startswith("invalid job definition") and "nested deeper than 64 levels" in bundle.ops[0].error
    assert "event=quit" not in w.log()

    view, bundle = post_and_wait(localnet, storage, poster, market, job(op("train", ["true"], gpu=True)))
    assert view.status == "done" and bundle.status == "failed"
    assert "GPU" in bundle.ops[0].error and "none" in bundle.ops[0].error
    assert "event=refused" in w.log()


def test_a_job_its_poster_ends_still_gets_its_bundle_on_chain(localnet, storage, poster, market, workers):
    """`end` settles the money at once; the node stops the ops, stores the bundle (what the
    op printed before the end) and records its digest with attach_result."""
    w = workers()
    w.wait_log("event=entered")

    async def go():
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            definition = parse(job(op("serve", ["sh", "-c", "echo up; sleep 600"])))
            posted = await crowd.post(market, timeout=300, definition=definition)
            await crowd.wait_for(posted.job, ["running"], timeout=60)
            await wait_until(lambda: _logged(w, "event=start"), timeout=30)
            await asyncio.sleep(1.0)  # "up" printed
            await crowd.end(posted.job)
            view = await wait_until(lambda: _with_result(crowd, posted.job), timeout=60)
            return view, (await crowd.result_bundle(view))[2]

    job_account, bundle = asyncio.run(go())
    assert job_account.state == "Ended" and job_account.node == w.pubkey
    assert bundle.job == str(job_account.address) and bundle.ops[0].stdout.text == "up\n"
    assert "event=attached" in w.log() and "Traceback" not in w.log()


async def _logged(w, text):
    return text in w.log() or None


async def _with_result(crowd, address):
    found = await crowd.get_job(address)
    return found if any(found.result) else None
