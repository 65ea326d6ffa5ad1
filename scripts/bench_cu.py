#!/usr/bin/env python3
"""Compute units of the jobs program, per instruction and for a whole lifecycle, and of
every staking-program instruction.

Runs each instruction on the real SBF build in LiteSVM and splits its compute units into
the program's own work and the cross-program invocations it cannot avoid (token transfers,
account creation). Prints a table, then as its LAST line one JSON object:

  {"lifecycle_cu": N, "cpi_floor_cu": N, "ratio": R, "instructions": {"post": N, ...},
   "staking_instructions": {"stake": N, ...}, ...}

lifecycle_cu is post (queued) + work (matches it) + finish. cpi_floor_cu is what that
lifecycle's CPIs cost by themselves: the callee's own compute units (from the logs; 150
for the System program, a builtin) plus the runtime's charge for the invoke (1,000 units,
agave's `invoke_units`, plus one unit per 250 bytes of instruction and account data, its
`cpi_bytes_per_unit`). Target: lifecycle_cu <= 1.15 * cpi_floor_cu.

staked_lifecycle_cu is the same lifecycle in a market with staking: work admits the node
by its stake (min_stake), post pays a network fee (a CPI to the staking program's
deposit_fees, whose own units, its token transfer included, count as CPI floor), so
staked_ratio = staked_lifecycle_cu / staked_cpi_floor_cu, target <= 1.15 too. The staked
table also has reclaim with a slash (a CPI to staking's slash signed by the jobs
program's PDA) and extend with its fee.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from dataclasses import replace

from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer

from rich.console import Console
from rich.table import Table

from crowdcompute.client import MarketSettings
from crowdcompute.client.jobs.layout import JOB_SIZE, market_size
from crowdcompute.client.staking.program import DAY, StakingProgram, StakingSettings
from crowdcompute.common.token import MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID

CONFIG_SIZE, STAKE_SIZE = 8 + 348, 8 + 202  # staking-interface state.rs
from crowdcompute.sandbox import Actor, Sandbox
from crowdcompute.sandbox.staking import SLASH_PROBE_ID, StakingSandbox
from crowdcompute.localnet.runtime.svm import Outcome

WAITING = 255  # nodes ahead of the one whose work is measured on the capped path
INVOKE_UNITS = 1_000
CPI_BYTES_PER_UNIT = 250
BUILTIN_UNITS = {"11111111111111111111111111111111": 150}
# Bytes of instruction data and account data each CPI carries, by callee and instruction log.
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
STAKING = str(StakingProgram().program_id)
CPI_BYTES = {
    ("11111111111111111111111111111111", None): 52,  # create_account data; new account is empty
    (TOKEN, "Transfer"): 9 + 2 * TOKEN_ACCOUNT_LEN,
    (TOKEN, "InitializeAccount3"): 33 + TOKEN_ACCOUNT_LEN + MINT_LEN,
    (TOKEN, "CloseAccount"): 1 + TOKEN_ACCOUNT_LEN,
}


def add_staking_cpi_bytes(token_program_len: int) -> None:
    """The staking program, named by the event it emits: deposit_fees (data, config, two
    token accounts) for post and extend, slash (data, config, stake, four token accounts)
    for reclaim. Both also pass the SPL Token program, which the staking program invokes:
    the runtime charges for its account data too (its ELF: 133,352 bytes in LiteSVM, as on
    mainnet, where SPL Token is a BPFLoader2 program), about 530 units a call."""
    CPI_BYTES[(STAKING, "FeesDeposited")] = 16 + CONFIG_SIZE + 2 * TOKEN_ACCOUNT_LEN + token_program_len
    CPI_BYTES[(STAKING, "Slashed")] = 24 + CONFIG_SIZE + STAKE_SIZE + 4 * TOKEN_ACCOUNT_LEN + token_program_len

INVOKE = re.compile(r"^Program (\w+) invoke \[(\d+)\]$")
CONSUMED = re.compile(r"^Program (\w+) consumed (\d+) of \d+ compute units$")
LOG = re.compile(r"^Program log: Instruction: (\w+)$")
DATA = re.compile(r"^Program data: (\S+)")
STAKING_EVENTS = {hashlib.sha256(f"event:{name}".encode()).digest()[:8]: name for name in ("Slashed", "FeesDeposited")}


def cpi_costs(outcome: Outcome) -> list[tuple[str, int]]:
    """(callee, floor cost) of every depth-2 invocation in the logs. A callee's name is its
    first "Instruction:" log at depth 2 or, for the staking program (which logs none), the
    event it emits (Slashed, FeesDeposited)."""
    costs: list[tuple[str, int]] = []
    current: list | None = None
    depth = 1
    for line in outcome.logs:
        if m := INVOKE.match(line):
            depth = int(m.group(2))
            if depth == 2:
                current = [m.group(1), None, BUILTIN_UNITS.get(m.group(1), 0)]
        elif current and depth == 2 and current[1] is None and ((m := LOG.match(line)) or (m := DATA.match(line))):
            current[1] = m.group(1) if m.re is LOG else STAKING_EVENTS.get(base64.b64decode(m.group(1))[:8])
        elif current and (m := CONSUMED.match(line)) and m.group(1) == current[0]:
            current[2] = int(m.group(2))
        elif line.startswith("Program ") and line.endswith(" success"):
            if current and depth == 2 and line == f"Program {current[0]} success":
                callee, name, inner = current
                data = CPI_BYTES.get((callee, name), CPI_BYTES.get((callee, None), 0))
                label = name or ("CreateAccount" if callee in BUILTIN_UNITS else callee[:8])
                costs.append((label, inner + INVOKE_UNITS + data // CPI_BYTES_PER_UNIT))
                current = None
            depth -= 1
    return costs


class Measured(dict):
    """Outcomes by name, each the first run of that name; `run` fails on a failed one."""

    def run(self, name: str, outcome: Outcome) -> Outcome:
        Sandbox.must(outcome)
        self.setdefault(name, outcome)
        return outcome


def split_table(title: str, measured: dict[str, Outcome]) -> tuple[Table, dict[str, int]]:
    """A table of each instruction's compute units, split into CPIs and the program's own."""
    table = Table(title=title)
    for column in ("instruction", "total CU", "in CPIs (floor)", "program's own", "own share", "CPIs"):
        table.add_column(column, justify="right" if column not in ("instruction", "CPIs") else "left")
    instructions: dict[str, int] = {}
    for name, outcome in measured.items():
        costs = cpi_costs(outcome)
        floor = sum(cost for _, cost in costs)
        own = outcome.compute_units - floor
        instructions[name.strip()] = outcome.compute_units
        table.add_row(name.strip(), f"{outcome.compute_units:,}", f"{floor:,}", f"{own:,}",
                      f"{own / outcome.compute_units:.0%}", ", ".join(label for label, _ in costs) or "-")
    return table, instructions


def measure_staked_market() -> tuple[Measured, list[Outcome]]:
    """The job lifecycle in a market with staking (a minimum stake, a slash penalty with a
    bounty, a network fee), and the paths staking adds: reclaim with a slash, extend with
    its fee. Returns the measured outcomes and the lifecycle's (post, work, finish)."""
    sb = StakingSandbox()
    add_staking_cpi_bytes(len(sb.chain.account(TOKEN_PROGRAM_ID).data))
    config, _, outcome = sb.init(StakingSettings(slasher_program=sb.jobs.program_id))
    sb.must(outcome)
    settings = MarketSettings(price_per_second=10, max_timeout=3600, retention=0, max_attempts=2, min_stake=1_000_000,
                              slash_penalty=100_000, reclaim_bounty_bps=1_000, fee_bps=100, staking_config=config)
    measured = Measured()
    run = measured.run

    market, _, outcome = sb.open_market(settings, capacity=64)
    run("open_market (staking config)", outcome)
    poster, caller = sb.actor(10**9), sb.actor()
    nodes = [sb.actor(10**7) for _ in range(2)]
    for node in nodes:
        sb.must(sb.stake(config, node, 2_000_000, 30 * DAY))
    job, outcome = sb.post(market, poster, timeout=600)
    run("post (network fee)", outcome)
    run("work (stake admission)", sb.work(market, nodes[0]))
    sb.chain.advance(120)
    run("finish", sb.finish(market, job, nodes[0], poster.token))
    lifecycle = [measured["post (network fee)"], measured["work (stake admission)"], measured["finish"]]
    job2, _ = sb.post(market, poster, timeout=60)
    sb.must(sb.work(market, nodes[1]))
    run("extend (network fee)", Sandbox.extend(sb, market, job2, poster, 60))
    sb.chain.advance(121)
    run("reclaim (slash, requeues)", sb.reclaim(market, job2, poster.token, caller))
    return measured, lifecycle


