"""Whether this node can take a job or serve a market, and if not, why (one sentence).

`required_vram` is in GB as Nosana's markets count it (jobspec README); a card's total
is rounded to whole GiB before comparing (`vram_satisfies`), so a "24 GB" card meets 24.
Asking for VRAM implies asking for a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..client.jobspec import JobDefinition, Limits, vram_satisfies
from ..client.jobspec.kinds import wants_gpu
from .health import NodeReport
from .limits import definition_over_node


@dataclass(frozen=True)
class Requirements:
    gpu: bool = False
    required_vram: float | None = None  # GB

    @classmethod
    def of(cls, definition: JobDefinition) -> Requirements:
        return cls(wants_gpu(definition), definition.required_vram)

    @property
    def needs_gpu(self) -> bool:
        return self.gpu or bool(self.required_vram)


def refusal(
    needs: Requirements | JobDefinition,
    report: NodeReport,
    *,
    what: str = "job",
    limits: Limits | None = None,
) -> str | None:
    """Why this node cannot run `needs` (a job's definition or a market's requirements),
    or None when it can. `limits`: the node's ceilings, checked against a definition's
    meta.crowdcompute limits."""
    definition = needs if isinstance(needs, JobDefinition) else None
    if definition is not None:
        needs = Requirements.of(definition)
    assert isinstance(needs, Requirements)
    if not report.engine.reachable:
        return f"this node cannot run containers: its container engine is unreachable ({report.engine.error})"
    if needs.needs_gpu:
        vram = f" with {needs.required_vram:g} GB VRAM" if needs.required_vram else ""
        gpus = report.gpu.gpus
        if not gpus:
            return f"{what} needs a GPU{vram}; this node has none"
        if not any(vram_satisfies(needs.required_vram, gpu.memory_total) for gpu in gpus):
            best = max(gpus, key=lambda gpu: gpu.memory_total)
            return (
                f"{what} needs a GPU{vram}; this node's largest has "
                f"{round(best.memory_total / 2**30)} GB ({best.name})"
            )
    if definition is not None and limits is not None:
        return definition_over_node(definition, limits)
    return None
