"""reclaim slashes the silent node: min(penalty, stake) through the staking program's
slash, signed by the jobs program's PDA ["slasher"], a bounty of it to the caller, the rest
where the config sends slashes. A reclaim never gets stuck because of staking (a closed or
empty stake, a config that names another slasher, a treasury closed or frozen: the slash is
skipped and says so), and a caller can never dodge the slash (every account is checked)."""

from __future__ import annotations

import hashlib

import pytest
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from spl.token.instructions import CloseAccountParams, close_account

from crowdcompute.client.jobs.program import ReclaimSlash
from crowdcompute.client.staking.program import SLASH_TO_REWARDS_POOL, SLASH_TO_TREASURY, StakingSettings
from crowdcompute.common.token import TOKEN_PROGRAM_ID
from crowdcompute.sandbox import Actor
from crowdcompute.sandbox.staking import IMPOSTOR_PROBE_ID, SLASH_PROBE_ID
from tests.support import assert_refused
from tests.jobs.test_hostile import JOBS_ACCOUNTS

from .conftest import BOUNTY_BPS, MIN_LOCK, MIN_STAKE, PENALTY, World, market_settings

RANDOM_PROGRAM_ID = Pubkey(hashlib.sha256(b"a random program").digest())
SLASHED, STAKE_CLOSED, STAKE_EMPTY, SLASHER_CHANGED, DESTINATION_UNUSABLE = range(5)
SLASH_ACCOUNTS = ("staking_program", "staking_config", "stake", "stake_vault", "slash_destination", "bounty_to", "slasher")


def timed_out(world: World, *, stake: int = 2 * MIN_STAKE, timeout: int = 60) -> tuple[Pubkey, Actor, Actor, Actor]:
    """A job taken by a staked node that went silent past its timeout; and a caller."""
    node = world.node(stake=stake)
    job, poster = world.running(node, timeout=timeout)
    world.sb.chain.advance(timeout + 1)
    return job, poster, node, world.sb.actor()


def reclaim_ix(world: World, job: Pubkey, poster: Actor, caller: Actor, **accounts) -> Instruction:
    ix = world.jobs.reclaim(job=job, market=world.market, payer_token=poster.token, slash=world.honest_slash(job, caller))
    return JOBS_ACCOUNTS.tamper("reclaim", ix, **accounts) if accounts else ix


def assert_callee_refused(outcome, program: Pubkey, code: int) -> None:
    assert not outcome.ok and outcome.custom_error == code, (outcome.custom_error, outcome.logs)
    assert f"Program {program} failed: custom program error: {code:#x}" in outcome.logs


# -- the slash --------------------------------------------------------------------------------

def test_reclaim_slashes_the_silent_node_and_pays_the_caller(world: World):
    job, poster, node, caller = timed_out(world)
    pool, vault = world.pool(), world.stake_vault()
    outcome = world.must(world.reclaim(job, poster, caller))
    bounty = PENALTY * BOUNTY_BPS // 10_000  # 100
    assert world.sb.balance(caller.token) == bounty
    assert world.pool() - pool == PENALTY - bounty
    assert vault - world.stake_vault() == PENALTY
    stake = world.stake_of(node)
    assert (stake.amount, stake.weight, stake.slashed) == (2 * MIN_STAKE - PENALTY, 2 * MIN_STAKE - PENALTY, PENALTY)
    events = world.events(outcome)
    slashed = events["NodeSlashed"]
    assert (slashed.job, slashed.node, slashed.slashed, slashed.bounty, slashed.bounty_to, slashed.outcome) == (
        job, node.pubkey, PENALTY, bounty, caller.token, SLASHED)
    assert "JobRequeued" in events and world.sb.job_state(job).attempts == 1
    by_staking = world.staking_events(outcome)["Slashed"]
    assert (by_staking.by, by_staking.slashed, by_staking.bounty) == (world.jobs.slasher, PENALTY, bounty)


def test_a_stake_slashed_below_the_penalty_gives_all_it_has(world: World):
    # The stake backed the penalty when the node took the job; the config's authority has
    # slashed it since (its power, docs/architecture.md): the reclaim takes what is left.
    job, poster, node, caller = timed_out(world)
    world.must(world.sb.slash(world.config, world.staking_authority, node.pubkey, 2 * MIN_STAKE - 100))
    slashed = world.events(world.must(world.reclaim(job, poster, caller)))["NodeSlashed"]
    assert (slashed.slashed, slashed.bounty) == (100, 25)
    assert world.stake_of(node).amount == 0 and world.sb.balance(caller.token) == 25


