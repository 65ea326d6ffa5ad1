"""`results`: values extracted from an op's logs by regular expressions, as Nosana does.

Nosana's node (nosana-cli, providers/utils/extractResultsFromLogs.ts) runs
`log.match(new RegExp(regex))` on every log entry of the selected streams (`logType`,
default all) and appends what `match` returns: the whole match, then each capture group.
A result is therefore a list of strings, empty when nothing matched. Their log entries
are Docker stream frames; ours are lines, which is what a frame usually holds. We scan
stdout's lines, then stderr's (the bundle keeps the streams apart, not their interleaving),
over the whole log, before any truncation for the bundle.

Their regexes are JavaScript: `(?<name>...)` and `\\k<name>` are translated to Python's
`(?P<name>...)` and `(?P=name)`, `\\d`, `\\w`, `\\s` stay ASCII (re.ASCII), and Nosana's
special case `"*"` (rewritten by them to `/*`) is kept.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from .model import ResultRule

LOG_TYPES = ("stdin", "stdout", "stderr", "nodeerr")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def translate(js: str) -> str:
    """A JavaScript regular expression as Python `re` syntax (the parts that differ)."""
    if js == "*":
        return "/*"
    out: list[str] = []
    i = 0
    while i < len(js):
        if js.startswith("\\k<", i):
            m = _NAME.match(js, i + 3)
            if m and js.startswith(">", m.end()):
                out.append(f"(?P={m.group()})")
                i = m.end() + 1
                continue
        if js[i] == "\\":
            out.append(js[i : i + 2])
            i += 2
            continue
        if js.startswith("(?<", i):
            m = _NAME.match(js, i + 3)
            if m and js.startswith(">", m.end()):
                out.append(f"(?P<{m.group()}>")
                i = m.end() + 1
                continue
        out.append(js[i])
        i += 1
    return "".join(out)


def compile_regex(python_regex: str) -> re.Pattern[str]:
    return re.compile(python_regex, re.ASCII)


def extract_results(
    rules: Iterable[ResultRule], stdout: str, stderr: str
) -> dict[str, list[str]]:
    """{key: [whole match, groups..., whole match, groups...]} in log order."""
    streams: Mapping[str, list[str]] = {
        "stdout": stdout.splitlines(),
        "stderr": stderr.splitlines(),
    }
    found: dict[str, list[str]] = {}
    for rule in rules:
        pattern = compile_regex(rule.regex)
        values: list[str] = []
        for name in ("stdout", "stderr"):
            if name not in rule.log_types:
                continue
            for line in streams[name]:
                m = pattern.search(line)
                if m:
                    # A group that took no part in the match gives nothing (JavaScript
                    # gives undefined, which a JSON result cannot hold).
                    values.append(m.group(0))
                    values.extend(g for g in m.groups() if g is not None)
        found[rule.key] = values
    return found
