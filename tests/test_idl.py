"""The checked-in IDL is what the interface crate generates, and it agrees with the program,
Anchor.toml, the localnet keypair and Anchor's hashing rules."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from solders.keypair import Keypair

from crowdcompute.client.layout import JOB_LEN, MARKET_HEADER_LEN, QUEUE_ENTRY_LEN
from crowdcompute.localnet.svm import repo_root

ROOT = repo_root()
LEGACY = json.loads((ROOT / "idl" / "jobs.json").read_text())
SPEC = json.loads((ROOT / "idl" / "jobs.spec.json").read_text())


def sighash(namespace: str, name: str) -> list[int]:
    return list(hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8])


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@pytest.mark.parametrize("fmt, path", [("legacy", "jobs.json"), ("spec", "jobs.spec.json")])
def test_checked_in_idl_is_what_the_generator_prints(fmt, path):
    printed = subprocess.run(
        ["cargo", "run", "--quiet", "-p", "idl-gen", "--", fmt],
        cwd=ROOT / "programs", check=True, capture_output=True, text=True,
    ).stdout
    assert printed == (ROOT / "idl" / path).read_text(), f"idl/{path} is stale: run `bash scripts/gen-idl.sh`"


def test_program_id_agrees_everywhere():
    keypair = Keypair.from_bytes(bytes(json.loads((ROOT / "keys" / "localnet" / "jobs-keypair.json").read_text())))
    anchor = tomllib.loads((ROOT / "Anchor.toml").read_text())
    address = str(keypair.pubkey())
    assert anchor["programs"]["localnet"]["jobs"] == address
    assert LEGACY["metadata"]["address"] == address
    assert SPEC["address"] == address


def test_spec_discriminators_follow_anchors_rule():
    for instruction in SPEC["instructions"]:
        assert instruction["discriminator"] == sighash("global", instruction["name"])
    for account in SPEC["accounts"]:
        assert account["discriminator"] == sighash("account", account["name"])
    for event in SPEC["events"]:
        assert event["discriminator"] == sighash("event", event["name"])


def test_both_formats_describe_the_same_program():
    assert [snake(i["name"]) for i in LEGACY["instructions"]] == [i["name"] for i in SPEC["instructions"]]
    for legacy, spec in zip(LEGACY["instructions"], SPEC["instructions"]):
        assert [(snake(a["name"]), a["isMut"], a["isSigner"]) for a in legacy["accounts"]] == [
            (a["name"], a.get("writable", False), a.get("signer", False)) for a in spec["accounts"]
        ]
        assert [snake(a["name"]) for a in legacy["args"]] == [a["name"] for a in spec["args"]]
    assert [e["name"] for e in LEGACY["events"]] == [e["name"] for e in SPEC["events"]]
    assert LEGACY["errors"] == SPEC["errors"]


def test_error_codes_are_unique_and_start_at_6000():
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


def test_every_instruction_and_account_is_known_to_anchorpy(jobs_program):
    program = jobs_program.program
    assert set(program.instruction.keys()) == {i["name"] for i in SPEC["instructions"]}
    assert set(program.account.keys()) == {"Market", "Job"}
