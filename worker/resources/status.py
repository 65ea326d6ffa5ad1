"""What `crowd node status` shows of the resource cache, read from its record
(`resources.json` in the node's state folder) without the engine: the resources held, most
recently used first, their sizes, the market's pinned ones (--prefetch), and the budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["resource_status"]


def resource_status(path: Path) -> dict[str, Any] | None:
    """{"budget", "held", "resources": [{"source", "kind", "size", "digest", "last_used",
    "pinned"}, ...]}; None when there is no record (the node never fetched here)."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"budget": 0, "held": 0, "resources": [], "error": f"{path.name} is unreadable"}
    rows = []
    for entry in raw.get("entries") or [] if isinstance(raw, dict) else []:
        try:
            rows.append({"source": str(entry["source"]), "kind": str(entry["kind"]), "size": int(entry["size"]),
                         "digest": str(entry["digest"]), "last_used": float(entry["last_used"]),
                         "pinned": bool(entry.get("pinned"))})
        except (KeyError, TypeError, ValueError):
            continue  # a damaged row says nothing
    rows.sort(key=lambda r: -r["last_used"])
    budget = raw.get("budget") if isinstance(raw, dict) else None
    return {"budget": budget if isinstance(budget, int) else None, "held": sum(r["size"] for r in rows), "resources": rows}
