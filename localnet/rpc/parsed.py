"""Instruction parsing for the "jsonParsed" encoding of getTransaction / getBlock, as agave's
`solana-transaction-status` does it (parse_instruction.rs, parse_system.rs, parse_token.rs,
parse_associated_token.rs).

An instruction of a known program comes out as
    {"parsed": {"info": {...}, "type": <camelCase name>}, "program": <name>, "programId": <id>, "stackHeight": h}
("spl-memo": `parsed` is the memo string itself); anything else, including an instruction of a
known program whose data or accounts do not parse, stays partially decoded:
    {"programId": <id>, "accounts": [<base58>...], "data": <base58>, "stackHeight": h}.

Parsed here: System (every instruction); SPL Token and Token-2022 (the base set, tags 0-24,
plus createNativeMint, initializeNonTransferableMint and withdrawExcessLamports); Associated
Token Account (create, createIdempotent, recoverNested); Memo (v1 and v3). Not parsed
(partially decoded where agave would parse them): Token-2022 extension instructions,
token-group / token-metadata interface instructions, Batch, UnwrapLamports, Address Lookup
Table, Stake, Vote, the BPF loaders.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Iterable

import based58
from solders.pubkey import Pubkey

from .encoding import ui_amount

__all__ = ["parse_instruction", "parse_compiled", "parse_inner_instructions", "PARSABLE_PROGRAMS"]

SYSTEM_PROGRAM = "11111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
MEMO_V1_PROGRAM = "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"
MEMO_V3_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"

# program id -> agave's ParsableProgram name, kebab-cased
PARSABLE_PROGRAMS = {
    SYSTEM_PROGRAM: "system",
    TOKEN_PROGRAM: "spl-token",
    TOKEN_2022_PROGRAM: "spl-token",
    ASSOCIATED_TOKEN_PROGRAM: "spl-associated-token-account",
    MEMO_V1_PROGRAM: "spl-memo",
    MEMO_V3_PROGRAM: "spl-memo",
}


class NotParsable(Exception):
    """agave's ParseInstructionError: the instruction stays partially decoded."""


def parse_instruction(program_id: Pubkey | str, accounts: list[str], data: bytes, stack_height: int | None) -> dict:
    """One instruction as Solana's jsonParsed shows it. `accounts` are the instruction's
    accounts already resolved to base58 pubkeys (in instruction order)."""
    program = str(program_id)
    accounts = [str(a) for a in accounts]
    data = bytes(data)
    name = PARSABLE_PROGRAMS.get(program)
    if name is not None:
        try:
            parsed = _PARSERS[name](accounts, data)
        except NotParsable:
            pass
        else:
            return {"parsed": parsed, "program": name, "programId": program, "stackHeight": stack_height}
    return {"programId": program, "accounts": accounts, "data": based58.b58encode(data).decode(), "stackHeight": stack_height}


def parse_compiled(keys: list[str], program_id_index: int, account_indexes: Iterable[int], data: bytes, stack_height: int | None) -> dict:
    """A compiled instruction, resolved against the transaction's full key list (static keys,
    then the writable and the readonly addresses loaded from lookup tables)."""
    # (indexes are in range for any executed transaction; out-of-range ones are dropped, not raised)
    return parse_instruction(keys[program_id_index], [keys[i] for i in account_indexes if i < len(keys)], data, stack_height)


def parse_inner_instructions(inner: list[dict] | None, keys: list[str]) -> list[dict] | None:
    """The meta's innerInstructions (compiled: programIdIndex / account indexes / base58 data)
    as jsonParsed shows them."""
    if inner is None:
        return None
    return [
        {
            "index": group["index"],
            "instructions": [
                parse_compiled(keys, ix["programIdIndex"], ix["accounts"], based58.b58decode(ix["data"].encode()), ix.get("stackHeight"))
                for ix in group["instructions"]
            ],
        }
        for group in inner
    ]


def _parsed(kind: str, info: dict) -> dict:
    return {"info": dict(sorted(info.items())), "type": kind}


def _need(accounts: list[str], n: int) -> None:
    """At least `n` accounts (n >= 1 also covers agave's non-empty rule, `_nonempty`)."""
    if len(accounts) < n:
        raise NotParsable("instruction key mismatch")


def _nonempty(accounts: list[str]) -> None:
    # agave: `instruction.accounts.iter().max()` must be Some (and in range)
    if not accounts:
        raise NotParsable("instruction key mismatch")


# -- system (bincode) ---------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise NotParsable("not enough data")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def pubkey(self) -> str:
        return str(Pubkey.from_bytes(self.take(32)))

    def string(self) -> str:  # bincode: u64 length, then UTF-8 bytes
        n = self.u64()
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise NotParsable("invalid utf-8") from None


