"""Fees as a validator charges them: the signature fee plus the prioritization fee (compute
unit price x limit), taken before execution and kept when execution fails; getFeeForMessage
and getRecentPrioritizationFees agree with what was charged."""

from __future__ import annotations

import base64
import time

from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from crowdcompute.localnet.runtime.fees import compute_budget

from .localnet_helpers import RENT_EXEMPT_0, funded, rpc, send_raw


def signed(client: Client, payer: Keypair, instructions: list) -> Transaction:
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    return Transaction([payer], Message.new_with_blockhash(instructions, payer.pubkey(), blockhash), blockhash)


def meta_of(server, signature: str) -> dict:
    return rpc(server.url, "getTransaction", [signature, {"commitment": "confirmed"}])["result"]["meta"]


def test_default_limits_follow_agave():
    payer, to = Keypair(), Keypair().pubkey()
    pay = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=1))
    blockhash = Keypair().pubkey()  # any 32 bytes
    def budget(ixs):
        from solders.hash import Hash
        return compute_budget(Message.new_with_blockhash(ixs, payer.pubkey(), Hash(bytes(blockhash))))
    plain = budget([pay])
    assert (plain.limit, plain.price, plain.fee) == (3_000, 0, 5_000)  # System is a builtin
    priced = budget([set_compute_unit_price(1_000_000), pay])
    assert (priced.limit, priced.priority_fee, priced.fee) == (6_000, 6_000, 11_000)  # two builtin instructions
    capped = budget([set_compute_unit_limit(5_000_000), set_compute_unit_price(3), pay])
    assert (capped.limit, capped.priority_fee) == (1_400_000, 5)  # ceil(3 * 1.4M / 10^6) = ceil(4.2)


def test_priority_fee_is_charged_and_reported(server, client):
    payer = funded(client, 1_000_000_000)
    to = Keypair().pubkey()
    amount = RENT_EXEMPT_0 + 777  # a new address must be left rent-exempt
    ixs = [set_compute_unit_limit(10_000), set_compute_unit_price(1_000), transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=amount))]
    tx = signed(client, payer, ixs)
    fee = rpc(server.url, "getFeeForMessage", [base64.b64encode(bytes(tx.message)).decode()])["result"]["value"]
    assert fee == 5_000 + 10  # ceil(1,000 micro-lamports x 10,000 CU / 10^6)
    signature = send_raw(server, tx)["result"]
    client.confirm_transaction(tx.signatures[0], Confirmed)
    meta = meta_of(server, signature)
    assert meta["err"] is None and meta["fee"] == 5_010
    assert meta["preBalances"][0] - meta["postBalances"][0] == amount + 5_010
    assert client.get_balance(payer.pubkey()).value == 1_000_000_000 - amount - 5_010
    assert client.get_balance(to).value == amount


def test_failed_transaction_keeps_the_whole_fee(server, client):
    payer = funded(client, 1_000_000_000)
    ixs = [set_compute_unit_price(1_000_000), transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10**15))]
    tx = signed(client, payer, ixs)
    assert send_raw(server, tx)["error"]["code"] == -32002  # preflight
    assert client.get_balance(payer.pubkey()).value == 1_000_000_000  # nothing charged for a refused preflight
    signature = send_raw(server, tx, skip_preflight=True)["result"]
    client.confirm_transaction(tx.signatures[0], Confirmed)
    meta = meta_of(server, signature)
    assert meta["err"] == {"InstructionError": [1, {"Custom": 1}]}
    assert meta["fee"] == 11_000 and meta["preBalances"][0] - meta["postBalances"][0] == 11_000
    assert client.get_balance(payer.pubkey()).value == 1_000_000_000 - 11_000


def test_payer_who_cannot_pay_the_priority_fee_never_lands_and_pays_nothing(server, client):
    payer = funded(client, RENT_EXEMPT_0)  # the signature fee, not the 1,000,000-lamport priority fee
    ixs = [set_compute_unit_limit(1_000_000), set_compute_unit_price(1_000_000), transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))]
    tx = signed(client, payer, ixs)
    reply = send_raw(server, tx)  # preflight refuses it
    assert reply["error"]["code"] == -32002 and reply["error"]["data"]["err"] == "InsufficientFundsForFee", reply
    # skipPreflight: answered with its signature, as agave answers it, and dropped
    reply = send_raw(server, tx, skip_preflight=True)
    assert reply.get("result") == str(tx.signatures[0]), reply
    assert client.get_balance(payer.pubkey()).value == RENT_EXEMPT_0
    statuses = rpc(server.url, "getSignatureStatuses", [[str(tx.signatures[0])], {"searchTransactionHistory": True}])["result"]["value"]
    assert statuses == [None]


def test_recent_prioritization_fees(server, client):
    payer, other = funded(client, 1_000_000_000), funded(client, 1_000_000_000)
    hot = Keypair().pubkey()
    cheap = signed(client, other, [transfer(TransferParams(from_pubkey=other.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0))])
    priced = signed(client, payer, [set_compute_unit_price(2_500), transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=hot, lamports=RENT_EXEMPT_0))])
    for tx in (cheap, priced):
        send_raw(server, tx, skip_preflight=True)
    client.confirm_transaction(priced.signatures[0], Confirmed)
    slot = client.get_signature_statuses([priced.signatures[0]]).value[0].slot
    deadline = time.monotonic() + 10
    while True:  # the slot must be over to be listed
        reply = rpc(server.url, "getRecentPrioritizationFees", [[str(hot)]])["result"]
        fees = {e["slot"]: e["prioritizationFee"] for e in reply}
        if slot in fees:
            break
        assert time.monotonic() < deadline, f"slot {slot} never listed"
        time.sleep(0.02)
    assert fees[slot] == 2_500  # the lowest price among those that write-locked `hot`
    overall = {e["slot"]: e["prioritizationFee"] for e in rpc(server.url, "getRecentPrioritizationFees", [])["result"]}
    cheap_slot = client.get_signature_statuses([cheap.signatures[0]]).value[0].slot
    if cheap_slot == slot:
        assert overall[slot] == 0  # a zero-price transaction in the same slot
    else:
        assert overall[slot] == 2_500
    assert len(reply) <= 150 and all(e["slot"] < rpc(server.url, "getSlot", [{"commitment": "processed"}])["result"] for e in reply)
    assert rpc(server.url, "getRecentPrioritizationFees", [["not a key"]])["error"]["code"] == -32602


def test_preflight_takes_the_priority_fee_off_first(server, client):
    """A payer may drain itself to zero paying a prioritization fee: preflight must see the
    balance after the whole fee, as execution does, not a rent-paying remainder."""
    funds = 5_000_000
    payer, to = funded(client, funds), funded(client, RENT_EXEMPT_0)
    fee = 5_000 + 10_000  # 1,000,000 micro-lamports x 10,000 CU
    ixs = [set_compute_unit_limit(10_000), set_compute_unit_price(1_000_000),
           transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to.pubkey(), lamports=funds - fee))]
    tx = signed(client, payer, ixs)
    simulated = rpc(server.url, "simulateTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])["result"]["value"]
    assert simulated["err"] is None, simulated
    signature = send_raw(server, tx)["result"]  # with preflight
    client.confirm_transaction(tx.signatures[0], Confirmed)
    assert meta_of(server, signature)["fee"] == fee
    assert client.get_account_info(payer.pubkey()).value is None  # drained to zero: gone
    assert client.get_balance(to.pubkey()).value == RENT_EXEMPT_0 + funds - fee
