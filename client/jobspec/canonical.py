"""Canonical JSON: one byte string per value, so equal content has one content id.

Sorted keys, no insignificant whitespace, UTF-8 (not \\u escapes), no NaN or infinity.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
