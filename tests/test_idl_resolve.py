"""What the IDLs let an Anchor client find by itself: every PDA account resolved from its
`pda` seeds alone equals the SDK's derivation (client/*/pda.py, the program's seeds), every
fixed `address` is the right program or sysvar, and the published account sizes are the
interface's, enough to open a market."""

from __future__ import annotations

import json
import re

import pytest
from anchorpy_core.idl import Idl
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import CreateAccountParams, create_account
from solders.sysvar import CLOCK, RENT

from crowdcompute.client.jobs import pda as jobs_pda
from crowdcompute.client.jobs.layout import JOB_SIZE, MARKET_HEADER_LEN, MAX_CAPACITY, MAX_URL_LEN, NODE_PROFILE_SIZE, QUEUE_ENTRY_LEN, market_size
from crowdcompute.client.staking import pda as staking_pda
from crowdcompute.common.token import TOKEN_PROGRAM_ID
from crowdcompute.localnet.runtime.svm import repo_root
from tests.conftest import SETTINGS

ROOT = repo_root()
PROGRAMS = ["jobs", "staking"]
LEGACY = {name: json.loads((ROOT / "idl" / f"{name}.json").read_text()) for name in PROGRAMS}
SPEC = {name: json.loads((ROOT / "idl" / f"{name}.spec.json").read_text()) for name in PROGRAMS}
JOBS_ID = Pubkey.from_string(SPEC["jobs"]["address"])
STAKING_ID = Pubkey.from_string(SPEC["staking"]["address"])


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


# One consistent chain state: every account an instruction names, by name, and the account
# fields seeds may read (`market.staking_config` is the config the instructions list, ...).
WORLD = {name: Pubkey.new_unique() for name in ("authority", "mint", "market", "job", "node", "owner", "config", "staking_config",
                                               "slasher_program")}
FIELDS = {"market.staking_config": WORLD["staking_config"], "job.node": WORLD["node"], "config.slasher_program": WORLD["slasher_program"]}

# Each PDA account, by name, as the SDK derives it, and the instructions whose IDL must give
# its seeds. The jobs program's `leave` gives none for `stake`: it is the waiting entry's
# node's, not the signer's when the market authority removes it.
EXPECTED_PDAS = {
    "jobs": {
        "vault": (lambda: jobs_pda.vault_address(WORLD["market"], JOBS_ID)[0],
                  {"open_market", "close_market", "post", "cancel", "finish", "quit", "reclaim", "extend", "end"}),
        "slasher": (lambda: staking_pda.slasher_address(JOBS_ID)[0], {"work", "leave", "finish", "quit", "reclaim", "end"}),
        "stake": (lambda: staking_pda.stake_address(WORLD["staking_config"], WORLD["node"], STAKING_ID)[0],
                  {"work", "finish", "quit", "reclaim", "end"}),
        "rewards_pool": (lambda: staking_pda.rewards_pool_address(WORLD["staking_config"], STAKING_ID)[0], {"post", "extend"}),
        "stake_vault": (lambda: staking_pda.stake_vault_address(WORLD["staking_config"], STAKING_ID)[0], {"quit", "reclaim"}),
        "profile": (lambda: jobs_pda.node_profile_address(WORLD["node"], JOBS_ID)[0], {"set_node_profile", "close_node_profile"}),
    },
    "staking": {
        "config": (lambda: staking_pda.config_address(WORLD["authority"], WORLD["mint"], STAKING_ID)[0], {"init"}),
        "vault": (lambda: staking_pda.stake_vault_address(WORLD["config"], STAKING_ID)[0], {"init", "stake", "topup", "withdraw", "slash"}),
        "rewards_pool": (lambda: staking_pda.rewards_pool_address(WORLD["config"], STAKING_ID)[0], {"init", "deposit_fees", "claim", "sweep"}),
        "stake": (lambda: staking_pda.stake_address(WORLD["config"], WORLD["owner"], STAKING_ID)[0],
                  {"stake", "topup", "extend", "unstake", "withdraw", "restake", "close", "claim"}),
        "locker": (lambda: staking_pda.slasher_address(WORLD["slasher_program"])[0], {"lock"}),
    },
}

