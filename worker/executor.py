"""Runs a job definition in containers and returns its result bundle.

    executor = Executor(Engine(), work_dir=..., log_dir=..., limits=Limits(...), gpus=n)
    bundle = await executor.run(definition, JobRun(job, node, poster, cid, deadline), stop=event)

`run` never raises for the job's own failures (a failed op, a missing image, a literal
that cannot be filled, the deadline, `stop`): they all end in a Bundle that says why.
It raises only when cancelled. Order of work (jobspec README, "Execution"):

  1. leftovers of an earlier try at the same job are removed; the job's internal
     network is made (ops reach each other by op id and aliases, nothing else);
  2. stages in order; in a stage every op whose `depends_on` have ended starts at once;
     all stages run even when an op fails (as Nosana); an op's literals are filled
     just before it starts, from the results of the ops that ended;
  3. each op: image checked locally (pulled only when `pull=True`: images/), a confined
     container (containers.py) attached before it starts, its output streamed into
     the job's log file, the bundle's capped logs and `results` (logs.py); on a
     non-zero exit it is tried again when `restart_policy` is on-failure with tries
     (a fresh container each time; the volumes stay); declared outputs are copied
     out (outputs.py), then the container is removed;
  4. at `deadline - reserve`, or when `stop` is set, running ops get SIGTERM and,
     `stop_grace` seconds later, SIGKILL; ops not started are recorded as not run;
     `reserve` is the time left to copy outputs and store the bundle;
  5. everything labelled with the job (containers, network, volumes) is removed.

An op that exposes ports is a service (worker/service/, README "Service jobs"): it runs
until the job's stop or deadline, its endpoints in `endpoints` pointed at its container
and health-checked; an end before that goes to its restart policy; ops that depend on it
start once its endpoints are first healthy (its stage still ends only when it ends).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Awaitable, Callable

import docker.errors

from ..client.bundle import Bundle, OpRecord, timestamp
from ..client.jobspec import (
    CREATE_VOLUME,
    RUN,
    JobDefinition,
    LiteralError,
    Limits,
    Operation,
    RunArgs,
    RunContext,
    plan,
    resolve_args,
)
from ..client.jobspec.planning import Stage
from .containers import (
    LABEL_JOB,
    LABEL_NODE,
    container_spec,
    needs_network,
    job_volume_name,
    labels,
    network_name,
)
from .bundle_budget import BUNDLE_CAP, fit
from .disk_budget import DISK_BUDGET, DiskWatch
from .endpoints import Endpoint, EndpointRegistry
from .engine import Engine, EngineUnavailable, _short
from .images import CACHE_FILE, ImageProblem
from .images.cache import IMAGE_CACHE_BUDGET, MAX_IMAGE_SIZE, ImageCache
from .host_fence import BRIDGE_OPTION, FenceError, HostFence, bridge_name
from .limits import MAX_OPS_PER_JOB, TMPFS_SIZE, complete, effective, over_node, size_text, too_many_ops
from .logs import LOG_FILE_CAP, MATCH_BUDGET_S, JobLog, OpOutput
from .outputs import bundle_outputs, read_output
from .resources import ResourceError, needs_resources
from .service import HealthSettings, RestartBudget, ServiceWatch
from .service.egress import egress_refusal
from .service.restarts import BACKOFF_S, MAX_RESTARTS, RESTART_WINDOW_S

log = logging.getLogger(__name__)

STOP_WAIT_S = 10.0  # for the engine to report an exit after SIGKILL, then after removal
WAIT_POLL_S = 60.0  # one wait request's timeout; the pump waits again until the exit

NOT_RUN = {
    "timed-out": "not run: the job's deadline came first",
    "stopped": "not run: the job was stopped",
    "engine": "not run: the container engine became unreachable",
}


@dataclass(frozen=True)
class JobRun:
    job: str
    node: str
    poster: str
    definition_cid: str
    deadline: float  # unix time by which the bundle must be ready


@dataclass
class _Job:
    definition: JobDefinition
    run: JobRun
    stop: asyncio.Event
    stop_at: float  # deadline - reserve
    log: JobLog
    records: dict[str, OpRecord] = field(default_factory=dict)
    results: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)
    halted: str | None = None  # "timed-out" | "stopped" once an op was cut short by it
    engine_error: str | None = None
    bounded: set[str] = field(default_factory=set)  # ops failed by a node bound (their exit code may be 0)
    cut: asyncio.Event = field(default_factory=asyncio.Event)  # the job broke a node bound while it ran
    cut_reason: str | None = None  # why (the disk budget): every op stopped or not run says it
    mounts: dict[str, dict[str, str]] = field(default_factory=dict)  # op id -> resource volume -> target (read-only)
    copies: dict[str, list[Any]] = field(default_factory=dict)  # op id -> [(entry, target)]: allowWrite, copied at its start
    writable: dict[str, dict[str, str]] = field(default_factory=dict)  # op id -> the job's resource copy -> target
    resource_records: list[Any] = field(default_factory=list)  # the bundle's, each content once
    up: set[str] = field(default_factory=set)  # service ops whose endpoints were all healthy once
    woken: asyncio.Event = field(default_factory=asyncio.Event)  # a service came up: its stage looks again

    @property
    def networked(self) -> bool:
        return needs_network(self.definition)

    def mark_up(self, op: str) -> None:
        self.up.add(op)
        self.woken.set()

    def halt_reason(self) -> str | None:
        if self.cut_reason:
            return "cut"
        if self.stop.is_set():
            return "stopped"
        if time.time() >= self.stop_at:
            return "timed-out"
        if self.engine_error:
            return "engine"
        return None

    def halt(self, reason: str) -> None:
        if reason in ("stopped", "timed-out") and self.halted is None:
            self.halted = reason


@dataclass
class _Outcome:
    container: str
    exit_code: int | None = None
    error: str | None = None
    stopped: bool = False  # cut short by the node (timeout, deadline, stop)
    unhealthy: str | None = None  # a service's container the node stopped for failed health: why


class Executor:
    def __init__(
        self,
        engine: Engine,
        *,
        work_dir: Path,
        log_dir: Path,
        limits: Limits | None = None,
        gpus: int = 0,
        stop_grace: float = 10.0,
        reserve: float = 30.0,
        pull: bool = False,
        pull_timeout: float = 300.0,
        max_image_size: int | None = MAX_IMAGE_SIZE,
        image_cache: int = IMAGE_CACHE_BUDGET,
        image_record: Path | None = None,
        source_policy: Any = None,  # registries a job may name (source_policy.py; default: public addresses only)
        read_only: bool = True,
        tmpfs_size: int = TMPFS_SIZE,
        log_file_cap: int = LOG_FILE_CAP,
        match_budget_s: float = MATCH_BUDGET_S,
        max_ops: int = MAX_OPS_PER_JOB,
        fence: HostFence | bool = True,
        bundle_cap: int = BUNDLE_CAP,
        disk_budget: int = DISK_BUDGET,
        node: str | None = None,
        clean_after_run: bool = True,
        endpoints: EndpointRegistry | None = None,
        allow_egress: bool = False,
        health_startup_interval: float = 1.0,
        health_startup_timeout: float = 300.0,
        health_interval: float = 30.0,
        health_check_timeout: float = 3.0,
        max_restarts: int = MAX_RESTARTS,
        restart_window: float = RESTART_WINDOW_S,
        restart_backoff: float = BACKOFF_S,
        endpoint_url: Callable[[Endpoint], str] | None = None,
        resources: Any = None,
    ) -> None:
        self.engine = engine
        self.work_dir = Path(work_dir)  # the node's job data folder (health reports its disk)
        self.log_dir = Path(log_dir)
        self.limits = complete(limits)
        self.gpus = gpus
        self.stop_grace = stop_grace
        self.reserve = reserve
        self.pull = pull
        self.pull_timeout = pull_timeout
        # The images jobs name (images/): their record defaults to the state folder that
        # holds work_dir, where `crowd node status` reads it.
        self.images = ImageCache(engine, image_cache, image_record or Path(work_dir).parent / CACHE_FILE, pull=pull,
                                 pull_timeout=pull_timeout, max_size=max_image_size, policy=source_policy)
        self.read_only = read_only
        self.tmpfs_size = tmpfs_size
        self.log_file_cap = log_file_cap
        self.match_budget_s = match_budget_s
        self.max_ops = max_ops
        self.bundle_cap = bundle_cap
        self.disk_budget = disk_budget
        # Firewall rules that keep each job's network from the host (host_fence.py). Off
        # (False) only for a test that shows what a job reaches without them.
        self.fence = HostFence() if fence is True else fence or None
        # leftovers() lists only this node's jobs when set: nodes that share one engine
        # (or test suites on one machine) must not recover each other's running jobs.
        self.node = node
        # False when the caller removes what a job left (`cleanup_job`) itself, later: the
        # node does once the job is settled, so removing the job's network and its rules
        # (about 0.17 s) is off the path to the poster's result. Containers are removed as
        # they exit either way.
        self.clean_after_run = clean_after_run
        # Service ops (worker/service/): the node's endpoint table the front door routes
        # by (a table of its own when none is given), how their health is checked, and the
        # node's cap on restarts of always / unless-stopped services.
        self.endpoints = endpoints if endpoints is not None else EndpointRegistry()
        self.allow_egress = allow_egress  # --allow-egress: jobs that ask may reach the internet
        self.health = HealthSettings(startup_interval=health_startup_interval, startup_timeout=health_startup_timeout,
                                     interval=health_interval, check_timeout=health_check_timeout)
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.restart_backoff = restart_backoff
        # an endpoint's public address, as the front door serves it (None: endpoint literals
        # cannot be filled on this node, and an op that names one fails saying so)
        self.endpoint_url = endpoint_url
        # The node's resource cache (worker/resources: ResourceCache); None: jobs with
        # `resources` are not run, with the reason.
        self.resources = resources
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def log_path(self, job: str) -> Path:
        """The job's local log file (kept after its containers are removed)."""
        return self.log_dir / f"{job}.log"

    # -- the job ---------------------------------------------------------------------

    async def run(self, definition: JobDefinition, run: JobRun, *, stop: asyncio.Event | None = None) -> Bundle:
        job = _Job(
            definition, run, stop or asyncio.Event(), run.deadline - self.reserve,
            JobLog(self.log_path(run.job), file_cap=self.log_file_cap),
        )
        started = time.time()
        job.log.note(f"job {run.job}: {len(definition.ops)} ops, deadline {timestamp(run.deadline)}")
        refused = self.refusal(definition)
        prepared = None
        if not refused and needs_resources(definition):  # after the match, before the ops start
            prepared = await self._prepare_resources(job)
            refused = prepared if isinstance(prepared, str) else None
        if refused:  # before anything is made: no network, no container
            job.log.note(f"job {run.job}: refused: {refused}")
            job.log.close()
            records = tuple(OpRecord(op.id, error=f"not run: {refused}") for op in definition.ops)
            return Bundle(run.job, run.node, run.definition_cid, "failed", timestamp(started), timestamp(time.time()), records)
        try:
            await self._clean_engine(run.job)  # an earlier try's (fence() replaces its rules)
            if job.networked:
                await self._make_network(job)
            def over_budget(reason: str) -> None:
                job.cut_reason = reason
                job.log.note(f"job {run.job}: {reason}: stopping its ops")
                job.cut.set()

            watch = asyncio.create_task(DiskWatch(self.engine, run.job, self.disk_budget, over_budget).run())
            try:
                for stage in plan(definition):
                    await self._run_stage(job, stage)
            finally:
                watch.cancel()
        except Exception as exc:  # noqa: BLE001 - the job still gets a bundle saying why
            if not isinstance(exc, EngineUnavailable):
                log.exception("job %s: worker error", run.job)
            job.engine_error = job.engine_error or _short(exc)
        finally:
            self.endpoints.close_job(run.job)  # each was set STOPPED as its op ended
            if prepared is not None:
                self.resources.release(run.job)
            if self.clean_after_run:
                try:
                    await asyncio.shield(self.cleanup_job(run.job))
                except Exception as exc:  # noqa: BLE001 - recovery (leftovers) retries later
                    log.warning("job %s: clean-up failed, left for recovery: %s", run.job, _short(exc))
        records = tuple(
            job.records.get(op.id) or OpRecord(op.id, error=self._not_run(job)) for op in definition.ops
        )
        status = self._status(job, records)
        job.log.note(f"job {run.job}: {status}")
        job.log.close()
        bundle = Bundle(run.job, run.node, run.definition_cid, status, timestamp(started), timestamp(time.time()), records,
                        tuple(job.resource_records))
        return fit(bundle, self.bundle_cap)  # the whole bundle under the cap every client fetches

    async def _prepare_resources(self, job: _Job) -> Any:
        """The job's resources held for it (downloaded when missing, worker/resources), their
        volumes noted per op for container_spec; or why not (a str), within the deadline."""
        if self.resources is None:
            return "this node keeps no resource cache (it fetches no S3, Hugging Face or Ollama resources)"
        prepared = await self._bounded_resources(job, self.resources.prepare(job.definition, job.run.job))
        if isinstance(prepared, str):
            return prepared
        job.mounts, job.copies = prepared.mounts, prepared.writable
        self._note_resources(job, prepared.records)
        return prepared

    async def _op_resources(self, job: _Job, op: Operation, args: RunArgs) -> str | None:
        """At the op's start: its resources filled in from literals (after the written
        ones in `args.resources`) held like the job's own, and the job's writable copies of
        its allowWrite ones made (worker/resources/private.py); or why not (a str: the op
        fails with it), within the job's deadline and stop."""
        late = args.resources[len(op.args.resources):]  # type: ignore[union-attr]
        copies = job.copies.get(op.id, [])
        if not late and not copies:
            return None
        if self.resources is None:  # run() refused the job already; a hand-built definition still ends here
            return "this node keeps no resource cache (it fetches no S3, Hugging Face or Ollama resources)"
        placed = await self._bounded_resources(job, self.resources.for_op(
            job.run.job, job.run.node, op.id, late, copies, disk_budget=self.disk_budget))
        if isinstance(placed, str):
            return placed
        job.mounts[op.id] = {**job.mounts.get(op.id, {}), **placed.read_only}
        job.writable[op.id] = placed.writable
        self._note_resources(job, placed.records)
        return None

    async def _bounded_resources(self, job: _Job, work: Awaitable[Any]) -> Any:
        """`work`'s result, or why not (a str) when it fails, the job is stopped or its deadline comes."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(job.stop.wait())
        try:
            await asyncio.wait({task, stopper}, timeout=max(0.0, job.stop_at - time.time()), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not task.done():
            task.cancel()
            return "resources: " + ("the job was stopped" if job.stop.is_set() else "the job's deadline came") + " while they downloaded"
        try:
            return task.result()
        except ResourceError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - the job still gets a bundle saying why
            log.exception("job %s: resources: worker error", job.run.job)
            return f"resources: worker error: {_short(exc)}"

    @staticmethod
    def _note_resources(job: _Job, records: Any) -> None:
        for r in records:
            if any((o.type, o.source, o.digest) == (r.type, r.source, r.digest) for o in job.resource_records):
                continue
            job.resource_records.append(r)
            how = "cached" if r.cached else f"downloaded in {r.download_ms} ms"
            job.log.note(f"resource {r.type} {r.source}: {r.size} bytes, {r.digest}, {how}")

    def egress(self, definition: JobDefinition) -> bool:
        """Whether the job's network routes out (to the internet only: host_fence.py)."""
        return definition.needs_egress and self.allow_egress

    async def _make_network(self, job: _Job) -> None:
        """The job's internal network, fenced off from the host before it exists (no
        moment without the rules), its bridge checked to be one the rules act on."""
        run = job.run
        egress = self.egress(job.definition)
        if self.fence:
            await self.fence.fence(run.job, run.node, egress=egress)
        await self.engine.call(
            lambda api: api.create_network(
                network_name(run.job), driver="bridge", internal=not egress,
                labels=labels(run.job, "network", node=run.node),
                options={BRIDGE_OPTION: bridge_name(run.job)},
            ),
            retry=False, what="create the job network",
        )
        if self.fence and not HostFence.visible(run.job):
            raise FenceError(f"the job network's bridge {bridge_name(run.job)} is not an interface of this host, "
                             "so the node cannot fence it off (run the node on the engine's host)")

    def refusal(self, definition: JobDefinition) -> str | None:
        """Why this executor will not run `definition` at all (the node asks before running it)."""
        return too_many_ops(definition, self.max_ops) or unknown_kind(definition) or egress_refusal(definition, self.allow_egress)

    @staticmethod
    def _not_run(job: _Job) -> str:
        reason = job.halt_reason() or "engine"
        if reason == "cut":
            return f"not run: {job.cut_reason}"
        if reason == "engine" and job.engine_error:
            return f"not run: {job.engine_error}"
        return NOT_RUN[reason]

    @staticmethod
    def _status(job: _Job, records: tuple[OpRecord, ...]) -> str:
        if job.halted:
            return job.halted
        if all(r.exit_code == 0 for r in records) and not job.bounded:
            return "succeeded"
        return "failed"

    async def _run_stage(self, job: _Job, stage: Stage) -> None:
        # A service op never ends on its own: an op that depends on it starts once it is up
        # (its endpoints first healthy: `job.woken` says when), as Nosana starts one; the
        # stage itself ends only when every op has ended (jobspec README, "Execution").
        tasks: dict[asyncio.Task[None], str] = {}
        try:
            while not all(op.id in job.ended for op in stage.ops):
                for op in stage.ready(job.ended, job.up):  # earlier stages' ops count as ended
                    if op.id not in tasks.values():
                        tasks[asyncio.create_task(self._op(job, op))] = op.id
                pending = [t for t, op_id in tasks.items() if op_id not in job.ended]
                if not pending:  # parse() refuses such plans; a hand-built one still ends
                    for op in stage.ops:
                        if op.id not in job.ended:
                            job.records[op.id] = OpRecord(op.id, error="not run: waits for an op that never runs")
                            job.ended.add(op.id)
                    return
                job.woken.clear()
                woken = asyncio.ensure_future(job.woken.wait())
                try:
                    await asyncio.wait([*pending, woken], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    woken.cancel()
        finally:
            for task in tasks:
                task.cancel()

    async def _op(self, job: _Job, op: Operation) -> None:
        start = time.time()
        try:
            record = await self._run_op(job, op)
        except EngineUnavailable as exc:
            job.engine_error = str(exc)
            record = OpRecord(op.id, error=str(exc), started_at=timestamp(start), ended_at=timestamp(time.time()))
        except Exception as exc:  # noqa: BLE001 - an op's failure is data for the bundle
            log.exception("job %s op %s: worker error", job.run.job, op.id)
            record = OpRecord(op.id, error=f"worker error: {_short(exc)}", started_at=timestamp(start), ended_at=timestamp(time.time()))
        job.records[op.id] = record
        job.results[op.id] = {k: list(v) for k, v in record.results.items()}
        job.ended.add(op.id)
        outcome = f"exit {record.exit_code}" if record.exit_code is not None else "no exit"
        job.log.note(f"op {op.id}: {outcome}{': ' + record.error if record.error else ''}")

    # -- one op ----------------------------------------------------------------------

    async def _run_op(self, job: _Job, op: Operation) -> OpRecord:
        halt = job.halt_reason()
        if halt:
            job.halt(halt)
            return OpRecord(op.id, error=self._not_run(job))
        # refusal() let no op through whose kind has no handler
        return await HANDLERS[op.type](self, job, op)

    async def _create_volume(self, job: _Job, op: Operation) -> OpRecord:
        """`container/create-volume`: a volume scoped to the job by name and label."""
        start = time.time()
        name = job_volume_name(job.run.job, op.args.name)
        await self.engine.call(
            lambda api: api.create_volume(name, labels=labels(job.run.job, "volume", op.id, job.run.node)),
            what=f"create volume {name}",
        )
        return OpRecord(op.id, exit_code=0, started_at=timestamp(start), ended_at=timestamp(time.time()))

    async def _run_container(self, job: _Job, op: Operation) -> OpRecord:
        """`container/run`: its literals filled in, checked against the node, then run in a
        confined container (tried again under its restart policy)."""
        start = time.time()

        def failed(error: str) -> OpRecord:
            return OpRecord(op.id, error=error, started_at=timestamp(start), ended_at=timestamp(time.time()))

        try:
            args = resolve_args(job.definition, op, RunContext(job.run.job, job.run.node, job.run.poster, job.results,
                                                               self._endpoint_addresses(job.run.job)))
        except LiteralError as exc:
            return failed(f"literal: {exc}")
        refused = over_node(op.id, args.limits, self.limits)
        if refused:
            return failed(refused)
        if args.gpu and self.gpus <= 0:
            return failed(f"op {op.id} needs a GPU; this node has none")
        image = await self._image(args.image, job)
        if isinstance(image, str):
            return failed(image)
        placed = await self._op_resources(job, op, args)  # after the image: a missing one downloads nothing
        if placed:
            return failed(placed)
        limits = effective(args.limits, self.limits)
        output = OpOutput(op.id, op.results, job.log, match_budget_s=self.match_budget_s)
        if args.expose:
            # a service's own timeout only, if it set one: the node's default op timeout is
            # for batch ops; a service runs to the job's stop or deadline
            return await self._run_service(job, op, args, replace(limits, timeout=args.limits.timeout), image, output, start)
        tries = 1 + (args.restart.restart_tries if args.restart.policy == "on-failure" else 0)
        outcome: _Outcome | None = None
        outputs: tuple = ()
        attempt = 0
        try:
            for attempt in range(1, tries + 1):
                outcome = await self._attempt(job, op, args, limits, image, output, attempt)
                last = attempt == tries or outcome.exit_code == 0 or outcome.stopped or bool(job.halt_reason())
                if last and args.outputs and outcome.container:
                    container = outcome.container
                    found = [
                        (path, await self.engine.call(lambda api, p=path: read_output(api, container, p), what=f"copy {path}"))
                        for path in args.outputs
                    ]
                    outputs = bundle_outputs(found)
                await self._remove(outcome.container)
                if last:
                    break
        except docker.errors.APIError as exc:
            return failed(f"the container engine refused: {_short(exc.explanation or exc)}")
        assert outcome is not None
        error = outcome.error
        if attempt > 1:
            note = f"ran {attempt} times (restart_policy on-failure, {tries - 1} restarts allowed)"
            error = f"{error}; {note}" if error else note
        stdout, stderr = output.logs()
        results = output.scanner.results()
        if output.scanner.overrun:  # a bound of the node, not the op's own exit: the op fails
            job.bounded.add(op.id)
            error = f"{error}; {output.scanner.overrun}" if error else output.scanner.overrun
        return OpRecord(
            op.id, outcome.exit_code, error, timestamp(start), timestamp(time.time()),
            stdout, stderr, results, outputs,
        )

    async def _image(self, image: str, job: _Job | None = None) -> dict[str, Any] | str:
        """The image's config, or why there is none on this node (images/: pulled when the
        node pulls, within its pull timeout, maximum size and image cache)."""
        try:
            return await self.images.ensure(image, stop=job.stop if job else None, until=job.stop_at if job else None)
        except ImageProblem as exc:  # EngineUnavailable goes on up: _op records it for the job
            return str(exc)

    async def _run_service(
        self, job: _Job, op: Operation, args: RunArgs, limits: Limits, image: dict[str, Any], output: OpOutput,
        start: float,
    ) -> OpRecord:
        """An op that exposes ports: fresh containers under its restart policy
        (service/restarts.py) until the job's stop or deadline, each watched for health
        (service/watch.py); its endpoints STOPPED when it ends."""
        watch = ServiceWatch(self.endpoints, job.run.job, op.id, args, self.health, on_up=lambda: job.mark_up(op.id))
        budget = RestartBudget(args.restart, self.max_restarts, self.restart_window, self.restart_backoff)
        outcome: _Outcome | None = None
        error: str | None = None
        try:
            for attempt in itertools.count(1):  # the budget (restarts.py) ends it
                try:
                    outcome = await self._attempt(job, op, args, limits, image, output, attempt, service=watch)
                finally:
                    await watch.stop()
                await self._remove(outcome.container)
                if outcome.stopped or job.halt_reason():
                    error = outcome.error
                    break
                decision = budget.after(outcome.exit_code, outcome.unhealthy)
                if not decision.restart:
                    error = "; ".join(e for e in (decision.error, outcome.error if outcome.unhealthy is None else None) if e) or None
                    break
                job.log.note(f"op {op.id}: {outcome.error or f'exited with {outcome.exit_code}'}; "
                             f"restart {budget.restarts} in {decision.delay:g} s (restart_policy {args.restart.policy})")
                ended = asyncio.ensure_future(_first(job.stop.wait(), job.cut.wait()))  # or the backoff
                try:
                    await asyncio.wait([ended], timeout=max(0.0, min(decision.delay, job.stop_at - time.time())))
                finally:
                    ended.cancel()
                halt = job.halt_reason()
                if halt:
                    job.halt(halt)
                    error = f"{outcome.error or f'exited with {outcome.exit_code}'}; not restarted: {self._not_run(job)[len('not run: '):]}"
                    break
        except docker.errors.APIError as exc:
            error = f"the container engine refused: {_short(exc.explanation or exc)}"
        finally:
            watch.close(error or "the op ended")
        stdout, stderr = output.logs()
        results = output.scanner.results()
        if output.scanner.overrun:
            job.bounded.add(op.id)
            error = f"{error}; {output.scanner.overrun}" if error else output.scanner.overrun
        return OpRecord(
            op.id, outcome.exit_code if outcome else None, error or (None if outcome else "not run"),
            timestamp(start), timestamp(time.time()), stdout, stderr, results, (),
            restarts=budget.restarts, health=watch.health(),
        )

    def _endpoint_addresses(self, job: str) -> dict[tuple[str, int], str]:
        """(op, port) -> public address of the job's open endpoints, for %%ops.ID.endpoint.PORT%%
        (an op that depends on the service starts once it is up, so its endpoints are open)."""
        if self.endpoint_url is None:
            return {}
        return {(ep.op, ep.port): self.endpoint_url(ep) for ep in self.endpoints.for_job(job)}

    async def _container_ip(self, job: _Job, container: str) -> str:
        """The container's address on the job's network ("" when it has none, e.g. it exited)."""
        info = await self.engine.call(lambda api: api.inspect_container(container), what="inspect")
        networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
        return (networks.get(network_name(job.run.job)) or {}).get("IPAddress") or ""

    async def _attempt(
        self, job: _Job, op: Operation, args: RunArgs, limits: Limits, image: dict[str, Any],
        output: OpOutput, attempt: int, service: ServiceWatch | None = None,
    ) -> _Outcome:
        spec = container_spec(
            job.run.job, op.id, args, limits, attempt=attempt,
            image_workdir=image.get("WorkingDir") or None, read_only=self.read_only, tmpfs_size=self.tmpfs_size,
            node=job.run.node, networked=job.networked, resources=job.mounts.get(op.id),
            writable_resources=job.writable.get(op.id),
        )
        for volume in spec.volumes:  # work folders: made here so that they carry the job's label
            await self.engine.call(
                lambda api, v=volume: api.create_volume(v, labels=labels(job.run.job, "work", op.id, job.run.node)),
                what=f"create volume {volume}",
            )
        created = await self.engine.call(
            lambda api: api.create_container(**spec.create_kwargs(api)), retry=False, what=f"create {spec.name}"
        )
        outcome = _Outcome(created["Id"])
        pump = _LogPump(self.engine, outcome.container, output)
        try:
            await pump.attached  # attached before start: no output is missed
            job.log.note(f"op {op.id}: starting {spec.name} (try {attempt})")
            await self.engine.call(lambda api: api.start(outcome.container), what=f"start {spec.name}")
        except BaseException:
            await self._remove(outcome.container)
            raise
        started = time.time()
        waiter = pump.exited  # the pump's own thread waits for the exit: no pool thread is held
        stop_at, cause = job.stop_at, "deadline"
        if limits.timeout is not None and started + limits.timeout < stop_at:
            stop_at, cause = started + limits.timeout, "timeout"
        watched: set[asyncio.Future[Any]] = set()
        if service is not None:  # its endpoints now point at this container; checks begin
            ip = await self._container_ip(job, outcome.container)
            if ip:  # none: it exited already, and its exit is what the policy sees
                service.start(ip, attempt)
                watched.add(service.failed)
        stopper = asyncio.ensure_future(_first(job.stop.wait(), job.cut.wait()))
        try:
            await asyncio.wait({waiter, stopper, *watched}, timeout=max(0.0, stop_at - time.time()), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not waiter.done() and service is not None and service.failed.done() and not job.halt_reason():
            outcome.unhealthy = service.failed.result()
            outcome.error = f"unhealthy: {outcome.unhealthy} (stopped: SIGTERM, then SIGKILL after {self.stop_grace:g} s)"
            job.log.note(f"op {op.id}: {outcome.error}")
            await self._stop(outcome.container, waiter)
        if not waiter.done():
            cause = "cut" if job.cut_reason else "stopped" if job.stop.is_set() else cause
            outcome.stopped = True
            outcome.error = {
                "timeout": f"stopped at its timeout of {limits.timeout} s",
                "deadline": "stopped: the job's deadline came",
                "stopped": "stopped: the job was stopped",
                "cut": f"stopped: {job.cut_reason}",
            }[cause] + f" (SIGTERM, then SIGKILL after {self.stop_grace:g} s)"
            if cause == "cut":
                job.bounded.add(op.id)
            job.halt({"deadline": "timed-out", "stopped": "stopped"}.get(cause, ""))
            job.log.note(f"op {op.id}: {outcome.error}")
            await self._stop(outcome.container, waiter)
        waited = await waiter
        try:
            state = (await self.engine.call(lambda api: api.inspect_container(outcome.container), what="inspect"))["State"]
        except docker.errors.NotFound:  # removed behind our back: the wait still saw its exit
            state = {"ExitCode": waited.get("StatusCode", -1), "Status": "removing"}
        if state.get("Status") in ("removing", "dead"):  # docker rm -f marks it before the kill
            gone = "the container was removed by someone else while it ran"
            outcome.error = f"{outcome.error}; {gone}" if outcome.error else gone
        outcome.exit_code = int(state.get("ExitCode", -1))
        if state.get("OOMKilled"):
            oom = f"killed: out of memory (limit {size_text(limits.memory)})" if outcome.exit_code == 137 else (
                f"a process was killed: out of memory (limit {size_text(limits.memory)})"
            )
            outcome.error = f"{oom}; {outcome.error}" if outcome.error else oom
        try:
            await asyncio.wait_for(asyncio.shield(pump.done), timeout=10)
            output.end_attempt()
        except asyncio.TimeoutError:  # removing the container ends the stream
            log.warning("op %s: its log stream did not end with the container", op.id)
        return outcome

    async def _stop(self, container: str, exited: asyncio.Future[Any]) -> None:
        """SIGTERM, then SIGKILL after the grace: short calls on the engine's control pool
        (never behind a job's own calls), each wait bounded."""
        await self.engine.call(lambda api: _signal(api, container, "SIGTERM"), what="SIGTERM", control=True)
        await asyncio.wait([exited], timeout=self.stop_grace)
        if not exited.done():
            await self.engine.call(lambda api: _signal(api, container, "SIGKILL"), what="SIGKILL", control=True)
            await asyncio.wait([exited], timeout=STOP_WAIT_S)
        if not exited.done():  # the engine did not report the exit: removal ends the container
            log.warning("container %s: no exit seen %g s after SIGKILL; removing it", container[:12], STOP_WAIT_S)
            await self._remove(container)
            await asyncio.wait([exited], timeout=STOP_WAIT_S)

    async def _remove(self, container: str) -> None:
        await self.engine.call(
            lambda api: _ignore_gone(lambda: api.remove_container(container, force=True, v=True)),
            what="remove container", control=True,
        )

    # -- recovery --------------------------------------------------------------------

    async def cleanup_job(self, job: str) -> None:
        """Remove every container, network and volume labelled with `job`, each endpoint
        still on its network first (a network with one cannot be removed), then the job's
        firewall rules once its network is gone."""
        await self._clean_engine(job)
        if self.fence:
            await self.fence.unfence(job)

    async def _clean_engine(self, job: str) -> None:
        """The engine's part of `cleanup_job`: containers, networks, volumes."""

        def clean(api: Any) -> None:
            only = {"label": f"{LABEL_JOB}={job}"}
            for row in api.containers(all=True, filters=only):
                _ignore_gone(lambda: api.remove_container(row["Id"], force=True, v=True))
            for row in api.networks(filters=only):
                try:
                    attached = api.inspect_network(row["Id"]).get("Containers") or {}
                except docker.errors.NotFound:
                    continue
                for key, endpoint in attached.items():
                    # a stale endpoint (its container gone) is keyed "ep-..." and named by its container
                    who = endpoint.get("Name") or key if key.startswith("ep-") else key
                    _ignore_gone(lambda: api.disconnect_container_from_network(who, row["Id"], force=True))
                _ignore_gone(lambda: api.remove_network(row["Id"]))
            for row in api.volumes(filters=only).get("Volumes") or []:
                _ignore_gone(lambda: api.remove_volume(row["Name"], force=True))

        await self.engine.call(clean, what=f"clean up job {job}", control=True)

    async def leftovers(self) -> list[str]:
        """Jobs that still have anything here (a crash or restart left it): containers,
        networks, volumes or firewall rules; this node's only when the executor was given
        `node`, else every node's on this engine."""
        wanted = [LABEL_JOB] + ([f"{LABEL_NODE}={self.node}"] if self.node else [])

        def labelled(api: Any) -> set[str]:
            rows = api.containers(all=True, filters={"label": wanted}) + api.networks(filters={"label": wanted})
            rows += api.volumes(filters={"label": wanted}).get("Volumes") or []
            return {(row.get("Labels") or {}).get(LABEL_JOB) for row in rows} - {None}

        jobs = await self.engine.call(labelled, what="list what jobs left")
        if self.fence:
            jobs |= await self.fence.fenced_jobs(self.node)
        return sorted(jobs)

    async def preflight(self) -> str | None:
        """Why this node must not serve (one line), or None: the engine confines every
        container (confinement.py) and job networks can be fenced off the host."""
        from .confinement import confinement_problem

        info = await self.engine.info()
        if not info.reachable:
            return f"the container engine is not reachable: {info.error}"
        problem = confinement_problem(info)
        if problem is None and self.fence:
            problem = await self.fence.check()
        return problem


# How each op kind runs (kinds.py in client/jobspec has the same names; a test checks it).
HANDLERS: dict[str, Callable[[Executor, _Job, Operation], Awaitable[OpRecord]]] = {
    RUN: Executor._run_container,
    CREATE_VOLUME: Executor._create_volume,
}


def unknown_kind(definition: JobDefinition) -> str | None:
    """Why a definition holding an op of a kind this node cannot run is refused, or None.
    `parse` refuses such files; a definition built in-process can still hold one, and
    running any kind without its own handler would be running it as something else."""
    for op in definition.ops:
        if op.type not in HANDLERS:
            return f"op {op.id} is of kind {op.type!r}, which this node does not run (it runs {', '.join(HANDLERS)})"
    return None


async def _first(*waits: Any) -> None:
    """Returns when the first of `waits` does (the others are cancelled)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _signal(api: Any, container: str, signal: str) -> None:
    """Send `signal`; a container that already exited (409) or is gone needs none."""
    try:
        api.kill(container, signal=signal)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:
            raise


def _ignore_gone(remove: Any) -> None:
    """Removal races (another clean-up, the engine's own): gone is what we wanted."""
    try:
        remove()
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # "removal already in progress"
            raise


class _LogPump:
    """A thread that reads a container's attached stdout/stderr into an OpOutput.

    Its own thread, not the engine's pool: it lives as long as the container. `attached`
    resolves once the stream is open (start the container after it), `done` when the
    stream ends (the container exited or was removed), `exited` with the engine's wait
    answer ({"StatusCode": n}) once the container has exited. Waiting here, not on the
    engine's pool, is what keeps a job of many ops from holding every pool thread."""

    def __init__(self, engine: Engine, container: str, output: OpOutput) -> None:
        self.loop = asyncio.get_running_loop()
        self.attached: asyncio.Future[None] = self.loop.create_future()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.exited: asyncio.Future[Any] = self.loop.create_future()
        self.engine = engine
        self.container = container
        self.output = output
        threading.Thread(target=self._run, name=f"crowd-logs-{container[:12]}", daemon=True).start()

    def _settle(self, future: asyncio.Future[Any], error: BaseException | None = None, result: Any = None) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

        try:
            self.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    def _run(self) -> None:
        try:
            frames = self.engine.blocking(
                lambda api: api.attach(self.container, stdout=True, stderr=True, stream=True, logs=False, demux=True),
                what="attach",
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
            self._settle(self.attached, exc)
            self._settle(self.done)
            self._settle(self.exited, exc)
            return
        self._settle(self.attached)
        try:
            for out, err in frames:
                if out:
                    self.output.feed("stdout", out)
                if err:
                    self.output.feed("stderr", err)
        except Exception as exc:  # noqa: BLE001 - the engine dropped the stream: logs end here
            log.warning("container %s: log stream ended early: %s", self.container[:12], _short(exc))
        finally:
            self._settle(self.done)
        self._wait_for_exit()

    def _wait_for_exit(self) -> None:
        """The engine's wait, each request bounded (WAIT_POLL_S) and asked again until the
        exit. Called on the SDK client directly: a wait that times out is not a failure."""
        import requests

        failures = 0
        while not self.loop.is_closed():
            try:
                answer = self.engine.api.wait(self.container, timeout=WAIT_POLL_S)
            except docker.errors.NotFound:
                answer = {"StatusCode": -1}  # removed before the wait: inspect says the rest
            except requests.exceptions.RequestException as exc:
                if "timed out" in str(exc).lower():
                    continue  # still running: ask again
                failures += 1
                if failures > self.engine.retries:
                    self._settle(self.exited, EngineUnavailable(f"waiting for a container: {_short(exc)}"))
                    return
                time.sleep(min(10.0, self.engine.backoff * 2**failures))
                continue
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                self._settle(self.exited, exc)
                return
            self._settle(self.exited, result=answer)
            return
