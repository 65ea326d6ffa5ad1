"""Rent-state rule over a real server, as a validator enforces it after execution
(localnet/runtime/rent.py): a transaction may not leave a writable account with
0 < lamports < the rent-exempt minimum for its size unless it was already so, with the same
size and no more lamports. A violating transaction fails with InsufficientFundsForRent
{account_index}: preflight refuses it (-32002); without preflight it lands with that error,
its changes undone, its fee paid."""

from __future__ import annotations

import base64

from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from .localnet_helpers import RENT_EXEMPT_0, funded, rpc, send_raw

FEE = 5000
SYSTEM = "11111111111111111111111111111111"


def pay_tx(client: Client, payer: Keypair, to: Pubkey, lamports: int) -> Transaction:
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    ixs = [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))]
    return Transaction([payer], Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), blockhash)


def encoded(tx: Transaction) -> str:
    return base64.b64encode(bytes(tx)).decode()


def balance(server, who: Pubkey) -> int:
    return rpc(server.url, "getBalance", [str(who), {"commitment": "confirmed"}])["result"]["value"]


def status_of(server, tx: Transaction):
    reply = rpc(server.url, "getSignatureStatuses", [[str(tx.signatures[0])], {"searchTransactionHistory": True}])
    return reply["result"]["value"][0]


def rent_error(index: int) -> dict:
    return {"InsufficientFundsForRent": {"account_index": index}}


def assert_refused_for_rent(reply: dict, index: int) -> None:
    assert "result" not in reply, reply
    error = reply["error"]
    assert error["code"] == -32002, reply
    assert error["data"]["err"] == rent_error(index), reply
    assert "insufficient funds for rent" in error["message"], reply


def test_minimum_is_the_constant(client):
    assert client.get_minimum_balance_for_rent_exemption(0).value == RENT_EXEMPT_0


def test_preflight_refuses_a_sub_rent_transfer_to_a_new_address(server, client):
    funds = 1_000_000_000
    payer = funded(client, funds)
    to = Keypair().pubkey()
    tx = pay_tx(client, payer, to, 1_000)
    reply = send_raw(server, tx)
    assert_refused_for_rent(reply, 1)
    assert reply["error"]["data"]["logs"]  # the simulation ran the program
    # nothing changed, nothing recorded
    assert balance(server, payer.pubkey()) == funds
    assert balance(server, to) == 0
    assert status_of(server, tx) is None


def test_skip_preflight_lands_with_the_error_and_pays_only_the_fee(server, client):
    funds = 1_000_000_000
    payer = funded(client, funds)
    to = Keypair().pubkey()
    tx = pay_tx(client, payer, to, 1_000)
    assert_refused_for_rent(send_raw(server, tx), 1)  # the same transaction, refused first
    reply = send_raw(server, tx, skip_preflight=True)
    assert reply.get("result") == str(tx.signatures[0]), reply
    client.confirm_transaction(tx.signatures[0], Confirmed)
    status = status_of(server, tx)
    assert status is not None and status["err"] == rent_error(1)
    got = rpc(server.url, "getTransaction", [reply["result"], {"commitment": "confirmed"}])["result"]
    meta = got["meta"]
    assert meta["err"] == rent_error(1)
    assert meta["status"] == {"Err": rent_error(1)}
    assert meta["fee"] == FEE
    assert got["transaction"]["message"]["accountKeys"][:2] == [str(payer.pubkey()), str(to)]
    pre, post = meta["preBalances"], meta["postBalances"]
    assert pre[0] == funds and pre[1] == 0
    assert post[0] == pre[0] - FEE  # the fee, and not the transfer
    assert post[1:] == pre[1:]  # the transfer undone
    assert balance(server, to) == 0
    assert balance(server, payer.pubkey()) == funds - FEE
    logs = meta["logMessages"]
    assert logs and f"Program {SYSTEM} invoke [1]" in logs and f"Program {SYSTEM} success" in logs


def test_payer_may_drain_to_zero_but_not_to_rent_paying(server, client):
    funds = 3 * RENT_EXEMPT_0 + 12_345
    payer = funded(client, funds)
    recipient = funded(client, RENT_EXEMPT_0).pubkey()  # rent-exempt already
    # leaving the payer 1 lamport: rent-paying, refused for the payer (index 0)
    one_short = pay_tx(client, payer, recipient, funds - FEE - 1)
    assert_refused_for_rent(send_raw(server, one_short), 0)
    assert balance(server, payer.pubkey()) == funds
    assert balance(server, recipient) == RENT_EXEMPT_0
    assert status_of(server, one_short) is None
    # draining it to exactly zero is allowed: the account is gone
    drain = pay_tx(client, payer, recipient, funds - FEE)
    reply = send_raw(server, drain)
    assert reply.get("result") == str(drain.signatures[0]), reply
    client.confirm_transaction(drain.signatures[0], Confirmed)
    status = status_of(server, drain)
    assert status is not None and status["err"] is None
    assert rpc(server.url, "getAccountInfo", [str(payer.pubkey()), {"commitment": "confirmed"}])["result"]["value"] is None
    assert balance(server, payer.pubkey()) == 0
    assert balance(server, recipient) == RENT_EXEMPT_0 + funds - FEE


def test_simulate_reports_the_rent_error(server, client):
    funds = 1_000_000_000
    payer = funded(client, funds)
    to = Keypair().pubkey()
    tx = pay_tx(client, payer, to, 1_000)
    reply = rpc(server.url, "simulateTransaction", [encoded(tx), {"encoding": "base64", "sigVerify": True}])
    value = reply["result"]["value"]
    assert value["err"] == rent_error(1)
    assert value["logs"]
    assert balance(server, payer.pubkey()) == funds and balance(server, to) == 0
    assert status_of(server, tx) is None


def test_airdrop_below_the_minimum_to_a_new_address_fails(server, client):
    minimum = rpc(server.url, "getMinimumBalanceForRentExemption", [0])["result"]
    assert minimum == RENT_EXEMPT_0
    small = Keypair().pubkey()
    # As agave 3.1.12 does: the signature comes back, the transaction lands with the error.
    reply = rpc(server.url, "requestAirdrop", [str(small), 1_000])
    client.confirm_transaction(Signature.from_string(reply["result"]), Confirmed)
    (status,) = rpc(server.url, "getSignatureStatuses", [[reply["result"]]])["result"]["value"]
    assert status["err"] == {"InsufficientFundsForRent": {"account_index": 1}}
    assert balance(server, small) == 0
    enough = Keypair().pubkey()
    reply = rpc(server.url, "requestAirdrop", [str(enough), minimum])
    assert "error" not in reply, reply
    client.confirm_transaction(Signature.from_string(reply["result"]), Confirmed)
    (status,) = rpc(server.url, "getSignatureStatuses", [[reply["result"]]])["result"]["value"]
    assert status is not None and status["err"] is None
    assert balance(server, enough) == minimum


def test_transfer_of_exactly_the_minimum_to_a_new_address(server, client):
    funds = 1_000_000_000
    payer = funded(client, funds)
    to = Keypair().pubkey()
    tx = pay_tx(client, payer, to, RENT_EXEMPT_0)
    reply = send_raw(server, tx)
    assert reply.get("result") == str(tx.signatures[0]), reply
    client.confirm_transaction(tx.signatures[0], Confirmed)
    status = status_of(server, tx)
    assert status is not None and status["err"] is None
    assert balance(server, to) == RENT_EXEMPT_0
    assert balance(server, payer.pubkey()) == funds - RENT_EXEMPT_0 - FEE
