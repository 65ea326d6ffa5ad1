"""Durability for the localnet: one SQLite database (`ledger.sqlite3`) in the ledger folder,
written by a process of its own (writer.py) and read here off the event loop.

What is durable when
    Every write is first appended to the journal (journal.py) by this process: one write(2),
    after which it survives kill -9 of any localnet process. That append is the commit point:
    `submit` returns once it is done, and the server answers sendTransaction /
    requestAirdrop after it. Then the write goes to ONE writer process that does group commit:
    it takes every write queued so far, applies them in one SQLite transaction (WAL,
    `synchronous=FULL`: fsynced before COMMIT returns) and acknowledges them; journal
    segments it has committed are deleted. A restart first applies to SQLite what the
    journal holds beyond the ledger's last committed write. A batch of processed
    transactions (intake.py) is one write: their records, their address rows and every
    account they could have changed commit together. Each slot's block row (slot, block
    time, transaction count) and the current slot are written the same way when the slot
    ends; after a crash the bank resumes at the last slot it finds (blocks or transactions),
    so slots continue and never go backwards.

The event loop touches the disk after startup only to append to the journal: writes are
pickled, journaled and put on the writer's pipe, and reads of history older than the bank's in-memory window (old transactions,
blocks, an address's signatures) run on one reader thread with its own read-only
connection (WAL lets it read while the writer writes), each after the writer has
committed every write journaled before it was asked (so the ledger holds whatever the
server has answered for). Loading, at startup before the
server answers, reads the accounts and only the recent history the bank keeps in memory.

Locks: the server holds `server.lock` (flock) for its whole life, so a second localnet on
the same ledger is refused; the writer holds `writer.lock`, and a restarted server waits
for a previous writer (still committing after a kill -9 of its server) before loading.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import fcntl
import json
import logging
import pickle
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from solders.account import Account
from solders.pubkey import Pubkey

from ..runtime.bank import AccountRow, Block, TxRecord
from .child import Child
from .frames import frame
from .journal import Journal, clear as clear_journal, records as journal_records
from .writer import LOCK_FILE, SCHEMA, SCHEMA_VERSION, apply_frames, connect

__all__ = ["Store", "Write", "Loaded", "LedgerInUse", "StoreFailed"]

log = logging.getLogger("crowdcompute.localnet.ledger.store")

SERVER_LOCK = "server.lock"
WRITER_WAIT_S = 30.0  # how long a restart waits for a previous writer to finish
_ACK = struct.Struct("<Q")


class LedgerInUse(ValueError):
    """Another localnet serves this ledger."""


class StoreFailed(RuntimeError):
    """Nothing can be made durable any more: the writer process is gone, or the journal
    refused a write (a full disk)."""


_compact = json.JSONEncoder(separators=(",", ":")).encode


@dataclass
class Write:
    """One unit of durability: committed atomically (with others queued beside it)."""

    accounts: list[AccountRow] = field(default_factory=list)
    txs: list[tuple[TxRecord, list[bytes]]] = field(default_factory=list)  # each with its keys (bytes): the address index
    block: Block | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def frame(self) -> tuple:
        """The writer's tuple (writer.apply_frames): plain bytes, ints and strings only. An
        account written by several transactions of the write goes once, in its last state."""
        last = {row.pubkey: row.account for row in self.accounts}  # each account once: its last state
        accounts = {
            bytes(key): None if a is None else (a.lamports, bytes(a.owner), bytes(a.data), int(a.executable), str(a.rent_epoch))
            for key, a in last.items()
        }
        # The meta as the bank holds it (pickled; JSON text only for a record read back from
        # the ledger), its `err` apart as compact JSON (NULL when it succeeded).
        txs = [(t.tx_id, t.signature, t.slot, t.block_time, t.tx_bytes, t.meta_data, None if (e := t.err) is None else _compact(e))
               for t, _ in self.txs]
        addresses = [(address, t.tx_id) for t, keys in self.txs for address in keys]
        blocks = () if (b := self.block) is None else ((b.slot, b.block_time, len(b.signatures)),)
        return list(accounts.items()), txs, addresses, blocks, self.meta


@dataclass
class Loaded:
    meta: dict[str, str]
    accounts: list[tuple[Pubkey, Account]]
    txs: list[TxRecord]  # the records of the recent slots (full)
    statuses: list[tuple[str, int, Any]]  # (signature, slot, err) of the status-cache slots
    blocks: list[Block]  # the blocks of the status-cache slots, with their signatures
    last_slot: int
    tx_count: int


class Store:
    def __init__(self, ledger: Path) -> None:
        ledger.mkdir(parents=True, exist_ok=True)
        self.ledger = ledger
        self.path = ledger / "ledger.sqlite3"
        self._server_lock = _lock_or_refuse(ledger / SERVER_LOCK)
        _wait_for_writer(ledger / LOCK_FILE)
        self.conn = connect(self.path)
        self.conn.executescript(SCHEMA)
        self.journal = Journal(ledger, self._apply_journal() + 1)  # after a crash, the journal first
        self._writer: Child | None = None
        self._pending: collections.deque[tuple[asyncio.Future, Callable[[], None] | None]] = collections.deque()
        self._acks = bytearray()
        self._acknowledged = 0
        self._submitted = 0
        self._seq_base = self.journal.next_seq - 1  # the seq of the writer's n-th frame is base + n
        self._barriers: collections.deque[tuple[int, asyncio.Future]] = collections.deque()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: concurrent.futures.ThreadPoolExecutor | None = None
        self._read_conn = None
        self.failed: StoreFailed | None = None
        self.on_failure: Callable[[StoreFailed], None] | None = None
        self.commits = 0

    @property
    def started(self) -> bool:
        return self._writer is not None

    @property
    def _process(self) -> subprocess.Popen | None:
        """The writer process (None before start and after close)."""
        return None if self._writer is None else self._writer.process

    # -- startup (synchronous, before serving) -------------------------------------------
    def _apply_journal(self) -> int:
        """Commits what the journal holds beyond the ledger's last journaled write (what a
        killed server had answered for and its writer had not committed yet), empties the
        journal and returns the last seq the ledger holds."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'journal_seq'").fetchone()
        last = int(row[0]) if row else 0
        pending = list(journal_records(self.ledger, last))
        if pending:
            self.conn.execute("BEGIN")
            apply_frames(self.conn, [pickle.loads(payload) for _, payload in pending])
            self.conn.execute("COMMIT")
            last = pending[-1][0]
            log.info("ledger: %d journaled writes applied after a crash", len(pending))
        clear_journal(self.ledger)
        return last

    def load(self, *, status_slots: int, record_slots: int) -> Loaded | None:
        """The ledger's accounts and its recent history: full records of the last
        `record_slots` slots, statuses and blocks of the last `status_slots`."""
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        if "genesis_hash" not in meta:
            return None
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"ledger {self.ledger} was written by another version of the localnet "
                             f"(schema {meta.get('schema_version', '1')}, this one reads {SCHEMA_VERSION}): start it with --reset")
        accounts = [
            (Pubkey(pk), Account(lamports, bytes(data), Pubkey(owner), bool(ex), int(rent)))
            for pk, lamports, owner, data, ex, rent in self.conn.execute("SELECT pubkey, lamports, owner, data, executable, rent_epoch FROM accounts")
        ]
        (top_block,) = self.conn.execute("SELECT max(slot) FROM blocks").fetchone()
        (top_tx,) = self.conn.execute("SELECT max(slot) FROM transactions").fetchone()
        last = max(int(meta.get("slot", 0)), top_block or 0, top_tx or 0)
        txs = []
        for tx_id, sig, slot, bt, tx, m, err in self.conn.execute(
                "SELECT id, signature, slot, block_time, tx, meta, err FROM transactions WHERE slot >= ? ORDER BY id", (last - record_slots,)):
            record = TxRecord(sig, slot, bt, bytes(tx), m, committed=True, tx_id=tx_id)
            record.err = None if err is None else json.loads(err)  # without decoding the meta
            txs.append(record)
        statuses = [(sig, slot, None if e is None else json.loads(e)) for sig, slot, e in self.conn.execute(
            "SELECT signature, slot, err FROM transactions WHERE slot >= ? AND slot < ? ORDER BY id", (last - status_slots, last - record_slots))]
        statuses += [(r.signature, r.slot, r.err) for r in txs]
        blocks = {slot: Block.at(slot, bt, meta_genesis(meta)) for slot, bt in self.conn.execute(
            "SELECT slot, block_time FROM blocks WHERE slot >= ? ORDER BY slot", (last - status_slots,))}
        for sig, slot, _ in statuses:
            if slot in blocks:
                blocks[slot].signatures.append(sig)
        (count,) = self.conn.execute("SELECT max(id) FROM transactions").fetchone()
        return Loaded(meta, accounts, txs, statuses, list(blocks.values()), last, count or 0)

    def write_now(self, write: Write) -> None:
        """A synchronous write (genesis, resume), before the writer process starts."""
        if self.started:
            raise RuntimeError("write_now after the writer started")
        self.conn.execute("BEGIN")
        apply_frames(self.conn, [write.frame()])
        self.conn.execute("COMMIT")

    # -- the writer process --------------------------------------------------------------
    async def start(self) -> None:
        """Starts the writer process and the reader thread."""
        self.conn.close()
        self.conn = None
        self._loop = asyncio.get_running_loop()
        self._writer = Child("crowdcompute.localnet.ledger.writer", [str(self.path)], on_output=self._on_acks, on_exit=self._on_writer_exit)
        self._writer.start()
        self._reader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="localnet-reader")

    def submit(self, write: Write, on_commit: Callable[[], None] | None = None) -> asyncio.Future:
        """Journals `write` (when this returns, it survives kill -9; raises StoreFailed if it
        cannot be journaled) and queues it for the writer. Once SQLite has committed it
        (fsynced), `on_commit()` is called and then the future resolves; `on_commit` runs
        even if whoever awaits the future gave up."""
        if self._writer is None:
            raise RuntimeError("the store's writer is not started (Localnet.start_store)")
        if self.failed is not None:
            raise self.failed
        accounts, txs, addresses, blocks, meta = write.frame()
        meta = {**meta, "journal_seq": str(self.journal.next_seq)}
        payload = pickle.dumps((accounts, txs, addresses, blocks, meta), pickle.HIGHEST_PROTOCOL)
        try:
            self.journal.append(payload)
        except OSError as error:
            self._fail(StoreFailed(f"the ledger journal refused a write: {error}"))
            raise self.failed from error
        future = self._loop.create_future()
        self._writer.send(frame(payload))
        self._pending.append((future, on_commit))
        self._submitted += 1
        return future

    async def caught_up(self) -> None:
        """Returns once the writer has committed every write submitted so far (reads of the
        ledger wait for it: what was answered for is then in SQLite too)."""
        target = self._submitted
        if self._acknowledged >= target or self._writer is None:
            return
        if self.failed is not None:
            raise self.failed
        future = self._loop.create_future()
        self._barriers.append((target, future))
        await future

    def flush(self) -> None:
        """Hands what was submitted to the writer now, not at the end of the loop turn."""
        if self._writer is not None:
            self._writer.flush()

    def _on_acks(self, data: bytes) -> None:
        self._acks += data
        if len(self._acks) < 8:
            return
        whole = len(self._acks) - len(self._acks) % 8
        (committed,) = _ACK.unpack_from(self._acks, whole - 8)  # counts are cumulative: the last one says it all
        del self._acks[:whole]
        self.commits += 1
        while self._acknowledged < committed:
            self._acknowledged += 1
            future, on_commit = self._pending.popleft()
            if on_commit is not None:
                try:
                    on_commit()
                except Exception:  # noqa: BLE001 - a subscriber's failure is not the ledger's
                    log.exception("after-commit callback failed")
            if not future.done():
                future.set_result(None)
        self.journal.committed(self._seq_base + committed)
        while self._barriers and self._barriers[0][0] <= self._acknowledged:
            _, barrier = self._barriers.popleft()
            if not barrier.done():
                barrier.set_result(None)

    def _on_writer_exit(self, code: int) -> None:
        if self._pending or not self._closing:
            self._fail(StoreFailed(f"the ledger writer exited (code {code}) with {len(self._pending)} writes not committed"))

    def _fail(self, error: StoreFailed) -> None:
        self.failed = error
        log.critical("%s", error)
        while self._pending:
            future, _ = self._pending.popleft()
            if not future.done():
                future.set_exception(error)
        while self._barriers:
            _, barrier = self._barriers.popleft()
            if not barrier.done():
                barrier.set_exception(error)
        if self.on_failure is not None:
            self.on_failure(error)

    async def close(self) -> None:
        """Lets the writer commit everything queued, then ends it."""
        self._closing = True
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._reader is not None:
            await asyncio.get_running_loop().run_in_executor(self._reader, self._close_reader)
            self._reader.shutdown(wait=False)
            self._reader = None
        if self.conn is not None:
            self.conn.close()
        if self.failed is None and self._acknowledged == self._submitted:
            clear_journal(self.ledger)  # all committed: nothing to apply at the next start
        self.journal.close()
        self._server_lock.close()

    # -- reads of older history (off the event loop) ----------------------------------------
    async def read(self, query: Callable[..., Any], *args: Any) -> Any:
        """Runs `query(connection, *args)` on the reader thread, once the ledger holds what
        was journaled before the call."""
        await self.caught_up()
        return await asyncio.get_running_loop().run_in_executor(self._reader, self._run_read, query, args)

    def _run_read(self, query: Callable[..., Any], args: tuple) -> Any:
        if self._read_conn is None:
            self._read_conn = connect(self.path, readonly=True)
        return query(self._read_conn, *args)

    def _close_reader(self) -> None:
        if self._read_conn is not None:
            self._read_conn.close()
            self._read_conn = None


def meta_genesis(meta: dict[str, str]) -> bytes:
    return bytes.fromhex(meta["genesis_hash"])


def _lock_or_refuse(path: Path):
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LedgerInUse(f"ledger {path.parent} is in use by another localnet") from None
    return handle


def _wait_for_writer(path: Path) -> None:
    """Waits until no writer process holds the ledger (one may still be committing what
    its killed server sent it)."""
    with open(path, "a+") as handle:
        deadline = time.monotonic() + WRITER_WAIT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LedgerInUse(f"ledger {path.parent}: a previous writer still holds {path.name}") from None
                time.sleep(0.01)
