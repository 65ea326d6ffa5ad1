"""Resource limits: the node's defaults and ceilings, and an op's own (meta.crowdcompute).

The node's `Limits` (Executor(limits=...)) is both the default and the ceiling: an op
that asks for less gets what it asks, an op that leaves a limit out gets the node's, and
an op that asks for more than the node allows fails before it starts, with the reason
(a silent clamp would let the poster believe the job had what it asked).
`timeout` None = no per-op timeout: the job's deadline still bounds every op.
"""

from __future__ import annotations

from dataclasses import replace

from ..client.jobspec import JobDefinition, Limits
from ..client.jobspec.kinds import has

MAX_OPS_PER_JOB = 32  # containers one job may ask for (each holds engine calls and a log thread)
DEFAULT_LIMITS = Limits(cpus=1.0, memory=2 << 30, pids=512, timeout=None)
TMPFS_SIZE = 64 << 20  # /tmp: in memory, counted against the op's memory limit


def effective(op: Limits, node: Limits) -> Limits:
    """The op's value where it gives one, else the node's."""
    return Limits(
        cpus=op.cpus if op.cpus is not None else node.cpus,
        memory=op.memory if op.memory is not None else node.memory,
        pids=op.pids if op.pids is not None else node.pids,
        timeout=op.timeout if op.timeout is not None else node.timeout,
    )


def complete(node: Limits | None) -> Limits:
    """The node's limits with every missing one taken from DEFAULT_LIMITS (timeout may stay None)."""
    node = node or DEFAULT_LIMITS
    return replace(effective(node, DEFAULT_LIMITS), timeout=node.timeout)


def over_node(op_id: str, op: Limits, node: Limits) -> str | None:
    """Why op `op_id` cannot run within the node's limits, or None."""
    asks = [
        ("CPUs", op.cpus, node.cpus, lambda v: f"{v:g}"),
        ("memory", op.memory, node.memory, size_text),
        ("processes", op.pids, node.pids, str),
        ("seconds of timeout", op.timeout, node.timeout, str),
    ]
    for what, wanted, ceiling, show in asks:
        if wanted is not None and ceiling is not None and wanted > ceiling:
            return f"op {op_id} asks {show(wanted)} {what}; this node allows at most {show(ceiling)}"
    return None


def definition_over_node(definition: JobDefinition, node: Limits) -> str | None:
    """The first op of `definition` that asks more than the node allows (for accepting jobs)."""
    for op in definition.ops:
        if has(op, "extension"):  # the kinds whose ops may ask limits
            reason = over_node(op.id, op.args.limits, node)
            if reason:
                return reason
    return None


def too_many_ops(definition: JobDefinition, max_ops: int) -> str | None:
    """Why this node refuses `definition` for its number of ops, or None."""
    if len(definition.ops) > max_ops:
        return f"the job has {len(definition.ops)} ops; this node runs at most {max_ops} per job"
    return None


def size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"
