"""Streamed capture gives what the bundle's whole-log functions give, from any chunking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcompute.client.bundle import LOG_CAP, OUTPUT_FILE_CAP, FileDigest, Log, capture_outputs
from crowdcompute.client.jobspec import ResultRule, extract_results
from crowdcompute.worker.logs import LINE_CAP, JobLog, OpOutput, ResultScanner, StreamCapture

SMALL_CAP = 64  # the same code at a cap small enough for hypothesis to cross it

chunked = st.lists(st.binary(max_size=50) | st.sampled_from([b"\n", b"a\nb", b"\xc3", b"\xa9\n"]), max_size=30)


@given(chunked)
def test_stream_capture_equals_whole_capture(chunks):
    capture = StreamCapture(SMALL_CAP)
    for chunk in chunks:
        capture.feed(chunk)
    assert capture.log() == Log.capture(b"".join(chunks), SMALL_CAP)


@given(chunked)
def test_lines_come_out_whole_whatever_the_chunking(chunks):
    capture = StreamCapture(SMALL_CAP)
    lines = [line for chunk in chunks for line in capture.feed(chunk)] + capture.finish()
    data = b"".join(chunks)
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    assert lines == expected


def test_a_line_without_end_is_cut_at_line_cap():
    capture = StreamCapture()
    assert capture.feed(b"x" * (LINE_CAP * 3)) == []
    assert capture.feed(b"yy\nz") == [b"x" * LINE_CAP]
    assert capture.finish() == [b"z"]
    assert capture.size == LINE_CAP * 3 + 4


RULES = (
    ResultRule("n", r"n=(\d+)"),
    ResultRule("err", r"E(\w)", ("stderr",)),
    ResultRule("word", r"(?P<w>[a-z]+)!"),
)


@settings(max_examples=50)
@given(st.lists(st.tuples(st.sampled_from(["stdout", "stderr"]), st.sampled_from(
    [b"n=1\n", b"n=22 ", b"Ex\n", b"hi!\n", b"\n", b"n=3\nEy", b"zz!"])), max_size=25))
def test_result_scanner_equals_extract_results_over_the_whole_log(frames):
    """Batches and chunk boundaries do not change what `results` extracts."""
    output = OpOutput("op", RULES, _NullLog())
    for stream, data in frames:
        output.feed(stream, data)
    output.end_attempt()
    stdout = b"".join(d for s, d in frames if s == "stdout").decode()
    stderr = b"".join(d for s, d in frames if s == "stderr").decode()
    assert output.scanner.results() == extract_results(RULES, stdout, stderr)


def test_job_log_stops_at_its_cap_with_a_marker(tmp_path):
    log = JobLog(tmp_path / "j.log", file_cap=200)
    for i in range(20):
        log.lines("op", "stdout", [f"line {i}".encode()])
    log.close()
    text = (tmp_path / "j.log").read_text()
    assert len(text.encode()) < 200 + 120
    assert text.endswith("the result bundle keeps each stream's head, tail and size]\n")
    assert "op stdout| line 0\n" in text


def test_log_from_ends_matches_capture_at_the_real_cap():
    data = bytes(range(256)) * (LOG_CAP // 128 + 3)
    half = LOG_CAP // 2
    assert Log.from_ends(data[:half], data[-half:], len(data)) == Log.capture(data)


def test_file_digest_keeps_size_and_hash_only():
    (entry,) = capture_outputs([("/o/big", FileDigest(OUTPUT_FILE_CAP + 1, "ab" * 32))])
    assert (entry.size, entry.sha256, entry.content) == (OUTPUT_FILE_CAP + 1, "ab" * 32, None)
    assert entry.error == f"larger than {OUTPUT_FILE_CAP} bytes: content left out"


def test_results_scanner_without_rules_keeps_nothing():
    scanner = ResultScanner(())
    scanner.lines("stdout", [b"a"] * 1000)
    assert scanner.results() == {} and scanner._pending["stdout"] == []


class _NullLog:
    def lines(self, *args):
        pass
