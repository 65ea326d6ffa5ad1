"""A node's admission to a market: does its stake weight reach the market's `min_stake`, and
if not, the cheapest ways to close the gap. One implementation for the worker (which sends
`work` only when admitted), `crowd node start --stake`, `crowd node status` and `crowd job why`.

    adm = await admission(crowd, market)            # the wallet as the node
    if not adm.admitted:
        print(adm.summary)   # "stake 1.5 tokens more for 30d (weight 1,136,752 < min 2,000,000)"

The staking config is the one `crowd.stakes.config_for_market` names (never derived here).
The figures are the staking program's integer math (StakingSettings.weight and its exact
inverses amount_for / duration_for), so "stake X more" is the fewest base units that reach
the minimum, and one base unit less would not.

Ways out (`Remedy`):
- no stake: `stake` X for the lock asked (default the config's shortest), then X' for the
  longest lock (the fewest tokens, locked longest);
- a staked stake: `extend` its lock (no tokens) when a lock within the bounds reaches the
  minimum; `topup` X at its duration;
- an unlocking stake (weight 0): `restake` (plus a top-up when what is left falls short);
  an emptied one must be closed and staked again (`recreate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from solders.pubkey import Pubkey

from ..amounts import format_tokens
from ..durations import format_span
from ..keys import parse_address
from ..errors import InvalidInput, StakeNotFound, StakingConfigNotFound
from .accounts import Stake, StakingConfig
from .settings import StakingSettings

if TYPE_CHECKING:
    from ..jobs.accounts import Market
    from ..core import ClientCore

__all__ = ["Admission", "Remedy", "admission", "remedies", "market_staking"]


@dataclass(frozen=True)
class Remedy:
    """One way to reach the minimum: `kind` (stake, topup, extend, restake, recreate), the
    tokens it adds (base units), the lock duration and weight after it, and whether the
    wallet holds those tokens."""

    kind: str
    amount: int
    duration: int
    weight: int
    affordable: bool

    def text(self, decimals: int) -> str:
        tokens = f"{format_tokens(self.amount, decimals)} tokens"
        span = format_span(self.duration)
        if self.kind == "stake":
            return f"stake {tokens} for {span}"
        if self.kind == "topup":
            return f"stake {tokens} more for {span}"
        if self.kind == "extend":
            return f"extend the lock to {span}"
        if self.kind == "restake":
            return "restake" + (f" and stake {tokens} more for {span}" if self.amount else f" (locked {span} again)")
        return f"close the emptied stake, then stake {tokens} for {span}"  # recreate

    def command(self, market: Pubkey) -> str:
        """The `crowd stake` command line(s) that do it (amounts in base units, exact)."""
        where = f"--market {market}"
        create = f"crowd stake create {self.amount} --duration {format_span(self.duration)} {where}"
        topup = f"crowd stake topup {self.amount} {where}"
        return {"stake": create, "topup": topup, "extend": f"crowd stake extend --duration {format_span(self.duration)} {where}",
                "restake": f"crowd stake restake {where}" + (f" && {topup}" if self.amount else ""),
                "recreate": f"crowd stake close {where} && {create}"}[self.kind]

    def to_json(self, decimals: int, market: Pubkey) -> dict[str, Any]:
        return {"kind": self.kind, "amount": self.amount, "duration": self.duration, "weight": self.weight,
                "affordable": self.affordable, "text": self.text(decimals), "command": self.command(market)}


def remedies(min_stake: int, settings: StakingSettings, stake: Stake | None, wallet_tokens: int, *,
             duration: int | None = None) -> list[Remedy]:
    """The ways a node with `stake` (None: none) reaches `min_stake` under `settings`
    (module docstring); [] when it already does. `duration`: the lock for a new
    stake (default the shortest)."""
    if stake is not None and stake.weight >= min_stake:
        return []
    out: list[Remedy] = []

    def add(kind: str, amount: int, lock: int, total: int) -> None:
        """`amount` added, `total` staked after it, locked for `lock`."""
        out.append(Remedy(kind, amount, lock, settings.weight(total, lock), amount <= wallet_tokens))

    if stake is None or (not stake.is_staked and stake.amount == 0):
        kind = "stake" if stake is None else "recreate"
        lock = settings.min_duration if duration is None else duration
        for d in dict.fromkeys((lock, settings.max_duration)):  # the lock asked, then the longest (fewest tokens)
            needed = settings.amount_for(min_stake, d)
            add(kind, needed, d, needed)
        return out
    more = max(0, settings.amount_for(min_stake, stake.duration) - stake.amount)
    if not stake.is_staked:
        add("restake", more, stake.duration, stake.amount + more)
        return out
    longer = settings.duration_for(stake.amount, min_stake)
    if longer is not None and longer > stake.duration:
        add("extend", 0, longer, stake.amount)
    add("topup", more, stake.duration, stake.amount + more)
    return out


@dataclass(frozen=True)
class Admission:
    """What a node's stake means for one market, read at one moment."""

    market: Pubkey
    node: Pubkey
    min_stake: int
    config: Pubkey | None = None  # the staking config the market's nodes stake under
    staking: StakingConfig | None = None  # None: it does not exist (or the market names none)
    stake: Stake | None = None
    wallet_tokens: int = 0
    remedies: tuple[Remedy, ...] = field(default=())

    @property
    def required(self) -> bool:
        return self.min_stake > 0

    @property
    def weight(self) -> int:
        return self.stake.weight if self.stake is not None else 0

    @property
    def admitted(self) -> bool:
        return self.weight >= self.min_stake

    @property
    def shortfall(self) -> int:
        """Weight missing (0 when admitted)."""
        return max(0, self.min_stake - self.weight)

    @property
    def decimals(self) -> int:
        return self.staking.decimals if self.staking is not None else 0

    def tokens(self, units: int) -> str:
        return f"{format_tokens(units, self.decimals)} tokens"

    @property
    def summary(self) -> str:
        """One line: admitted or not, and what is missing."""
        if not self.required:
            return f"market {self.market} asks no stake"
        if self.admitted:
            return f"stake weight {self.weight:,} >= min {self.min_stake:,} (staking config {self.config})"
        if self.staking is None:
            where = f"its staking config {self.config} does not exist" if self.config is not None else "it names no staking config"
            return f"market {self.market} admits nodes with stake weight >= {self.min_stake:,}, but {where}: no node can stake for it yet"
        ways = ", or ".join(r.text(self.decimals) for r in self.remedies)
        holds = "" if all(r.affordable for r in self.remedies) else f"; the wallet holds {self.tokens(self.wallet_tokens)}"
        state = "" if self.stake is None or self.stake.is_staked else ", the stake is unlocking"
        return f"{ways} (weight {self.weight:,} < min {self.min_stake:,}{state}{holds})"

    def to_json(self) -> dict[str, Any]:
        stake = None
        if self.stake is not None:
            s = self.stake
            stake = {"address": str(s.address), "state": s.state, "amount": s.amount, "duration": s.duration, "weight": s.weight,
                     "unlock_end": s.unlock_end}
        return {
            "market": str(self.market), "node": str(self.node), "min_stake": self.min_stake, "required": self.required,
            "admitted": self.admitted, "weight": self.weight, "shortfall": self.shortfall,
            "config": str(self.config) if self.config is not None else None, "config_exists": self.staking is not None,
            "mint": str(self.staking.mint) if self.staking is not None else None, "decimals": self.decimals,
            "stake": stake, "wallet_tokens": self.wallet_tokens,
            "remedies": [r.to_json(self.decimals, self.market) for r in self.remedies], "summary": self.summary,
        }


