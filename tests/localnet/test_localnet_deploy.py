"""Deploying programs as `solana program deploy` / `anchor deploy` do, over JSON-RPC: our
jobs.so at a fresh address through BPF Loader Upgradeable (buffer, parallel Writes,
DeployWithMaxDataLen), then used; Upgrade, ExtendProgram, SetAuthority, Close; a program is
callable from the slot after its deployment; deployments survive kill -9; --bpf-program."""

from __future__ import annotations

from pathlib import Path

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client import JobsProgram, MarketSettings
from crowdcompute.client.jobs.layout import market_size
from crowdcompute.common.token import MINT_LEN, create_mint_instructions
from crowdcompute.localnet.runtime.svm import deploy_dir

from . import upgradeable_loader as loader
from .localnet_helpers import ProcessServer, ThreadServer, rpc
from .upgradeable_loader import Deployer, account_data, programdata_state

JOBS_SO = deploy_dir() / "jobs.so"
UNKNOWN_INSTRUCTION = 6000  # the jobs program's answer to data it does not know: its code ran
SETTINGS = MarketSettings(price_per_second=10, max_timeout=3600, min_stake=0, retention=60, max_attempts=2)


@pytest.fixture(scope="module")
def elf() -> bytes:
    return JOBS_SO.read_bytes()


def funded_deployer(url: str, sol: int = 20) -> Deployer:
    payer = Keypair()
    deployer = Deployer(url, payer)
    signature = rpc(url, "requestAirdrop", [str(payer.pubkey()), sol * 10**9])["result"]
    deployer.confirm([signature])
    return deployer


def call_program(deployer: Deployer, program: Pubkey) -> dict:
    """Invokes `program` with data it does not know; returns the landed transaction's status."""
    return deployer.run([Instruction(program, b"\xff\xff\xff\xff\xff\xff\xff\xff", [])], skip_preflight=True)


def landed_slot(deployer: Deployer, signature: str) -> int:
    return deployer.confirm([signature])[0]["slot"]


def assert_runs(deployer: Deployer, program: Pubkey) -> None:
    assert call_program(deployer, program)["err"] == {"InstructionError": [0, {"Custom": UNKNOWN_INSTRUCTION}]}


def assert_not_deployed(deployer: Deployer, program: Pubkey, index: int = 0) -> None:
    signature = deployer.submit([Instruction(program, b"\xff" * 8, [])], skip_preflight=True)
    assert deployer.confirm([signature])[0]["err"] == {"InstructionError": [index, "UnsupportedProgramId"]}
    logs = deployer.call("getTransaction", [signature, {"commitment": "confirmed"}])["meta"]["logMessages"]
    assert "Program is not deployed" in logs


