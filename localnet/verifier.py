"""Signature checks off the event loop: a verifier process of its own, fed batches (intake.py).

Why a process (sigverify.py has the measurements): the check was the largest single cost
of the event loop, and a thread cannot take it over without GIL hand-offs. Here the loop
pays one pipe write and one read per batch, a few us a transaction. The check is
sigverify.verify, the same function the bank calls inline, so the verdicts are the same.

Protocol (stdin -> stdout, frames.py): each input frame is a batch, its payload the
batch's transactions as frames of their own (wire bytes); each output frame answers one
batch in order, one byte per transaction: 1 when every signature verifies, else 0.

The process exits 0 when its input closes. If it dies, the server verifies inline from then
on (the batches it held included): a verifier is a speed-up, not a guarantee.
"""

from __future__ import annotations

import collections
import logging
import signal
import sys
from typing import TYPE_CHECKING, Callable

from .frames import frame, read_frames, take_frames

if TYPE_CHECKING:
    from solders.transaction import VersionedTransaction

__all__ = ["Verifier", "main"]

log = logging.getLogger("crowdcompute.localnet.verifier")

Verdicts = Callable[[list[bool]], None]


class Verifier:
    """The event loop's side: `check(txs, done)` calls `done(verdicts)` once the batch is
    verified, batches in the order they were given."""

    def __init__(self) -> None:
        self._child = None
        self._pending: collections.deque[tuple[list[VersionedTransaction], Verdicts]] = collections.deque()
        self._answers = bytearray()
        self._closing = False

    def start(self) -> None:
        from .child import Child

        self._child = Child("crowdcompute.localnet.verifier", [], on_output=self._on_output, on_exit=self._on_exit)
        self._child.start()

    @property
    def process(self):
        """The verifier process (None when not running)."""
        return None if self._child is None else self._child.process

    def check(self, txs: list[VersionedTransaction], done: Verdicts) -> None:
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

    def _on_exit(self, code: int) -> None:
        self._child = None
        if not self._closing:
            log.error("the signature verifier exited (code %d): verifying on the event loop from now on", code)
        while self._pending:
            txs, done = self._pending.popleft()
            _deliver(done, _inline(txs))

    async def close(self) -> None:
        self._closing = True
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
