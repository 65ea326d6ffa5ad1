"""The storage server (`start_storage_server`, the kubo-RPC subset over HTTP) on a free
port, in a thread with its own event loop: what the SDK, worker and benchmark sessions
run beside their localnet."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path


class StorageThread:
    def __init__(self, folder: Path) -> None:
        from crowdcompute.client.storage import start_storage_server

        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(start_storage_server(folder, "127.0.0.1", 0))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10), "storage server did not start"
        self.url = self.server.url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
