"""SPL Token instructions and account decoding the client needs (Token-2022 is not
accepted by the jobs program)."""

from __future__ import annotations

import struct

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from spl.token.constants import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from spl.token.instructions import (
    InitializeMintParams,
    MintToParams,
    create_idempotent_associated_token_account,
    get_associated_token_address,
    initialize_mint,
    mint_to,
)

__all__ = [
    "TOKEN_PROGRAM_ID",
    "TOKEN_2022_PROGRAM_ID",
    "ASSOCIATED_TOKEN_PROGRAM_ID",
    "MINT_LEN",
    "TOKEN_ACCOUNT_LEN",
    "associated_token_address",
    "create_mint_instructions",
    "create_associated_token_account",
    "mint_to_instruction",
    "token_account_amount",
    "token_account_owner",
    "token_account_mint",
    "mint_decimals",
]

MINT_LEN = 82
TOKEN_ACCOUNT_LEN = 165


def associated_token_address(owner: Pubkey, mint: Pubkey) -> Pubkey:
    return get_associated_token_address(owner, mint)


def create_mint_instructions(payer: Pubkey, mint: Pubkey, authority: Pubkey, *, decimals: int, lamports: int) -> list[Instruction]:
    """Create and initialise a mint at `mint` (a new keypair that signs)."""
    return [
        create_account(CreateAccountParams(from_pubkey=payer, to_pubkey=mint, lamports=lamports, space=MINT_LEN, owner=TOKEN_PROGRAM_ID)),
        initialize_mint(InitializeMintParams(decimals=decimals, program_id=TOKEN_PROGRAM_ID, mint=mint, mint_authority=authority)),
    ]


def create_associated_token_account(payer: Pubkey, owner: Pubkey, mint: Pubkey) -> Instruction:
    """Create `owner`'s associated token account of `mint` (no-op if it exists)."""
    return create_idempotent_associated_token_account(payer, owner, mint)


def mint_to_instruction(mint: Pubkey, destination: Pubkey, authority: Pubkey, amount: int) -> Instruction:
    return mint_to(MintToParams(program_id=TOKEN_PROGRAM_ID, mint=mint, dest=destination, mint_authority=authority, amount=amount))


def token_account_mint(data: bytes) -> Pubkey:
    return Pubkey.from_bytes(data[0:32])


def token_account_owner(data: bytes) -> Pubkey:
    return Pubkey.from_bytes(data[32:64])


def token_account_amount(data: bytes) -> int:
    return struct.unpack_from("<Q", data, 64)[0]


def mint_decimals(data: bytes) -> int:
    """A mint account's decimals (SPL Token's Mint layout: supply at 36, decimals at 44)."""
    return data[44]