def _parse_system(a: list[str], data: bytes) -> dict:
    r = _Reader(data)
    tag = r.u32()
    if tag == 0:
        lamports, space, owner = r.u64(), r.u64(), r.pubkey()
        _need(a, 2)
        return _parsed("createAccount", {"source": a[0], "newAccount": a[1], "lamports": lamports, "space": space, "owner": owner})
    if tag == 1:
        owner = r.pubkey()
        _need(a, 1)
        return _parsed("assign", {"account": a[0], "owner": owner})
    if tag == 2:
        lamports = r.u64()
        _need(a, 2)
        return _parsed("transfer", {"source": a[0], "destination": a[1], "lamports": lamports})
    if tag == 3:
        base, seed, lamports, space, owner = r.pubkey(), r.string(), r.u64(), r.u64(), r.pubkey()
        _need(a, 2)
        return _parsed("createAccountWithSeed", {"source": a[0], "newAccount": a[1], "base": base, "seed": seed, "lamports": lamports, "space": space, "owner": owner})
    if tag == 4:
        _need(a, 3)
        return _parsed("advanceNonce", {"nonceAccount": a[0], "recentBlockhashesSysvar": a[1], "nonceAuthority": a[2]})
    if tag == 5:
        lamports = r.u64()
        _need(a, 5)
        return _parsed("withdrawFromNonce", {"nonceAccount": a[0], "destination": a[1], "recentBlockhashesSysvar": a[2], "rentSysvar": a[3], "nonceAuthority": a[4], "lamports": lamports})
    if tag == 6:
        authority = r.pubkey()
        _need(a, 3)
        return _parsed("initializeNonce", {"nonceAccount": a[0], "recentBlockhashesSysvar": a[1], "rentSysvar": a[2], "nonceAuthority": authority})
    if tag == 7:
        authority = r.pubkey()
        _need(a, 2)
        return _parsed("authorizeNonce", {"nonceAccount": a[0], "nonceAuthority": a[1], "newAuthorized": authority})
    if tag == 8:
        space = r.u64()
        _need(a, 1)
        return _parsed("allocate", {"account": a[0], "space": space})
    if tag == 9:
        base, seed, space, owner = r.pubkey(), r.string(), r.u64(), r.pubkey()
        _need(a, 2)
        return _parsed("allocateWithSeed", {"account": a[0], "base": base, "seed": seed, "space": space, "owner": owner})
    if tag == 10:
        base, seed, owner = r.pubkey(), r.string(), r.pubkey()
        _need(a, 2)
        return _parsed("assignWithSeed", {"account": a[0], "base": base, "seed": seed, "owner": owner})
    if tag == 11:
        lamports, seed, owner = r.u64(), r.string(), r.pubkey()
        _need(a, 3)
        return _parsed("transferWithSeed", {"source": a[0], "sourceBase": a[1], "destination": a[2], "lamports": lamports, "sourceSeed": seed, "sourceOwner": owner})
    if tag == 12:
        _need(a, 1)
        return _parsed("upgradeNonce", {"nonceAccount": a[0]})
    if tag == 13:
        lamports, space, owner = r.u64(), r.u64(), r.pubkey()
        _nonempty(a)
        if lamports == 0:
            _need(a, 1)
            return _parsed("createAccountAllowPrefund", {"newAccount": a[0], "space": space, "owner": owner})
        _need(a, 2)
        return _parsed("createAccountAllowPrefund", {"newAccount": a[0], "source": a[1], "lamports": lamports, "space": space, "owner": owner})
    raise NotParsable("unknown system instruction")


# -- spl-token / token-2022 -------------------------------------------------------------

# AuthorityType (u8) -> (UiAuthorityType, the field naming the owned account)
_AUTHORITY_TYPES = [
    ("mintTokens", "mint"), ("freezeAccount", "mint"), ("accountOwner", "account"), ("closeAccount", "account"),
    ("transferFeeConfig", "mint"), ("withheldWithdraw", "mint"), ("closeMint", "mint"), ("interestRate", "mint"),
    ("permanentDelegate", "mint"), ("confidentialTransferMint", "mint"), ("transferHookProgramId", "mint"),
    ("confidentialTransferFeeConfig", "mint"), ("metadataPointer", "mint"), ("groupPointer", "mint"),
    ("groupMemberPointer", "mint"), ("scaledUiAmount", "mint"), ("pause", "mint"), ("permissionedBurn", "mint"),
]