async def admission(crowd: ClientCore, market: Market | Pubkey | str, node: Pubkey | str | None = None, *,
                    duration: int | None = None, config: Pubkey | None = None) -> Admission:
    """`node`'s (default: the wallet's) admission to `market` (an address, or a Market just
    read). `duration`: the lock a new stake's remedy uses (default the config's shortest);
    `config`: the market's staking config when the caller already resolved it (the worker
    does, once per run)."""
    from ..jobs.accounts import Market as MarketAccount
    found = market if isinstance(market, MarketAccount) else await crowd.get_market(market)
    owner = crowd.pubkey if node is None else parse_address(node, "node")
    if found.min_stake == 0:
        return Admission(found.address, owner, 0)
    config, staking = await market_staking(crowd, found, config)
    if staking is None:
        return Admission(found.address, owner, found.min_stake, config)
    settings = staking.settings
    if duration is not None and not settings.min_duration <= duration <= settings.max_duration:
        raise InvalidInput(f"a lock of {format_span(duration)} is outside staking config {config}'s bounds: "
                           f"{format_span(settings.min_duration)} to {format_span(settings.max_duration)}")
    try:
        stake: Stake | None = await crowd.stakes.get_stake(staking.address, owner)
    except StakeNotFound:
        stake = None
    wallet_tokens = await crowd.token_balance(staking.mint, owner)
    ways = remedies(found.min_stake, settings, stake, wallet_tokens, duration=duration)
    return Admission(found.address, owner, found.min_stake, config, staking, stake, wallet_tokens, tuple(ways))


async def market_staking(crowd: ClientCore, market: Market, config: Pubkey | None = None) -> tuple[Pubkey | None, StakingConfig | None]:
    """The staking config `market`'s nodes stake under (crowd.stakes.config_for_market, or
    `config` when already resolved) and its account: (None, None) when the market names
    none, (address, None) when it does not exist."""
    if config is None:
        config = await crowd.stakes.config_for_market(market.address)
    if config is None or config == Pubkey.default():
        return None, None
    try:
        return config, await crowd.stakes.get_config(config)
    except StakingConfigNotFound:
        return config, None
