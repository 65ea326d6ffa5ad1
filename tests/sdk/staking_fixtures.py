"""Fixtures for the staking SDK and CLI tests, on the session's live localnet (conftest.py):
a staking config with lock bounds short enough to watch an unlock end (2 s to 30 days,
1x to 4x), stakers funded with tokens, and a proxy that counts sendTransaction requests, so
that a refusal is shown to have sent nothing. Test modules import these by name."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.keypair import write_keypair
from crowdcompute.client.staking.program import DAY, StakingSettings

from .dropping_proxy import DroppingProxy

SHORT_LOCKS = StakingSettings(min_duration=2, max_duration=30 * DAY)
TOKENS = 1_000_000  # base units of one token (the session mint has 6 decimals)


@dataclass
class Wallet:
    keypair: Keypair
    path: str

    @property
    def pubkey(self) -> Pubkey:
        return self.keypair.pubkey()


@pytest.fixture(scope="session")
def counting_proxy(localnet):
    """Forwards every request to the localnet and counts sendTransaction requests."""
    proxy = DroppingProxy(localnet.url, drop=0)
    yield proxy
    proxy.stop()


@pytest.fixture
def new_wallet(wallets, tmp_path):
    """Makes funded wallets (SOL and `tokens` base units of the session mint) with keypair files."""
    def make(tokens: int = 1_000 * TOKENS, name: str = "wallet") -> Wallet:
        keypair = asyncio.run(wallets.fund(tokens=tokens))
        return Wallet(keypair, str(write_keypair(keypair, tmp_path / f"{name}-{keypair.pubkey()}.json")))

    return make


@pytest.fixture
def staking_config(localnet, wallets, new_wallet) -> tuple[Pubkey, Wallet]:
    """A fresh config for the session mint (SHORT_LOCKS) and its authority."""
    authority = new_wallet(name="authority")

    async def init() -> Pubkey:
        async with CrowdClient(localnet.url, authority.keypair) as crowd:
            return await crowd.stakes.init_config(wallets.mint, settings=SHORT_LOCKS)

    return asyncio.run(init()), authority


async def wait_for_clock(crowd: CrowdClient, when: int, timeout: float = 20) -> None:
    """Until the cluster's clock reaches `when` (the localnet's follows wall time)."""
    deadline = time.monotonic() + timeout
    while await crowd.chain.clock() < when:
        assert time.monotonic() < deadline, f"the cluster clock did not reach {when}"
        await asyncio.sleep(0.2)
