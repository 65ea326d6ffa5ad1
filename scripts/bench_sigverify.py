"""Signature checks of single-signature transfers, in us per transfer: solders' (what the
verifier process runs: sigverify.verify, with and without parsing the wire bytes) against
the native check (crowdcompute.localnet._native.verify_batch) in batches of 1, 8 and 32,
and the bank's inline alternative for one transaction (bytes(tx) + a batch of one).

    .venv/bin/python scripts/bench_sigverify.py [--transfers 1000] [--repeat 7]

Prints the best and the median of --repeat passes over --transfers distinct transfers, the
cases taking turns within each pass (this shared machine's speed drifts).
"""

from __future__ import annotations

import argparse
import statistics
import time

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from crowdcompute.localnet._native import verify_batch
from crowdcompute.localnet.runtime.sigverify import verify


def transfers(count: int) -> list[bytes]:
    blockhash = Hash.new_unique()
    out = []
    for _ in range(count):
        payer = Keypair()
        ixs = [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))]
        out.append(bytes(VersionedTransaction(Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), [payer])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    raws = transfers(args.transfers)
    txs = [VersionedTransaction.from_bytes(raw) for raw in raws]
    assert all(verify(tx) for tx in txs) and verify_batch(raws) == b"\x01" * len(raws)
    cases = {
        "solders verify (parsed)": lambda: [verify(tx) for tx in txs],
        "solders from_bytes + verify (the process)": lambda: [verify(VersionedTransaction.from_bytes(raw)) for raw in raws],
        "native, inline for one tx (bytes(tx) + batch of 1)": lambda: [verify_batch([bytes(tx)])[0] for tx in txs],
    }
    for size in (1, 8, 32):
        batches = [raws[i:i + size] for i in range(0, len(raws), size)]
        cases[f"native verify_batch, batches of {size}"] = lambda batches=batches: [verify_batch(batch) for batch in batches]
    passes: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, run in cases.items():
            started = time.perf_counter()
            run()
            passes[name].append((time.perf_counter() - started) / len(raws) * 1e6)
    width = max(map(len, cases))
    for name, times in passes.items():
        print(f"{name:<{width}}  best {min(times):6.1f} us  median {statistics.median(times):6.1f} us")


if __name__ == "__main__":
    main()
