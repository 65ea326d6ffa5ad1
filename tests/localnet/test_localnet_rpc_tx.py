"""Transactions through the RPC: airdrop, send, statuses, history, blocks, simulation,
preflight failures, accounts with encodings and filters, tokens."""

from __future__ import annotations

import base64
import json
import time

import based58
import pytest
import zstandard
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed, Finalized
from solana.rpc.core import RPCException
from solana.rpc.types import DataSliceOpts, MemcmpOpts, TokenAccountOpts, TxOpts
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import Transaction

from crowdcompute.common.token import MINT_LEN, TOKEN_PROGRAM_ID, associated_token_address, create_associated_token_account, create_mint_instructions, mint_to_instruction

from .localnet_helpers import RENT_EXEMPT_0, funded, rpc, send


def wait_finalized(client, sig, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get_signature_statuses([sig]).value[0]
        if status is not None and str(status.confirmation_status) .endswith("Finalized"):
            return status
        time.sleep(0.05)
    raise TimeoutError(sig)


def test_airdrop_is_a_real_transaction(server, client):
    who = Keypair().pubkey()
    sig = client.request_airdrop(who, 1_000_000_000).value
    # Acknowledged only after the commit: confirmed at once.
    status = client.get_signature_statuses([sig]).value[0]
    assert status is not None and status.err is None
    assert str(status.confirmation_status) in ("TransactionConfirmationStatus.Confirmed", "TransactionConfirmationStatus.Finalized")
    assert client.get_balance(who, Confirmed).value == 1_000_000_000
    tx = client.get_transaction(sig, commitment=Confirmed).value
    assert tx is not None and tx.transaction.meta.fee == 5000
    assert rpc(server.url, "requestAirdrop", [str(who), 0])["error"]["code"] == -32600


def test_transfer_history_block(server, client):
    payer = funded(client)
    to = Keypair().pubkey()
    amount = RENT_EXEMPT_0 + 777  # `to` is new: left rent-exempt
    sig = send(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=amount))], [payer])
    assert client.get_balance(to, Confirmed).value == amount
    status = wait_finalized(client, sig)
    assert status.confirmations is None and status.err is None
    raw = rpc(server.url, "getSignatureStatuses", [[str(sig), str(Keypair().pubkey()) + "x"]])["result"]
    assert raw["value"][1] is None
    assert set(raw["value"][0]) == {"slot", "confirmations", "err", "status", "confirmationStatus"}
    assert raw["value"][0]["status"] == {"Ok": None}

    tx = client.get_transaction(sig, commitment=Finalized).value
    assert tx.slot == status.slot
    meta = tx.transaction.meta
    assert meta.err is None and meta.fee == 5000
    assert meta.pre_balances[0] - meta.post_balances[0] == amount + 5000
    assert meta.post_balances[1] == amount
    assert any("11111111111111111111111111111111 success" in line for line in meta.log_messages)
    for encoding in ("base64", "base58"):
        reply = rpc(server.url, "getTransaction", [str(sig), {"encoding": encoding, "maxSupportedTransactionVersion": 0}])["result"]
        assert reply["version"] == "legacy" and reply["transaction"][1] == encoding
    parsed = rpc(server.url, "getTransaction", [str(sig), {"encoding": "jsonParsed"}])["result"]
    assert parsed["transaction"]["message"]["accountKeys"][0] == {"pubkey": str(payer.pubkey()), "signer": True, "source": "transaction", "writable": True}
    assert rpc(server.url, "getTransaction", [str(sig), {"commitment": "processed"}])["error"]["code"] == -32602
    assert client.get_transaction(Keypair().sign_message(b"x")).value is None

    history = client.get_signatures_for_address(to).value
    assert [h.signature for h in history] == [sig] and history[0].slot == status.slot and history[0].block_time
    sig2 = send(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=1))], [payer])
    both = client.get_signatures_for_address(to, commitment=Confirmed).value
    assert [h.signature for h in both] == [sig2, sig]  # newest first
    assert [h.signature for h in client.get_signatures_for_address(to, limit=1, commitment=Confirmed).value] == [sig2]
    assert [h.signature for h in client.get_signatures_for_address(to, before=sig2, commitment=Confirmed).value] == [sig]
    assert client.get_signatures_for_address(to, until=sig2, commitment=Confirmed).value == []

    block = client.get_block(status.slot, max_supported_transaction_version=0).value
    assert sig in [t.transaction.signatures[0] for t in block.transactions]
    assert block.parent_slot == max(0, status.slot - 1) and block.block_height == status.slot  # slot 0 is its own parent
    raw_block = rpc(server.url, "getBlock", [status.slot, {"transactionDetails": "signatures", "rewards": False}])["result"]
    assert str(sig) in raw_block["signatures"] and "rewards" not in raw_block
    assert set(raw_block) == {"blockHeight", "blockTime", "blockhash", "parentSlot", "previousBlockhash", "signatures"}
    accounts = rpc(server.url, "getBlock", [status.slot, {"transactionDetails": "accounts", "maxSupportedTransactionVersion": 0}])["result"]
    (entry,) = [t for t in accounts["transactions"] if t["transaction"]["signatures"] == [str(sig)]]
    full = rpc(server.url, "getTransaction", [str(sig), {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}])["result"]
    assert [k["pubkey"] for k in entry["transaction"]["accountKeys"]] == full["transaction"]["message"]["accountKeys"]
    assert [(k["signer"], k["writable"], k["source"]) for k in entry["transaction"]["accountKeys"]] == [
        (True, True, "transaction"), (False, True, "transaction"), (False, False, "transaction")]  # payer, payee, System
    assert entry["meta"] == {k: full["meta"][k] for k in ("err", "status", "fee", "preBalances", "postBalances", "preTokenBalances", "postTokenBalances")}
    assert entry["version"] == "legacy"
    previous = rpc(server.url, "getBlock", [max(0, status.slot - 1), {"transactionDetails": "none"}])["result"]
    assert previous["blockhash"] == raw_block["previousBlockhash"]
    assert rpc(server.url, "getBlock", [10**9])["error"]["code"] == -32004
    assert rpc(server.url, "getBlockTime", [status.slot])["result"] == raw_block["blockTime"]


