"""The result bundle: canonical bytes, explicit truncation, strict reading back."""

from __future__ import annotations

import hashlib
import json

import pytest

from crowdcompute.client.bundle import (
    LOG_CAP,
    OUTPUT_FILE_CAP,
    Bundle,
    BundleError,
    Log,
    OpRecord,
    capture_outputs,
    timestamp,
)


def sample(**changes) -> Bundle:
    op = OpRecord(
        id="train", exit_code=0, error=None, started_at=timestamp(1_700_000_000), ended_at=timestamp(1_700_000_002.25),
        stdout=Log.capture("loss=0.1 é\n".encode()), stderr=Log.capture(b""),
        results={"loss": ["0.1"]}, outputs=capture_outputs([("/out/model.bin", b"\x00\x01"), ("/out/missing", None)]),
    )
    missing = OpRecord(id="never", error="image not found: alpine:nope")
    fields = dict(job="Job1", node="Node1", definition="QmDef", status="failed",
                  started_at=timestamp(1_700_000_000), ended_at=timestamp(1_700_000_003), ops=(op, missing))
    fields.update(changes)
    return Bundle(**fields)


def test_same_run_same_bytes_and_round_trip():
    a, b = sample().to_bytes(), sample().to_bytes()
    assert a == b
    assert Bundle.from_bytes(a) == sample()
    assert a == json.dumps(json.loads(a), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "é".encode() in a  # UTF-8, not \\u escapes


def test_times_are_rfc3339_utc_milliseconds():
    assert timestamp(1_700_000_002.25) == "2023-11-14T22:13:22.250Z"


def test_large_logs_are_cut_with_a_marker_and_the_original_size():
    data = b"a" * LOG_CAP + b"b" * 100
    log = Log.capture(data)
    assert log.truncated and log.size == len(data)
    assert f"[crowdcompute: 100 bytes left out here; the log held {len(data)} bytes]" in log.text
    assert log.text.endswith("b" * 100)
    assert not Log.capture(b"x" * LOG_CAP).truncated


def test_outputs_keep_hash_and_size_and_say_why_content_is_missing():
    big = b"z" * (OUTPUT_FILE_CAP + 1)
    small, large, gone = capture_outputs([("/o/s", b"hi"), ("/o/l", big), ("/o/g", None)])
    assert (small.content, small.size, small.sha256) == (b"hi", 2, hashlib.sha256(b"hi").hexdigest())
    assert large.content is None and large.size == len(big) and "content left out" in large.error
    assert (gone.size, gone.error) == (None, "not found")


def test_reading_back_refuses_tampering_and_non_canonical_bytes():
    good = json.loads(sample().to_bytes())
    good["ops"][0]["outputs"][0]["content"] = "AAAA"
    good["ops"][1]["exit_code"] = None
    good["ops"][1]["error"] = None
    good["status"] = "fine"
    good["extra"] = 1
    data = json.dumps(good, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(BundleError) as info:
        Bundle.from_bytes(data)
    assert [str(p) for p in info.value.problems] == [
        "extra: unknown field",
        "status: expected succeeded or failed or timed-out or stopped, got 'fine'",
        "ops[0].outputs[0].content: does not match size and sha256",
        "ops[1].error: required when exit_code is null (say why the op has no exit)",
    ]
    spaced = json.dumps(json.loads(sample().to_bytes()), sort_keys=True).encode()
    with pytest.raises(BundleError, match="not in canonical form"):
        Bundle.from_bytes(spaced)


def test_to_bytes_refuses_what_from_bytes_would_refuse():
    with pytest.raises(BundleError, match="started_at"):
        sample(started_at="yesterday").to_bytes()


def test_render_for_people():
    text = sample().render()
    assert text.splitlines()[:3] == [
        "job Job1: failed",
        "node Node1, definition QmDef",
        "ran 2023-11-14T22:13:20.000Z .. 2023-11-14T22:13:23.000Z (3.000 s)",
    ]
    assert "== op train: exit 0 (2.250 s)" in text
    assert "loss=0.1 é" in text and 'result loss = ["0.1"]' in text
    assert "file /out/missing: not found" in text
    assert "== op never: did not run to an exit: image not found: alpine:nope (no times)" in text