def measure_staking() -> Measured:
    """Every staking instruction once on its usual path (two stakers, so rewards are shared)."""
    sb = StakingSandbox()
    measured = Measured()
    run = measured.run

    config, authority, outcome = sb.init(StakingSettings(slasher_program=SLASH_PROBE_ID))
    run("init", outcome)
    alice, bob, payer = sb.actor(10**12), sb.actor(10**12), sb.actor(10**12)
    run("stake", sb.stake(config, alice, 10**9, 30 * DAY))
    sb.must(sb.stake(config, bob, 3 * 10**9, 200 * DAY))
    run("topup", sb.topup(config, alice, 10**8))
    run("extend", sb.extend(config, alice, 60 * DAY))
    run("deposit_fees", sb.deposit_fees(config, payer, 1_234_567))
    run("claim", sb.claim(config, alice))
    run("slash (authority, to pool)", sb.slash(config, authority, bob.pubkey, 10**6))
    run("slash (slasher program CPI)", sb.slash_by_probe(config, bob.pubkey, 10**6, caller=payer))
    run("update_config", sb.send([sb.staking.update_config(authority=authority.pubkey, config=config, treasury=authority.token, slash_to=0,
                                                           slasher_program=SLASH_PROBE_ID)], [authority.keypair]))
    run("unstake", sb.unstake(config, alice))
    sb.chain.advance(10 * DAY)
    run("withdraw", sb.withdraw(config, alice))
    run("restake", sb.restake(config, alice))
    sb.must(sb.unstake(config, alice))
    sb.chain.advance(60 * DAY)
    sb.must(sb.withdraw(config, alice))
    sb.must(sb.claim(config, alice))
    run("close", sb.close_stake(config, alice))
    return measured


