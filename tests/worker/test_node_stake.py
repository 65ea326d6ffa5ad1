"""A node in a market with a minimum stake, on a live localnet, as real subprocesses: short of
stake it sends nothing (no `work` that would fail) and says what is missing; once its
operator stakes it joins without a restart. `crowd node start --stake ... --yes` stakes what
is missing and serves (real containers); a "n" at the prompt, too few tokens or too small an
amount start nothing and send nothing.

The market's staking config is the one crowd.stakes.config_for_market resolves (the market
authority's, for the market's mint; named by the market where MarketSettings can), so these
tests hold once the jobs program checks the stake in `work` itself."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from solders.pubkey import Pubkey

from crowdcompute.client import MarketSettings
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import StakeNotFound
from crowdcompute.client.jobspec import parse
from crowdcompute.client.staking.settings import DAY, StakingSettings

from tests.sdk.cli_runner import Crowd
from .helpers import entries_of, job, op

MIN = 2_000_000  # weight: 2 tokens locked the shortest (1x), 0.5 locked the longest (4x)
TOKENS = 1_000_000
CURVE = StakingSettings(min_duration=2, max_duration=30 * DAY)
SETTINGS = MarketSettings(price_per_second=10, max_timeout=600, min_stake=MIN, retention=1, max_attempts=2)


@pytest.fixture
def staked(wallets) -> tuple[Pubkey, Pubkey]:
    """A market asking a stake weight of MIN, and its staking config."""
    market, _, config = asyncio.run(wallets.staked_market(SETTINGS, CURVE))
    return market, config


@pytest.fixture
def market(staked) -> Pubkey:  # the `workers` fixture serves this module's market
    return staked[0]


@pytest.fixture
def operator(wallets):
    """A node's wallet: SOL and 3 tokens."""
    return asyncio.run(wallets.fund(tokens=3 * TOKENS))


async def _signatures(url: str, address: Pubkey) -> int:
    async with CrowdClient(url) as crowd:
        return len((await crowd.chain.rpc.get_signatures_for_address(address, commitment="confirmed")).value)


async def _stake_of(url: str, config: Pubkey, node: Pubkey):
    async with CrowdClient(url) as crowd:
        try:
            return await crowd.stakes.get_stake(config, node)
        except StakeNotFound:
            return None


