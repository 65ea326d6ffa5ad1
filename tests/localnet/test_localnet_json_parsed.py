"""The "jsonParsed" encoding of transactions: instructions of known programs parsed as agave's
solana-transaction-status parsers do (parse_system.rs, parse_token.rs,
parse_associated_token.rs, parse_instruction.rs), everything else partially decoded. Unit
tests of localnet/rpc/parsed.py, then getTransaction / getBlock over a real server."""

from __future__ import annotations

import struct
import time

import based58
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.instruction import AccountMeta, Instruction
from solders import system_program as sp
from spl.memo.instructions import MemoParams, create_memo
from spl.token import instructions as ti
from spl.token.constants import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

from crowdcompute.common.token import MINT_LEN, associated_token_address, create_associated_token_account, create_mint_instructions, mint_to_instruction
from crowdcompute.localnet.rpc.parsed import parse_compiled, parse_inner_instructions, parse_instruction

from .localnet_helpers import funded, rpc, send

SYSTEM = "11111111111111111111111111111111"
RENT = "SysvarRent111111111111111111111111111111111"
RECENT_BLOCKHASHES = "SysvarRecentB1ockHashes11111111111111111111"
MEMO_V1 = "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"
MEMO_V3 = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
TOKEN = str(TOKEN_PROGRAM_ID)
TOKEN_2022 = str(TOKEN_2022_PROGRAM_ID)
ATA = str(ASSOCIATED_TOKEN_PROGRAM_ID)


def keys(n: int) -> list[Pubkey]:
    return [Pubkey.new_unique() for _ in range(n)]


def parse(ix: Instruction, stack_height=None) -> dict:
    return parse_instruction(ix.program_id, [str(m.pubkey) for m in ix.accounts], bytes(ix.data), stack_height)


def parsed(program: str, program_id: str, kind: str, info: dict, stack_height=None) -> dict:
    return {"parsed": {"info": info, "type": kind}, "program": program, "programId": program_id, "stackHeight": stack_height}


def system(kind: str, info: dict, stack_height=None) -> dict:
    return parsed("system", SYSTEM, kind, info, stack_height)


def token(kind: str, info: dict, program_id: str = TOKEN, stack_height=None) -> dict:
    return parsed("spl-token", program_id, kind, info, stack_height)


def partial(ix: Instruction, stack_height=None) -> dict:
    return {"programId": str(ix.program_id), "accounts": [str(m.pubkey) for m in ix.accounts], "data": based58.b58encode(bytes(ix.data)).decode(), "stackHeight": stack_height}


def with_data(ix: Instruction, data: bytes) -> Instruction:
    return Instruction(ix.program_id, data, ix.accounts)


def with_accounts(ix: Instruction, accounts: list) -> Instruction:
    return Instruction(ix.program_id, bytes(ix.data), accounts)


# -- system ------------------------------------------------------------------------------


def test_system_instructions():
    a, b, owner, base = keys(4)
    ix = sp.create_account(sp.CreateAccountParams(from_pubkey=a, to_pubkey=b, lamports=55, space=128, owner=owner))
    assert parse(ix) == system("createAccount", {"source": str(a), "newAccount": str(b), "lamports": 55, "space": 128, "owner": str(owner)})
    ix = sp.transfer(sp.TransferParams(from_pubkey=a, to_pubkey=b, lamports=2**64 - 1))
    out = parse(ix, 1)
    assert out == system("transfer", {"source": str(a), "destination": str(b), "lamports": 2**64 - 1}, 1)
    assert isinstance(out["parsed"]["info"]["lamports"], int)  # lamports are numbers
    assert parse(sp.assign(sp.AssignParams(pubkey=a, owner=owner))) == system("assign", {"account": str(a), "owner": str(owner)})
    assert parse(sp.allocate(sp.AllocateParams(pubkey=a, space=9))) == system("allocate", {"account": str(a), "space": 9})

    seeded = Pubkey.create_with_seed(base, "seed-1", owner)
    ix = sp.create_account_with_seed(sp.CreateAccountWithSeedParams(from_pubkey=a, to_pubkey=seeded, base=base, seed="seed-1", lamports=7, space=3, owner=owner))
    assert parse(ix) == system("createAccountWithSeed", {
        "source": str(a), "newAccount": str(seeded), "base": str(base), "seed": "seed-1", "lamports": 7, "space": 3, "owner": str(owner)})
    ix = sp.transfer_with_seed(sp.TransferWithSeedParams(from_pubkey=seeded, from_base=base, from_seed="seed-1", from_owner=owner, to_pubkey=b, lamports=5))
    assert parse(ix) == system("transferWithSeed", {
        "source": str(seeded), "sourceBase": str(base), "destination": str(b), "lamports": 5, "sourceSeed": "seed-1", "sourceOwner": str(owner)})
    ix = sp.allocate_with_seed(sp.AllocateWithSeedParams(address=seeded, base=base, seed="seed-1", space=10, owner=owner))
    assert parse(ix) == system("allocateWithSeed", {"account": str(seeded), "base": str(base), "seed": "seed-1", "space": 10, "owner": str(owner)})
    ix = sp.assign_with_seed(sp.AssignWithSeedParams(address=seeded, base=base, seed="seed-1", owner=owner))
    assert parse(ix) == system("assignWithSeed", {"account": str(seeded), "base": str(base), "seed": "seed-1", "owner": str(owner)})


