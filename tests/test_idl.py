"""The checked-in IDLs (jobs and staking) are what the interface crates generate, and they
agree with the programs, Anchor.toml, the localnet keypairs and Anchor's hashing rules."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from solders.keypair import Keypair

from crowdcompute.client.jobs.layout import JOB_LEN, MARKET_HEADER_LEN, NODE_PROFILE_LEN, QUEUE_ENTRY_LEN
from crowdcompute.localnet.runtime.svm import repo_root

ROOT = repo_root()
PROGRAMS = ["jobs", "staking"]
IDLS = {name: (json.loads((ROOT / "idl" / f"{name}.json").read_text()), json.loads((ROOT / "idl" / f"{name}.spec.json").read_text()))
        for name in PROGRAMS}
LEGACY, SPEC = IDLS["jobs"]


def sighash(namespace: str, name: str) -> list[int]:
    return list(hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8])


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("fmt, suffix", [("legacy", "json"), ("spec", "spec.json")])
def test_checked_in_idl_is_what_the_generator_prints(name, fmt, suffix):
    printed = subprocess.run(
        ["cargo", "run", "--quiet", "-p", "idl-gen", "--", fmt, name],
        cwd=ROOT / "programs", check=True, capture_output=True, text=True,
    ).stdout
    path = f"{name}.{suffix}"
    assert printed == (ROOT / "idl" / path).read_text(), f"idl/{path} is stale: run `bash scripts/gen-idl.sh`"


def test_generator_prints_jobs_by_default():
    printed = subprocess.run(["cargo", "run", "--quiet", "-p", "idl-gen", "--", "legacy"], cwd=ROOT / "programs", check=True,
                             capture_output=True, text=True).stdout
    assert printed == (ROOT / "idl" / "jobs.json").read_text()


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_id_agrees_everywhere(name):
    legacy, spec = IDLS[name]
    keypair = Keypair.from_bytes(bytes(json.loads((ROOT / "keys" / "localnet" / f"{name}-keypair.json").read_text())))
    anchor = tomllib.loads((ROOT / "Anchor.toml").read_text())
    address = str(keypair.pubkey())
    for cluster in ("localnet", "devnet", "mainnet"):
        assert anchor["programs"][cluster][name] == address
    assert legacy["metadata"]["address"] == address
    assert spec["address"] == address


def test_program_ids_differ():
    assert IDLS["jobs"][0]["metadata"]["address"] != IDLS["staking"][0]["metadata"]["address"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_spec_discriminators_follow_anchors_rule(name):
    LEGACY, SPEC = IDLS[name]
    for instruction in SPEC["instructions"]:
        assert instruction["discriminator"] == sighash("global", instruction["name"])
    for account in SPEC["accounts"]:
        assert account["discriminator"] == sighash("account", account["name"])
    for event in SPEC["events"]:
        assert event["discriminator"] == sighash("event", event["name"])


@pytest.mark.parametrize("name", PROGRAMS)
def test_both_formats_describe_the_same_program(name):
    LEGACY, SPEC = IDLS[name]
    assert [snake(i["name"]) for i in LEGACY["instructions"]] == [i["name"] for i in SPEC["instructions"]]
    for legacy, spec in zip(LEGACY["instructions"], SPEC["instructions"]):
        assert [(snake(a["name"]), a["isMut"], a["isSigner"], a.get("isOptional", False)) for a in legacy["accounts"]] == [
            (a["name"], a.get("writable", False), a.get("signer", False), a.get("optional", False)) for a in spec["accounts"]
        ]
        assert [snake(a["name"]) for a in legacy["args"]] == [a["name"] for a in spec["args"]]
    assert [e["name"] for e in LEGACY["events"]] == [e["name"] for e in SPEC["events"]]
    assert LEGACY["errors"] == SPEC["errors"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_error_codes_are_unique_and_start_at_6000(name):
    LEGACY, _ = IDLS[name]
    codes = [error["code"] for error in LEGACY["errors"]]
    names = [error["name"] for error in LEGACY["errors"]]
    assert codes == list(range(6000, 6000 + len(codes)))
    assert len(set(names)) == len(names)


SIZES = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "i64": 8, "publicKey": 32}


def borsh_size(ty, types) -> int:
    if isinstance(ty, str):
        return SIZES[ty]
    if "array" in ty:
        inner, count = ty["array"]
        return borsh_size(inner, types) * count
    if "vec" in ty:
        return 4  # the length prefix; the elements follow the header
    definition = types[ty["defined"]]
    if definition["type"]["kind"] == "enum":
        return 1
    return sum(borsh_size(field["type"], types) for field in definition["type"]["fields"])


def test_python_layout_sizes_match_the_idl():
    types = {t["name"]: t for t in LEGACY["types"] + LEGACY["accounts"]}
    assert borsh_size({"defined": "Market"}, types) == MARKET_HEADER_LEN
    assert borsh_size({"defined": "Job"}, types) == JOB_LEN
    assert borsh_size({"defined": "QueueEntry"}, types) == QUEUE_ENTRY_LEN
    assert borsh_size({"defined": "NodeProfile"}, types) == NODE_PROFILE_LEN


def test_every_instruction_and_account_is_known_to_anchorpy(jobs_program):
    program = jobs_program.program
    assert set(program.instruction.keys()) == {i["name"] for i in SPEC["instructions"]}
    assert set(program.account.keys()) == {"Market", "Job", "NodeProfile"}


def test_staking_account_sizes_match_the_interface():
    legacy, _ = IDLS["staking"]
    types = {t["name"]: t for t in legacy["types"] + legacy["accounts"]}
    # staking-interface state.rs: Config (348) and Stake (202) after the discriminator.
    assert borsh_size({"defined": "Config"}, types) == 348
    assert borsh_size({"defined": "Stake"}, types) == 202


def test_every_staking_instruction_and_account_is_known_to_anchorpy():
    from crowdcompute.client.staking.program import StakingProgram

    program = StakingProgram().program
    _, spec = IDLS["staking"]
    assert set(program.instruction.keys()) == {i["name"] for i in spec["instructions"]}
    assert set(program.account.keys()) == {"Config", "Stake"}


# The jobs program's optional accounts (Anchor's convention: absent = the program's id, or
# left off the end), as the program reads them: the staking accounts each instruction needs
# only for a market with staking.
OPTIONAL = {
    "open_market": ["staking_config"],
    "post": ["staking_program", "staking_config", "rewards_pool"],
    "work": ["stake", "staking_program", "staking_config", "slasher"],
    "leave": ["staking_program", "stake", "slasher"],
    "finish": ["staking_program", "stake", "slasher"],
    "quit": ["staking_program", "staking_config", "stake", "stake_vault", "slash_destination", "slasher"],
    "reclaim": ["staking_program", "staking_config", "stake", "stake_vault", "slash_destination", "bounty_to", "slasher"],
    "end": ["staking_program", "stake", "slasher"],
    "extend": ["staking_program", "staking_config", "rewards_pool"],
}


def test_optional_accounts_are_the_staking_ones_and_come_last():
    for instruction in SPEC["instructions"]:
        flags = [a.get("optional", False) for a in instruction["accounts"]]
        optional = [a["name"] for a in instruction["accounts"] if a.get("optional")]
        assert optional == OPTIONAL.get(instruction["name"], []), instruction["name"]
        # Every optional account follows every required one (the macro refuses otherwise).
        assert flags == sorted(flags), instruction["name"]
    for instruction in IDLS["staking"][1]["instructions"]:
        assert not any(a.get("optional") for a in instruction["accounts"]), instruction["name"]


def test_legacy_idl_marks_optional_accounts_as_anchor_does():
    """Anchor's legacy IDL writes `isOptional` only for optional accounts; anchorpy reads it."""
    from anchorpy_core.idl import Idl

    for instruction in LEGACY["instructions"]:
        for account in instruction["accounts"]:
            assert account.get("isOptional", True) is True
    idl = Idl.from_json((ROOT / "idl" / "jobs.json").read_text())
    work = next(i for i in idl.instructions if i.name == "work")
    assert [(a.name, a.is_optional) for a in work.accounts] == [("node", None), ("market", None), ("clock", None), ("stake", True),
                                                                ("stakingProgram", True), ("stakingConfig", True), ("slasher", True)]
