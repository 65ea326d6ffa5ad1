"""An instruction's accounts by name, from a program's IDL, for the attack suites: swap one
account of a built instruction (`tamper`) or read one (`account_of`) without counting
positions by hand."""

from __future__ import annotations

import re

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from crowdcompute.client.idl import load_idl_json


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


class IdlAccounts:
    def __init__(self, program: str) -> None:
        instructions = load_idl_json(program)["instructions"]
        # Account names per instruction, in order, from the IDL the program is built against.
        self.names: dict[str, list[str]] = {snake(ix["name"]): [snake(a["name"]) for a in ix["accounts"]] for ix in instructions}
        # (is_signer, is_writable) per account, as the IDL states them.
        self.flags: dict[str, dict[str, tuple[bool, bool]]] = {
            snake(ix["name"]): {snake(a["name"]): (a["isSigner"], a["isMut"]) for a in ix["accounts"]} for ix in instructions}

    def tamper(self, name: str, ix: Instruction, **changes: Pubkey | AccountMeta) -> Instruction:
        """`ix` (instruction `name`) with accounts replaced by name: a Pubkey keeps the
        account's signer and writable flags, an AccountMeta replaces them too."""
        metas = list(ix.accounts)
        for account, value in changes.items():
            index = self.names[name].index(account)
            if isinstance(value, Pubkey):
                value = AccountMeta(value, metas[index].is_signer, metas[index].is_writable)
            metas[index] = value
        return Instruction(ix.program_id, ix.data, metas)

    def account_of(self, name: str, ix: Instruction, account: str) -> Pubkey:
        return ix.accounts[self.names[name].index(account)].pubkey