def test_the_refund_path_slashes_too(world: World):
    world.market = world.open(market_settings(world.config, max_attempts=1))
    job, poster, node, caller = timed_out(world)
    events = world.events(world.must(world.reclaim(job, poster, caller)))
    assert "JobFailed" in events and events["NodeSlashed"].slashed == PENALTY


def test_a_node_cannot_unstake_from_under_its_job(world: World, errors):
    # Seen before: a node unstaked in the transaction of its `work`, withdrew and closed its
    # stake, went silent, and the reclaim slashed nothing. Its stake now backs the job.
    job, poster, node, caller = timed_out(world)
    assert world.stake_of(node).locked == PENALTY
    staking_errors = world.staking.errors
    assert_refused(world.sb.unstake(world.config, node), staking_errors, "StakeLocked")
    assert_refused(world.sb.close_stake(world.config, node), staking_errors, "StakeNotEmpty")
    events = world.events(world.must(world.reclaim(job, poster, caller)))
    assert events["NodeSlashed"].slashed == PENALTY and world.stake_of(node).amount == 2 * MIN_STAKE - PENALTY
    # The reclaim released what the job held: the node may leave now.
    assert world.stake_of(node).locked == 0
    world.must(world.sb.unstake(world.config, node))


def test_slashes_to_the_treasury(world: World):
    treasury = world.sb.actor().token
    world.must(world.send([world.staking.update_config(authority=world.staking_authority.pubkey, config=world.config, treasury=treasury,
                                                       slash_to=SLASH_TO_TREASURY, slasher_program=world.jobs.program_id)],
                          [world.staking_authority.keypair]))
    job, poster, node, caller = timed_out(world)
    world.must(world.reclaim(job, poster, caller))
    assert world.sb.balance(treasury) == PENALTY - 100 and world.sb.balance(caller.token) == 100


def test_no_bounty_everything_to_the_pool(world: World):
    world.market = world.open(market_settings(world.config, reclaim_bounty_bps=0))
    job, poster, node, caller = timed_out(world)
    pool = world.pool()
    slashed = world.events(world.must(world.reclaim(job, poster, caller)))["NodeSlashed"]
    assert (slashed.slashed, slashed.bounty) == (PENALTY, 0) and world.pool() - pool == PENALTY


def test_no_penalty_no_slash_accounts(world: World):
    world.market = world.open(market_settings(world.config, slash_penalty=0))
    job, poster, node, caller = timed_out(world)
    outcome = world.must(world.send([world.jobs.reclaim(job=job, market=world.market, payer_token=poster.token)], [caller.keypair]))
    assert "NodeSlashed" not in world.events(outcome) and world.stake_of(node).amount == 2 * MIN_STAKE


def test_before_the_timeout_nothing_is_slashed(world: World, errors):
    node = world.node()
    job, poster = world.running(node, timeout=600)
    assert_refused(world.reclaim(job, poster, world.sb.actor()), errors, "TimeoutNotReached")
    assert world.stake_of(node).amount == 2 * MIN_STAKE


# -- never stuck ------------------------------------------------------------------------------

def test_an_empty_stake_is_skipped(world: World):
    job, poster, node, caller = timed_out(world)
    world.must(world.sb.slash(world.config, world.staking_authority, node.pubkey, 10 * MIN_STAKE))
    slashed = world.events(world.must(world.reclaim(job, poster, caller)))["NodeSlashed"]
    assert (slashed.slashed, slashed.outcome) == (0, STAKE_EMPTY)


def test_a_config_that_names_another_slasher_still_slashes_the_jobs_held(world: World):
    # The staking authority names another slasher program after the node took the job: the
    # lock the jobs program holds keeps its power to slash that node for that job.
    job, poster, node, caller = timed_out(world)
    world.must(world.send([world.staking.update_config(authority=world.staking_authority.pubkey, config=world.config,
                                                       treasury=world.staking_authority.token, slash_to=SLASH_TO_REWARDS_POOL,
                                                       slasher_program=SLASH_PROBE_ID)], [world.staking_authority.keypair]))
    slashed = world.events(world.must(world.reclaim(job, poster, caller)))["NodeSlashed"]
    assert (slashed.slashed, slashed.outcome) == (PENALTY, SLASHED)
    stake = world.stake_of(node)
    assert (stake.amount, stake.locked) == (2 * MIN_STAKE - PENALTY, 0)