def test_deploy_jobs_at_a_fresh_address_then_use_it(server, elf):
    deployer = funded_deployer(server.url)
    program = Keypair()
    buffer = deployer.write_buffer(elf)
    value = deployer.account(buffer)
    assert value["owner"] == str(loader.LOADER_V3) and account_data(value)[loader.BUFFER_METADATA:] == elf
    signature = deployer.must(loader.deploy_with_max_data_len(deployer.payer.pubkey(), program.pubkey(), buffer, deployer.payer.pubkey(),
                                                              deployer.rent(loader.PROGRAM_LEN), 2 * len(elf)), [program])
    slot = landed_slot(deployer, signature)
    program_id = program.pubkey()
    programdata = loader.programdata_address(program_id)

    # The accounts as the cluster shows them: a 36-byte executable program account pointing
    # at its program data (slot, authority, the ELF, room up to max_data_len); the buffer is gone.
    account = deployer.account(program_id)
    assert (account["owner"], account["executable"], account["space"]) == (str(loader.LOADER_V3), True, loader.PROGRAM_LEN)
    assert account_data(account) == b"\x02\x00\x00\x00" + bytes(programdata)
    data_account = deployer.account(programdata)
    data = account_data(data_account)
    assert (data_account["owner"], data_account["executable"], len(data)) == (str(loader.LOADER_V3), False, loader.PROGRAMDATA_METADATA + 2 * len(elf))
    assert programdata_state(data) == (slot, deployer.payer.pubkey())
    assert data[loader.PROGRAMDATA_METADATA:loader.PROGRAMDATA_METADATA + len(elf)] == elf
    assert deployer.account(buffer) is None
    parsed = deployer.call("getAccountInfo", [str(program_id), {"encoding": "jsonParsed"}])["value"]["data"]
    assert parsed == {"parsed": {"type": "program", "info": {"programData": str(programdata)}}, "program": "bpf-upgradeable-loader", "space": 36}
    parsed = deployer.call("getAccountInfo", [str(programdata), {"encoding": "jsonParsed"}])["value"]["data"]["parsed"]
    assert (parsed["type"], parsed["info"]["slot"], parsed["info"]["authority"]) == ("programData", slot, str(deployer.payer.pubkey()))
    assert account_data({"data": parsed["info"]["data"]}) == data[loader.PROGRAMDATA_METADATA:]
    listed = deployer.call("getProgramAccounts", [str(loader.LOADER_V3), {"encoding": "base64", "dataSlice": {"offset": 0, "length": 0}}])
    assert {str(program_id), str(programdata)} <= {a["pubkey"] for a in listed}
    programs = deployer.call("getProgramAccounts", [str(loader.LOADER_V3), {"encoding": "base64", "filters": [
        {"dataSize": loader.PROGRAM_LEN}, {"memcmp": {"offset": 4, "bytes": str(programdata)}}]}])
    assert [a["pubkey"] for a in programs] == [str(program_id)]

    # Used from the next slot on: a market opened on the new program is owned by it.
    deployer.wait_slot_after(slot)
    jobs = JobsProgram(program_id)
    authority = deployer.payer
    mint, market = Keypair(), Keypair()
    deployer.must(create_mint_instructions(authority.pubkey(), mint.pubkey(), authority.pubkey(), decimals=6, lamports=deployer.rent(MINT_LEN)), [mint])
    deployer.must([jobs.create_market_account(authority.pubkey(), market.pubkey(), capacity=4, lamports=deployer.rent(market_size(4))),
                   jobs.open_market(authority.pubkey(), market.pubkey(), mint.pubkey(), SETTINGS)], [market])
    owned = deployer.call("getProgramAccounts", [str(program_id), {"encoding": "base64"}])
    assert str(market.pubkey()) in [a["pubkey"] for a in owned]
    assert jobs.decode_market(account_data(deployer.account(market.pubkey()))).authority == authority.pubkey()


def test_a_program_is_not_callable_in_its_deployment_slot(tmp_path, elf):
    """A call sent right after the deployment, in the same slot (2-second slots; retried if a
    slot boundary falls between the two), fails as on agave: "Program is not deployed", fee
    paid. From the next slot on it runs."""
    slow = ThreadServer(tmp_path / "ledger", slot_ms=2000)
    try:
        deployer = funded_deployer(slow.url)
        for _ in range(5):
            program = Keypair()
            buffer = deployer.write_buffer(elf)
            deploy = deployer.submit(loader.deploy_with_max_data_len(deployer.payer.pubkey(), program.pubkey(), buffer, deployer.payer.pubkey(),
                                                                     deployer.rent(loader.PROGRAM_LEN), len(elf)), [program])
            call = deployer.submit([Instruction(program.pubkey(), b"\xff" * 8, [])], skip_preflight=True)
            deployed, called = deployer.confirm([deploy, call])
            assert deployed["err"] is None
            if called["slot"] == deployed["slot"]:
                break
            assert called["err"] == {"InstructionError": [0, {"Custom": UNKNOWN_INSTRUCTION}]}  # a slot later: it ran
        else:
            pytest.fail("no deployment and call in one slot in 5 tries")
        assert called["err"] == {"InstructionError": [0, "UnsupportedProgramId"]}
        meta = deployer.call("getTransaction", [call, {"commitment": "confirmed"}])["meta"]
        assert meta["logMessages"] == [f"Program {program.pubkey()} invoke [1]", "Program is not deployed",
                                       f"Program {program.pubkey()} failed: Unsupported program id"]
        assert meta["fee"] == 5000 and meta["postBalances"][0] == meta["preBalances"][0] - 5000
        deployer.wait_slot_after(deployed["slot"])
        assert_runs(deployer, program.pubkey())
    finally:
        slow.stop()


