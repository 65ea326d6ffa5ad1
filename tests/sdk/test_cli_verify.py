"""`crowd verify` against a live localnet: our programs as deployed at genesis (match), a
program deployed by transactions as `solana program deploy` does (match on the same bytes,
padded program data included), a copy with one byte changed (mismatch, exit 1), addresses
that are no upgradeable program (one error line), `--hash`, and one real build from source."""

from __future__ import annotations

import hashlib
import tomllib

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.localnet.runtime.svm import deploy_dir, repo_root

from tests.localnet.localnet_helpers import rpc
from tests.localnet.upgradeable_loader import Deployer

from .cli_runner import Crowd

JOBS_SO = deploy_dir() / "jobs.so"
ANCHOR = tomllib.loads((repo_root() / "Anchor.toml").read_text())["programs"]["localnet"]
# An error message in the jobs program's read-only data: a letter changed there changes the
# bytes and nothing the loader checks or the program runs.
HARMLESS = b"Instruction discriminator is not one of"


@pytest.fixture
def crowd(capsys, localnet) -> Crowd:
    return Crowd(capsys, localnet.url)


@pytest.fixture(scope="module")
def deployer(localnet) -> Deployer:
    deployer = Deployer(localnet.url, Keypair())
    deployer.confirm([rpc(localnet.url, "requestAirdrop", [str(deployer.payer.pubkey()), 20 * 10**9])["result"]])
    return deployer


def solana_verify_hash(elf: bytes) -> str:
    return hashlib.sha256(elf.rstrip(b"\0")).hexdigest()


def test_hash_of_a_file(crowd):
    result = crowd("verify", "--hash", str(JOBS_SO))
    assert result.code == 0
    assert result.out.split() == [solana_verify_hash(JOBS_SO.read_bytes()), str(JOBS_SO)]


def test_the_genesis_programs_match_their_build(crowd):
    for name in ("jobs", "staking"):
        so = deploy_dir() / f"{name}.so"
        result = crowd("verify", ANCHOR[name], "--so", str(so), "--output", "json")
        assert result.code == 0, result.err
        report = result.json()
        assert report["match"] is True
        assert report["on_chain"]["hash"] == report["build"]["hash"] == solana_verify_hash(so.read_bytes())


def test_a_program_deployed_by_transactions_matches_the_same_bytes(crowd, deployer):
    elf = JOBS_SO.read_bytes()
    program = deployer.deploy(elf, max_data_len=2 * len(elf))  # program data padded with zeros, as the CLI leaves room
    result = crowd("verify", str(program), "--so", str(JOBS_SO), "--program", "jobs")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    digest = solana_verify_hash(elf)
    assert lines[0] == f"program    {program} (jobs) on {crowd.url}"
    assert lines[1].startswith(f"on-chain   {digest}  program data ") and f"upgrade authority {deployer.payer.pubkey()}" in lines[1]
    assert lines[2] == f"build      {digest}  {JOBS_SO}, {len(elf.rstrip(bytes(1)))} bytes hashed (prebuilt, --so)"
    assert lines[-1] == "match: the cluster runs this build"


def test_one_byte_changed_is_a_mismatch(crowd, deployer, tmp_path):
    elf = bytearray(JOBS_SO.read_bytes())
    at = elf.index(HARMLESS)
    elf[at] ^= 0x20  # "I" -> "i"
    program = deployer.deploy(bytes(elf))
    result = crowd("verify", str(program), "--so", str(JOBS_SO))
    assert result.code == 1
    assert result.out.splitlines()[-1] == "MISMATCH: the cluster runs other bytes"
    assert result.error_line == (f"error: mismatch: {program} on {crowd.url} is not this build "
                                 f"(on-chain {solana_verify_hash(bytes(elf))}, build {solana_verify_hash(JOBS_SO.read_bytes())})")


@pytest.mark.parametrize("address, says", [
    (str(Pubkey.new_unique()), "error: no account at "),
    ("11111111111111111111111111111111", "is not an upgradeable program: its owner is NativeLoader1111111111111111111111111111111"),
    ("not-an-address", "error: not a program address: 'not-an-address'"),
])
def test_not_an_upgradeable_program_is_one_error_line(crowd, address, says):
    result = crowd("verify", address, "--so", str(JOBS_SO))
    assert result.code == 1
    assert says in result.error_line and "Traceback" not in result.err


def test_a_program_data_account_is_not_a_program(crowd):
    from crowdcompute.client.deployed import LOADER_V3

    programdata = Pubkey.find_program_address([bytes(Pubkey.from_string(ANCHOR["jobs"]))], LOADER_V3)[0]
    result = crowd("verify", str(programdata), "--so", str(JOBS_SO))
    assert (result.code, result.error_line) == (1, f"error: {programdata} is not an upgradeable program: it is a loader-v3 program data account")


def test_an_unknown_program_id_needs_program(crowd, deployer):
    program = deployer.deploy((deploy_dir() / "slash_probe.so").read_bytes())
    result = crowd("verify", str(program))
    assert result.code == 1
    assert result.error_line.startswith(f"error: {program} is none of ") and result.error_line.endswith("name it with --program NAME")


def test_a_real_build_from_source_matches_the_deployed_build(crowd, deployer):
    """The build the command runs (the checkout's scripts/build-programs.sh, in a folder of
    its own) gives target/deploy's bytes: slash-probe, the smallest program."""
    built = deploy_dir() / "slash_probe.so"
    before = built.stat().st_mtime_ns
    program = deployer.deploy(built.read_bytes())
    result = crowd("verify", str(program), "--program", "slash-probe", "--output", "json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["match"] is True and report["build"]["prebuilt"] is False
    assert report["build"]["source"] == str(repo_root()) and len(report["build"]["commit"]) == 40
    assert set(report["build"]["toolchain"]) == {"rustc", "cargo", "llvm", "sbpf-linker", "target", "profile"}
    assert report["build"]["toolchain"]["profile"].startswith("release: lto=fat")
    assert built.stat().st_mtime_ns == before  # the checkout's target/ untouched
