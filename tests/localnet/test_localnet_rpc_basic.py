"""Cluster methods, shapes and errors, over real HTTP (raw JSON and solana-py's Client)."""

from __future__ import annotations

import time

import base64
import json

from solana.rpc.commitment import Confirmed, Finalized, Processed
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from .localnet_helpers import rpc


def result(server, method, params=None):
    reply = rpc(server.url, method, params)
    assert "error" not in reply, reply
    assert reply["jsonrpc"] == "2.0" and reply["id"] == 1
    return reply["result"]


def error(server, method, params=None, raw=None):
    reply = rpc(server.url, method, params, raw=raw)
    assert "result" not in reply, reply
    return reply["error"]


def test_health_version_identity_genesis(server, client):
    assert result(server, "getHealth") == "ok"
    version = result(server, "getVersion")
    assert set(version) == {"solana-core", "feature-set"} and isinstance(version["feature-set"], int)
    assert client.get_version().value.solana_core == version["solana-core"]
    identity = result(server, "getIdentity")["identity"]
    Pubkey.from_string(identity)
    genesis = result(server, "getGenesisHash")
    assert client.get_genesis_hash().value == Hash.from_string(genesis)


def test_slots_and_commitment_order(server, client):
    processed = client.get_slot(Processed).value
    confirmed = client.get_slot(Confirmed).value
    finalized = client.get_slot(Finalized).value
    assert finalized <= confirmed <= processed + 1
    assert client.get_block_height(Finalized).value <= client.get_block_height(Processed).value
    info = result(server, "getEpochInfo")
    assert set(info) == {"absoluteSlot", "blockHeight", "epoch", "slotIndex", "slotsInEpoch", "transactionCount"}
    assert info["absoluteSlot"] == info["blockHeight"] >= finalized
    epoch = client.get_epoch_info().value
    assert epoch.slot_index < epoch.slots_in_epoch


def test_latest_blockhash_valid_and_fee(server, client):
    reply = result(server, "getLatestBlockhash", [{"commitment": "confirmed"}])
    assert set(reply) == {"context", "value"} and set(reply["context"]) == {"slot", "apiVersion"}
    value = reply["value"]
    assert value["lastValidBlockHeight"] == reply["context"]["slot"] + 150
    assert result(server, "isBlockhashValid", [value["blockhash"], {"commitment": "processed"}])["value"] is True
    assert result(server, "isBlockhashValid", [str(Hash.new_unique())])["value"] is False
    payer = Keypair()
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))],
                                         payer.pubkey(), Hash.from_string(value["blockhash"]))
    assert client.get_fee_for_message(message).value == 5000
    stale = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=payer.pubkey(), lamports=1))],
                                       payer.pubkey(), Hash.new_unique())
    assert result(server, "getFeeForMessage", [base64.b64encode(bytes(stale)).decode()])["value"] is None


def test_rent_and_prioritization_fees(server, client):
    assert client.get_minimum_balance_for_rent_exemption(0).value == 890_880
    assert client.get_minimum_balance_for_rent_exemption(165).value == 2_039_280
    fees = result(server, "getRecentPrioritizationFees", [[str(Keypair().pubkey())]])
    # only slots that had transactions are listed, as agave's cache does (maybe none yet)
    assert all(set(f) == {"slot", "prioritizationFee"} and f["prioritizationFee"] == 0 for f in fees)
    assert len(fees) <= 150


def test_balance_and_missing_account(server, client):
    nobody = Keypair().pubkey()
    assert client.get_balance(nobody).value == 0
    assert client.get_account_info(nobody).value is None
    reply = result(server, "getAccountInfo", [str(nobody), {"encoding": "base64"}])
    assert reply["value"] is None and reply["context"]["apiVersion"]


def test_error_codes(server):
    assert error(server, "noSuchMethod")["code"] == -32601
    assert error(server, "getBalance", ["not-a-pubkey"])["code"] == -32602
    assert error(server, "getBalance", [])["code"] == -32602
    assert error(server, "getBalance", {"a": 1})["code"] == -32602
    assert error(server, "getMinimumBalanceForRentExemption", [-1])["code"] == -32602
    assert error(server, "getSlot", [{"commitment": "bogus"}])["code"] == -32602
    assert error(server, None, raw=b"{not json")["code"] == -32700
    assert error(server, None, raw=b'{"jsonrpc": "1.0", "id": 1, "method": "getSlot"}')["code"] == -32600
    assert error(server, None, raw=b'"just a string"')["code"] == -32600
    assert error(server, None, raw=b"[]")["code"] == -32600
    # garbage transactions
    assert error(server, "sendTransaction", ["AAAA", {"encoding": "base64"}])["code"] == -32602
    assert error(server, "sendTransaction", ["0OIl", {"encoding": "base58"}])["code"] == -32602
    assert error(server, "sendTransaction", [base64.b64encode(b"\x01" + bytes(200)).decode(), {"encoding": "base64"}])["code"] == -32602
    assert error(server, "sendTransaction", ["A" * 5000, {"encoding": "base64"}])["code"] == -32602
    assert error(server, "simulateTransaction", [12, {"encoding": "base64"}])["code"] == -32602
    # oversized body and batch
    assert error(server, None, raw=b"[" + b"1," * (1024 * 1024 + 10) + b"1]")["code"] == -32600
    batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "getSlot"} for i in range(300)]).encode()
    assert error(server, None, raw=batch)["code"] == -32600
    # the server is still fine
    assert rpc(server.url, "getHealth")["result"] == "ok"


