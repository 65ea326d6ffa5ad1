"""Fixtures for the localnet tests: one server per session, reached over real sockets."""

from __future__ import annotations

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed

from .localnet_helpers import ThreadServer


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> ThreadServer:
    """Finalizes immediately (finalized = confirmed): the tests on it are not about the
    root's lag, which test_localnet_commitment.py covers on servers of its own."""
    srv = ThreadServer(tmp_path_factory.mktemp("ledger"), slot_ms=100, finality_lag=None)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(server: ThreadServer) -> Client:
    return Client(server.url, commitment=Confirmed, timeout=20)