def test_preflight_failure_and_skip_preflight(server, client):
    payer = funded(client, 1_000_000_000)
    too_much = [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10**15))]
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    tx = Transaction([payer], Message.new_with_blockhash(too_much, payer.pubkey(), blockhash), blockhash)
    reply = rpc(server.url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])
    error = reply["error"]
    assert error["code"] == -32002
    assert error["message"] == "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1"
    assert error["data"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient lamports" in line for line in error["data"]["logs"])
    with pytest.raises(RPCException):
        client.send_raw_transaction(bytes(tx), TxOpts(preflight_commitment=Confirmed))
    assert client.get_signature_statuses([tx.signatures[0]]).value[0] is None
    # skipPreflight: it lands, fails, pays its fee and is recorded with its error
    sig = client.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=True)).value
    status = client.get_signature_statuses([sig]).value[0]
    assert status.err is not None
    assert client.get_balance(payer.pubkey(), Confirmed).value == 1_000_000_000 - 5000
    # a duplicate is answered with its signature, not run again
    assert client.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=True)).value == sig
    assert rpc(server.url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])["error"]["code"] == -32002
    # a bad signature
    other = Keypair()
    forged = Transaction.populate(tx.message, [other.sign_message(bytes(tx.message))])
    assert rpc(server.url, "sendTransaction", [base64.b64encode(bytes(forged)).decode(), {"encoding": "base64"}])["error"]["code"] == -32003


