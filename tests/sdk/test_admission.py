"""A node's admission to a market over the live localnet: `crowd.stakes.admission` against
stakes made and changed through the SDK (the remedies it offers, taken, admit the node to
the base unit and the second), `crowd job why` naming the stake minimum and the caller's
own shortfall, and `crowd market get` showing the minimum and the staking config.

The market's staking config is the one `crowd.stakes.config_for_market` resolves (made by
the market's authority for its mint and named by the market when it opens): Wallets.staked_market."""

from __future__ import annotations

import asyncio

from crowdcompute.client import MarketSettings, SyncCrowdClient
from crowdcompute.client.crowd import CrowdClient

from .staking_fixtures import SHORT_LOCKS, TOKENS, new_wallet  # noqa: F401 - fixtures
from .test_cli_job import post

DAY = 86_400
MIN = 2_000_000  # weight: 2 tokens at 1x (SHORT_LOCKS: 2 s at 1x to 30 days at 4x)
SETTINGS = MarketSettings(price_per_second=10, max_timeout=600, min_stake=MIN, retention=1, max_attempts=2)


def test_admission_follows_the_stake_to_the_unit(localnet, wallets, new_wallet):
    market, _, config = asyncio.run(wallets.staked_market(SETTINGS, SHORT_LOCKS))
    node, other = new_wallet(tokens=1 * TOKENS), new_wallet(tokens=1 * TOKENS)
    near = SHORT_LOCKS.amount_for(MIN, 10 * DAY) - 1  # one base unit short at 10 days

    async def go():
        async with CrowdClient(localnet.url, node.keypair) as crowd, CrowdClient(localnet.url, other.keypair) as second:
            fresh = await crowd.stakes.admission(market, duration="10d")
            assert (fresh.required, fresh.admitted, fresh.config, fresh.stake, fresh.wallet_tokens) == (True, False, config, None, TOKENS)
            assert [(r.kind, r.duration, r.amount, r.affordable) for r in fresh.remedies] == [
                ("stake", 10 * DAY, near + 1, False), ("stake", 30 * DAY, 500_000, True)]
            assert fresh.summary == (f"stake {_tokens(near + 1)} tokens for 10d, or stake 0.5 tokens for 30d "
                                     f"(weight 0 < min 2,000,000; the wallet holds 1 tokens)")
            for wallet in (node, other):
                await wallets.fund(sol=0, tokens=TOKENS, keypair=wallet.keypair)
            for c in (crowd, second):
                await c.stakes.create(config, near, "10d")
            short = await crowd.stakes.admission(market)
            assert (short.admitted, short.weight, short.shortfall) == (False, MIN - 1, 1)
            extend, topup = short.remedies
            assert (topup.kind, topup.amount, topup.duration) == ("topup", 1, 10 * DAY)
            assert extend.kind == "extend" and extend.duration > 10 * DAY
            # each remedy, taken, admits: the extend on one stake, the one-unit top-up on the other
            await crowd.stakes.extend(config, extend.duration)
            await second.stakes.topup(config, topup.amount)
            by_lock, by_tokens = await crowd.stakes.admission(market), await second.stakes.admission(market)
            assert by_lock.admitted and by_lock.weight == extend.weight and by_lock.remedies == ()
            assert by_tokens.admitted and by_tokens.weight == topup.weight >= MIN
            # a second less would not have done: the program's weight at that lock is below
            assert SHORT_LOCKS.weight(near, extend.duration - 1) < MIN

            await crowd.stakes.unstake(config)
            unlocking = await crowd.stakes.admission(market)
            assert not unlocking.admitted and unlocking.stake.state == "unlocking"
            assert [(r.kind, r.amount) for r in unlocking.remedies] == [("restake", 0)]
            assert "the stake is unlocking" in unlocking.summary
            # a node reads anyone's admission (the explain path does, for the caller)
            assert (await crowd.stakes.admission(market, other.pubkey)).admitted

    asyncio.run(go())
    with SyncCrowdClient(localnet.url, node.keypair) as crowd:
        assert crowd.stakes.admission(market).to_json()["remedies"][0]["command"] == f"crowd stake restake --market {market}"


def _tokens(units: int) -> str:
    from crowdcompute.client.amounts import format_tokens

    return format_tokens(units, 6)


def test_a_market_without_minimum_needs_no_staking_reads(localnet, wallets, market, new_wallet):
    address, _ = market
    node = new_wallet()

    async def go():
        async with CrowdClient(localnet.url, node.keypair) as crowd:
            return await crowd.stakes.admission(address)

    free = asyncio.run(go())
    assert (free.required, free.admitted, free.config, free.summary) == (False, True, None, f"market {address} asks no stake")


def test_why_names_the_minimum_and_the_callers_shortfall(crowd, wallets, new_wallet):
    market, _, config = asyncio.run(wallets.staked_market(SETTINGS, SHORT_LOCKS))
    posted = post(crowd, market)
    minimum = (f"the market admits only nodes with a stake weight of at least 2,000,000 (staking config {config}), "
               f"which limits who can serve it")

    as_poster = crowd("job", "why", posted["job"], "--output", "json").json()
    assert as_poster["staking_config"] == str(config) and as_poster["min_stake"] == MIN and "your_admission" not in as_poster
    assert as_poster["reasons"][1:] == [f"no node is waiting for work in market {market}", minimum]

    operator = new_wallet(tokens=3 * TOKENS, name="operator")
    as_node = crowd("job", "why", posted["job"], "--output", "json", keypair=operator.path).json()
    assert as_node["reasons"][-1] == (f"your wallet {operator.pubkey} is short of stake to serve it: stake 2 tokens for 2s, "
                                      f"or stake 0.5 tokens for 30d (weight 0 < min 2,000,000)")
    assert as_node["your_admission"]["shortfall"] == MIN and as_node["your_admission"]["remedies"][0]["affordable"] is True
    assert f"your wallet {operator.pubkey} is short of stake" in crowd("job", "why", posted["job"], keypair=operator.path).out

    async def stake():
        async with CrowdClient(crowd.url, operator.keypair) as c:
            await c.stakes.create(config, "0.5tokens", "30d")

    asyncio.run(stake())
    staked = crowd("job", "why", posted["job"], "--output", "json", keypair=operator.path).json()
    assert staked["reasons"][-1] == (f"your wallet {operator.pubkey} has the stake (weight 2,000,000) but no node of it waits "
                                     f"in this market")


def test_market_get_shows_the_minimum_and_the_staking_config(crowd, wallets, market):
    staked, _, config = asyncio.run(wallets.staked_market(SETTINGS, SHORT_LOCKS))
    data = crowd("market", "get", str(staked), "--output", "json").json()
    assert data["min_stake"] == MIN
    assert data["staking"] == {"config": str(config), "exists": True, "mint": str(wallets.mint), "authority": data["staking"]["authority"], "min_duration": 2,
                               "max_duration": 30 * DAY, "min_multiplier": 1_000_000, "max_multiplier": 4_000_000}
    lines = crowd("market", "get", str(staked)).out.splitlines()
    assert any(line.split() == ["min", "stake", "2000000"] for line in lines)
    at = next(i for i, line in enumerate(lines) if line.split() == ["staking", "config", str(config)])
    assert lines[at + 1].strip() == "locks 2s to 30d, multiplier 1x to 4x"
    plain, _ = market
    assert crowd("market", "get", str(plain), "--output", "json").json()["staking"] is None
    assert "staking config" not in crowd("market", "get", str(plain)).out
