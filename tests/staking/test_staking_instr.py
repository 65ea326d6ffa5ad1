"""The staking program's instructions, one by one: what each does when called as meant,
and its refusals in the wrong state or with out-of-range arguments (the real SBF build in
LiteSVM). Attacks (forged accounts, wrong signers, CPI slashes) are in test_staking_hostile."""

from __future__ import annotations

import pytest

from crowdcompute.client.staking.program import DAY, MULTIPLIER_ONE, SLASH_TO_REWARDS_POOL, SLASH_TO_TREASURY, StakingSettings
from crowdcompute.sandbox.staking import SLASH_PROBE_ID
from tests.support import assert_refused

from .conftest import MAX, MIN, SETTINGS


def refused(sb, outcome, errors, name: str) -> None:
    assert not outcome.ok, "\n".join(outcome.logs)
    assert outcome.custom_error == errors[name], f"expected {name}, got {errors.name(outcome.custom_error)}\n" + "\n".join(outcome.logs)


def event_names(sb, outcome) -> list[str]:
    return [event.name for event in sb.staking.events(outcome.logs)]


# -- init / update_config ----------------------------------------------------------------
def test_init_creates_config_vault_and_pool(sb, config):
    address, authority = config
    state = sb.config_state(address)
    assert state.authority == authority.pubkey and state.mint == sb.mint
    assert state.vault == sb.staking.vault(address) and state.rewards_pool == sb.staking.rewards_pool(address)
    assert (state.min_duration, state.max_duration) == (MIN, MAX)
    assert (state.min_multiplier, state.max_multiplier) == (MULTIPLIER_ONE, 4 * MULTIPLIER_ONE)
    assert state.total_staked == state.total_weight == state.stakes == 0
    assert sb.balance(state.vault) == 0 and sb.balance(state.rewards_pool) == 0


@pytest.mark.parametrize("change", [
    dict(min_duration=0), dict(min_duration=20 * DAY, max_duration=10 * DAY), dict(max_duration=10 * 365 * DAY + 1),
    dict(min_multiplier=MULTIPLIER_ONE - 1), dict(min_multiplier=3 * MULTIPLIER_ONE, max_multiplier=2 * MULTIPLIER_ONE),
    dict(max_multiplier=100 * MULTIPLIER_ONE + 1), dict(slash_to=2),
])
def test_init_refuses_settings_out_of_range(sb, errors, change):
    settings = StakingSettings(**{**SETTINGS.__dict__, **change})
    _, _, outcome = sb.init(settings)
    refused(sb, outcome, errors, "SettingInvalid")


def test_init_twice_is_refused(sb, errors, config):
    _, authority = config
    _, _, outcome = sb.init(SETTINGS, authority=authority)
    refused(sb, outcome, errors, "AccountAlreadyInitialized")


def test_update_config_sets_treasury_destination_and_slasher(sb, config):
    address, authority = config
    treasury = sb.actor().token
    ix = sb.staking.update_config(authority=authority.pubkey, config=address, treasury=treasury, slash_to=SLASH_TO_TREASURY, slasher_program=SLASH_PROBE_ID)
    outcome = sb.must(sb.send([ix], [authority.keypair]))
    state = sb.config_state(address)
    assert state.treasury == treasury and state.slasher_program == SLASH_PROBE_ID
    assert state.slasher == sb.slasher_of(SLASH_PROBE_ID)
    assert type(state.slash_to).__name__ == "Treasury"
    assert event_names(sb, outcome) == ["ConfigUpdated"]


# -- stake / topup / extend ----------------------------------------------------------------
def test_stake_moves_tokens_and_sets_weight(sb, config):
    address, _ = config
    owner = sb.actor(1_000)
    outcome = sb.must(sb.stake(address, owner, 600, 30 * DAY))
    stake = sb.stake_state(address, owner.pubkey)
    assert stake.amount == 600 and stake.duration == 30 * DAY
    assert stake.weight == SETTINGS.weight(600, 30 * DAY) == 600 * 1_136_752 // MULTIPLIER_ONE
    assert sb.balance(owner.token) == 400 and sb.balance(sb.staking.vault(address)) == 600
    state = sb.config_state(address)
    assert (state.total_staked, state.total_weight, state.stakes) == (600, stake.weight, 1)
    assert event_names(sb, outcome) == ["Staked"]


