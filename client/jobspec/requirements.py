"""Whether a node meets a definition's `required_vram`.

Nosana counts VRAM in whole GB as GPUs are sold (its dashboard compares
`meta.system_requirements.required_vram` with a market's `lowest_vram`). A "24 GB" card
reports 24564 MiB, just under 24 GiB, so the node's total is rounded to the nearest GiB
before comparing: a 24 GB card meets `required_vram: 24`.
"""

from __future__ import annotations


def vram_satisfies(required_gb: float | None, total_bytes: int) -> bool:
    if required_gb is None:
        return True
    return round(total_bytes / 2**30) >= required_gb
