"""Bounds on a definition's shape, checked before anything walks it recursively.

A definition is written by the poster, so it is hostile input: JSON 50,000 levels deep
makes Python's decoder (and every recursive walk after it) raise RecursionError, and a
YAML document of nested aliases ("billion laughs") is a few hundred bytes that expand to
billions of values. A real definition is a recipe: a dozen levels and a few thousand
values at most. These checks are iterative (no recursion, no copies), so they cannot
fail the way the walks they protect would.

  text_depth(text)      the deepest bracket nesting in the text, before decoding
  shape_problem(value)  why a decoded value is too deep or too large, or None
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 64  # nesting levels of arrays and objects (real definitions use under 10)
MAX_VALUES = 100_000  # arrays, objects, strings and numbers, each alias expansion counted

# A JSON (or YAML quoted) string, or one bracket: strings are skipped whole, so brackets
# inside them do not count. Linear: the string body has one way to match each character.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[\[\]{}]')


def text_depth(text: str) -> int:
    """The deepest `[`/`{` nesting of `text` (JSON, or YAML's flow style). For YAML it may
    over-count (a bracket in a plain scalar), which only ever refuses a stranger document."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth = max(0, depth - 1)
    return deepest


def shape_problem(value: Any, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> str | None:
    """Why the decoded `value` is outside the bounds (one line), or None. Shared objects
    (YAML aliases) are counted each time they are reached, as a walk would reach them."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > max_values:
            return f"more than {max_values} values (aliases counted as often as they are used)"
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
            children = item.values() if isinstance(item, dict) else item
            if isinstance(item, dict):
                stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in children)
    return None
