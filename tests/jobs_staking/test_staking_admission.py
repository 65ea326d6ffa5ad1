"""work admits a node by its stake: with a minimum stake, the node's Stake under the
market's config (checked by owner, size and discriminator, then its config and owner
links) must be staked with at least that weight. Happy paths, the threshold, and the
stakes an attacker might pass instead."""

from __future__ import annotations

import hashlib

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from crowdcompute.client.staking.program import DAY, StakingSettings
from tests.support import assert_refused
from tests.jobs.test_hostile import plant

from .conftest import MIN_LOCK, MIN_STAKE, World, market_settings

RANDOM_PROGRAM_ID = Pubkey(hashlib.sha256(b"a random program").digest())


def work_with_stake(world: World, node, stake: Pubkey | None) -> object:
    """work by `node` passing `stake` as its stake account (None: left off, and the bond's
    accounts with it)."""
    ix = world.jobs.work(node=node.pubkey, market=world.market, stake_config=world.config, bond_config=world.config)
    metas = list(ix.accounts[:3]) + ([] if stake is None else [AccountMeta(stake, False, True)] + list(ix.accounts[4:]))
    return world.send([Instruction(ix.program_id, ix.data, metas)], [node.keypair])


def test_a_staked_node_queues_and_takes_jobs(world: World):
    node = world.node()
    queued = world.events(world.must(world.sb.work(world.market, node)))
    assert "NodeQueued" in queued
    poster = world.poster()
    job, outcome = world.post(poster)
    world.must(outcome)
    assert world.events(outcome)["JobMatched"].node == node.pubkey
    # And the other way round: a job waits, a staked node takes it.
    world.post(poster)
    other = world.node()
    assert world.events(world.must(world.sb.work(world.market, other)))["JobMatched"].node == other.pubkey


@pytest.mark.parametrize("amount, admitted", [(MIN_STAKE - 1, False), (MIN_STAKE, True)])
def test_weight_just_below_and_at_the_minimum(world: World, errors, amount, admitted):
    node = world.node(stake=amount)  # locked for the shortest duration: weight = amount
    assert world.stake_of(node).weight == amount
    outcome = world.sb.work(world.market, node)
    if admitted:
        world.must(outcome)
    else:
        assert_refused(outcome, errors, "StakeTooLow")


def test_a_longer_lock_weighs_more(world: World):
    # 600 tokens locked a year weigh 2,400 (4x): above the minimum of 1,000.
    node = world.node(stake=600, duration=365 * DAY)
    assert world.stake_of(node).weight == 2_400
    world.must(world.sb.work(world.market, node))


def test_an_unlocking_stake_is_refused(world: World, errors):
    node = world.node()
    world.must(world.sb.unstake(world.config, node))
    assert_refused(world.sb.work(world.market, node), errors, "StakeTooLow")
    # Restaked, it is admitted again.
    world.must(world.sb.restake(world.config, node))
    world.must(world.sb.work(world.market, node))


def test_a_stake_slashed_below_the_minimum_is_refused(world: World, errors):
    node = world.node(stake=MIN_STAKE)
    world.must(world.sb.slash(world.config, world.staking_authority, node.pubkey, 1))
    assert_refused(world.sb.work(world.market, node), errors, "StakeTooLow")


def test_a_raised_minimum_applies_to_the_next_work(world: World, errors):
    node = world.node(stake=MIN_STAKE)
    world.must(world.sb.work(world.market, node))
    world.must(world.update(market_settings(world.config, min_stake=MIN_STAKE + 1)))
    assert_refused(world.sb.work(world.market, node), errors, "StakeTooLow")


def test_no_stake_account_passed(world: World, errors):
    node = world.node()
    assert_refused(work_with_stake(world, node, None), errors, "StakingAccountsMissing")


def test_the_jobs_program_id_as_placeholder_is_absent(world: World, errors):
    node = world.node()
    assert_refused(work_with_stake(world, node, world.jobs.program_id), errors, "StakingAccountsMissing")


def test_a_node_that_never_staked(world: World, errors):
    node = world.node(stake=0)
    assert_refused(world.sb.work(world.market, node), errors, "StakeInvalid")


def test_a_stake_of_another_owner(world: World, errors):
    rich, node = world.node(stake=10 * MIN_STAKE), world.node(stake=0)
    assert_refused(work_with_stake(world, node, world.staking.stake(world.config, rich.pubkey)), errors, "StakeInvalid")


def test_a_stake_of_another_config(world: World, errors):
    other, _, outcome = world.sb.init(StakingSettings())
    world.must(outcome)
    node = world.node(stake=0)
    world.must(world.sb.stake(other, node, 10 * MIN_STAKE, MIN_LOCK))
    assert_refused(work_with_stake(world, node, world.staking.stake(other, node.pubkey)), errors, "StakeInvalid")


@pytest.mark.parametrize("owner", ["random", "jobs", "system"])
def test_a_fake_stake_with_the_right_layout(world: World, errors, owner):
    """The node's own stake bytes, weight and all, at an address another program owns."""
    node = world.node()
    data = bytes(world.sb.chain.account(world.staking.stake(world.config, node.pubkey)).data)
    owners = {"random": RANDOM_PROGRAM_ID, "jobs": world.jobs.program_id, "system": Pubkey.default()}
    fake = plant(world.sb.chain, data, owners[owner])
    stranger = world.node(stake=0)
    forged = bytearray(data)
    forged[8:40] = bytes(stranger.pubkey)  # owner field: the stranger
    fake_for_stranger = plant(world.sb.chain, bytes(forged), owners[owner])
    assert_refused(work_with_stake(world, node, fake), errors, "StakeInvalid")
    assert_refused(work_with_stake(world, stranger, fake_for_stranger), errors, "StakeInvalid")


def test_the_config_passed_as_a_stake(world: World, errors):
    node = world.node()
    assert_refused(work_with_stake(world, node, world.config), errors, "StakeInvalid")


def test_a_staking_owned_account_of_another_size(world: World, errors):
    node = world.node()
    data = bytes(world.sb.chain.account(world.staking.stake(world.config, node.pubkey)).data) + b"\0"
    assert_refused(work_with_stake(world, node, plant(world.sb.chain, data, world.staking.program_id)), errors, "StakeInvalid")


def test_without_a_minimum_or_a_penalty_no_stake_is_read(world: World):
    market = world.open(market_settings(world.config, min_stake=0, slash_penalty=0))
    node = world.node(stake=0)
    world.must(world.send([world.jobs.work(node=node.pubkey, market=market)], [node.keypair]))


def test_a_staked_node_still_holds_at_most_the_per_node_cap(world: World, errors):
    market = world.open(market_settings(world.config, max_entries_per_node=2))
    node = world.node(stake=10 * MIN_STAKE)  # backs far more entries than the cap allows
    for _ in range(2):
        world.must(world.sb.work(market, node))
    assert_refused(world.sb.work(market, node), errors, "NodeEntriesExceeded")


def test_the_stake_account_must_be_writable(world: World, errors):
    # A penalty locks on the stake: the interface declares it writable, for every market.
    node = world.node()
    stake = world.staking.stake(world.config, node.pubkey)
    ix = world.jobs.work(node=node.pubkey, market=world.market, stake_config=world.config, bond_config=world.config)
    read_only = list(ix.accounts[:3]) + [AccountMeta(stake, False, False)] + list(ix.accounts[4:])
    assert_refused(world.send([Instruction(ix.program_id, ix.data, read_only)], [node.keypair]), errors, "AccountNotWritable")
    world.must(world.send([ix], [node.keypair]))
