"""README's demo (scripts/demo_node.py, what `bash scripts/demo.sh` runs after building) as a
user runs it: its own localnet, storage and node daemon with real containers, in a
subprocess. Its printout is checked figure by figure against each other: the node staked
what the market's minimum asked and was admitted, the job's result was verified, the
network fee the program paid (its NetworkFeePaid event) is what the poster paid on top
and what reached the rewards pool, and the node's claim (its Claimed event) is what its
balance gained: the whole fee, less at most one base unit of rounding (the only staker)."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECIMALS = 6  # the demo's mint
FEE_BPS = 100  # the demo market's network fee (1%)


def units(tokens: str) -> int:
    """A printed token amount ("11.203006", "-0.016", "+1,000") in base units."""
    return int(Decimal(tokens.replace(",", "")) * 10**DECIMALS)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def find(pattern: str, text: str) -> re.Match:
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"the demo did not print {pattern!r}:\n{text}"
    return found


def test_demo_stakes_serves_pays_the_fee_and_claims_it(test_image):
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_node.py")], cwd=ROOT, capture_output=True, text=True,
                         timeout=240)
    out = run.stdout
    assert run.returncode == 0, f"the demo failed ({run.returncode}):\n{out}\n{run.stderr}"

    # The node started short of stake, staked the fewest tokens that reach the minimum for
    # its 30-day lock, and joined.
    find(r"^node +runs `crowd node start --market \S+ --stake min --stake-duration 30d --yes`$", out)
    short = find(r"^  node: stake +short: stake ([\d.,]+) tokens for 30d.*\(weight 0 < min ([\d,]+)\)$", out)
    staked = find(r"^  node: staked +stake weight ([\d,]+) >= min ([\d,]+) ", out)
    find(r"^  node: joining the market", out)
    stake = find(r"^stake +([\d.,]+) tokens locked 30d \(([\d.]+)x\): weight ([\d,]+) >= min ([\d,]+): admitted;", out)
    minimum = number(stake[4])
    assert minimum == number(short[2]) == number(staked[2]) == 10_000_000
    assert units(stake[1]) == units(short[1]), "the node staked what its start-up said was missing"
    assert number(stake[3]) == number(staked[1]) >= minimum
    assert Decimal(stake[2]) > 1, "a 30-day lock weighs more than the shortest"
    assert units(stake[1]) * Decimal(stake[2]) >= minimum > (units(stake[1]) - 1) * Decimal(stake[2]), "the fewest that reach it"

    # The post paid the network fee (by the program's event) on top of the deposit.
    posted = find(r"^posted job \S+: deposit ([\d.,]+) tokens in escrow; network fee ([\d.,]+) tokens \(([\d,]+) base units, 1%, "
                  r"by the NetworkFeePaid event\) paid to the stakers' rewards pool", out)
    deposit, fee = units(posted[1]), number(posted[3])
    assert units(posted[2]) == fee == -(-deposit * FEE_BPS // 10_000) > 0  # ceil(deposit x fee_bps / 10,000)
    find(r"^done in [\d.]+s; result Qm\w+ \(fetched and verified against the digest on-chain\)$", out)
    find(r"^result answer = \[\"= 42\", \"42\"\]$", out)

    before = find(r"^balances before: poster ([\d.,]+), node ([\d.,]+), rewards pool ([\d.,]+) tokens$", out)
    after = find(r"^balances after: +poster ([\d.,]+) \(([-+][\d.,]+)\), node ([\d.,]+) \(([-+][\d.,]+)\), rewards pool ([\d.,]+) "
                 r"\(([-+][\d.,]+)\) tokens; paid ([\d.,]+) to the node, ([\d.,]+) to the stakers$", out)
    paid = units(after[7])
    assert units(after[8]) == fee
    assert [units(after[i]) for i in (2, 4, 6)] == [-(paid + fee), paid, fee]
    assert [units(after[i]) - units(before[j]) for i, j in ((1, 1), (3, 2), (5, 3))] == [-(paid + fee), paid, fee]
    assert 0 < paid <= deposit

    # The node's claim: the Claimed event's amount is what its balance gained, the whole
    # fee but the rounding down of the rewards' accumulator, which stays in the pool.
    claim = find(r"^claimed +([\d.,]+) tokens \(([\d,]+) base units by the Claimed event; node balance ([-+][\d.,]+) tokens\): "
                 r"the only staker, it gets (.+); the rewards pool keeps ([\d.,]+) tokens$", out)
    claimed = number(claim[2])
    assert units(claim[1]) == claimed == units(claim[3])
    assert fee - 1 <= claimed <= fee
    assert units(claim[5]) == units(after[5]) - claimed == fee - claimed
    assert claim[4] == ("the whole fee" if claimed == fee else "the fee less 1 base unit of rounding")

    # The service: the front door named by the node's profile, the endpoint healthy, the page
    # served through the door, ended by the poster, the bundle attached with its health history.
    door = find(r"^service +node \S+ publishes its front door on-chain: (http://localhost:\d+) \(its profile account\)$", out)[1]
    endpoint = find(r"^endpoint web:8080 healthy in [\d.]+s after posting: http://([a-z2-7]{24})\.localhost:\d+/$", out)[1]
    find(rf"^fetched +{re.escape(door)}/e/{endpoint}/ through the node's front door: 200 'hello from a service on crowdcompute'$", out)
    find(r"^ended +by the poster: node paid [\d.,]+ tokens for \d+ s; bundle Qm\w+ attached by the node and verified; "
         r"health starting -> healthy -> stopped$", out)
    find(r"^node stopped: exit 0 ", out)