def test_simulate(server, client):
    payer = funded(client)
    to = Keypair().pubkey()
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    amount = RENT_EXEMPT_0 + 5  # `to` is new: left rent-exempt
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=amount))], payer.pubkey(), blockhash)
    tx = Transaction([payer], message, blockhash)
    sim = client.simulate_transaction(tx).value
    assert sim.err is None and sim.units_consumed == 150 and sim.logs
    raw = rpc(server.url, "simulateTransaction", [base64.b64encode(bytes(tx)).decode(),
              {"encoding": "base64", "replaceRecentBlockhash": True, "accounts": {"addresses": [str(to)], "encoding": "base64"}}])["result"]
    assert raw["value"]["accounts"][0]["lamports"] == amount
    assert raw["value"]["replacementBlockhash"]["blockhash"]
    assert client.get_balance(to).value == 0  # nothing committed
    # unsigned transactions simulate without sigVerify
    unsigned = Transaction.new_unsigned(message)
    assert client.simulate_transaction(unsigned).value.err is None
    assert rpc(server.url, "simulateTransaction", [base64.b64encode(bytes(unsigned)).decode(), {"encoding": "base64", "sigVerify": True}])["error"]["code"] == -32003


def test_program_accounts_filters_and_encodings(server, client):
    payer = funded(client)
    owner = Keypair().pubkey()  # any program id works as an owner
    made = []
    for size, tag in ((8, b"AAAAAAAA"), (8, b"BBBBBBBB"), (16, b"AAAAAAAAxxxxxxxx")):
        new = Keypair()
        lamports = client.get_minimum_balance_for_rent_exemption(size).value
        send(client, [create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=new.pubkey(), lamports=lamports, space=size, owner=owner))], [payer, new])
        made.append((new.pubkey(), size))
    everything = client.get_program_accounts(owner, commitment=Confirmed).value
    assert {a.pubkey for a in everything} == {p for p, _ in made}
    sized = client.get_program_accounts(owner, commitment=Confirmed, filters=[8]).value
    assert {a.pubkey for a in sized} == {p for p, s in made if s == 8}
    # fresh accounts are zeroed: memcmp on zeros matches all, on a non-zero byte none
    zeros = client.get_program_accounts(owner, commitment=Confirmed, filters=[MemcmpOpts(offset=0, bytes=based58.b58encode(bytes(4)).decode())]).value
    assert len(zeros) == 3
    ones = client.get_program_accounts(owner, commitment=Confirmed, filters=[MemcmpOpts(offset=0, bytes=based58.b58encode(b"\x01").decode())]).value
    assert ones == []
    both = rpc(server.url, "getProgramAccounts", [str(owner), {"commitment": "confirmed", "encoding": "base64", "withContext": True,
                                                             "filters": [{"dataSize": 16}, {"memcmp": {"offset": 15, "bytes": base64.b64encode(b"\0").decode(), "encoding": "base64"}}],
                                                             "dataSlice": {"offset": 0, "length": 2}}])["result"]
    assert both["context"]["slot"] >= 0 and len(both["value"]) == 1
    account = both["value"][0]["account"]
    assert account["data"] == [base64.b64encode(bytes(2)).decode(), "base64"] and account["space"] == 16
    assert rpc(server.url, "getProgramAccounts", [str(owner), {"filters": [{"memcmp": {"offset": 0}}]}])["error"]["code"] == -32602
    multiple = client.get_multiple_accounts([made[0][0], Keypair().pubkey()], commitment=Confirmed).value
    assert multiple[0].owner == owner and multiple[1] is None
    sliced = client.get_account_info(made[2][0], commitment=Confirmed, data_slice=DataSliceOpts(offset=4, length=3)).value
    assert bytes(sliced.data) == bytes(3)
    assert rpc(server.url, "getAccountInfo", [str(made[0][0]), {"encoding": "base58"}])["result"]["value"]["data"] == [based58.b58encode(bytes(8)).decode(), "base58"]
    compressed, encoding = rpc(server.url, "getAccountInfo", [str(made[2][0]), {"encoding": "base64+zstd"}])["result"]["value"]["data"]
    assert encoding == "base64+zstd"
    assert zstandard.ZstdDecompressor().decompress(base64.b64decode(compressed), max_output_size=1024) == bytes(16)


