"""The bank's deployment rules without a server or a slot timer, so that slots are exact:
a program deployed or upgraded in slot S is callable from S + 1, a closed one never; closing
a program never trips LiteSVM (whatever order the transaction's keys come in)."""

from __future__ import annotations

import os

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from crowdcompute.localnet.runtime.bank import Bank, err_json
from crowdcompute.localnet.runtime.svm import deploy_dir

from . import upgradeable_loader as loader

ELF = (deploy_dir() / "jobs.so").read_bytes()


@pytest.fixture
def bank() -> Bank:
    bank = Bank({}, genesis_hash=os.urandom(32), faucet=Keypair())
    bank.genesis_accounts()
    bank.advance()
    return bank


def run(bank: Bank, payer: Keypair, instructions: list, signers: list = ()):
    blockhash = bank.blockhash()
    tx = Transaction([payer, *signers], Message.new_with_blockhash(instructions, payer.pubkey(), blockhash), blockhash)
    result = bank.process(VersionedTransaction.from_bytes(bytes(tx)))
    assert result.record is not None, result.err  # it landed
    return err_json(result.err), result.logs


def funded(bank: Bank) -> Keypair:
    payer = Keypair()
    assert run(bank, bank.faucet, [transfer(TransferParams(from_pubkey=bank.faucet.pubkey(), to_pubkey=payer.pubkey(), lamports=50 * 10**9))])[0] is None
    return payer


def deploy(bank: Bank, payer: Keypair) -> Keypair:
    program, buffer = Keypair(), Keypair()
    rent = bank.svm.minimum_balance_for_rent_exemption
    assert run(bank, payer, loader.create_buffer(payer.pubkey(), buffer.pubkey(), payer.pubkey(), rent(loader.BUFFER_METADATA + len(ELF)), len(ELF)), [buffer])[0] is None
    for offset, chunk in loader.write_chunks(ELF):
        assert run(bank, payer, [loader.write(buffer.pubkey(), payer.pubkey(), offset, chunk)])[0] is None
    err, _ = run(bank, payer, loader.deploy_with_max_data_len(payer.pubkey(), program.pubkey(), buffer.pubkey(), payer.pubkey(),
                                                              rent(loader.PROGRAM_LEN), len(ELF)), [program])
    assert err is None
    return program


def call(bank: Bank, payer: Keypair, program: Keypair):
    return run(bank, payer, [Instruction(program.pubkey(), b"\xff" * 8, [])])


def test_callable_from_the_slot_after_deployment(bank):
    payer = funded(bank)
    program = deploy(bank, payer)
    err, logs = call(bank, payer, program)
    assert err == {"InstructionError": [0, "UnsupportedProgramId"]} and "Program is not deployed" in logs
    bank.advance()
    assert call(bank, payer, program)[0] == {"InstructionError": [0, {"Custom": 6000}]}  # its code ran


def test_not_callable_in_the_slot_of_an_upgrade(bank):
    payer = funded(bank)
    program = deploy(bank, payer)
    bank.advance()
    buffer = Keypair()
    rent = bank.svm.minimum_balance_for_rent_exemption
    run(bank, payer, loader.create_buffer(payer.pubkey(), buffer.pubkey(), payer.pubkey(), rent(loader.BUFFER_METADATA + len(ELF)), len(ELF)), [buffer])
    for offset, chunk in loader.write_chunks(ELF):
        run(bank, payer, [loader.write(buffer.pubkey(), payer.pubkey(), offset, chunk)])
    assert run(bank, payer, [loader.upgrade(program.pubkey(), buffer.pubkey(), payer.pubkey(), payer.pubkey())])[0] is None
    assert call(bank, payer, program)[0] == {"InstructionError": [0, "UnsupportedProgramId"]}
    bank.advance()
    assert call(bank, payer, program)[0] == {"InstructionError": [0, {"Custom": 6000}]}


def test_closing_programs_in_any_key_order(bank):
    payer = funded(bank)
    for _ in range(6):  # fresh keys each time: the message orders them differently
        program = deploy(bank, payer)
        bank.advance()
        recipient = Keypair().pubkey()
        programdata = loader.programdata_address(program.pubkey())
        assert run(bank, payer, [loader.close(programdata, recipient, payer.pubkey(), program.pubkey())])[0] is None
        assert bank.get_account(programdata) is None and bank.get_account(program.pubkey()).executable
        bank.advance()
        assert call(bank, payer, program)[0] == {"InstructionError": [0, "UnsupportedProgramId"]}