def test_upgrade_extend_authority_and_close(server, elf):
    deployer = funded_deployer(server.url, sol=30)
    payer = deployer.payer
    program = deployer.deploy(elf)
    programdata = loader.programdata_address(program)
    deployed_at = programdata_state(account_data(deployer.account(programdata)))[0]
    deployer.wait_slot_after(deployed_at)

    # Upgrade from a new buffer: the buffer's lamports go to the spill account.
    buffer = deployer.write_buffer(elf)
    buffer_lamports = deployer.account(buffer)["lamports"]
    spill = Keypair().pubkey()
    slot = landed_slot(deployer, deployer.must([loader.upgrade(program, buffer, payer.pubkey(), spill)]))
    assert deployer.account(buffer) is None and deployer.account(spill)["lamports"] == buffer_lamports
    assert programdata_state(account_data(deployer.account(programdata))) == (slot, payer.pubkey())
    deployer.wait_slot_after(slot)
    assert_runs(deployer, program)

    # ExtendProgram: more room for a larger upgrade.
    size = len(account_data(deployer.account(programdata)))
    slot = landed_slot(deployer, deployer.must([loader.extend_program(program, payer.pubkey(), 4096)]))
    assert len(account_data(deployer.account(programdata))) == size + 4096
    deployer.wait_slot_after(slot)
    assert_runs(deployer, program)

    # SetAuthority: the old authority can no longer upgrade; the new one can close.
    new_authority = Keypair()
    deployer.must([loader.set_authority(programdata, payer.pubkey(), new_authority.pubkey())])
    assert programdata_state(account_data(deployer.account(programdata)))[1] == new_authority.pubkey()
    buffer = deployer.write_buffer(elf)
    refused = deployer.run([loader.upgrade(program, buffer, payer.pubkey(), payer.pubkey())], skip_preflight=True)
    assert refused["err"] == {"InstructionError": [0, "IncorrectAuthority"]}
    # a buffer is closed by its authority, its lamports to the recipient
    recipient = Keypair().pubkey()
    lamports = deployer.account(buffer)["lamports"]
    deployer.must([loader.close(buffer, recipient, payer.pubkey())])
    assert deployer.account(buffer) is None and deployer.account(recipient)["lamports"] == lamports

    # Close the program: its account stays, it can never run again.
    deployer.must([loader.close(programdata, recipient, new_authority.pubkey(), program)], [new_authority])
    assert deployer.account(programdata) is None
    assert deployer.account(program)["executable"] is True
    assert_not_deployed(deployer, program)


def test_final_program_cannot_be_upgraded(server, elf):
    deployer = funded_deployer(server.url)
    program = deployer.deploy(elf)
    programdata = loader.programdata_address(program)
    deployer.must([loader.set_authority(programdata, deployer.payer.pubkey(), None)])
    assert programdata_state(account_data(deployer.account(programdata)))[1] is None
    buffer = deployer.write_buffer(elf)
    refused = deployer.run([loader.upgrade(program, buffer, deployer.payer.pubkey(), deployer.payer.pubkey())], skip_preflight=True)
    assert refused["err"] == {"InstructionError": [0, "Immutable"]}


def test_deployments_survive_kill9_and_bpf_program_loads_as_loader_v3(tmp_path, elf):
    ledger = tmp_path / "ledger"
    startup = Keypair().pubkey()  # a --bpf-program, as solana-test-validator loads it
    extra = ["--bpf-program", str(startup), str(JOBS_SO)]
    srv = ProcessServer(ledger, slot_ms=50, reset=True, extra=extra)
    srv.wait_ready()
    try:
        deployer = funded_deployer(srv.url, sol=30)
        kept = deployer.deploy(elf)
        closed = deployer.deploy(elf)
        closed_data = loader.programdata_address(closed)
        deployer.wait_slot_after(programdata_state(account_data(deployer.account(closed_data)))[0])
        deployer.must([loader.close(closed_data, deployer.payer.pubkey(), deployer.payer.pubkey(), closed)])
        accounts = {key: deployer.account(key) for key in (kept, loader.programdata_address(kept), closed)}
    finally:
        srv.kill9()
    again = ProcessServer(ledger, slot_ms=50, port=srv.port, extra=extra)
    again.wait_ready()
    try:
        deployer = Deployer(again.url, deployer.payer)
        for key, value in accounts.items():
            assert deployer.account(key) == value, key
        assert_runs(deployer, kept)
        assert deployer.account(closed_data) is None
        assert_not_deployed(deployer, closed)
        # --bpf-program: a loader-v3 program at slot 0 whose authority nobody holds
        program = deployer.account(startup)
        assert (program["owner"], program["executable"]) == (str(loader.LOADER_V3), True)
        data = account_data(deployer.account(loader.programdata_address(startup)))
        assert programdata_state(data) == (0, Pubkey.default()) and data[loader.PROGRAMDATA_METADATA:] == elf
        assert_runs(deployer, startup)
    finally:
        again.terminate()
