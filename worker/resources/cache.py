"""The node's resource cache: one engine volume per resource content, downloaded once,
verified, mounted read-only into every op that names it, least recently used ones removed
to stay within a disk budget.

    cache = ResourceCache(engine, state_dir, budget=100 << 30, sources=Sources(...), node=address)
    prepared = await cache.prepare(definition, job)   # before the ops start; ResourceError: why not
    ... container_spec(..., resources=prepared.mounts[op.id]) ...
    cache.release(job)                                # after the job: its resources may be evicted again

How:
  * key: each source's `resolve` names the content (plan.py): an HF commit, an Ollama manifest
    digest, an S3 listing of keys and ETags. One volume per (node, key), labelled
    crowdcompute.role=resource (never crowdcompute.job: a job's clean-up leaves it alone).
  * single flight: a download in progress is shared: a second job that needs the same key
    waits for it instead of starting its own.
  * verified: the source writes into the volume's `.partial/` folder; every file is then
    checked against the size and checksums its server published (plan.verify), and only
    then moved into place and recorded. A resource is mounted only when recorded, so a
    partial or corrupt download never is; a failed try empties the volume and downloads
    again (`tries`), then the job ends with the reason.
  * budget: before a download, least recently used resources that no running job holds
    (and that the market did not ask the node to keep, `prefetch`) are removed until the
    new one fits; one larger than the whole budget is refused.
  * written with literals (client/jobspec/resources.py): filled in when their op starts,
    then held the same way (`for_op`) before that op's container starts.
  * allowWrite: the shared volume stays read-only; the op gets its job's private copy
    (private.py), made at the op's start within the job's disk budget.
  * state: `resources.json` in the node's state folder (what is held, its size, when last
    used); volumes of this node that it does not list (a crash mid-download) are removed
    on first use.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...client.bundle import ResourceRecord
from ...client.jobspec import JobDefinition
from ...client.jobspec.resources import HFResource, OllamaResource, Resource, S3Resource
from ..containers import LABEL_NODE, LABEL_ROLE
from ..limits import size_text
from .hf import HFSource
from .ollama import OllamaSource
from .plan import Permanent, Plan, ResourceError, verify
from .private import writable_copy
from .s3 import S3Source

__all__ = ["ResourceCache", "Sources", "Prepared", "OpMounts", "Entry", "DEFAULT_BUDGET", "STATE_FILE", "ROLE", "LABEL_RESOURCE",
           "needs_resources"]

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 100 << 30  # bytes of resources a node keeps (--resource-cache)
STATE_FILE = "resources.json"
ROLE = "resource"
LABEL_RESOURCE = "crowdcompute.resource"  # the content key's first 63 characters
PARTIAL = ".partial"


def needs_resources(definition: JobDefinition) -> bool:
    """Whether the job names resources: written ones, or ones filled in when an op starts."""
    return any(op.is_run and (op.args.resources or op.args.resource_literals) for op in definition.ops)  # type: ignore[union-attr]


class Sources:
    """Where each kind of resource comes from: settings of the node, so it can use mirrors."""

    def __init__(self, *, s3_endpoint: str | None = None, hf_endpoint: str | None = None,
                 ollama_registry: str | None = None, stall_s: float = 30.0, policy: Any = None) -> None:
        """`policy`: where hosts a job names may be (source_policy.py; default public only)."""
        self.s3 = S3Source(**({"endpoint": s3_endpoint} if s3_endpoint else {}), stall_s=stall_s, policy=policy)
        self.hf = HFSource(**({"endpoint": hf_endpoint} if hf_endpoint else {}), stall_s=stall_s)
        self.ollama = OllamaSource(**({"registry": ollama_registry} if ollama_registry else {}), stall_s=stall_s)

    def of(self, resource: Resource) -> Any:
        if isinstance(resource, S3Resource):
            return self.s3
        if isinstance(resource, HFResource):
            return self.hf
        if isinstance(resource, OllamaResource):
            return self.ollama
        raise Permanent(f"no source for a {type(resource).__name__}")


@dataclass
class Entry:
    key: str
    volume: str
    kind: str
    source: str
    digest: str
    size: int
    last_used: float
    pinned: bool = False  # the market asked the node to keep it (prefetch): never evicted


@dataclass(frozen=True)
class Prepared:
    mounts: dict[str, dict[str, str]]  # op id -> {volume: target}, each mounted read-only
    records: tuple[ResourceRecord, ...]  # one per resource content, for the bundle
    # op id -> [(entry, target)] of its allowWrite resources: copied for the job when the op starts (for_op)
    writable: dict[str, list[tuple[Entry, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class OpMounts:
    """What one op mounts besides its job's read-only resources (`for_op`)."""

    read_only: dict[str, str]  # cache volume -> target: resources filled in from literals
    writable: dict[str, str]  # the job's copy volume -> target (allowWrite)
    records: tuple[ResourceRecord, ...]  # of the resources held here (the bundle lists each content once)


