"""Durability for the localnet: one SQLite database (`ledger.sqlite3`) in the ledger folder.

What is fsynced when
    The database runs in WAL mode with `synchronous=FULL`: every COMMIT is fsynced before it
    returns. All writes go through ONE writer thread that does group commit: it takes every
    write queued so far, applies them in one SQLite transaction, commits (one fsync), then
    resolves the futures of those writes. A processed transaction's record, its
    address->signature rows and every account it could have changed are one write, so they
    commit together. The server answers sendTransaction / requestAirdrop only after that
    commit, so an acknowledged transaction survives kill -9. Each slot's block row (slot,
    blockhash, parent, block time) and the current slot are written the same way when the
    slot ends, without anyone waiting; after a crash the bank resumes at the last slot it
    finds (blocks or transactions), so slots continue and never go backwards.

The event loop never touches the disk after startup: it only queues writes and awaits
futures. Loading (at startup, before the server answers) reads everything into the bank.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from solders.account import Account
from solders.pubkey import Pubkey

from .bank import AccountRow, Block, TxRecord

__all__ = ["Store", "Write", "Loaded"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  pubkey BLOB PRIMARY KEY, lamports INTEGER NOT NULL, owner BLOB NOT NULL, data BLOB NOT NULL,
  executable INTEGER NOT NULL, rent_epoch TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, signature TEXT UNIQUE NOT NULL, slot INTEGER NOT NULL,
  block_time INTEGER NOT NULL, tx BLOB NOT NULL, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS address_signatures (
  id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT NOT NULL, signature TEXT NOT NULL, slot INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
  slot INTEGER PRIMARY KEY, parent_slot INTEGER NOT NULL, blockhash TEXT NOT NULL,
  previous_blockhash TEXT NOT NULL, block_time INTEGER NOT NULL);
"""


@dataclass
class Write:
    """One unit of durability: committed atomically (with others queued beside it)."""

    accounts: list[AccountRow] = field(default_factory=list)
    tx: TxRecord | None = None
    addresses: list[str] = field(default_factory=list)
    block: Block | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class Loaded:
    meta: dict[str, str]
    accounts: list[tuple[Pubkey, Account]]
    txs: list[TxRecord]
    blocks: list[Block]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Store:
    def __init__(self, ledger: Path) -> None:
        ledger.mkdir(parents=True, exist_ok=True)
        self.path = ledger / "ledger.sqlite3"
        self.conn = _connect(self.path)
        self.conn.executescript(SCHEMA)
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0

    # -- startup (synchronous, before serving) -------------------------------------------
    def load(self) -> Loaded | None:
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        if "genesis_hash" not in meta:
            return None
        accounts = [
            (Pubkey(pk), Account(lamports, bytes(data), Pubkey(owner), bool(ex), int(rent)))
            for pk, lamports, owner, data, ex, rent in self.conn.execute("SELECT pubkey, lamports, owner, data, executable, rent_epoch FROM accounts")
        ]
        txs = [
            TxRecord(sig, slot, bt, bytes(tx), m, committed=True)
            for sig, slot, bt, tx, m in self.conn.execute("SELECT signature, slot, block_time, tx, meta FROM transactions ORDER BY id")
        ]
        blocks = [Block(*row) for row in self.conn.execute("SELECT slot, parent_slot, blockhash, previous_blockhash, block_time FROM blocks ORDER BY slot")]
        return Loaded(meta, accounts, txs, blocks)

    def write_now(self, write: Write) -> None:
        """A synchronous write (genesis, before serving)."""
        self.conn.execute("BEGIN")
        self._apply_all(self.conn, [write])
        self.conn.execute("COMMIT")

    # -- the writer thread ---------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="localnet-store", daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> asyncio.Future:
        future = self._loop.create_future()
        self._queue.put((write, future))
        return future

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self.conn.close()

    def _run(self) -> None:
        conn = self.conn
        stop = False
        while not stop:
            items = [self._queue.get()]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if None in items:
                stop = True
                items = [i for i in items if i is not None]
            if not items:
                continue
            error: BaseException | None = None
            try:
                conn.execute("BEGIN")
                self._apply_all(conn, [write for write, _ in items])
                conn.execute("COMMIT")
                self.commits += 1
            except BaseException as exc:  # noqa: BLE001 - reported to every waiter
                error = exc
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            # One wake-up of the event loop for the whole group, not one per write.
            self._loop.call_soon_threadsafe(_resolve_all, [future for _, future in items], error)

    @staticmethod
    def _apply_all(conn: sqlite3.Connection, writes: list[Write]) -> None:
        """Applies a group of writes in order. An account changed by several of them is
        written once, in its last state: the group commits as one transaction, so the
        committed result is the same, with fewer rows rewritten."""
        accounts: dict[bytes, Account | None] = {}
        txs, addresses, blocks, meta = [], [], [], {}
        for write in writes:
            for row in write.accounts:
                accounts[bytes(row.pubkey)] = row.account
            if write.tx is not None:
                t = write.tx
                txs.append((t.signature, t.slot, t.block_time, t.tx_bytes, t.meta_text))
                addresses.extend((address, t.signature, t.slot) for address in write.addresses)
            if write.block is not None:
                b = write.block
                blocks.append((b.slot, b.parent_slot, b.blockhash, b.previous_blockhash, b.block_time))
            meta.update(write.meta)
        conn.executemany("DELETE FROM accounts WHERE pubkey = ?", [(key,) for key, a in accounts.items() if a is None])
        conn.executemany(
            "INSERT OR REPLACE INTO accounts (pubkey, lamports, owner, data, executable, rent_epoch) VALUES (?, ?, ?, ?, ?, ?)",
            [(key, a.lamports, bytes(a.owner), bytes(a.data), int(a.executable), str(a.rent_epoch)) for key, a in accounts.items() if a is not None],
        )
        conn.executemany("INSERT OR IGNORE INTO transactions (signature, slot, block_time, tx, meta) VALUES (?, ?, ?, ?, ?)", txs)
        conn.executemany("INSERT INTO address_signatures (address, signature, slot) VALUES (?, ?, ?)", addresses)
        conn.executemany(
            "INSERT OR REPLACE INTO blocks (slot, parent_slot, blockhash, previous_blockhash, block_time) VALUES (?, ?, ?, ?, ?)", blocks
        )
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))


def _resolve_all(futures: list[asyncio.Future], error: BaseException | None) -> None:
    for future in futures:
        _resolve(future, error)


def _resolve(future: asyncio.Future, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
