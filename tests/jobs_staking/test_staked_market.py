"""open_market and update_market with staking: a market names a staking config for good
(checked: a Config of the staking program, of the market's mint), and bounds its minimum
stake, slash penalty, reclaim bounty and network fee; each job keeps the terms it was
posted under."""

from __future__ import annotations

import hashlib

import pytest
from solders.pubkey import Pubkey

from crowdcompute.client import MarketSettings
from crowdcompute.client.staking.program import StakingSettings
from crowdcompute.client.staking.pda import slasher_address
from tests.support import assert_refused
from tests.jobs.test_hostile import plant

from .conftest import BOUNTY_BPS, FEE_BPS, MIN_STAKE, PENALTY, World, market_settings

RANDOM_PROGRAM_ID = Pubkey(hashlib.sha256(b"a random program").digest())


def test_open_market_names_the_config_and_its_terms(world: World):
    state = world.sb.market_state(world.market)
    assert (state.staking_config, state.min_stake, state.slash_penalty, state.reclaim_bounty_bps, state.fee_bps) == (
        world.config, MIN_STAKE, PENALTY, BOUNTY_BPS, FEE_BPS)
    # The jobs program's PDA ["slasher"], derived once so reclaim signs without a derivation.
    assert state.slasher_bump == slasher_address(world.jobs.program_id)[1]


def test_open_market_event_carries_the_staking_terms(world: World):
    market, _, outcome = world.sb.open_market(market_settings(world.config), capacity=4, authority=world.authority)
    opened = world.events(world.must(outcome))["MarketOpened"]
    assert (opened.market, opened.staking_config, opened.min_stake, opened.slash_penalty, opened.reclaim_bounty_bps, opened.fee_bps) == (
        market, world.config, MIN_STAKE, PENALTY, BOUNTY_BPS, FEE_BPS)


@pytest.mark.parametrize("setting", [dict(min_stake=1), dict(slash_penalty=1), dict(fee_bps=1)])
def test_a_staking_setting_needs_a_config(world: World, errors, setting):
    settings = MarketSettings(price_per_second=10, max_timeout=600, **setting)
    _, _, outcome = world.sb.open_market(settings, capacity=4)
    assert_refused(outcome, errors, "StakingConfigMissing")


def test_a_bounty_alone_needs_no_config(world: World):
    # Without a penalty there is nothing to share: harmless, so allowed.
    world.must(world.sb.open_market(MarketSettings(price_per_second=10, max_timeout=600, reclaim_bounty_bps=500), capacity=4)[2])


@pytest.mark.parametrize("setting, ok", [
    (dict(fee_bps=1_000), True), (dict(fee_bps=1_001), False),
    (dict(reclaim_bounty_bps=10_000), True), (dict(reclaim_bounty_bps=10_001), False),
])
def test_fee_and_bounty_bounds(world: World, errors, setting, ok):
    _, _, outcome = world.sb.open_market(market_settings(world.config, **setting), capacity=4)
    if ok:
        world.must(outcome)
    else:
        assert_refused(outcome, errors, "SettingInvalid")


def open_with_account(world: World, settings: MarketSettings, account: Pubkey | None):
    """open_market with `settings`, its staking_config account left off (None) or `account`."""
    from solders.instruction import AccountMeta, Instruction
    from solders.keypair import Keypair

    from crowdcompute.client.jobs.layout import market_size

    market = Keypair()
    authority = world.sb.actor()
    create = world.jobs.create_market_account(authority.pubkey, market.pubkey(), capacity=4, lamports=world.sb.chain.rent_exempt(market_size(4)))
    ix = world.jobs.open_market(authority.pubkey, market.pubkey(), world.sb.mint, settings)
    required = [meta for meta in ix.accounts][:7]  # authority .. rent; staking_config is the 8th
    metas = required if account is None else required + [AccountMeta(account, False, False)]
    return world.send([create, Instruction(ix.program_id, ix.data, metas)], [authority.keypair, market])


def test_named_config_not_passed(world: World, errors):
    assert_refused(open_with_account(world, market_settings(world.config), None), errors, "StakingAccountsMissing")


def test_config_account_other_than_the_named_one(world: World, errors):
    other, _, outcome = world.sb.init(StakingSettings())
    world.must(outcome)
    assert_refused(open_with_account(world, market_settings(world.config), other), errors, "StakingConfigInvalid")


def test_config_account_passed_while_none_is_named(world: World, errors):
    settings = MarketSettings(price_per_second=10, max_timeout=600)
    assert_refused(open_with_account(world, settings, world.config), errors, "StakingConfigInvalid")


