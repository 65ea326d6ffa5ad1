"""Typed views of the staking program's accounts, and what follows from them at a given
time: the multiplier, the unlock schedule, and the rewards a claim would pay now.

The figures are the program's own integer math (staking-interface `math.rs`, programs/
staking `shared/rewards.rs`) written with Python's exact integers: a 64.64 accumulator is
one integer of 2^-64 base units, so `w x (A - S) + dust` is a plain product and sum, and
its whole base units are that shifted right by 64, exactly what the program's wide
multiply and carry give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from .settings import MULTIPLIER_ONE, StakingSettings

__all__ = ["StakingConfig", "Stake", "StakeView", "unlocked", "earned", "FRACTION_BITS"]

# Rewards are counted in 2^-64 base units (the accumulator's fraction).
FRACTION_BITS = 64
_SLASH_TO = {"RewardsPool": "rewards_pool", "Treasury": "treasury"}


def _variant(value: Any) -> str:
    return type(value).__name__


def unlocked(base: int, duration: int, elapsed: int) -> int:
    """Of `base` tokens unlocking linearly over `duration` seconds, how many have unlocked
    `elapsed` seconds in: floor(base x elapsed / duration), all of them from `duration` on
    (math.rs `unlocked`)."""
    if elapsed <= 0:
        return 0
    if elapsed >= duration:
        return base
    return base * elapsed // duration


def earned(weight: int, accumulator: int, snapshot: int, dust: int) -> tuple[int, int]:
    """What a stake of `weight` earned since its `snapshot` of the `accumulator` (both in
    2^-64 base units per unit of weight), plus its `dust`: (whole base units, the fraction
    left in 2^-64 units). The program's `settle`: nothing while the weight is 0."""
    if weight == 0:
        return 0, dust
    # The program's accumulator wraps at 2^64 base units (64.64 bits in all): the difference
    # is taken modulo 2^128, as the program takes it.
    total = weight * ((accumulator - snapshot) % (1 << (2 * FRACTION_BITS))) + dust
    return total >> FRACTION_BITS, total & ((1 << FRACTION_BITS) - 1)


@dataclass(frozen=True)
class StakingConfig:
    """A staking config (PDA ["config", authority, mint]) and its mint's decimals."""

    address: Pubkey
    authority: Pubkey
    mint: Pubkey
    decimals: int
    vault: Pubkey
    rewards_pool: Pubkey
    treasury: Pubkey
    slasher_program: Pubkey
    slasher: Pubkey
    min_duration: int
    max_duration: int
    min_multiplier: int
    max_multiplier: int
    total_staked: int
    total_weight: int
    accumulator: int  # reward_per_weight, 64.64: 2^-64 base units per unit of weight
    rewards_deposited: int  # the running totals wrap at 2^64, as the program keeps them
    rewards_claimed: int
    rewards_unowned: int  # paid while no stake had weight: the treasury's (`sweep`)
    reward_remainder: int
    slashed: int
    stakes: int
    slash_to: str  # rewards_pool, treasury
    rewards_swept: int = 0

    @classmethod
    def from_decoded(cls, address: Pubkey, raw: Any, decimals: int) -> StakingConfig:
        return cls(address, raw.authority, raw.mint, decimals, raw.vault, raw.rewards_pool, raw.treasury, raw.slasher_program, raw.slasher,
                   raw.min_duration, raw.max_duration, raw.min_multiplier, raw.max_multiplier, raw.total_staked, raw.total_weight,
                   (raw.reward_per_weight << FRACTION_BITS) | raw.reward_per_weight_frac, raw.rewards_deposited, raw.rewards_claimed,
                   raw.rewards_unowned, raw.reward_remainder, raw.slashed, raw.stakes, _SLASH_TO[_variant(raw.slash_to)], raw.rewards_swept)

    @property
    def settings(self) -> StakingSettings:
        """The curve, for its multiplier and weight math (fixed at init)."""
        return StakingSettings(self.min_duration, self.max_duration, self.min_multiplier, self.max_multiplier)

    @property
    def in_pool(self) -> int:
        """Tokens in the rewards pool: deposited, not yet claimed nor swept (the program's
        counters wrap at 2^64; their difference does not)."""
        return (self.rewards_deposited - self.rewards_claimed - self.rewards_swept) % (1 << 64)

    @property
    def slash_destination(self) -> Pubkey:
        return self.rewards_pool if self.slash_to == "rewards_pool" else self.treasury

    def to_json(self) -> dict[str, Any]:
        return {
            "address": str(self.address), "authority": str(self.authority), "mint": str(self.mint), "decimals": self.decimals,
            "vault": str(self.vault), "rewards_pool": str(self.rewards_pool), "treasury": str(self.treasury),
            "slash_to": self.slash_to, "slasher_program": _key_or_none(self.slasher_program), "slasher": _key_or_none(self.slasher),
            "min_duration": self.min_duration, "max_duration": self.max_duration,
            "min_multiplier": self.min_multiplier, "max_multiplier": self.max_multiplier,
            "total_staked": self.total_staked, "total_weight": self.total_weight, "stakes": self.stakes, "slashed": self.slashed,
            "rewards": {"deposited": self.rewards_deposited, "claimed": self.rewards_claimed, "unowned": self.rewards_unowned,
                        "swept": self.rewards_swept, "in_pool": self.in_pool},
        }