def _status_after(w, when: float, timeout: float = 30) -> dict:
    """node.json once the daemon has rewritten it after `when` (after each pass of its loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = json.loads((w.state_dir / "node.json").read_text())
            if state["updated_at"] > when:
                return state
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"node.json not rewritten after {when}:\n{w.log()[-3000:]}")


def _post(localnet, storage, poster, market, definition):
    async def go():
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            posted = await crowd.post(market, timeout=120, definition=parse(definition))
            view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120)
            return view, (await crowd.result_bundle(posted.job))[2]

    return asyncio.run(go())


def test_short_of_stake_sends_nothing_then_joins_when_staked(localnet, storage, poster, staked, operator, workers, capsys):
    market, config = staked
    sent_before = asyncio.run(_signatures(localnet.url, operator.pubkey()))
    w = workers("short", keypair=operator)
    text = w.wait_log("event=stake-short")
    assert (f"event=stake-short market={market}: stake 2 tokens for 2s, or stake 0.5 tokens for 30d (weight 0 < min 2,000,000); "
            f"not entering the queue until the stake reaches the minimum: crowd stake create 2000000 --duration 2s --market {market}") in text
    assert "stake    short: stake 2 tokens for 2s" in text  # the start-up line

    # a job posted meanwhile changes the market (a notification, a fresh check): still out, said once
    async def post_one():
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            return (await crowd.post(market, timeout=120, definition=parse(job(op("hi", ["sh", "-c", "echo staked"]))))).job

    posted_at = time.time()
    waiting_job = asyncio.run(post_one())
    state = _status_after(w, posted_at)  # the node has seen the change and checked again
    assert state["admission"]["admitted"] is False and state["admission"]["shortfall"] == MIN
    assert state["admission"]["remedies"][0]["command"] == f"crowd stake create 2000000 --duration 2s --market {market}"
    status = Crowd(capsys, localnet.url, str(w.keyfile))("node", "status", "--market", str(market), "--state-dir", str(w.state_dir))
    assert status.code == 0, status.err
    assert "stake    short: stake 2 tokens for 2s, or stake 0.5 tokens for 30d (weight 0 < min 2,000,000); crowd stake create" in status.out
    status_json = Crowd(capsys, localnet.url, str(w.keyfile))("node", "status", "--market", str(market), "--state-dir",
                                                               str(w.state_dir), "--output", "json").json()
    assert status_json["admission"]["admitted"] is False and status_json["admission"]["config"] == str(config)
    assert w.log().count("event=stake-short") == 1 and "event=entered" not in w.log()
    assert asyncio.run(entries_of(localnet.url, market, operator.pubkey())) == ([], [])
    assert asyncio.run(_signatures(localnet.url, operator.pubkey())) == sent_before  # not one transaction

    # the operator stakes (another process, the same wallet): the node joins, no restart
    async def stake():
        async with CrowdClient(localnet.url, operator) as crowd:
            await crowd.stakes.create(config, "0.5tokens", "30d")

    asyncio.run(stake())
    text = w.wait_log("event=entered", timeout=60)
    assert f"event=stake-admitted weight=2000000 min_stake={MIN} config={config}" in text

    async def done():
        async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
            view = await crowd.wait_for(waiting_job, ["done", "ended", "failed"], timeout=120)
            return view, (await crowd.result_bundle(waiting_job))[2]

    view, bundle = asyncio.run(done())
    assert view.status == "done" and view.job.node == operator.pubkey() and bundle.ops[0].stdout.text == "staked\n"
    status = Crowd(capsys, localnet.url, str(w.keyfile))("node", "status", "--market", str(market), "--state-dir", str(w.state_dir))
    assert f"stake    stake weight 2,000,000 >= min 2,000,000 (staking config {config})" in status.out


def test_node_start_stakes_on_yes_then_serves_real_containers(localnet, storage, poster, staked, operator, workers, test_image):
    market, config = staked
    w = workers("staker", keypair=operator, executor=None, cli=True, extra=("--stake", "min", "--stake-duration", "30d", "--yes"))
    text = w.wait_log("event=entered", timeout=120)
    assert (f"staking  stake 0.5 tokens locked 30d under staking config {config}: weight 0 -> 2,000,000 (the market's minimum "
            f"2,000,000); the wallet holds 3 tokens and keeps 2.5 tokens.") in text
    assert f"staked   stake weight 2,000,000 >= min 2,000,000 (staking config {config})" in text
    assert "Stake as above?" not in text  # --yes: no prompt
    stake = asyncio.run(_stake_of(localnet.url, config, operator.pubkey()))
    assert (stake.state, stake.amount, stake.duration, stake.weight) == ("staked", 500_000, 30 * DAY, MIN)
    view, bundle = _post(localnet, storage, poster, market, job(op("hello", ["echo", "hello from a staked node"])))
    assert view.status == "done" and view.job.node == operator.pubkey()
    assert bundle.status == "succeeded" and bundle.ops[0].stdout.text == "hello from a staked node\n"


def test_node_start_tops_up_and_extends_an_existing_stake(localnet, staked, operator, workers):
    market, config = staked

    async def small():
        async with CrowdClient(localnet.url, operator) as crowd:
            await crowd.stakes.create(config, "0.25tokens", "10d")

    asyncio.run(small())
    w = workers("topper", keypair=operator, cli=True, extra=("--stake", "min", "--stake-duration", "30d", "--yes"))
    text = w.wait_log("event=entered", timeout=120)
    # 0.25 tokens at 10d weigh 499,999: no lock within the bounds is enough (8x), tokens are
    assert "stake    short: stake 0.750002 tokens more for 10d (weight 499,999 < min 2,000,000)" in text
    assert (f"staking  extend the stake's lock to 30d and add 0.25 tokens to it under staking config {config}: "
            f"weight 499,999 -> 2,000,000") in text
    stake = asyncio.run(_stake_of(localnet.url, config, operator.pubkey()))
    assert (stake.amount, stake.duration, stake.weight) == (500_000, 30 * DAY, MIN)


@pytest.mark.parametrize("extra, answer, error", [
    (("--stake", "0.5tokens", "--stake-duration", "30d"), "n\n", "error: staking declined: nothing was sent (the node did not start)"),
    (("--stake", "0.5tokens", "--stake-duration", "30d"), "", "error: staking declined: nothing was sent (the node did not start)"),
    (("--stake", "5tokens", "--yes"), None, "error: not enough tokens to stake: 5 tokens (5000000 base units) of mint {mint}, "
                                             "{node} holds 3 tokens; nothing was sent"),
    (("--stake", "1tokens", "--yes"), None, "error: --stake 1tokens would bring the weight to 1,000,000, still below the market's "
                                            "minimum 2,000,000: locked 2s it takes at least 2 tokens (2000000 base units; --stake min)"),
    (("--stake", "1tokens", "--stake-duration", "90d", "--yes"), None, "error: a lock of 90d is outside staking config {config}'s "
                                                                       "bounds: 2s to 30d"),
], ids=["answer-n", "no-answer", "too-few-tokens", "too-small", "lock-out-of-bounds"])
def test_node_start_refusals_send_nothing(localnet, wallets, staked, operator, workers, extra, answer, error):
    market, config = staked
    sent_before = asyncio.run(_signatures(localnet.url, operator.pubkey()))
    w = workers("refused", keypair=operator, cli=True, extra=extra, answer=answer)
    assert w.proc.wait(120) == 1
    text = w.log()
    assert error.format(mint=wallets.mint, node=operator.pubkey(), config=config) in text.splitlines()
    if answer is not None:
        assert "staking  stake 0.5 tokens locked 30d" in text and "Stake as above? [y/n] (n):" in text
    assert "joining the market" not in text
    assert asyncio.run(_stake_of(localnet.url, config, operator.pubkey())) is None
    assert asyncio.run(_signatures(localnet.url, operator.pubkey())) == sent_before
