"""Which storage a client uses when none is given: a localnet at its default address gets
the storage server `crowd localnet` runs beside it, so a poster and a worker of one localnet
share content without configuration; $CROWD_STORAGE and an explicit choice come first."""

from __future__ import annotations

from crowdcompute.client import CrowdClient
from crowdcompute.client.rpc.cluster import Cluster


def test_localnet_default_address_uses_its_storage_server():
    assert Cluster.resolve("localnet").local_storage_url == "http://127.0.0.1:8901"
    assert Cluster.resolve("http://localhost:8899").local_storage_url == "http://localhost:8901"
    assert Cluster.resolve("http://127.0.0.1:18999").local_storage_url is None  # not crowd localnet's address
    assert Cluster.resolve("devnet").local_storage_url is None


def test_spec_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("CROWD_STORAGE", raising=False)
    assert CrowdClient("localnet").storage_spec() == "http://127.0.0.1:8901"
    assert CrowdClient("devnet").storage_spec() is None  # open_storage's default: the local folder
    monkeypatch.setenv("CROWD_STORAGE", str(tmp_path))
    assert CrowdClient("localnet").storage_spec() == str(tmp_path)
    assert CrowdClient("localnet", storage="http://127.0.0.1:5001").storage_spec() == "http://127.0.0.1:5001"
