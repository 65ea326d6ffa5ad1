"""`crowd stake ...` against a live localnet: every verb's happy path and JSON document, the
rich `show`, and the refusals: one `error:` line, exit 1, and no sendTransaction (counted
at a proxy in front of the localnet)."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.staking.program import DAY

from .cli_runner import Crowd
from .staking_fixtures import SHORT_LOCKS, TOKENS, counting_proxy, new_wallet, staking_config, wait_for_clock  # noqa: F401 - fixtures

STAKE_KEYS = {"address", "owner", "config", "mint", "decimals", "state", "amount", "duration", "multiplier", "multiplier_x", "weight", "backing",
              "share", "unlock", "rewards", "slashed", "now"}
CONFIG_KEYS = {"address", "authority", "mint", "decimals", "vault", "rewards_pool", "treasury", "slash_to", "slasher_program", "slasher",
               "min_duration", "max_duration", "min_multiplier", "max_multiplier", "total_staked", "total_weight", "stakes", "slashed",
               "rewards"}


def ok(result):
    assert result.code == 0, result.err
    return result.json() if result.out.startswith("{") else result


def test_init_create_topup_extend_claim_unstake_restake(capsys, localnet, wallets, new_wallet):
    authority, owner, depositor = new_wallet(name="authority"), new_wallet(name="owner"), new_wallet(name="depositor")
    crowd = Crowd(capsys, localnet.url, owner.path)

    made = ok(crowd("stake", "init", "--mint", str(wallets.mint), "--min-duration", "2s", "--max-duration", "30d",
                    "--max-multiplier", "4x", "--slash-to", "treasury", "--output", "json", keypair=authority.path))
    config = made["config"]
    assert set(config) == CONFIG_KEYS
    assert (config["authority"], config["mint"], config["decimals"], config["slash_to"], config["stakes"]) == \
        (str(authority.pubkey), str(wallets.mint), 6, "treasury", 0)
    assert (config["min_duration"], config["max_duration"], config["min_multiplier"], config["max_multiplier"]) == (2, 30 * DAY, 10**6, 4 * 10**6)
    address = config["address"]
    by = ("--config", address)

    created = ok(crowd("stake", "create", "1.5tokens", "--duration", "15d", *by, "--output", "json"))
    assert created["staked"] == 1_500_000 and set(created["stake"]) == STAKE_KEYS
    stake = created["stake"]
    assert (stake["state"], stake["amount"], stake["duration"], stake["owner"], stake["unlock"]) == ("staked", 1_500_000, 15 * DAY, str(owner.pubkey), None)
    assert stake["multiplier"] == SHORT_LOCKS.multiplier(15 * DAY) and stake["weight"] == SHORT_LOCKS.weight(1_500_000, 15 * DAY)
    assert stake["share"] == 1.0

    topped = ok(crowd("stake", "topup", "500000", *by, "--output", "json"))
    assert topped["added"] == 500_000 and topped["stake"]["amount"] == 2 * TOKENS
    by_authority = ("--authority", str(authority.pubkey), "--mint", str(wallets.mint))
    longer = ok(crowd("stake", "extend", "--by", "5d", *by_authority, "--output", "json"))
    assert longer["stake"]["duration"] == 20 * DAY and longer["stake"]["weight"] == SHORT_LOCKS.weight(2 * TOKENS, 20 * DAY)
    text = ok(crowd("stake", "extend", "--duration", "30d", *by))
    assert text.out.strip() == "locked for 30d now: multiplier 4x, weight 8,000,000"

    async def deposit():
        async with CrowdClient(localnet.url, depositor.keypair) as c:
            await c.stakes.deposit_fees(address, 12_345)

    asyncio.run(deposit())
    shown = ok(crowd("stake", "show", *by, "--output", "json"))
    assert set(shown) == {"config", "owner", "stake"} and shown["owner"] == str(owner.pubkey)
    # The whole deposit over one stake, less the fraction of a unit the 64.64 division drops.
    assert shown["stake"]["rewards"] == {"claimable": 12_344, "claimed": 0}
    assert shown["config"]["rewards"] == {"deposited": 12_345, "claimed": 0, "unowned": 0, "swept": 0, "in_pool": 12_345}
    table = ok(crowd("stake", "show", *by)).out
    for row in ("weight", "8,000,000 (100.00% of the config's 8,000,000)", "multiplier", "4x", "claimable rewards",
                "0.012344 tokens (12,344 base units)", "curve", "locks 2s to 30d, multiplier 1x to 4x", "slashes go to", "the treasury"):
        assert row in table, table

    claimed = ok(crowd("stake", "claim", *by, "--output", "json"))
    assert claimed["claimed"] == shown["stake"]["rewards"]["claimable"]
    assert claimed["stake"]["rewards"] == {"claimable": 0, "claimed": 12_344}

    unstaked = ok(crowd("stake", "unstake", *by, "--output", "json"))
    unlock = unstaked["stake"]["unlock"]
    assert unstaked["stake"]["state"] == "unlocking" and unstaked["stake"]["weight"] == 0
    assert unlock["end"] == unlock["start"] + 30 * DAY and unlock["base"] == 2 * TOKENS and unlock["withdrawn"] == 0
    progress = ok(crowd("stake", "show", *by)).out
    for row in ("░░░░░░░░░░░░░░░░░░░░ 0.0%: ", " of 2 tokens", "fully unlocked", "withdrawable", "unlocking: no weight"):
        assert row in progress, progress

    restaked = ok(crowd("stake", "restake", *by, "--output", "json"))
    assert (restaked["stake"]["state"], restaked["stake"]["weight"], restaked["stake"]["unlock"]) == ("staked", 8 * TOKENS, None)


def test_withdraw_and_close(capsys, localnet, wallets, new_wallet, staking_config):
    config, _ = staking_config
    owner = new_wallet()
    crowd = Crowd(capsys, localnet.url, owner.path)
    by = ("--config", str(config))
    ok(crowd("stake", "create", "3000", "-d", "2s", *by))
    unlock = ok(crowd("stake", "unstake", *by, "--output", "json"))["stake"]["unlock"]

    async def until_unlocked():
        async with CrowdClient(localnet.url) as c:
            await wait_for_clock(c, unlock["end"])

    asyncio.run(until_unlocked())
    withdrawn = ok(crowd("stake", "withdraw", *by, "--output", "json"))
    assert withdrawn["withdrawn"] == 3000 and withdrawn["stake"]["amount"] == 0
    assert withdrawn["stake"]["unlock"]["withdrawn"] == 3000 and withdrawn["stake"]["unlock"]["withdrawable"] == 0
    closed = ok(crowd("stake", "close", *by, "--output", "json"))
    assert closed["state"] == "closed" and closed["config"] == str(config)
    after = ok(crowd("stake", "show", *by, "--output", "json"))
    assert after["stake"] is None and after["config"]["stakes"] == 0
    assert f"{owner.pubkey} has no stake under this config" in ok(crowd("stake", "show", *by)).out


def test_by_market_and_show_without_a_wallet(capsys, localnet, wallets, market, new_wallet):
    """--market names the market's staking config (refused for a market that names none);
    `show OWNER` needs no wallet."""
    from crowdcompute.client import MarketSettings

    plain, _ = market
    owner = new_wallet()
    crowd = Crowd(capsys, localnet.url, owner.path)
    missing = crowd("stake", "show", "--market", str(plain))
    assert missing.code == 1 and missing.error_line == f"error: market {plain} names no staking config"
    address, market_authority, config = asyncio.run(wallets.staked_market(MarketSettings(price_per_second=10, max_timeout=600)))
    ok(crowd("stake", "create", "1tokens", "-d", "14d", "--market", str(address)))
    nobody = Crowd(capsys, localnet.url, None)  # no -k: OWNER is given, no wallet is needed
    seen = ok(nobody("stake", "show", str(owner.pubkey), "--market", str(address), "--output", "json"))
    assert seen["stake"]["amount"] == TOKENS and seen["stake"]["multiplier"] == 10**6
    assert seen["config"]["authority"] == str(market_authority.pubkey())


def test_refusals_are_one_line_and_send_nothing(capsys, localnet, wallets, new_wallet, staking_config, counting_proxy):
    config, _ = staking_config
    owner = new_wallet(tokens=5_000)
    crowd = Crowd(capsys, counting_proxy.url, owner.path)
    by = ("--config", str(config))
    unknown = str(Keypair().pubkey())

    def refused(*argv: str, line: str, code: int = 1) -> None:
        sends = counting_proxy.sends
        result = crowd("stake", *argv)
        assert (result.code, result.error_line) == (code, line)
        as_json = crowd("stake", *argv, "--output", "json")
        assert as_json.code == code and as_json.json() == {"error": line.removeprefix("error: ")}
        assert counting_proxy.sends == sends, f"{argv} sent a transaction"

    bounds = f"outside staking config {config}'s bounds: 2s to 30d"
    refused("create", "1000", "-d", "ten days", *by, line="error: not a duration: 'ten days' (use e.g. 90s, 10m, 1h, 1h30m, 2d)")
    refused("create", "1000", "-d", "31d", *by, line=f"error: a lock of 31d is {bounds}")
    refused("create", "1000", "-d", "1s", *by, line=f"error: a lock of 1s is {bounds}")
    refused("create", "1.5", "-d", "30d", *by, line="error: not an amount: '1.5' (base units like 1500000, or tokens like 1.5tokens)")
    refused("create", "5001", "-d", "30d", *by,
            line=f"error: not enough tokens to stake: 0.005001 (5001 base units) of mint {wallets.mint}, {owner.pubkey} holds 0.005")
    refused("create", "1000", "-d", "30d", "--config", unknown, line=f"error: staking config not found: {unknown}")
    refused("create", "1000", "-d", "30d", line="error: name the staking config one way: its address, a market, or its authority and mint")
    refused("create", "1000", "-d", "30d", *by, "--market", unknown,
            line="error: name the staking config one way: its address, a market, or its authority and mint")
    refused("withdraw", *by, line=f"error: {owner.pubkey} has no stake under staking config {config}")

    ok(crowd("stake", "create", "1000", "-d", "10d", *by))
    refused("extend", "-d", "9d", *by, line="error: a lock can only be extended: the stake is locked for 10d, 9d is shorter")
    refused("extend", "--by", "21d", *by, line=f"error: a lock of 31d is {bounds}")
    refused("topup", "4001", *by, line=f"error: not enough tokens to top up with: 0.004001 (4001 base units) of mint {wallets.mint}, "
                                       f"{owner.pubkey} holds 0.004")
    refused("withdraw", *by, line="error: the stake is locked (staked): unstake it first, then withdraw as it unlocks")
    refused("claim", *by, line=f"error: no rewards to claim yet under staking config {config}")
    refused("close", *by, line="error: the stake still holds 0.001 tokens: unstake it, then withdraw as it unlocks, then close it")
    ok(crowd("stake", "unstake", *by))
    nothing = crowd("stake", "withdraw", *by)
    assert nothing.code == 1 and nothing.error_line.startswith("error: nothing has unlocked yet: 0 of 0.001 tokens so far, all by ")
    refused("withdraw", *by, line=nothing.error_line)

    usage = crowd("stake", "extend", *by)  # argparse: --duration or --by
    assert usage.code == 2 and "one of the arguments --duration/-d --by is required" in usage.err


def test_help_names_every_verb(capsys):
    from crowdcompute.cli.main import main

    with pytest.raises(SystemExit):
        main(["stake", "--help"])
    text = capsys.readouterr().out
    for verb in ("create", "topup", "extend", "unstake", "withdraw", "restake", "claim", "close", "show", "init"):
        assert f"    {verb} " in text
    assert "--market MARKET" in text


def test_the_crowd_command_starts_without_anchorpy():
    """`crowd` imports every command's module to build its parser; the stake verbs must not
    pull in anchorpy (~0.2 s) there: `crowd localnet` starts in under half a second."""
    import subprocess
    import sys

    code = "import sys; from crowdcompute.cli.main import build_parser; build_parser(); print('anchorpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