def test_system_nonce_instructions():
    nonce, authority, new_authority, to = keys(4)
    ix = sp.initialize_nonce_account(sp.InitializeNonceAccountParams(nonce_pubkey=nonce, authority=authority))
    assert parse(ix) == system("initializeNonce", {
        "nonceAccount": str(nonce), "recentBlockhashesSysvar": RECENT_BLOCKHASHES, "rentSysvar": RENT, "nonceAuthority": str(authority)})
    ix = sp.advance_nonce_account(sp.AdvanceNonceAccountParams(nonce_pubkey=nonce, authorized_pubkey=authority))
    assert parse(ix) == system("advanceNonce", {"nonceAccount": str(nonce), "recentBlockhashesSysvar": RECENT_BLOCKHASHES, "nonceAuthority": str(authority)})
    ix = sp.withdraw_nonce_account(sp.WithdrawNonceAccountParams(nonce_pubkey=nonce, authorized_pubkey=authority, to_pubkey=to, lamports=1234))
    assert parse(ix) == system("withdrawFromNonce", {
        "nonceAccount": str(nonce), "destination": str(to), "recentBlockhashesSysvar": RECENT_BLOCKHASHES, "rentSysvar": RENT,
        "nonceAuthority": str(authority), "lamports": 1234})
    ix = sp.authorize_nonce_account(sp.AuthorizeNonceAccountParams(nonce_pubkey=nonce, authorized_pubkey=authority, new_authority=new_authority))
    assert parse(ix) == system("authorizeNonce", {"nonceAccount": str(nonce), "nonceAuthority": str(authority), "newAuthorized": str(new_authority)})
    upgrade = Instruction(sp.ID, struct.pack("<I", 12), [AccountMeta(nonce, False, True)])
    assert parse(upgrade) == system("upgradeNonce", {"nonceAccount": str(nonce)})


def test_system_unparsable_stays_partially_decoded():
    a, b = keys(2)
    ix = sp.transfer(sp.TransferParams(from_pubkey=a, to_pubkey=b, lamports=1))
    for bad in (
        with_data(ix, bytes(ix.data)[:-1]),              # truncated lamports
        with_data(ix, struct.pack("<I", 99)),            # unknown variant
        with_accounts(ix, ix.accounts[:1]),              # too few accounts
        with_accounts(ix, []),                           # no accounts at all
    ):
        assert parse(bad, 2) == partial(bad, 2)
    # bincode ignores trailing bytes, as agave's `bincode::deserialize` does
    assert parse(with_data(ix, bytes(ix.data) + b"\x00"))["parsed"]["type"] == "transfer"
    # invalid UTF-8 in a seed
    seeded = sp.create_account_with_seed(sp.CreateAccountWithSeedParams(from_pubkey=a, to_pubkey=b, base=a, seed="ab", lamports=1, space=0, owner=b))
    data = bytearray(bytes(seeded.data))
    data[4 + 32 + 8] = 0xFF
    bad = with_data(seeded, bytes(data))
    assert parse(bad) == partial(bad)


# -- spl-token ---------------------------------------------------------------------------


