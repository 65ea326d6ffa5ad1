"""Client SDK: the programs' IDLs, PDAs, instruction builders, account and event decoding.

The names below load on first use: the IDL and instruction builders pull in anchorpy, which
takes about 0.2 s to import, and the localnet (which needs only token constants from
`crowdcompute.client.token`) must start in under half a second.
"""

from importlib import import_module
from typing import Any

__all__ = ["JobsProgram", "MarketSettings", "load_idl", "program_id", "vault_address"]

_HOMES = {"JobsProgram": ".jobs", "MarketSettings": ".jobs", "load_idl": ".idl", "program_id": ".idl", "vault_address": ".pda"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value
