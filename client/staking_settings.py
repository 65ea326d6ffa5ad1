"""A staking config's lock bounds and multiplier curve, and the program's integer math on
them (staking-interface `math.rs`), apart from the instruction builders so that code which
only computes (the CLI's option defaults, typed views) does not import anchorpy."""

from __future__ import annotations

from dataclasses import dataclass

from solders.pubkey import Pubkey

__all__ = ["StakingSettings", "MULTIPLIER_ONE", "SLASH_TO_REWARDS_POOL", "SLASH_TO_TREASURY", "DAY"]

MULTIPLIER_ONE = 1_000_000  # multipliers are in millionths
SLASH_TO_REWARDS_POOL = 0
SLASH_TO_TREASURY = 1
DAY = 86_400


@dataclass(frozen=True)
class StakingSettings:
    """A config's lock bounds and multiplier curve (fixed at init) and where slashes go.
    The default curve: 1x at 14 days to 4x at 365 days, linear, rounded down."""

    min_duration: int = 14 * DAY
    max_duration: int = 365 * DAY
    min_multiplier: int = MULTIPLIER_ONE
    max_multiplier: int = 4 * MULTIPLIER_ONE
    slash_to: int = SLASH_TO_REWARDS_POOL
    slasher_program: Pubkey = Pubkey.default()

    def multiplier(self, duration: int) -> int:
        """The program's multiplier for `duration`, in millionths (same integer math)."""
        if not self.min_duration <= duration <= self.max_duration:
            raise ValueError(f"duration {duration!r} is outside {self.min_duration}..{self.max_duration}")
        if self.max_duration == self.min_duration:
            return self.min_multiplier
        span = self.max_duration - self.min_duration
        return self.min_multiplier + (self.max_multiplier - self.min_multiplier) * (duration - self.min_duration) // span

    def weight(self, amount: int, duration: int) -> int:
        return amount * self.multiplier(duration) // MULTIPLIER_ONE
