"""Keypairs as the Solana CLI keeps them: a JSON array of the 64 secret-key bytes, by default
at ~/.config/solana/id.json (`solana-keygen new`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from solders.keypair import Keypair

from .errors import InvalidInput

__all__ = ["DEFAULT_KEYPAIR_PATH", "default_keypair_path", "load_keypair", "write_keypair"]

DEFAULT_KEYPAIR_PATH = Path("~/.config/solana/id.json")


def default_keypair_path() -> Path:
    return DEFAULT_KEYPAIR_PATH.expanduser()


def load_keypair(path: str | os.PathLike[str] | None = None) -> Keypair:
    """The keypair in `path` (default ~/.config/solana/id.json); InvalidInput saying what is
    wrong when the file is missing or is not a keypair file."""
    p = Path(path).expanduser() if path else default_keypair_path()
    try:
        text = p.read_text()
    except FileNotFoundError:
        hint = " (create one with `solana-keygen new`, or pass --keypair)" if not path else ""
        raise InvalidInput(f"keypair file not found: {p}{hint}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read keypair file {p}: {exc.strerror or exc}") from None
    try:
        values = json.loads(text)
        if not (isinstance(values, list) and len(values) == 64 and all(isinstance(v, int) and 0 <= v < 256 for v in values)):
            raise ValueError
        return Keypair.from_bytes(bytes(values))
    except ValueError:
        raise InvalidInput(f"not a keypair file (a JSON array of 64 bytes): {p}") from None


def write_keypair(keypair: Keypair, path: str | os.PathLike[str]) -> Path:
    """Writes `keypair` as the Solana CLI does (mode 0600); returns the path."""
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(list(bytes(keypair)), f)
    return p
