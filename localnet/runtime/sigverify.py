"""Ed25519 signature verification of a transaction, once per transaction.

The bank's LiteSVM runs with its own signature check off, and `Bank.process` verifies here
unless its caller already has: what clients send is checked off the event loop (verifier.py:
by the native check, the same verdicts, on a thread; or on the verifier process, which runs
this same function a batch at a time), and the transactions this server signs itself
(airdrops, provisioning) are not verified at all. A sendTransaction with
preflight is checked once (preflight, simulation and execution used to check the same
signatures three times).

Where it runs, measured: inline it was about 60 us of the ~0.24 ms a transfer cost the event
loop, the largest single part. A thread could not take it over: solders holds the GIL while
it verifies, and libsodium (PyNaCl) on a thread, called once per signature, lowered
throughput by 10-20% on the 2-core reference machine (A/B runs alternating): the thread's
wake-ups and GIL hand-offs cost more than the parallelism gave. A process has no GIL to
share. The native check (localnet/native) does take it to a thread: one call checks a whole
batch with the GIL released (verify_thread.py). docs/architecture.md has the figures.
"""

from __future__ import annotations

from solders.transaction import VersionedTransaction

__all__ = ["verify"]


def verify(tx: VersionedTransaction) -> bool:
    """Whether every signature of `tx` is its signer's over the message, as the runtime
    checks them: signature i by account key i, for the `num_required_signatures` signers."""
    if len(tx.signatures) != tx.message.header.num_required_signatures:
        return False
    return all(tx.verify_with_results())
