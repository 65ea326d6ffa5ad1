"""Program-derived addresses of the staking program (seeds: staking-interface `seeds`)."""

from __future__ import annotations

from solders.pubkey import Pubkey

__all__ = ["config_address", "stake_vault_address", "rewards_pool_address", "stake_address", "slasher_address"]

CONFIG_SEED = b"config"
VAULT_SEED = b"vault"
REWARDS_SEED = b"rewards"
STAKE_SEED = b"stake"
SLASHER_SEED = b"slasher"


def config_address(authority: Pubkey, mint: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """A staking config: PDA ["config", authority, mint]."""
    return Pubkey.find_program_address([CONFIG_SEED, bytes(authority), bytes(mint)], program_id)


def stake_vault_address(config: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """The staked tokens: PDA ["vault", config], a token account that owns itself."""
    return Pubkey.find_program_address([VAULT_SEED, bytes(config)], program_id)


def rewards_pool_address(config: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """Fees and slashes owed to stakers: PDA ["rewards", config], a token account that owns itself."""
    return Pubkey.find_program_address([REWARDS_SEED, bytes(config)], program_id)


def stake_address(config: Pubkey, owner: Pubkey, program_id: Pubkey) -> tuple[Pubkey, int]:
    """One owner's stake: PDA ["stake", config, owner]."""
    return Pubkey.find_program_address([STAKE_SEED, bytes(config), bytes(owner)], program_id)


def slasher_address(slasher_program: Pubkey) -> tuple[Pubkey, int]:
    """The PDA ["slasher"] of the program a config lets slash by CPI."""
    return Pubkey.find_program_address([SLASHER_SEED], slasher_program)
