"""Ed25519 signature verification of transactions, off the event loop's thread.

Why: a profile of the server under load (scripts/bench_localnet.py, py-spy) showed LiteSVM's
send_transaction taking about 60% of the main thread, and LiteSVM spends about 62 of its 66
us a transfer verifying the signature (4 us with sigverify off). solders holds the GIL while
it verifies; libsodium through PyNaCl (cffi) releases it, so a second thread verifies on
the other core while the loop decodes, executes and answers. The bank's LiteSVM therefore
runs with sigverify off and never executes a transaction this module has not passed
(Bank.process verifies synchronously unless told the transaction is verified).

The verifier thread takes transactions in arrival order and answers in the same order, in
batches: one wake-up of the loop per batch, not per transaction, so the hand-over costs
the loop a few microseconds under load.
"""

from __future__ import annotations

import asyncio
import queue
import threading

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from solders.message import to_bytes_versioned
from solders.transaction import VersionedTransaction

__all__ = ["verify", "Verifier"]


def verify(tx: VersionedTransaction) -> bool:
    """Whether every signature of `tx` is its signer's over the message, as the runtime
    checks them: signature i by account key i, for the first `num_required_signatures` keys."""
    message = tx.message
    signed = to_bytes_versioned(message)
    keys = message.account_keys
    signatures = tx.signatures
    if len(signatures) != message.header.num_required_signatures or len(keys) < len(signatures):
        return False
    try:
        for signature, key in zip(signatures, keys):
            # crypto_sign_open takes signature || message; the call releases the GIL.
            crypto_sign_open(bytes(signature) + signed, bytes(key))
    except BadSignatureError:
        return False
    return True


class Verifier:
    """One thread verifying the transactions handed to `check`, answering in batches."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def check(self, tx: VersionedTransaction) -> bool:
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._run, name="sigverify", daemon=True)
            self._thread.start()
        future = self._loop.create_future()
        self._inbox.put((tx, future))
        return await future

    def close(self) -> None:
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        inbox = self._inbox
        while True:
            item = inbox.get()
            batch = []
            while item is not None:
                tx, future = item
                batch.append((future, verify(tx)))
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._loop.call_soon_threadsafe(_settle, batch)
            if item is None:
                return


def _settle(batch: list) -> None:
    for future, ok in batch:
        if not future.done():  # the request may have been cancelled (its client went away)
            future.set_result(ok)
