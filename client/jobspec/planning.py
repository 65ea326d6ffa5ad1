"""Execution plan: stages (Nosana's groups) in order, ops of a stage in parallel.

Nosana's TaskManager runs one group at a time, in order of first appearance; an op with
no group is a group of its own named by its id. Inside a group every op starts at once
except those with `depends_on`, which wait. Nosana starts a dependent once its
dependency has *started* (or passed a health check). Here a dependent starts once each
dependency has *ended* (whatever its exit code, as in Nosana), which is what makes
`%%ops.<id>.results.<key>%%` known by then; except a dependency that exposes a port (a
service, which runs until the job ends): that one needs only to be *up*, its first health
checks passed (or running, when it has none), as in Nosana.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Iterable, Sequence

from .model import JobDefinition, Operation


@dataclass(frozen=True)
class Stage:
    group: str
    ops: tuple[Operation, ...]

    def ready(self, ended: Collection[str], up: Collection[str] = ()) -> list[Operation]:
        """Ops of this stage, not yet ended, whose dependencies have all ended, or are up
        (`up`: service ops whose first health checks passed, or that run and have none).

        The worker starts each returned op it has not started yet, and calls again as
        ops end or come up; the stage is over when every op has ended.
        """
        return [
            op
            for op in self.ops
            if op.id not in ended and all(dep in ended or dep in up for dep in op.execution.depends_on)
        ]


def group_order(ops: Iterable[Operation]) -> dict[str, int]:
    """Group name -> its position, by first appearance."""
    order: dict[str, int] = {}
    for op in ops:
        order.setdefault(op.execution.group, len(order))
    return order


def plan(definition: JobDefinition) -> tuple[Stage, ...]:
    order = group_order(definition.ops)
    members: dict[str, list[Operation]] = {group: [] for group in order}
    for op in definition.ops:
        members[op.execution.group].append(op)
    return tuple(Stage(group, tuple(ops)) for group, ops in members.items())


def find_cycle(ops: Sequence[Operation]) -> list[str] | None:
    """A dependency cycle among `ops` as [a, b, ..., a], or None; deterministic (file order)."""
    deps = {op.id: [d for d in op.execution.depends_on] for op in ops}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in deps.get(node, ()):
            if dep not in deps:
                continue
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for op in ops:
        if op.id not in state:
            found = visit(op.id)
            if found:
                return found
    return None


def ancestors(ops: Sequence[Operation], op_id: str) -> set[str]:
    """Every op that `op_id` waits for through depends_on, transitively."""
    deps = {op.id: op.execution.depends_on for op in ops}
    seen: set[str] = set()
    todo = list(deps.get(op_id, ()))
    while todo:
        dep = todo.pop()
        if dep in seen or dep not in deps:
            continue
        seen.add(dep)
        todo.extend(deps[dep])
    return seen


def ended_before(ops: Sequence[Operation], producer: str, consumer: str) -> bool:
    """Whether `producer` has certainly ended when `consumer` starts: an earlier group, or
    the same group and a (transitive) dependency that is not a service (a dependent waits
    for a service to be up, not to end; every op on the chain between them started after
    the one before it was up or ended, so only the producer's own kind matters)."""
    by_id = {op.id: op for op in ops}
    order = group_order(ops)
    p, c = by_id[producer], by_id[consumer]
    gp, gc = order[p.execution.group], order[c.execution.group]
    if gp != gc:
        return gp < gc
    return not p.is_service and producer in ancestors(ops, consumer)
