"""Finality: the root (the finalized slot) and the accounts as they were at it.

The root trails the confirmed slot as on solana-test-validator: a one-node validator votes
on every slot it confirms, and its tower roots the bottom vote once MAX_LOCKOUT_HISTORY
(31) votes sit on top of it, so root = confirmed - 31 (measured on solana-test-validator
3.1.12: finalized 11 while confirmed was 42; the parity tier holds the figure). With
`lag=None` (`--finalize-immediately`) the root is the confirmed slot and reads at
`finalized` see the latest state, as the localnet did before the lag existed.

Accounts as of the root
    LiteSVM holds only the newest state. For every slot above the root the bank keeps the
    pre-image of each account at its first write in that slot (`note_write`, called once per
    written account of a landed transaction: a dict lookup, and an append the first time in
    a slot). The value of an account at the root is then the pre-image of its earliest write
    in a slot above the root, or, with no such write, its current value. When the root moves
    past a slot, that slot's pre-images are dropped, so memory holds at most the writes of
    the last ~32 slots. The same pre-images give an account's value as of any slot above
    the root (`advance` hands them out for finalized notifications).

After a restart every restored account is final: the ledger keeps no pre-images, so the
root starts at the last slot the ledger had.
"""

from __future__ import annotations

from solders.account import Account
from solders.pubkey import Pubkey

__all__ = ["FINALITY_LAG", "Finality", "CURRENT"]

# Slots between the confirmed slot and the root on a one-node cluster: MAX_LOCKOUT_HISTORY.
# Source: agave's tower (solana-vote-program, MAX_LOCKOUT_HISTORY = 31), and measured on
# solana-test-validator 3.1.12 (finalized 11, confirmed 42). test_validator_parity.py
# checks it against a running validator.
FINALITY_LAG = 31


class _Current:
    """Marks "no pre-image: the account's current value is its value at that slot"."""

    def __repr__(self) -> str:
        return "CURRENT"


CURRENT = _Current()


class Finality:
    def __init__(self, lag: int | None = FINALITY_LAG) -> None:
        if lag is not None and lag < 0:
            raise ValueError("the finality lag cannot be negative")
        self.lag = lag
        # -1 until slot 0 is rooted: transactions may land in slot 0 (provisioning), so
        # reads at the root start from genesis. `Bank.finalized_slot` reports at least 0.
        self.root = -1
        # key -> [(slot, account before its first write in that slot)], oldest slot first;
        # only slots above the root.
        self._by_key: dict[Pubkey, list[tuple[int, Account | None]]] = {}
        self._by_slot: dict[int, list[Pubkey]] = {}  # slot -> keys first written in it
        self._tx_counts: dict[int, int] = {}  # slot -> transactions landed up to its end

    @property
    def immediate(self) -> bool:
        return self.lag is None

    def target(self, confirmed: int) -> int:
        """Where the root should be for this confirmed slot (never moves back)."""
        lag = self.lag or 0
        return max(self.root, confirmed - lag)

    # -- the hot path ------------------------------------------------------------------------
    def note_write(self, slot: int, key: Pubkey, before: Account | None) -> None:
        """`key` is written in `slot`; `before` is its value before that write."""
        entries = self._by_key.get(key)
        if entries is None:
            self._by_key[key] = [(slot, before)]
        elif entries[-1][0] == slot:
            return  # not its first write in this slot: the slot's pre-image is kept already
        else:
            entries.append((slot, before))
        keys = self._by_slot.get(slot)
        if keys is None:
            self._by_slot[slot] = [key]
        else:
            keys.append(key)

    def note_slot_end(self, slot: int, tx_count: int) -> None:
        self._tx_counts[slot] = tx_count

    # -- reads -------------------------------------------------------------------------------
    def at_root(self, key: Pubkey) -> Account | None | _Current:
        """`key`'s value at the root: an Account, None (did not exist), or CURRENT."""
        if self.lag is None:
            return CURRENT
        entries = self._by_key.get(key)
        return CURRENT if entries is None else entries[0][1]

    def root_keys(self) -> list[tuple[Pubkey, Account | None]]:
        """Every account written above the root, with its value at the root (the index
        lists accounts by their current owner; these may have had another one then)."""
        if self.lag is None:
            return []
        return [(key, entries[0][1]) for key, entries in self._by_key.items()]

    def tx_count_at_root(self, current: int) -> int:
        if self.lag is None:
            return current
        return self._tx_counts.get(self.root, current)

    # -- the root moves --------------------------------------------------------------------
    def advance(self, new_root: int) -> list[tuple[int, list[tuple[Pubkey, Account | None | _Current]]]]:
        """Moves the root to `new_root`; returns, per newly rooted slot in order, the keys
        written in it with their values as of the end of that slot (CURRENT: as now)."""
        out = []
        for slot in range(self.root + 1, new_root + 1):
            written = []
            for key in self._by_slot.pop(slot, ()):
                entries = self._by_key[key]
                entries.pop(0)  # this slot's own pre-image
                if entries:
                    written.append((key, entries[0][1]))  # as before its next slot's first write
                else:
                    del self._by_key[key]
                    written.append((key, CURRENT))
            out.append((slot, written))
            self._tx_counts.pop(slot - 1, None)
        self.root = max(self.root, new_root)
        return out

    def restart_at(self, slot: int, tx_count: int) -> None:
        """After a restore: everything the ledger had is final."""
        self.root = slot
        self._tx_counts = {slot: tx_count}
