"""`crowd node status` shows the node's resource cache: its record in the state folder
(resources.json, written by the cache with its budget), read without the engine."""

from __future__ import annotations

import json
import time

from crowdcompute.cli.node_render import IMAGE_ROWS, resource_cache_lines
from crowdcompute.worker.resources.cache import STATE_FILE
from crowdcompute.worker.resources.status import resource_status


def entry(source: str, size: int, used: float, *, pinned: bool = False) -> dict:
    return {"key": source, "volume": "cc-res-x", "kind": "HF", "source": source, "digest": "abc", "size": size,
            "last_used": used, "pinned": pinned}


def test_the_cache_is_listed_most_recently_used_first_with_its_pins_and_budget(tmp_path):
    now = time.time()
    path = tmp_path / STATE_FILE
    path.write_text(json.dumps({"version": 1, "budget": 1 << 30, "entries": [
        entry("hf://old/model@main", 3 << 20, now - 100), entry("s3://b/data", 1 << 20, now - 1, pinned=True)]}))
    status = resource_status(path)
    assert status["budget"] == 1 << 30 and status["held"] == 4 << 20
    assert [(r["source"], r["pinned"]) for r in status["resources"]] == [("s3://b/data", True), ("hf://old/model@main", False)]
    lines = resource_cache_lines(status)
    assert lines[0] == "resources 2 held, 4.0 MiB of a 1.0 GiB cache"
    assert lines[1].startswith("          s3://b/data  1.0 MiB, last used ") and lines[1].endswith(", pinned (--prefetch)")
    assert lines[2].startswith("          hf://old/model@main  3.0 MiB")


def test_no_record_a_damaged_one_and_a_long_one(tmp_path):
    assert resource_status(tmp_path / STATE_FILE) is None
    assert resource_cache_lines(None) == ["resources no resource cache record (the node has fetched none here)"]
    path = tmp_path / STATE_FILE
    path.write_text("{not json")
    assert resource_status(path)["resources"] == []
    rows = [entry(f"hf://r/m{n}@main", 10, n) for n in range(IMAGE_ROWS + 3)] + [{"source": "damaged"}]
    path.write_text(json.dumps({"entries": rows}))
    status = resource_status(path)
    assert len(status["resources"]) == IMAGE_ROWS + 3 and status["budget"] is None
    lines = resource_cache_lines(status)
    assert lines[0] == "resources 13 held, 130 bytes" and lines[-1] == "          ... and 3 more"
