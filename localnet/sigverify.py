"""Ed25519 signature verification of a transaction, once per transaction.

The bank's LiteSVM runs with its own signature check off, and `Bank.process` verifies here
unless its caller already has: a sendTransaction with preflight verifies once (preflight,
simulation and execution used to verify the same signatures three times), and the
transactions this server signs itself (airdrops, provisioning) are not verified again.

Measured and kept inline: the check is about 60 us of the ~0.2 ms a transfer costs the
server. Verifying on a thread of its own (libsodium through PyNaCl releases the GIL) moved
that CPU off the event loop but lowered throughput by 10-20% on the 2-core reference
machine (scripts/bench_localnet.py, A/B runs alternating): the thread's wake-ups and GIL
hand-offs cost more than the parallelism gave. docs/architecture.md has the figures.
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
