"""BPF Loader Upgradeable (loader-v3) instructions, built as `solana program deploy` and
`anchor deploy` build them (layouts: solana-loader-v3-interface 6.1, a bincode enum with a
u32 tag), and the account states they leave."""

from __future__ import annotations

import base64
import struct
import time
from concurrent.futures import ThreadPoolExecutor

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import Transaction

from .localnet_helpers import rpc

LOADER_V3 = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
RENT = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
CLOCK = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
BUFFER_METADATA = 37  # tag u32 + Option<Pubkey>
PROGRAM_LEN = 36  # tag u32 + programdata address
PROGRAMDATA_METADATA = 45  # tag u32 + slot u64 + Option<Pubkey>
# What the CLI writes per transaction: a packet (1232 bytes) less the signatures, message
# header and Write's own fields. 1000 is a safe round figure for two signers.
WRITE_CHUNK = 1000


def programdata_address(program: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(program)], LOADER_V3)[0]


def _ix(tag: int, payload: bytes, metas: list[AccountMeta]) -> Instruction:
    return Instruction(LOADER_V3, struct.pack("<I", tag) + payload, metas)


def create_buffer(payer: Pubkey, buffer: Pubkey, authority: Pubkey, lamports: int, program_len: int) -> list[Instruction]:
    """System CreateAccount (owner loader-v3) + InitializeBuffer, as the CLI sends them."""
    return [
        create_account(CreateAccountParams(from_pubkey=payer, to_pubkey=buffer, lamports=lamports, space=BUFFER_METADATA + program_len, owner=LOADER_V3)),
        _ix(0, b"", [AccountMeta(buffer, False, True), AccountMeta(authority, False, False)]),
    ]


def write(buffer: Pubkey, authority: Pubkey, offset: int, data: bytes) -> Instruction:
    return _ix(1, struct.pack("<IQ", offset, len(data)) + data, [AccountMeta(buffer, False, True), AccountMeta(authority, True, False)])


def deploy_with_max_data_len(payer: Pubkey, program: Pubkey, buffer: Pubkey, authority: Pubkey, program_lamports: int, max_data_len: int) -> list[Instruction]:
    """System CreateAccount of the program account (36 bytes, owner loader-v3) +
    DeployWithMaxDataLen, as the CLI sends them (the program keypair signs)."""
    return [
        create_account(CreateAccountParams(from_pubkey=payer, to_pubkey=program, lamports=program_lamports, space=PROGRAM_LEN, owner=LOADER_V3)),
        _ix(2, struct.pack("<Q", max_data_len), [
            AccountMeta(payer, True, True),
            AccountMeta(programdata_address(program), False, True),
            AccountMeta(program, False, True),
            AccountMeta(buffer, False, True),
            AccountMeta(RENT, False, False),
            AccountMeta(CLOCK, False, False),
            AccountMeta(SYSTEM, False, False),
            AccountMeta(authority, True, False),
        ]),
    ]


def upgrade(program: Pubkey, buffer: Pubkey, authority: Pubkey, spill: Pubkey) -> Instruction:
    return _ix(3, b"", [
        AccountMeta(programdata_address(program), False, True),
        AccountMeta(program, False, True),
        AccountMeta(buffer, False, True),
        AccountMeta(spill, False, True),
        AccountMeta(RENT, False, False),
        AccountMeta(CLOCK, False, False),
        AccountMeta(authority, True, False),
    ])


def set_authority(account: Pubkey, current: Pubkey, new: Pubkey | None) -> Instruction:
    """SetAuthority of a buffer or program data account (`account`); None makes a program final."""
    metas = [AccountMeta(account, False, True), AccountMeta(current, True, False)]
    if new is not None:
        metas.append(AccountMeta(new, False, False))
    return _ix(4, b"", metas)


def close(account: Pubkey, recipient: Pubkey, authority: Pubkey, program: Pubkey | None = None) -> Instruction:
    """Close a buffer, or a program's data account (then `program` is given)."""
    metas = [AccountMeta(account, False, True), AccountMeta(recipient, False, True), AccountMeta(authority, True, False)]
    if program is not None:
        metas.append(AccountMeta(program, False, True))
    return _ix(5, b"", metas)


def extend_program(program: Pubkey, payer: Pubkey, additional_bytes: int) -> Instruction:
    return _ix(6, struct.pack("<I", additional_bytes), [
        AccountMeta(programdata_address(program), False, True),
        AccountMeta(program, False, True),
        AccountMeta(SYSTEM, False, False),
        AccountMeta(payer, True, True),
    ])


