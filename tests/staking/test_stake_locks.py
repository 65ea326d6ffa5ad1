"""What a stake backs: `lock` and `unlock` by the config's slasher program (by CPI, through
the slash-probe program standing in for the jobs program), and what a lock forbids.

Each attack is played against the real SBF build: a lock by anyone but the config's
slasher PDA, a second slasher over a held lock, a lock above the stake or on an unlocking
stake, an unlock by a stranger, and the escapes a lock closes (unstake, close, a change of
slasher before the slash)."""

from __future__ import annotations

from solders.pubkey import Pubkey

from crowdcompute.client.staking.program import SLASH_TO_REWARDS_POOL, StakingSettings
from crowdcompute.sandbox.staking import IMPOSTOR_PROBE_ID, SLASH_PROBE_ID, StakingSandbox
from tests.support import assert_refused

from .conftest import MIN

PROBE = StakingSettings(slasher_program=SLASH_PROBE_ID)


def setup(sb: StakingSandbox, amount: int = 1_000):
    config, authority, outcome = sb.init(PROBE)
    sb.must(outcome)
    node = sb.actor(10_000)
    sb.must(sb.stake(config, node, amount, MIN))
    return config, authority, node


def lock(sb: StakingSandbox, config: Pubkey, owner: Pubkey, amount: int, *, probe: Pubkey = SLASH_PROBE_ID, seed: int = 0):
    ix = sb.staking.lock(locker=sb.probe_signer(probe, seed), config=config, stake=sb.staking.stake(config, owner), amount=amount)
    return sb.by_probe(ix, probe=probe, seed=seed)


def unlock(sb: StakingSandbox, owner_stake: Pubkey, amount: int, *, probe: Pubkey = SLASH_PROBE_ID, seed: int = 0):
    return sb.by_probe(sb.staking.unlock(locker=sb.probe_signer(probe, seed), stake=owner_stake, amount=amount), probe=probe, seed=seed)


def test_the_slasher_locks_and_releases_what_a_stake_backs(sb, errors):
    config, _, node = setup(sb)
    stake = sb.staking.stake(config, node.pubkey)
    outcome = sb.must(lock(sb, config, node.pubkey, 400))
    locked = [e for e in sb.staking.events(outcome.logs) if e.name == "Locked"][0].data
    assert (locked.stake, locked.locker, locked.amount, locked.locked) == (stake, sb.probe_signer(), 400, 400)
    sb.must(lock(sb, config, node.pubkey, 600))
    state = sb.stake_state(config, node.pubkey)
    assert (state.locked, state.locker) == (1_000, sb.probe_signer())
    # It backs all it holds: one more obligation is refused.
    assert_refused(lock(sb, config, node.pubkey, 1), errors, "LockAboveStake")
    sb.must(unlock(sb, stake, 600))
    assert sb.stake_state(config, node.pubkey).locked == 400
    # A release past what is locked releases all (a slash may have taken the rest).
    sb.must(unlock(sb, stake, 10_000))
    state = sb.stake_state(config, node.pubkey)
    assert (state.locked, state.locker) == (0, Pubkey.default())
    assert_refused(unlock(sb, stake, 1), errors, "LockerInvalid")


def test_nobody_but_the_configs_slasher_pda_may_lock(sb, errors):
    config, authority, node = setup(sb)
    # The same code at another address, and another PDA of the slasher program.
    assert_refused(lock(sb, config, node.pubkey, 10, probe=IMPOSTOR_PROBE_ID), errors, "LockerInvalid")
    assert_refused(lock(sb, config, node.pubkey, 10, seed=1), errors, "LockerInvalid")
    # A top-level lock signed by the config's authority or by the node itself.
    for signer in (authority, node):
        ix = sb.staking.lock(locker=signer.pubkey, config=config, stake=sb.staking.stake(config, node.pubkey), amount=10)
        assert_refused(sb.send([ix], [signer.keypair]), errors, "LockerInvalid")
    assert sb.stake_state(config, node.pubkey).locked == 0


def test_only_the_locker_releases(sb, errors):
    config, authority, node = setup(sb)
    stake = sb.staking.stake(config, node.pubkey)
    sb.must(lock(sb, config, node.pubkey, 500))
    assert_refused(unlock(sb, stake, 500, probe=IMPOSTOR_PROBE_ID), errors, "LockerInvalid")
    assert_refused(unlock(sb, stake, 500, seed=1), errors, "LockerInvalid")
    for signer in (authority, node):
        assert_refused(sb.send([sb.staking.unlock(locker=signer.pubkey, stake=stake, amount=500)], [signer.keypair]), errors, "LockerInvalid")
    assert sb.stake_state(config, node.pubkey).locked == 500


def test_a_locked_stake_can_be_neither_unstaked_nor_closed(sb, errors):
    config, authority, node = setup(sb)
    sb.must(lock(sb, config, node.pubkey, 100))
    assert_refused(sb.unstake(config, node), errors, "StakeLocked")
    # Slashed to nothing while it backs jobs, it still cannot close: the release must find it.
    sb.must(sb.slash(config, authority, node.pubkey, 1_000))
    sb.must(sb.claim(config, node))
    assert_refused(sb.close_stake(config, node), errors, "StakeLocked")
    sb.must(unlock(sb, sb.staking.stake(config, node.pubkey), 100))
    sb.must(sb.close_stake(config, node))


def test_an_unlocking_stake_backs_nothing_new(sb, errors):
    config, _, node = setup(sb)
    sb.must(sb.unstake(config, node))
    assert_refused(lock(sb, config, node.pubkey, 1), errors, "StakeNotStaked")


def test_a_change_of_slasher_frees_no_stake_from_what_it_backs(sb, errors):
    # The authority names another slasher program: the old one keeps the power to slash the
    # stakes it locked (for the jobs they back) and to release them; the new one can lock
    # none of them until they are released.
    config, authority, node = setup(sb)
    stake = sb.staking.stake(config, node.pubkey)
    sb.must(lock(sb, config, node.pubkey, 300))
    sb.must(sb.send([sb.staking.update_config(authority=authority.pubkey, config=config, treasury=authority.token,
                                               slash_to=SLASH_TO_REWARDS_POOL, slasher_program=IMPOSTOR_PROBE_ID)], [authority.keypair]))
    assert_refused(sb.unstake(config, node), errors, "StakeLocked")
    assert_refused(lock(sb, config, node.pubkey, 10, probe=IMPOSTOR_PROBE_ID), errors, "LockerInvalid")
    # No new obligations for the old slasher either: it is no longer the config's.
    assert_refused(lock(sb, config, node.pubkey, 10), errors, "LockerInvalid")
    outcome = sb.must(sb.slash_by_probe(config, node.pubkey, 300))
    assert [e.data.slashed for e in sb.staking.events(outcome.logs) if e.name == "Slashed"] == [300]
    sb.must(unlock(sb, stake, 300))
    # Released: the new slasher may lock it now, and the old one may no longer slash it.
    assert_refused(sb.slash_by_probe(config, node.pubkey, 1), errors, "SlasherInvalid")
    sb.must(lock(sb, config, node.pubkey, 10, probe=IMPOSTOR_PROBE_ID))