FIXED = {"system_program": SYSTEM_PROGRAM_ID, "token_program": TOKEN_PROGRAM_ID, "clock": CLOCK, "rent": RENT,
         "staking_program": STAKING_ID}


def spec_seed(seed: dict, names: set[str]) -> bytes:
    """A seed of the spec format, as an Anchor client reads it."""
    if seed["kind"] == "const":
        return bytes(seed["value"])
    if seed["kind"] == "account":
        path = seed["path"]
        if "." in path:
            assert path.split(".")[0] in names and seed["account"] in ("Market", "Job", "Config"), seed
            return bytes(FIELDS[path])
        assert path in names, f"seed {path!r} is not an account of the instruction"
        return bytes(WORLD[path])
    raise AssertionError(f"unexpected seed {seed}")  # no instruction derives from an argument


def legacy_seed(seed: dict, names: set[str]) -> bytes:
    """A seed of the legacy format (Anchor 0.29): typed, camel-case paths."""
    if seed["kind"] == "const":
        return seed["value"].encode() if seed["type"] == "string" else bytes(Pubkey.from_string(seed["value"]))
    assert seed["kind"] == "account" and seed["type"] == "publicKey", seed
    path = ".".join(snake(part) for part in seed["path"].split("."))
    if "." in path:
        assert path.split(".")[0] in names, seed
        return bytes(FIELDS[path])
    assert path in names, seed
    return bytes(WORLD[path])


def resolve_spec(pda: dict, names: set[str], program_id: Pubkey) -> Pubkey:
    seeds = [spec_seed(seed, names) for seed in pda["seeds"]]
    program = Pubkey(spec_seed(pda["program"], names)) if "program" in pda else program_id
    return Pubkey.find_program_address(seeds, program)[0]


def resolve_legacy(pda: dict, names: set[str], program_id: Pubkey) -> Pubkey:
    seeds = [legacy_seed(seed, names) for seed in pda["seeds"]]
    program = Pubkey(legacy_seed(pda["programId"], names)) if "programId" in pda else program_id
    return Pubkey.find_program_address(seeds, program)[0]


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_pda_resolves_from_the_spec_idl_to_the_sdks_address(name):
    program_id = Pubkey.from_string(SPEC[name]["address"])
    found: dict[str, set[str]] = {}
    for instruction in SPEC[name]["instructions"]:
        names = {account["name"] for account in instruction["accounts"]}
        for account in instruction["accounts"]:
            if "pda" not in account:
                continue
            found.setdefault(account["name"], set()).add(instruction["name"])
            derive, _ = EXPECTED_PDAS[name][account["name"]]
            assert resolve_spec(account["pda"], names, program_id) == derive(), (instruction["name"], account["name"])
    assert found == {account: instructions for account, (_, instructions) in EXPECTED_PDAS[name].items()}


@pytest.mark.parametrize("name", PROGRAMS)
def test_legacy_idl_gives_the_same_pdas(name):
    program_id = Pubkey.from_string(LEGACY[name]["metadata"]["address"])
    for legacy, spec in zip(LEGACY[name]["instructions"], SPEC[name]["instructions"]):
        names = {account["name"] for account in spec["accounts"]}
        for legacy_account, spec_account in zip(legacy["accounts"], spec["accounts"]):
            assert ("pda" in legacy_account) == ("pda" in spec_account), (spec["name"], spec_account["name"])
            if "pda" in spec_account:
                assert resolve_legacy(legacy_account["pda"], names, program_id) == resolve_spec(spec_account["pda"], names, program_id)


@pytest.mark.parametrize("name", PROGRAMS)
def test_anchorpy_reads_the_legacy_seeds(name):
    idl = Idl.from_json((ROOT / "idl" / f"{name}.json").read_text())
    pdas = [account.pda for instruction in idl.instructions for account in instruction.accounts if account.pda is not None]
    assert len(pdas) == sum("pda" in a for i in LEGACY[name]["instructions"] for a in i["accounts"]) > 0
    assert [c.name for c in idl.constants] == [c["name"] for c in LEGACY[name]["constants"]]


