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

Matching is RE2's (google-re2), not Python's `re`: a poster's regex runs on the node, and
a backtracking engine lets one (`^(a+)+$` over 51 characters) hold a CPU for ever. RE2
runs in time linear in the line and memory bounded by `max_mem`; it has no backreferences
and no lookaround, which are refused with the reason when the definition is checked.
Bounds on the rest (rules per op, a regex's length) are parsing.py's; the node's CPU
budget for an op's matching is worker/logs.py's.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import re2

from ..errors import CrowdError
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


REGEX_MEMORY = 8 << 20  # bytes RE2 may use for one compiled regex (its default, made explicit)
LINEAR_ONLY = (
    "results are matched by RE2, in linear time: no backreferences, and lookaround only as a "
    "plain-text (?<=prefix) at the start or (?=suffix) at the end"
)
# A lookbehind of plain text at the start, or a lookahead of plain text at the end: the
# idiom of Nosana's examples ("(?<=sum=)[0-9]+"). Matched as prefix(body)suffix, whose first
# group is then the whole match: the same positions, since the text has a fixed length.
_PLAIN = r"(?:[^\\^$.|?*+()\[\]{}]|\\[^A-Za-z0-9])+"
_LOOKBEHIND = re.compile(rf"^\(\?<=({_PLAIN})\)")
_LOOKAHEAD = re.compile(rf"\(\?=({_PLAIN})\)$")


class RegexError(CrowdError, ValueError):
    """A regex RE2 will not compile; the message says why."""


class LinearRegex:
    """A results regex compiled by RE2; `values(line)` gives Nosana's list for a line's first match."""

    def __init__(self, python_regex: str) -> None:
        body, self._wrapped = python_regex, False
        behind = _LOOKBEHIND.match(body)
        if behind:
            body = body[behind.end():]
        ahead = _trailing_lookahead(body)
        if ahead:
            body = body[: ahead.start()]
        if (behind or ahead) and not _top_level_alternation(body):
            prefix, suffix = behind.group(1) if behind else "", ahead.group(1) if ahead else ""
            body, self._wrapped = f"{prefix}({body}){suffix}", True
        else:
            body = python_regex  # `(?<=x)a|b` is not x(a|b): left as written, RE2 refuses it
        options = re2.Options()
        options.max_mem = REGEX_MEMORY
        options.log_errors = False  # a poster's bad regex is a validation problem, not a node log line
        try:
            self._pattern = re2.compile(body, options)
        except re2.error as exc:
            detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise RegexError(f"{detail} ({LINEAR_ONLY})") from None

    def values(self, line: str) -> list[str] | None:
        """The whole match, then each capture group that took part; None without a match.
        (A group that took no part gives nothing: JavaScript's undefined has no JSON form.)"""
        m = self._pattern.search(line)
        if m is None:
            return None
        groups = [m.group(0), *m.groups()]
        if self._wrapped:
            groups = groups[1:]  # the lookaround text was matched, not kept
        return [g for g in groups if g is not None]


def _top_level_alternation(body: str) -> bool:
    """Whether `body` has a `|` outside every group and character class."""
    depth, i, in_class = 0, 0, False
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if body.startswith("]", i + 1) or body.startswith("^]", i + 1):
                i += 2 if body[i + 1] == "]" else 3
                continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


def _trailing_lookahead(body: str) -> re.Match[str] | None:
    """`(?=text)` closing `body`, unless its "(" is escaped (an odd run of backslashes)."""
    m = _LOOKAHEAD.search(body)
    if m is None:
        return None
    slashes = len(body[: m.start()]) - len(body[: m.start()].rstrip("\\"))
    return m if slashes % 2 == 0 else None


def compile_regex(python_regex: str) -> LinearRegex:
    return LinearRegex(python_regex)


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
                matched = pattern.values(line)
                if matched:
                    values.extend(matched)
        found[rule.key] = values
    return found
