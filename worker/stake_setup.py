"""`crowd node start`'s stake step: print the node's admission to the market and, with
`--stake AMOUNT`, when the stake falls short of the market's minimum, show what staking
would do, ask the operator, and stake (create, or extend and top up) before starting.

Never stakes without a yes (the prompt, or `--yes`); every refusal (the amount would still
fall short, the wallet lacks the tokens, an unlocking stake, a lock outside the config's
bounds, a shorter lock) is said before anything is sent. Without `--stake` a node short of
stake still starts: it waits, and joins once its stake reaches the minimum (stake_gate.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable

from crowdcompute.client.jobs.accounts import Market
from crowdcompute.client.staking.admission import Admission, admission
from ..client.amounts import TokenAmount
from ..client.crowd import CrowdClient
from ..client.durations import format_span, parse_duration
from ..client.errors import InvalidInput

__all__ = ["stake_step", "StakePlan", "plan_stake", "ask_on_terminal"]

Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class StakePlan:
    """What `--stake` will do: a new stake, or an existing one's longer lock and top-up."""

    create: bool
    amount: int  # base units added
    duration: int  # the lock after it
    extend_to: int | None  # a longer lock first (an existing stake)
    weight: int  # the weight after it

    def describe(self, adm: Admission) -> str:
        t = adm.tokens
        if self.create:
            what = f"stake {t(self.amount)} locked {format_span(self.duration)}"
        else:
            steps = [f"extend the stake's lock to {format_span(self.extend_to)}"] if self.extend_to is not None else []
            steps += [f"add {t(self.amount)} to it"] if self.amount else []
            what = " and ".join(steps)
        return (f"{what} under staking config {adm.config}: weight {adm.weight:,} -> {self.weight:,} (the market's minimum "
                f"{adm.min_stake:,}); the wallet holds {t(adm.wallet_tokens)} and keeps {t(adm.wallet_tokens - self.amount)}. "
                f"Staked tokens come back only after `crowd stake unstake`, unlocking linearly over {format_span(self.duration)}")


def plan_stake(adm: Admission, amount: str, duration: int | None) -> StakePlan:
    """The plan for `--stake amount` (base units, `1.5tokens`, or `min`: the fewest that
    reach the minimum) and `--stake-duration` for a node short of stake; InvalidInput when
    it cannot work."""
    settings, stake, market = adm.staking.settings, adm.stake, adm.market
    if stake is not None and not stake.is_staked:
        raise InvalidInput(f"the node's stake is unlocking (weight 0): restake it first (crowd stake restake --market {market})"
                           + (", or close it and stake again" if stake.amount == 0 else ""))
    if stake is not None and duration is not None and duration < stake.duration:
        raise InvalidInput(f"--stake-duration {format_span(duration)}: the stake is locked for {format_span(stake.duration)} "
                           f"and a lock can only be extended")
    lock = duration if duration is not None else (stake.duration if stake is not None else settings.min_duration)
    held = stake.amount if stake is not None else 0
    units = (max(0, settings.amount_for(adm.min_stake, lock) - held) if amount.strip().lower() == "min"
             else TokenAmount.parse(amount).base_units(adm.decimals))
    weight = settings.weight(held + units, lock)
    if weight < adm.min_stake:
        fewest = settings.amount_for(adm.min_stake, lock) - held
        raise InvalidInput(f"--stake {amount} would bring the weight to {weight:,}, still below the market's minimum "
                           f"{adm.min_stake:,}: locked {format_span(lock)} it takes at least {adm.tokens(fewest)} ({fewest} base units; "
                           f"--stake min)")
    if units > adm.wallet_tokens:
        raise InvalidInput(f"not enough tokens to stake: {adm.tokens(units)} ({units} base units) of mint {adm.staking.mint}, "
                           f"{adm.node} holds {adm.tokens(adm.wallet_tokens)}; nothing was sent")
    extend_to = lock if stake is not None and lock > stake.duration else None
    return StakePlan(stake is None, units, lock, extend_to, weight)


def ask_on_terminal(console: Any) -> Confirm:
    """A yes/no prompt on `console` (rich), reading the answer from stdin; no answer
    (end of input) is a no."""
    from rich.prompt import Confirm as RichConfirm

    def ask(question: str) -> bool:
        try:
            return RichConfirm.ask(question, console=console, default=False)
        except (EOFError, OSError, RuntimeError):  # end of input, or no stdin at all
            return False
        finally:
            if sys.stdin is None or not sys.stdin.isatty():
                console.print()  # no terminal echoed the answer and its newline

    return ask


async def stake_step(crowd: CrowdClient, market: Market, *, amount: str | None, duration: str | None, yes: bool,
                     status: Callable[[str], None], confirm: Confirm) -> Admission:
    """Prints the admission; stakes as `--stake` asks when short (after `confirm`, unless
    `yes`). Returns the admission the node starts with. InvalidInput for a refusal."""
    lock = parse_duration(duration) if duration is not None else None
    if market.min_stake == 0:
        status(f"stake    none asked by market {market.address}" + ("; --stake ignored: nothing staked" if amount else ""))
        return await admission(crowd, market)
    adm = await admission(crowd, market, duration=lock)
    if adm.admitted or adm.staking is None:
        status(f"stake    {adm.summary}" + ("; --stake not needed: nothing staked" if amount and adm.admitted else ""))
        if amount and not adm.admitted:
            raise InvalidInput(f"cannot stake for market {market.address}: {adm.summary}")
        return adm
    status(f"stake    short: {adm.summary}")
    if amount is None:
        status(f"         the node waits until its stake reaches the minimum: {adm.remedies[0].command(market.address)}, "
               f"or start with --stake AMOUNT")
        return adm
    plan = plan_stake(adm, amount, lock)
    status(f"staking  {plan.describe(adm)}")
    if not yes and not confirm("Stake as above?"):
        raise InvalidInput("staking declined: nothing was sent (the node did not start)")
    if plan.extend_to is not None:
        await crowd.stakes.extend(adm.config, plan.extend_to)
    if plan.create:
        await crowd.stakes.create(adm.config, plan.amount, plan.duration)
    elif plan.amount:
        await crowd.stakes.topup(adm.config, plan.amount)
    after = await admission(crowd, market)
    status(f"staked   {after.summary}")
    return after
