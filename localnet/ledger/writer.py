"""The ledger's writer: a process of its own that owns every write to `ledger.sqlite3`.

Why a process and not a thread: SQLite's Python binding holds the GIL while it binds each
row, and a writer thread asking for the GIL every few microseconds slowed the event loop,
which executes the transactions, by a third. Here the server's loop only pickles each
write and hands it to a pipe; the rows, the B-trees and the fsync happen on the other core.

Protocol (stdin -> stdout, both binary):
    in   frames (frames.py) each holding a pickled tuple (store.py's Write.frame builds
         them): (accounts, transactions, address rows, blocks, meta items); a transaction
         is (id, signature, slot, block time, wire bytes, meta, err as JSON or None).
    out  acknowledgements: u64 little-endian, the number of frames committed so far.
The writer takes every frame already in the pipe, applies them in ONE SQLite transaction
(group commit; an account changed by several frames is written once, in its last state),
commits (WAL, synchronous=FULL: fsynced before COMMIT returns), then acknowledges; it
starts a commit at most every COMMIT_INTERVAL_S, so that under load groups are larger. A
frame is acknowledged only once committed. The server does not wait for it to answer a
client: its journal (journal.py) is the commit point; the acknowledgement lets it delete
journal segments and serve reads of the ledger that wait for what was answered.

It exits 0 when stdin closes (the server stopped, or was killed: what it had read is still
committed), and non-zero, with the reason on stderr, when a write fails; the server then
stops, since it can no longer promise durability. It holds an exclusive lock on
`writer.lock` in the ledger folder while it runs, so a restarted server waits for a
previous writer to finish before it reads the ledger.

Only the standard library is imported here, so the process starts in a few tens of ms.
"""

from __future__ import annotations

import fcntl
import pickle
import signal
import sqlite3
import struct
import sys
import time
from pathlib import Path

from .frames import read_frames

__all__ = ["main", "apply_frames", "SCHEMA", "SCHEMA_VERSION", "connect"]

SCHEMA_VERSION = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  pubkey BLOB PRIMARY KEY, lamports INTEGER NOT NULL, owner BLOB NOT NULL, data BLOB NOT NULL,
  executable INTEGER NOT NULL, rent_epoch TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
  id INTEGER PRIMARY KEY, signature TEXT UNIQUE NOT NULL, slot INTEGER NOT NULL,
  block_time INTEGER NOT NULL, tx BLOB NOT NULL, meta TEXT NOT NULL, err TEXT);
-- meta: pickled (a BLOB) as this server writes it, or JSON text (ledgers of earlier versions)
CREATE INDEX IF NOT EXISTS transactions_by_slot ON transactions (slot);
CREATE TABLE IF NOT EXISTS address_signatures (
  address BLOB NOT NULL, tx_id INTEGER NOT NULL, PRIMARY KEY (address, tx_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
  slot INTEGER PRIMARY KEY, block_time INTEGER NOT NULL, transactions INTEGER NOT NULL);
"""

_ACK = struct.Struct("<Q")
# Why pace commits: a commit's CPU is mostly its dirty pages (the signature, address and
# account B-trees), about the same for 3 transactions as for 50. Replaying transfer batches
# into SQLite: 0.166 ms of CPU a transfer committed 3 at a time, 0.049 committed 48 at a
# time. The server answers on its journal append, so this wait delays only the SQLite copy
# (and ledger reads, which wait for it) by at most this much. 50 ms rather than 20: under
# the light client the writer's CPU fell 0.026-0.029 -> 0.022 ms a transfer and the rate
# rose 6% (alternating runs); a ledger read waits at most 50 ms more.
COMMIT_INTERVAL_S = 0.05
LOCK_FILE = "writer.lock"


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def apply_frames(conn: sqlite3.Connection, frames: list[tuple]) -> None:
    """Applies frames in order inside the caller's transaction."""
    accounts: dict[bytes, tuple | None] = {}
    txs: list = []
    addresses: list = []
    blocks: list = []
    meta: dict = {}
    for frame_accounts, frame_txs, frame_addresses, frame_blocks, frame_meta in frames:
        for key, account in frame_accounts:
            accounts[key] = account
        txs.extend(frame_txs)
        addresses.extend(frame_addresses)
        blocks.extend(frame_blocks)
        meta.update(frame_meta)
    conn.executemany("DELETE FROM accounts WHERE pubkey = ?", [(key,) for key, a in accounts.items() if a is None])
    conn.executemany(
        "INSERT OR REPLACE INTO accounts (pubkey, lamports, owner, data, executable, rent_epoch) VALUES (?, ?, ?, ?, ?, ?)",
        [(key, *a) for key, a in accounts.items() if a is not None],
    )
    # A transaction's id is its number since genesis, given by the bank (the order
    # getSignaturesForAddress pages by); the bank never lets a signature land twice.
    # The meta is stored as the server sent it: pickled (a BLOB) for what it ran, JSON text
    # in older ledgers; TxRecord.meta reads either. Turning it into JSON here was a third of
    # this process's CPU a transaction, for a column read only by getTransaction/getBlock.
    conn.executemany("INSERT INTO transactions (id, signature, slot, block_time, tx, meta, err) VALUES (?, ?, ?, ?, ?, ?, ?)", txs)
    conn.executemany("INSERT INTO address_signatures (address, tx_id) VALUES (?, ?)", addresses)
    conn.executemany("INSERT OR REPLACE INTO blocks (slot, block_time, transactions) VALUES (?, ?, ?)", blocks)
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m crowdcompute.localnet.ledger.writer LEDGER.sqlite3", file=sys.stderr)
        return 2
    path = Path(args[0])
    # Ctrl-C in a terminal reaches the whole process group: this process must not die
    # mid-commit; it ends when the server closes its input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lock = open(path.parent / LOCK_FILE, "a+")
    fcntl.flock(lock, fcntl.LOCK_EX)
    conn = connect(path)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    buffer = bytearray()
    committed = 0
    started = 0.0
    while True:
        # Paced: a commit at most every COMMIT_INTERVAL_S, so that under load each takes a
        # larger group (docs: the commit point is the server's journal; nobody waits here).
        wait = started + COMMIT_INTERVAL_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        payloads, eof = read_frames(source.fileno(), buffer)
        started = time.monotonic()
        frames = [pickle.loads(payload) for payload in payloads]
        if frames:
            try:
                conn.execute("BEGIN")
                apply_frames(conn, frames)
                conn.execute("COMMIT")
            except Exception as error:  # noqa: BLE001 - reported, then the server stops
                print(f"ledger writer: commit failed: {error!r}", file=sys.stderr, flush=True)
                return 1
            committed += len(frames)
            try:
                sink.write(_ACK.pack(committed))
                sink.flush()
            except (BrokenPipeError, OSError):
                eof = True  # the server is gone; what was read is committed
        if eof:
            conn.close()
            return 0


if __name__ == "__main__":
    sys.exit(main())
