"""`crowd stake create|topup|extend|unstake|withdraw|restake|claim|close|show|init`: a node
operator's stake, and a config authority's `init`, over the SDK's `crowd.stakes`.

Every verb names its staking config one way (`--config`, `--market`, or `--authority` with
`--mint`), takes the cluster options of common.py, and asks nothing: input is checked and
refused before anything is sent, as the other commands do. Amounts are base units
(`1500000`) or tokens (`1.5tokens`); durations `30d`, `12h`, or seconds.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import Any

from ..client.durations import format_span
from crowdcompute.client.staking.settings import StakingSettings
from .common import Output, add_chain_options, client_from_args
from .stake_render import times
from .verbs import add_noun, add_verb, on_chain

__all__ = ["register"]

AMOUNT_HELP = "base units of the mint (1500000), or tokens with the suffix: 1.5tokens"
DESCRIPTION = """Stake the config's tokens behind a node: the stake's weight is amount x the multiplier of its
lock duration (linear between the config's bounds), and weight earns a share of the fees paid into
the config's rewards pool. Unstaking drops the weight to 0 and unlocks the tokens linearly over the
lock duration; withdraw takes what has unlocked, restake locks the rest again.

Name the staking config with --config ADDRESS, --market MARKET (the config its nodes stake under),
or --authority A --mint M. Nothing is asked: bad input is refused before anything is sent."""


def register(commands: Any) -> None:
    verbs = add_noun(commands, "stake", help="stakes: create, topup, extend, unstake, withdraw, restake, claim, close, show, init",
                     description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)

    create = _verb(verbs, "create", _create, "lock tokens for a duration (creates the wallet's stake)")
    create.add_argument("amount", metavar="AMOUNT", help=AMOUNT_HELP)
    create.add_argument("--duration", "-d", required=True, help="lock duration within the config's bounds: 30d, 12h, or seconds")

    topup = _verb(verbs, "topup", _topup, "add tokens to the stake (same lock duration; weight grows)")
    topup.add_argument("amount", metavar="AMOUNT", help=AMOUNT_HELP)

    extend = _verb(verbs, "extend", _extend, "lengthen the lock (never shorter); the multiplier follows")
    how = extend.add_mutually_exclusive_group(required=True)
    how.add_argument("--duration", "-d", help="the new lock duration: 60d")
    how.add_argument("--by", help="add this much to the lock: 30d")

    _verb(verbs, "unstake", _unstake, "start the unlock: weight drops to 0, tokens unlock linearly over the lock duration")
    _verb(verbs, "withdraw", _withdraw, "take what has unlocked so far")
    _verb(verbs, "restake", _restake, "cancel the unlock: what is left is locked again for the same duration")
    _verb(verbs, "claim", _claim, "take the rewards the stake earned")
    _verb(verbs, "close", _close, "close an empty stake (no tokens, no rewards): its rent comes back")

    show = _verb(verbs, "show", _show, "the stake (weight, multiplier, unlock progress, claimable rewards) and its config")
    show.add_argument("owner", metavar="OWNER", nargs="?", help="whose stake (default: the wallet's; none: the config alone)")

    init = add_verb(verbs, "init", on_chain(_init), help="create a staking config for a mint, with the wallet as its authority",
                    description="Create the wallet's staking config for a mint (PDA [config, authority, mint]) with its "
                                "vault and rewards pool. The lock bounds and the multiplier curve are fixed here.")
    init.add_argument("--mint", required=True, help="the SPL Token mint that is staked")
    init.add_argument("--treasury", help="token account of the mint for slashes sent to the treasury (default: the wallet's)")
    # The defaults are StakingSettings' (1x at 14 days to 4x at 365 days).
    defaults = StakingSettings()
    for option, value, text in (("--min-duration", format_span(defaults.min_duration), "shortest lock"),
                                ("--max-duration", format_span(defaults.max_duration), "longest lock"),
                                ("--min-multiplier", times(defaults.min_multiplier), "multiplier of the shortest lock"),
                                ("--max-multiplier", times(defaults.max_multiplier), "multiplier of the longest lock")):
        init.add_argument(option, default=value, help=f"{text} (default {value})")
    init.add_argument("--slash-to", choices=("rewards-pool", "treasury"), default="rewards-pool",
                      help="where slashed tokens go (default rewards-pool: shared by the stakers)")
    init.add_argument("--slasher-program", help="the program whose PDA [slasher] may slash by CPI (default: the jobs program, so markets naming this config slash silent nodes)")
    add_chain_options(init)


def _verb(verbs: Any, name: str, body: Any, text: str) -> argparse.ArgumentParser:
    parser = add_verb(verbs, name, on_chain(body), help=text, description=text[0].upper() + text[1:] + ".")
    group = parser.add_argument_group("staking config (one of)")
    group.add_argument("--config", "-c", help="the config's address")
    group.add_argument("--market", "-m", help="the config the market's nodes stake under")
    group.add_argument("--authority", help="the config's authority (with --mint)")
    group.add_argument("--mint", help="the config's mint (with --authority)")
    add_chain_options(parser)
    return parser


async def _config(crowd: Any, args: argparse.Namespace) -> Any:
    return await crowd.stakes.resolve(config=args.config, market=args.market, authority=args.authority, mint=args.mint)


def _tokens(units: int, view: Any) -> str:
    from ..client.amounts import format_tokens

    return f"{format_tokens(units, view.config.decimals)} tokens"


# -- a staker's ------------------------------------------------------------------------
async def _change(args: argparse.Namespace, out: Output, act: Any, text: Any, moved: str | None = None) -> int:
    """A verb that changes the wallet's stake: names the config, `act(stakes, config)`,
    reads the stake after it and prints `text(view, result)`; `moved` names the JSON field
    for the tokens the transaction moved."""
    async with client_from_args(args) as crowd:
        config = await _config(crowd, args)
        result = await act(crowd.stakes, config)
        view = await crowd.stakes.view(config)
        data: dict[str, Any] = {"signature": str(getattr(result, "signature", result)), "stake": view.to_json()}
        if moved is not None:
            data[moved] = result.amount
        out.emit(data, text(view, result))
    return 0


async def _create(args: argparse.Namespace, out: Output) -> int:
    from ..client.amounts import TokenAmount
    from ..client.durations import parse_duration

    amount, duration = TokenAmount.parse(args.amount), parse_duration(args.duration)
    return await _change(args, out, lambda stakes, config: stakes.create(config, amount, duration),
                         lambda view, moved: f"staked {_tokens(moved.amount, view)} for {format_span(duration)} under config "
                                             f"{view.config.address}: weight {view.stake.weight:,} ({times(view.multiplier)})", "staked")


async def _topup(args: argparse.Namespace, out: Output) -> int:
    from ..client.amounts import TokenAmount

    amount = TokenAmount.parse(args.amount)
    return await _change(args, out, lambda stakes, config: stakes.topup(config, amount),
                         lambda view, moved: f"added {_tokens(moved.amount, view)}: the stake holds {_tokens(view.stake.amount, view)}, "
                                             f"weight {view.stake.weight:,}", "added")


async def _extend(args: argparse.Namespace, out: Output) -> int:
    from ..client.durations import parse_duration

    duration = parse_duration(args.duration) if args.duration else None
    extra = parse_duration(args.by) if args.by else None

    async def act(stakes: Any, config: Any) -> Any:
        longer = duration if extra is None else (await stakes.get_stake(config)).duration + extra
        return await stakes.extend(config, longer)

    return await _change(args, out, act, lambda view, _: f"locked for {format_span(view.stake.duration)} now: "
                                                         f"multiplier {times(view.multiplier)}, weight {view.stake.weight:,}")


async def _unstake(args: argparse.Namespace, out: Output) -> int:
    from .stake_render import when

    return await _change(args, out, lambda stakes, config: stakes.unstake(config),
                         lambda view, _: f"unstaked: {_tokens(view.stake.amount, view)} unlock linearly until "
                                         f"{when(view.stake.unlock_end)}; withdraw them as they unlock")


async def _withdraw(args: argparse.Namespace, out: Output) -> int:
    from .stake_render import when

    def text(view: Any, moved: Any) -> str:
        rest = (f"{_tokens(view.stake.amount, view)} left, all unlocked by {when(view.stake.unlock_end)}" if view.stake.amount
                else "nothing left: close the stake to get its rent back")
        return f"withdrew {_tokens(moved.amount, view)}; {rest}"

    return await _change(args, out, lambda stakes, config: stakes.withdraw(config), text, "withdrawn")


async def _restake(args: argparse.Namespace, out: Output) -> int:
    return await _change(args, out, lambda stakes, config: stakes.restake(config),
                         lambda view, _: f"restaked {_tokens(view.stake.amount, view)} for {format_span(view.stake.duration)}: "
                                         f"weight {view.stake.weight:,}")


async def _claim(args: argparse.Namespace, out: Output) -> int:
    return await _change(args, out, lambda stakes, config: stakes.claim(config),
                         lambda view, moved: f"claimed {_tokens(moved.amount, view)} of rewards "
                                             f"({_tokens(view.stake.rewards_claimed, view)} in all)", "claimed")


async def _close(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args) as crowd:
        config = await _config(crowd, args)
        stake = crowd.stakes.program.stake(config, crowd.pubkey)
        sig = await crowd.stakes.close(config)
        out.emit({"signature": str(sig), "stake": str(stake), "config": str(config), "state": "closed"},
                 f"closed stake {stake}: its rent went back to {crowd.pubkey}")
    return 0


async def _show(args: argparse.Namespace, out: Output) -> int:
    from ..client.errors import StakeNotFound
    from .stake_render import show

    given = _address(args.owner, "stake owner") if args.owner else None  # checked before any request
    async with client_from_args(args, wallet=False) as crowd:
        config = await crowd.stakes.get_config(await _config(crowd, args))
        owner = given or (crowd.pubkey if crowd.keypair is not None else None)
        view = None
        if owner is not None:
            try:
                view = await crowd.stakes.view(config.address, owner)
            except StakeNotFound:
                view = None
        data = {"config": config.to_json(), "owner": str(owner) if owner is not None else None,
                "stake": view.to_json() if view is not None else None}
        out.emit(data, lambda console: show(console, config, view, owner))
    return 0


# -- a config authority's --------------------------------------------------------------
async def _init(args: argparse.Namespace, out: Output) -> int:
    from crowdcompute.client.staking.settings import SLASH_TO_REWARDS_POOL, SLASH_TO_TREASURY
    from .stake_render import curve

    settings = StakingSettings(min_duration=_duration(args.min_duration), max_duration=_duration(args.max_duration),
                               min_multiplier=_multiplier(args.min_multiplier), max_multiplier=_multiplier(args.max_multiplier),
                               slash_to=SLASH_TO_TREASURY if args.slash_to == "treasury" else SLASH_TO_REWARDS_POOL,
                               slasher_program=_address(args.slasher_program, "program") if args.slasher_program else _zero())
    async with client_from_args(args) as crowd:
        address = await crowd.stakes.init_config(args.mint, treasury=args.treasury, settings=settings)
        config = await crowd.stakes.get_config(address)
        out.emit({"config": config.to_json()},
                 f"created staking config {address} for mint {config.mint}: {curve(config)}; slashes go to the {args.slash_to.replace('-', ' ')}")
    return 0


def _duration(text: str) -> int:
    from ..client.durations import parse_duration

    return parse_duration(text)


def _multiplier(text: str) -> int:
    """`4x`, `1.5x` or `4` -> millionths (the program's unit), exactly."""
    from ..client.errors import InvalidInput
    from crowdcompute.client.staking.settings import MULTIPLIER_ONE

    value = text.strip().lower().removesuffix("x")
    try:
        millionths = Decimal(value) * MULTIPLIER_ONE
    except InvalidOperation:
        raise InvalidInput(f"not a multiplier: {text!r} (use e.g. 1x, 2.5x)") from None
    if not millionths.is_finite() or millionths != millionths.to_integral_value():
        raise InvalidInput(f"not a multiplier: {text!r} (use e.g. 1x, 2.5x; at most 6 decimals)")
    return int(millionths)


def _address(text: str, what: str) -> Any:
    from ..client.keys import parse_address

    return parse_address(text, what)


def _zero() -> Any:
    from solders.pubkey import Pubkey

    return Pubkey.default()
