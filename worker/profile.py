"""The node's public profile: where its front door is, and what hardware it offers.

A poster finds a service job's endpoints without any central server: the job names its
node, the node's profile account (a PDA of the node, jobs program) holds the node's public
URL and the digest of a hardware summary kept in storage (a CIDv0). The node writes it when
it starts, and only when the URL or the summary changed (`set_node_profile` sends nothing
otherwise), so a restart costs no transaction. An explorer lists every node by the
account's discriminator (`CrowdClient.node_profiles`).

The summary holds what a poster chooses a node by (GPUs, their memory, the driver's CUDA,
CPUs, memory, the engine's version), never what would identify the host further (its
paths, its balances, GPU UUIDs, the engine's address).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

__all__ = ["hardware_summary", "publish_profile", "PROFILE_SCHEMA"]

log = logging.getLogger(__name__)

PROFILE_SCHEMA = "crowdcompute/node-hardware@1"


def hardware_summary(report: Any, *, node: str) -> dict[str, Any]:
    """The published summary of a health report (health.py's NodeReport)."""
    gpu = getattr(report, "gpu", None)
    engine = getattr(report, "engine", None)
    gpus = [{"name": g.name, "memory_total": g.memory_total} for g in getattr(gpu, "gpus", ())]
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "schema": PROFILE_SCHEMA,
        "node": node,
        "gpus": gpus,
        "driver_version": getattr(gpu, "driver_version", None),
        "cuda_version": getattr(gpu, "cuda_version", None),
        "cpus": os.cpu_count(),
        "memory_total": memory,
        "disk_total": getattr(report, "disk_total", None),
        "engine": {"version": getattr(engine, "version", None), "os": getattr(engine, "os", None)},
    }


async def publish_profile(crowd: Any, public_url: str, summary: dict[str, Any]) -> tuple[str, bool]:
    """Stores the hardware summary (`hardware_summary`) and points the node's profile at
    `public_url` and it. Returns (the summary's CID, whether a transaction was sent)."""
    data = json.dumps(summary, sort_keys=True, separators=(",", ":")).encode()
    cid = await (await crowd.storage()).add_bytes(data)
    sent = await crowd.set_node_profile(public_url, cid.digest)
    log.info("node=%s event=profile url=%s hardware=%s %s", crowd.pubkey, public_url, cid, "published" if sent else "unchanged")
    return str(cid), sent is not None