def test_config_of_another_mint(world: World, errors):
    other_mint = world.sb.new_mint()
    treasury = world.sb.token_account(world.staking_authority.pubkey, other_mint)
    config, _, outcome = world.sb.init(StakingSettings(), mint=other_mint, treasury=treasury)
    world.must(outcome)
    _, _, outcome = world.sb.open_market(market_settings(config), capacity=4)
    assert_refused(outcome, errors, "StakingConfigMintMismatch")


@pytest.mark.parametrize("owner", ["random", "jobs"])
def test_look_alike_config_of_another_program(world: World, errors, owner):
    """The config's exact bytes at an address another program owns (the jobs program
    itself, or any): the staking program's id is a constant, never the caller's choice."""
    data = bytes(world.sb.chain.account(world.config).data)
    fake = plant(world.sb.chain, data, RANDOM_PROGRAM_ID if owner == "random" else world.jobs.program_id)
    _, _, outcome = world.sb.open_market(market_settings(fake), capacity=4)
    assert_refused(outcome, errors, "StakingConfigInvalid")


def test_stake_account_passed_as_the_config(world: World, errors):
    node = world.node()
    stake = world.staking.stake(world.config, node.pubkey)
    _, _, outcome = world.sb.open_market(market_settings(stake), capacity=4)
    assert_refused(outcome, errors, "StakingConfigInvalid")


def test_config_truncated_copy_owned_by_staking(world: World, errors):
    """A staking-owned account of another size (the rewards pool is the token program's;
    plant one the staking program owns) is not a Config."""
    data = bytes(world.sb.chain.account(world.config).data)[:100]
    fake = plant(world.sb.chain, data, world.staking.program_id)
    _, _, outcome = world.sb.open_market(market_settings(fake), capacity=4)
    assert_refused(outcome, errors, "StakingConfigInvalid")


# -- update_market --------------------------------------------------------------------------

def test_update_changes_the_staking_terms(world: World):
    settings = market_settings(world.config, min_stake=5, reclaim_bounty_bps=10_000, fee_bps=1_000)
    updated = world.events(world.must(world.update(settings)))["MarketUpdated"]
    assert (updated.min_stake, updated.slash_penalty, updated.reclaim_bounty_bps, updated.fee_bps) == (5, PENALTY, 10_000, 1_000)
    state = world.sb.market_state(world.market)
    assert (state.min_stake, state.slash_penalty, state.reclaim_bounty_bps, state.fee_bps, state.staking_config) == (
        5, PENALTY, 10_000, 1_000, world.config)


@pytest.mark.parametrize("penalty", [0, PENALTY + 1, PENALTY - 1])
def test_update_never_changes_the_slash_penalty(world: World, errors, penalty):
    # Every job running and entry waiting locks the penalty on its node's stake and releases
    # the same amount: a node is never slashed for more than its stake backs.
    assert_refused(world.update(market_settings(world.config, slash_penalty=penalty)), errors, "SettingInvalid")


def test_update_can_turn_the_other_staking_terms_off(world: World):
    world.must(world.update(market_settings(world.config, min_stake=0, fee_bps=0)))
    node = world.node(stake=PENALTY)  # no minimum weight any more; the stake backs the penalty
    world.must(world.sb.work(world.market, node))


@pytest.mark.parametrize("config", ["none", "other"])
def test_update_never_changes_the_config(world: World, errors, config):
    if config == "none":
        settings = MarketSettings(price_per_second=10, max_timeout=3600)
    else:
        other, _, outcome = world.sb.init(StakingSettings())
        world.must(outcome)
        settings = market_settings(other)
    assert_refused(world.update(settings), errors, "SettingInvalid")


def test_update_bounds(world: World, errors):
    assert_refused(world.update(market_settings(world.config, fee_bps=1_001)), errors, "SettingInvalid")
    assert_refused(world.update(market_settings(world.config, reclaim_bounty_bps=10_001)), errors, "SettingInvalid")


def test_a_market_opened_without_staking_cannot_add_it(world: World, errors):
    market, authority, outcome = world.sb.open_market(MarketSettings(price_per_second=10, max_timeout=600), capacity=4)
    world.must(outcome)
    ix = world.jobs.update_market(authority.pubkey, market, market_settings(world.config))
    assert_refused(world.send([ix], [authority.keypair]), errors, "SettingInvalid")


def test_jobs_keep_the_terms_they_were_posted_under(world: World):
    poster = world.poster()
    job, outcome = world.post(poster)
    world.must(outcome)
    world.must(world.update(market_settings(world.config, reclaim_bounty_bps=0, fee_bps=1_000)))
    state = world.sb.job_state(job)
    assert (state.slash_penalty, state.reclaim_bounty_bps, state.fee_bps) == (PENALTY, BOUNTY_BPS, FEE_BPS)
