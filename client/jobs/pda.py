"""Program-derived addresses of the jobs program."""

from __future__ import annotations

from solders.pubkey import Pubkey

__all__ = ["vault_address", "node_profile_address"]

VAULT_SEED = b"vault"
NODE_PROFILE_SEED = b"node_profile"


def vault_address(market: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """The market's vault: PDA ["vault", market], a token account that owns itself."""
    return Pubkey.find_program_address([VAULT_SEED, bytes(market)], program_id)


def node_profile_address(node: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """A node's profile (its public URL and hardware digest): PDA ["node_profile", node]."""
    return Pubkey.find_program_address([NODE_PROFILE_SEED, bytes(node)], program_id)
