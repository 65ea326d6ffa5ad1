"""Egress: whether a job's containers may reach the internet.

A job asks with `meta.crowdcompute.egress: true` (JobDefinition.needs_egress); a node
allows it only when started with --allow-egress (Executor(allow_egress=True)). Even then
the job reaches no private or host address (host_fence.py's egress rules); without it the
job's network is internal, as every job's is.
"""

from __future__ import annotations

from ...client.jobspec.model import JobDefinition

__all__ = ["egress_refusal", "EGRESS_REFUSAL"]

EGRESS_REFUSAL = "needs egress (meta.crowdcompute.egress) and this node does not allow it (--allow-egress)"


def egress_refusal(definition: JobDefinition, allow_egress: bool) -> str | None:
    return EGRESS_REFUSAL if definition.needs_egress and not allow_egress else None
