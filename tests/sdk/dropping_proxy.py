"""A JSON-RPC proxy (real HTTP, aiohttp, in a thread) in front of the localnet that loses
sendTransaction requests: it answers with the transaction's signature, as an RPC node that
accepted it would, but forwards nothing. The localnet itself never drops a transaction; a
real cluster can (a leader that never gets it, a full queue)."""

from __future__ import annotations

import asyncio
import base64
import threading

import aiohttp
from aiohttp import web
from solders.transaction import Transaction


class DroppingProxy:
    def __init__(self, upstream: str, drop: int) -> None:
        """Drops the first `drop` sendTransaction requests (-1: every one)."""
        self.upstream = upstream
        self.drop = drop
        self.sends = 0
        self.dropped = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10), "proxy did not start"

    async def _start(self) -> None:
        self.session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if isinstance(body, dict) and body.get("method") == "sendTransaction":
            self.sends += 1
            if self.drop < 0 or self.dropped < self.drop:
                self.dropped += 1
                tx = Transaction.from_bytes(base64.b64decode(body["params"][0]))
                return web.json_response({"jsonrpc": "2.0", "result": str(tx.signatures[0]), "id": body.get("id")})
        async with self.session.post(self.upstream, json=body) as reply:
            return web.Response(body=await reply.read(), content_type="application/json")

    def stop(self) -> None:
        async def close() -> None:
            await self.session.close()
            await self.runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
