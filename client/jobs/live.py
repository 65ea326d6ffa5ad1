"""What a poster reads from the node running its job, live: the endpoints of a service,
its logs as they are written, its containers' resource use.

No central server: the job names its node (on-chain), the node's profile names its front
door (`CrowdClient.node_url`), and the node API (client/node_api) answers there. Logs and
stats are the owner's only: each request is signed by the wallet (node_api/auth.py), so
a client without a keypair gets endpoints and nothing else.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from ..errors import InvalidInput
from ..node_api import NodeApi

__all__ = ["node_api_of", "endpoints", "stats", "follow_logs"]


@asynccontextmanager
async def node_api_of(crowd: Any, job: Any) -> AsyncIterator[NodeApi]:
    """The node API of the node that runs (or ran) `job`."""
    view = await crowd.view(job)
    node = view.node
    if node is None:
        raise InvalidInput(f"job {view.job.address} is {view.status}: no node runs it yet")
    url = await crowd.node_url(node)
    async with NodeApi(url, str(node), getattr(crowd, "wallet", None)) as api:
        yield api


async def endpoints(crowd: Any, job: Any) -> list[dict[str, Any]]:
    async with node_api_of(crowd, job) as api:
        return await api.endpoints(str(job))


async def stats(crowd: Any, job: Any) -> dict[str, Any]:
    async with node_api_of(crowd, job) as api:
        return await api.stats(str(job))


async def follow_logs(crowd: Any, job: Any, op: str | None = None, follow: bool = True,
                      from_start: bool = True) -> AsyncIterator[str]:
    async with node_api_of(crowd, job) as api:
        async for line in api.follow_logs(str(job), op, follow, from_start):
            yield line