def test_tokens(server, client):
    authority = funded(client)
    mint = Keypair()
    rent = client.get_minimum_balance_for_rent_exemption(MINT_LEN).value
    send(client, create_mint_instructions(authority.pubkey(), mint.pubkey(), authority.pubkey(), decimals=6, lamports=rent), [authority, mint])
    holders = [Keypair().pubkey() for _ in range(2)]
    for i, holder in enumerate(holders):
        ata = associated_token_address(holder, mint.pubkey())
        sig = send(client, [create_associated_token_account(authority.pubkey(), holder, mint.pubkey()), mint_to_instruction(mint.pubkey(), ata, authority.pubkey(), 1_500_000 * (i + 1))], [authority])
        meta = client.get_transaction(sig, commitment=Confirmed).value.transaction.meta
        assert meta.pre_token_balances == []  # the account did not exist before
        (post,) = meta.post_token_balances
        assert post.mint == mint.pubkey() and post.owner == holder and post.program_id == TOKEN_PROGRAM_ID
        assert post.ui_token_amount.amount == str(1_500_000 * (i + 1)) and post.ui_token_amount.decimals == 6
    ata0 = associated_token_address(holders[0], mint.pubkey())
    balance = client.get_token_account_balance(ata0, Confirmed).value
    assert balance.amount == "1500000" and balance.decimals == 6 and balance.ui_amount_string == "1.5"
    supply = client.get_token_supply(mint.pubkey(), Confirmed).value
    assert supply.amount == "4500000" and supply.ui_amount_string == "4.5"
    by_mint = client.get_token_accounts_by_owner(holders[0], TokenAccountOpts(mint=mint.pubkey()), Confirmed).value
    assert [a.pubkey for a in by_mint] == [ata0]
    by_program = client.get_token_accounts_by_owner(holders[1], TokenAccountOpts(program_id=TOKEN_PROGRAM_ID), Confirmed).value
    assert [a.pubkey for a in by_program] == [associated_token_address(holders[1], mint.pubkey())]
    parsed = client.get_token_accounts_by_owner_json_parsed(holders[0], TokenAccountOpts(mint=mint.pubkey()), Confirmed).value
    info = parsed[0].account.data.parsed["info"]
    assert parsed[0].account.data.program == "spl-token"
    assert info["owner"] == str(holders[0]) and info["mint"] == str(mint.pubkey()) and info["state"] == "initialized"
    assert info["tokenAmount"] == {"amount": "1500000", "decimals": 6, "uiAmount": 1.5, "uiAmountString": "1.5"}
    mint_parsed = client.get_account_info_json_parsed(mint.pubkey(), Confirmed).value.data.parsed
    assert mint_parsed == {"info": {"decimals": 6, "freezeAuthority": None, "isInitialized": True, "mintAuthority": str(authority.pubkey()), "supply": "4500000"}, "type": "mint"}
    assert client.get_token_accounts_by_owner(Keypair().pubkey(), TokenAccountOpts(mint=mint.pubkey()), Confirmed).value == []
    largest = client.get_token_largest_accounts(mint.pubkey(), Confirmed).value
    assert [(a.address, a.amount.amount) for a in largest] == [(associated_token_address(holders[1], mint.pubkey()), "3000000"), (ata0, "1500000")]
    assert rpc(server.url, "getTokenAccountBalance", [str(mint.pubkey())])["error"]["code"] == -32602
    assert rpc(server.url, "getTokenAccountsByOwner", [str(holders[0]), {}])["error"]["code"] == -32602
    # the index follows ownership changes: the program-accounts view of the mint's holders
    accounts = client.get_program_accounts(TOKEN_PROGRAM_ID, commitment=Confirmed, filters=[165, MemcmpOpts(offset=0, bytes=str(mint.pubkey()))]).value
    assert {a.pubkey for a in accounts} == {associated_token_address(h, mint.pubkey()) for h in holders}


