"""Fixtures for the localnet tests: one server per session, reached over real sockets."""

from __future__ import annotations

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed

from .localnet_helpers import ThreadServer


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> ThreadServer:
    srv = ThreadServer(tmp_path_factory.mktemp("ledger"), slot_ms=100)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(server: ThreadServer) -> Client:
    return Client(server.url, commitment=Confirmed, timeout=20)


