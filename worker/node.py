"""The node daemon: enters a market, runs what it is assigned, settles, enters again.

    node = Node(crowd, executor, NodeOptions(market=M, state_dir=...))
    await node.run(stop)        # until `stop` is set (SIGINT/SIGTERM): then leaves, quits, 0

The loop, event-driven (no fixed sleeps, never a busy poll):
- Start (recovery): read the market; every Running entry with this node is one of its jobs
  (the chain alone says so, whatever the disk holds): each gets a JobTask that finishes it
  from a saved bundle, re-runs it, or quits it (recovery.py). Containers of jobs that are no
  longer ours are removed (Executor.leftovers / cleanup_job). Waiting entries are kept.
- Discovery: the Watcher's market notifications carry the queue; a Running entry with this
  node that has no task yet starts one at once (the notification's data, no extra read).
- Entering: after start, after each settlement, and on each market change the node reads
  the market afresh and sends `work` while (running + waiting entries) < concurrency. Only
  fresh reads decide `work` (a stale notification could make it queue twice). A market
  with a minimum stake gets `work` only while the node's stake weight reaches it
  (stake_gate.py): short, the node says what is missing and waits for its stake to change.
- Shutdown: leave every waiting entry first (a quit job would otherwise come straight back
  to us), then stop running jobs and quit them (re-queued at the front), then exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solders.pubkey import Pubkey

from crowdcompute.client.jobs.accounts import Job, Market
from ..client.crowd import CrowdClient
from ..client.errors import ProgramError
from .chain import Backoff, Lost, MyEntries, NodeChain, TRANSIENT, retrying
from .job_task import JobTask, TaskContext
from .log_retention import LOG_BUDGET, LOG_RETENTION_S, prune_logs
from .recovery import LocalState
from .stake_gate import StakeGate
from .watcher import POLL_S, RECHECK_S, Watcher

__all__ = ["Node", "NodeOptions"]

log = logging.getLogger("crowdcompute.worker.node")

SHUTDOWN_GRACE_S = 60.0  # for running jobs to stop and be quit


@dataclass(frozen=True)
class NodeOptions:
    market: Pubkey
    state_dir: Path
    concurrency: int = 1  # jobs run at once (and so queue entries held)
    gpus: int = 0  # GPUs this node can give a job
    report: Any = None  # health.py's NodeReport (engine, GPUs), for refusals
    poll_s: float = POLL_S
    recheck_s: float = RECHECK_S
    log_retention_s: float = LOG_RETENTION_S  # settled jobs' logs are removed after this
    log_budget: int = LOG_BUDGET  # bytes of job logs kept in the state folder
    serves_endpoints: bool = False  # a front door serves services' endpoints (--public-url)


class Node:
    def __init__(self, crowd: CrowdClient, executor: Any, options: NodeOptions) -> None:
        self.crowd = crowd
        self.executor = executor
        self.options = options
        self.pubkey = crowd.pubkey
        self.chain = NodeChain(crowd, options.market)
        self.state = LocalState(options.state_dir)
        self.watcher = Watcher(crowd, options.market, self._on_market, self._on_job, on_account=self._on_account,
                               poll_s=options.poll_s, recheck_s=options.recheck_s)
        self.stake = StakeGate(crowd, self.watcher.watch_account, self._problem)
        self.tasks: dict[Pubkey, JobTask] = {}
        self.task_context = TaskContext(address=self.pubkey, chain=self.chain, clock=crowd.chain, storage=crowd.storage,
                                        executor=executor, state=self.state, watcher=self.watcher,
                                        refusal=self.requirement_problem, settled=self.settled,
                                        shutting_down=lambda: self.shutting_down)
        # Jobs this process settled for good (finished, or ended by the poster): a notification
        # older than the settlement may still show them running here; they never run again.
        # A job this node quit may come back to it (quit hands it to the longest-waiting node).
        self._settled: set[Pubkey] = set()
        self._verifying: set[Pubkey] = set()
        self._background: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self.shutting_down = False
        self.started_at = time.time()
        self.outcomes: dict[str, int] = {}
        self.last_problem: str | None = None

    # -- the daemon ----------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> int:
        log.info("node=%s market=%s event=starting concurrency=%d gpus=%d", self.pubkey, self.options.market,
                 self.options.concurrency, self.options.gpus)
        market, mine = await retrying("read the market", self.chain.mine)
        log.info("node=%s event=recovery running=%d waiting=%d saved_bundles=%d", self.pubkey, len(mine.running),
                 len(mine.waiting), len(self.state.saved_jobs()))
        await self._clean_leftovers(mine)
        for entry in mine.running:
            self._start(entry.job, entry.since, recovered=True)
        self._prune_logs()  # after the tasks exist: their logs are kept
        watcher = asyncio.create_task(self.watcher.run(), name="watcher")
        stopper = asyncio.create_task(stop.wait())
        try:
            backoff = Backoff(first=0.5, cap=30.0)
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._enter()
                    backoff.reset()
                except (*TRANSIENT, ProgramError, Lost) as exc:
                    self._problem(f"entering the market failed ({type(exc).__name__}: {exc}); again in {backoff.delay:.1f}s")
                    await asyncio.wait([stopper], timeout=backoff.delay)
                    backoff.delay = min(backoff.cap, backoff.delay * 2)
                    continue
                self._write_status()
                waker = asyncio.create_task(self._wake.wait())
                await asyncio.wait([stopper, waker], return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
        finally:
            stopper.cancel()
            await self._shutdown()
            log.debug("node=%s shutdown done; stopping the watcher", self.pubkey)
            await self.watcher.close()
            watcher.cancel()
            await asyncio.wait([watcher], timeout=5)
            self._write_status(stopped=True)
        log.info("node=%s event=stopped outcomes=%s", self.pubkey, self.outcomes)
        return 0

    async def _enter(self) -> None:
        """Holds `concurrency` jobs or queue entries: one fresh read, `work` for each missing."""
        while not self.shutting_down:
            market, mine = await self.chain.mine()
            self._start_assigned(mine)
            busy = set(self.tasks) | {e.job for e in mine.running}
            missing = self.options.concurrency - len(busy) - len(mine.waiting)
            if missing <= 0:
                return
            if market.state != "Open" and market.queue_side != "Jobs":
                self._problem(f"market {market.address} is closing: not entering its queue")
                return
            if not await self.stake.admits(market):
                return  # said once; the stake's notifications (or the next market change) wake the node
            if not await self.chain.work():
                # Every waiting job was last given up by this node: it takes none of them
                # again; the next market change (a new job, another node) wakes it.
                self._problem(f"market {market.address}: every waiting job was given up by this node; waiting for another")
                return
            log.info("node=%s event=entered queue_len=%d", self.pubkey, market.queue_len + (1 if market.queue_side != "Jobs" else -1))

    # -- notifications -------------------------------------------------------------------
    async def _on_market(self, market: Market) -> None:
        mine = MyEntries.of(market, self.pubkey)
        self._start_assigned(mine)
        running = {e.job for e in mine.running}
        for job, task in self.tasks.items():
            if job not in running and not task.settling and job not in self._verifying:
                self._spawn(self._verify(task))  # maybe a stale notification: read before stopping
        self._wake.set()

    async def _on_account(self, address: Pubkey) -> None:
        self._wake.set()  # the node's stake changed: check its admission again

    async def _on_job(self, job: Pubkey, found: Job | None) -> None:
        task = self.tasks.get(job)
        if task is not None:
            task.job_changed(found)

    async def _verify(self, task: JobTask) -> None:
        self._verifying.add(task.job)
        try:
            found, entry = await self.chain.running_entry(task.job)
            if entry is None and not task.settling:
                task.halt("ended" if found is not None and found.state == "Ended" else "lost",
                          f"the job is {'gone' if found is None else found.state.lower()} and no longer running here")
        except TRANSIENT:
            pass  # the next notification or recheck tries again
        finally:
            self._verifying.discard(task.job)

    # -- jobs ----------------------------------------------------------------------------
    def _start_assigned(self, mine: MyEntries) -> None:
        for entry in mine.running:
            self._start(entry.job, entry.since, recovered=False)

    def _start(self, job: Pubkey, since: int, *, recovered: bool) -> None:
        if job in self.tasks or job in self._settled:
            return
        task = JobTask(self.task_context, job, since, recovered=recovered)
        self.tasks[job] = task
        log.info("job=%s event=matched node=%s since=%d%s", job, self.pubkey, since, " recovered" if recovered else "")
        self._spawn(self._run_task(task))

    async def _run_task(self, task: JobTask) -> None:
        try:
            outcome = await task.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a failure past every retry: give the job back
            outcome = "error"
            self._problem(f"job={task.job} failed in the node: {type(exc).__name__}: {exc}")
            log.exception("job=%s event=error", task.job)
            try:
                await retrying(f"job={task.job} quit", lambda: self.chain.quit(task.job), deadline=asyncio.get_running_loop().time() + 30)
            except Exception:
                pass  # the job will be reclaimed after its timeout; a restart will find it too
        finally:
            self.tasks.pop(task.job, None)
            if task.outcome in ("finished", "already", "ended"):
                self._settled.add(task.job)
            self._wake.set()  # re-enter the market at once
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self._write_status()
        self._prune_logs()

    def _prune_logs(self) -> None:
        folder = getattr(self.executor, "log_dir", None)
        if folder is None:
            return
        try:
            prune_logs(folder, keep={str(j) for j in self.tasks}, retention_s=self.options.log_retention_s,
                       budget=self.options.log_budget)
        except OSError as exc:
            log.warning("node=%s pruning job logs failed: %s", self.pubkey, exc)

    def settled(self, job: Pubkey) -> None:
        """Called by a task once its `finish` landed: re-enter before its cleanup."""
        self._wake.set()

    def owner_of(self, job: str) -> str | None:
        """The poster of a job running here (the node API's owner check), else None."""
        for key, task in self.tasks.items():
            if str(key) == job:
                return task.poster
        return None

    def requirement_problem(self, definition: Any) -> str | None:
        """Why this node cannot run `definition` (None when it can)."""
        from .requirements import Requirements, refusal
        from .services_setup import NO_ENDPOINTS

        if getattr(definition, "is_service", False) and not self.options.serves_endpoints:
            return NO_ENDPOINTS

        refusal_of = getattr(self.executor, "refusal", None)  # the executor's own bounds (ops per job)
        problem = refusal_of(definition) if refusal_of is not None else None
        if problem:
            return problem
        if self.options.gpus <= 0 and Requirements.of(definition).needs_gpu:  # none found, or --gpus 0
            vram = f" with {definition.required_vram:g} GB VRAM" if definition.required_vram else ""
            return f"job needs a GPU{vram}; this node has none"
        return refusal(definition, self.options.report) if self.options.report is not None else None

    async def _clean_leftovers(self, mine: MyEntries) -> None:
        ours = {str(e.job) for e in mine.running}
        try:
            leftovers = await self.executor.leftovers()
        except Exception as exc:  # the engine may be restarting: the next start cleans up
            self._problem(f"listing leftover containers failed: {type(exc).__name__}: {exc}")
            return
        for job in leftovers:
            if job not in ours:
                log.info("job=%s event=cleanup-leftover", job)
                try:
                    await self.executor.cleanup_job(job)
                except Exception as exc:
                    self._problem(f"job={job} cleaning leftovers failed: {type(exc).__name__}: {exc}")
        for job in self.state.saved_jobs():
            if job not in ours:
                self.state.forget(job)  # settled (or reclaimed) while we were down

    # -- shutdown ------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        self.shutting_down = True
        log.info("node=%s event=shutdown running=%d", self.pubkey, len(self.tasks))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_GRACE_S
        try:
            _, mine = await retrying("read the market", self.chain.mine, deadline=deadline)
            for entry in mine.waiting:
                left = await retrying("leave", lambda: self.chain.leave(entry.index), deadline=deadline)
                log.info("node=%s event=left slot=%d%s", self.pubkey, entry.index, "" if left else " (matched first)")
            _, mine = await retrying("read the market", self.chain.mine, deadline=deadline)
            self._start_assigned(mine)  # matched while leaving: these quit at once
        except Exception as exc:
            self._problem(f"leaving the queue failed: {type(exc).__name__}: {exc}")
        for task in list(self.tasks.values()):
            if not task.settling:
                task.halt("shutdown", "the node is stopping")
        pending = [t for t in self._background if not t.done()]
        log.debug("node=%s shutdown waits for %d task(s)", self.pubkey, len(pending))
        if pending:
            done, still = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            for t in still:
                t.cancel()

    # -- helpers -------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _problem(self, text: str) -> None:
        self.last_problem = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {text}"
        log.warning("node=%s %s", self.pubkey, text)

    def _write_status(self, *, stopped: bool = False) -> None:
        try:
            self.state.write_status({
                "pid": os.getpid(), "node": str(self.pubkey), "market": str(self.options.market),
                "url": self.crowd.cluster.url, "started_at": self.started_at, "updated_at": time.time(),
                "running": [str(j) for j in self.tasks], "outcomes": self.outcomes, "last_problem": self.last_problem,
                "concurrency": self.options.concurrency, "stopped": stopped, "admission": self.stake.to_json(),
            })
        except OSError as exc:
            log.warning("node=%s writing node.json failed: %s", self.pubkey, exc)
