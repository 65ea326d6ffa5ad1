"""The image cache's record in the node's state folder (images.json): the images this node
pulled, each with its engine id, size and last use, and the cache's budget.

    {"budget": 68719476736,
     "images": {"127.0.0.1:5000/tools:1": {"id": "sha256:...", "size": 2048, "pulled_at": 1.7e9, "last_used": 1.7e9}}}

Only images in the record are ever removed by the cache: an image the operator put on the
engine, or another node's, is never touched. Written whole to a temporary file and renamed,
so a crash leaves the old record or the new one. `crowd node status` reads it (`read`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["CACHE_FILE", "Entry", "Record", "read"]

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
        self.images: dict[str, Entry] = {}
        found = read(self.path)
        for image, row in (found or {}).get("images", {}).items():
            try:
                self.images[image] = Entry(str(row["id"]), int(row["size"]), float(row["pulled_at"]), float(row["last_used"]))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged row: that image is no longer the cache's (never removed by it)

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