# ExtensionType (u16) -> UiExtensionType
_EXTENSION_TYPES = [
    "uninitialized", "transferFeeConfig", "transferFeeAmount", "mintCloseAuthority", "confidentialTransferMint",
    "confidentialTransferAccount", "defaultAccountState", "immutableOwner", "memoTransfer", "nonTransferable",
    "interestBearingConfig", "cpiGuard", "permanentDelegate", "nonTransferableAccount", "transferHook",
    "transferHookAccount", "confidentialTransferFeeConfig", "confidentialTransferFeeAmount", "metadataPointer",
    "tokenMetadata", "groupPointer", "tokenGroup", "groupMemberPointer", "tokenGroupMember", "confidentialMintBurn",
    "scaledUiAmount", "pausable", "pausableAccount", "permissionedBurn",
]


def _coption_pubkey(r: _Reader) -> str | None:
    flag = r.u8()
    if flag == 0:
        return None
    if flag == 1:
        return r.pubkey()
    raise NotParsable("invalid COption tag")


def _signers(info: dict, last_nonsigner: int, a: list[str], owner_field: str, multisig_field: str) -> dict:
    """agave's parse_signers: a single authority, or a multisig account and its signers."""
    owner = a[last_nonsigner] if last_nonsigner < len(a) else None
    if len(a) > last_nonsigner + 1:
        if owner is not None:
            info[multisig_field] = owner
        info["signers"] = a[last_nonsigner + 1:]
    elif owner is not None:
        info[owner_field] = owner
    return info


