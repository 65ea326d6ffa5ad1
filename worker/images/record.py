"""The image cache's record in the node's state folder (images.json): the images this node
pulled, each with its engine id, size and last use, and the cache's budget.

    {"budget": 107374182400,
     "images": {"127.0.0.1:5000/tools:1": {"id": "sha256:...", "size": 2048, "pulled_at": 1.7e9, "last_used": 1.7e9}}}

Only images in the record are ever removed by the cache: an image the operator put on the
engine, or another node's, is never touched. Written whole to a temporary file and renamed,
so a crash leaves the old record or the new one. `crowd node status` reads it (`cache_status`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["CACHE_FILE", "Entry", "Record", "read", "cache_status"]

CACHE_FILE = "images.json"


@dataclass
class Entry:
    id: str
    size: int
    pulled_at: float
    last_used: float


class Record:
    def __init__(self, path: Path, budget: int) -> None:
        self.path = Path(path)
        self.budget = budget
        self.images: dict[str, Entry] = _entries(read(self.path))

    @property
    def held(self) -> int:
        return sum(e.size for e in self.images.values())

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"budget": self.budget, "images": {k: asdict(v) for k, v in self.images.items()}}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(body, indent=1, sort_keys=True))
        os.replace(temporary, self.path)


def read(path: Path) -> dict[str, Any] | None:
    """The record as JSON, or None when there is none (or it cannot be read)."""
    try:
        found = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def cache_status(path: Path) -> dict[str, Any] | None:
    """What `crowd node status` shows: {"budget", "held", "images": [{"image", "size",
    "last_used", "pulled_at"}, ...] most recently used first}; None when there is no record
    (the node never pulled, or never ran with this state folder)."""
    found = read(path)
    if found is None:
        return None
    entries = sorted(_entries(found).items(), key=lambda kv: -kv[1].last_used)
    return {"budget": _int(found.get("budget")), "held": sum(e.size for _, e in entries),
            "images": [{"image": k, "size": e.size, "last_used": e.last_used, "pulled_at": e.pulled_at} for k, e in entries]}


def _entries(found: dict[str, Any] | None) -> dict[str, Entry]:
    images = (found or {}).get("images")
    out: dict[str, Entry] = {}
    for image, row in (images.items() if isinstance(images, dict) else ()):
        try:
            out[str(image)] = Entry(str(row["id"]), int(row["size"]), float(row["pulled_at"]), float(row["last_used"]))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged row: that image is no longer the cache's (never removed by it)
    return out


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