@pytest.mark.parametrize("duration, expected", [(MIN, MULTIPLIER_ONE), (MAX, 4 * MULTIPLIER_ONE), (MIN + (MAX - MIN) // 2, 2_500_000)])
def test_multiplier_curve_ends_and_middle(sb, config, duration, expected):
    address, _ = config
    owner = sb.actor(10**9)
    sb.must(sb.stake(address, owner, 10**9, duration))
    assert sb.stake_state(address, owner.pubkey).weight == 10**9 * expected // MULTIPLIER_ONE


@pytest.mark.parametrize("amount, duration, error", [(0, MIN, "AmountZero"), (10, MIN - 1, "DurationInvalid"), (10, MAX + 1, "DurationInvalid")])
def test_stake_refusals(sb, errors, config, amount, duration, error):
    address, _ = config
    owner = sb.actor(100)
    refused(sb, sb.stake(address, owner, amount, duration), errors, error)
    assert sb.stake_state(address, owner.pubkey) is None and sb.balance(owner.token) == 100


def test_stake_twice_is_refused(sb, errors, config):
    address, _ = config
    owner = sb.actor(100)
    sb.must(sb.stake(address, owner, 10, MIN))
    refused(sb, sb.stake(address, owner, 10, MIN), errors, "AccountAlreadyInitialized")


def test_topup_adds_amount_and_weight(sb, config):
    address, _ = config
    owner = sb.actor(1_000)
    sb.must(sb.stake(address, owner, 100, MAX))
    outcome = sb.must(sb.topup(address, owner, 50))
    stake = sb.stake_state(address, owner.pubkey)
    assert (stake.amount, stake.weight) == (150, 600)
    assert sb.config_state(address).total_weight == 600 and sb.balance(sb.staking.vault(address)) == 150
    assert event_names(sb, outcome) == ["ToppedUp"]


def test_extend_grows_weight_and_never_shortens(sb, errors, config):
    address, _ = config
    owner = sb.actor(1_000)
    sb.must(sb.stake(address, owner, 1_000, MIN + 10 * DAY))
    sb.must(sb.extend(address, owner, MAX))
    assert sb.stake_state(address, owner.pubkey).weight == 4_000
    refused(sb, sb.extend(address, owner, MAX - 1), errors, "DurationShorter")
    refused(sb, sb.extend(address, owner, MAX + 1), errors, "DurationInvalid")
    assert sb.config_state(address).total_weight == 4_000


# -- unstake / withdraw / restake / close ---------------------------------------------------
def test_unstake_then_linear_withdrawals(sb, errors, config):
    address, _ = config
    owner = sb.actor(1_000)
    sb.must(sb.stake(address, owner, 1_000, MIN))
    refused(sb, sb.withdraw(address, owner), errors, "StakeNotUnlocking")
    outcome = sb.must(sb.unstake(address, owner))
    assert event_names(sb, outcome) == ["Unstaked"]
    stake = sb.stake_state(address, owner.pubkey)
    assert stake.weight == 0 and type(stake.state).__name__ == "Unlocking" and stake.unlock_start == sb.chain.now()
    assert sb.config_state(address).total_weight == 0
    refused(sb, sb.unstake(address, owner), errors, "StakeNotStaked")
    refused(sb, sb.topup(address, owner, 1), errors, "StakeNotStaked")
    refused(sb, sb.extend(address, owner, MAX), errors, "StakeNotStaked")
    sb.chain.advance(MIN // 4)
    sb.must(sb.withdraw(address, owner))
    assert sb.balance(owner.token) == 250
    sb.must(sb.withdraw(address, owner))  # nothing more yet: a no-op
    assert sb.balance(owner.token) == 250
    sb.chain.advance(MIN)
    sb.must(sb.withdraw(address, owner))
    assert sb.balance(owner.token) == 1_000 and sb.balance(sb.staking.vault(address)) == 0
    assert sb.stake_state(address, owner.pubkey).amount == 0 and sb.config_state(address).total_staked == 0


def test_restake_cancels_the_unlock(sb, errors, config):
    address, _ = config
    owner = sb.actor(1_000)
    sb.must(sb.stake(address, owner, 1_000, MAX))
    refused(sb, sb.restake(address, owner), errors, "StakeNotUnlocking")
    sb.must(sb.unstake(address, owner))
    sb.chain.advance(MAX // 10)
    sb.must(sb.withdraw(address, owner))
    sb.must(sb.restake(address, owner))
    stake = sb.stake_state(address, owner.pubkey)
    assert type(stake.state).__name__ == "Staked" and stake.amount == 900 and stake.weight == 3_600
    assert stake.unlock_start == stake.unlock_base == stake.withdrawn == 0
    assert sb.config_state(address).total_weight == 3_600


def test_close_returns_rent_only_when_empty_and_claimed(sb, errors, config):
    address, _ = config
    owner, payer = sb.actor(100), sb.actor(1_000)
    sb.must(sb.stake(address, owner, 100, MIN))
    refused(sb, sb.close_stake(address, owner), errors, "StakeNotEmpty")
    sb.must(sb.deposit_fees(address, payer, 10))
    sb.must(sb.unstake(address, owner))
    sb.chain.advance(MIN)
    sb.must(sb.withdraw(address, owner))
    refused(sb, sb.close_stake(address, owner), errors, "RewardsUnclaimed")
    sb.must(sb.claim(address, owner))
    stake_address = sb.staking.stake(address, owner.pubkey)
    lamports = sb.chain.lamports(stake_address) + sb.chain.lamports(owner.pubkey)
    outcome = sb.must(sb.close_stake(address, owner))
    assert sb.chain.account(stake_address) is None
    assert sb.chain.lamports(owner.pubkey) == lamports - 5_000  # rent back, less the fee
    assert sb.config_state(address).stakes == 0 and event_names(sb, outcome) == ["StakeClosed"]
    # The address can be staked again.
    sb.mint_to(owner.token, 5)
    sb.must(sb.stake(address, owner, 5, MIN))


# -- slash ----------------------------------------------------------------------------------
def test_slash_by_authority_to_rewards_pool_is_shared_by_stakers(sb, config):
    address, authority = config
    bad, good = sb.actor(1_000), sb.actor(1_000)
    sb.must(sb.stake(address, bad, 1_000, MIN))
    sb.must(sb.stake(address, good, 1_000, MIN))
    outcome = sb.must(sb.slash(address, authority, bad.pubkey, 500))
    assert event_names(sb, outcome) == ["Slashed"]
    assert sb.stake_state(address, bad.pubkey).amount == 500 and sb.stake_state(address, bad.pubkey).weight == 500
    assert sb.balance(sb.staking.rewards_pool(address)) == 500 and sb.balance(sb.staking.vault(address)) == 1_500
    # Shared over the weights after the slash: 500 x 1000/1500 and 500 x 500/1500.
    sb.must(sb.claim(address, good))
    sb.must(sb.claim(address, bad))
    assert sb.balance(good.token) == 333 and sb.balance(bad.token) == 166
    assert sb.config_state(address).slashed == 500


def test_slash_takes_at_most_the_stake_and_goes_to_treasury(sb, config):
    address, authority = config
    treasury = sb.actor().token
    sb.must(sb.send([sb.staking.update_config(authority=authority.pubkey, config=address, treasury=treasury, slash_to=SLASH_TO_TREASURY,
                                               slasher_program=SLASH_PROBE_ID)], [authority.keypair]))
    owner = sb.actor(300)
    sb.must(sb.stake(address, owner, 300, MIN))
    sb.must(sb.slash(address, authority, owner.pubkey, 10_000))
    assert sb.balance(treasury) == 300 and sb.stake_state(address, owner.pubkey).amount == 0
    assert sb.config_state(address).total_weight == 0


def test_slash_while_unlocking_takes_the_last_tokens_to_unlock(sb, config):
    address, authority = config
    owner = sb.actor(1_000)
    sb.must(sb.stake(address, owner, 1_000, MIN))
    sb.must(sb.unstake(address, owner))
    sb.must(sb.slash(address, authority, owner.pubkey, 400))
    sb.chain.advance(MIN // 2)
    sb.must(sb.withdraw(address, owner))
    assert sb.balance(owner.token) == 500
    sb.chain.advance(MIN)
    sb.must(sb.withdraw(address, owner))
    assert sb.balance(owner.token) == 600 and sb.stake_state(address, owner.pubkey).amount == 0


def test_slash_by_the_configured_slasher_program_through_cpi(sb, config):
    address, authority = config
    sb.must(sb.send([sb.staking.update_config(authority=authority.pubkey, config=address, treasury=authority.token,
                                               slash_to=SLASH_TO_REWARDS_POOL, slasher_program=SLASH_PROBE_ID)], [authority.keypair]))
    owner = sb.actor(100)
    sb.must(sb.stake(address, owner, 100, MIN))
    outcome = sb.must(sb.slash_by_probe(address, owner.pubkey, 40))
    slashed = [event for event in sb.staking.events(outcome.logs) if event.name == "Slashed"]
    assert slashed and slashed[0].data.by == sb.slasher_of(SLASH_PROBE_ID) and slashed[0].data.slashed == 40
    assert sb.stake_state(address, owner.pubkey).amount == 60


def test_slash_pays_the_bounty_and_sends_the_rest_to_the_pool(sb, config):
    address, authority = config
    bad, good, reporter = sb.actor(1_000), sb.actor(1_000), sb.actor()
    sb.must(sb.stake(address, bad, 1_000, MIN))
    sb.must(sb.stake(address, good, 1_000, MIN))
    outcome = sb.must(sb.slash(address, authority, bad.pubkey, 500, bounty=125, bounty_to=reporter.token))
    assert sb.balance(reporter.token) == 125
    assert sb.balance(sb.staking.rewards_pool(address)) == 375 and sb.balance(sb.staking.vault(address)) == 1_500
    state = sb.config_state(address)
    assert (state.slashed, state.rewards_deposited, state.total_staked) == (500, 375, 1_500)
    slashed = [event.data for event in sb.staking.events(outcome.logs) if event.name == "Slashed"][0]
    assert (slashed.slashed, slashed.amount, slashed.bounty, slashed.bounty_to) == (500, 500, 125, reporter.token)


def test_slash_bounty_is_at_most_what_the_stake_held(sb, config):
    address, authority = config
    owner, reporter = sb.actor(300), sb.actor()
    sb.must(sb.stake(address, owner, 300, MIN))
    sb.must(sb.slash(address, authority, owner.pubkey, 1_000, bounty=500, bounty_to=reporter.token))
    assert sb.balance(reporter.token) == 300 and sb.balance(sb.staking.rewards_pool(address)) == 0
    assert sb.stake_state(address, owner.pubkey).amount == 0 and sb.config_state(address).rewards_deposited == 0


def test_slash_by_cpi_with_a_bounty(sb, config):
    address, authority = config
    sb.must(sb.send([sb.staking.update_config(authority=authority.pubkey, config=address, treasury=authority.token,
                                               slash_to=SLASH_TO_REWARDS_POOL, slasher_program=SLASH_PROBE_ID)], [authority.keypair]))
    owner, reporter = sb.actor(100), sb.actor()
    sb.must(sb.stake(address, owner, 100, MIN))
    sb.must(sb.slash_by_probe(address, owner.pubkey, 40, bounty=40, bounty_to=reporter.token))
    assert sb.balance(reporter.token) == 40 and sb.stake_state(address, owner.pubkey).amount == 60


def test_slash_zero_is_refused(sb, errors, config):
    address, authority = config
    owner = sb.actor(100)
    sb.must(sb.stake(address, owner, 100, MIN))
    refused(sb, sb.slash(address, authority, owner.pubkey, 0), errors, "AmountZero")


# -- deposit_fees / claim ---------------------------------------------------------------------
def test_fees_are_shared_by_weight(sb, config):
    address, _ = config
    short, long_, payer = sb.actor(1_000), sb.actor(500), sb.actor(10_000)
    sb.must(sb.stake(address, short, 1_000, MIN))   # weight 1000
    sb.must(sb.stake(address, long_, 500, MAX))     # weight 2000
    outcome = sb.must(sb.deposit_fees(address, payer, 1_000))
    assert event_names(sb, outcome) == ["FeesDeposited"]
    sb.must(sb.claim(address, short))
    sb.must(sb.claim(address, long_))
    # Exact shares 333.3 and 666.7: rounded down, the fractions kept in flight.
    assert (sb.balance(short.token), sb.balance(long_.token)) == (333, 666)
    sb.must(sb.deposit_fees(address, payer, 2_000))
    sb.must(sb.claim(address, short))
    sb.must(sb.claim(address, long_))
    # 3000 in all: the fractions became whole units, 1000 and 2000 exactly.
    assert (sb.balance(short.token), sb.balance(long_.token)) == (1_000, 2_000)
    state = sb.config_state(address)
    assert state.rewards_deposited == state.rewards_claimed == 3_000 and sb.balance(sb.staking.rewards_pool(address)) == 0


def test_fees_without_stakers_go_to_the_treasury_not_to_the_first_staker(sb, config, errors):
    # Seen before: 4,999,999 of 5,000,000 in fees paid while nobody staked went to whoever
    # staked 1 base unit first. Now they are no staker's: `sweep` sends them to the treasury.
    address, _ = config
    owner, payer = sb.actor(100), sb.actor(10_000_000)
    outcome = sb.must(sb.deposit_fees(address, payer, 5_000_000))
    assert sb.staking.events(outcome.logs)[0].data.total_weight == 0
    assert sb.config_state(address).rewards_unowned == 5_000_000
    sb.must(sb.stake(address, owner, 1, MIN))
    sb.must(sb.deposit_fees(address, payer, 100))
    sb.must(sb.claim(address, owner))
    assert sb.balance(owner.token) == 99 + 100  # its wallet, and only what was paid while it had weight

    treasury = sb.config_state(address).treasury
    before = sb.balance(treasury)
    assert_refused(sb.sweep(address, treasury=payer.token), errors, "TreasuryMismatch")
    outcome = sb.must(sb.sweep(address))
    swept = sb.staking.events(outcome.logs)[0]
    assert (swept.name, swept.data.amount, swept.data.treasury) == ("Swept", 5_000_000, treasury)
    assert sb.balance(treasury) == before + 5_000_000
    state = sb.config_state(address)
    assert (state.rewards_unowned, state.rewards_swept) == (0, 5_000_000)
    # The pool holds what the counters say: deposited - claimed - swept.
    assert sb.balance(sb.staking.rewards_pool(address)) == state.rewards_deposited - state.rewards_claimed - state.rewards_swept == 0
    assert_refused(sb.sweep(address), errors, "AmountZero")


def test_late_staker_gets_nothing_of_earlier_fees(sb, config):
    address, _ = config
    early, late, payer = sb.actor(100), sb.actor(100), sb.actor(1_000)
    sb.must(sb.stake(address, early, 100, MIN))
    sb.must(sb.deposit_fees(address, payer, 1_000))
    sb.must(sb.stake(address, late, 100, MIN))
    sb.must(sb.claim(address, late))
    assert sb.balance(late.token) == 0
    sb.must(sb.claim(address, early))
    assert sb.balance(early.token) == 1_000


def test_unstaked_stake_earns_nothing_more_but_keeps_what_it_earned(sb, config):
    address, _ = config
    owner, other, payer = sb.actor(100), sb.actor(100), sb.actor(1_000)
    sb.must(sb.stake(address, owner, 100, MIN))
    sb.must(sb.stake(address, other, 100, MIN))
    sb.must(sb.deposit_fees(address, payer, 200))
    sb.must(sb.unstake(address, owner))
    sb.must(sb.deposit_fees(address, payer, 200))
    sb.must(sb.claim(address, owner))
    sb.must(sb.claim(address, other))
    assert (sb.balance(owner.token), sb.balance(other.token)) == (100, 300)


def test_deposit_zero_is_refused(sb, errors, config):
    address, _ = config
    refused(sb, sb.deposit_fees(address, sb.actor(10), 0), errors, "AmountZero")