class ResourceCache:
    def __init__(self, engine: Any, state_dir: Path, *, budget: int = DEFAULT_BUDGET, sources: Sources | None = None,
                 node: str | None = None, tries: int = 2) -> None:
        self.engine = engine
        self.path = Path(state_dir) / STATE_FILE
        self.budget = budget
        self.sources = sources or Sources()
        self.node = node or ""
        self.tries = max(1, tries)
        self.entries: dict[str, Entry] = self._load()
        self.users: dict[str, set[str]] = {}  # key -> jobs holding it now
        self.inflight: dict[str, asyncio.Task[int]] = {}  # key -> its download (ms when done)
        self.reserved: dict[str, int] = {}  # key -> bytes of a download under way
        self.downloads = 0  # downloads started (tests, status)
        self._locks: dict[Any, asyncio.Lock] = {}  # per event loop (tests run each job in its own)
        self.copies: dict[tuple[str, str], asyncio.Task[str]] = {}  # (job, key) -> its writable copy's volume
        self._reconciled = False

    # -- what the executor calls ------------------------------------------------------

    async def prepare(self, definition: JobDefinition, job: str) -> Prepared:
        """Every resource of `definition` held for `job` (downloaded when missing), or a
        ResourceError saying which one could not be and why."""
        mounts: dict[str, dict[str, str]] = {}
        writable: dict[str, list[tuple[Entry, str]]] = {}
        records: dict[str, ResourceRecord] = {}
        held: dict[Resource, Entry] = {}
        try:
            for op in definition.ops:
                for resource in getattr(op.args, "resources", ()) or ():
                    if resource not in held:
                        held[resource], record = await self.hold(resource, job)
                        records.setdefault(held[resource].key, record)
                    if resource.allow_write:
                        writable.setdefault(op.id, []).append((held[resource], resource.target))
                    else:
                        mounts.setdefault(op.id, {})[held[resource].volume] = resource.target
        except BaseException:
            self.release(job)
            raise
        return Prepared(mounts, tuple(records.values()), writable)

    async def for_op(self, job: str, node: str, op: str, late: tuple[Resource, ...], writable: list[tuple[Entry, str]],
                     *, disk_budget: int) -> OpMounts:
        """At an op's start: `late` (its resources filled in from literals) held like the
        job's own, and a private copy for the job of each allowWrite one (`writable`, and
        those of `late`), within the job's disk budget; or a ResourceError saying why not."""
        read_only: dict[str, str] = {}
        records: dict[str, ResourceRecord] = {}
        copies = list(writable)
        for resource in late:
            entry, record = await self.hold(resource, job)
            records.setdefault(entry.key, record)
            if resource.allow_write:
                copies.append((entry, resource.target))
            else:
                read_only[entry.volume] = resource.target
        out: dict[str, str] = {}
        for entry, target in copies:
            out[await self.copy(job, node, op, entry, disk_budget)] = target
        return OpMounts(read_only, out, tuple(records.values()))

    async def copy(self, job: str, node: str, op: str, entry: Entry, disk_budget: int) -> str:
        """The job's writable copy of `entry` (private.py): made once per job and content,
        a second op (or restart) of the job waiting for the first one's copy."""
        task = self.copies.get((job, entry.key))
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.ensure_future(writable_copy(
                self.engine, job=job, node=node, op=op, source_volume=entry.volume, key=entry.key, size=entry.size,
                describe=entry.source, budget=disk_budget))
            self.copies[(job, entry.key)] = task
        try:
            return await asyncio.shield(task)
        except Permanent as exc:
            raise ResourceError(str(exc)) from None
        except OSError as exc:
            raise ResourceError(f"resource {entry.source}: its writable copy failed: {exc}") from None

    def release(self, job: str) -> None:
        for users in self.users.values():
            users.discard(job)
        for key in [k for k in self.copies if k[0] == job]:  # the volumes go with the job's (cleanup_job)
            self.copies.pop(key)

    async def prefetch(self, resources: tuple[Resource, ...]) -> list[ResourceRecord]:
        """Hold `resources` ahead of any job (a market's list), kept out of eviction."""
        out = []
        for resource in resources:
            entry, record = await self.hold(resource, None, pin=True)
            out.append(record)
        return out

    async def hold(self, resource: Resource, job: str | None, *, pin: bool = False) -> tuple[Entry, ResourceRecord]:
        if not self._reconciled:
            await self._reconcile()
        last: ResourceError | None = None
        for attempt in range(1, self.tries + 1):
            last = None
            try:
                return await self._hold_once(resource, job, pin)
            except Permanent as exc:
                raise ResourceError(f"resource {resource.describe()}: {exc}") from None
            except ResourceError as exc:
                last = exc
            except (OSError, ValueError, RuntimeError) as exc:  # the disk, the engine (docker's errors are these too)
                last = ResourceError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")
            log.warning("resource %s: try %d of %d failed: %s", resource.describe(), attempt, self.tries, last)
        raise ResourceError(f"resource {resource.describe()}: {last} (tried {self.tries} times)")

    # -- one try ----------------------------------------------------------------------

    async def _hold_once(self, resource: Resource, job: str | None, pin: bool) -> tuple[Entry, ResourceRecord]:
        plan = await self.sources.of(resource).resolve(resource)
        if job is not None:
            self.users.setdefault(plan.key, set()).add(job)  # from now on it is not evicted
        entry = self.entries.get(plan.key)
        if entry is not None and await self._volume_exists(entry.volume):
            entry.last_used, entry.pinned = time.time(), entry.pinned or pin
            self._save()
            return entry, _record(entry, None)
        if entry is not None:  # its volume was removed behind the node's back
            self.entries.pop(plan.key, None)
        task = self.inflight.get(plan.key)
        if task is None:
            task = asyncio.create_task(self._download(plan, pin))
            self.inflight[plan.key] = task
            task.add_done_callback(lambda _t, k=plan.key: self.inflight.pop(k, None))
        ms = await asyncio.shield(task)  # a job that gives up leaves the download to finish for others
        entry = self.entries[plan.key]
        entry.pinned = entry.pinned or pin
        return entry, _record(entry, ms)

    async def _download(self, plan: Plan, pin: bool) -> int:
        async with self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
            await self._make_room(plan)
            self.reserved[plan.key] = plan.size
        volume = volume_name(self.node, plan.key)
        self.downloads += 1
        start = time.monotonic()
        try:
            labels = {LABEL_ROLE: ROLE, LABEL_RESOURCE: plan.key[:63], LABEL_NODE: self.node}
            await self.engine.call(lambda api: api.create_volume(volume, labels=labels), what=f"create volume {volume}")
            info = await self.engine.call(lambda api: api.inspect_volume(volume), what=f"inspect volume {volume}")
            root = Path(info.get("Mountpoint") or "")
            if not root.is_dir():
                raise Permanent(f"the node cannot reach the volume's folder {root} (run the node on the engine's host)")
            await asyncio.to_thread(_empty, root)
            log.info("resource %s: downloading %s into %s", plan.source, size_text(plan.size), volume)
            await _source_of(self.sources, plan.kind).fetch(plan, root / PARTIAL)
            await asyncio.to_thread(verify, root / PARTIAL, plan)
            await asyncio.to_thread(_settle, root, plan)
        except BaseException:
            await self._remove_volume(volume)
            raise
        finally:
            self.reserved.pop(plan.key, None)
        ms = int((time.monotonic() - start) * 1000)
        self.entries[plan.key] = Entry(plan.key, volume, plan.kind, plan.source, plan.digest, plan.size, time.time(), pin)
        self._save()
        log.info("resource %s: held in %s (%s, %d ms)", plan.source, volume, size_text(plan.size), ms)
        return ms

    async def _make_room(self, plan: Plan) -> None:
        """Evict least recently used entries no job holds until `plan` fits the budget."""
        if plan.size > self.budget:
            raise Permanent(f"it holds {size_text(plan.size)}, over this node's resource cache of {size_text(self.budget)}")

        def used() -> int:
            return sum(e.size for e in self.entries.values()) + sum(self.reserved.values())

        for entry in sorted(self.entries.values(), key=lambda e: e.last_used):
            if used() + plan.size <= self.budget:
                break
            if entry.pinned or self.users.get(entry.key):
                continue
            log.info("resource %s: evicted (least recently used) to make room", entry.source)
            self.entries.pop(entry.key, None)
            self._save()
            await self._remove_volume(entry.volume)  # before any new download of that key reuses the name
        if used() + plan.size > self.budget:
            raise Permanent(f"it holds {size_text(plan.size)}, and this node's resource cache of {size_text(self.budget)} "
                            f"is full with resources in use")

    # -- engine and state -------------------------------------------------------------

    async def _volume_exists(self, volume: str) -> bool:
        import docker.errors

        try:
            await self.engine.call(lambda api: api.inspect_volume(volume), what="inspect volume", control=True)
            return True
        except docker.errors.NotFound:
            return False

    async def _remove_volume(self, volume: str) -> None:
        import docker.errors

        try:
            await self.engine.call(lambda api: api.remove_volume(volume, force=True), what=f"remove volume {volume}", control=True)
        except docker.errors.NotFound:
            pass
        except Exception as exc:  # noqa: BLE001 - in use by a container still: the next reconcile removes it
            log.warning("resource volume %s: not removed: %s", volume, exc)

    async def _reconcile(self) -> None:
        """Drop records whose volume is gone; remove this node's volumes that no record holds."""
        self._reconciled = True
        wanted = [f"{LABEL_ROLE}={ROLE}", f"{LABEL_NODE}={self.node}"]
        rows = await self.engine.call(lambda api: api.volumes(filters={"label": wanted}).get("Volumes") or [],
                                      what="list resource volumes")
        present = {row["Name"] for row in rows}
        for key, entry in list(self.entries.items()):
            if entry.volume not in present:
                self.entries.pop(key)
        held = {e.volume for e in self.entries.values()}
        for name in present - held:
            if not any(volume_name(self.node, k) == name for k in self.inflight):
                await self._remove_volume(name)
        self._save()

    def _load(self) -> dict[str, Entry]:
        try:
            raw = json.loads(self.path.read_text())
            return {e["key"]: Entry(**e) for e in raw.get("entries", [])}
        except FileNotFoundError:
            return {}
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("%s: unreadable (%s): starting with an empty resource cache", self.path, exc)
            return {}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": 1, "budget": self.budget, "entries": [asdict(e) for e in self.entries.values()]},
                                 indent=1))
        os.replace(tmp, self.path)

    @property
    def held_bytes(self) -> int:
        return sum(e.size for e in self.entries.values())


def volume_name(node: str, key: str) -> str:
    return "cc-res-" + hashlib.sha256(f"{node}\0{key}".encode()).hexdigest()[:32]


def _source_of(sources: Sources, kind: str) -> Any:
    return {"S3": sources.s3, "HF": sources.hf, "Ollama": sources.ollama}[kind]


def _record(entry: Entry, ms: int | None) -> ResourceRecord:
    return ResourceRecord(entry.kind, entry.source, entry.digest, entry.size, ms is None, ms)


def _empty(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _settle(root: Path, plan: Plan) -> None:
    """The verified files from .partial/ into place, then .partial/ (and whatever a library
    kept there for itself) removed."""
    partial = root / PARTIAL
    for spec in plan.files:
        dest = root / spec.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial / spec.path, dest)
        os.chmod(dest, 0o444)
    shutil.rmtree(partial)
