"""Client SDK: the programs' IDLs, PDAs, instruction builders, account and event decoding."""

from .idl import load_idl, program_id
from .jobs import JobsProgram, MarketSettings
from .pda import vault_address

__all__ = ["JobsProgram", "MarketSettings", "load_idl", "program_id", "vault_address"]
