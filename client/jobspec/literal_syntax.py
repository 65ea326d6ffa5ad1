"""What a literal looks like (`%%ops.a.results.k%%`), apart from what it means (literals.py),
so that the parsers of parts that only recognise literals (expose.py) need not import the
resolver that in turn uses them."""

from __future__ import annotations

import re

LITERAL = re.compile(r"%%((?:ops|globals?)\.[^%]+?)%%")


def is_one_literal(value: object) -> bool:
    """Whether `value` is a string that is exactly one literal, nothing around it."""
    return isinstance(value, str) and LITERAL.fullmatch(value) is not None
