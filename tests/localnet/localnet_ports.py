"""Free ports for a localnet (JSON-RPC on p, PubSub on p + 1). Standard library only: also
imported by scripts/solana_py_suite_plugin.py, which runs in solana-py's own environment."""

from __future__ import annotations

import socket


def free_port_pair() -> int:
    """A port p with p and p + 1 both free."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")
