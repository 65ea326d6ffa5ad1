"""The programs' Anchor IDLs and ids, as shipped with the package (generated from the
programs' interface crates; see idl/)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from anchorpy import Idl
from solders.pubkey import Pubkey

__all__ = ["idl_path", "load_idl", "load_idl_json", "program_id"]


def idl_path(name: str) -> Path:
    """Path of the legacy-format IDL `name` (e.g. "jobs"): in the wheel, or in the repo."""
    packaged = resources.files("crowdcompute") / "idl" / f"{name}.json"
    if packaged.is_file():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[2] / "idl" / f"{name}.json"
    if repo.is_file():
        return repo
    raise FileNotFoundError(f"no IDL named {name!r} (looked in the package and in {repo.parent})")


@lru_cache(maxsize=None)
def load_idl_json(name: str) -> dict:
    return json.loads(idl_path(name).read_text())


@lru_cache(maxsize=None)
def load_idl(name: str) -> Idl:
    return Idl.from_json(idl_path(name).read_text())


def program_id(name: str) -> Pubkey:
    """The program id the IDL names (the localnet id; a deployment may use another)."""
    return Pubkey.from_string(load_idl_json(name)["metadata"]["address"])
