"""An in-process chain over LiteSVM with our SBF programs loaded.

Used by the tests, the demo and the benchmarks: it sends real transactions to the programs
built in target/deploy, reports each outcome (error code, logs, compute units, inner
instructions), and moves the cluster clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from solders.account import Account
from solders.clock import Clock
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from .features import runtime_svm

__all__ = ["SvmChain", "Outcome", "repo_root", "deploy_dir", "packaged_programs_dir"]

DEFAULT_UNIX_TIME = 1_767_225_600  # 2026-01-01: LiteSVM's clock starts at 0 otherwise
SLOT_SECONDS = 0.4


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]  # a checkout: localnet/runtime/svm.py


def packaged_programs_dir() -> Path:
    """The programs a wheel ships (pyproject's force-include): crowdcompute/programs."""
    return Path(__file__).resolve().parents[2] / "programs"


def deploy_dir() -> Path:
    """The built programs: target/deploy in a checkout, else those the wheel ships."""
    built = repo_root() / "target" / "deploy"
    return built if built.is_dir() or not packaged_programs_dir().is_dir() else packaged_programs_dir()


@dataclass
class Outcome:
    """What one transaction did."""

    ok: bool
    logs: list[str]
    compute_units: int
    signature: str
    error: object | None = None
    inner: list = field(default_factory=list)

    @property
    def custom_error(self) -> int | None:
        """The custom program error code (Anchor's 6000+), if the failure was one."""
        if isinstance(self.error, TransactionErrorInstructionError) and isinstance(self.error.err, InstructionErrorCustom):
            return self.error.err.code
        return None



class SvmChain:
    """LiteSVM with the given programs, a clock that starts at `unix_time`, and helpers."""

    def __init__(self, programs: dict[Pubkey, Path], *, unix_time: int = DEFAULT_UNIX_TIME) -> None:
        self.svm = runtime_svm()  # the localnet's feature set (features.py), not LiteSVM's "all"
        for program_id, path in programs.items():
            if not Path(path).is_file():
                raise FileNotFoundError(f"program {program_id} not built: {path} is missing (run scripts/build-programs.sh)")
            self.svm.add_program_from_file(program_id, str(path))
        self.set_time(unix_time)

    # -- clock -------------------------------------------------------------------------
    def now(self) -> int:
        return self.svm.get_clock().unix_timestamp

    def set_time(self, unix_time: int) -> None:
        clock = self.svm.get_clock()
        self.svm.set_clock(Clock(clock.slot, clock.epoch_start_timestamp, clock.epoch, clock.leader_schedule_epoch, unix_time))

    def advance(self, seconds: int) -> None:
        """Moves the clock forward by `seconds`, and the slot with it, as a cluster would."""
        clock = self.svm.get_clock()
        target = clock.unix_timestamp + seconds
        self.svm.warp_to_slot(clock.slot + max(1, round(seconds / SLOT_SECONDS)))
        self.set_time(target)

    # -- accounts ----------------------------------------------------------------------
    def airdrop(self, to: Pubkey, lamports: int = 10_000_000_000) -> None:
        self.svm.airdrop(to, lamports)

    def funded(self, lamports: int = 10_000_000_000) -> Keypair:
        keypair = Keypair()
        self.airdrop(keypair.pubkey(), lamports)
        return keypair

    def account(self, address: Pubkey) -> Account | None:
        account = self.svm.get_account(address)
        if account is None or (account.lamports == 0 and not account.data):
            return None
        return account

    def lamports(self, address: Pubkey) -> int:
        return self.svm.get_balance(address) or 0

    def rent_exempt(self, size: int) -> int:
        return self.svm.minimum_balance_for_rent_exemption(size)

    def set_account(self, address: Pubkey, account: Account) -> None:
        self.svm.set_account(address, account)

    # -- transactions ------------------------------------------------------------------
    def blockhash(self) -> Hash:
        return self.svm.latest_blockhash()

    def send(self, instructions: list[Instruction], signers: list[Keypair], *, payer: Keypair | None = None) -> Outcome:
        """Signs and processes one transaction; the first signer pays unless `payer` is given."""
        payer = payer or signers[0]
        unique: dict[Pubkey, Keypair] = {payer.pubkey(): payer}
        for signer in signers:
            unique.setdefault(signer.pubkey(), signer)
        message = Message.new_with_blockhash(instructions, payer.pubkey(), self.blockhash())
        transaction = Transaction(list(unique.values()), message, self.blockhash())
        result = self.svm.send_transaction(transaction)
        # A fresh blockhash per transaction, so identical retries are new transactions.
        self.svm.expire_blockhash()
        if isinstance(result, FailedTransactionMetadata):
            meta = result.meta()
            return Outcome(False, list(meta.logs()), meta.compute_units_consumed(), str(meta.signature()), result.err(), list(meta.inner_instructions()))
        return Outcome(True, list(result.logs()), result.compute_units_consumed(), str(result.signature()), None, list(result.inner_instructions()))
