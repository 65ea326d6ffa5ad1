"""The chain's history as the RPC and PubSub servers read it: the bank's in-memory window
(bank.py: full records of the last RECORD_SLOTS slots, statuses and blocks of the last
STATUS_SLOTS) first, then the ledger (store.py), read on the store's reader thread so the
event loop never waits on the disk.

Whatever is no longer in memory is committed (the bank forgets only committed history),
and whatever is committed is in the ledger, so memory + ledger together always hold every
transaction and block since genesis.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from solders.pubkey import Pubkey

from ..runtime.bank import Bank, Block, TxRecord
from ..ledger.store import Store

__all__ = ["History", "AddressSignature"]

AddressSignature = tuple[str, int, int, Any]  # signature, slot, block time, err


class History:
    def __init__(self, bank: Bank, store: Store, slot_ms: int) -> None:
        self.bank = bank
        self.store = store
        self.slot_ms = slot_ms

    async def records(self, signatures: list[str]) -> dict[str, TxRecord]:
        """The records of those of `signatures` that landed."""
        found = {sig: r for sig in signatures if (r := self.bank.txs.get(sig)) is not None}
        missing = [sig for sig in signatures if sig not in found]
        if missing:
            found.update(await self.store.read(_records_by_signature, missing))
        return found

    async def statuses(self, signatures: list[str], search_history: bool) -> list[tuple[int, Any, str] | None]:
        """(slot, err, level) per signature, None where unknown. Like Solana, only the
        recent window is searched unless `search_history` (the ledger holds the rest)."""
        out = [self.bank.recent_status(sig) for sig in signatures]
        missing = [sig for sig, status in zip(signatures, out) if status is None]
        if missing and search_history:
            rows = await self.store.read(_statuses_by_signature, missing)
            out = [status if status is not None else _with_level(self.bank, rows.get(sig)) for sig, status in zip(signatures, out)]
        return out

    async def signatures_for_address(self, address: Pubkey, *, before: str | None, until: str | None, limit: int) -> list[AddressSignature]:
        """Committed transactions naming `address`, newest first (the ledger's order)."""
        return await self.store.read(_signatures_for_address, bytes(address), before, until, limit)

    async def block(self, slot: int) -> Block | None:
        """The block of `slot` with its signatures, None before genesis or after the last
        finished slot."""
        block = self.bank.blocks.get(slot)
        if block is not None:
            return block
        if not self.bank.first_slot <= slot < self.bank.slot:
            return None
        row = await self.store.read(_block_row, slot)
        if row is None:
            return None
        block_time, signatures = row
        return Block.at(slot, block_time, self.bank.genesis, signatures)

    async def performance(self, limit: int) -> list[dict]:
        """Per 60-second period of block time, most recent first: slots and transactions."""
        periods: dict[int, list[int]] = {}  # period -> [last slot, slots, transactions]
        oldest_in_memory = min(self.bank.blocks, default=self.bank.slot)
        slots_per_period = max(1, 60_000 // self.slot_ms) + 1
        since = max(self.bank.first_slot, self.bank.slot - (limit + 1) * slots_per_period)
        if since < oldest_in_memory:
            for period, last, count, txs in await self.store.read(_periods, since, oldest_in_memory):
                periods[period] = [last, count, txs]
        for block in sorted(self.bank.blocks.values(), key=lambda b: b.slot):
            entry = periods.setdefault(block.block_time // 60, [0, 0, 0])
            entry[0] = max(entry[0], block.slot)
            entry[1] += 1
            entry[2] += len(block.signatures)
        return [{"slot": last, "numTransactions": txs, "numNonVoteTransactions": txs, "numSlots": count, "samplePeriodSecs": 60}
                for _, (last, count, txs) in sorted(periods.items(), reverse=True)[:limit]]


def _with_level(bank: Bank, row: tuple[int, Any] | None) -> tuple[int, Any, str] | None:
    return None if row is None else (row[0], row[1], bank.level(row[0]))


def _err(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# -- queries: run on the store's reader thread ---------------------------------------------
def _chunks(items: list[str], size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _records_by_signature(conn: sqlite3.Connection, signatures: list[str]) -> dict[str, TxRecord]:
    out = {}
    for chunk in _chunks(signatures):
        marks = ",".join("?" * len(chunk))
        for tx_id, sig, slot, bt, tx, meta, err in conn.execute(
                f"SELECT id, signature, slot, block_time, tx, meta, err FROM transactions WHERE signature IN ({marks})", chunk):
            record = TxRecord(sig, slot, bt, bytes(tx), meta, committed=True, tx_id=tx_id)
            record.err = _err(err)
            out[sig] = record
    return out


def _statuses_by_signature(conn: sqlite3.Connection, signatures: list[str]) -> dict[str, tuple[int, Any]]:
    out = {}
    for chunk in _chunks(signatures):
        marks = ",".join("?" * len(chunk))
        for sig, slot, err in conn.execute(f"SELECT signature, slot, err FROM transactions WHERE signature IN ({marks})", chunk):
            out[sig] = (slot, _err(err))
    return out


def _tx_id(conn: sqlite3.Connection, signature: str) -> int | None:
    row = conn.execute("SELECT id FROM transactions WHERE signature = ?", (signature,)).fetchone()
    return None if row is None else row[0]


def _signatures_for_address(conn: sqlite3.Connection, address: bytes, before: str | None, until: str | None, limit: int) -> list[AddressSignature]:
    upper = (1 << 62) if before is None else _tx_id(conn, before)
    lower = 0 if until is None else (_tx_id(conn, until) or 0)
    if upper is None:
        return []  # `before` names no transaction this ledger has
    rows = conn.execute(
        "SELECT t.signature, t.slot, t.block_time, t.err FROM address_signatures a JOIN transactions t ON t.id = a.tx_id "
        "WHERE a.address = ? AND a.tx_id < ? AND a.tx_id > ? ORDER BY a.tx_id DESC LIMIT ?", (address, upper, lower, limit))
    return [(sig, slot, bt, _err(err)) for sig, slot, bt, err in rows]


def _block_row(conn: sqlite3.Connection, slot: int) -> tuple[int, list[str]] | None:
    row = conn.execute("SELECT block_time FROM blocks WHERE slot = ?", (slot,)).fetchone()
    if row is None:
        return None
    signatures = [sig for (sig,) in conn.execute("SELECT signature FROM transactions WHERE slot = ? ORDER BY id", (slot,))]
    return row[0], signatures


def _periods(conn: sqlite3.Connection, since: int, before: int) -> list[tuple[int, int, int, int]]:
    return conn.execute(
        "SELECT block_time / 60 AS period, max(slot), count(*), sum(transactions) FROM blocks WHERE slot >= ? AND slot < ? GROUP BY period",
        (since, before)).fetchall()