def test_token_initialize():
    mint, authority, freeze, account, owner = keys(5)
    ix = ti.initialize_mint(ti.InitializeMintParams(decimals=2, program_id=TOKEN_PROGRAM_ID, mint=mint, mint_authority=authority, freeze_authority=freeze))
    assert parse(ix) == token("initializeMint", {"mint": str(mint), "decimals": 2, "mintAuthority": str(authority), "freezeAuthority": str(freeze), "rentSysvar": RENT})
    ix = ti.initialize_mint(ti.InitializeMintParams(decimals=6, program_id=TOKEN_PROGRAM_ID, mint=mint, mint_authority=authority))
    assert parse(ix) == token("initializeMint", {"mint": str(mint), "decimals": 6, "mintAuthority": str(authority), "rentSysvar": RENT})
    ix2 = Instruction(TOKEN_2022_PROGRAM_ID, bytes([20, 9]) + bytes(authority) + b"\x01" + bytes(freeze), [AccountMeta(mint, False, True)])
    assert parse(ix2) == token("initializeMint2", {"mint": str(mint), "decimals": 9, "mintAuthority": str(authority), "freezeAuthority": str(freeze)}, TOKEN_2022)
    ix2 = with_data(ix2, bytes([20, 9]) + bytes(authority) + b"\x00")
    assert parse(ix2) == token("initializeMint2", {"mint": str(mint), "decimals": 9, "mintAuthority": str(authority)}, TOKEN_2022)

    ix = ti.initialize_account(ti.InitializeAccountParams(program_id=TOKEN_PROGRAM_ID, account=account, mint=mint, owner=owner))
    assert parse(ix) == token("initializeAccount", {"account": str(account), "mint": str(mint), "owner": str(owner), "rentSysvar": RENT})
    rent = Pubkey.from_string(RENT)
    ix = Instruction(TOKEN_PROGRAM_ID, bytes([16]) + bytes(owner), [AccountMeta(account, False, True), AccountMeta(mint, False, False), AccountMeta(rent, False, False)])
    assert parse(ix) == token("initializeAccount2", {"account": str(account), "mint": str(mint), "owner": str(owner), "rentSysvar": RENT})
    ix = Instruction(TOKEN_PROGRAM_ID, bytes([18]) + bytes(owner), [AccountMeta(account, False, True), AccountMeta(mint, False, False)])
    assert parse(ix) == token("initializeAccount3", {"account": str(account), "mint": str(mint), "owner": str(owner)})
    ix = Instruction(TOKEN_PROGRAM_ID, bytes([22]), [AccountMeta(account, False, True)])
    assert parse(ix) == token("initializeImmutableOwner", {"account": str(account)})
    ix = Instruction(TOKEN_PROGRAM_ID, bytes([21, 7, 0]), [AccountMeta(mint, False, False)])
    assert parse(ix) == token("getAccountDataSize", {"mint": str(mint), "extensionTypes": ["immutableOwner"]})
    assert parse(with_data(ix, bytes([21]))) == token("getAccountDataSize", {"mint": str(mint)})
    ix = ti.initialize_multisig(ti.InitializeMultisigParams(program_id=TOKEN_PROGRAM_ID, multisig=account, m=2, signers=[owner, authority, freeze]))
    assert parse(ix) == token("initializeMultisig", {"multisig": str(account), "rentSysvar": RENT, "signers": [str(owner), str(authority), str(freeze)], "m": 2})


def test_token_amount_instructions_are_strings():
    src, dst, owner, mint, delegate = keys(5)
    ix = ti.transfer(ti.TransferParams(program_id=TOKEN_PROGRAM_ID, source=src, dest=dst, owner=owner, amount=2**64 - 1))
    out = parse(ix, 2)
    assert out == token("transfer", {"source": str(src), "destination": str(dst), "amount": "18446744073709551615", "authority": str(owner)}, stack_height=2)
    ix = ti.mint_to(ti.MintToParams(program_id=TOKEN_PROGRAM_ID, mint=mint, dest=dst, mint_authority=owner, amount=500))
    assert parse(ix) == token("mintTo", {"mint": str(mint), "account": str(dst), "amount": "500", "mintAuthority": str(owner)})
    ix = ti.burn(ti.BurnParams(program_id=TOKEN_PROGRAM_ID, account=src, mint=mint, owner=owner, amount=3))
    assert parse(ix) == token("burn", {"account": str(src), "mint": str(mint), "amount": "3", "authority": str(owner)})
    ix = ti.approve(ti.ApproveParams(program_id=TOKEN_PROGRAM_ID, source=src, delegate=delegate, owner=owner, amount=10))
    assert parse(ix) == token("approve", {"source": str(src), "delegate": str(delegate), "amount": "10", "owner": str(owner)})
    ix = ti.revoke(ti.RevokeParams(program_id=TOKEN_PROGRAM_ID, account=src, owner=owner))
    assert parse(ix) == token("revoke", {"source": str(src), "owner": str(owner)})
    ix = ti.close_account(ti.CloseAccountParams(program_id=TOKEN_PROGRAM_ID, account=src, dest=dst, owner=owner))
    assert parse(ix) == token("closeAccount", {"account": str(src), "destination": str(dst), "owner": str(owner)})
    ix = ti.sync_native(ti.SyncNativeParams(program_id=TOKEN_PROGRAM_ID, account=src))
    assert parse(ix) == token("syncNative", {"account": str(src)})
    ix = ti.freeze_account(ti.FreezeAccountParams(program_id=TOKEN_PROGRAM_ID, account=src, mint=mint, authority=owner))
    assert parse(ix) == token("freezeAccount", {"account": str(src), "mint": str(mint), "freezeAuthority": str(owner)})
    ix = ti.thaw_account(ti.ThawAccountParams(program_id=TOKEN_PROGRAM_ID, account=src, mint=mint, authority=owner))
    assert parse(ix) == token("thawAccount", {"account": str(src), "mint": str(mint), "freezeAuthority": str(owner)})


