"""crowd job post (by digest) | get | list | why | cancel | extend | end | clean, against the
live localnet, with a node played through the SDK."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

from solders.keypair import Keypair

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.keypair import write_keypair
from crowdcompute.sandbox import digest

from .conftest import SETTINGS


def post(crowd, market, *extra: str, name: str = "job"):
    result = crowd("job", "post", "--market", str(market), "--digest", digest(name).hex(), "--timeout", "60s", "--output", "json", *extra)
    assert result.code == 0, result.err
    return result.json()


def test_post_get_why_cancel(crowd, market, poster, wallets):
    address, _ = market
    first = post(crowd, address, name="a")
    assert first["status"] == "queued" and first["deposit"] == 600
    second = post(crowd, address, name="b")

    got = crowd("job", "get", second["job"], "--output", "json").json()
    assert got["status"] == "queued" and got["definition"] == digest("b").hex() and got["poster"] == str(poster[0].pubkey())
    assert "queued" in crowd("job", "get", second["job"]).out

    why = crowd("job", "why", second["job"], "--output", "json").json()
    assert why["queue_position"] == 2 and why["nodes_waiting"] == 0
    assert why["reasons"][0] == "1 job ahead of it in the queue (it is number 2 of 2)"
    assert any(r.startswith("no node is waiting for work") for r in why["reasons"])
    assert "1 job ahead of it" in crowd("job", "why", second["job"]).out

    tokens_before = crowd("balance", "--mint", str(wallets.mint), "--output", "json").json()["tokens"]
    cancelled = crowd("job", "cancel", first["job"], "--output", "json")
    assert cancelled.json()["refunded"] == 600
    assert crowd("balance", "--mint", str(wallets.mint), "--output", "json").json()["tokens"] == tokens_before + 600
    assert crowd("job", "get", first["job"]).error_line == f"error: job not found: {first['job']}"
    # The second job moved up.
    assert crowd("job", "why", second["job"], "--output", "json").json()["queue_position"] == 1


def test_run_extend_end_clean(crowd, market, node):
    address, _ = market
    posted = post(crowd, address)
    extended = crowd("job", "extend", posted["job"], "--by", "1m", "--output", "json").json()
    assert extended["timeout"] == 120 and extended["deposit"] == 1200
    node.work(address)
    running = crowd("job", "get", posted["job"], "--output", "json").json()
    assert running["status"] == "running" and running["node"] == str(node.pubkey)
    why = crowd("job", "why", posted["job"], "--output", "json").json()
    assert why["status"] == "running" and why["reasons"][0].startswith(f"it is running on node {node.pubkey}")
    # A running job cannot be cancelled: refused before sending.
    assert crowd("job", "cancel", posted["job"]).error_line == f"error: job {posted['job']} is running: only a queued job can be cancelled"

    ended = crowd("job", "end", posted["job"], "--output", "json")
    assert ended.code == 0, ended.err
    assert ended.json()["node"] == str(node.pubkey)
    assert crowd("job", "get", posted["job"], "--output", "json").json()["status"] == "ended"
    assert crowd("job", "end", posted["job"]).error_line == f"error: job {posted['job']} is ended: only a running job can be ended"

    time.sleep(2.5)  # the market's retention is 1 s (the program compares it with the Clock)
    cleaned = crowd("job", "clean", posted["job"], "--output", "json")
    assert cleaned.code == 0, cleaned.err
    assert crowd("job", "get", posted["job"]).error_line == f"error: job not found: {posted['job']}"


def test_clean_before_retention_is_the_programs_error(crowd, localnet, wallets, node, poster):
    from crowdcompute.client import MarketSettings

    address, _ = asyncio.run(wallets.market(MarketSettings(price_per_second=1, max_timeout=600, retention=3600)))
    posted = post(crowd, address)
    node.work(address)
    node.finish(posted["job"], digest("result"))
    refused = crowd("job", "clean", posted["job"])
    assert refused.code == 1
    assert refused.error_line == "error: RetentionNotReached (6033): Settled job is still within the market's retention"


def test_wait_shows_each_state_and_the_cost(crowd, market, node, localnet, poster):
    address, _ = market
    job = Keypair()

    def play_node():
        # Wait for the post to land, then take the job and finish it.
        async def go():
            async with CrowdClient(localnet.url) as c:
                for _ in range(200):
                    try:
                        await c.get_job(job.pubkey())
                        return
                    except Exception:
                        await asyncio.sleep(0.05)

        asyncio.run(go())
        node.work(address)
        node.finish(job.pubkey(), digest("done"))

    player = threading.Thread(target=play_node)
    player.start()
    async def post_and_wait():
        async with CrowdClient(localnet.url, poster[0]) as c:
            posted = await c.post(address, digest=digest("w"), timeout=60, job=job)
            seen = []
            view = await c.wait_for(posted.job, "done", timeout=30, on_change=lambda v: seen.append(v.status if v else "closed"))
            return view, seen

    view, seen = asyncio.run(post_and_wait())
    player.join(30)
    assert view.status == "done" and view.node == node.pubkey
    assert seen[0] == "queued" and seen[-1] == "done"
    # The CLI's --wait on a job the node takes and finishes: the final line has status, node and pay.
    job2 = Keypair()
    job = job2
    player = threading.Thread(target=play_node)
    player.start()
    # --digest with a fixed job keypair is not a CLI option: post through the SDK, wait with get.
    asyncio.run(_post_with(localnet.url, poster[0], address, job2))
    player.join(30)
    got = crowd("job", "get", str(job2.pubkey()), "--output", "json").json()
    assert got["status"] == "done" and got["result"] == digest("done").hex()


async def _post_with(url, keypair, market, job):
    async with CrowdClient(url, keypair) as c:
        await c.post(market, digest=digest("w2"), timeout=60, job=job)


def test_list_filters(crowd, market, node, wallets, localnet):
    address, _ = market
    queued = post(crowd, address, name="q1")
    running = post(crowd, address, name="r1")
    node.work(address)  # takes the oldest: q1
    done = post(crowd, address, name="d1")
    node.work(address)  # takes r1
    node.finish(queued["job"], digest("res"))  # q1 done
    # now: q1 done, r1 running, d1 queued
    def listed(*extra):
        result = crowd("job", "list", "--market", str(address), "--output", "json", *extra)
        assert result.code == 0, result.err
        return {row["address"]: row["status"] for row in result.json()}

    assert listed() == {queued["job"]: "done", running["job"]: "running", done["job"]: "queued"}
    assert listed("--state", "queued") == {done["job"]: "queued"}
    assert listed("--state", "running") == {running["job"]: "running"}
    assert listed("--state", "done") == {queued["job"]: "done"}
    assert listed("--state", "ended") == {}
    assert listed("--node", str(node.pubkey)) == {queued["job"]: "done", running["job"]: "running"}
    assert listed("--node", str(node.pubkey), "--state", "done") == {queued["job"]: "done"}
    assert listed("--mine") == listed()
    assert listed("--poster", str(Keypair().pubkey())) == {}
    everywhere = crowd("job", "list", "--node", str(node.pubkey), "--output", "json").json()
    assert {r["address"] for r in everywhere} == {queued["job"], running["job"]}
    assert "3 jobs" in crowd("job", "list", "--market", str(address)).out


def test_post_errors_send_nothing(crowd, market, wallets, localnet, tmp_path):
    address, _ = market
    unknown = str(Keypair().pubkey())

    def jobs_of_market():
        return crowd("job", "list", "--market", str(address), "--output", "json").json()

    assert crowd("job", "post", "--market", unknown, "--digest", "11" * 32).error_line == f"error: market not found: {unknown}"
    too_long = crowd("job", "post", "--market", str(address), "--digest", "11" * 32, "--timeout", "2h")
    assert too_long.error_line == f"error: timeout 7200s is over market {address}'s maximum of 3600s"
    assert crowd("job", "post", "--market", str(address), "--digest", "11" * 32, "--timeout", "soon").error_line.startswith("error: not a duration")
    assert crowd("job", "post", "--market", str(address), "--digest", "zz").error_line == "error: not a CID or a 64-hex digest: 'zz'"
    assert crowd("job", "post", "--market", str(address)).error_line.startswith("error: give one of: a definition FILE")
    missing = crowd("job", "post", str(tmp_path / "nope.json"), "--market", str(address))
    assert missing.error_line == f"error: no such file: {tmp_path / 'nope.json'}"
    cheap = crowd("job", "post", "--market", str(address), "--digest", "11" * 32, "--max-price", "5")
    assert cheap.error_line == f"error: market {address} asks 10 per second, above your maximum of 5"

    # A wallet with SOL but no tokens, and one with tokens but no SOL.
    no_tokens = asyncio.run(wallets.fund())
    result = crowd("job", "post", "--market", str(address), "--digest", "11" * 32, "--timeout", "60s",
                   keypair=str(write_keypair(no_tokens, tmp_path / "poor.json")))
    assert result.code == 1
    assert result.error_line == (f"error: not enough tokens: the deposit is 600 (10/s x 60s) of mint {wallets.mint}, "
                                 f"{no_tokens.pubkey()} holds 0")
    no_sol = asyncio.run(wallets.fund(sol=0, tokens=10_000))
    result = crowd("job", "post", "--market", str(address), "--digest", "11" * 32, "--timeout", "60s",
                   keypair=str(write_keypair(no_sol, tmp_path / "nosol.json")))
    assert result.code == 1 and result.error_line.startswith("error: not enough SOL: this needs 0.00")
    assert jobs_of_market() == []
    assert crowd("balance", "--mint", str(wallets.mint), "--output", "json", keypair=str(tmp_path / "nosol.json")).json()["tokens"] == 10_000


def test_post_within_the_payers_network_fee_bound(crowd, wallets):
    config = asyncio.run(wallets.staking_config())
    address, _ = asyncio.run(wallets.market(replace(SETTINGS, fee_bps=100, staking_config=config)))

    def balance() -> int:
        return crowd("balance", "--mint", str(wallets.mint), "--output", "json").json()["tokens"]

    def post_with(bound: str):
        return crowd("job", "post", "--market", str(address), "--digest", "11" * 32, "--timeout", "60s", "--max-fee-bps", bound)

    before = balance()
    assert post_with("99").error_line == f"error: market {address} charges a network fee of 100 bps, above your maximum of 99 bps"
    for bad in ("-1", "10001"):
        assert post_with(bad).error_line == f"error: a maximum network fee is 0 to 10,000 basis points, not {bad}"
    assert crowd("job", "list", "--market", str(address), "--output", "json").json() == [] and balance() == before

    posted = post(crowd, address, "--max-fee-bps", "100")  # the bound equal to the market's fee
    assert (posted["deposit"], posted["fee"]) == (600, 6) and balance() == before - 606
    shown = post_with("1000")
    assert shown.code == 0 and "(deposit 600, network fee 6, definition " in shown.out
    assert balance() == before - 2 * 606


def test_unknown_job(crowd):
    unknown = str(Keypair().pubkey())
    for verb in ("get", "why", "cancel", "end", "clean"):
        result = crowd("job", verb, unknown)
        assert (result.code, result.error_line) == (1, f"error: job not found: {unknown}"), verb
    assert crowd("job", "extend", unknown, "--by", "1m").error_line == f"error: job not found: {unknown}"


def test_why_names_a_closing_market_a_stake_minimum_and_a_price_rise(crowd, wallets, tmp_path):
    from crowdcompute.client import MarketSettings

    config = asyncio.run(wallets.staking_config())
    settings = MarketSettings(price_per_second=10, max_timeout=600, min_stake=500, staking_config=config)
    address, authority = asyncio.run(wallets.market(settings))
    authority_file = str(write_keypair(authority, tmp_path / "authority.json"))
    posted = post(crowd, address)
    assert crowd("market", "update", str(address), "--price", "20", keypair=authority_file).code == 0
    assert crowd("market", "close", str(address), keypair=authority_file).code == 0
    why = crowd("job", "why", posted["job"], "--output", "json").json()
    assert why["market_state"] == "closing" and why["min_stake"] == 500
    reasons = "\n".join(why["reasons"])
    assert "the market is closing" in reasons
    assert f"a stake weight of at least 500 (staking config {config}), which limits who can serve it" in reasons
    assert "the market's price rose to 20/s since it was posted at 10/s" in reasons
    # Closing: a new post is refused before sending.
    refused = crowd("job", "post", "--market", str(address), "--digest", "22" * 32)
    assert refused.error_line == f"error: market {address} is closing: it takes no new jobs"
