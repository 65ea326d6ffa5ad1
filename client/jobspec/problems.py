"""Problems found in a job definition: each names the bad field by its path.

Validation collects every problem before it reports, so a poster fixes a file in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import CrowdError

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
UNKNOWN = "unknown field (Nosana's job definition has none such; our extensions go under meta.crowdcompute)"


@dataclass(frozen=True)
class Problem:
    """One bad field: `path` as `ops[1].args.image`, `message` says what was expected."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationError(CrowdError, ValueError):
    """A job definition with problems; `problems` lists all of them in document order."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def join(path: str, key: str | int) -> str:
    """The path of `key` inside `path`: list indexes in brackets, odd keys quoted."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _PLAIN_KEY.match(key) else '["' + key.replace('"', '\\"') + '"]'
    if not path:
        return part
    return path + part if part.startswith("[") else f"{path}.{part}"


class Problems:
    """Collects problems (refusals and errors) and notes (accepted, with no effect here)."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.notes: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def refuse(self, path: str, reason: str) -> None:
        """A Nosana field that this network will not honour: say so, never drop it."""
        self.errors.append(Problem(path, f"not supported: {reason}"))

    def note(self, path: str, message: str) -> None:
        self.notes.append(Problem(path, message))


def type_name(value: Any) -> str:
    """What a decoded JSON or YAML value is, for a message: "a string", "an array", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"  # YAML dates and the like