def test_token_checked_instructions_carry_token_amounts():
    src, dst, owner, mint, delegate = keys(5)
    ix = ti.transfer_checked(ti.TransferCheckedParams(program_id=TOKEN_PROGRAM_ID, source=src, mint=mint, dest=dst, owner=owner, amount=1_500_000, decimals=6))
    assert parse(ix) == token("transferChecked", {
        "source": str(src), "mint": str(mint), "destination": str(dst), "authority": str(owner),
        "tokenAmount": {"amount": "1500000", "decimals": 6, "uiAmount": 1.5, "uiAmountString": "1.5"}})
    ix = ti.mint_to_checked(ti.MintToCheckedParams(program_id=TOKEN_2022_PROGRAM_ID, mint=mint, dest=dst, mint_authority=owner, amount=42, decimals=0))
    assert parse(ix) == token("mintToChecked", {
        "mint": str(mint), "account": str(dst), "mintAuthority": str(owner),
        "tokenAmount": {"amount": "42", "decimals": 0, "uiAmount": 42.0, "uiAmountString": "42"}}, TOKEN_2022)
    ix = ti.burn_checked(ti.BurnCheckedParams(program_id=TOKEN_PROGRAM_ID, mint=mint, account=src, owner=owner, amount=1, decimals=2))
    assert parse(ix) == token("burnChecked", {
        "account": str(src), "mint": str(mint), "authority": str(owner),
        "tokenAmount": {"amount": "1", "decimals": 2, "uiAmount": 0.01, "uiAmountString": "0.01"}})
    ix = ti.approve_checked(ti.ApproveCheckedParams(program_id=TOKEN_PROGRAM_ID, source=src, mint=mint, delegate=delegate, owner=owner, amount=100, decimals=1))
    assert parse(ix) == token("approveChecked", {
        "source": str(src), "mint": str(mint), "delegate": str(delegate), "owner": str(owner),
        "tokenAmount": {"amount": "100", "decimals": 1, "uiAmount": 10.0, "uiAmountString": "10"}})


def test_token_set_authority_and_multisig_signers():
    account, current, new, mint, s1, s2 = keys(6)
    ix = ti.set_authority(ti.SetAuthorityParams(program_id=TOKEN_PROGRAM_ID, account=mint, authority=ti.AuthorityType.MINT_TOKENS, current_authority=current, new_authority=new))
    assert parse(ix) == token("setAuthority", {"mint": str(mint), "authorityType": "mintTokens", "newAuthority": str(new), "authority": str(current)})
    ix = ti.set_authority(ti.SetAuthorityParams(program_id=TOKEN_PROGRAM_ID, account=account, authority=ti.AuthorityType.CLOSE_ACCOUNT, current_authority=current))
    assert parse(ix) == token("setAuthority", {"account": str(account), "authorityType": "closeAccount", "newAuthority": None, "authority": str(current)})
    # a multisig authority: the authority is reported as multisig* and its signers listed
    ix = ti.transfer(ti.TransferParams(program_id=TOKEN_PROGRAM_ID, source=account, dest=new, owner=current, amount=1, signers=[s1, s2]))
    assert parse(ix) == token("transfer", {"source": str(account), "destination": str(new), "amount": "1", "multisigAuthority": str(current), "signers": [str(s1), str(s2)]})
    ix = ti.mint_to(ti.MintToParams(program_id=TOKEN_PROGRAM_ID, mint=mint, dest=account, mint_authority=current, amount=1, signers=[s1]))
    assert parse(ix) == token("mintTo", {"mint": str(mint), "account": str(account), "amount": "1", "multisigMintAuthority": str(current), "signers": [str(s1)]})
    bad_kind = with_data(ix, bytes([6, 200, 0]))
    assert parse(bad_kind) == partial(bad_kind)


