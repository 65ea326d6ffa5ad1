"""`container/create-volume` args: the name of a volume scoped to the job."""

from __future__ import annotations

import re
from typing import Any, Mapping

from .checks import Checks
from .model import CreateVolumeArgs
from .problems import join

VOLUME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def parse_volume_args(c: Checks, path: str, raw: Any, glob: Mapping[str, Any], op_id: str) -> CreateVolumeArgs | None:
    if not c.object(path, raw, ("name",)):
        return None
    if "name" not in raw:
        c.problems.add(join(path, "name"), "required")
        return None
    name = c.string(join(path, "name"), raw["name"])
    if name and not VOLUME_RE.match(name):
        c.problems.add(join(path, "name"), f"expected letters, digits, '.', '-' or '_', got {name!r}")
        return None
    return CreateVolumeArgs(name) if name else None
