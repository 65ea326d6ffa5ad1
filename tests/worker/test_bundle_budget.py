"""fit(): a whole bundle under its cap, each op cut fairly, logs first, and saying so."""

from __future__ import annotations

from crowdcompute.client.bundle import Bundle, Log, OpRecord, capture_outputs, timestamp
from crowdcompute.worker.bundle_budget import fit

NOW = timestamp(0)


def bundle(*ops: OpRecord) -> Bundle:
    return Bundle("job", "node", "bafydef", "succeeded", NOW, NOW, ops)


def test_a_bundle_under_its_cap_is_left_as_it_is():
    small = bundle(OpRecord("a", 0, None, NOW, NOW, Log.capture(b"hello\n")))
    assert fit(small, 1 << 20) is small


def test_small_ops_keep_everything_and_large_ones_lose_logs_then_results_then_outputs():
    files = capture_outputs([("/out/a.bin", b"\x00" * 300_000), ("/out/b.txt", b"b" * 10)])
    big = OpRecord("big", 0, None, NOW, NOW, Log.capture(b"x" * 900_000), Log.capture(b"\x01" * 200_000),
                   {"k": [f"value-{i:06d}" * 20 for i in range(3000)]}, files)
    small = OpRecord("small", 0, None, NOW, NOW, Log.capture(b"tiny\n"), Log(), {"k": ["v"]})
    cap = 400_000
    out = fit(bundle(big, small), cap)
    data = out.to_bytes()  # still a valid, canonical bundle
    assert len(data) <= cap
    cut, kept = out.ops
    assert kept == small  # under its fair share: untouched
    assert cut.error == f"cut to keep the result bundle under {cap} bytes: stdout, stderr, results.k, /out/a.bin"
    assert cut.stdout.truncated and cut.stdout.size == 900_000 and len(cut.stdout.text) < 200_000
    assert 0 < len(cut.results["k"]) < 3000  # the first values, in order
    assert list(cut.results["k"]) == [f"value-{i:06d}" * 20 for i in range(len(cut.results["k"]))]
    a, b = cut.outputs
    assert a.content is None and a.size == 300_000 and a.sha256 == files[0].sha256 and "left out" in a.error
    assert b.content == b"b" * 10  # what fits is kept
