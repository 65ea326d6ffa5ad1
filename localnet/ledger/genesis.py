"""What a genesis holds besides the faucet, as solana-test-validator 3.1 writes it:

* one feature account per active feature (features.py), activated at slot 0;
* SPL Token's native mint So111...112 (9 decimals, supply 0, 1 SOL, as agave's genesis
  writes it) and Token-2022's 9pan9b... (its CreateNativeMint layout: a bare 82-byte mint,
  rent-exempt). agave's genesis has only the first; Token-2022's exists on mainnet and
  devnet, and wrapping SOL with Token-2022 needs it, so the localnet has both;
* the programs given at startup (Anchor.toml's and --bpf-program's) as solana-test-validator
  loads --bpf-program: loader-v3 program + program data accounts, deployed at slot 0, upgrade
  authority 11111111111111111111111111111111 (nobody can sign for it: not upgradeable).

These are installed at every start (from this code and the .so files, like LiteSVM's own
programs); the ledger holds only what transactions wrote, and a restored account replaces
the installed one (e.g. a native mint someone sent lamports to).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from solders.account import Account
from solders.pubkey import Pubkey

from crowdcompute.common.token import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from ..runtime.features import FEATURE_ACCOUNT_LEN, feature_account, features
from ..runtime.loader import LOADER_V3, program_account_data, programdata_address, programdata_header

__all__ = ["NATIVE_MINT", "NATIVE_MINT_2022", "genesis_accounts", "startup_program_accounts"]

NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
NATIVE_MINT_2022 = Pubkey.from_string("9pan9bMn5HatX4EJdBwg9VgCa7Uz5HL8N1m5D3NdXejP")
LAMPORTS_PER_SOL = 1_000_000_000
NO_AUTHORITY = Pubkey.default()  # solana-test-validator's upgrade authority for --bpf-program
# A mint with no authorities, supply 0, 9 decimals, initialized (spl-token's Mint::pack).
NATIVE_MINT_DATA = bytes(4 + 32 + 8) + bytes([9, 1]) + bytes(4 + 32)

Rent = Callable[[int], int]  # data length -> rent-exempt minimum


def genesis_accounts(rent: Rent) -> list[tuple[Pubkey, Account]]:
    """Feature accounts and native mints."""
    feature_lamports = max(rent(FEATURE_ACCOUNT_LEN), 1)
    accounts = [(fid, feature_account(feature_lamports)) for fid in features().visible]
    # agave's genesis: 1 SOL and rent epoch 1 (genesis_utils, create_genesis_config_with_leader_ex).
    accounts.append((NATIVE_MINT, Account(LAMPORTS_PER_SOL, NATIVE_MINT_DATA, TOKEN_PROGRAM_ID, False, 1)))
    accounts.append((NATIVE_MINT_2022, Account(rent(len(NATIVE_MINT_DATA)), NATIVE_MINT_DATA, TOKEN_2022_PROGRAM_ID, False, 0)))
    return accounts


def startup_program_accounts(program_id: Pubkey, path: Path, rent: Rent) -> list[tuple[Pubkey, Account]]:
    """A program loaded at startup: its program data account, then its program account (the
    order LiteSVM needs: it compiles the program when the program account is set)."""
    elf = Path(path).read_bytes()
    programdata = programdata_header(0, NO_AUTHORITY) + elf
    program = program_account_data(programdata_address(program_id))
    return [
        (programdata_address(program_id), Account(max(rent(len(programdata)), 1), programdata, LOADER_V3, False, 0)),
        (program_id, Account(max(rent(len(program)), 1), program, LOADER_V3, True, 0)),
    ]
