"""Fixtures for the SDK and CLI tests: one live localnet per session (real HTTP and
websockets), a payment mint, wallets funded by the faucet and SPL Token, and a market."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair

from crowdcompute.client import MarketSettings
from crowdcompute.client.keypair import write_keypair

from tests.localnet.localnet_helpers import ThreadServer
from tests.storage.storage_thread import StorageThread

from .chain_setup import Wallets

SETTINGS = MarketSettings(price_per_second=10, max_timeout=3600, min_stake=0, retention=1, max_attempts=2)


@pytest.fixture(scope="session")
def localnet(tmp_path_factory) -> ThreadServer:
    srv = ThreadServer(tmp_path_factory.mktemp("sdk-ledger"), slot_ms=50)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def wallets(localnet: ThreadServer) -> Wallets:
    return asyncio.run(Wallets.create(localnet.url))


@pytest.fixture
def poster(wallets: Wallets, tmp_path) -> tuple[Keypair, str]:
    """A new wallet with SOL and 1,000,000 tokens, and its keypair file."""
    keypair = asyncio.run(wallets.fund(tokens=1_000_000))
    return keypair, str(write_keypair(keypair, tmp_path / "poster.json"))


@pytest.fixture
def market(wallets: Wallets, localnet: ThreadServer):
    """A fresh open market (SETTINGS, 16 entries) and its authority."""
    return asyncio.run(wallets.market(SETTINGS))


@pytest.fixture
def crowd(capsys, localnet, poster):
    """`crowd ...` as the poster, against the session's localnet."""
    from .cli_runner import Crowd

    return Crowd(capsys, localnet.url, poster[1])


@pytest.fixture
def node(wallets, localnet):
    from .node_player import NodePlayer

    return NodePlayer(localnet.url, asyncio.run(wallets.fund()))


@pytest.fixture(scope="session")
def storage(tmp_path_factory) -> StorageThread:
    srv = StorageThread(tmp_path_factory.mktemp("sdk-storage"))
    yield srv
    srv.stop()
