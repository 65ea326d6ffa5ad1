"""What needs no chain: amounts as typed (base units or tokens), lock durations written back,
the off-chain settlement and unlock math on hand-made accounts, and `crowd stake show`'s
tables, exactly (the console is passed in)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from solders.pubkey import Pubkey

from crowdcompute.cli.stake_render import show, times
from crowdcompute.client.amounts import TokenAmount, base_units, format_tokens
from crowdcompute.client.durations import format_span, parse_duration
from crowdcompute.client.errors import InvalidInput
from crowdcompute.client.staking.accounts import Stake, StakeView, StakingConfig, earned, unlocked

DAY = 86_400
START = 1_700_000_000


def key(n: int) -> Pubkey:
    return Pubkey.from_bytes(bytes([n]) * 32)


CONFIG = StakingConfig(key(1), key(2), key(3), 6, key(4), key(5), key(6), Pubkey.default(), Pubkey.default(), 14 * DAY, 365 * DAY,
                       1_000_000, 4_000_000, 3_000_000, 2_000_000, 7 << 64, 5_000, 1_000, 0, 0, 0, 2, "rewards_pool")


def stake(**changes) -> Stake:
    fields = dict(address=key(7), owner=key(8), config=key(1), state="staked", amount=1_500_000, duration=30 * DAY, weight=1_705_128,
                  unlock_start=0, unlock_base=0, withdrawn=0, snapshot=5 << 64, rewards_owed=42, reward_dust=0, rewards_claimed=100, slashed=0)
    fields.update(changes)
    return Stake(**fields)


def test_amounts():
    assert [base_units(t, 6) for t in ("1500000", "1.5tokens", "2 tokens", ".5token", "1_000", 7)] == [1_500_000, 1_500_000, 2_000_000,
                                                                                                         500_000, 1_000, 7]
    assert base_units("3tokens", 0) == 3
    for bad, message in (("1.5", "not an amount: '1.5'"), ("0", "must be positive"), ("-3", "not an amount"),
                         ("0.0000001tokens", "finer than the mint's 6 decimals"), ("99999999999999tokens", "more than a token account can hold")):
        with pytest.raises(InvalidInput, match=message):
            base_units(bad, 6)
    assert TokenAmount.parse(TokenAmount.parse("2tokens")).base_units(2) == 200
    assert (format_tokens(1_500_000, 6), format_tokens(1_234_567_890_123, 6), format_tokens(5, 0), format_tokens(0, 6)) == \
        ("1.5", "1,234,567.890123", "5", "0")


def test_lock_durations_read_back():
    for seconds in (1, 59, 3600, 14 * DAY, 90_061, 365 * DAY):
        assert parse_duration(format_span(seconds)) == seconds
    assert (format_span(14 * DAY), format_span(90_061)) == ("14d", "1d1h1m1s")
    assert (times(1_136_752), times(4_000_000), times(1_500_000)) == ("1.136752x", "4x", "1.5x")


def test_settlement_and_unlock_math():
    # A weight of 3 over an accumulator that grew by 3 x floor(2^64 / 3) sub-units (3 units
    # less 3 sub-units): 3 x 2^64 - 3 alone stays under 3 units, the dust of 5 completes the
    # third; 2 sub-units are kept. Exactly the program's floor((w x (A - S) + dust) / 2^64).
    third = (1 << 64) // 3
    assert earned(3, 10 * third, 7 * third, 0) == (2, (1 << 64) - 3)
    assert earned(3, 10 * third, 7 * third, 5) == (3, 2)
    assert earned(0, 99 << 64, 0, 17) == (0, 17)  # no weight: nothing earned, dust kept
    assert (unlocked(100, 30, 10), unlocked(100, 30, 31), unlocked(100, 30, -5)) == (33, 100, 0)
    s = stake(state="unlocking", weight=0, unlock_start=START, unlock_base=2_000_000, withdrawn=500_000)
    assert s.unlock_end == START + 30 * DAY
    assert s.withdrawable(START + 15 * DAY) == 500_000  # half unlocked, half of that withdrawn
    assert s.withdrawable(START + 60 * DAY) == 1_500_000  # never more than the stake holds
    assert stake().claimable(CONFIG) == 42 + 1_705_128 * 2 and s.claimable(CONFIG) == 42


def render(view: StakeView | None, owner: Pubkey | None) -> list[str]:
    out = io.StringIO()
    show(Console(file=out, width=100, _environ={}), CONFIG, view, owner)
    return [line.rstrip() for line in out.getvalue().splitlines()]


CONFIG_LINES = [
    "staking config",
    f" address          {key(1)}",
    f" authority        {key(2)}",
    f" mint             {key(3)} (6 decimals)",
    " curve            locks 14d to 365d, multiplier 1x to 4x",
    " total staked     3 tokens (3,000,000 base units)",
    " total weight     2,000,000",
    " stakes           2",
    " rewards pool     0.004 tokens (4,000 base units); 0.005 deposited, 0.001 claimed",
    " slashes go to    the rewards pool",
    " slashed          0 tokens (0 base units)",
    " slasher program  none",
    # The trust a staker gives the authority, said before it stakes.
    " authority may    slash any stake of this config, up to all of it, at any time, and change where",
    "                  slashes go and the slasher program (jobs a stake already backs stay slashable by",
    "                  their locker)",
]


def test_show_an_unlocking_stake():
    s = stake(state="unlocking", weight=0, unlock_start=START, unlock_base=2_000_000, withdrawn=500_000)
    lines = render(StakeView(s, CONFIG, START + 15 * DAY), s.owner)
    assert lines == [
        "stake",
        f" address            {key(7)}",
        f" owner              {key(8)}",
        " state              unlocking",
        " amount             1.5 tokens (1,500,000 base units)",
        " lock               30d",
        " multiplier         1.136752x",
        " weight             0 (unlocking: no weight, no new rewards)",
        " unlocked           ██████████░░░░░░░░░░ 50.0%: 1 of 2 tokens",
        " fully unlocked     2023-12-14 22:13:20 UTC",
        " withdrawn          0.5 tokens (500,000 base units)",
        " withdrawable       0.5 tokens (500,000 base units)",
        " claimable rewards  0.000042 tokens (42 base units)",
        " claimed rewards    0.0001 tokens (100 base units)",
    ] + CONFIG_LINES


def test_show_a_staked_stake_and_no_stake():
    lines = render(StakeView(stake(), CONFIG, START), key(8))
    assert " weight             1,705,128 (85.26% of the config's 2,000,000)" in lines
    assert " claimable rewards  3.410298 tokens (3,410,298 base units)" in lines
    assert not any(line.startswith((" unlocked", " withdrawable")) for line in lines)
    assert render(None, key(9)) == [f"{key(9)} has no stake under this config"] + CONFIG_LINES
    assert render(None, None) == CONFIG_LINES
