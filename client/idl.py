"""The programs' Anchor IDLs and ids, as shipped with the package (generated from the
programs' interface crates; see idl/)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from anchorpy import Idl
from solders.pubkey import Pubkey

__all__ = ["idl_path", "load_idl", "load_idl_json", "program_id"]


def idl_path(name: str) -> Path:
    """Path of the legacy-format IDL `name` (e.g. "jobs"): idl/ beside this part's folder,
    which is the repository's idl/ in a checkout and crowdcompute/idl in an installed wheel."""
    path = Path(__file__).resolve().parents[1] / "idl" / f"{name}.json"
    if path.is_file():
        return path
    raise FileNotFoundError(f"no IDL named {name!r} in {path.parent}")


@lru_cache(maxsize=None)
def load_idl_json(name: str) -> dict:
    return json.loads(idl_path(name).read_text())


@lru_cache(maxsize=None)
def load_idl(name: str) -> Idl:
    return Idl.from_json(idl_path(name).read_text())


def program_id(name: str) -> Pubkey:
    """The program id the IDL names (the localnet id; a deployment may use another)."""
    return Pubkey.from_string(load_idl_json(name)["metadata"]["address"])
