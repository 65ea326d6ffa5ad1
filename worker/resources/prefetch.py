"""A market's list of resources its nodes should hold (`--prefetch FILE|CID`): a local file,
or the list its authority published to storage (a CID: the bytes are checked against it,
so every node of the market holds the same list), read with the job parser's own rules
(client/jobspec/resources.py), fetched in the background at start, ahead of any job, and
pinned (never evicted for other resources)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from ...client.jobspec.checks import Checks
from ...client.jobspec.resources import Resource, parse_resources
from .cache import ResourceCache
from .plan import ResourceError

__all__ = ["load_prefetch", "read_prefetch", "parse_prefetch", "prefetch_in_background"]

log = logging.getLogger(__name__)
MAX_BYTES = 1 << 20


def load_prefetch(path: str | Path) -> tuple[Resource, ...]:
    """The resources in `path` (a JSON array, args.resources' shape), or ValueError saying why not."""
    try:
        data = Path(path).read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        raise ValueError(f"--prefetch {path}: {exc}") from None
    return parse_prefetch(data, str(path))


async def read_prefetch(given: str, storage: object) -> tuple[Resource, ...]:
    """`--prefetch`'s value: a file when one is there, else a CID of `storage` (a market's
    published list: fetched and checked against the CID)."""
    if Path(given).exists():
        return load_prefetch(given)
    from ...client.errors import CrowdError
    from ...client.storage import Cid

    try:
        cid = Cid.parse(given)
    except ValueError:
        raise ValueError(f"--prefetch {given}: neither a file nor a CID") from None
    try:
        data = await storage.get_bytes(cid)  # type: ignore[attr-defined]
    except CrowdError as exc:
        raise ValueError(f"--prefetch {given}: {exc}") from None
    return parse_prefetch(data, given)


def parse_prefetch(data: bytes, name: str) -> tuple[Resource, ...]:
    try:
        raw = json.loads(data) if len(data) <= MAX_BYTES else None
    except ValueError as exc:
        raise ValueError(f"--prefetch {name}: {exc}") from None
    if raw is None:
        raise ValueError(f"--prefetch {name}: over {MAX_BYTES} bytes")
    checks = Checks()
    resources = parse_resources(checks, "prefetch", raw)
    if checks.problems.errors:
        raise ValueError(f"--prefetch {name}:\n" + "\n".join(str(p) for p in checks.problems.errors))
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
