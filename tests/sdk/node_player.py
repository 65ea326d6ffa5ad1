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


def run_job(url: str, keypair: Keypair, storage_url: str, job: Pubkey | str, *, stdout: str, exit_code: int = 0,
            outputs: tuple = ()) -> bytes:
    """What a worker does with a job it took: fetch the definition by the digest on-chain
    (verified), "run" it, store the result bundle and finish with its digest."""
    from crowdcompute.client.bundle import Bundle, Log, OpRecord, timestamp
    from crowdcompute.client.jobspec import parse
    from crowdcompute.client.storage import Cid

    async def go() -> bytes:
        async with CrowdClient(url, keypair, storage=storage_url) as node:
            j = await node.get_job(job)
            store = await node.storage()
            import json

            definition = parse(json.loads(await store.get_bytes(Cid(j.definition))))
            now = timestamp(1_760_000_000.0)
            ops = tuple(OpRecord(op.id, exit_code, None, now, now, Log.capture(stdout.encode()), Log(), {}, outputs) for op in definition.ops)
            bundle = Bundle(str(j.address), str(node.pubkey), str(Cid(j.definition)), "succeeded" if exit_code == 0 else "failed", now, now, ops)
            cid = await store.add_bytes(bundle.to_bytes())
            await node.finish(j.address, cid.digest)
            return cid.digest

    return asyncio.run(go())
