"""Faults and the poster's moves while a job runs, on a live localnet with the node as a
real subprocess: kill -9 and restart (empty folder, or a saved bundle), too little time
left (quit), the deadline, SIGTERM, end and extend by the poster, reclaim by anyone."""

from __future__ import annotations

import asyncio
import shutil
import time

from crowdcompute.client.bundle import Bundle, Log, OpRecord, timestamp
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import parse
from crowdcompute.client.storage import Cid, cid_of
from crowdcompute.common.token import associated_token_address

from .helpers import entries_of, job, op, wait_until


class Poster:
    def __init__(self, localnet, storage, keypair, market) -> None:
        self.url, self.storage, self.keypair, self.market = localnet.url, storage.url, keypair, market

    def run(self, method, *args, **kwargs):
        async def go():
            async with CrowdClient(self.url, self.keypair, storage=self.storage) as crowd:
                return await getattr(crowd, method)(*args, **kwargs)

        return asyncio.run(go())

    def post(self, definition, timeout):
        return self.run("post", self.market, timeout=timeout, definition=parse(definition)).job

    def wait(self, address, states, timeout=60):
        return self.run("wait_for", address, states, timeout=timeout)

    def bundle(self, address) -> Bundle:
        return self.run("result_bundle", address)[2]


def test_kill9_midjob_restart_with_empty_folder_reruns_once(localnet, storage, poster, market, workers):
    p = Poster(localnet, storage, poster, market)
    w = workers()
    w.wait_log("event=entered")
    address = p.post(job(op("slow", ["sh", "-c", "sleep 2; echo survived"])), timeout=120)
    w.wait_log(f"job={address} event=start")
    w.kill9()
    shutil.rmtree(w.state_dir)  # nothing on disk: the chain alone says what it holds
    running, _ = asyncio.run(entries_of(localnet.url, market, w.pubkey))
    assert [e.job for e in running] == [address]
    w.start()
    view = p.wait(address, ["done", "ended", "failed"])
    assert view.status == "done" and view.job.node == w.pubkey
    assert p.bundle(address).ops[0].stdout.text == "survived\n"
    log = w.log()
    assert "event=recovery running=1" in log and "(re-run after a restart)" in log
    assert log.count(f"job={address} event=finished") == 1


def test_restart_finishes_from_a_saved_bundle_without_rerunning(localnet, storage, poster, market, workers):
    p = Poster(localnet, storage, poster, market)
    w = workers()
    w.wait_log("event=entered")
    address = p.post(job(op("slow", ["sh", "-c", "sleep 30"])), timeout=120)
    w.wait_log(f"job={address} event=start")
    w.kill9()
    # as if killed between saving the bundle and sending finish
    j = p.run("get_job", address)
    now = timestamp(time.time())
    bundle = Bundle(str(address), str(w.pubkey), str(Cid(j.definition)), "succeeded", now, now,
                    (OpRecord("slow", 0, None, now, now, Log.capture(b"saved before the crash\n")),))
    (w.state_dir / "jobs" / f"{address}.bundle").write_bytes(bundle.to_bytes())
    w.start()
    view = p.wait(address, ["done", "ended", "failed"])
    assert view.status == "done" and bytes(view.job.result) == cid_of(bundle.to_bytes()).digest
    log = w.log()
    assert "event=recovered bundle=local" in log and "(re-run after a restart)" not in log
    saved = w.state_dir / "jobs" / f"{address}.bundle"

    async def removed() -> bool:  # the node drops its copy once it sees its finish land, a moment after the chain does
        return not saved.exists()

    asyncio.run(wait_until(removed, timeout=20))


