"""One job on this node, from the match to its settlement:

  definition fetched by the digest on-chain (the storage checks the CID) -> parsed and
  validated -> checked against what this node has -> run by the executor (stopped at the
  deadline, or when the poster ends it, or when it is no longer ours) -> bundle saved
  locally, stored -> `finish` with its digest. Any failure of the job itself (bad
  definition, missing image, non-zero exit, a GPU job on a node without one) still gives a
  bundle that says why, and is settled: the node never holds a job silently. A job that
  cannot run because of its definition is failed that way, never given back with `quit`
  (given back, it would be matched again and again, and each quit counts an attempt).

Deadline: on-chain start (the queue entry's `since`) + the job's timeout (re-read on every
notification of the job account: `extend` moves it) - settle_margin. If the bundle cannot
be stored and finished before start + timeout, the job is quit so that it is re-queued.
Both are on the chain's clock (the Clock sysvar), which is not this machine's: when the
chain's runs ahead (`clock_lead`, read once per job), every deadline here moves earlier by
that much. A chain clock that runs behind (solana-test-validator's, by 1-2 s) is not used to
move them later: its lag can shrink at any slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from solders.pubkey import Pubkey

from crowdcompute.client.jobs.accounts import Job
from ..client.bundle import Bundle, OpRecord, timestamp
from ..client.errors import CrowdError
from .chain import Lost, NodeChain, retrying
from .recovery import LocalState, rerun_allowed, settle_margin
from .watcher import Watcher

__all__ = ["JobTask", "TaskContext", "failure_bundle"]

log = logging.getLogger("crowdcompute.worker.job")

QUIT_RESERVE_S = 1.0  # before hard_deadline: a quit lands in about a slot on a real cluster
ATTACH_WINDOW_S = 60.0  # storing and attaching the bundle of a job its poster ended


def failure_bundle(job: str, node: str, definition_cid: str, error: str, *, op_id: str = "definition",
                   started: float | None = None) -> Bundle:
    """A bundle for a job that could not start: one record, named `op_id`, says why."""
    now = timestamp(time.time())
    begun = timestamp(started) if started is not None else now
    return Bundle(job, node, definition_cid, "failed", begun, now, (OpRecord(op_id, None, error, None, None),))


async def clock_lead(chain: Any, now: float | None = None) -> float:
    """Whole seconds the chain's Clock runs ahead of this machine's (0 when it does not, or
    when it cannot be read: the settle margin then absorbs what is not known). The sysvar
    has whole seconds and is set when a slot starts, so a lead under a second reads as 0."""
    try:
        chain_now = await chain.clock()
    except (CrowdError, OSError, asyncio.TimeoutError):
        return 0.0
    now = time.time() if now is None else now
    return float(max(0, int(chain_now - now)))


@dataclass(frozen=True)
class TaskContext:
    """What a job's task may use of its node, built by Node: the task sees these and nothing
    else of the daemon (no import of node.py, whose loop owns the tasks)."""

    address: Pubkey  # this node's
    chain: NodeChain  # running_entry, finish, quit
    clock: Any  # the client's Chain: clock(), the chain's time (clock_lead)
    storage: Callable[[], Awaitable[Any]]  # CrowdClient.storage: where definitions and bundles live
    executor: Any  # Executor's interface: run, cleanup_job
    state: LocalState  # bundles about to settle
    watcher: Watcher  # watch_job / unwatch_job: notifications of the job account
    refusal: Callable[[Any], str | None]  # why this node cannot run a definition (None: it can)
    settled: Callable[[Pubkey], None]  # the job's `finish` landed: the node re-enters the market
    shutting_down: Callable[[], bool]


class JobTask:
    def __init__(self, context: TaskContext, job: Pubkey, since: int, *, recovered: bool) -> None:
        self.context = context
        self.job = job
        self.since = since  # on-chain start, unix seconds on the chain's clock
        self.lead = 0.0  # seconds the chain's clock runs ahead of this machine's (>= 0)
        self.recovered = recovered
        self.timeout: int | None = None
        self.poster: str | None = None  # the job's poster, once read: the node API's owner
        self.stop = asyncio.Event()  # tells the executor to stop
        self.reason: str | None = None  # why it was stopped: deadline, ended, lost, shutdown
        self.changed = asyncio.Event()  # the job account changed (extend, end, reclaim)
        self.settling = False
        self.outcome: str | None = None
        self.log = logging.LoggerAdapter(log, {})

    def __repr__(self) -> str:
        return f"JobTask({self.job})"

    # -- signals from the node -----------------------------------------------------------
    def job_changed(self, job: Job | None) -> None:
        """A notification (or read) of the job account."""
        if self.settling:  # our own finish (or quit) landing: nothing to stop
            return
        if job is None or not job.is_open:
            state = "closed" if job is None else job.state.lower()
            self.halt("lost" if state != "ended" else "ended", f"the job is {state}")
        elif self.timeout is not None and job.timeout != self.timeout:
            self._note(f"event=extended timeout={self.timeout}->{job.timeout}")
            self.timeout = job.timeout
        self.changed.set()

    def halt(self, reason: str, why: str) -> None:
        if self.reason is None:
            self.reason = reason
            self._note(f"event=stop reason={reason} why={why!r}")
        self.stop.set()
        self.changed.set()

    # -- the run -------------------------------------------------------------------------
    async def run(self) -> str:
        try:
            self.outcome = await self._run()
        except Lost as exc:
            self.outcome = "lost"
            self._note(f"event=lost why={' '.join(str(exc).split())!r}")
        finally:
            if self.outcome in ("finished", "already", "lost", "quit", "ended", "stale"):
                self.context.state.forget(str(self.job))  # settled, by us or anyone: the cache is done
            await self._cleanup()
        return self.outcome

    async def _run(self) -> str:
        ctx = self.context
        job, entry = await retrying(f"job={self.job} read", lambda: ctx.chain.running_entry(self.job))
        if entry is None:  # settled or moved on since the notification that started us
            return "stale"
        self.since = entry.since
        self.timeout = job.timeout
        self.poster = str(job.poster)
        # Side by side (each a round trip to the cluster): the chain's clock, and the job's
        # account watched (extend, end, reclaim) before anything runs.
        self.lead, _ = await asyncio.gather(clock_lead(ctx.clock), ctx.watcher.watch_job(self.job))
        if self.lead:
            self._note(f"event=clock-ahead lead={self.lead:.0f}s (deadlines moved earlier)")
        if ctx.shutting_down():
            return await self._quit("the node is shutting down")
        saved = ctx.state.load_bundle(str(self.job))
        if saved is not None:
            self._note("event=recovered bundle=local")
            return await self._settle(saved)
        if self.recovered and not rerun_allowed(self.start_here, job.timeout):
            return await self._quit("restarted too long after the job's start to run it again at a fair price")
        self._note(f"event=start since={self.since} timeout={job.timeout} deadline_in={self.deadline() - time.time():.1f}s"
                   + (" (re-run after a restart)" if self.recovered else ""))
        bundle = await self._execute(job)
        if bundle is None:  # no longer ours: nothing to settle
            return self.reason or "lost"
        if self.reason == "ended":  # the poster's `end` settled the money; the bundle still goes on-chain
            return await self._attach(bundle.to_bytes())
        if self.reason == "shutdown":
            return await self._quit("the node is shutting down")
        data = bundle.to_bytes()
        ctx.state.save_bundle(str(self.job), data)
        return await self._settle(data)

    @property
    def start_here(self) -> float:
        """The on-chain start on this machine's clock."""
        return self.since - self.lead

    def deadline(self) -> float:
        """Unix time by which the bundle must be ready (the settle margin before the chain's)."""
        timeout = self.timeout or 0
        return self.start_here + timeout - settle_margin(timeout)

    def hard_deadline(self) -> float:
        """The last moment to send `quit`: one at or after start + timeout counts as the
        node's failure on-chain (slashed like a silent node), so it is not worth sending."""
        return self.start_here + (self.timeout or 0) - 0.5

    def finish_deadline(self) -> float:
        """Store and finish are retried until here, leaving QUIT_RESERVE_S to give the job back."""
        return self.hard_deadline() - QUIT_RESERVE_S

    async def _execute(self, job: Job) -> Bundle | None:
        from ..client.storage import Cid

        ctx = self.context
        cid = str(Cid(bytes(job.definition)))
        started = time.time()
        definition, problem = await self._definition(job, cid)
        if problem is None:
            try:
                problem = ctx.refusal(definition)
            except Exception as exc:  # noqa: BLE001 - a definition that trips the check fails, never comes back
                log.exception("job=%s checking the requirements failed", self.job)
                problem = f"the node could not check this definition's requirements: {type(exc).__name__}: {exc}"
        if problem is not None:
            self._note(f"event=refused why={problem!r}")
            return failure_bundle(str(self.job), str(ctx.address), cid, problem, started=started)
        run = self._job_run(job, cid)
        watchdog = asyncio.create_task(self._watch_deadline())
        try:
            bundle = await ctx.executor.run(definition, run, stop=self.stop)
        finally:
            watchdog.cancel()
        if self.reason == "lost":
            return None
        self._note(f"event=ran status={bundle.status} ops={len(bundle.ops)} took={time.time() - started:.2f}s")
        return bundle

    def _job_run(self, job: Job, definition_cid: str) -> Any:
        from .executor import JobRun

        return JobRun(job=str(self.job), node=str(self.context.address), poster=str(job.poster), definition_cid=definition_cid,
                      deadline=self._executor_deadline(job))

    def _executor_deadline(self, job: Job) -> float:
        # The job may be extended up to its own cap while it runs: the executor's hard limit
        # is that cap; the node stops it at the current deadline through `stop`.
        return self.start_here + job.max_timeout - settle_margin(job.max_timeout)

    async def _watch_deadline(self) -> None:
        while not self.stop.is_set():
            self.changed.clear()
            left = self.deadline() - time.time()
            if left <= 0:
                self.halt("deadline", "the job's timeout is near: settling with what it has")
                return
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def _definition(self, job: Job, cid: str) -> tuple[Any, str | None]:
        """The parsed definition, or (None, why it cannot run). The storage checks the bytes
        against the digest on-chain; a storage that does not answer is retried until the
        deadline."""
        from ..client.jobspec import LoadError, ValidationError, loads, parse
        from ..client.errors import Transient
        from ..client.storage import Cid, ContentMismatch, ContentNotFound, StorageError

        storage = await self.context.storage()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, self.deadline() - time.time())
        try:
            data = await retrying(f"job={self.job} fetch definition {cid}",
                                  lambda: storage.get_bytes(Cid(bytes(job.definition))), deadline=deadline)
        except ContentNotFound:
            return None, f"the definition {cid} is not in this node's storage"
        except ContentMismatch as exc:
            return None, f"the definition's bytes do not match its digest: {exc}"
        except (Transient, OSError) as exc:  # what retrying() retries, still failing at the deadline
            return None, f"the definition {cid} could not be fetched before the deadline: {exc}"
        except StorageError as exc:  # trying again would not help (content over the fetch limit)
            return None, f"the definition {cid} could not be fetched: {exc}"
        try:
            return parse(loads(data, name=cid)), None
        except (LoadError, ValidationError) as exc:
            return None, "invalid job definition: " + "; ".join(str(exc).splitlines())
        except Exception as exc:  # noqa: BLE001 - whatever the poster's bytes make the reader do, the job fails
            log.exception("job=%s reading the definition failed", self.job)
            return None, f"invalid job definition: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"

    async def _settle(self, data: bytes) -> str:
        """Stores the bundle and finishes; quits if that cannot be done before the chain's
        deadline (start + timeout), so the job is re-queued rather than reclaimed later."""
        self.settling = True
        ctx = self.context
        storage = await ctx.storage()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, self.finish_deadline() - time.time())

        try:  # storage errors marked Transient are retried; the others give the job back at once
            cid = await retrying(f"job={self.job} store bundle", lambda: storage.add_bytes(data), deadline=deadline)
            outcome = await retrying(f"job={self.job} finish", lambda: ctx.chain.finish(self.job, cid.digest), deadline=deadline)
        except Lost:
            raise
        except Exception as exc:  # storage or cluster gone until the deadline: give the job back
            self._note(f"event=settle-failed why={type(exc).__name__}: {' '.join(str(exc).split())[:200]!r}")
            return await self._quit("could not store the bundle and finish before the deadline")
        self._note(f"event=finished result={cid} ({outcome})")
        ctx.settled(self.job)
        return "finished" if outcome == "finished" else "already"

    async def _attach(self, data: bytes) -> str:
        """After the poster's `end` (a service's usual ending): the bundle (logs, health
        history, restarts) is stored and its digest recorded with `attach_result`. Tried
        for ATTACH_WINDOW_S; the money is already settled, so a failure only costs the
        poster the bundle, and the node moves on."""
        self.settling = True
        storage = await self.context.storage()
        deadline = asyncio.get_running_loop().time() + ATTACH_WINDOW_S
        try:
            cid = await retrying(f"job={self.job} store bundle", lambda: storage.add_bytes(data), deadline=deadline)
            outcome = await retrying(f"job={self.job} attach result",
                                     lambda: self.context.chain.attach_result(self.job, cid.digest), deadline=deadline)
        except Lost as exc:
            self._note(f"event=attach-skipped why={' '.join(str(exc).split())[:200]!r}")
            return "ended"
        except Exception as exc:  # noqa: BLE001 - storage or cluster gone: the job is settled anyway
            self._note(f"event=attach-failed why={type(exc).__name__}: {' '.join(str(exc).split())[:200]!r}")
            return "ended"
        self._note(f"event=attached result={cid} ({outcome})")
        return "ended"

    async def _quit(self, why: str) -> str:
        """Gives the job back: only when the node itself cannot run it (shutting down,
        restarted too late, storage or cluster gone), never for its definition (that is a
        failed bundle). Sent only before hard_deadline: later, the chain's reclaim says the rest."""
        self.settling = True  # the notification of our own quit is not a loss
        self._note(f"event=quit why={why!r}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, self.hard_deadline() - time.time())
        await retrying(f"job={self.job} quit", lambda: self.context.chain.quit(self.job), deadline=deadline)
        return "quit"

    async def _cleanup(self) -> None:
        await self.context.watcher.unwatch_job(self.job)
        try:
            await self.context.executor.cleanup_job(str(self.job))
        except Exception as exc:  # a leftover is retried at the next start (leftovers)
            self._note(f"event=cleanup-failed why={type(exc).__name__}: {exc}")

    def _note(self, text: str) -> None:
        log.info("job=%s %s", self.job, text)