@pytest.mark.parametrize("name", PROGRAMS)
def test_fixed_accounts_carry_their_address(name):
    for instruction in SPEC[name]["instructions"]:
        for account in instruction["accounts"]:
            if account["name"] in FIXED:
                assert Pubkey.from_string(account["address"]) == FIXED[account["name"]], (instruction["name"], account["name"])
            else:
                assert "address" not in account, (instruction["name"], account["name"])
    for instruction in LEGACY[name]["instructions"]:
        for account in instruction["accounts"]:
            # The legacy format has no `address`: the docs say it.
            if snake(account["name"]) in FIXED:
                assert f"Address: {FIXED[snake(account['name'])]}." in account["docs"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_optional_accounts_say_what_to_pass(name):
    for idl, flag in ((SPEC[name], "optional"), (LEGACY[name], "isOptional")):
        for instruction in idl["instructions"]:
            for account in instruction["accounts"]:
                assert any("pass this program's id" in line for line in account["docs"]) == bool(account.get(flag)), account["name"]


def constants(name: str, fmt: dict) -> dict[str, int]:
    return {c["name"]: int(c["value"]) for c in fmt[name]["constants"]}


def test_published_sizes_are_the_interfaces():
    for fmt in (SPEC, LEGACY):
        jobs, staking = constants("jobs", fmt), constants("staking", fmt)
        assert jobs == {"MARKET_HEADER_SIZE": 8 + MARKET_HEADER_LEN, "QUEUE_ENTRY_SIZE": QUEUE_ENTRY_LEN, "MAX_CAPACITY": MAX_CAPACITY,
                        "JOB_SIZE": JOB_SIZE, "NODE_PROFILE_SIZE": NODE_PROFILE_SIZE, "MAX_URL_LEN": MAX_URL_LEN}
        for capacity in (1, 16, MAX_CAPACITY):
            assert jobs["MARKET_HEADER_SIZE"] + capacity * jobs["QUEUE_ENTRY_SIZE"] == market_size(capacity)
        # staking-interface state.rs: Config (348) and Stake (202) after the discriminator.
        assert staking == {"CONFIG_SIZE": 8 + 348, "STAKE_SIZE": 8 + 202}
    docs = " ".join(next(i for i in SPEC["jobs"]["instructions"] if i["name"] == "open_market")["docs"])
    assert "MARKET_HEADER_SIZE + capacity * QUEUE_ENTRY_SIZE" in docs


def test_a_market_sized_from_the_idl_constants_opens(sandbox):
    sizes = constants("jobs", SPEC)
    capacity = 5
    space = sizes["MARKET_HEADER_SIZE"] + capacity * sizes["QUEUE_ENTRY_SIZE"]
    authority = sandbox.actor()
    market = Keypair()
    create = create_account(CreateAccountParams(from_pubkey=authority.pubkey, to_pubkey=market.pubkey(),
                                                lamports=sandbox.chain.rent_exempt(space), space=space, owner=JOBS_ID))
    opened = sandbox.send([create, sandbox.jobs.open_market(authority.pubkey, market.pubkey(), sandbox.mint, SETTINGS)],
                          [authority.keypair, market])
    sandbox.must(opened)
    assert space == market_size(capacity) == len(sandbox.chain.account(market.pubkey()).data)
    assert sandbox.market_state(market.pubkey()).authority == authority.pubkey


def test_staking_accounts_have_the_published_sizes():
    from crowdcompute.sandbox.staking import StakingSandbox

    sizes = constants("staking", SPEC)
    box = StakingSandbox()
    config, _, outcome = box.init()
    box.must(outcome)
    owner = box.actor(tokens=1_000)
    box.must(box.stake(config, owner, 1_000, box.config_state(config).min_duration))
    assert len(box.chain.account(config).data) == sizes["CONFIG_SIZE"]
    assert len(box.chain.account(box.staking.stake(config, owner.pubkey)).data) == sizes["STAKE_SIZE"]
