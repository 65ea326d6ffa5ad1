"""The native signature check on a thread of its own (verifier.py's native mode).

One dedicated thread takes batches from a queue, checks each with
`crowdcompute.localnet._native.verify_batch` (Rust: ed25519-dalek 2's verify_strict, AVX2
where the CPU has it), and hands the verdicts back to the event loop with
`call_soon_threadsafe`, batches in the order they came.

Why a thread works now where it did not before (sigverify.py): verify_batch releases the
GIL for a whole batch, and the loop pays one queue put and one wake-up per batch. Earlier
tries handed off per signature (libsodium called once a signature), or not at all (solders
holds the GIL while it verifies), and lost more to wake-ups and GIL hand-offs than the
second core gave. No pipe and no process to wake, no parsing on the far side: a batch's
round trip is one queue put and one loop callback (0.33 ms for a batch of 3 on an idle
loop, against 0.53 ms through the process; docs/architecture.md has the figures).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Callable

__all__ = ["VerifyThread"]

log = logging.getLogger("crowdcompute.localnet.runtime.verifier")

_STOP = object()


class VerifyThread:
    def __init__(self, verify_batch: Callable[[list[bytes]], bytes], loop: asyncio.AbstractEventLoop, *, on_answer: Callable[[bytes | None], None]) -> None:
        """`on_answer(verdicts)` runs on `loop` once per submitted batch, in order: the
        batch's verdict bytes, or None if verify_batch raised (it is not expected to)."""
        self._verify_batch, self._loop, self._on_answer = verify_batch, loop, on_answer
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="crowdcompute-sigverify", daemon=True)
        self._thread.start()

    def submit(self, raws: list[bytes]) -> None:
        self._queue.put(raws)

    def stop(self) -> None:
        """The thread ends once it has answered what was submitted before."""
        self._queue.put(_STOP)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            raws = self._queue.get()
            if raws is _STOP:
                return
            try:
                verdicts = self._verify_batch(raws)
            except Exception:  # noqa: BLE001 - the loop falls back to solders for this batch
                log.exception("native signature check failed")
                verdicts = None
            try:
                self._loop.call_soon_threadsafe(self._on_answer, verdicts)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return
