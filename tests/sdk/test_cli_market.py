"""crowd market create | get | list | update | close, happy and error paths."""

from __future__ import annotations

import asyncio

from solders.keypair import Keypair

from crowdcompute.client.keypair import write_keypair
from crowdcompute.sandbox import digest


def test_market_life(crowd, wallets):
    created = crowd("market", "create", "--mint", str(wallets.mint), "--price", "7", "--max-timeout", "30m", "--capacity", "8",
                    "--retention", "1s", "--output", "json")
    assert created.code == 0, created.err
    market = created.json()["address"]
    assert created.json()["price_per_second"] == 7 and created.json()["max_timeout"] == 1800 and created.json()["capacity"] == 8

    got = crowd("market", "get", market, "--output", "json").json()
    assert got["state"] == "open" and got["waiting"] == [] and got["retention"] == 1
    assert "price per second" in crowd("market", "get", market).out

    listed = crowd("market", "list", "--mint", str(wallets.mint), "--output", "json").json()
    assert market in [m["address"] for m in listed]

    updated = crowd("market", "update", market, "--price", "9", "--max-timeout", "2h", "--output", "json")
    assert updated.code == 0, updated.err
    assert updated.json()["price_per_second"] == 9 and updated.json()["max_timeout"] == 7200

    closed = crowd("market", "close", market, "--output", "json")
    assert closed.json() == {"market": market, "state": "closed"}
    assert crowd("market", "get", market).error_line == f"error: market not found: {market}"


def test_close_with_a_job_makes_it_closing(crowd, market, poster, localnet, tmp_path):
    address, authority = market
    from crowdcompute.client.crowd import CrowdClient

    async def post():
        async with CrowdClient(localnet.url, poster[0]) as c:
            return (await c.post(address, digest=digest("closing"), timeout=60)).job

    asyncio.run(post())
    authority_file = str(write_keypair(authority, tmp_path / "authority.json"))
    result = crowd("market", "close", str(address), keypair=authority_file)
    assert result.code == 0 and "is closing" in result.out
    assert crowd("market", "get", str(address), "--output", "json").json()["state"] == "closing"


def test_errors(crowd, market, wallets):
    address, _ = market
    unknown = str(Keypair().pubkey())
    assert crowd("market", "get", unknown).error_line == f"error: market not found: {unknown}"
    assert crowd("market", "get", "xyz").error_line == "error: not a market address: 'xyz'"
    # The poster is not the authority: refused before sending.
    not_authority = crowd("market", "update", str(address), "--price", "1")
    assert not_authority.code == 1 and "is not the authority of market" in not_authority.error_line
    assert crowd("market", "update", str(address)).error_line.startswith("error: nothing to update")
    bad_duration = crowd("market", "create", "--mint", str(wallets.mint), "--price", "1", "--max-timeout", "ten minutes")
    assert bad_duration.error_line == "error: not a duration: 'ten minutes' (use e.g. 90s, 10m, 1h, 1h30m, 2d)"
    no_mint = crowd("market", "create", "--mint", unknown, "--price", "1")
    assert no_mint.error_line == f"error: mint not found: {unknown}"
    # A setting the program refuses comes back with the IDL's name and message.
    refused = crowd("market", "create", "--mint", str(wallets.mint), "--price", "1", "--max-attempts", "99")
    assert refused.code == 1 and refused.error_line.startswith("error: SettingInvalid (6020): Market setting out of range")
