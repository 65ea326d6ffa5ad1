"""The small checks every part of a job definition is read with, and the state they share.

`Checks` records each problem with its path (problems.py) instead of raising, so that one
pass finds them all. The parser (parsing.py) is a `Checks`, and so is what each op kind's
args parser (kinds.py) is handed: an args parser adds its problems, its literal sites and
its VRAM asks to the same lists as the rest of the definition.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .literal_syntax import LITERAL
from .problems import UNKNOWN, Problems, join, type_name  # noqa: F401 (type_name: re-exported)

# Op ids are host names on the job's network (Nosana: any string). A dotted id is valid
# but, as in Nosana, cannot be named in a literal (%%ops.ID.results.KEY%% splits on dots).
# Aliases are host names too, so they follow the same rule.
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
REMOVE_IF_EMPTY = "__remove-if-empty__"
NO_LITERALS_HERE = "literals are filled in only in image, cmd, entrypoint, env, work_dir, aliases and whole expose items"


class Checks:
    def __init__(self) -> None:
        self.problems = Problems()
        self.vram: list[float] = []  # every required_vram asked, in GB
        # (path, op id, string) of every string where literals are filled in
        self.literal_sites: list[tuple[str, str, str]] = []
        # (path, op id, reason) of what only a job that exposes a port may have (a restart
        # policy without a cap): refused once all ops are read, if none exposes one
        self.service_only: list[tuple[str, str, str]] = []

    def expect(self, path: str, value: Any, kind: type | tuple[type, ...], what: str) -> bool:
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if not ok:
            self.problems.add(path, f"expected {what}, got {type_name(value)}")
        return ok

    def object(self, path: str, value: Any, keys: tuple[str, ...] | None) -> bool:
        if not self.expect(path, value, dict, "an object"):
            return False
        if keys is not None:
            for key in value:
                if key not in keys:
                    self.problems.add(join(path, str(key)), UNKNOWN)
        return True

    def string(self, path: str, value: Any, *, empty: bool = False) -> str | None:
        if not self.expect(path, value, str, "a string"):
            return None
        if not empty and not value:
            self.problems.add(path, "expected a non-empty string")
            return None
        return value

    def strings(self, path: str, value: Any) -> list[str] | None:
        if not self.expect(path, value, list, "an array of strings"):
            return None
        out = [self.string(join(path, i), item, empty=True) for i, item in enumerate(value)]
        return None if any(s is None for s in out) else [s for s in out if s is not None]

    def string_map(self, path: str, value: Any) -> dict[str, str] | None:
        if not self.object(path, value, None):
            return None
        out: dict[str, str] = {}
        for key, item in value.items():
            s = item if isinstance(item, str) else None
            if not isinstance(key, str) or not key:
                self.problems.add(path, f"expected non-empty string keys, got {key!r}")
            elif s is None:
                self.problems.add(
                    join(path, str(key)), f"expected a string, got {type_name(item)} (quote it in YAML)"
                )
            else:
                out[key] = s
        return out

    def no_literals(self, path: str, value: str, reason: str) -> None:
        if LITERAL.search(value):
            self.problems.add(path, reason)

    def absolute(self, path: str, value: Any) -> str | None:
        s = self.string(path, value)
        if s is not None and not s.startswith("/"):
            self.problems.add(path, f"expected an absolute path, got {s!r}")
            return None
        return s

    def argv(self, path: str, value: Any, *, shell: bool) -> tuple[str, ...] | None:
        """cmd/entrypoint: a string (cmd: run by /bin/sh -c; entrypoint: one program) or
        a list (exec form). An empty list, like none, keeps the image's default."""
        if isinstance(value, str):
            return ("/bin/sh", "-c", value) if shell else (value,)
        items = self.strings(path, value)
        if items is None:
            return None
        items = [s for s in items if s != REMOVE_IF_EMPTY]
        return tuple(items) or None

    def required_vram(self, path: str, value: Any) -> float | None:
        if not self.expect(path, value, (int, float), "a number of GB"):
            return None
        if value < 0 or not math.isfinite(value):
            self.problems.add(path, f"expected a number of GB >= 0, got {value!r}")
            return None
        self.vram.append(value)
        return value
