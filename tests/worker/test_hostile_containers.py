"""Hostile jobs on the real engine: each is contained, reported, and the next job runs."""

from __future__ import annotations

import time
import tracemalloc

from crowdcompute.client.bundle import LOG_CAP, parse_timestamp

from .conftest import assert_runs_normally, definition, op, run_job


def test_fork_bomb_meets_the_pids_limit_and_its_timeout(executor):
    """pids 64: forks fail ("can't fork") instead of exhausting the host; pid 1 spins on
    builtins until the op's 3 s timeout, then is killed (SIGKILL after the grace)."""
    defn = definition(
        [op("bomb", "bomb() { bomb | bomb & }; bomb; while :; do :; done")],
        meta={"bomb": {"limits": {"timeout": 3, "pids": 64, "cpus": 0.5}}},
    )
    bundle, job = run_job(executor, defn)
    bomb = bundle.ops[0]
    assert "can't fork" in bomb.stderr.text, bundle.render()
    assert bomb.error.startswith("stopped at its timeout of 3 s")
    assert bomb.exit_code == 137
    assert bundle.status == "failed"
    assert_runs_normally(executor, job)


def test_memory_hog_is_oom_killed_and_reported(executor):
    """32 MiB and no swap: the shell holding 200 MB is killed by the kernel, exit 137."""
    defn = definition(
        [op("hog", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}")],
        meta={"hog": {"limits": {"memory": "32MiB"}}},
    )
    bundle, job = run_job(executor, defn)
    hog = bundle.ops[0]
    assert hog.exit_code == 137, bundle.render()
    assert hog.error == "killed: out of memory (limit 32 MiB)"
    assert "survived" not in hog.stdout.text
    assert_runs_normally(executor, job)


def test_output_flood_is_capped_with_a_marker_and_never_held_whole(make_executor):
    """40 MB of output: the bundle keeps 1 MiB around a marker, results still see a line
    from the middle (over the full log), the log file stops at its cap, and the node's
    Python memory stays far below the flood's size."""
    executor = make_executor(log_file_cap=2 << 20)
    line = "0123456789" * 10
    flood = f"yes {line} | head -c 20000000"
    defn = definition([op("flood", f"{flood}; echo; echo needle=found; {flood}; echo; echo the-end",
                          results={"needle": "needle=(\\w+)"})])
    tracemalloc.start()
    try:
        bundle, job = run_job(executor, defn)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    flood_op = bundle.ops[0]
    size = 2 * 20_000_000 + 2 + len("needle=found\n") + len("the-end\n")
    assert flood_op.exit_code == 0, bundle.render()
    assert flood_op.stdout.size == size and flood_op.stdout.truncated
    assert f"bytes left out here; the log held {size} bytes]" in flood_op.stdout.text
    assert flood_op.stdout.text.endswith("the-end\n")
    assert "needle" not in flood_op.stdout.text  # cut from the bundle, yet found:
    assert flood_op.results == {"needle": ("needle=found", "found")}
    log_file = executor.log_path(job)
    assert log_file.stat().st_size < (2 << 20) + 4096
    assert "this log file stops at 2097152 bytes" in log_file.read_text()
    assert peak < 8 * LOG_CAP, f"peak {peak} bytes traced while streaming {size} bytes"
    assert_runs_normally(executor, job)


def test_sigterm_ignored_is_killed_after_grace_before_the_deadline(make_executor):
    """The op traps SIGTERM: at deadline - reserve it gets SIGTERM, then SIGKILL after the
    1 s grace (exit 137, not 143), and the bundle is ready before the deadline."""
    executor = make_executor(reserve=5.0, stop_grace=1.0)
    defn = definition([op("stubborn", "trap 'echo got-term' TERM; echo ready; while :; do sleep 1; done"),
                       op("next", "echo never")])
    started = time.time()
    bundle, job = run_job(executor, defn, seconds=10)
    deadline = started + 10
    stubborn, after = bundle.ops
    assert bundle.status == "timed-out", bundle.render()
    assert stubborn.stdout.text.startswith("ready\n")
    assert stubborn.exit_code == 137
    assert stubborn.error == "stopped: the job's deadline came (SIGTERM, then SIGKILL after 1 s)"
    assert after.error == "not run: the job's deadline came first"
    assert parse_timestamp(bundle.ended_at).timestamp() < deadline
    assert_runs_normally(executor, job)


def test_writes_outside_the_work_dir_are_refused(executor):
    """Read-only root: /etc, /bin and / refuse writes; the work dir, /tmp and the output's
    folder take them, and the output comes back in the bundle."""
    script = (
        "for f in /etc/evil /bin/evil /evil; do echo x > $f || echo refused $f; done; "
        "echo in-work > /work/w.txt && echo in-tmp > /tmp/t.txt && echo result > /out/r.txt && echo wrote-allowed"
    )
    defn = definition([op("writer", script, work_dir="/work")], meta={"writer": {"outputs": ["/out/r.txt"]}})
    bundle, job = run_job(executor, defn)
    writer = bundle.ops[0]
    assert writer.stdout.text == "refused /etc/evil\nrefused /bin/evil\nrefused /evil\nwrote-allowed\n", bundle.render()
    assert writer.stderr.text.count("Read-only file system") == 3
    assert writer.outputs[0].content == b"result\n"
    assert_runs_normally(executor, job)


def test_catastrophic_backtracking_regex_ends_in_time(executor):
    """`^(a+)+$` over 51-character lines froze a node on Python's `re`; RE2 is linear."""
    started = time.time()
    defn = definition([op("redos", "i=0; while [ $i -lt 200 ]; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!; "
                                   "i=$((i+1)); done; echo aaaa",
                          results={"x": "^(a+)+$"})])
    bundle, job = run_job(executor, defn, seconds=30)
    assert bundle.status == "succeeded", bundle.render()
    assert bundle.ops[0].results == {"x": ("aaaa", "aaaa")}
    assert time.time() - started < 15
    assert_runs_normally(executor, job)


def test_results_past_the_nodes_cpu_budget_fail_the_op_with_the_reason(make_executor):
    executor = make_executor(match_budget_s=0.05)
    rules = {f"r{i}": f"(x{i}|y{i})+z" for i in range(32)}
    defn = definition([op("lines", "yes 0123456789abcdef | head -c 8000000; echo x1z", results=rules)])
    bundle, job = run_job(executor, defn, seconds=60)
    lines = bundle.ops[0]
    assert lines.exit_code == 0 and bundle.status == "failed", bundle.render()
    assert "results: matching stopped after" in lines.error and "this node allows 0.05 s per op" in lines.error
    assert_runs_normally(executor, job)


def test_many_parallel_ops_stop_at_the_deadline_and_a_job_over_the_op_cap_is_refused(tmp_path, test_image, docker_api):
    """16 ops that ignore SIGTERM (sleep as pid 1) on an engine with 4 threads: waits hold no
    pool thread and stops go through the control pool, so the run ends at its deadline
    (it used to overrun by the ops' whole sleep, stops queued behind waits)."""
    from crowdcompute.worker.engine import Engine
    from crowdcompute.worker.executor import Executor

    from .conftest import NODE, TEST_LIMITS

    engine = Engine(timeout=30, max_workers=4, control_workers=2)
    try:
        executor = Executor(engine, work_dir=tmp_path / "work", log_dir=tmp_path / "logs", limits=TEST_LIMITS,
                            stop_grace=1.0, reserve=2.0, node=NODE, max_ops=16)
        many = definition([op(f"s{i}", ["sleep", "40"], execution={"group": "all"}) for i in range(16)])
        started = time.time()
        bundle, job = run_job(executor, many, seconds=12)
        took = time.time() - started
        assert bundle.status == "timed-out", bundle.render()
        assert took < 12 + 3, f"the run took {took:.1f} s for a 12 s deadline"
        for record in bundle.ops:
            assert record.error.startswith(("stopped: the job's deadline came", "not run: the job's deadline came first")), record
        assert all(r.exit_code == 137 for r in bundle.ops), bundle.render()  # all started, all stopped

        too_many = definition([op(f"s{i}", ["true"]) for i in range(17)])
        bundle, job = run_job(executor, too_many)
        assert bundle.status == "failed"
        assert {r.error for r in bundle.ops} == {"not run: the job has 17 ops; this node runs at most 16 per job"}
        assert not docker_api.networks(filters={"label": f"crowdcompute.job={job}"})
        assert_runs_normally(executor, job)
    finally:
        engine.close()


def test_many_ops_of_large_logs_are_cut_to_the_bundles_cap_and_say_so(make_executor):
    """6 ops x 2 streams x ~300 KB, of which control bytes JSON escapes as six: about 10 MB
    as JSON, against a 2 MiB cap (the node's default is 48 MiB, under the client's 64 MiB)."""
    cap = 2 << 20
    executor = make_executor(bundle_cap=cap)
    noisy = "head -c 300000 /dev/zero | tr '\\0' '\\1'; head -c 300000 /dev/zero | tr '\\0' '\\2' >&2; echo; echo value=42"
    defn = definition([op(f"n{i}", noisy, execution={"group": "all"}, results={"v": "value=(\\d+)"}) for i in range(6)])
    bundle, job = run_job(executor, defn)  # run_job checks the bundle reads back as valid
    assert len(bundle.to_bytes()) <= cap
    assert bundle.status == "succeeded"
    for record in bundle.ops:
        assert record.exit_code == 0 and "cut to keep the result bundle under 2097152 bytes: stdout, stderr" in record.error
        assert record.stdout.truncated and record.stdout.size == 300_000 + len("\nvalue=42\n")
        assert "[crowdcompute: cut here to keep the result bundle within its cap" in record.stdout.text
        assert record.results == {"v": ("value=42", "42")}  # results survive: logs are cut first
    assert_runs_normally(executor, job)


def test_writing_past_the_disk_budget_stops_the_job_with_the_reason(make_executor, docker_api):
    """16 MiB every 0.2 s into its work folder (a volume on the host's disk), against a
    64 MiB budget: the node's check (every second) stops it, the volume goes with the job."""
    executor = make_executor(disk_budget=64 << 20)
    writer = "i=0; while :; do dd if=/dev/zero of=f$i bs=1M count=16 2>/dev/null; i=$((i+1)); sleep 0.2; done"
    defn = definition([op("fill", ["sh", "-c", writer], work_dir="/data", execution={"group": "g"}),
                       op("idle", ["sleep", "30"], execution={"group": "g"})])
    started = time.time()
    bundle, job = run_job(executor, defn, seconds=60)
    fill, idle = bundle.ops
    assert bundle.status == "failed", bundle.render()
    for record in (fill, idle):  # the whole job stops, not only the writer
        assert record.exit_code == 137 and "over its disk budget of 64 MiB" in record.error, bundle.render()
    used = int(fill.error.split("volumes hold ")[1].split(" MiB")[0])
    assert 64 < used < 64 + 200  # the overshoot is what one interval lets it write
    assert time.time() - started < 20
    assert not docker_api.volumes(filters={"label": f"crowdcompute.job={job}"}).get("Volumes")
    assert_runs_normally(executor, job)
