"""An op's output as it streams in: the bundle's capped log, `results`, the job's log file.

The node never holds a whole log: each stream keeps its first and last LOG_CAP/2 bytes
(what the bundle keeps, `Log.from_ends`) and its size; complete lines go, in batches, to
`extract_results` (so results are taken over the whole log, before truncation) and to
the job's local log file. Memory per stream is bounded by LOG_CAP plus one batch.

Bounds a flood cannot pass, and what they cost:
  LINE_CAP        a line is matched against `results` up to its first 64 KiB (a stream
                  with no newline would otherwise be one unbounded line).
  RESULTS_CAP     an op's extracted values stop growing at 1 MiB in all.
  MATCH_BUDGET_S  CPU seconds an op's `results` may take from the node (RE2 is linear per
                  line, but a flood of lines times 32 regexes still adds up): past it,
                  matching stops and the op fails with the reason (`ResultScanner.overrun`).
  log file cap    the job's log file stops at `file_cap` bytes with a closing marker
                  line (the bundle still gets the head, the tail and the size).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Sequence

from ..client.bundle import LOG_CAP, Log
from ..client.jobspec import ResultRule, extract_results

LINE_CAP = 64 << 10
RESULTS_CAP = 1 << 20
BATCH = 256 << 10  # bytes of complete lines handed to extract_results at once
LOG_FILE_CAP = 256 << 20
MATCH_BUDGET_S = 10.0


class JobLog:
    """`<log_dir>/<job>.log`: every op's lines as they come, `time op stream| line`.

    Written from the log threads of parallel ops (hence the lock), kept after the
    containers are removed, closed with a marker line once `file_cap` bytes are written.
    """

    def __init__(self, path: Path, *, file_cap: int = LOG_FILE_CAP) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file_cap = file_cap
        self.written = 0
        self._capped = False
        self._lock = threading.Lock()
        self._file = open(path, "ab")

    def lines(self, op: str, stream: str, lines: list[bytes]) -> None:
        if not lines or self._capped:
            return
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        prefix = f"{now} {op} {stream}| ".encode()
        self._write(b"".join(prefix + line + b"\n" for line in lines))

    def note(self, text: str) -> None:
        """A line of the node's own (an op started, stopped, failed)."""
        self.lines("-", "node", [text.encode()])

    def _write(self, record: bytes) -> None:
        with self._lock:
            if self._capped or self._file.closed:
                return
            if self.written + len(record) > self.file_cap:
                self._capped = True
                self._file.write(
                    f"[crowdcompute: this log file stops at {self.file_cap} bytes; "
                    "the result bundle keeps each stream's head, tail and size]\n".encode()
                )
                self._file.flush()
                return
            self._file.write(record)
            self.written += len(record)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class StreamCapture:
    """One stream of one op: head and tail for the bundle, lines for results and the file."""

    def __init__(self, cap: int = LOG_CAP) -> None:
        self.cap = cap
        self.half = cap // 2
        self.size = 0
        self.head = bytearray()
        self.tail = bytearray()  # the last cap/2 bytes after the head
        self.partial = bytearray()  # the current line, up to LINE_CAP

    def feed(self, data: bytes) -> list[bytes]:
        """Count and keep `data`; return the lines it completed (each cut at LINE_CAP)."""
        self.size += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            rest = data[room:]
        else:
            rest = data
        if rest:
            self.tail += rest
            if len(self.tail) > self.half:
                del self.tail[: len(self.tail) - self.half]
        return self._lines(data)

    def _lines(self, data: bytes) -> list[bytes]:
        parts = data.split(b"\n")  # in C: floods of short lines stay cheap
        room = LINE_CAP - len(self.partial)
        self.partial += parts[0][: max(room, 0)]
        if len(parts) == 1:
            return []
        lines = [bytes(self.partial)]
        lines.extend(line[:LINE_CAP] for line in parts[1:-1])
        self.partial = bytearray(parts[-1][:LINE_CAP])
        return lines

    def finish(self) -> list[bytes]:
        """The last line when the stream did not end with a newline."""
        if not self.partial:
            return []
        last = bytes(self.partial)
        self.partial.clear()
        return [last]

    def log(self) -> Log:
        return Log.from_ends(bytes(self.head), bytes(self.tail), self.size, self.cap)


class ResultScanner:
    """`results` over every line of an op, in batches (extract_results does the matching)."""

    def __init__(self, rules: Sequence[ResultRule], *, budget_s: float = MATCH_BUDGET_S) -> None:
        self.rules = tuple(rules)
        self.budget_s = budget_s
        self.spent_s = 0.0  # CPU time of the matching so far (the log thread's own)
        self.overrun: str | None = None  # why matching stopped early, for the op's error
        self.found: dict[str, dict[str, list[str]]] = {
            "stdout": {rule.key: [] for rule in self.rules},
            "stderr": {rule.key: [] for rule in self.rules},
        }
        self._pending: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        self._pending_size = {"stdout": 0, "stderr": 0}
        self.kept = 0  # bytes of values kept (RESULTS_CAP)
        self.capped = False

    def lines(self, stream: str, lines: list[bytes]) -> None:
        if not self.rules or not lines or self.overrun:
            return
        self._pending[stream].extend(lines)
        self._pending_size[stream] += sum(len(line) + 1 for line in lines)
        if self._pending_size[stream] >= BATCH:
            self._flush(stream)

    def _flush(self, stream: str) -> None:
        batch = self._pending[stream]
        if not batch or self.overrun:
            return
        text = b"\n".join(batch).decode("utf-8", "replace")
        self._pending[stream] = []
        self._pending_size[stream] = 0
        stdout, stderr = (text, "") if stream == "stdout" else ("", text)
        started = time.thread_time()  # CPU, not wall time: a busy host does not eat the budget
        found = extract_results(self.rules, stdout, stderr)
        self.spent_s += time.thread_time() - started
        if self.spent_s > self.budget_s:
            self.overrun = (
                f"results: matching stopped after {self.spent_s:.1f} s of CPU (this node allows "
                f"{self.budget_s:g} s per op); values found before then are kept"
            )
        for key, values in found.items():
            for value in values:
                if self.kept + len(value) > RESULTS_CAP:
                    self.capped = True
                    return
                self.kept += len(value)
                self.found[stream][key].append(value)

    def results(self) -> dict[str, list[str]]:
        """Nosana's order: each key's stdout matches, then its stderr matches."""
        self._flush("stdout")
        self._flush("stderr")
        return {rule.key: self.found["stdout"][rule.key] + self.found["stderr"][rule.key] for rule in self.rules}


class OpOutput:
    """Both streams of one op (across its restarts), its results, and the job log."""

    def __init__(self, op: str, rules: Sequence[ResultRule], job_log: JobLog, cap: int = LOG_CAP,
                 *, match_budget_s: float = MATCH_BUDGET_S) -> None:
        self.op = op
        self.job_log = job_log
        self.streams = {"stdout": StreamCapture(cap), "stderr": StreamCapture(cap)}
        self.scanner = ResultScanner(rules, budget_s=match_budget_s)

    def feed(self, stream: str, data: bytes) -> None:
        self._lines(stream, self.streams[stream].feed(data))

    def end_attempt(self) -> None:
        """A container ended: its unterminated last lines count as lines."""
        for stream, capture in self.streams.items():
            self._lines(stream, capture.finish())

    def _lines(self, stream: str, lines: list[bytes]) -> None:
        self.job_log.lines(self.op, stream, lines)
        self.scanner.lines(stream, lines)

    def logs(self) -> tuple[Log, Log]:
        return self.streams["stdout"].log(), self.streams["stderr"].log()