def test_token_unparsable_stays_partially_decoded():
    src, dst, owner, mint = keys(4)
    ix = ti.transfer(ti.TransferParams(program_id=TOKEN_PROGRAM_ID, source=src, dest=dst, owner=owner, amount=5))
    for bad in (
        with_data(ix, bytes(ix.data)[:5]),          # truncated amount
        with_data(ix, b""),                         # no tag
        with_data(ix, bytes([250])),                # unknown tag
        with_accounts(ix, ix.accounts[:2]),         # too few accounts
        with_data(ix, bytes([21, 7])),              # odd extension-type bytes
        with_data(ix, bytes([26, 0])),              # a Token-2022 extension instruction: not covered
    ):
        assert parse(bad) == partial(bad)
    # trailing bytes after the fields are ignored, as TokenInstruction::unpack does
    assert parse(with_data(ix, bytes(ix.data) + b"xyz"))["parsed"]["info"]["amount"] == "5"
    # the same data under an unknown program id is never parsed
    other = Instruction(Pubkey.new_unique(), bytes(ix.data), ix.accounts)
    assert parse(other) == partial(other)


# -- associated token account, memo ----------------------------------------------------------


def test_associated_token_account():
    payer, wallet, mint = keys(3)
    expected_info = {
        "source": str(payer), "account": str(ti.get_associated_token_address(wallet, mint)), "wallet": str(wallet), "mint": str(mint),
        "systemProgram": SYSTEM, "tokenProgram": TOKEN,
    }
    ix = ti.create_associated_token_account(payer, wallet, mint)  # legacy: empty data, with the rent sysvar
    assert bytes(ix.data) == b""
    assert parse(ix) == parsed("spl-associated-token-account", ATA, "create", expected_info)
    ix = ti.create_idempotent_associated_token_account(payer, wallet, mint)
    assert parse(ix) == parsed("spl-associated-token-account", ATA, "createIdempotent", expected_info)
    assert parse(with_data(ix, b"\x00")) == parsed("spl-associated-token-account", ATA, "create", expected_info)
    for bad in (with_data(ix, b"\x01\x00"), with_data(ix, b"\x09"), with_accounts(ix, ix.accounts[:5])):
        assert parse(bad) == partial(bad)


def test_memo():
    signer = Pubkey.new_unique()
    ix = create_memo(MemoParams(program_id=Pubkey.from_string(MEMO_V3), signer=signer, message="héllo 🦖".encode()))
    assert parse(ix, 1) == {"parsed": "héllo 🦖", "program": "spl-memo", "programId": MEMO_V3, "stackHeight": 1}
    v1 = Instruction(Pubkey.from_string(MEMO_V1), b"legacy", [])
    assert parse(v1) == {"parsed": "legacy", "program": "spl-memo", "programId": MEMO_V1, "stackHeight": None}
    bad = with_data(ix, b"\x80")
    assert parse(bad) == partial(bad)


def test_compiled_and_inner_instructions_resolve_keys():
    a, b, loaded = keys(3)
    key_list = [str(a), str(b), SYSTEM, str(loaded)]  # static keys, then a loaded one
    data = bytes(sp.transfer(sp.TransferParams(from_pubkey=a, to_pubkey=loaded, lamports=9)).data)
    assert parse_compiled(key_list, 2, [0, 3], data, None) == system("transfer", {"source": str(a), "destination": str(loaded), "lamports": 9})
    inner = [{"index": 1, "instructions": [
        {"programIdIndex": 2, "accounts": [1, 3], "data": based58.b58encode(data).decode(), "stackHeight": 2},
        {"programIdIndex": 1, "accounts": [0], "data": "3Bxs", "stackHeight": 3},
    ]}]
    assert parse_inner_instructions(inner, key_list) == [{"index": 1, "instructions": [
        system("transfer", {"source": str(b), "destination": str(loaded), "lamports": 9}, 2),
        {"programId": str(b), "accounts": [str(a)], "data": "3Bxs", "stackHeight": 3},
    ]}]
    assert parse_inner_instructions(None, key_list) is None


