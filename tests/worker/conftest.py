"""Fixtures for the worker tests: one live localnet and one storage server per session
(real HTTP and websockets), a payment mint, funded posters and nodes, fresh markets."""

from __future__ import annotations

import asyncio

import pytest

from crowdcompute.client import MarketSettings

from localnet.localnet_helpers import ThreadServer
from sdk.chain_setup import Wallets

from .helpers import StorageThread, Worker

# Short retention so settled jobs can be cleaned; two reclaims before a refund.
SETTINGS = MarketSettings(price_per_second=10, max_timeout=600, min_stake=0, retention=1, max_attempts=2)


@pytest.fixture(scope="session")
def localnet(tmp_path_factory) -> ThreadServer:
    srv = ThreadServer(tmp_path_factory.mktemp("worker-ledger"), slot_ms=50)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def storage(tmp_path_factory) -> StorageThread:
    srv = StorageThread(tmp_path_factory.mktemp("worker-storage"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def wallets(localnet: ThreadServer) -> Wallets:
    return asyncio.run(Wallets.create(localnet.url))


@pytest.fixture
def market(wallets: Wallets):
    return asyncio.run(wallets.market(SETTINGS))[0]


@pytest.fixture
def poster(wallets: Wallets):
    return asyncio.run(wallets.fund(tokens=10_000_000))


@pytest.fixture
def workers(tmp_path, localnet, storage, wallets, market):
    """start(name=..., **options) -> a running Worker on `market`; all killed at the end."""
    started: list[Worker] = []

    def start(name: str = "worker", keypair=None, **options) -> Worker:
        keypair = keypair or asyncio.run(wallets.fund())
        w = Worker(tmp_path, localnet.url, keypair, market, storage.url, name=name, **options)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