def main() -> int:
    console = Console(stderr=False)
    sandbox = Sandbox()
    settings = MarketSettings(price_per_second=10, max_timeout=3600, retention=0, max_attempts=1)
    measured = Measured()
    run = measured.run

    market, authority, outcome = sandbox.open_market(settings, capacity=64)
    run("open_market", outcome)
    poster = sandbox.actor(tokens=10_000_000)
    nodes = [sandbox.actor() for _ in range(3)]

    # The lifecycle: post (queued), work (matches it), finish.
    job, outcome = sandbox.post(market, poster, timeout=600)
    run("post", outcome)
    run("work", sandbox.work(market, nodes[0]))
    sandbox.chain.advance(120)
    run("finish", sandbox.finish(market, job, nodes[0], poster.token))
    lifecycle = [measured["post"], measured["work"], measured["finish"]]

    # The other paths.
    run("work (queues)", sandbox.work(market, nodes[1]))
    job2, outcome = sandbox.post(market, poster, timeout=600)
    run("post (matches)", outcome)
    # A quit counts as an attempt: with max_attempts 1, the job's last, so it is refunded.
    run("quit (refunds)", sandbox.quit(market, job2, nodes[1]))
    job5, _ = sandbox.post(market, poster, timeout=600)
    run("extend", sandbox.extend(market, job5, poster, 60))
    run("cancel", sandbox.cancel(market, job5, poster))
    run("work (queues) ", sandbox.work(market, nodes[2]))
    slot = [e for e in sandbox.jobs.events(measured["work (queues) "].logs) if e.name == "NodeQueued"][0].data.slot
    run("leave", sandbox.leave(market, nodes[2], slot))
    job3, _ = sandbox.post(market, poster, timeout=60)
    sandbox.must(sandbox.work(market, nodes[1]))
    sandbox.chain.advance(61)
    run("reclaim (refunds)", sandbox.reclaim(market, job3, poster.token, nodes[2]))
    job4, _ = sandbox.post(market, poster, timeout=600)
    sandbox.must(sandbox.work(market, nodes[1]))
    sandbox.chain.advance(30)
    run("end", sandbox.end(market, job4, poster, nodes[1].token, poster.token))
    run("update_market", sandbox.send([sandbox.jobs.update_market(authority.pubkey, market, settings)], [authority.keypair]))
    for cleaned in (job, job2, job3, job4):
        run("clean", sandbox.clean(market, cleaned, poster.pubkey, poster))
    run("close_market", sandbox.send([sandbox.jobs.close_market(authority.pubkey, market, authority.token)], [authority.keypair]))

    # Paths off the lifecycle that issue 9 added: a pre-funded job address (transfer,
    # allocate, assign instead of create_account) and the per-node cap's walk of the
    # waiting nodes (a node joining behind WAITING others, with a cap of one entry each).
    market2, authority2, _ = sandbox.open_market(replace(settings, max_entries_per_node=1), capacity=WAITING + 1)
    prefunded = Keypair()
    giver = sandbox.chain.funded()
    sandbox.must(sandbox.send([transfer(TransferParams(from_pubkey=giver.pubkey(), to_pubkey=prefunded.pubkey(), lamports=1))], [giver]))
    prefunded_job, outcome = sandbox.post(market2, poster, timeout=600, job=prefunded)
    run("post (pre-funded address)", outcome)
    sandbox.must(sandbox.cancel(market2, prefunded_job, poster))
    for _ in range(WAITING):
        sandbox.must(sandbox.work(market2, Actor(sandbox.chain.funded(), poster.token)))
    run(f"work (behind {WAITING} nodes)", sandbox.work(market2, Actor(sandbox.chain.funded(), poster.token)))

    table, instructions = split_table("jobs program: compute units (LiteSVM, real SBF)", measured)
    lifecycle_cu = sum(o.compute_units for o in lifecycle)
    cpi_floor_cu = sum(cost for o in lifecycle for _, cost in cpi_costs(o))
    ratio = lifecycle_cu / cpi_floor_cu
    table.add_section()
    table.add_row("post+work+finish", f"{lifecycle_cu:,}", f"{cpi_floor_cu:,}", f"{lifecycle_cu - cpi_floor_cu:,}",
                  f"{(lifecycle_cu - cpi_floor_cu) / lifecycle_cu:.0%}", f"ratio {ratio:.3f} (target <= 1.15)")
    console.print(table)

    sizes = Table(title="account sizes (bytes)")
    sizes.add_column("account")
    sizes.add_column("size", justify="right")
    sizes.add_column("rent-exempt lamports", justify="right")
    for label, size in (("Market, 64 entries", market_size(64)), ("Market, 1,000 entries", market_size(1000)),
                        ("Job", JOB_SIZE), ("vault (SPL token account)", TOKEN_ACCOUNT_LEN)):
        sizes.add_row(label, f"{size:,}", f"{sandbox.chain.rent_exempt(size):,}")
    console.print(sizes)

    staked, staked_lifecycle = measure_staked_market()
    staked_table, staked_instructions = split_table("jobs program with staking: compute units (LiteSVM, real SBF)", staked)
    staked_cu = sum(o.compute_units for o in staked_lifecycle)
    staked_floor = sum(cost for o in staked_lifecycle for _, cost in cpi_costs(o))
    staked_ratio = staked_cu / staked_floor
    staked_table.add_section()
    staked_table.add_row("post+work+finish", f"{staked_cu:,}", f"{staked_floor:,}", f"{staked_cu - staked_floor:,}",
                         f"{(staked_cu - staked_floor) / staked_cu:.0%}", f"ratio {staked_ratio:.3f} (target <= 1.15)")
    console.print(staked_table)

    # The slash CPI row includes the probe's own work (PDA derivation, invoke) on top of
    # the staking program's slash.
    staking_table, staking_instructions = split_table("staking program: compute units (LiteSVM, real SBF)", measure_staking())
    console.print(staking_table)

    print(json.dumps({
        "lifecycle_cu": lifecycle_cu,
        "cpi_floor_cu": cpi_floor_cu,
        "ratio": round(ratio, 4),
        "instructions": instructions,
        "staked_lifecycle_cu": staked_cu,
        "staked_cpi_floor_cu": staked_floor,
        "staked_ratio": round(staked_ratio, 4),
        "staked_instructions": staked_instructions,
        "staking_instructions": staking_instructions,
        "account_sizes": {"market_per_entry": 77, "market_header": market_size(1) - 77, "job": JOB_SIZE},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
