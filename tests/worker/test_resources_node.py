"""A node daemon (real executor) with --hf-endpoint and --prefetch on a live localnet: the
market's resource is held before any job, a posted job reads it mounted read-only, and the
bundle the poster fetches says it was cached."""

from __future__ import annotations

import asyncio
import hashlib
import json

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import parse
from crowdcompute.worker.resources.cache import LABEL_NODE

from .helpers import job, op
from .resource_servers import HubServer

WEIGHTS = b"\x11" * 50_000


def test_a_node_prefetches_the_markets_resource_and_jobs_use_it(localnet, storage, wallets, market, workers, test_image,
                                                                 tmp_path, docker_api):
    hub = HubServer()
    hub.add("market/model", {"model.safetensors": WEIGHTS}, lfs={"model.safetensors"})
    wanted = [{"type": "HF", "repo": "market/model", "target": "/models"}]
    # the market's list, published to storage by its authority: nodes name it by CID
    async def publish():
        async with CrowdClient(localnet.url, None, storage=storage.url) as crowd:
            return str(await (await crowd.storage()).add_bytes(json.dumps(wanted).encode()))

    listing = asyncio.run(publish())
    node = workers("res", executor=None, extra=("--hf-endpoint", hub.url, "--prefetch", listing,
                                                "--resource-cache", "1MiB"))
    try:
        node.wait_log("event=entered", timeout=90)
        node.wait_log("prefetch hf://market/model@main: held", timeout=60)
        poster = asyncio.run(wallets.fund(tokens=1_000_000))
        definition = job(op("read", ["sh", "-c", "sha256sum /models/model.safetensors; touch /models/x || echo read-only"],
                            resources=wanted))

        async def post():
            async with CrowdClient(localnet.url, poster, storage=storage.url) as crowd:
                posted = await crowd.post(market, timeout=120, definition=parse(definition))
                view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120)
                return view, (await crowd.result_bundle(posted.job))[2]

        view, bundle = asyncio.run(post())
        assert view.status == "done" and bundle.status == "succeeded", bundle.render()
        out = bundle.ops[0].stdout.text
        assert out.startswith(hashlib.sha256(WEIGHTS).hexdigest()) and out.endswith("read-only\n")
        (record,) = bundle.resources
        assert (record.type, record.source, record.size, record.cached) == ("HF", "hf://market/model@main", len(WEIGHTS), True)
        assert record.digest == hub.repos["market/model"].commit
        assert hub.gets == {"model.safetensors": 1}  # once, at start
    finally:
        node.stop()
        hub.stop()
        for row in docker_api.volumes(filters={"label": [f"{LABEL_NODE}={node.pubkey}"]}).get("Volumes") or []:
            docker_api.remove_volume(row["Name"], force=True)
