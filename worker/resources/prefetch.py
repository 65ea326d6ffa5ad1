"""A market's list of resources its nodes should hold (`--prefetch FILE`): read with the job
parser's own rules (client/jobspec/resources.py), fetched in the background at start, ahead
of any job, and pinned (never evicted for other resources)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from ...client.jobspec.checks import Checks
from ...client.jobspec.resources import Resource, parse_resources
from .cache import ResourceCache
from .plan import ResourceError

__all__ = ["load_prefetch", "prefetch_in_background"]

log = logging.getLogger(__name__)
MAX_BYTES = 1 << 20


def load_prefetch(path: str | Path) -> tuple[Resource, ...]:
    """The resources in `path` (a JSON array, args.resources' shape), or ValueError saying why not."""
    try:
        data = Path(path).read_bytes()[: MAX_BYTES + 1]
        raw = json.loads(data) if len(data) <= MAX_BYTES else None
    except (OSError, ValueError) as exc:
        raise ValueError(f"--prefetch {path}: {exc}") from None
    if raw is None:
        raise ValueError(f"--prefetch {path}: over {MAX_BYTES} bytes")
    checks = Checks()
    resources = parse_resources(checks, "prefetch", raw)
    if checks.problems.errors:
        raise ValueError(f"--prefetch {path}:\n" + "\n".join(str(p) for p in checks.problems.errors))
    return resources


def prefetch_in_background(cache: ResourceCache, resources: tuple[Resource, ...]) -> asyncio.Task[None]:
    async def run() -> None:
        for resource in resources:
            try:
                (record,) = await cache.prefetch((resource,))
                how = "cached" if record.cached else f"downloaded in {record.download_ms} ms"
                log.info("prefetch %s: held (%d bytes, %s, %s)", resource.describe(), record.size, record.digest, how)
            except ResourceError as exc:
                log.warning("prefetch: %s", exc)

    return asyncio.get_running_loop().create_task(run(), name="crowd-prefetch")
