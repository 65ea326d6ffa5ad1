"""The network fee: on every deposit (post, extend) the payer also pays ceil(deposit x
fee_bps / 10,000) into the staking config's rewards pool, through the staking program's
deposit_fees, where stakers claim it by weight. Not escrowed, never refunded; the market
vault still holds exactly what is escrowed. And the ways a payer might try to dodge it."""

from __future__ import annotations

import hashlib

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client.jobs.program import network_fee
from crowdcompute.client.staking.program import StakingSettings
from tests.support import assert_refused, market_bytes
from tests.jobs.test_hostile import JOBS_ACCOUNTS

from .conftest import FEE_BPS, FUNDS, PRICE, World, market_settings

RANDOM_PROGRAM_ID = Pubkey(hashlib.sha256(b"a random program").digest())
FEE_ACCOUNTS = ("staking_program", "staking_config", "rewards_pool")


def test_post_pays_the_fee_into_the_rewards_pool(world: World):
    poster = world.poster()
    before = world.sb.balance(poster.token)
    job, outcome = world.post(poster, timeout=600)
    world.must(outcome)
    deposit, fee = PRICE * 600, 60  # 1% of 6,000
    assert world.sb.balance(poster.token) == before - deposit - fee
    assert world.sb.vault_balance(world.market) == world.sb.market_state(world.market).escrowed == deposit
    assert world.pool() == fee
    assert world.events(outcome)["NetworkFeePaid"].fee == fee and world.events(outcome)["NetworkFeePaid"].job == job
    deposited = world.staking_events(outcome)["FeesDeposited"]
    assert (deposited.config, deposited.amount) == (world.config, fee)
    assert world.sb.config_state(world.config).rewards_deposited == fee


def test_stakers_claim_the_fees_by_weight(world: World):
    # Weights 1,024 and 3,072: a power-of-two total, so the shares are exact in the
    # staking program's binary fixed point (other totals leave under a unit of dust).
    small, large = world.node(stake=1_024), world.node(stake=3_072)
    for _ in range(2):
        world.must(world.post(world.poster(), timeout=2_000)[1])  # 200 in fees each
    world.must(world.sb.claim(world.config, small))
    world.must(world.sb.claim(world.config, large))
    claimed_small = world.sb.balance(small.token) - 10_000
    claimed_large = world.sb.balance(large.token) - 10_000
    assert (claimed_small, claimed_large) == (100, 300)
    assert world.pool() == 0


@pytest.mark.parametrize("deposit, bps, fee", [(1, 100, 1), (99, 100, 1), (100, 100, 1), (101, 100, 2), (10_000, 1, 1), (10_001, 1, 2)])
def test_the_fee_rounds_up(deposit, bps, fee):
    """In the network's favour: no deposit, however small, escapes a non-zero rate."""
    assert network_fee(deposit, bps) == fee


def test_a_tiny_deposit_pays_one_unit(world: World):
    market = world.open(market_settings(world.config, price_per_second=1, fee_bps=1))
    poster = world.poster()
    before = world.sb.balance(poster.token)
    world.must(world.post(poster, timeout=1, market=market)[1])
    assert before - world.sb.balance(poster.token) == 2  # 1 deposited, 1 of fee
    assert world.pool() == 1


def test_extend_pays_the_fee_at_the_jobs_rate(world: World):
    """So extend needs no max_fee_bps: the rate was bounded by the payer at post."""
    poster = world.poster()
    job, outcome = world.post(poster, timeout=600)
    world.must(outcome)
    world.must(world.update(market_settings(world.config, fee_bps=1_000)))  # later posts pay 10%
    before, pool = world.sb.balance(poster.token), world.pool()
    outcome = world.must(world.extend(job, poster, 100))
    assert before - world.sb.balance(poster.token) == 1_000 + 10  # the job's 1%, not 10%
    assert world.pool() - pool == 10
    assert world.events(outcome)["NetworkFeePaid"].fee == 10


def test_the_payer_pays_not_the_poster(world: World):
    poster, payer = world.poster(0), world.poster()
    before = world.sb.balance(payer.token)
    job, outcome = world.sb.post(world.market, poster, payer=payer, timeout=100)
    world.must(outcome)
    assert before - world.sb.balance(payer.token) == 1_000 + 10


