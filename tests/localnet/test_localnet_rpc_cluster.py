"""Cluster-wide methods a one-node cluster answers: performance samples, block production,
inflation rewards, the stake minimum delegation. Over real HTTP, solana-py where it has the
method, raw JSON-RPC otherwise."""

from __future__ import annotations

import time

from solders.keypair import Keypair

from .localnet_helpers import funded, rpc


def test_recent_performance_samples_count_slots_and_transactions(server, client):
    payer = funded(client)  # one airdrop transaction at least
    time.sleep(0.3)  # its slot (100 ms here) ends, and its block with it
    samples = rpc(server.url, "getRecentPerformanceSamples", [5])["result"]
    assert 1 <= len(samples) <= 5
    for sample in samples:
        assert set(sample) == {"slot", "numTransactions", "numNonVoteTransactions", "numSlots", "samplePeriodSecs"}
        assert sample["samplePeriodSecs"] == 60 and sample["numSlots"] >= 1
        assert sample["numNonVoteTransactions"] == sample["numTransactions"]
    assert [s["slot"] for s in samples] == sorted((s["slot"] for s in samples), reverse=True)
    assert sum(s["numTransactions"] for s in rpc(server.url, "getRecentPerformanceSamples")["result"]) >= 1
    assert client.get_balance(payer.pubkey()).value > 0
    assert rpc(server.url, "getRecentPerformanceSamples", [721])["error"]["code"] == -32602


def test_block_production_credits_the_one_leader_with_every_slot(server):
    time.sleep(0.25)  # a few slots
    reply = rpc(server.url, "getBlockProduction")["result"]
    identity = rpc(server.url, "getIdentity")["result"]["identity"]
    leader_slots, produced = reply["value"]["byIdentity"][identity]
    window = reply["value"]["range"]
    assert leader_slots == produced >= 1
    assert window["firstSlot"] <= window["lastSlot"]
    assert rpc(server.url, "getBlockProduction", [{"identity": str(Keypair().pubkey())}])["result"]["value"]["byIdentity"] == {}


def test_inflation_reward_is_null_per_address(server):
    addresses = [str(Keypair().pubkey()) for _ in range(3)]
    assert rpc(server.url, "getInflationReward", [addresses])["result"] == [None, None, None]
    assert rpc(server.url, "getInflationReward", [["not a key"]])["error"]["code"] == -32602
    assert rpc(server.url, "getInflationReward", [])["error"]["code"] == -32602


def test_stake_minimum_delegation(server):
    reply = rpc(server.url, "getStakeMinimumDelegation")["result"]
    assert reply["value"] == 1_000_000_000 and reply["context"]["slot"] >= 0
