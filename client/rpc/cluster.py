"""Which cluster to talk to, as the Solana CLI names them: a moniker or a URL.

`-u localnet` (or `localhost`, `l`) is http://127.0.0.1:8899, `devnet` (`d`), `testnet` (`t`),
`mainnet-beta` (`m`); anything with a scheme is used as given. The PubSub URL is derived as
the Solana CLI derives it: http -> ws, https -> wss, and for an explicit port the next one
(8899 -> 8900), which is where `crowd localnet` and solana-test-validator listen.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Cluster", "MONIKERS", "COMMITMENTS", "DEFAULT_COMMITMENT"]

MONIKERS = {
    "localnet": "http://127.0.0.1:8899",
    "localhost": "http://127.0.0.1:8899",
    "l": "http://127.0.0.1:8899",
    "devnet": "https://api.devnet.solana.com",
    "d": "https://api.devnet.solana.com",
    "testnet": "https://api.testnet.solana.com",
    "t": "https://api.testnet.solana.com",
    "mainnet-beta": "https://api.mainnet-beta.solana.com",
    "m": "https://api.mainnet-beta.solana.com",
}
# `crowd localnet`'s default ports: JSON-RPC, and the storage server it starts beside it.
LOCALNET_RPC_PORT = 8899
LOCALNET_STORAGE_PORT = 8901
COMMITMENTS = ("processed", "confirmed", "finalized")
# Reads and waits default to confirmed: finalized trails by ~31 slots on a real cluster (and
# on the localnet), and processed can be rolled back.
DEFAULT_COMMITMENT = "confirmed"


@dataclass(frozen=True)
class Cluster:
    url: str
    ws_url: str

    @classmethod
    def resolve(cls, name_or_url: str | None = None, ws_url: str | None = None) -> Cluster:
        """A moniker or an http(s) URL; ValueError with one clear line for anything else."""
        value = (name_or_url or "localnet").strip()
        url = MONIKERS.get(value, value)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            names = ", ".join(sorted({"localnet", "devnet", "testnet", "mainnet-beta"}))
            raise ValueError(f"not a cluster URL or moniker: {value!r} (use {names} or http(s)://host[:port])")
        return cls(url, ws_url or websocket_url(url))

    @property
    def local_storage_url(self) -> str | None:
        """Where `crowd localnet` serves storage when this is its default address
        (127.0.0.1:8899 or localhost:8899 -> port 8901 on the same host); None otherwise:
        a poster and a worker of one localnet then share content without configuration."""
        parts = urlsplit(self.url)
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and parts.port == LOCALNET_RPC_PORT:
            return f"http://{parts.hostname}:{LOCALNET_STORAGE_PORT}"
        return None

    @property
    def moniker(self) -> str | None:
        for name in ("localnet", "devnet", "testnet", "mainnet-beta"):
            if MONIKERS[name] == self.url:
                return name
        return None


def websocket_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    netloc = parts.netloc
    if parts.port is not None:
        host = netloc.rsplit(":", 1)[0]
        netloc = f"{host}:{parts.port + 1}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, ""))
