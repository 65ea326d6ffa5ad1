"""BPF Loader Upgradeable (loader-v3) instructions, built as `solana program deploy` and
`anchor deploy` build them (layouts: solana-loader-v3-interface 6.1, a bincode enum with a
u32 tag), and the account states they leave."""

from __future__ import annotations

import struct

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

LOADER_V3 = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
RENT = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
CLOCK = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
BUFFER_METADATA = 37  # tag u32 + Option<Pubkey>
PROGRAM_LEN = 36  # tag u32 + programdata address
PROGRAMDATA_METADATA = 45  # tag u32 + slot u64 + Option<Pubkey>
# What the CLI writes per transaction: a packet (1232 bytes) less the signatures, message
# header and Write's own fields. 1000 is a safe round figure for two signers.
WRITE_CHUNK = 1000


def programdata_address(program: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(program)], LOADER_V3)[0]


def _ix(tag: int, payload: bytes, metas: list[AccountMeta]) -> Instruction:
    return Instruction(LOADER_V3, struct.pack("<I", tag) + payload, metas)


def create_buffer(payer: Pubkey, buffer: Pubkey, authority: Pubkey, lamports: int, program_len: int) -> list[Instruction]:
    """System CreateAccount (owner loader-v3) + InitializeBuffer, as the CLI sends them."""
    return [
        create_account(CreateAccountParams(from_pubkey=payer, to_pubkey=buffer, lamports=lamports, space=BUFFER_METADATA + program_len, owner=LOADER_V3)),
        _ix(0, b"", [AccountMeta(buffer, False, True), AccountMeta(authority, False, False)]),
    ]


def write(buffer: Pubkey, authority: Pubkey, offset: int, data: bytes) -> Instruction:
    return _ix(1, struct.pack("<IQ", offset, len(data)) + data, [AccountMeta(buffer, False, True), AccountMeta(authority, True, False)])


def deploy_with_max_data_len(payer: Pubkey, program: Pubkey, buffer: Pubkey, authority: Pubkey, program_lamports: int, max_data_len: int) -> list[Instruction]:
    """System CreateAccount of the program account (36 bytes, owner loader-v3) +
    DeployWithMaxDataLen, as the CLI sends them (the program keypair signs)."""
    return [
        create_account(CreateAccountParams(from_pubkey=payer, to_pubkey=program, lamports=program_lamports, space=PROGRAM_LEN, owner=LOADER_V3)),
        _ix(2, struct.pack("<Q", max_data_len), [
            AccountMeta(payer, True, True),
            AccountMeta(programdata_address(program), False, True),
            AccountMeta(program, False, True),
            AccountMeta(buffer, False, True),
            AccountMeta(RENT, False, False),
            AccountMeta(CLOCK, False, False),
            AccountMeta(SYSTEM, False, False),
            AccountMeta(authority, True, False),
        ]),
    ]


def upgrade(program: Pubkey, buffer: Pubkey, authority: Pubkey, spill: Pubkey) -> Instruction:
    return _ix(3, b"", [
        AccountMeta(programdata_address(program), False, True),
        AccountMeta(program, False, True),
        AccountMeta(buffer, False, True),
        AccountMeta(spill, False, True),
        AccountMeta(RENT, False, False),
        AccountMeta(CLOCK, False, False),
        AccountMeta(authority, True, False),
    ])


def set_authority(account: Pubkey, current: Pubkey, new: Pubkey | None) -> Instruction:
    """SetAuthority of a buffer or program data account (`account`); None makes a program final."""
    metas = [AccountMeta(account, False, True), AccountMeta(current, True, False)]
    if new is not None:
        metas.append(AccountMeta(new, False, False))
    return _ix(4, b"", metas)


def close(account: Pubkey, recipient: Pubkey, authority: Pubkey, program: Pubkey | None = None) -> Instruction:
    """Close a buffer, or a program's data account (then `program` is given)."""
    metas = [AccountMeta(account, False, True), AccountMeta(recipient, False, True), AccountMeta(authority, True, False)]
    if program is not None:
        metas.append(AccountMeta(program, False, True))
    return _ix(5, b"", metas)


def extend_program(program: Pubkey, payer: Pubkey, additional_bytes: int) -> Instruction:
    return _ix(6, struct.pack("<I", additional_bytes), [
        AccountMeta(programdata_address(program), False, True),
        AccountMeta(program, False, True),
        AccountMeta(SYSTEM, False, False),
        AccountMeta(payer, True, True),
    ])


def write_chunks(elf: bytes, chunk: int = WRITE_CHUNK) -> list[tuple[int, bytes]]:
    return [(offset, elf[offset:offset + chunk]) for offset in range(0, len(elf), chunk)]
