"""Signature checks off the event loop, fed batches (intake.py), in one of two ways.

Native (when crowdcompute.localnet._native imports: scripts/build-native.sh builds it with
cargo): a thread of this process checks each batch with one call that releases the GIL
(verify_thread.py says why a thread works now). The default.

A process (without the native module, or with CROWDCOMPUTE_LOCALNET_VERIFIER=process): a
verifier process of its own, so that the check's CPU is not the event loop's; solders holds
the GIL while it verifies, so a thread could not take it over (sigverify.py has the
measurements). The loop pays one pipe write and one read per batch, a few us a transaction,
and a batch waits about 2 ms for its answer under load. The check is sigverify.verify, the
same function the bank calls inline, so the verdicts are the same.

Either way the verdicts are sigverify.verify's (tests/localnet/test_localnet_native_sigverify.py
compares them, crafted signatures included), batches are answered in the order they came, and
a batch the verifier cannot answer is verified inline on the loop.

Protocol of the process (stdin -> stdout, frames.py): each input frame is a batch, its
payload the batch's transactions as frames of their own (wire bytes); each output frame
answers one batch in order, one byte per transaction: 1 when every signature verifies, else 0.

The process exits 0 when its input closes. If it dies, the server verifies inline from then
on (the batches it held included): a verifier is a speed-up, not a guarantee.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Callable

from ..ledger.frames import frame, read_frames, take_frames

if TYPE_CHECKING:
    from solders.transaction import VersionedTransaction

__all__ = ["Verifier", "main"]

log = logging.getLogger("crowdcompute.localnet.runtime.verifier")

Verdicts = Callable[[list[bool]], None]

# "process" forces the verifier process even where the native module imports (comparisons).
MODE_ENV = "CROWDCOMPUTE_LOCALNET_VERIFIER"


def native_verify_batch() -> Callable[[list[bytes]], bytes] | None:
    """The native batch check, or None when it is not built (or the process is asked for)."""
    if os.environ.get(MODE_ENV) == "process":
        return None
    try:
        from .._native import verify_batch
    except ImportError:
        return None
    return verify_batch


class Verifier:
    """The event loop's side: `check(txs, done)` calls `done(verdicts)` once the batch is
    verified, batches in the order they were given. Before start() and after close() it
    verifies inline."""

    def __init__(self) -> None:
        self._verify_batch = native_verify_batch()
        self._child = None
        self._thread = None
        self._pending: collections.deque[tuple[list[VersionedTransaction], Verdicts]] = collections.deque()
        self._answers = bytearray()
        self._closing = False
        self._drained: asyncio.Future | None = None  # close() waits on it for the thread's answers

    @property
    def native(self) -> bool:
        """Whether batches go to the native check's thread (start() then starts no process)."""
        return self._verify_batch is not None

    def start(self) -> None:
        if self.native:
            from .verify_thread import VerifyThread

            self._thread = VerifyThread(self._verify_batch, asyncio.get_running_loop(), on_answer=self._on_native_answer)
            return
        from ..ledger.child import Child

        self._child = Child("crowdcompute.localnet.runtime.verifier", [], on_output=self._on_output, on_exit=self._on_exit)
        self._child.start()

    @property
    def process(self):
        """The verifier process (None when not running, and always in native mode)."""
        return None if self._child is None else self._child.process

    def check(self, txs: list[VersionedTransaction], done: Verdicts, raws: list[bytes | None] | None = None) -> None:
        """`raws`, when given, are the transactions' wire bytes as received (None where not
        known): the native check parses those instead of a fresh serialization."""
        if self._thread is not None:
            self._pending.append((txs, done))
            self._thread.submit([bytes(tx) for tx in txs] if raws is None else [bytes(tx) if raw is None else raw for tx, raw in zip(txs, raws)])
            return
        if self._child is None:
            done(_inline(txs))
            return
        self._pending.append((txs, done))
        self._child.send(frame(b"".join(frame(bytes(tx)) for tx in txs)))
        self._child.flush()  # the caller gathered this loop turn's batch: no need to wait for its end

    def _on_output(self, data: bytes) -> None:
        self._answers += data
        for answer in take_frames(self._answers):
            txs, done = self._pending.popleft()
            _deliver(done, [byte == 1 for byte in answer])

    def _on_native_answer(self, verdicts: bytes | None) -> None:
        if not self._pending:  # answered inline already (close() gave up waiting)
            return
        txs, done = self._pending.popleft()
        _deliver(done, _inline(txs) if verdicts is None else [byte == 1 for byte in verdicts])
        if not self._pending and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _on_exit(self, code: int) -> None:
        self._child = None
        if not self._closing:
            log.error("the signature verifier exited (code %d): verifying on the event loop from now on", code)
        while self._pending:
            txs, done = self._pending.popleft()
            _deliver(done, _inline(txs))

    async def close(self) -> None:
        """Returns once every batch given before has been answered."""
        self._closing = True
        if self._thread is not None:
            thread, self._thread = self._thread, None  # what is checked from now on, inline
            thread.stop()
            if self._pending:
                self._drained = asyncio.get_running_loop().create_future()
                try:
                    await asyncio.wait_for(asyncio.shield(self._drained), 30)
                except asyncio.TimeoutError:  # not expected: the thread answers every batch
                    log.error("the native signature check did not answer: verifying what is left on the event loop")
                    while self._pending:
                        txs, done = self._pending.popleft()
                        _deliver(done, _inline(txs))
        if self._child is not None:
            await self._child.close(timeout=5)


def _inline(txs: list[VersionedTransaction]) -> list[bool]:
    from .sigverify import verify

    return [verify(tx) for tx in txs]


def _deliver(done: Verdicts, verdicts: list[bool]) -> None:
    try:
        done(verdicts)
    except Exception:  # noqa: BLE001 - one batch's failure must not stop the answers after it
        log.exception("after-verification callback failed")


# -- the process ---------------------------------------------------------------------------
def _answer(batch: bytes) -> bytes:
    from solders.transaction import VersionedTransaction

    from .sigverify import verify

    out = bytearray()
    for raw in take_frames(bytearray(batch)):
        try:
            out.append(verify(VersionedTransaction.from_bytes(raw)))
        except Exception:  # noqa: BLE001 - not ours to judge: 0 makes the bank check it itself
            out.append(0)
    return frame(bytes(out))


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C in a terminal reaches the whole process group: this process ends when the
    # server closes its input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    buffer = bytearray()
    while True:
        batches, eof = read_frames(source.fileno(), buffer)
        if batches:
            try:
                sink.write(b"".join(_answer(batch) for batch in batches))
                sink.flush()
            except (BrokenPipeError, OSError):
                return 0  # the server is gone
        if eof:
            return 0


if __name__ == "__main__":
    sys.exit(main())
