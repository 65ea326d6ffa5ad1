"""slotsUpdatesSubscribe's notifications, shaped as agave's SlotUpdate (serde tag "type",
camelCase fields, `timestamp` in milliseconds since the epoch).

What a one-node cluster sends, per slot S, in this order:
    createdBank(S, parent)   the leader starts S (the same moment as slotNotification)
    completed(S)             S's last shred is in the blockstore  } when S ends, right
    frozen(S, stats)         S's bank is frozen                   } before createdBank(S+1)
    optimisticConfirmation(S) S is confirmed (here: all its transactions are committed)
    root(S)                  S is rooted (finality.py: 31 slots behind the confirmed slot)
firstShredReceived (turbine, from other validators) and dead (a fork abandoned) never
happen on one node. The leader runs no replay of its own shreds, and LiteSVM executes one
transaction at a time, so the frozen stats count one entry per transaction.
"""

from __future__ import annotations

import time

__all__ = ["created_bank", "completed", "frozen", "optimistic_confirmation", "root"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def created_bank(slot: int, parent: int) -> dict:
    return {"parent": parent, "slot": slot, "timestamp": _now_ms(), "type": "createdBank"}


def completed(slot: int) -> dict:
    return {"slot": slot, "timestamp": _now_ms(), "type": "completed"}


def frozen(slot: int, succeeded: int, failed: int) -> dict:
    transactions = succeeded + failed
    stats = {
        "numTransactionEntries": transactions,
        "numSuccessfulTransactions": succeeded,
        "numFailedTransactions": failed,
        "maxTransactionsPerEntry": 1 if transactions else 0,
    }
    return {"slot": slot, "timestamp": _now_ms(), "type": "frozen", "stats": stats}


def optimistic_confirmation(slot: int) -> dict:
    return {"slot": slot, "timestamp": _now_ms(), "type": "optimisticConfirmation"}


def root(slot: int) -> dict:
    return {"slot": slot, "timestamp": _now_ms(), "type": "root"}