def test_fees_are_never_refunded(world: World):
    poster = world.poster()
    before = world.sb.balance(poster.token)
    job, outcome = world.post(poster, timeout=600)
    world.must(outcome)
    world.must(world.sb.cancel(world.market, job, poster))
    assert before - world.sb.balance(poster.token) == 60  # the deposit came back, the fee did not
    assert world.pool() == 60


def test_a_market_without_a_fee_needs_no_fee_accounts(world: World):
    market = world.open(market_settings(world.config, fee_bps=0))
    poster = world.poster()
    job, outcome = world.post(poster, market=market)  # the sandbox passes no fee accounts here
    world.must(outcome)
    assert "NetworkFeePaid" not in world.events(outcome) and world.pool() == 0
    assert world.sb.job_state(job).fee_bps == 0


def test_a_free_market_charges_no_fee(world: World):
    market = world.open(market_settings(world.config, price_per_second=0))
    poster, job = world.poster(), Keypair()
    ix = world.jobs.post(poster=poster.pubkey, payer=poster.pubkey, job=job.pubkey(), market=market, payer_token=poster.token,
                         definition=b"d" * 32, timeout=60, max_price_per_second=0, max_fee_bps=FEE_BPS)
    world.must(world.send([ix], [poster.keypair, job]))  # no fee accounts: the fee on nothing is nothing
    assert world.pool() == 0 and world.sb.job_state(job.pubkey()).fee_bps == FEE_BPS


# -- the payer pays only the fee it agreed to --------------------------------------------------

def signed_post(world: World, poster, *, max_fee_bps: int, market: Pubkey | None = None):
    """A post built from what the payer read: the market's price, its fee accounts, and the
    highest fee it accepts."""
    job = Keypair()
    ix = world.jobs.post(poster=poster.pubkey, payer=poster.pubkey, job=job.pubkey(), market=market or world.market, payer_token=poster.token,
                         definition=b"d" * 32, timeout=600, max_price_per_second=PRICE, max_fee_bps=max_fee_bps, fee_config=world.config)
    return ix, job


@pytest.mark.parametrize("seen", [0, FEE_BPS])
def test_authority_raising_the_fee_before_a_post_lands_gets_a_refusal_not_the_payers_tokens(world: World, errors, seen):
    # Before max_fee_bps: the authority (who may hold most of the stake weight, so take most
    # of the fees) raised the fee to 10% just before the post landed, and the payer paid it.
    market = world.open(market_settings(world.config, fee_bps=seen))
    poster = world.poster()
    ix, job = signed_post(world, poster, max_fee_bps=world.sb.market_state(market).fee_bps, market=market)
    world.must(world.update(market_settings(world.config, fee_bps=1_000), market))  # the front-run
    before = (world.sb.balance(poster.token), world.pool(), world.sb.vault_balance(market), market_bytes(world.sb, market))
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "FeeAboveMaximum")
    assert (world.sb.balance(poster.token), world.pool(), world.sb.vault_balance(market), market_bytes(world.sb, market)) == before
    assert before[0] == FUNDS and world.sb.chain.account(job.pubkey()) is None


def test_the_price_bound_is_checked_before_the_fee_bound(world: World, errors):
    world.must(world.update(market_settings(world.config, price_per_second=PRICE + 1, fee_bps=1_000)))
    poster = world.poster()
    ix, job = signed_post(world, poster, max_fee_bps=FEE_BPS)
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "PriceAboveMaximum")


@pytest.mark.parametrize("max_fee_bps", [FEE_BPS, 1_000, 2**16 - 1])
def test_a_fee_at_or_under_the_maximum_is_charged_at_the_markets_rate(world: World, max_fee_bps):
    poster = world.poster()
    ix, job = signed_post(world, poster, max_fee_bps=max_fee_bps)
    outcome = world.must(world.send([ix], [poster.keypair, job]))
    assert world.sb.balance(poster.token) == FUNDS - 6_000 - 60  # the market's 1%, whatever the bound
    assert world.events(outcome)["NetworkFeePaid"].fee == 60 and world.pool() == 60
    assert world.sb.job_state(job.pubkey()).fee_bps == FEE_BPS


def test_a_fee_lowered_before_the_post_lands_is_the_one_paid(world: World):
    poster = world.poster()
    ix, job = signed_post(world, poster, max_fee_bps=FEE_BPS)
    world.must(world.update(market_settings(world.config, fee_bps=1)))
    world.must(world.send([ix], [poster.keypair, job]))
    assert world.sb.balance(poster.token) == FUNDS - 6_000 - 1 and world.pool() == 1
    assert world.sb.job_state(job.pubkey()).fee_bps == 1


