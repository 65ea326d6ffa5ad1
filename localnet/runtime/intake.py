"""The transaction path: every transaction the server executes (sendTransaction, airdrops,
provisioning) goes through here, in arrival order.

What arrives in one loop turn is one batch. It goes to the verifier (verifier.py: the native
check's thread, or a process) at the end of that turn; transactions the server signed itself (airdrops, provisioning)
skip the check. Then the batch runs, in order: a sendTransaction's preflight (simulation)
right before its execution, so the sends of one JSON-RPC batch still see each other; the
bank executes the transaction (after a failed check the bank checks again and refuses it,
after its duplicate check, as it always did); what landed goes to the ledger as ONE write
(records, address rows, and each changed account once, in its last state), journaled at
once (store.py, journal.py). A caller's future resolves with its ProcessResult at once when
the transaction did not land, and right after that journal append when it did: by then it
is committed, marked so and notified at `confirmed`, so an answered transaction survives
kill -9 (the writer process puts it into SQLite in the background). Batches run in the order they
arrived, even one with nothing to check behind one still at the verifier.

A transaction never lands in the slot whose blockhash it carries, as on agave: there a
slot's blockhash exists once the slot is finished (its bank frozen), so whatever carries it
lands in a later slot. The localnet hands out the current slot's blockhash at `processed`
(getLatestBlockhash), so a batch holding a transaction on it first ends the slot (the
server's `end_slot_early`: `tick`, the slot timer's own step) and runs in the next one.
Then, once a transaction is seen, the latest blockhash is another one: a client that sends
the same transfer again under the latest blockhash (solana-py's own suite does) sends a new
transaction, not a repeat refused as AlreadyProcessed, without waiting for the slot timer
(agave's client waits there: a transaction is visible once its slot is finished). The same
holds for the server's own transactions (airdrops, provisioning), signed on the current
blockhash. A slot ends early only once it has lasted a quarter of a slot (server.py,
EARLY_END_AFTER); until then the batch, and those behind it, wait (at most that long, less
if the timer ends the slot first: `slot_ended`). That bounds the early ends to four a slot's
time, so a blockhash stays valid for at least 150 quarter slots (15 s at 400 ms) however
fast clients send on fresh blockhashes. Clients on a `confirmed` or `finalized` blockhash
(an older slot's) never end a slot early nor wait; the slot timer keeps its pace.

Why: the signature check was the largest single cost of the event loop, the localnet's
bottleneck, and per transaction the loop also paid a pickle, a pipe write and a pending
future for its ledger write; now the check runs off the loop and the rest is paid
once per batch (docs/architecture.md has the profile before and after).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Callable

from solders.transaction import VersionedTransaction

from .bank import Bank, ProcessResult
from ..rpc.pubsub import Hub
from ..ledger.store import Store, Write
from .verifier import Verifier

__all__ = ["Intake", "Preflight", "Then"]

Preflight = Callable[[bool], None]  # given whether the signatures verified; raises to refuse

log = logging.getLogger("crowdcompute.localnet.runtime.intake")


class Then:
    """What `execute(..., then=fn)` resolves instead of a future: `fn(result, error)` is
    called at once, in the loop turn that settles the transaction (no future, no callback
    scheduled, no extra turn: the native front end's path, front.py)."""

    __slots__ = ("fn", "settled")

    def __init__(self, fn: Callable[[ProcessResult | None, BaseException | None], None]) -> None:
        self.fn, self.settled = fn, False

    def done(self) -> bool:
        return self.settled

    def set_result(self, result: ProcessResult) -> None:
        self._settle(result, None)

    def set_exception(self, error: BaseException) -> None:
        self._settle(None, error)

    def _settle(self, result: ProcessResult | None, error: BaseException | None) -> None:
        self.settled = True
        try:
            self.fn(result, error)
        except Exception:  # noqa: BLE001 - one caller's failure must not stop the batch's others
            log.exception("a transaction's answer failed")


class _Entry:
    __slots__ = ("tx", "raw", "signature", "verdict", "preflight", "future")

    def __init__(self, tx: VersionedTransaction, raw: bytes | None, signature: str, verdict: bool | None, preflight: Preflight | None, future: asyncio.Future | Then) -> None:
        # verdict: whether its signatures verify, when known (None: the verifier checks them)
        self.tx, self.raw, self.signature, self.verdict, self.preflight, self.future = tx, raw, signature, verdict, preflight, future


class _Batch:
    __slots__ = ("entries", "verdicts")

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.verdicts: list[bool] | None = None  # the verifier's, for the entries not verified yet


class Intake:
    def __init__(self, bank: Bank, store: Store, hub: Hub, verifier: Verifier, end_slot: Callable[[], float] | None = None) -> None:
        self.bank, self.store, self.hub, self.verifier = bank, store, hub, verifier
        # Ends the current slot early (module doc) and returns 0, or returns the seconds until
        # it may (the server's end_slot_early); None: never early.
        self.end_slot = end_slot
        self._hold: asyncio.Handle | None = None  # resumes a batch held for its slot's end
        self._open: list[_Entry] = []  # this loop turn's
        self._queue: collections.deque[_Batch] = collections.deque()  # batches not run yet, oldest first
        self._loop: asyncio.AbstractEventLoop | None = None

    def execute(self, tx: VersionedTransaction, signature: str, *, verified: bool = False, preflight: Preflight | None = None,
                raw: bytes | None = None, verdict: bool | None = None, then: Then | None = None) -> asyncio.Future | None:
        """A future of `tx`'s ProcessResult (see the module doc). `preflight(verified)` runs
        at the transaction's turn, right before it executes; what it raises is the future's
        outcome instead, and the transaction does not execute. `verified`: signed here, not
        checked; `verdict`: checked already (the native front end checks on its own
        threads), with this outcome. With `then`, that is settled instead of a future (None
        is returned)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        future = self._loop.create_future() if then is None else then
        if not self._open:
            self._loop.call_soon(self._close_batch)
        self._open.append(_Entry(tx, raw, signature, True if verified else verdict, preflight, future))
        return future if then is None else None

    def _close_batch(self) -> None:
        batch = _Batch(self._open)
        self._open = []
        self._queue.append(batch)
        unchecked = [entry for entry in batch.entries if entry.verdict is None]
        if unchecked:
            # Sent at once, even while the verifier checks an earlier batch: it then finds
            # this one waiting (pipe or queue) instead of going to sleep and being woken for it.
            self.verifier.check([e.tx for e in unchecked], lambda verdicts: self._ready(batch, verdicts), [e.raw for e in unchecked])
        else:
            self._ready(batch, [])

    def _ready(self, batch: _Batch, verdicts: list[bool]) -> None:
        batch.verdicts = verdicts
        self._drain()

    def _drain(self) -> None:
        while self._queue and self._queue[0].verdicts is not None:
            if self.end_slot is not None and self.store.failed is None:
                current = self.bank.current_blockhash
                if any(entry.tx.message.recent_blockhash == current for entry in self._queue[0].entries):
                    wait = self.end_slot()  # it lands after the slot of its blockhash (module doc)
                    if wait > 0:  # the slot is too young to end: the batch (and those behind it) waits
                        self._resume_in(wait)
                        return
            self._run(self._queue.popleft())

    def _resume_in(self, delay: float) -> None:
        if self._hold is not None:
            self._hold.cancel()
        self._hold = self._loop.call_later(delay, self._resume)

    def _resume(self) -> None:
        self._hold = None
        self._drain()

    def slot_ended(self) -> None:
        """The slot timer ended the slot: a held batch's blockhash is an older slot's now."""
        if self._hold is not None:
            self._hold.cancel()
            self._hold = self._loop.call_soon(self._resume)

    def _run(self, batch: _Batch) -> None:
        verdicts = iter(batch.verdicts)
        failed = self.store.failed
        write = Write()
        landed: list[tuple[asyncio.Future, ProcessResult]] = []
        for entry in batch.entries:
            verified = next(verdicts) if entry.verdict is None else entry.verdict
            if failed is not None:  # refused before execution: the server is stopping
                _fail(entry.future, failed)
                continue
            try:
                if entry.preflight is not None:
                    entry.preflight(verified)
                    verified = True  # it refuses a transaction whose signatures failed
                result = self.bank.process(entry.tx, entry.signature, verified=verified)
                if result.record is not None:
                    self.hub.publish_tx(result, "processed")
            except Exception as error:  # noqa: BLE001 - its caller answers it (the preflight's error, or an internal one)
                _fail(entry.future, error)
                continue
            if result.record is None:
                _resolve(entry.future, result)
                continue
            write.accounts += result.accounts
            write.txs.append((result.record, [bytes(k) for k in dict.fromkeys(result.keys)]))
            landed.append((entry.future, result))
        if landed:
            try:
                stored = self.store.submit(write)  # journaled when it returns: the commit point
            except Exception as error:  # noqa: BLE001 - StoreFailed: the server is stopping; nobody is told it landed
                for future, _ in landed:
                    _fail(future, error)
                return
            # Nobody waits for SQLite: if the writer dies first, the server stops (the store
            # reports it) and the next start applies the journal.
            stored.add_done_callback(_consumed)
            self.store.flush()  # the batch is complete: the writer can start on it now
            self._committed(landed)

    def _committed(self, landed: list[tuple[asyncio.Future, ProcessResult]]) -> None:
        # Committed in the slot that executed them (same loop turn): a finished slot never
        # waits for its transactions' commit, so the confirmed slot moves at the slot's end.
        for future, result in landed:
            self.bank.mark_committed(result.signature)
            self.hub.publish_tx(result, "confirmed")
            _resolve(future, result)


def _consumed(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: the failure is the store's to report, not a lost exception


def _resolve(future: asyncio.Future, value: object) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future, error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
