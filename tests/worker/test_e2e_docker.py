"""End to end on a live localnet with real containers: two node daemons (real executor,
crowdcompute/busybox:local), two posters, a missing image and a failing op settled with
the reason, a GPU job refused by a node without GPUs, a node killed mid-job and restarted."""

from __future__ import annotations

import asyncio

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.jobspec import parse

from .helpers import job, op


def test_two_nodes_two_posters_real_containers(localnet, storage, wallets, market, workers, test_image):
    a = workers("a", executor=None)
    b = workers("b", executor=None)
    a.wait_log("event=entered", timeout=90)
    b.wait_log("event=entered", timeout=90)
    posters = [asyncio.run(wallets.fund(tokens=1_000_000)) for _ in range(2)]
    definitions = {
        "hello": job(op("hello", ["echo", "hello from a container"])),
        "pipeline": job({**op("make", ["sh", "-c", "echo 42"]), "results": {"answer": "[0-9]+"}},
                        {**op("use", ["sh", "-c", "echo got %%ops.make.results.answer%%"]), "execution": {"depends_on": ["make"]}}),
        "fails": job(op("bad", ["sh", "-c", "exit 7"])),
        "no-image": job(op("ghost", ["true"], image="crowdcompute/does-not-exist:none")),
        "gpu": job(op("train", ["true"], gpu=True)),
    }

    async def post_all():
        async def one(keypair, name, definition):
            async with CrowdClient(localnet.url, keypair, storage=storage.url) as crowd:
                posted = await crowd.post(market, timeout=120, definition=parse(definition))
                view = await crowd.wait_for(posted.job, ["done", "ended", "failed"], timeout=120)
                return name, view, (await crowd.result_bundle(posted.job))[2]

        return await asyncio.gather(*(one(posters[i % 2], name, d) for i, (name, d) in enumerate(definitions.items())))

    results = {name: (view, bundle) for name, view, bundle in asyncio.run(post_all())}
    assert all(view.status == "done" for view, _ in results.values())
    assert {view.job.node for view, _ in results.values()} <= {a.pubkey, b.pubkey}
    assert results["hello"][1].status == "succeeded" and results["hello"][1].ops[0].stdout.text == "hello from a container\n"
    pipeline = results["pipeline"][1]
    assert pipeline.status == "succeeded" and [o.stdout.text for o in pipeline.ops] == ["42\n", "got 42\n"]
    assert results["fails"][1].status == "failed" and results["fails"][1].ops[0].exit_code == 7
    ghost = results["no-image"][1].ops[0]
    assert ghost.exit_code is None and "does-not-exist" in ghost.error
    gpu = results["gpu"][1].ops[0]
    assert "GPU" in gpu.error and "none" in gpu.error

    # a node killed mid-job and restarted with its folder: the job is re-run, settled once
    async def post_slow():
        async with CrowdClient(localnet.url, posters[0], storage=storage.url) as crowd:
            return (await crowd.post(market, timeout=120, definition=parse(job(op("slow", ["sh", "-c", "sleep 2; echo done"]))))).job

    address = asyncio.run(post_slow())
    runner = None
    for _ in range(300):
        runner = next((w for w in (a, b) if f"job={address} event=start" in w.log()), None)
        if runner:
            break
        asyncio.run(asyncio.sleep(0.1))
    assert runner is not None
    runner.kill9()
    runner.start()

    async def wait():
        async with CrowdClient(localnet.url, posters[0], storage=storage.url) as crowd:
            view = await crowd.wait_for(address, ["done", "ended", "failed"], timeout=120)
            return view, (await crowd.result_bundle(address))[2]

    view, bundle = asyncio.run(wait())
    assert view.status == "done" and bundle.status == "succeeded" and bundle.ops[0].stdout.text == "done\n"
    assert runner.log().count(f"job={address} event=finished") + (a if runner is b else b).log().count(f"job={address} event=finished") == 1
