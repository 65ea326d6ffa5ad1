"""Keeps a whole result bundle under BUNDLE_CAP, so every client can fetch what it paid for.

Each stream, result list and output file has its own cap already, but a job of many ops
multiplies them (36 ops x 2 MiB of logs is over the 64 MiB a client fetches, and JSON
escapes a control byte as six), so the bundle as a whole is measured as the bytes it will
be stored as. Over the cap, every op gets a fair share of it (ops under their share keep
everything; the rest is split evenly among the others), and an op over its share is cut,
in this order, until it fits: its logs (head and tail kept around a marker, as a long
log is), then its result values (the last ones first), then its output files' contents
(size and sha256 kept). The op's `error` says what was cut and why: "cut to keep the
result bundle under N bytes: stdout, stderr, results.KEY, /path".
"""

from __future__ import annotations

from dataclasses import replace

from ..client.bundle import BUNDLE_CAP, Bundle, Log, OpRecord, OutputFile
from ..client.jobspec.canonical import canonical_json

__all__ = ["fit", "BUNDLE_CAP"]

NOTE_ROOM = 512  # bytes kept per op for the note that says what was cut


def encoded_size(value: object) -> int:
    return len(canonical_json(value))


def fit(bundle: Bundle, cap: int = BUNDLE_CAP) -> Bundle:
    """`bundle` itself when its bytes fit in `cap`, else one whose cut ops fit."""
    total = encoded_size(bundle.to_json())
    if total <= cap:
        return bundle
    sizes = [encoded_size(op.to_json()) for op in bundle.ops]
    room = cap - (total - sum(sizes)) - NOTE_ROOM * len(sizes)
    shares = _fair_shares(sizes, max(0, room))
    ops = list(bundle.ops)
    for i, (op, size, share) in enumerate(zip(bundle.ops, sizes, shares)):
        if size > share:
            ops[i] = _cut(op, share, cap)
    cut = replace(bundle, ops=tuple(ops))
    if encoded_size(cut.to_json()) > cap:  # shares too small even for the fixed fields: cut to nothing
        cut = replace(bundle, ops=tuple(_cut(op, 0, cap) for op in bundle.ops))
    return cut


def _fair_shares(sizes: list[int], room: int) -> list[int]:
    """Water-filling: the smallest ops first get all they need, the rest split what is left."""
    shares = [0] * len(sizes)
    left, count = room, len(sizes)
    for i in sorted(range(len(sizes)), key=lambda k: sizes[k]):
        share = left // count if count else 0
        shares[i] = min(sizes[i], share)
        left -= shares[i]
        count -= 1
    return shares


def _cut(op: OpRecord, share: int, cap: int) -> OpRecord:
    """`op` within `share` encoded bytes. What is kept is chosen in the reverse order of
    cutting: output files first, then result values, and the logs get what is left."""
    fixed = replace(op, stdout=_empty(op.stdout), stderr=_empty(op.stderr), results={},
                    outputs=tuple(_no_content(o) for o in op.outputs))
    rest = share - encoded_size(fixed.to_json())
    outputs, dropped = [], []
    for out in op.outputs:
        cost = encoded_size(out.to_json()) - encoded_size(_no_content(out).to_json())
        if out.content is not None and cost > rest:
            outputs.append(_no_content(out))
            dropped.append(out.path)
        else:
            outputs.append(out)
            rest -= cost
    results: dict[str, list[str]] = {}
    trimmed = []
    for key, values in op.results.items():
        results[key] = []
        for value in values:
            cost = encoded_size(value) + 1
            if cost > rest:
                trimmed.append(f"results.{key}")
                break
            results[key].append(value)
            rest -= cost
    logs = {"stdout": op.stdout, "stderr": op.stderr}
    cut_logs = []
    for name, log in logs.items():
        each = max(0, rest) // 2
        if encoded_size(log.text) > each:
            logs[name] = _cut_log(log, each)
            cut_logs.append(name)
    cuts = cut_logs + trimmed + dropped
    note = f"cut to keep the result bundle under {cap} bytes: {', '.join(cuts) or 'nothing'}"
    error = f"{op.error}; {note}" if op.error else note
    return replace(op, error=error, stdout=logs["stdout"], stderr=logs["stderr"], results=results, outputs=tuple(outputs))


def _cut_log(log: Log, room: int) -> Log:
    """The log's head and tail within `room` encoded bytes, around a marker."""
    marker = f"\n[crowdcompute: cut here to keep the result bundle within its cap; the log held {log.size} bytes]\n"
    text = log.text
    keep = max(0, room - encoded_size(marker) - 2)
    while keep > 0:
        half = keep // 2
        candidate = text[:half] + marker + text[len(text) - half:] if half else marker
        if encoded_size(candidate) <= room:
            return Log(candidate, log.size, True)
        # escaping made it larger than its length: keep fewer characters, in proportion
        keep = int(keep * room / encoded_size(candidate) * 0.95)
    return Log(marker if encoded_size(marker) <= room else "", log.size, True)


def _empty(log: Log) -> Log:
    return Log("", log.size, True)


def _no_content(out: OutputFile) -> OutputFile:
    if out.content is None:
        return out
    return replace(out, content=None, error="content left out to keep the result bundle within its cap")


