"""Transaction fees as a Solana validator charges them, and the recent prioritization fees.

fee = 5,000 lamports per signature + prioritization fee, where
    prioritization fee = ceil(compute unit price (micro-lamports) x compute unit limit / 10^6)
    compute unit limit = SetComputeUnitLimit's value (at most 1,400,000), or by default
        3,000 per builtin-program instruction + 200,000 per other instruction (agave with
        reserve_minimal_cus_for_builtin_instructions), at most 1,400,000.
LiteSVM charges the signature fee only; the bank charges the prioritization fee itself
(bank.py), before execution, as a validator deducts the whole fee first.

getRecentPrioritizationFees: for each of the last 150 slots that had transactions, the
lowest compute unit price paid by a transaction in it or, given accounts, the highest of
that and the lowest price paid by the transactions that write-locked each of them (agave's
prioritization fee cache).
"""

from __future__ import annotations

import collections
from typing import Iterable

from solders.message import Message, MessageV0
from solders.pubkey import Pubkey

__all__ = ["ComputeBudget", "compute_budget", "LAMPORTS_PER_SIGNATURE", "RecentFees", "MAX_COMPUTE_UNIT_LIMIT"]

LAMPORTS_PER_SIGNATURE = 5000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000
DEFAULT_INSTRUCTION_LIMIT = 200_000
BUILTIN_INSTRUCTION_LIMIT = 3_000
COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
BUILTINS = frozenset(Pubkey.from_string(p) for p in (
    "11111111111111111111111111111111",  # System
    "ComputeBudget111111111111111111111111111111",
    "AddressLookupTab1e1111111111111111111111111",
    "BPFLoaderUpgradeab1e11111111111111111111111",
    "BPFLoader2111111111111111111111111111111111",
    "BPFLoader1111111111111111111111111111111111",
    "LoaderV411111111111111111111111111111111111",
    "Vote111111111111111111111111111111111111111",
    "Stake11111111111111111111111111111111111111",
    "Config1111111111111111111111111111111111111",
))
RECENT_SLOTS = 150


class ComputeBudget:
    """A message's compute unit limit and price, and what it pays."""

    __slots__ = ("limit", "price", "signatures")

    def __init__(self, limit: int, price: int, signatures: int) -> None:
        self.limit, self.price, self.signatures = limit, price, signatures

    @property
    def priority_fee(self) -> int:
        return -(-self.price * self.limit // 1_000_000)

    @property
    def fee(self) -> int:
        return LAMPORTS_PER_SIGNATURE * self.signatures + self.priority_fee


def compute_budget(message: Message | MessageV0, keys: list[Pubkey] | None = None) -> ComputeBudget:
    """The message's ComputeBudget instructions read as a validator reads them (a malformed
    or repeated one makes the transaction fail in execution; it is read as absent here).
    `keys`: the message's static account keys, when the caller has them (each read of
    `message.account_keys` builds them anew)."""
    if keys is None:
        keys = message.account_keys
    limit = price = None
    default_limit = 0
    for ix in message.instructions:
        program = keys[ix.program_id_index] if ix.program_id_index < len(keys) else None
        if program in BUILTINS:
            default_limit += BUILTIN_INSTRUCTION_LIMIT
        else:
            default_limit += DEFAULT_INSTRUCTION_LIMIT
        if program != COMPUTE_BUDGET_ID:
            continue
        data = bytes(ix.data)
        if data[:1] == b"\x02" and len(data) == 5 and limit is None:
            limit = int.from_bytes(data[1:5], "little")
        elif data[:1] == b"\x03" and len(data) == 9 and price is None:
            price = int.from_bytes(data[1:9], "little")
    limit = min(MAX_COMPUTE_UNIT_LIMIT, default_limit if limit is None else limit)
    return ComputeBudget(limit, price or 0, message.header.num_required_signatures)


class RecentFees:
    """The lowest compute unit price per slot, overall and per write-locked account."""

    def __init__(self) -> None:
        self._slots: collections.OrderedDict[int, tuple[list[int], dict[Pubkey, int]]] = collections.OrderedDict()

    def record(self, slot: int, price: int, writable: Iterable[Pubkey]) -> None:
        entry = self._slots.get(slot)
        if entry is None:
            entry = self._slots[slot] = ([price], {})
            while len(self._slots) > RECENT_SLOTS + 1:
                self._slots.popitem(last=False)
        elif price < entry[0][0]:
            entry[0][0] = price
        accounts = entry[1]
        for key in writable:
            old = accounts.get(key)
            if old is None or price < old:
                accounts[key] = price

    def recent(self, current_slot: int, accounts: list[Pubkey]) -> list[dict]:
        """Solana's answer: one entry per finished slot of the last 150 that had
        transactions (agave's cache holds no others), oldest first."""
        out = []
        for slot, (block_min, by_account) in self._slots.items():
            if not current_slot - RECENT_SLOTS <= slot < current_slot:
                continue
            fee = block_min[0]
            for key in accounts:
                fee = max(fee, by_account.get(key, 0))
            out.append({"slot": slot, "prioritizationFee": fee})
        return out