def _parse_token(a: list[str], data: bytes) -> dict:
    _nonempty(a)
    r = _Reader(data)
    tag = r.u8()
    if tag in (0, 20):  # InitializeMint / InitializeMint2
        decimals, mint_authority, freeze = r.u8(), r.pubkey(), _coption_pubkey(r)
        if tag == 0:
            _need(a, 2)
            info = {"mint": a[0], "decimals": decimals, "mintAuthority": mint_authority, "rentSysvar": a[1]}
        else:
            _need(a, 1)
            info = {"mint": a[0], "decimals": decimals, "mintAuthority": mint_authority}
        if freeze is not None:
            info["freezeAuthority"] = freeze
        return _parsed("initializeMint" if tag == 0 else "initializeMint2", info)
    if tag == 1:
        _need(a, 4)
        return _parsed("initializeAccount", {"account": a[0], "mint": a[1], "owner": a[2], "rentSysvar": a[3]})
    if tag == 2:
        m = r.u8()
        _need(a, 3)
        return _parsed("initializeMultisig", {"multisig": a[0], "rentSysvar": a[1], "signers": a[2:], "m": m})
    if tag in (3, 4, 7, 8):  # Transfer / Approve / MintTo / Burn: amount as a string
        amount = str(r.u64())
        _need(a, 3)
        if tag == 3:
            return _parsed("transfer", _signers({"source": a[0], "destination": a[1], "amount": amount}, 2, a, "authority", "multisigAuthority"))
        if tag == 4:
            return _parsed("approve", _signers({"source": a[0], "delegate": a[1], "amount": amount}, 2, a, "owner", "multisigOwner"))
        if tag == 7:
            return _parsed("mintTo", _signers({"mint": a[0], "account": a[1], "amount": amount}, 2, a, "mintAuthority", "multisigMintAuthority"))
        return _parsed("burn", _signers({"account": a[0], "mint": a[1], "amount": amount}, 2, a, "authority", "multisigAuthority"))
    if tag == 5:
        _need(a, 2)
        return _parsed("revoke", _signers({"source": a[0]}, 1, a, "owner", "multisigOwner"))
    if tag == 6:
        kind = r.u8()
        if kind >= len(_AUTHORITY_TYPES):
            raise NotParsable("unknown authority type")
        new_authority = _coption_pubkey(r)
        _need(a, 2)
        ui_type, owned = _AUTHORITY_TYPES[kind]
        return _parsed("setAuthority", _signers({owned: a[0], "authorityType": ui_type, "newAuthority": new_authority}, 1, a, "authority", "multisigAuthority"))
    if tag == 9:
        _need(a, 3)
        return _parsed("closeAccount", _signers({"account": a[0], "destination": a[1]}, 2, a, "owner", "multisigOwner"))
    if tag in (10, 11):
        _need(a, 3)
        return _parsed("freezeAccount" if tag == 10 else "thawAccount", _signers({"account": a[0], "mint": a[1]}, 2, a, "freezeAuthority", "multisigFreezeAuthority"))
    if tag in (12, 13, 14, 15):  # the *Checked variants: a UiTokenAmount
        amount, decimals = r.u64(), r.u8()
        token_amount = ui_amount(amount, decimals)
        if tag == 12:
            _need(a, 4)
            return _parsed("transferChecked", _signers({"source": a[0], "mint": a[1], "destination": a[2], "tokenAmount": token_amount}, 3, a, "authority", "multisigAuthority"))
        if tag == 13:
            _need(a, 4)
            return _parsed("approveChecked", _signers({"source": a[0], "mint": a[1], "delegate": a[2], "tokenAmount": token_amount}, 3, a, "owner", "multisigOwner"))
        _need(a, 3)
        if tag == 14:
            return _parsed("mintToChecked", _signers({"mint": a[0], "account": a[1], "tokenAmount": token_amount}, 2, a, "mintAuthority", "multisigMintAuthority"))
        return _parsed("burnChecked", _signers({"account": a[0], "mint": a[1], "tokenAmount": token_amount}, 2, a, "authority", "multisigAuthority"))
    if tag == 16:
        owner = r.pubkey()
        _need(a, 3)
        return _parsed("initializeAccount2", {"account": a[0], "mint": a[1], "owner": owner, "rentSysvar": a[2]})
    if tag == 17:
        _need(a, 1)
        return _parsed("syncNative", {"account": a[0]})
    if tag == 18:
        owner = r.pubkey()
        _need(a, 2)
        return _parsed("initializeAccount3", {"account": a[0], "mint": a[1], "owner": owner})
    if tag == 19:
        m = r.u8()
        _need(a, 2)
        return _parsed("initializeMultisig2", {"multisig": a[0], "signers": a[1:], "m": m})
    if tag == 21:  # GetAccountDataSize: u16 extension types
        rest = data[1:]
        if len(rest) % 2:
            raise NotParsable("odd extension type bytes")
        kinds = [int.from_bytes(rest[i:i + 2], "little") for i in range(0, len(rest), 2)]
        if any(k >= len(_EXTENSION_TYPES) for k in kinds):
            raise NotParsable("unknown extension type")
        _need(a, 1)
        info = {"mint": a[0]}
        if kinds:
            info["extensionTypes"] = [_EXTENSION_TYPES[k] for k in kinds]
        return _parsed("getAccountDataSize", info)
    if tag == 22:
        _need(a, 1)
        return _parsed("initializeImmutableOwner", {"account": a[0]})
    if tag == 23:
        amount = str(r.u64())
        _need(a, 1)
        return _parsed("amountToUiAmount", {"mint": a[0], "amount": amount})
    if tag == 24:
        try:
            text = data[1:].decode("utf-8")
        except UnicodeDecodeError:
            raise NotParsable("invalid utf-8") from None
        _need(a, 1)
        return _parsed("uiAmountToAmount", {"mint": a[0], "uiAmount": text})
    if tag == 31:
        _need(a, 3)
        return _parsed("createNativeMint", {"payer": a[0], "nativeMint": a[1], "systemProgram": a[2]})
    if tag == 32:
        _need(a, 1)
        return _parsed("initializeNonTransferableMint", {"mint": a[0]})
    if tag == 38:
        _need(a, 3)
        return _parsed("withdrawExcessLamports", _signers({"source": a[0], "destination": a[1]}, 2, a, "authority", "multisigAuthority"))
    raise NotParsable("token instruction not covered")


# -- associated token account (borsh enum, empty data = Create) ---------------------------

_ATA_KINDS = {b"": "create", b"\x00": "create", b"\x01": "createIdempotent"}


def _parse_associated_token(a: list[str], data: bytes) -> dict:
    _nonempty(a)
    if data == b"\x02":
        _need(a, 7)
        return _parsed("recoverNested", {"nestedSource": a[0], "nestedMint": a[1], "destination": a[2], "nestedOwner": a[3], "ownerMint": a[4], "wallet": a[5], "tokenProgram": a[6]})
    kind = _ATA_KINDS.get(data)
    if kind is None:  # unknown variant or trailing bytes: borsh try_from_slice fails
        raise NotParsable("associated token instruction")
    _need(a, 6)
    return _parsed(kind, {"source": a[0], "account": a[1], "wallet": a[2], "mint": a[3], "systemProgram": a[4], "tokenProgram": a[5]})


# -- memo ---------------------------------------------------------------------------------


def _parse_memo(a: list[str], data: bytes) -> Any:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotParsable("memo is not UTF-8") from None


_PARSERS: dict[str, Callable[[list[str], bytes], Any]] = {
    "system": _parse_system,
    "spl-token": _parse_token,
    "spl-associated-token-account": _parse_associated_token,
    "spl-memo": _parse_memo,
}
