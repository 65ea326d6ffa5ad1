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

    # The inverses, for "how much (or how long) to reach a weight". Both rounding steps of
    # the program round down, so each inverse is a ceiling; each result is checked forward
    # (the weight it gives reaches the target, one unit less does not).
    def amount_for(self, weight: int, duration: int) -> int:
        """The fewest base units whose weight locked for `duration` is at least `weight`:
        floor(a x m / 10^6) >= w exactly when a x m >= w x 10^6, so a = ceil(w x 10^6 / m)."""
        if weight <= 0:
            return 0
        amount = _ceil_div(weight * MULTIPLIER_ONE, self.multiplier(duration))
        if self.weight(amount, duration) < weight or self.weight(amount - 1, duration) >= weight:
            raise ArithmeticError(f"amount_for({weight}, {duration}) = {amount} does not invert weight()")
        return amount

    def duration_for(self, amount: int, weight: int) -> int | None:
        """The shortest lock within the bounds whose weight for `amount` is at least
        `weight`, or None when even the longest falls short. The multiplier needed is
        ceil(w x 10^6 / a); m(d) = m_min + floor(dm x (d - d_min) / span) reaches it exactly
        when dm x (d - d_min) >= (m - m_min) x span."""
        if weight <= 0:
            return self.min_duration
        if amount <= 0:
            return None
        needed = _ceil_div(weight * MULTIPLIER_ONE, amount)
        if needed <= self.min_multiplier:
            duration = self.min_duration
        elif needed > self.max_multiplier or self.max_duration == self.min_duration:
            return None  # beyond the curve (a one-point curve has only min_multiplier)
        else:
            span = self.max_duration - self.min_duration
            duration = self.min_duration + _ceil_div((needed - self.min_multiplier) * span, self.max_multiplier - self.min_multiplier)
        if self.weight(amount, duration) < weight or (duration > self.min_duration and self.weight(amount, duration - 1) >= weight):
            raise ArithmeticError(f"duration_for({amount}, {weight}) = {duration} does not invert weight()")
        return duration


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)
