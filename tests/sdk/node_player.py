"""Plays a node with the SDK's `work` and `finish` (until the worker exists)."""

from __future__ import annotations

import asyncio

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client.crowd import CrowdClient


class NodePlayer:
    def __init__(self, url: str, keypair: Keypair) -> None:
        self.url = url
        self.keypair = keypair

    @property
    def pubkey(self) -> Pubkey:
        return self.keypair.pubkey()

    def _run(self, method: str, *args):
        async def go():
            async with CrowdClient(self.url, self.keypair) as node:
                return await getattr(node, method)(*args)

        return asyncio.run(go())

    def work(self, market: Pubkey | str):
        return self._run("work", market)

    def finish(self, job: Pubkey | str, result: bytes):
        return self._run("finish", job, result)
