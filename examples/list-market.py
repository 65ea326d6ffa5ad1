"""What a market looks like right now: its price and queue, and its jobs by status.

    python examples/list-market.py MARKET [--url devnet]
"""

import argparse
from collections import Counter

from crowdcompute.client import SyncCrowdClient

parser = argparse.ArgumentParser()
parser.add_argument("market")
parser.add_argument("--url", default="localnet")
args = parser.parse_args()

with SyncCrowdClient(args.url) as crowd:  # reading needs no wallet
    market = crowd.get_market(args.market)
    print(f"market {market.address}: {market.state.lower()}, {market.price_per_second}/s, max timeout {market.max_timeout}s")
    print(f"queue: {market.queue_len} waiting ({market.queue_side.lower()}), {len(market.running())} running")
    jobs = crowd.list_jobs(market=market.address)
    for view in jobs:
        print(f"  {view.job.address}  {view.status:8}  deposit {view.job.deposit:>8}  paid {view.job.paid:>8}")
    counts = Counter(view.status for view in jobs)
    print("jobs: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"))
