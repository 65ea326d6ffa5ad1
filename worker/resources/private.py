"""Private writable copies of resources (`allowWrite: true`, Nosana's sogni-ai example).

The node's cache volume of a resource is shared between jobs, so it is never mounted
writable. An op whose resource asks for `allowWrite` gets a copy instead: a volume of its
job (labelled crowdcompute.job, so `cleanup_job` removes it with the job's other volumes
and the job's DiskWatch counts it), filled from the cache volume's folder on this host (the
node runs on the engine's host: the cache writes its volumes the same way) before the op's
container starts. One copy per job and content: a second op of the job, or a restart, uses
the same one (as it would a create-volume volume); the cache keeps which copies it made.

Budget: the copy is bytes the job writes to the node's disk, so before copying, what the
job's volumes hold now plus the resource's size must fit the job's disk budget; else the op
fails with the reason and nothing is copied.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from ..containers import LABEL_JOB, labels
from ..disk_budget import TooManyFiles, usage
from ..limits import size_text
from .plan import Permanent

__all__ = ["copy_volume_name", "writable_copy", "ROLE_COPY"]

ROLE_COPY = "resource-copy"


def copy_volume_name(job: str, key: str) -> str:
    return f"cc-{job}-r-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


async def writable_copy(engine: Any, *, job: str, node: str, op: str, source_volume: str, key: str, size: int,
                        describe: str, budget: int) -> str:
    """A new writable copy for `job` of the resource held in `source_volume` (the caller
    keeps which copies it made: ResourceCache.copy), or Permanent saying why not (over the
    job's disk budget, a folder the node cannot reach). A volume of that name left by a copy
    cut short is emptied and filled again."""
    name = copy_volume_name(job, key)
    used = await _job_usage(engine, job)
    if used + size > budget:
        raise Permanent(f"resource {describe}: a writable copy of {size_text(size)} would put the job's volumes at "
                        f"{size_text(used + size)}, over its disk budget of {size_text(budget)}")
    source = await _mountpoint(engine, source_volume)
    if source is None or not source.is_dir():
        raise Permanent(f"resource {describe}: the node cannot reach its cache volume's folder")
    await engine.call(lambda api: api.create_volume(name, labels=labels(job, ROLE_COPY, op, node)),
                      what=f"create volume {name}")
    dest = await _mountpoint(engine, name)
    if dest is None or not dest.is_dir():
        raise Permanent(f"resource {describe}: the node cannot reach the copy's folder (run the node on the engine's host)")
    try:
        await asyncio.to_thread(_copy, source, dest)
    except OSError as exc:
        raise Permanent(f"resource {describe}: its writable copy failed: {exc}") from None
    return name


def _copy(source: Path, dest: Path) -> None:
    """The cache's files (read-only, 0444) into `dest` as files the op may change (0644,
    folders 0755, owned by the node's user like the engine's own volumes); symbolic links
    are not followed (the cache holds none; a copy never reaches outside the volume)."""
    for child in dest.iterdir():  # a copy cut short earlier: start again
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    for root, dirs, files in os.walk(source, followlinks=False):
        rel = Path(root).relative_to(source)
        for d in dirs:
            (dest / rel / d).mkdir(mode=0o755, exist_ok=True)
        for f in files:
            src = Path(root) / f
            if src.is_symlink() or not src.is_file():
                continue
            shutil.copyfile(src, dest / rel / f, follow_symlinks=False)
            os.chmod(dest / rel / f, 0o644)


async def _mountpoint(engine: Any, volume: str) -> Path | None:
    import docker.errors

    try:
        info = await engine.call(lambda api: api.inspect_volume(volume), what=f"inspect volume {volume}", control=True)
    except docker.errors.NotFound:
        return None
    return Path(info.get("Mountpoint") or "")


async def _job_usage(engine: Any, job: str) -> int:
    """Bytes the job's volumes hold now (disk_budget.usage: what DiskWatch counts)."""
    rows = await engine.call(lambda api: api.volumes(filters={"label": f"{LABEL_JOB}={job}"}).get("Volumes") or [],
                             what="list the job's volumes", control=True)
    try:
        return await asyncio.to_thread(usage, [r["Mountpoint"] for r in rows if r.get("Mountpoint")])
    except TooManyFiles:
        raise Permanent("the job's volumes hold too many files to count for its disk budget") from None