@dataclass(frozen=True)
class Stake:
    """One owner's stake (PDA ["stake", config, owner])."""

    address: Pubkey
    owner: Pubkey
    config: Pubkey
    state: str  # staked, unlocking
    amount: int
    duration: int
    weight: int
    unlock_start: int
    unlock_base: int
    withdrawn: int
    snapshot: int  # reward_snapshot, 64.64 like the config's accumulator
    rewards_owed: int
    reward_dust: int
    rewards_claimed: int
    slashed: int
    locked: int = 0  # backs jobs and waiting entries of `locker` (the jobs program's slasher PDA)
    locker: Pubkey = Pubkey.default()

    @classmethod
    def from_decoded(cls, address: Pubkey, raw: Any) -> Stake:
        return cls(address, raw.owner, raw.config, _variant(raw.state).lower(), raw.amount, raw.duration, raw.weight, raw.unlock_start,
                   raw.unlock_base, raw.withdrawn, (raw.reward_snapshot << FRACTION_BITS) | raw.reward_snapshot_frac, raw.rewards_owed,
                   raw.reward_dust, raw.rewards_claimed, raw.slashed, raw.locked, raw.locker)

    @property
    def is_staked(self) -> bool:
        return self.state == "staked"

    @property
    def unlock_end(self) -> int | None:
        """When everything has unlocked (unix time; None while staked)."""
        return None if self.is_staked else self.unlock_start + self.duration

    def unlocked(self, now: int) -> int:
        """Tokens unlocked by `now` since the unlock began, withdrawn ones included."""
        return 0 if self.is_staked else unlocked(self.unlock_base, self.duration, now - self.unlock_start)

    def withdrawable(self, now: int) -> int:
        """What `withdraw` would send at `now` (a slash while unlocking takes the last part)."""
        return 0 if self.is_staked else min(max(self.unlocked(now) - self.withdrawn, 0), self.amount)

    def claimable(self, config: StakingConfig) -> int:
        """What `claim` would pay while the config's accumulator is what `config` says: what
        is owed plus what the weight earned since the snapshot, in whole base units."""
        units, _ = earned(self.weight, config.accumulator, self.snapshot, self.reward_dust)
        return self.rewards_owed + units


@dataclass(frozen=True)
class StakeView:
    """A stake with its config, read together, and the cluster's clock at that moment."""

    stake: Stake
    config: StakingConfig
    now: int

    @property
    def multiplier(self) -> int:
        """The multiplier of the stake's lock duration, in millionths (1_000_000 = 1x)."""
        return self.config.settings.multiplier(self.stake.duration)

    @property
    def unlocked(self) -> int:
        return self.stake.unlocked(self.now)

    @property
    def withdrawable(self) -> int:
        return self.stake.withdrawable(self.now)

    @property
    def claimable(self) -> int:
        return self.stake.claimable(self.config)

    @property
    def share(self) -> float:
        """The stake's part of the config's total weight (what share of each fee it earns)."""
        return self.stake.weight / self.config.total_weight if self.config.total_weight else 0.0

    def to_json(self) -> dict[str, Any]:
        s = self.stake
        unlock = None
        if not s.is_staked:
            unlock = {"start": s.unlock_start, "end": s.unlock_end, "base": s.unlock_base, "unlocked": self.unlocked,
                      "withdrawn": s.withdrawn, "withdrawable": self.withdrawable, "locked": s.amount - self.withdrawable}
        return {
            "address": str(s.address), "owner": str(s.owner), "config": str(s.config), "mint": str(self.config.mint),
            "decimals": self.config.decimals, "state": s.state, "amount": s.amount, "duration": s.duration,
            "multiplier": self.multiplier, "multiplier_x": self.multiplier / MULTIPLIER_ONE, "weight": s.weight, "share": self.share,
            "unlock": unlock, "rewards": {"claimable": self.claimable, "claimed": s.rewards_claimed}, "slashed": s.slashed,
            "backing": {"locked": s.locked, "locker": _key_or_none(s.locker)},
            "now": self.now,
        }


def _key_or_none(key: Pubkey) -> str | None:
    return None if key == Pubkey.default() else str(key)