def test_v0_transaction(server, client):
    from solders.message import MessageV0
    from solders.transaction import VersionedTransaction

    payer = funded(client)
    to = Keypair().pubkey()
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    message = MessageV0.try_compile(payer.pubkey(), [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=RENT_EXEMPT_0 + 9))], [], blockhash)
    tx = VersionedTransaction(message, [payer])
    sig = client.send_transaction(tx, TxOpts(preflight_commitment=Confirmed)).value
    assert client.get_balance(to, Confirmed).value == RENT_EXEMPT_0 + 9
    reply = rpc(server.url, "getTransaction", [str(sig), {"commitment": "confirmed"}])
    assert reply["error"]["code"] == -32015
    got = client.get_transaction(sig, commitment=Confirmed, max_supported_transaction_version=0).value
    assert got.transaction.version == 0 and got.transaction.meta.err is None
    raw = rpc(server.url, "getTransaction", [str(sig), {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}])["result"]
    assert raw["transaction"]["message"]["addressTableLookups"] == []


def _chain(client: Client):
    """A funded payer's chain of transfers: (middle, final, tx(signer, to, lamports)), where
    the payer pays every fee and signs, and `signer` None means the payer alone."""
    payer = funded(client, 1_000_000_000)
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash

    def tx(signer: Keypair | None, to, lamports: int) -> Transaction:
        ix = transfer(TransferParams(from_pubkey=(signer or payer).pubkey(), to_pubkey=to, lamports=lamports))
        return Transaction([payer] if signer is None else [signer, payer], Message.new_with_blockhash([ix], payer.pubkey(), blockhash), blockhash)

    return Keypair(), Keypair().pubkey(), tx


def test_batch_of_sends_runs_in_order_and_shares_commits(server, client):
    """A JSON-RPC batch of sendTransaction: each runs in the batch's order (the second spends
    what the first paid in), each answer sits at its request's place, a failure stays its own."""
    middle, final, transfer_tx = _chain(client)

    def tx(signer: Keypair, to, lamports: int) -> str:
        return base64.b64encode(bytes(transfer_tx(signer, to, lamports))).decode()

    batch = [
        {"jsonrpc": "2.0", "id": "fund", "method": "sendTransaction", "params": [tx(None, middle.pubkey(), 3 * RENT_EXEMPT_0), {"encoding": "base64"}]},
        {"jsonrpc": "2.0", "id": "spend", "method": "sendTransaction", "params": [tx(middle, final, RENT_EXEMPT_0), {"encoding": "base64"}]},
        {"jsonrpc": "2.0", "id": "too much", "method": "sendTransaction", "params": [tx(middle, final, 10**12), {"encoding": "base64"}]},
        {"jsonrpc": "2.0", "id": 7, "method": "getHealth"},
    ]
    replies = rpc(server.url, None, raw=json.dumps(batch).encode())
    assert [r["id"] for r in replies] == ["fund", "spend", "too much", 7]
    assert "result" in replies[0] and "result" in replies[1], replies
    assert replies[2]["error"]["code"] == -32002 and replies[3]["result"] == "ok"
    assert client.get_balance(final).value == RENT_EXEMPT_0
    assert client.get_balance(middle.pubkey()).value == 2 * RENT_EXEMPT_0  # the payer paid the fees


def test_batch_of_sends_without_preflight_runs_in_order(server, client):
    """The same without preflight: the signatures are checked together on the verifier
    process, then the sends execute in the batch's order (the second spends what the first
    paid in) and both are confirmed when answered."""
    middle, final, tx = _chain(client)
    sends = [tx(None, middle.pubkey(), 3 * RENT_EXEMPT_0), tx(middle, final, RENT_EXEMPT_0)]
    batch = [{"jsonrpc": "2.0", "id": i, "method": "sendTransaction", "params": [base64.b64encode(bytes(t)).decode(), {"encoding": "base64", "skipPreflight": True}]}
             for i, t in enumerate(sends)]
    replies = rpc(server.url, None, raw=json.dumps(batch).encode())
    assert [r.get("result") for r in replies] == [str(t.signatures[0]) for t in sends], replies
    statuses = rpc(server.url, "getSignatureStatuses", [[str(t.signatures[0]) for t in sends]])["result"]["value"]
    assert all(s["err"] is None and s["confirmationStatus"] in ("confirmed", "finalized") for s in statuses), statuses
    assert client.get_balance(final).value == RENT_EXEMPT_0