def treasury_world(world: World) -> Actor:
    owner = world.sb.actor()
    world.must(world.send([world.staking.update_config(authority=world.staking_authority.pubkey, config=world.config, treasury=owner.token,
                                                       slash_to=SLASH_TO_TREASURY, slasher_program=world.jobs.program_id)],
                          [world.staking_authority.keypair]))
    return owner


def test_a_closed_treasury_is_skipped(world: World):
    owner = treasury_world(world)
    job, poster, node, caller = timed_out(world)
    ix = close_account(CloseAccountParams(program_id=TOKEN_PROGRAM_ID, account=owner.token, dest=owner.pubkey, owner=owner.pubkey))
    world.must(world.send([ix], [owner.keypair]))
    slashed = world.events(world.must(world.reclaim(job, poster, caller)))["NodeSlashed"]
    assert (slashed.slashed, slashed.outcome) == (0, DESTINATION_UNUSABLE)


def test_a_frozen_treasury_is_skipped(world: World):
    owner = treasury_world(world)
    job, poster, node, caller = timed_out(world)
    account = world.sb.chain.account(owner.token)
    data = bytearray(account.data)
    data[108] = 2  # AccountState::Frozen (what a mint's freeze authority sets)
    world.sb.chain.set_account(owner.token, Account(account.lamports, bytes(data), account.owner, account.executable, account.rent_epoch))
    slashed = world.events(world.must(world.reclaim(job, poster, caller)))["NodeSlashed"]
    assert (slashed.slashed, slashed.outcome) == (0, DESTINATION_UNUSABLE)


# -- no dodging -------------------------------------------------------------------------------

def test_slash_accounts_left_off(world: World, errors):
    job, poster, node, caller = timed_out(world)
    ix = world.jobs.reclaim(job=job, market=world.market, payer_token=poster.token)
    assert_refused(world.send([ix], [caller.keypair]), errors, "StakingAccountsMissing")
    assert world.stake_of(node).amount == 2 * MIN_STAKE


@pytest.mark.parametrize("account", SLASH_ACCOUNTS)
def test_one_slash_account_replaced_by_the_placeholder(world: World, errors, account):
    job, poster, node, caller = timed_out(world)
    ix = reclaim_ix(world, job, poster, caller, **{account: AccountMeta(world.jobs.program_id, False, False)})
    assert_refused(world.send([ix], [caller.keypair]), errors, "StakingAccountsMissing")


def test_another_nodes_stake(world: World, errors):
    job, poster, node, caller = timed_out(world)
    other = world.node()
    ix = reclaim_ix(world, job, poster, caller, stake=world.staking.stake(world.config, other.pubkey))
    assert_refused(world.send([ix], [caller.keypair]), errors, "StakeInvalid")


def test_the_nodes_stake_under_another_config(world: World, errors):
    job, poster, node, caller = timed_out(world)
    other, _, outcome = world.sb.init(StakingSettings())
    world.must(outcome)
    world.must(world.sb.stake(other, node, 10, MIN_LOCK))
    ix = reclaim_ix(world, job, poster, caller, stake=world.staking.stake(other, node.pubkey))
    assert_refused(world.send([ix], [caller.keypair]), errors, "StakeInvalid")


def test_an_empty_address_instead_of_the_stake(world: World, errors):
    """To pass as a closed stake, the address must be the node's stake PDA: another empty
    address (its real stake alive) is refused, not skipped. (A stake that backs a job cannot
    be closed at all.)"""
    job, poster, node, caller = timed_out(world)
    ix = reclaim_ix(world, job, poster, caller, stake=Pubkey.new_unique())
    assert_refused(world.send([ix], [caller.keypair]), errors, "StakeInvalid")


def test_a_fake_staking_program(world: World, errors):
    job, poster, node, caller = timed_out(world)
    ix = reclaim_ix(world, job, poster, caller, staking_program=RANDOM_PROGRAM_ID)
    assert_refused(world.send([ix], [caller.keypair]), errors, "ProgramIdInvalid")


def test_another_config(world: World, errors):
    job, poster, node, caller = timed_out(world)
    other, _, outcome = world.sb.init(StakingSettings(slasher_program=world.jobs.program_id))
    world.must(outcome)
    ix = reclaim_ix(world, job, poster, caller, staking_config=other)
    assert_refused(world.send([ix], [caller.keypair]), errors, "StakingConfigInvalid")