def test_batch(server):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "getHealth"},
        {"jsonrpc": "2.0", "id": "two", "method": "getSlot", "params": [{"commitment": "processed"}]},
        {"jsonrpc": "2.0", "id": 3, "method": "nope"},
        {"jsonrpc": "2.0", "id": 4, "method": "getBalance", "params": ["bad"]},
        42,
    ]
    replies = rpc(server.url, None, raw=json.dumps(batch).encode())
    assert isinstance(replies, list) and len(replies) == 5
    assert replies[0] == {"jsonrpc": "2.0", "result": "ok", "id": 1}
    assert replies[1]["id"] == "two" and isinstance(replies[1]["result"], int)
    assert replies[2]["error"]["code"] == -32601 and replies[2]["id"] == 3
    assert replies[3]["error"]["code"] == -32602 and replies[3]["id"] == 4
    assert replies[4]["error"]["code"] == -32600 and replies[4]["id"] is None


def test_one_node_cluster_methods(server, client):
    identity = client.get_identity().value.identity
    assert len(client.get_cluster_nodes().value) == 1  # parsed by solana-py
    nodes = result(server, "getClusterNodes")
    assert nodes[0]["pubkey"] == str(identity) and nodes[0]["rpc"] == f"127.0.0.1:{server.port}"
    votes = client.get_vote_accounts().value
    assert votes.current == [] and votes.delinquent == []
    assert client.get_slot_leader().value == identity
    assert result(server, "getSlotLeaders", [0, 3]) == [str(identity)] * 3
    schedule = client.get_leader_schedule().value
    assert list(schedule) == [identity] and len(schedule[identity]) == client.get_epoch_info().value.slots_in_epoch
    supply = client.get_supply().value
    # Genesis: the faucet's 500M SOL, the native mint's 1 SOL and the rent of the feature
    # accounts, Token-2022's native mint and the startup programs (jobs and staking, about
    # half a SOL of rent each); fees are burned since.
    assert 400_000_000 * 10**9 < supply.total <= 500_000_004 * 10**9 and supply.non_circulating == 0
    largest = client.get_largest_accounts().value
    assert largest[0].lamports == max(a.lamports for a in largest)
    assert client.get_inflation_governor().value.initial == 0.0
    assert client.get_inflation_rate().value.total == 0.0
    assert client.get_block_commitment(0).value.total_stake == 0
    first = client.get_first_available_block().value
    assert first == client.get_minimum_ledger_slot().value == 0
    deadline = time.monotonic() + 10
    while client.get_slot(Finalized).value < 1:  # block 0 exists once slot 0 is over
        assert time.monotonic() < deadline
        time.sleep(0.02)
    top = client.get_slot(Finalized).value
    blocks = client.get_blocks(0, top).value
    assert blocks == list(range(0, top + 1))
    assert result(server, "getBlocksWithLimit", [0, 2]) == list(range(0, min(top, 1) + 1))  # no further than finalized
    assert result(server, "getMaxRetransmitSlot") >= top and result(server, "getMaxShredInsertSlot") >= top
    assert error(server, "getHighestSnapshotSlot")["code"] == -32008


def test_clock_sysvar_follows_wall_time(server, client):
    import struct
    import time

    from solders.sysvar import CLOCK

    account = client.get_account_info(CLOCK, Processed).value
    slot, _epoch_start, epoch, _leader_epoch, unix_timestamp = struct.unpack("<QqQQq", bytes(account.data)[:40])
    assert abs(unix_timestamp - time.time()) < 3
    assert abs(slot - client.get_slot(Processed).value) <= 2
    assert epoch == client.get_epoch_info(Processed).value.epoch
    # the programs of Anchor.toml are loaded, with SPL Token, Token-2022, ATA and Memo
    from crowdcompute.client.idl import program_id
    from crowdcompute.common.token import TOKEN_PROGRAM_ID

    for program in (program_id("jobs"), TOKEN_PROGRAM_ID, Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"),
                    Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"), Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")):
        info = client.get_account_info(program).value
        assert info is not None and info.executable, program