# -- dodging the fee --------------------------------------------------------------------------

def post_ix(world: World, poster, **accounts):
    job = Keypair()
    ix = world.jobs.post(poster=poster.pubkey, payer=poster.pubkey, job=job.pubkey(), market=world.market, payer_token=poster.token,
                         definition=b"d" * 32, timeout=600, max_price_per_second=PRICE, max_fee_bps=FEE_BPS,
                         fee_config=world.config)
    return JOBS_ACCOUNTS.tamper("post", ix, **accounts) if accounts else ix, job


@pytest.mark.parametrize("kept", [0, 1, 2])
def test_fee_accounts_left_off(world: World, errors, kept):
    poster = world.poster()
    ix, job = post_ix(world, poster)
    ix = Instruction(ix.program_id, ix.data, ix.accounts[:10 + kept])
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "StakingAccountsMissing")


@pytest.mark.parametrize("account", FEE_ACCOUNTS)
def test_fee_account_replaced_by_the_placeholder(world: World, errors, account):
    poster = world.poster()
    ix, job = post_ix(world, poster, **{account: world.jobs.program_id})
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "StakingAccountsMissing")


def test_a_fake_staking_program(world: World, errors):
    """A program the payer picks would be handed the payer's signature: the id is fixed."""
    poster = world.poster()
    ix, job = post_ix(world, poster, staking_program=RANDOM_PROGRAM_ID)
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "ProgramIdInvalid")


def test_another_config(world: World, errors):
    other, _, outcome = world.sb.init(StakingSettings())
    world.must(outcome)
    poster = world.poster()
    ix, job = post_ix(world, poster, staking_config=other, rewards_pool=world.staking.rewards_pool(other))
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "StakingConfigInvalid")


def test_another_configs_rewards_pool(world: World, errors, staking_errors):
    other, _, outcome = world.sb.init(StakingSettings())
    world.must(outcome)
    poster = world.poster()
    ix, job = post_ix(world, poster, rewards_pool=world.staking.rewards_pool(other))
    outcome = world.send([ix], [poster.keypair, job])
    mismatch = staking_errors["RewardsPoolMismatch"]
    assert not outcome.ok and outcome.custom_error == mismatch
    assert f"Program {world.staking.program_id} failed: custom program error: {mismatch:#x}" in outcome.logs


def test_the_payers_own_token_account_as_the_pool(world: World, staking_errors):
    poster = world.poster()
    ix, job = post_ix(world, poster, rewards_pool=poster.token)
    outcome = world.send([ix], [poster.keypair, job])
    assert not outcome.ok and outcome.custom_error == staking_errors["RewardsPoolMismatch"]


@pytest.mark.parametrize("account", ["staking_config", "rewards_pool"])
def test_fee_accounts_passed_read_only(world: World, errors, account):
    poster = world.poster()
    ix, _ = post_ix(world, poster)
    index = JOBS_ACCOUNTS.names["post"].index(account)
    meta = ix.accounts[index]
    ix, job = post_ix(world, poster, **{account: AccountMeta(meta.pubkey, False, False)})
    assert_refused(world.send([ix], [poster.keypair, job]), errors, "AccountNotWritable")


def test_extend_fee_accounts_left_off(world: World, errors):
    poster = world.poster()
    job, outcome = world.post(poster)
    world.must(outcome)
    ix = world.jobs.extend(poster=poster.pubkey, payer=poster.pubkey, job=job, market=world.market, payer_token=poster.token, extra=10)
    assert_refused(world.send([ix], [poster.keypair]), errors, "StakingAccountsMissing")


def test_extend_with_a_fake_staking_program(world: World, errors):
    poster = world.poster()
    job, outcome = world.post(poster)
    world.must(outcome)
    ix = world.jobs.extend(poster=poster.pubkey, payer=poster.pubkey, job=job, market=world.market, payer_token=poster.token, extra=10,
                           fee_config=world.config)
    ix = JOBS_ACCOUNTS.tamper("extend", ix, staking_program=RANDOM_PROGRAM_ID)
    assert_refused(world.send([ix], [poster.keypair]), errors, "ProgramIdInvalid")
