"""Program-derived addresses of the jobs program."""

from __future__ import annotations

from solders.pubkey import Pubkey

__all__ = ["vault_address"]

VAULT_SEED = b"vault"


def vault_address(market: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """The market's vault: PDA ["vault", market], a token account that owns itself."""
    return Pubkey.find_program_address([VAULT_SEED, bytes(market)], program_id)
