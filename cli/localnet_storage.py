"""`crowd localnet` runs the content-addressed storage server beside the chain.

A companion of the localnet (localnet/__main__.py): the chain server itself
(`python -m crowdcompute.localnet`) never imports the client; the `crowd` command joins
the two, so a developer gets a chain and a storage endpoint from one command.

Storage listens on --bind-address:--storage-port (default 8901, beside the chain's 8899
and 8900 and clear of a kubo daemon's 5001), over the folder --storage-dir (default: a
`storage` folder inside the ledger, so --reset empties both). --storage-port 0 turns it
off. aiohttp is imported on a worker thread after the RPC listens, so the chain answers
from its first moment (start-up stays well under half a second).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from pathlib import Path

from crowdcompute.client.storage.server_defaults import DEFAULT_PORT


class StorageCompanion:
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--storage-port", type=int, default=DEFAULT_PORT,
                            help=f"port of the storage server (kubo RPC subset + /ipfs gateway) started beside the chain; 0 = none; default {DEFAULT_PORT}")
        parser.add_argument("--storage-dir", type=Path, default=None, help="folder the storage server serves; default: LEDGER/storage")

    async def start(self, args: argparse.Namespace, net):
        if args.storage_port == 0:
            return None
        if not 0 < args.storage_port < 65536:
            raise ValueError(f"--storage-port must be between 1 and 65535 (0 = none), got {args.storage_port}")
        server_module = await asyncio.to_thread(importlib.import_module, "crowdcompute.client.storage.server")
        folder = args.storage_dir if args.storage_dir is not None else net.ledger / "storage"
        server = await server_module.start_storage_server(folder, args.bind_address, args.storage_port)
        if not args.quiet:
            print(f"localnet: storage {server.url}  folder {server.folder}", flush=True)
        return server.close