def test_another_slasher_account(world: World, errors):
    job, poster, node, caller = timed_out(world)
    impostor = Pubkey.find_program_address([b"impostor"], world.jobs.program_id)[0]
    for slasher in (impostor, caller.pubkey):
        ix = reclaim_ix(world, job, poster, caller, slasher=slasher)
        assert_refused(world.send([ix], [caller.keypair]), errors, "SlasherMismatch")


def test_another_destination(world: World, staking_errors):
    job, poster, node, caller = timed_out(world)
    outcome = world.send([reclaim_ix(world, job, poster, caller, slash_destination=caller.token)], [caller.keypair])
    assert_callee_refused(outcome, world.staking.program_id, staking_errors["RewardsPoolMismatch"])


def test_another_vault(world: World, staking_errors):
    job, poster, node, caller = timed_out(world)
    outcome = world.send([reclaim_ix(world, job, poster, caller, stake_vault=caller.token)], [caller.keypair])
    assert_callee_refused(outcome, world.staking.program_id, staking_errors["VaultMismatch"])


@pytest.mark.parametrize("target", ["vault", "pool"])
def test_the_bounty_into_the_stakes_own_accounts(world: World, staking_errors, target):
    job, poster, node, caller = timed_out(world)
    bounty_to = world.staking.vault(world.config) if target == "vault" else world.staking.rewards_pool(world.config)
    outcome = world.send([reclaim_ix(world, job, poster, caller, bounty_to=bounty_to)], [caller.keypair])
    assert_callee_refused(outcome, world.staking.program_id, staking_errors["BountyAccountInvalid"])


@pytest.mark.parametrize("account", ["staking_config", "stake", "stake_vault", "slash_destination", "bounty_to"])
def test_slash_accounts_passed_read_only(world: World, errors, account):
    job, poster, node, caller = timed_out(world)
    meta = reclaim_ix(world, job, poster, caller).accounts[JOBS_ACCOUNTS.names["reclaim"].index(account)]
    ix = reclaim_ix(world, job, poster, caller, **{account: AccountMeta(meta.pubkey, False, False)})
    assert_refused(world.send([ix], [caller.keypair]), errors, "AccountNotWritable")


# -- the slasher PDA signs only through the jobs program ---------------------------------------

def test_the_jobs_slasher_pda_cannot_sign_at_top_level(world: World, staking_errors):
    node = world.node()
    ix = world.staking.slash(slasher=world.jobs.slasher, config=world.config, stake=world.staking.stake(world.config, node.pubkey),
                             destination=world.staking.rewards_pool(world.config), amount=10)
    ix = Instruction(ix.program_id, ix.data, [AccountMeta(world.jobs.slasher, False, False)] + list(ix.accounts[1:]))
    outcome = world.send([ix], [world.sb.actor().keypair])
    assert not outcome.ok and outcome.custom_error == staking_errors["SignatureMissing"]


@pytest.mark.parametrize("probe, seed", [(SLASH_PROBE_ID, 0), (SLASH_PROBE_ID, 1), (IMPOSTOR_PROBE_ID, 0)])
def test_another_program_cannot_slash_for_the_jobs_program(world: World, staking_errors, probe, seed):
    """The config names the jobs program: a CPI from another program (signed by its own
    ["slasher"] PDA, or another of its PDAs) is refused by the staking program."""
    node = world.node()
    outcome = world.sb.slash_by_probe(world.config, node.pubkey, 10, probe=probe, seed=seed)
    assert not outcome.ok and outcome.custom_error == staking_errors["SlasherInvalid"]
    assert world.stake_of(node).amount == 2 * MIN_STAKE


# -- the client reclaims with the slash on its own ---------------------------------------------

def test_the_sandbox_builds_the_slash_from_the_chain(world: World):
    job, poster, node, caller = timed_out(world)
    slash = world.honest_slash(job, caller)
    assert slash == ReclaimSlash(config=world.config, node=node.pubkey, destination=world.staking.rewards_pool(world.config), bounty_to=caller.token)
    ix = world.jobs.reclaim(job=job, market=world.market, payer_token=poster.token, slash=slash)
    names = JOBS_ACCOUNTS.names["reclaim"]
    assert ix.accounts[names.index("stake")].pubkey == world.staking.stake(world.config, node.pubkey)
    assert ix.accounts[names.index("slasher")].pubkey == world.jobs.slasher
    assert ix.accounts[names.index("stake_vault")].pubkey == world.staking.vault(world.config)
