"""CrowdClient on a market with staking, against the live localnet (real HTTP): post and
extend pay the network fee, work passes the node's stake, reclaim slashes the silent node
and brings the bounty to the caller, all from the market's settings; bad settings are
refused before anything is sent."""

from __future__ import annotations

import asyncio
import time

import pytest

from crowdcompute.client import MarketSettings
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import InsufficientFunds, InvalidInput
from crowdcompute.client.staking.program import StakingProgram
from crowdcompute.common.token import associated_token_address
from crowdcompute.sandbox import digest

MIN_LOCK = 14 * 86_400


def staked_settings(config) -> MarketSettings:
    return MarketSettings(price_per_second=10, max_timeout=600, retention=1, max_attempts=2, min_stake=1_000, slash_penalty=400,
                          reclaim_bounty_bps=2_500, fee_bps=100, staking_config=config)


def test_a_staked_market_from_post_to_reclaim(localnet, wallets, poster):
    config = asyncio.run(wallets.staking_config())
    address, _ = asyncio.run(wallets.market(staked_settings(config)))
    node = asyncio.run(wallets.fund(tokens=5_000))
    caller = asyncio.run(wallets.fund())
    staking = StakingProgram()

    async def go():
        async with CrowdClient(localnet.url, node) as as_node:
            stake = staking.stake_ix(owner=node.pubkey(), config=config, owner_token=associated_token_address(node.pubkey(), wallets.mint),
                                     amount=2_000, duration=MIN_LOCK)
            await as_node.send([stake], [node])
            await as_node.work(address)  # admitted by its stake: it waits
        async with CrowdClient(localnet.url, poster[0]) as as_poster:
            before = await as_poster.token_balance(wallets.mint)
            posted = await as_poster.post(address, digest=digest("staked"), timeout=1)
            paid = before - await as_poster.token_balance(wallets.mint)
            await as_poster.extend(posted.job, 1)  # runs on the node: +10, +1 of fee
            extended = before - await as_poster.token_balance(wallets.mint) - paid
        return posted, paid, extended

    posted, paid, extended = asyncio.run(go())
    assert (paid, extended) == (10 + 1, 10 + 1)  # 1% of 10, rounded up
    time.sleep(3.5)  # the job's 2 s timeout passes on the localnet's wall clock

    async def reclaim():
        async with CrowdClient(localnet.url, caller) as as_caller:
            signature = await as_caller.reclaim(posted.job)
            events = {e.name: e.data for e in await as_caller.events(signature)}
            return events, await as_caller.token_balance(wallets.mint)

    events, bounty = asyncio.run(reclaim())
    assert events["NodeSlashed"]["slashed"] == 400 and events["NodeSlashed"]["bounty"] == 100
    assert bounty == 100


def test_settings_that_need_a_config_are_refused_before_sending(localnet, wallets, poster):
    async def go():
        async with CrowdClient(localnet.url, poster[0]) as crowd:
            with pytest.raises(InvalidInput, match="needs a staking config"):
                await crowd.open_market(wallets.mint, MarketSettings(price_per_second=1, max_timeout=60, fee_bps=10))

    asyncio.run(go())


def test_post_counts_the_fee_in_what_the_payer_needs(localnet, wallets):
    config = asyncio.run(wallets.staking_config())
    address, _ = asyncio.run(wallets.market(staked_settings(config)))
    poor = asyncio.run(wallets.fund(tokens=6_000))  # the deposit, not its 1% fee

    async def go():
        async with CrowdClient(localnet.url, poor) as crowd:
            with pytest.raises(InsufficientFunds) as caught:
                await crowd.post(address, digest=digest("fee"), timeout=600)
            return caught.value

    error = asyncio.run(go())
    assert (error.needed, error.available) == (6_060, 6_000) and "network fee 60" in str(error)
