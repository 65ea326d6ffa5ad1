"""What `crowd stake show` prints for people: the stake (weight, multiplier, unlock progress,
claimable rewards) and its config, as rich tables. Display only: the figures come from the
SDK's `StakeView` and `StakingConfig`; the console is passed in."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table

from ..client.amounts import format_tokens
from ..client.durations import format_span
from crowdcompute.client.staking.settings import MULTIPLIER_ONE

__all__ = ["show", "stake_table", "config_table", "curve", "when", "times", "bar"]


def when(timestamp: int | None) -> str:
    """A unix time in UTC, as the chain's clock counts it."""
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def curve(config: Any) -> str:
    return (f"locks {format_span(config.min_duration)} to {format_span(config.max_duration)}, "
            f"multiplier {times(config.min_multiplier)} to {times(config.max_multiplier)}")


def show(console: Console, config: Any, view: Any | None, owner: Any | None) -> None:
    if view is not None:
        console.print(stake_table(view))
    elif owner is not None:
        console.print(f"{owner} has no stake under this config", markup=False)
    console.print(config_table(config))


def stake_table(view: Any) -> Table:
    s, d = view.stake, view.config.decimals
    table = Table(title="stake", title_justify="left", show_header=False, box=None)
    table.add_row("address", str(s.address))
    table.add_row("owner", str(s.owner))
    table.add_row("state", s.state)
    table.add_row("amount", _amount(s.amount, d))
    table.add_row("lock", format_span(s.duration))
    table.add_row("multiplier", times(view.multiplier))
    weight = f"{s.weight:,}"
    if s.is_staked:
        weight += f" ({view.share:.2%} of the config's {view.config.total_weight:,})"
    else:
        weight += " (unlocking: no weight, no new rewards)"
    table.add_row("weight", weight)
    if not s.is_staked:
        part = view.unlocked / max(s.unlock_base, 1)
        table.add_row("unlocked", f"{bar(part)} {part:.1%}: {format_tokens(view.unlocked, d)} of {format_tokens(s.unlock_base, d)} tokens")
        table.add_row("fully unlocked", when(s.unlock_end))
        table.add_row("withdrawn", _amount(s.withdrawn, d))
        table.add_row("withdrawable", _amount(view.withdrawable, d))
    table.add_row("claimable rewards", _amount(view.claimable, d))
    table.add_row("claimed rewards", _amount(s.rewards_claimed, d))
    if s.slashed:
        table.add_row("slashed", _amount(s.slashed, d))
    if s.locked:
        table.add_row("backs jobs", f"{_amount(s.locked, d)} locked by {s.locker} (no unstake or close until released)")
    return table


# The trust a staker gives a config's authority (docs/architecture.md, "What a market
# guarantees"), said where an operator decides to stake.
AUTHORITY_POWER = ("slash any stake of this config, up to all of it, at any time, and change where slashes go "
                   "and the slasher program (jobs a stake already backs stay slashable by their locker)")


def config_table(config: Any) -> Table:
    d = config.decimals
    table = Table(title="staking config", title_justify="left", show_header=False, box=None)
    table.add_row("address", str(config.address))
    table.add_row("authority", str(config.authority))
    table.add_row("mint", f"{config.mint} ({d} decimals)")
    table.add_row("curve", curve(config))
    table.add_row("total staked", _amount(config.total_staked, d))
    table.add_row("total weight", f"{config.total_weight:,}")
    table.add_row("stakes", str(config.stakes))
    table.add_row("rewards pool", f"{_amount(config.in_pool, d)}; {format_tokens(config.rewards_deposited, d)} deposited, "
                                  f"{format_tokens(config.rewards_claimed, d)} claimed")
    table.add_row("slashes go to", f"the {config.slash_to.replace('_', ' ')}" + (f" {config.treasury}" if config.slash_to == "treasury" else ""))
    table.add_row("slashed", _amount(config.slashed, d))
    table.add_row("slasher program", str(config.slasher_program) if config.slasher_program != type(config.slasher_program).default() else "none")
    if config.rewards_unowned:
        table.add_row("unowned rewards", f"{_amount(config.rewards_unowned, d)} (paid while nobody staked: the treasury's, `sweep` sends them)")
    table.add_row("authority may", AUTHORITY_POWER)
    return table


def bar(part: float, width: int = 20) -> str:
    """A progress bar in plain characters (it reads the same without colour or a terminal)."""
    filled = min(width, max(0, int(part * width)))
    return "█" * filled + "░" * (width - filled)


def _amount(units: int, decimals: int) -> str:
    return f"{format_tokens(units, decimals)} tokens ({units:,} base units)"


def times(millionths: int) -> str:
    """A multiplier in millionths, exactly: 1136752 -> "1.136752x", 4000000 -> "4x"."""
    whole, frac = divmod(millionths, MULTIPLIER_ONE)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".") + "x"
