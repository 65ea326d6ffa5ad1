"""What needs no chain: the inverse of the staking program's weight math (amount_for,
duration_for) to the base unit and the second, and the remedies a node short of stake is
offered, on hand-made stakes: weight exactly at the minimum, one base unit below, unlocking
and emptied stakes, flat curves, and what the wallet can pay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from solders.pubkey import Pubkey

from crowdcompute.client.staking.admission import Admission, Remedy, remedies
from crowdcompute.client.staking.accounts import Stake, StakingConfig
from crowdcompute.client.staking.settings import MULTIPLIER_ONE, StakingSettings

DAY = 86_400
CURVE = StakingSettings()  # 1x at 14 days to 4x at 365 days
MARKET = Pubkey.from_bytes(bytes([9]) * 32)


def key(n: int) -> Pubkey:
    return Pubkey.from_bytes(bytes([n]) * 32)


def stake(amount: int, duration: int, *, state: str = "staked", curve: StakingSettings = CURVE) -> Stake:
    weight = curve.weight(amount, duration) if state == "staked" else 0
    return Stake(key(7), key(8), key(1), state, amount, duration, weight, 0, amount if state != "staked" else 0, 0, 0, 0, 0, 0, 0)


def test_the_architecture_example_inverts_exactly():
    # 1,000,000 base units locked 30 days: multiplier 1,136,752, weight 1,136,752.
    assert CURVE.weight(1_000_000, 30 * DAY) == 1_136_752
    assert CURVE.amount_for(1_136_752, 30 * DAY) == 1_000_000  # exactly at the weight
    assert CURVE.amount_for(1_136_753, 30 * DAY) == 1_000_001  # one weight unit more: one base unit more
    assert CURVE.weight(1_000_001, 30 * DAY) == 1_136_753
    # the shortest lock reaching 1,136,752 for 1,000,000 is a little under 30 days (the
    # multiplier is floored: 2 s earlier still rounds to 1,136,752)
    shortest = CURVE.duration_for(1_000_000, 1_136_752)
    assert shortest <= 30 * DAY
    assert CURVE.weight(1_000_000, shortest) >= 1_136_752 > CURVE.weight(1_000_000, shortest - 1)
    assert CURVE.duration_for(1_000_000, 1_000_000) == 14 * DAY  # 1x suffices: the shortest lock
    assert CURVE.duration_for(1_000_000, 4_000_000) == 365 * DAY  # exactly 4x: the longest
    assert CURVE.duration_for(1_000_000, 4_000_001) is None  # beyond the curve
    assert CURVE.duration_for(0, 1) is None and CURVE.amount_for(0, 30 * DAY) == 0


@hsettings(max_examples=400, deadline=None)
@given(st.integers(1, 10 * 365 * DAY), st.integers(0, 10 * 365 * DAY), st.integers(MULTIPLIER_ONE, 100 * MULTIPLIER_ONE),
       st.integers(0, 99 * MULTIPLIER_ONE), st.integers(1, 2**56), st.integers(0, 2**60), st.data())
def test_inverses_are_the_fewest_tokens_and_the_shortest_lock(min_duration, extra, min_m, more_m, weight, amount, data):
    curve = StakingSettings(min_duration, min_duration + extra, min_m, min(min_m + more_m, 100 * MULTIPLIER_ONE))
    duration = data.draw(st.integers(curve.min_duration, curve.max_duration))
    needed = curve.amount_for(weight, duration)
    assert curve.weight(needed, duration) >= weight > curve.weight(needed - 1, duration)
    lock = curve.duration_for(amount, weight)
    if lock is None:
        assert curve.weight(amount, curve.max_duration) < weight
    else:
        assert curve.min_duration <= lock <= curve.max_duration and curve.weight(amount, lock) >= weight
        assert lock == curve.min_duration or curve.weight(amount, lock - 1) < weight


def test_weight_exactly_at_the_minimum_is_admitted_one_unit_below_is_not():
    held = stake(1_000_000, 30 * DAY)
    assert remedies(1_136_752, CURVE, held, 0) == []
    at = Admission(MARKET, key(8), 1_136_752, key(1), None, held)
    assert at.admitted and at.shortfall == 0
    below = Admission(MARKET, key(8), 1_136_753, key(1), None, held)
    assert not below.admitted and below.shortfall == 1
    # one weight unit short: one base unit more at 30 days, or a slightly longer lock
    extend, topup = remedies(1_136_753, CURVE, held, wallet_tokens=1)
    assert (topup.kind, topup.amount, topup.duration, topup.weight, topup.affordable) == ("topup", 1, 30 * DAY, 1_136_753, True)
    assert extend.kind == "extend" and extend.amount == 0 and extend.duration > 30 * DAY
    assert CURVE.weight(1_000_000, extend.duration) >= 1_136_753 > CURVE.weight(1_000_000, extend.duration - 1)


def test_one_base_unit_short_of_the_amount():
    needed = CURVE.amount_for(2_000_000, 30 * DAY)
    held = stake(needed - 1, 30 * DAY)
    assert held.weight < 2_000_000
    [*_, topup] = remedies(2_000_000, CURVE, held, wallet_tokens=0)
    assert (topup.amount, topup.weight >= 2_000_000, topup.affordable) == (1, True, False)


def test_no_stake_the_lock_asked_then_the_longest():
    ways = remedies(2_000_000, CURVE, None, wallet_tokens=1_000_000, duration=30 * DAY)
    assert [(r.kind, r.duration) for r in ways] == [("stake", 30 * DAY), ("stake", 365 * DAY)]
    assert [r.amount for r in ways] == [CURVE.amount_for(2_000_000, 30 * DAY), 500_000]
    assert [r.affordable for r in ways] == [False, True]  # 1,759,399 > 1,000,000 >= 500,000
    assert all(r.weight >= 2_000_000 for r in ways)
    default = remedies(2_000_000, CURVE, None, 0)
    assert [(r.duration, r.amount) for r in default] == [(14 * DAY, 2_000_000), (365 * DAY, 500_000)]
    only = remedies(2_000_000, CURVE, None, 0, duration=365 * DAY)
    assert [(r.duration, r.amount) for r in only] == [(365 * DAY, 500_000)]


def test_unlocking_and_emptied_stakes():
    unlocking = stake(3_000_000, 30 * DAY, state="unlocking")
    [restake] = remedies(2_000_000, CURVE, unlocking, 0)
    assert (restake.kind, restake.amount, restake.weight) == ("restake", 0, CURVE.weight(3_000_000, 30 * DAY))
    small = stake(1_000_000, 30 * DAY, state="unlocking")
    [more] = remedies(2_000_000, CURVE, small, 0)
    assert more.kind == "restake" and more.amount == CURVE.amount_for(2_000_000, 30 * DAY) - 1_000_000 and more.weight >= 2_000_000
    emptied = stake(0, 30 * DAY, state="unlocking")
    assert [r.kind for r in remedies(2_000_000, CURVE, emptied, 0)] == ["recreate", "recreate"]


def test_a_flat_curve_offers_no_longer_lock():
    flat = StakingSettings(min_duration=DAY, max_duration=DAY, min_multiplier=2 * MULTIPLIER_ONE, max_multiplier=3 * MULTIPLIER_ONE)
    assert flat.duration_for(1_000, 2_000) == DAY and flat.duration_for(1_000, 2_001) is None
    one_x = StakingSettings(min_duration=DAY, max_duration=30 * DAY, min_multiplier=MULTIPLIER_ONE, max_multiplier=MULTIPLIER_ONE)
    held = stake(1_000, DAY, curve=one_x)
    assert [(r.kind, r.amount) for r in remedies(1_500, one_x, held, 10_000)] == [("topup", 500)]


def test_the_summary_and_commands():
    config = StakingConfig(key(1), key(2), key(3), 6, key(4), key(5), key(6), Pubkey.default(), Pubkey.default(), 14 * DAY, 365 * DAY,
                           1_000_000, 4_000_000, 0, 0, 0, 0, 0, 0, 0, 0, 0, "rewards_pool")
    held = stake(1_000_000, 30 * DAY)
    ways = tuple(remedies(2_000_000, CURVE, held, 300_000))
    short = Admission(MARKET, key(8), 2_000_000, key(1), config, held, 300_000, ways)
    assert ways[0].duration == 131 * DAY  # 14d + ceil((2x - 1x) x 351d / 3x): exactly 2x
    assert short.summary == ("extend the lock to 131d, or stake 0.759399 tokens more for 30d "
                             "(weight 1,136,752 < min 2,000,000; the wallet holds 0.3 tokens)")
    assert ways[1].command(MARKET) == f"crowd stake topup 759399 --market {MARKET}"
    assert ways[0].command(MARKET).startswith("crowd stake extend --duration ")
    none = Admission(MARKET, key(8), 2_000_000, key(1), config, None, 10_000_000, tuple(remedies(2_000_000, CURVE, None, 10_000_000)))
    assert none.summary == "stake 2 tokens for 14d, or stake 0.5 tokens for 365d (weight 0 < min 2,000,000)"
    assert none.remedies[0].command(MARKET) == f"crowd stake create 2000000 --duration 14d --market {MARKET}"
    ok = Admission(MARKET, key(8), 1_136_752, key(1), config, held)
    assert ok.summary == f"stake weight 1,136,752 >= min 1,136,752 (staking config {key(1)})"
    missing = Admission(MARKET, key(8), 5, key(1))
    assert missing.summary == (f"market {MARKET} admits nodes with stake weight >= 5, but its staking config {key(1)} does not exist: "
                               f"no node can stake for it yet")
    assert Admission(MARKET, key(8), 0).summary == f"market {MARKET} asks no stake" and Admission(MARKET, key(8), 0).admitted
    data = short.to_json()
    assert (data["admitted"], data["shortfall"], data["weight"], data["config_exists"]) == (False, 2_000_000 - 1_136_752, 1_136_752, True)
    assert [r["kind"] for r in data["remedies"]] == ["extend", "topup"] and data["remedies"][1]["affordable"] is False
    assert isinstance(ways[0], Remedy)