def test_too_little_time_left_quits_then_the_deadline_stops_and_settles(localnet, storage, poster, market, workers):
    p = Poster(localnet, storage, poster, market)
    w = workers()
    w.wait_log("event=entered")
    address = p.post(job(op("forever", ["sh", "-c", "echo started; sleep 60"])), timeout=8)
    w.wait_log(f"job={address} event=start")
    w.kill9()
    time.sleep(3.5)  # the deadline (start + 8 - 2) is now less than half the timeout away
    w.start()
    w.wait_log(f"job={address} event=quit")
    # quit gave it back to the queue's front; the node never takes back a job it gave up, so
    # another node takes it with a full timeout: it runs into its deadline, is stopped, and
    # settles before it
    other = workers(name="other")
    view = p.wait(address, ["done", "ended", "failed"], timeout=30)
    assert view.status == "done" and view.job.node == other.pubkey and view.job.attempts == 1
    bundle = p.bundle(address)
    assert bundle.status == "stopped" and bundle.ops[0].stdout.text == "started\n"
    assert view.job.paid <= view.job.price_per_second * 8
    assert "event=stop reason=deadline" in other.log()
    assert f"job={address} event=start" not in w.log().split(f"job={address} event=quit", 1)[1]


def test_sigterm_leaves_the_queue_quits_the_job_and_exits_0(localnet, storage, poster, market, workers):
    p = Poster(localnet, storage, poster, market)
    w = workers(extra=("--log-level", "DEBUG"))
    w.wait_log("event=entered")
    address = p.post(job(op("slow", ["sleep", "30"])), timeout=120)
    w.wait_log(f"job={address} event=start")
    assert w.terminate() == 0
    view = p.run("view", address)
    assert view.status == "queued"  # back at the front for another node
    running, waiting = asyncio.run(entries_of(localnet.url, market, w.pubkey))
    assert running == [] and waiting == []
    assert "event=quit" in w.log()
    p.run("cancel", address)


def test_poster_end_stops_the_run_and_extend_moves_the_deadline(localnet, storage, poster, market, workers):
    p = Poster(localnet, storage, poster, market)
    w = workers()
    w.wait_log("event=entered")
    ended = p.post(job(op("slow", ["sleep", "30"])), timeout=120)
    w.wait_log(f"job={ended} event=start")
    p.run("end", ended)
    w.wait_log(f"job={ended} event=stop reason=ended")
    assert p.run("view", ended).status == "ended"
    w.wait_log("event=entered", count=2)  # back in the queue at once

    # 5 s of work in a 6 s job (deadline start + 4): only the extension lets it finish
    extended = p.post(job(op("work", ["sh", "-c", "sleep 5; echo complete"])), timeout=6)
    w.wait_log(f"job={extended} event=start")
    p.run("extend", extended, 20)
    view = p.wait(extended, ["done", "ended", "failed"], timeout=40)
    assert view.status == "done" and p.bundle(extended).status == "succeeded"
    assert f"job={extended} event=extended timeout=6->26" in w.log()


def test_a_silent_node_is_reclaimed_and_another_node_runs_the_job(localnet, storage, poster, market, workers):
    p = Poster(localnet, storage, poster, market)
    a = workers("a")
    a.wait_log("event=entered")
    address = p.post(job(op("quick", ["sh", "-c", "sleep 0.3; echo by b"])), timeout=5)
    a.wait_log(f"job={address} event=start")
    a.kill9()  # and never comes back
    b = workers("b")
    b.wait_log("event=entered")

    async def reclaim():
        async with CrowdClient(localnet.url, poster) as crowd:
            j = await crowd.get_job(address)
            m = await crowd.get_market(market)
            ix = crowd.program.reclaim(job=address, market=market, payer_token=associated_token_address(j.payer, m.mint))
            await wait_until(lambda: _past(crowd, j, m), timeout=20)
            await crowd.send([ix], [crowd.wallet])

    asyncio.run(reclaim())
    view = p.wait(address, ["done", "ended", "failed"], timeout=30)
    assert view.status == "done" and view.job.node == b.pubkey and view.job.attempts == 1
    assert p.bundle(address).ops[0].stdout.text == "by b\n"


async def _past(crowd, job, market):
    entry = job.entry(market)
    return time.time() > entry.since + job.timeout + 1
