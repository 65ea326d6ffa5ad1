"""A dApp's whole job: post a job definition to a market, wait for it, print its logs.

    python examples/post-and-wait.py --market MARKET [--url devnet] [--keypair ~/.config/solana/id.json]
                                     [--storage http://127.0.0.1:8901] [examples/hello.json]
"""

import argparse

from crowdcompute.client import SyncCrowdClient, load_keypair
from crowdcompute.client.jobspec import load

parser = argparse.ArgumentParser()
parser.add_argument("definition", nargs="?", default="examples/hello.json")
parser.add_argument("--market", required=True)
parser.add_argument("--url", default="localnet")
parser.add_argument("--keypair")
parser.add_argument("--storage")
args = parser.parse_args()

with SyncCrowdClient(args.url, load_keypair(args.keypair), storage=args.storage) as crowd:
    # The most this post pays is the price and network fee the market asks now (pass
    # max_price_per_second= or max_fee_bps= for others): a market that asks more by the time
    # the post lands refuses it, nothing paid.
    posted = crowd.post(args.market, definition=load(args.definition), timeout=600)
    fee = f", network fee {posted.fee}" if posted.fee else ""
    print(f"posted {posted.job}, deposit {posted.deposit}{fee}", flush=True)
    view = crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=3600)
    print(f"{view.status} on node {view.node}, paid {view.job.paid}")
    if view.status == "done":
        cid, _, bundle = crowd.result_bundle(view.job)
        print(bundle.render(), end="")
