"""`crowd.stakes`: the staking program through a `CrowdClient` (its connection, wallet and
sending), for node operators who stake and a config authority who sets one up.

    async with CrowdClient("devnet", keypair) as crowd:
        config = await crowd.stakes.config_for_market(MARKET)
        await crowd.stakes.create(config, "1000tokens", "30d")
        view = await crowd.stakes.view(config)        # weight, unlock schedule, claimable rewards

The same rules as `CrowdClient`: every call reads what it depends on and raises
`InvalidInput`, `InsufficientFunds`, `StakingConfigNotFound` or `StakeNotFound` before
anything is signed (a lock outside the config's bounds, a shorter extend, more tokens than
the wallet holds, a withdraw with nothing unlocked); a refusal by the program is a
`ProgramError` named from the staking IDL. Amounts are base units (int) or typed strings
(`"1500000"`, `"1.5tokens"`, see amounts.py); durations are seconds or `"30d"`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.signature import Signature

from ..jobs.accounts import Event, account_discriminator
from ..amounts import TokenAmount, format_tokens
from ..durations import format_span, parse_duration
from ..keys import parse_address
from ..errors import InsufficientFunds, InvalidInput, StakeNotFound, StakingConfigNotFound
from .program import StakingProgram
from .settings import MULTIPLIER_ONE, SLASH_TO_REWARDS_POOL, SLASH_TO_TREASURY, StakingSettings
from .accounts import Stake, StakeView, StakingConfig
from ..token import MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID, associated_token_address, create_associated_token_account, mint_decimals, token_account_amount, token_account_mint

if TYPE_CHECKING:
    from .admission import Admission
    from ..core import ClientCore

__all__ = ["Stakes", "Moved", "MAX_LOCK", "MAX_MULTIPLIER"]

# The program's bounds on a config (staking-interface `state::limits`).
MAX_LOCK = 10 * 365 * 86_400
MAX_MULTIPLIER = 100 * MULTIPLIER_ONE


@dataclass(frozen=True)
class Moved:
    """A transaction that moved tokens: its signature and how many base units it moved
    (into the vault for create/topup; to the wallet for withdraw/claim, as its event says)."""

    signature: Signature
    amount: int


class Stakes:
    """The staking calls of one CrowdClient (`crowd.stakes`; typed as the ClientCore it uses)."""

    def __init__(self, crowd: ClientCore, program_id: Pubkey | None = None) -> None:
        self.crowd = crowd
        self.program = StakingProgram(program_id)
        self.program_id = self.program.program_id
        crowd.chain.name_errors_of(self.program_id, self.program.errors)

    # -- which config ------------------------------------------------------------------
    async def resolve(self, *, config: Pubkey | str | None = None, market: Pubkey | str | None = None,
                      authority: Pubkey | str | None = None, mint: Pubkey | str | None = None) -> Pubkey:
        """A config named one way: its address, a market (`config_for_market`), or its
        authority and mint (`config_of`). Nothing is read unless a market is given."""
        ways = [config is not None, market is not None, authority is not None or mint is not None]
        if sum(ways) != 1:
            raise InvalidInput("name the staking config one way: its address, a market, or its authority and mint")
        if config is not None:
            return parse_address(config, "staking config")
        if market is not None:
            found = await self.config_for_market(market)
            if found is None:
                raise InvalidInput(f"market {market} names no staking config")
            return found
        if authority is None or mint is None:
            raise InvalidInput("a staking config named by its authority needs its mint too (and the other way round)")
        return self.config_of(authority, mint)

    def config_of(self, authority: Pubkey | str, mint: Pubkey | str) -> Pubkey:
        """The config of `authority` for `mint`: PDA ["config", authority, mint]."""
        return self.program.config(parse_address(authority, "authority"), parse_address(mint, "mint"))

    async def config_for_market(self, market: Pubkey | str) -> Pubkey | None:
        """The staking config a market's nodes stake under: the market's `staking_config`
        (fixed when it opened), or None when it names none. THE ONE PLACE that decides it."""
        market_view = await self.crowd.get_market(market)
        return market_view.staking

    # -- reads -------------------------------------------------------------------------
    async def get_config(self, config: Pubkey | str) -> StakingConfig:
        address = parse_address(config, "staking config")
        raw = await self._decoded(address, "Config")
        if raw is None:
            raise StakingConfigNotFound(address)
        mint = await self.crowd.chain.account_data(raw.mint)
        if mint is None or len(mint[0]) < MINT_LEN:
            raise InvalidInput(f"staking config {address} names mint {raw.mint}, which is not a mint")
        return StakingConfig.from_decoded(address, raw, mint_decimals(mint[0]))

    async def get_stake(self, config: Pubkey | str, owner: Pubkey | str | None = None) -> Stake:
        """`owner`'s stake (default: the wallet's) under `config`."""
        config_key = parse_address(config, "staking config")
        owner_key = self._owner(owner)
        found = await self._stake_or_none(config_key, owner_key)
        if found is None:
            raise StakeNotFound(self.program.stake(config_key, owner_key), owner=owner_key, config=config_key)
        return found

    async def view(self, config: Pubkey | str, owner: Pubkey | str | None = None) -> StakeView:
        """The stake, its config and the cluster's clock: weight, multiplier, unlock
        schedule, and the rewards a claim would pay now."""
        cfg = await self.get_config(config)
        stake = await self.get_stake(cfg.address, owner)
        return StakeView(stake, cfg, await self.crowd.chain.clock())

    async def admission(self, market: Pubkey | str, node: Pubkey | str | None = None, *, duration: int | str | None = None) -> Admission:
        """`node`'s (default: the wallet's) admission to `market`: its stake weight against
        the market's min_stake and, when short, the cheapest ways to reach it (admission.py).
        `duration`: the lock a new stake would take (default the config's shortest)."""
        from .admission import admission

        return await admission(self.crowd, market, node, duration=None if duration is None else parse_duration(duration))

    async def events(self, signature: Signature | str) -> list[Event]:
        """The staking program's events in a transaction (snake_case fields)."""
        sig = signature if isinstance(signature, Signature) else Signature.from_string(str(signature))
        logs = await self.crowd.chain.transaction_logs(sig)
        if logs is None:
            raise InvalidInput(f"transaction not found: {sig}")
        return [Event(e.name, dict(e.data.__dict__)) for e in self.program.events(logs)]

    # -- a config authority's ----------------------------------------------------------
    async def init_config(self, mint: Pubkey | str, *, treasury: Pubkey | str | None = None,
                          settings: StakingSettings | None = None) -> Pubkey:
        """Creates the wallet's staking config for `mint` (with its vault and rewards pool).
        `treasury` (a token account of the mint) defaults to the wallet's associated account,
        created if missing; `settings` to the default curve (1x at 14 days to 4x at 365). The
        slasher program defaults to the jobs program, so that markets naming this config
        slash their silent nodes (a config whose slasher is another program is never slashed
        by reclaim)."""
        settings = settings or StakingSettings()
        if settings.slasher_program == Pubkey.default():
            settings = replace(settings, slasher_program=self.crowd.program.program_id)
        _check_settings(settings)
        mint_key = parse_address(mint, "mint")
        found = await self.crowd.chain.account_data(mint_key)
        if found is None or found[1] != TOKEN_PROGRAM_ID or len(found[0]) != MINT_LEN:
            raise InvalidInput(f"not an SPL Token mint: {mint_key}")
        authority = self.crowd.pubkey
        config = self.program.config(authority, mint_key)
        if await self.crowd.chain.account_data(config) is not None:
            raise InvalidInput(f"{authority} already has a staking config for mint {mint_key}: {config}")
        ixs: list[Instruction] = []
        lamports = await self.crowd.chain.rent_exempt(self.program.program.account["Config"].size)
        lamports += 2 * await self.crowd.chain.rent_exempt(TOKEN_ACCOUNT_LEN)  # the vault and the rewards pool
        if treasury is None:
            treasury_key = associated_token_address(authority, mint_key)
            if await self.crowd.chain.account_data(treasury_key) is None:
                ixs.append(create_associated_token_account(authority, authority, mint_key))
                lamports += await self.crowd.chain.rent_exempt(TOKEN_ACCOUNT_LEN)
        else:
            treasury_key = parse_address(treasury, "treasury")
            account = await self.crowd.chain.account_data(treasury_key)
            if account is None or account[1] != TOKEN_PROGRAM_ID or len(account[0]) != TOKEN_ACCOUNT_LEN or token_account_mint(account[0]) != mint_key:
                raise InvalidInput(f"the treasury {treasury_key} is not a token account of mint {mint_key}")
        ixs.append(self.program.init(authority=authority, mint=mint_key, treasury=treasury_key, settings=settings))
        await self.crowd.send(ixs, [self.crowd.wallet], lamports=lamports)
        return config

    async def deposit_fees(self, config: Pubkey | str, amount: int | str | TokenAmount) -> Moved:
        """Pays tokens into the rewards pool (anyone may): shared by the stakes' weights."""
        parsed = TokenAmount.parse(amount)
        cfg = await self.get_config(config)
        units = parsed.base_units(cfg.decimals)
        await self._check_tokens(cfg, units, "deposit")
        ix = self.program.deposit_fees(depositor=self.crowd.pubkey, config=cfg.address, depositor_token=self._token(cfg), amount=units)
        return Moved(await self._send(ix), units)

    # -- a staker's --------------------------------------------------------------------
    async def create(self, config: Pubkey | str, amount: int | str | TokenAmount, duration: int | str) -> Moved:
        """Stakes `amount` locked for `duration` (within the config's bounds): creates the
        wallet's stake, its weight amount x multiplier(duration)."""
        parsed, seconds = TokenAmount.parse(amount), parse_duration(duration)
        cfg = await self.get_config(config)
        units = parsed.base_units(cfg.decimals)
        _check_lock(cfg, seconds)
        existing = await self._stake_or_none(cfg.address, self.crowd.pubkey)
        if existing is not None:
            raise InvalidInput(f"{self.crowd.pubkey} already has a stake under staking config {cfg.address} ({existing.state}, "
                               f"{format_tokens(existing.amount, cfg.decimals)} tokens): top it up or extend it")
        await self._check_tokens(cfg, units, "stake")
        rent = await self.crowd.chain.rent_exempt(self.program.program.account["Stake"].size)
        ix = self.program.stake_ix(owner=self.crowd.pubkey, config=cfg.address, owner_token=self._token(cfg), amount=units, duration=seconds)
        return Moved(await self._send(ix, rent=rent), units)

    async def topup(self, config: Pubkey | str, amount: int | str | TokenAmount) -> Moved:
        """Adds tokens to a staked (not unlocking) stake; its weight grows with them."""
        parsed = TokenAmount.parse(amount)
        cfg, stake = await self._mine(config)
        units = parsed.base_units(cfg.decimals)
        _check_staked(stake, "topping it up")
        await self._check_tokens(cfg, units, "top up with")
        ix = self.program.topup(owner=self.crowd.pubkey, config=cfg.address, owner_token=self._token(cfg), amount=units)
        return Moved(await self._send(ix), units)

    async def extend(self, config: Pubkey | str, duration: int | str) -> Signature:
        """Sets a longer lock `duration` (the whole new duration, never shorter than now)."""
        seconds = parse_duration(duration)
        cfg, stake = await self._mine(config)
        _check_staked(stake, "extending its lock")
        if seconds < stake.duration:
            raise InvalidInput(f"a lock can only be extended: the stake is locked for {format_span(stake.duration)}, "
                               f"{format_span(seconds)} is shorter")
        if seconds == stake.duration:
            raise InvalidInput(f"the stake is already locked for {format_span(seconds)}: give a longer duration")
        _check_lock(cfg, seconds)
        return await self._send(self.program.extend(owner=self.crowd.pubkey, config=cfg.address, duration=seconds))

    async def unstake(self, config: Pubkey | str) -> Signature:
        """Starts the unlock: the weight drops to 0 and the tokens unlock linearly over the
        stake's duration from now."""
        cfg, stake = await self._mine(config)
        if not stake.is_staked:
            raise InvalidInput(f"the stake is already unstaked: it unlocks until {_utc(stake.unlock_end)}")
        return await self._send(self.program.unstake(owner=self.crowd.pubkey, config=cfg.address))

    async def withdraw(self, config: Pubkey | str) -> Moved:
        """Sends the wallet what has unlocked and not been withdrawn yet."""
        cfg, stake = await self._mine(config)
        if stake.is_staked:
            raise InvalidInput("the stake is locked (staked): unstake it first, then withdraw as it unlocks")
        now = await self.crowd.chain.clock()
        if stake.amount == 0:
            raise InvalidInput("nothing left to withdraw: every token of the stake has been withdrawn (close it to get its rent back)")
        if stake.withdrawable(now) == 0:
            d = cfg.decimals
            since = "yet" if stake.withdrawn == 0 else "since the last withdrawal"
            raise InvalidInput(f"nothing has unlocked {since}: {format_tokens(stake.unlocked(now), d)} of "
                               f"{format_tokens(stake.unlock_base, d)} tokens so far, all by {_utc(stake.unlock_end)}")
        ix = self.program.withdraw(owner=self.crowd.pubkey, config=cfg.address, owner_token=self._token(cfg))
        return await self._pay_out(cfg, ix, "Withdrawn", "withdrawn")

    async def restake(self, config: Pubkey | str) -> Signature:
        """Cancels the unlock: what is left is locked again for the same duration."""
        cfg, stake = await self._mine(config)
        if stake.is_staked:
            raise InvalidInput("the stake is not unlocking: there is nothing to restake")
        if stake.amount == 0:
            raise InvalidInput("the stake holds no tokens to restake (everything was withdrawn)")
        return await self._send(self.program.restake(owner=self.crowd.pubkey, config=cfg.address))

    async def claim(self, config: Pubkey | str) -> Moved:
        """Sends the wallet the rewards its stake earned."""
        cfg, stake = await self._mine(config)
        if stake.claimable(cfg) == 0:
            raise InvalidInput(f"no rewards to claim yet under staking config {cfg.address}")
        ix = self.program.claim(owner=self.crowd.pubkey, config=cfg.address, owner_token=self._token(cfg))
        return await self._pay_out(cfg, ix, "Claimed", "amount")

    async def close(self, config: Pubkey | str) -> Signature:
        """Closes an empty stake (no tokens, no rewards): its rent goes back to the wallet."""
        cfg, stake = await self._mine(config)
        if stake.amount:
            step = "unstake it, then withdraw as it unlocks" if stake.is_staked else "withdraw the rest as it unlocks"
            raise InvalidInput(f"the stake still holds {format_tokens(stake.amount, cfg.decimals)} tokens: {step}, then close it")
        if stake.claimable(cfg):
            raise InvalidInput(f"the stake has {format_tokens(stake.claimable(cfg), cfg.decimals)} tokens of rewards to claim first")
        return await self._send(self.program.close(owner=self.crowd.pubkey, config=cfg.address))

    # -- helpers -----------------------------------------------------------------------
    def _owner(self, owner: Pubkey | str | None) -> Pubkey:
        return self.crowd.pubkey if owner is None else parse_address(owner, "stake owner")

    def _token(self, cfg: StakingConfig) -> Pubkey:
        return associated_token_address(self.crowd.pubkey, cfg.mint)

    async def _decoded(self, address: Pubkey, name: str) -> Any | None:
        found = await self.crowd.chain.account_data(address)
        if found is None or found[1] != self.program_id or found[0][:8] != account_discriminator(name):
            return None
        return self.program.decode(found[0])

    async def _stake_or_none(self, config: Pubkey, owner: Pubkey) -> Stake | None:
        address = self.program.stake(config, owner)
        raw = await self._decoded(address, "Stake")
        return None if raw is None else Stake.from_decoded(address, raw)

    async def _mine(self, config: Pubkey | str) -> tuple[StakingConfig, Stake]:
        cfg = await self.get_config(config)
        return cfg, await self.get_stake(cfg.address)

    async def _check_tokens(self, cfg: StakingConfig, units: int, verb: str) -> None:
        found = await self.crowd.chain.account_data(self._token(cfg))
        available = token_account_amount(found[0]) if found is not None and len(found[0]) >= 72 else 0
        if available < units:
            d = cfg.decimals
            raise InsufficientFunds(f"not enough tokens to {verb}: {format_tokens(units, d)} ({units} base units) of mint {cfg.mint}, "
                                    f"{self.crowd.pubkey} holds {format_tokens(available, d)}", needed=units, available=available,
                                    unit=str(cfg.mint))

    async def _send(self, ix: Instruction, *, rent: int = 0) -> Signature:
        return await self.crowd.send([ix], [self.crowd.wallet], lamports=rent)

    async def _pay_out(self, cfg: StakingConfig, ix: Instruction, event: str, field: str) -> Moved:
        """Sends `ix`, which pays the wallet's associated account (created first if it was
        closed); how much it paid is in the transaction's `event`."""
        ixs = [create_associated_token_account(self.crowd.pubkey, self.crowd.pubkey, cfg.mint), ix]
        signature = await self.crowd.send(ixs, [self.crowd.wallet])
        return Moved(signature, sum(e.data[field] for e in await self.events(signature) if e.name == event))


def _check_lock(cfg: StakingConfig, seconds: int) -> None:
    if not cfg.min_duration <= seconds <= cfg.max_duration:
        raise InvalidInput(f"a lock of {format_span(seconds)} is outside staking config {cfg.address}'s bounds: "
                           f"{format_span(cfg.min_duration)} to {format_span(cfg.max_duration)}")


def _check_staked(stake: Stake, action: str) -> None:
    if not stake.is_staked:
        raise InvalidInput(f"the stake is unlocking (unstaked): {action} needs it staked; restake it first")


def _check_settings(s: StakingSettings) -> None:
    """The program's SettingInvalid rules (init), said one by one."""
    if not 1 <= s.min_duration <= s.max_duration <= MAX_LOCK:
        raise InvalidInput(f"lock bounds {format_span(s.min_duration)} to {format_span(s.max_duration)}: "
                           f"need 1s <= min <= max <= {format_span(MAX_LOCK)}")
    if not MULTIPLIER_ONE <= s.min_multiplier <= s.max_multiplier <= MAX_MULTIPLIER:
        raise InvalidInput(f"multipliers {s.min_multiplier / MULTIPLIER_ONE:g}x to {s.max_multiplier / MULTIPLIER_ONE:g}x: "
                           f"need 1x <= min <= max <= 100x")
    if s.slash_to not in (SLASH_TO_REWARDS_POOL, SLASH_TO_TREASURY):
        raise InvalidInput(f"unknown slash destination {s.slash_to!r} (0: rewards pool, 1: treasury)")


def _utc(when: int | None) -> str:
    return "-" if when is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
