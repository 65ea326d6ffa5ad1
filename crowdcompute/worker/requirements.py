"""Whether this node can run a job definition: a GPU job on a node without a GPU, or one
asking more VRAM than the node's smallest GPU has, is refused with the reason (and settled
with a bundle that says so, so the poster learns why at once).

The smallest piece the node needs; health.py (the node's health report) checks markets and
jobs against the whole report."""

from __future__ import annotations

from typing import Any

from ..client.jobspec import vram_satisfies

__all__ = ["job_problem"]


def job_problem(definition: Any, *, gpus: int, vram_bytes: int) -> str | None:
    if definition.gpu and gpus <= 0:
        return "the job asks for a GPU (an op has gpu: true) and this node has none"
    needed = definition.required_vram
    if needed and gpus > 0 and vram_bytes and not vram_satisfies(needed, vram_bytes):
        return f"the job asks for {needed} GB of VRAM and this node's GPUs have {round(vram_bytes / 2**30)} GB"
    if needed and gpus <= 0:
        return f"the job asks for {needed} GB of VRAM and this node has no GPU"
    return None
