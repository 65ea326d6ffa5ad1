"""Job logs in the node's state folder: settled ones removed after the retention, all within a budget."""

from __future__ import annotations

import os

from crowdcompute.worker.log_retention import prune_logs

NOW = 1_000_000.0


def write(folder, job: str, size: int, age_s: float) -> None:
    path = folder / f"{job}.log"
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age_s, NOW - age_s))


def test_settled_logs_past_the_retention_go_and_running_jobs_logs_stay(tmp_path):
    write(tmp_path, "old", 10, age_s=8 * 86400)
    write(tmp_path, "running", 10, age_s=30 * 86400)  # a long job: still running, kept
    write(tmp_path, "recent", 10, age_s=3600)
    removed = prune_logs(tmp_path, keep={"running"}, retention_s=7 * 86400, budget=1 << 30, now=NOW)
    assert removed == ["old"]
    assert sorted(p.stem for p in tmp_path.glob("*.log")) == ["recent", "running"]


def test_over_the_budget_the_oldest_settled_logs_go_first(tmp_path):
    for i, job in enumerate(["a", "b", "c", "d"]):
        write(tmp_path, job, 400, age_s=100 - i)  # a is the oldest
    write(tmp_path, "live", 400, age_s=1000)
    removed = prune_logs(tmp_path, keep={"live"}, retention_s=7 * 86400, budget=1000, now=NOW)
    assert removed == ["a", "b", "c"]  # 2,000 bytes -> 800, the running job's log untouched
    assert sum(p.stat().st_size for p in tmp_path.glob("*.log")) == 800
