"""`crowd node status` shows the node's image cache: the record the cache keeps in the
state folder (images.json), read back as status JSON and printed a line per image."""

from __future__ import annotations

import json
import time

from crowdcompute.cli.node_render import IMAGE_ROWS, image_cache_lines
from crowdcompute.worker.engine import Engine
from crowdcompute.worker.images import CACHE_FILE, ImageCache, cache_status
from crowdcompute.worker.images.record import Entry, Record


def test_a_pulling_cache_records_its_budget_before_its_first_pull(tmp_path):
    engine = Engine(base_url="unix:///nonexistent/engine.sock")  # never called: recording the budget needs none
    try:
        ImageCache(engine, 5 << 30, tmp_path / CACHE_FILE, pull=True)
        assert cache_status(tmp_path / CACHE_FILE) == {"budget": 5 << 30, "held": 0, "images": []}
        assert image_cache_lines(cache_status(tmp_path / CACHE_FILE)) == ["images   none pulled yet; cache of 5.0 GiB"]
        ImageCache(engine, 5 << 30, tmp_path / "other.json", pull=False)
        assert cache_status(tmp_path / "other.json") is None  # a node that does not pull keeps no cache
        assert image_cache_lines(None) == ["images   no image cache record (the node has not pulled here)"]
    finally:
        engine.close()


def test_status_lists_the_images_most_recently_used_first_with_sizes_and_budget(tmp_path):
    record = Record(tmp_path / CACHE_FILE, 1 << 30)
    now = time.time()
    record.images["127.0.0.1:5000/old:1"] = Entry("sha256:aa", 3 << 20, now - 100, now - 100)
    record.images["127.0.0.1:5000/new:1"] = Entry("sha256:bb", 1 << 20, now - 50, now - 1)
    record.save()
    status = cache_status(tmp_path / CACHE_FILE)
    assert status["budget"] == 1 << 30 and status["held"] == 4 << 20
    assert [row["image"] for row in status["images"]] == ["127.0.0.1:5000/new:1", "127.0.0.1:5000/old:1"]
    json.dumps(status)  # the status JSON carries it as it is
    lines = image_cache_lines(status)
    assert lines[0] == "images   2 pulled, 4.0 MiB of a 1.0 GiB cache"
    used = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 1))
    assert lines[1] == f"         127.0.0.1:5000/new:1  1.0 MiB, last used {used}"
    assert lines[2].startswith("         127.0.0.1:5000/old:1  3.0 MiB, last used ")


def test_a_long_cache_is_listed_up_to_a_bound_and_a_damaged_record_is_read_safely(tmp_path):
    path = tmp_path / CACHE_FILE
    rows = {f"r/i{n}:1": {"id": f"sha256:{n}", "size": 10, "pulled_at": n, "last_used": n} for n in range(IMAGE_ROWS + 5)}
    rows["r/bad:1"] = {"id": "sha256:x", "size": "lots"}  # damaged: skipped, never removed by the cache
    path.write_text(json.dumps({"budget": "?", "images": rows}))
    status = cache_status(path)
    assert len(status["images"]) == IMAGE_ROWS + 5 and status["budget"] == 0
    lines = image_cache_lines(status)
    assert len(lines) == 1 + IMAGE_ROWS + 1 and lines[-1] == "         ... and 5 more"
    path.write_text("not json")
    assert cache_status(path) is None


def test_the_node_flags_reach_the_executor_arguments(tmp_path):
    import argparse

    from crowdcompute.worker.executor_factory import images_options
    from crowdcompute.worker.images import IMAGE_CACHE_BUDGET, MAX_IMAGE_SIZE, PULL_TIMEOUT_S
    from crowdcompute.worker.options import add_start_arguments

    parser = argparse.ArgumentParser()
    add_start_arguments(parser)
    default = images_options(parser.parse_args(["--market", "M"]), tmp_path)
    assert default == {"pull": True, "pull_timeout": PULL_TIMEOUT_S, "max_image_size": MAX_IMAGE_SIZE,
                       "image_cache": IMAGE_CACHE_BUDGET, "image_record": tmp_path / CACHE_FILE}
    given = images_options(parser.parse_args(["--market", "M", "--no-pull", "--pull-timeout", "2m", "--max-image-size", "3GiB",
                                              "--image-cache", "40GiB"]), tmp_path)
    assert given["pull"] is False and given["pull_timeout"] == 120 and given["max_image_size"] == 3 << 30
    assert given["image_cache"] == 40 << 30
