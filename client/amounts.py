"""Token amounts as people type them: base units of the mint (`1500000`), or whole tokens
with the word `tokens` (`1.5tokens`, `2 tokens`), turned into base units with the mint's
decimals. The suffix is required for tokens: `1` and `1.0` differing by 10^decimals would
be a trap."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .errors import InvalidInput

__all__ = ["TokenAmount", "base_units", "format_tokens"]

_BASE_UNITS = re.compile(r"\d+")
_TOKENS = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*tokens?")
U64_MAX = 2**64 - 1


@dataclass(frozen=True)
class TokenAmount:
    """An amount as typed: `value` in base units, or in tokens when `in_tokens`."""

    value: Decimal
    in_tokens: bool
    text: str

    @classmethod
    def parse(cls, text: str | int | TokenAmount) -> TokenAmount:
        """The syntax only (no mint needed yet): InvalidInput for anything else, or zero."""
        if isinstance(text, TokenAmount):
            return text
        if isinstance(text, int) and not isinstance(text, bool):
            amount = cls(Decimal(text), False, str(text))
        else:
            value = str(text).strip().lower().replace("_", "")
            if _BASE_UNITS.fullmatch(value):
                amount = cls(Decimal(value), False, str(text))
            elif (match := _TOKENS.fullmatch(value)) is not None:
                amount = cls(Decimal(match.group(1)), True, str(text))
            else:
                raise InvalidInput(f"not an amount: {text!r} (base units like 1500000, or tokens like 1.5tokens)")
        if amount.value <= 0:
            raise InvalidInput(f"an amount must be positive: {text!r}")
        return amount

    def base_units(self, decimals: int) -> int:
        """Base units of a mint with `decimals`; InvalidInput if finer than one base unit."""
        units = self.value * (Decimal(10) ** decimals) if self.in_tokens else self.value
        if units != units.to_integral_value():
            raise InvalidInput(f"{self.text!r} is finer than the mint's {decimals} decimals")
        if units > U64_MAX:
            raise InvalidInput(f"{self.text!r} is more than a token account can hold")
        return int(units)


def base_units(amount: int | str | TokenAmount, decimals: int) -> int:
    """`amount` (an int of base units, a typed amount, or a TokenAmount) in base units."""
    return TokenAmount.parse(amount).base_units(decimals)


def format_tokens(units: int, decimals: int) -> str:
    """Base units as tokens, without trailing zeros: 1500000 with 6 decimals -> "1.5"."""
    whole, frac = divmod(units, 10**decimals)
    text = f"{whole:,}"
    if frac:
        text += "." + f"{frac:0{decimals}d}".rstrip("0")
    return text