# -- over a real server ------------------------------------------------------------------------


def get_block(url: str, slot: int, config: dict, timeout: float = 10.0) -> dict:
    """getBlock, once the slot's block is committed (a slot's block closes after the slot)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = rpc(url, "getBlock", [slot, config])
        if "result" in reply or time.monotonic() > deadline:
            return reply["result"]
        time.sleep(0.05)


def test_get_transaction_and_block_json_parsed(server, client):
    payer = funded(client)
    to = Keypair().pubkey()
    transfer = sp.transfer(sp.TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=5_000_000))
    memo = create_memo(MemoParams(program_id=Pubkey.from_string(MEMO_V3), signer=payer.pubkey(), message=b"json parsed"))
    sig = send(client, [transfer, memo], [payer])

    reply = rpc(server.url, "getTransaction", [str(sig), {"encoding": "jsonParsed", "commitment": "confirmed"}])["result"]
    instructions = reply["transaction"]["message"]["instructions"]
    assert instructions == [
        system("transfer", {"source": str(payer.pubkey()), "destination": str(to), "lamports": 5_000_000}),
        {"parsed": "json parsed", "program": "spl-memo", "programId": MEMO_V3, "stackHeight": None},
    ]
    assert reply["meta"]["innerInstructions"] == []
    # other encodings are untouched: compiled instructions
    plain = rpc(server.url, "getTransaction", [str(sig), {"encoding": "json", "commitment": "confirmed"}])["result"]
    assert set(plain["transaction"]["message"]["instructions"][0]) == {"programIdIndex", "accounts", "data", "stackHeight"}

    # a mint, an associated token account (CPIs: inner instructions), a mint_to
    mint = Keypair()
    owner = Keypair().pubkey()
    ata = associated_token_address(owner, mint.pubkey())
    rent = client.get_minimum_balance_for_rent_exemption(MINT_LEN).value
    ixs = create_mint_instructions(payer.pubkey(), mint.pubkey(), payer.pubkey(), decimals=3, lamports=rent)
    ixs += [create_associated_token_account(payer.pubkey(), owner, mint.pubkey()), mint_to_instruction(mint.pubkey(), ata, payer.pubkey(), 12_345)]
    sig = send(client, ixs, [payer, mint])
    reply = rpc(server.url, "getTransaction", [str(sig), {"encoding": "jsonParsed", "commitment": "confirmed"}])["result"]
    p, m, o = str(payer.pubkey()), str(mint.pubkey()), str(owner)
    assert reply["transaction"]["message"]["instructions"] == [
        system("createAccount", {"source": p, "newAccount": m, "lamports": rent, "space": MINT_LEN, "owner": TOKEN}),
        token("initializeMint", {"mint": m, "decimals": 3, "mintAuthority": p, "rentSysvar": RENT}),
        parsed("spl-associated-token-account", ATA, "createIdempotent", {
            "source": p, "account": str(ata), "wallet": o, "mint": m, "systemProgram": SYSTEM, "tokenProgram": TOKEN}),
        token("mintTo", {"mint": m, "account": str(ata), "amount": "12345", "mintAuthority": p}),
    ]
    inner = reply["meta"]["innerInstructions"]
    assert [group["index"] for group in inner] == [2]
    ata_rent = client.get_minimum_balance_for_rent_exemption(165).value
    assert inner[0]["instructions"] == [
        token("getAccountDataSize", {"mint": m, "extensionTypes": ["immutableOwner"]}, stack_height=2),
        system("createAccount", {"source": p, "newAccount": str(ata), "lamports": ata_rent, "space": 165, "owner": TOKEN}, 2),
        token("initializeImmutableOwner", {"account": str(ata)}, stack_height=2),
        token("initializeAccount3", {"account": str(ata), "mint": m, "owner": o}, stack_height=2),
    ]
    # the compiled form of the same meta is untouched in the "json" encoding
    plain = rpc(server.url, "getTransaction", [str(sig), {"encoding": "json", "commitment": "confirmed"}])["result"]
    assert "programIdIndex" in plain["meta"]["innerInstructions"][0]["instructions"][0]

    # getBlock jsonParsed shows the same transaction the same way
    block = get_block(server.url, reply["slot"], {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"})
    [entry] = [t for t in block["transactions"] if t["transaction"]["signatures"][0] == str(sig)]
    assert entry["transaction"]["message"]["instructions"] == reply["transaction"]["message"]["instructions"]
    assert entry["meta"]["innerInstructions"] == inner