def write_chunks(elf: bytes, chunk: int = WRITE_CHUNK) -> list[tuple[int, bytes]]:
    return [(offset, elf[offset:offset + chunk]) for offset in range(0, len(elf), chunk)]


# -- the CLI's flow over JSON-RPC --------------------------------------------------------
class Deployer:
    """Sends what `solana program deploy` sends, over raw JSON-RPC to `url`: the buffer
    (CreateAccount + InitializeBuffer), the Writes in parallel (`parallel` in flight), then
    the deployment; `payer` pays and is the buffer's and the program's authority."""

    def __init__(self, url: str, payer: Keypair, *, parallel: int = 8) -> None:
        self.url, self.payer, self.parallel = url, payer, parallel

    def call(self, method: str, params: object = None) -> object:
        reply = rpc(self.url, method, params, timeout=30)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply["result"]

    def rent(self, size: int) -> int:
        return self.call("getMinimumBalanceForRentExemption", [size])

    def blockhash(self) -> Hash:
        return Hash.from_string(self.call("getLatestBlockhash", [{"commitment": "confirmed"}])["value"]["blockhash"])

    def submit(self, instructions: list[Instruction], signers: list[Keypair] = (), *, skip_preflight: bool = False) -> str:
        """Signs (the payer first) and sends; returns the signature without waiting."""
        blockhash = self.blockhash()
        tx = Transaction([self.payer, *signers], Message.new_with_blockhash(instructions, self.payer.pubkey(), blockhash), blockhash)
        return self.call("sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", "skipPreflight": skip_preflight,
                                                                                    "preflightCommitment": "confirmed"}])

    def confirm(self, signatures: list[str], timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.call("getSignatureStatuses", [signatures, {"searchTransactionHistory": True}])["value"]
            if all(s is not None and s["confirmationStatus"] in ("confirmed", "finalized") for s in statuses):
                return statuses
            assert time.monotonic() < deadline, f"not confirmed in {timeout}s: {statuses}"
            time.sleep(0.05)

    def run(self, instructions: list[Instruction], signers: list[Keypair] = (), *, skip_preflight: bool = False) -> dict:
        """Sends, waits until confirmed; returns the status (its err is None or the failure)."""
        return self.confirm([self.submit(instructions, signers, skip_preflight=skip_preflight)])[0]

    def must(self, instructions: list[Instruction], signers: list[Keypair] = ()) -> str:
        signature = self.submit(instructions, signers)
        status = self.confirm([signature])[0]
        assert status["err"] is None, status
        return signature

    def write_buffer(self, elf: bytes, buffer: Keypair | None = None) -> Pubkey:
        buffer = buffer or Keypair()
        size = BUFFER_METADATA + len(elf)
        self.must(create_buffer(self.payer.pubkey(), buffer.pubkey(), self.payer.pubkey(), self.rent(size), len(elf)), [buffer])
        with ThreadPoolExecutor(self.parallel) as pool:  # many Writes in flight, as the CLI sends them
            signatures = list(pool.map(lambda piece: self.submit([write(buffer.pubkey(), self.payer.pubkey(), *piece)]), write_chunks(elf)))
        assert all(s["err"] is None for s in self.confirm(signatures))
        return buffer.pubkey()

    def deploy(self, elf: bytes, program: Keypair | None = None, *, max_data_len: int | None = None) -> Pubkey:
        """The whole deployment; returns the program id."""
        program = program or Keypair()
        buffer = self.write_buffer(elf)
        self.must(deploy_with_max_data_len(self.payer.pubkey(), program.pubkey(), buffer, self.payer.pubkey(),
                                           self.rent(PROGRAM_LEN), max_data_len or len(elf)), [program])
        return program.pubkey()

    def account(self, address: Pubkey) -> dict | None:
        return self.call("getAccountInfo", [str(address), {"encoding": "base64", "commitment": "confirmed"}])["value"]

    def wait_slot_after(self, slot: int, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while (now := self.call("getSlot", [{"commitment": "confirmed"}])) <= slot:
            assert time.monotonic() < deadline, "the slot did not advance"
            time.sleep(0.05)
        return now


def account_data(value: dict) -> bytes:
    return base64.b64decode(value["data"][0])


def programdata_state(data: bytes) -> tuple[int, Pubkey | None]:
    """(slot, upgrade authority) of a program data account's data."""
    tag, slot = struct.unpack_from("<IQ", data)
    assert tag == 3, f"not program data: tag {tag}"
    return slot, (Pubkey(data[13:45]) if data[12] == 1 else None)

