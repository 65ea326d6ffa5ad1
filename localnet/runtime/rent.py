"""Rent state transitions, checked after execution as a validator does (LiteSVM does not).

Every writable account of a transaction that executed is in one of three rent states:
uninitialized (0 lamports), rent-exempt (at least the minimum balance for its data size),
or rent-paying (in between). A transaction may leave an account uninitialized or
rent-exempt; it may leave it rent-paying only if it was rent-paying before with the same
data size and no more lamports (agave's `RentState::transition_allowed_from`). Otherwise
the transaction fails with `InsufficientFundsForRent { account_index }`: its changes are
undone and it pays its fee. The incinerator is exempt from the check.

Without this a transfer of 1,000 lamports to a new address succeeds here and fails on
every real cluster, so code tested on the localnet would break on devnet.
"""

from __future__ import annotations

from solders.account import Account
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey

__all__ = ["RentRules", "INCINERATOR"]

INCINERATOR = Pubkey.from_string("1nc1nerator11111111111111111111111111111111")


class RentRules:
    def __init__(self, svm: LiteSVM) -> None:
        self.svm = svm
        self._minimum: dict[int, int] = {}

    def minimum(self, size: int) -> int:
        value = self._minimum.get(size)
        if value is None:
            value = self._minimum[size] = self.svm.minimum_balance_for_rent_exemption(size)
        return value

    def _paying(self, account: Account | None) -> tuple[int, int] | None:
        """(data size, lamports) of a rent-paying account, None if uninitialized or exempt."""
        if account is None or account.lamports == 0:
            return None
        size = len(account.data)
        return None if account.lamports >= self.minimum(size) else (size, account.lamports)

    def first_violation(self, keys: list[Pubkey], writable: set[Pubkey], pre: list, post: list) -> int | None:
        """The index of the first writable account left in a rent state it may not reach."""
        minimum = self._minimum
        for index, (key, before, after) in enumerate(zip(keys, pre, post)):
            # Inlined `_paying(after)` (this runs for every transaction): most accounts end
            # uninitialized or rent-exempt, and are done here.
            if after is None or key not in writable:
                continue
            lamports = after.lamports
            if lamports == 0:
                continue
            size = len(after.data)
            least = minimum.get(size)
            if lamports >= (least if least is not None else self.minimum(size)) or key == INCINERATOR:
                continue
            was = self._paying(before)
            if was is None or was[0] != size or lamports > was[1]:
                return index
        return None
