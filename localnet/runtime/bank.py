"""The localnet's bank: one LiteSVM, slots and blockhashes, transaction records and an
account index. Synchronous and free of I/O: the server drives it from its event loop and
hands what it returns to the store (store.py) for durability.

Slots and blockhashes
    The server calls `advance()` every `slot_ms`, and at once when a transaction arrives
    on the current slot's blockhash (once the slot has lasted a quarter of `slot_ms`),
    which then lands in the next slot: a transaction never lands in the slot of its own
    blockhash, as on agave (intake.py). Each slot gets one blockhash, derived from the
    genesis hash and the slot number (so a restarted bank knows every past blockhash
    without storing them), and the Clock sysvar follows wall time
    (`unix_timestamp = int(time.time())`). Block height equals the slot (no slot is ever
    skipped). LiteSVM's own blockhash check is off (`LiteSVM.with_blockhash_check(False)`):
    the bank accepts a transaction whose recent blockhash was issued in the last 150 slots
    (MAX_AGE) and answers `BlockhashNotFound` otherwise, as Solana does, unless it is a
    durable-nonce transaction whose nonce is current (nonce.py). A durable-nonce transaction
    that fails still advances its nonce, as on Solana (LiteSVM alone would roll it back).
    The SlotHashes sysvar holds the last 512 slots' hashes (newest first), so address
    lookup tables can be created at any recent slot.

Duplicates
    A signature the bank has recorded is answered `AlreadyProcessed` without running the
    transaction again (the bank's own table, so this survives restarts; LiteSVM's history
    is kept as well).

Commitment (the same rule everywhere: statuses, getSlot, notifications)
    processed  executed in memory by LiteSVM;
    confirmed  its records and the accounts it changed are committed: in the ledger's
               journal, which survives kill -9 (store.py; SQLite and its fsync follow);
               the confirmed slot is the last finished slot whose transactions all are;
    finalized  its slot is at or below the root, which trails the confirmed slot by
               FINALITY_LAG (31) slots as on solana-test-validator, or equals it with
               `finality_lag=None` (--finalize-immediately). Reads at `finalized` see the
               accounts as of the root (finality.py keeps the pre-images that needs).
    At every instant finalized slot <= confirmed slot <= processed slot (the current one).
    A transaction that failed in execution but paid its fee is recorded like any other
    (with its `err`); one that could not be executed at all (bad signature, unknown
    blockhash, fee payer cannot pay) is not recorded and is answered as an error.

The account index
    LiteSVM cannot list accounts, so the bank keeps owner -> pubkeys and, for SPL Token and
    Token-2022 accounts, token owner -> pubkeys and mint -> pubkeys. After each transaction
    every writable key it names (static keys and addresses loaded from lookup tables; no
    other account can change) is re-read, re-indexed and persisted, so getProgramAccounts
    and getTokenAccountsByOwner are exact without scans.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import pickle
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable

import based58
from solders.account import Account
from solders.clock import Clock
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.rpc.responses import RpcSimulateTransactionResult
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import TransactionErrorInsufficientFundsForRent

from crowdcompute.common.token import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from .features import runtime_svm
from .fees import RecentFees, compute_budget
from ..ledger.finality import CURRENT, FINALITY_LAG, Finality
from ..ledger.genesis import genesis_accounts, startup_program_accounts
from .loader import LOADER_V3, LOADER_V4, first_undeployed, not_deployed, programdata_header, undeployed_logs
from .message_keys import writable_keys
from .nonce import advance_after_failure, durable_nonce_valid
from .rent import RentRules
from .sigverify import verify as verify_signatures

__all__ = ["Bank", "TxRecord", "Block", "AccountRow", "ProcessResult", "MAX_AGE", "TOKEN_PROGRAM_ID", "TOKEN_2022_PROGRAM_ID"]

MAX_AGE = 150  # slots a blockhash stays valid, as on Solana
# In-memory history windows (older history is read from the ledger). Statuses cover every
# slot whose blockhash a transaction may still carry, so duplicates are found in memory.
STATUS_SLOTS = MAX_AGE + 2
SLOT_HASHES = 512  # entries of the SlotHashes sysvar, as on Solana
RECORD_SLOTS = 16  # full records: what clients ask for right after sending (~6 s at 400 ms)
TOKEN_PROGRAMS = (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID)
ALT_PROGRAM_ID = Pubkey.from_string("AddressLookupTab1e1111111111111111111111111")
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
NATIVE_LOADER = Pubkey.from_string("NativeLoader1111111111111111111111111111111")
# LiteSVM's own programs (SPL Token, ATA, Memo) are bpf_loader-owned: installed at every start.
BUILTIN_LOADERS = (Pubkey.from_string("BPFLoader2111111111111111111111111111111111"), Pubkey.from_string("BPFLoader1111111111111111111111111111111111"))
PROGRAM_LOADERS = (LOADER_V3, LOADER_V4)
MEMO_PROGRAM = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
FAUCET_LAMPORTS = 500_000_000 * 1_000_000_000  # 500M SOL, as solana-test-validator's faucet


def err_json(err: object) -> object:
    """A solders TransactionError as Solana's JSON (e.g. {"InstructionError": [0, {"Custom": 1}]})."""
    if err is None:
        return None
    return json.loads(RpcSimulateTransactionResult(err=err).to_json())["err"]


def blockhash_for(genesis: bytes, slot: int) -> Hash:
    return Hash(hashlib.sha256(genesis + slot.to_bytes(8, "little")).digest())


@dataclass
class AccountRow:
    """An account to persist; `account` None means deleted."""

    pubkey: Pubkey
    account: Account | None


@dataclass
class TxRecord:
    signature: str
    slot: int
    block_time: int
    tx_bytes: bytes  # the VersionedTransaction as sent
    # Solana's transaction status meta, decoded on demand (the decoded dict costs several
    # times its encoding): pickled for a transaction this server just ran (pickling is a third
    # of the cost of JSON, and the ledger writer turns it into JSON in its own process), or
    # the ledger's compact JSON text for one read back from the ledger.
    meta_data: bytes | str
    committed: bool = False
    tx_id: int = 0  # its number since genesis (1, 2, ...): the ledger's key and order

    @classmethod
    def build(cls, signature: str, slot: int, block_time: int, tx_bytes: bytes, meta: dict) -> "TxRecord":
        record = cls(signature, slot, block_time, tx_bytes, pickle.dumps(meta, pickle.HIGHEST_PROTOCOL))
        record.err = meta["err"]  # known: no need to decode the meta for it
        return record

    @property
    def meta(self) -> dict:
        data = self.meta_data
        return json.loads(data) if isinstance(data, str) else pickle.loads(data)

    @cached_property
    def err(self) -> object:
        return self.meta.get("err")


@dataclass
class Block:
    slot: int
    parent_slot: int
    blockhash: str
    previous_blockhash: str
    block_time: int
    signatures: list[str] = field(default_factory=list)

    @classmethod
    def at(cls, slot: int, block_time: int, genesis: bytes, signatures: list[str] | None = None) -> "Block":
        """The block of `slot`: its hashes follow from the genesis hash (no slot is skipped)."""
        parent = slot - 1 if slot > 0 else 0
        return cls(slot, parent, str(blockhash_for(genesis, slot)), str(blockhash_for(genesis, parent)), block_time, signatures or [])


@dataclass
class ProcessResult:
    """The outcome of `Bank.process`: `record` is set when the transaction landed."""

    signature: str
    err: object  # solders TransactionError or None
    logs: list[str]
    units: int
    record: TxRecord | None = None
    accounts: list[AccountRow] = field(default_factory=list)
    keys: list[Pubkey] = field(default_factory=list)
    writable: list[Pubkey] = field(default_factory=list)
    return_data: object = None


class Bank:
    def __init__(self, programs: dict[Pubkey, Path], *, genesis_hash: bytes, faucet: Keypair, creation_time: int | None = None) -> None:
        self.programs = dict(programs)
        self.genesis = genesis_hash
        self.faucet = faucet
        self.creation_time = creation_time if creation_time is not None else int(time.time())
        # The runtime runs with agave 3.1's feature set, as the feature accounts show it (features.py).
        # Signatures are verified once, in process() (sigverify.py), not by LiteSVM: a
        # transaction already verified by preflight is not checked again.
        self.svm = runtime_svm().with_blockhash_check(False).with_transaction_history(0).with_sigverify(False)
        self.epoch_schedule = self.svm.get_epoch_schedule()
        self.slot = 0
        self._current_hash: tuple[int, Hash | None] = (-1, None)
        self.block_time = int(time.time())
        # History in memory (older history is read from the ledger, see the module doc):
        self.txs: dict[str, TxRecord] = {}  # full records of the last RECORD_SLOTS slots
        self.status_cache: dict[str, tuple[int, object]] = {}  # signature -> (slot, err), last STATUS_SLOTS slots
        self.blocks: dict[int, Block] = {}  # the last STATUS_SLOTS blocks, with their signatures
        self.first_slot = 0  # the ledger keeps every block from here on
        self.tx_count = 0  # transactions landed since genesis
        self.current_sigs: list[str] = []
        self.recent_fees = RecentFees()
        self.rent = RentRules(self.svm)
        self._slot_hashes: collections.deque[tuple[int, Hash]] = collections.deque(maxlen=SLOT_HASHES)
        self._record_order: collections.deque[tuple[int, str]] = collections.deque()  # (slot, signature) of txs, oldest first
        self.uncommitted: dict[str, int] = {}  # signature -> slot, until its commit
        self.uncommitted_slots: dict[int, int] = {}  # slot -> how many of its transactions await their commit
        self.finality = Finality(FINALITY_LAG)  # the root and the accounts as of it (finality.py)
        # index
        self.by_owner: dict[Pubkey, set[Pubkey]] = {}
        self.by_token_owner: dict[Pubkey, set[Pubkey]] = {}
        self.by_mint: dict[Pubkey, set[Pubkey]] = {}
        self._indexed: dict[Pubkey, tuple[Pubkey, Pubkey | None, Pubkey | None]] = {}
        self._set_clock()
        # Installed at every start, never persisted: the startup programs (loader-v3 accounts,
        # as solana-test-validator's --bpf-program), the feature accounts and native mints.
        self.startup_keys: set[Pubkey] = set()
        rent = self.svm.minimum_balance_for_rent_exemption
        for program_id, path in self.programs.items():
            if not Path(path).is_file():
                raise FileNotFoundError(f"program {program_id}: {path} is missing (run scripts/build-programs.sh)")
            for pubkey, account in startup_program_accounts(program_id, Path(path), rent):
                self.svm.set_account(pubkey, account)
                self._index(pubkey, account)
                self.startup_keys.add(pubkey)
        for pubkey, account in genesis_accounts(rent):
            self.svm.set_account(pubkey, account)
            self._index(pubkey, account)
        self._deployed: tuple[int, dict[Pubkey, bool]] = (-1, {})  # (slot, program -> not deployed)

    # -- genesis and restore ------------------------------------------------------------
    def genesis_accounts(self) -> list[AccountRow]:
        """Funds the faucet; returns the accounts to persist at genesis."""
        faucet = Account(FAUCET_LAMPORTS, b"", Pubkey.default(), False, 0)
        self.svm.set_account(self.faucet.pubkey(), faucet)
        self._index(self.faucet.pubkey(), faucet)
        return [AccountRow(self.faucet.pubkey(), faucet)]

    def restore_account(self, pubkey: Pubkey, account: Account) -> None:
        self.svm.set_account(pubkey, account)
        self._index(pubkey, account)

    def restore_accounts(self, accounts: Iterable[tuple[Pubkey, Account]]) -> None:
        """The ledger's accounts. Program accounts go last: LiteSVM compiles a program when
        its account is set, from its program data account (loader-v3), which must be there."""
        programs = []
        for pubkey, account in accounts:
            if account.executable:
                programs.append((pubkey, account))
            else:
                self.restore_account(pubkey, account)
        for pubkey, account in programs:
            self._set_program(pubkey, account)
            self._index(pubkey, account)

    def _set_program(self, pubkey: Pubkey, account: Account) -> None:
        """Stores a program account (LiteSVM compiles it then). A loader-v3 program whose
        program data was closed stays (as on Solana): LiteSVM compiles it from a stand-in
        program data that is removed again, and loader.py's rule answers "Program is not
        deployed" for it."""
        try:
            self.svm.set_account(pubkey, account)
            return
        except Exception:  # noqa: BLE001 - solders' LiteSVMError: no program data to compile
            if account.owner != LOADER_V3 or len(account.data) < 36:
                raise
        programdata_key = Pubkey(bytes(account.data)[4:36])
        before = self.svm.get_account(programdata_key)
        stand_in = bytes(self.svm.get_account(MEMO_PROGRAM).data)  # any valid ELF
        self.svm.set_account(programdata_key, Account(1, programdata_header(0, None) + stand_in, LOADER_V3, False, 0))
        self.svm.set_account(pubkey, account)
        self.svm.set_account(programdata_key, before if before is not None else Account(0, b"", Pubkey.default(), False, 0))

    def restore_history(self, records: list[TxRecord], statuses: list[tuple[str, int, object]], blocks: list[Block], tx_count: int) -> None:
        """The recent history a ledger holds (store.Loaded): records, statuses and blocks."""
        for record in records:
            record.committed = True
            self.txs[record.signature] = record
            self._record_order.append((record.slot, record.signature))
        for signature, slot, err in statuses:
            self.status_cache[signature] = (slot, err)
        for block in blocks:
            self.blocks[block.slot] = block
        self.tx_count = tx_count

    def resume(self, last_slot: int) -> Block:
        """After a restore: closes `last_slot` (its block gathers its restored transactions)
        and starts the next slot. Returns the block closed."""
        self.slot = last_slot
        self.block_time = self.blocks[last_slot].block_time if last_slot in self.blocks else int(time.time())
        self.current_sigs = [s for s, (slot, _) in self.status_cache.items() if slot == last_slot]
        block = self.advance()
        self.finality.restart_at(last_slot, self.tx_count)  # the ledger keeps no pre-images: all final
        return block

    # -- slots ---------------------------------------------------------------------------
    def blockhash(self, slot: int | None = None) -> Hash:
        if slot is None or slot == self.slot:
            return self.current_blockhash
        return blockhash_for(self.genesis, slot)

    @property
    def current_blockhash(self) -> Hash:
        """The current slot's blockhash (what getLatestBlockhash hands out at processed),
        computed once a slot: the intake compares every transaction's with it."""
        cached = self._current_hash
        if cached[0] != self.slot:
            cached = self._current_hash = (self.slot, blockhash_for(self.genesis, self.slot))
        return cached[1]

    @property
    def genesis_hash(self) -> str:
        return str(Hash(self.genesis))

    def _set_clock(self) -> None:
        epoch, _ = self.epoch_schedule.get_epoch_and_slot_index(self.slot)
        start = self.creation_time
        self.svm.set_clock(Clock(self.slot, start, epoch, epoch + 1, self.block_time))
        # SlotHashes: the hashes of the slots before this one, newest first, at most 512.
        hashes = self._slot_hashes
        if not hashes or hashes[0][0] != self.slot - 1 or len(hashes) < min(self.slot, SLOT_HASHES):
            hashes.clear()
            hashes.extend((s, self.blockhash(s)) for s in range(self.slot - 1, max(-1, self.slot - 1 - SLOT_HASHES), -1))
        if self.slot > 0:
            self.svm.set_slot_hashes(list(hashes))

    def advance(self) -> Block:
        """Ends the current slot and starts the next one; returns the finished block."""
        self._slot_hashes.appendleft((self.slot, self.blockhash()))
        block = Block.at(self.slot, self.block_time, self.genesis, self.current_sigs)
        self.blocks[self.slot] = block
        self.finality.note_slot_end(self.slot, self.tx_count)
        self.current_sigs = []
        self.slot += 1
        self.block_time = max(int(time.time()), self.block_time)
        self.svm.warp_to_slot(self.slot)
        self._set_clock()
        return block

    def forget(self, *, published: int) -> None:
        """Drops from memory what the ledger holds and the window no longer needs: blocks
        and statuses older than STATUS_SLOTS, full records older than RECORD_SLOTS. Only
        committed transactions in blocks up to `published` (already notified) are dropped."""
        for slot in [s for s in self.blocks if s < self.slot - STATUS_SLOTS and s <= published and s not in self.uncommitted_slots]:
            for signature in self.blocks.pop(slot).signatures:
                self.status_cache.pop(signature, None)
                self.txs.pop(signature, None)
        horizon = min(self.slot - RECORD_SLOTS, published + 1)
        order = self._record_order
        while order and order[0][0] < horizon:
            record = self.txs.get(order[0][1])
            if record is not None and not record.committed:
                break  # its commit is still on the way: keep it (and those after it)
            self.txs.pop(order.popleft()[1], None)

    def _blockhash_cache(self) -> dict[bytes, int]:
        cache = getattr(self, "_bh_cache", None)
        if cache is None or cache[0] != self.slot:
            lo = max(0, self.slot - MAX_AGE)
            cache = (self.slot, {bytes(self.blockhash(s)): s for s in range(lo, self.slot + 1)})
            self._bh_cache = cache
        return cache[1]

    def is_blockhash_valid(self, blockhash: Hash | str, at_slot: int | None = None) -> bool:
        """Whether a transaction on `blockhash` can land now, or, with `at_slot`, in the bank
        of that slot (a blockhash issued after it is unknown there, as on Solana)."""
        if not isinstance(blockhash, Hash):  # keyed by the 32 bytes: no base58 per transaction
            try:
                blockhash = Hash.from_string(str(blockhash))
            except Exception:  # noqa: BLE001 - solders' ParseHashError: not a hash, not valid
                return False
        if at_slot is None or at_slot >= self.slot:
            return bytes(blockhash) in self._blockhash_cache()
        cached = getattr(self, "_bh_at", None)
        if cached is None or cached[0] != at_slot:
            cached = (at_slot, {bytes(self.blockhash(s)) for s in range(max(0, at_slot - MAX_AGE), at_slot + 1)})
            self._bh_at = cached
        return bytes(blockhash) in cached[1]

    def last_valid_block_height(self, slot: int | None = None) -> int:
        return (self.slot if slot is None else slot) + MAX_AGE

    def _confirmed(self) -> int:
        """The last finished slot whose transactions are all committed (-1 during slot 0)."""
        if self.uncommitted_slots:
            return min(min(self.uncommitted_slots), self.slot) - 1
        return self.slot - 1

    def confirmed_slot(self) -> int:
        """The last finished slot whose transactions are all committed: as on Solana, a
        confirmed slot is a frozen bank (its block exists, its hash is in SlotHashes)."""
        return max(0, self._confirmed())

    def finalized_slot(self) -> int:
        """The root (finality.py): never above the confirmed slot."""
        return max(0, self.finality.root)

    def advance_root(self) -> list:
        """Moves the root up to where the confirmed slot puts it; returns what
        `Finality.advance` returns (per newly rooted slot, the accounts written in it)."""
        target = self.finality.target(self._confirmed())
        if target <= self.finality.root:
            return []
        return self.finality.advance(target)

    def slot_for(self, commitment: str | None) -> int:
        if commitment == "processed":
            return self.slot
        if commitment == "confirmed":
            return self.confirmed_slot()
        return self.finalized_slot()

    def mark_committed(self, signature: str) -> None:
        record = self.txs.get(signature)
        if record is not None:
            record.committed = True
        slot = self.uncommitted.pop(signature, None)
        if slot is not None:
            left = self.uncommitted_slots[slot] - 1
            if left:
                self.uncommitted_slots[slot] = left
            else:
                del self.uncommitted_slots[slot]

    def block_committed(self, slot: int) -> bool:
        """Whether every transaction of `slot` is committed."""
        return slot not in self.uncommitted_slots

    def level(self, slot: int, committed: bool = True) -> str:
        """The commitment a transaction of `slot` has reached (see the module doc)."""
        if not committed:
            return "processed"
        return "finalized" if slot <= self.finality.root else "confirmed"

    def confirmations(self, slot: int, level: str) -> int | None:
        """getSignatureStatuses' count, as agave: null once rooted, else the confirmed
        slots on top of it."""
        return None if level == "finalized" else max(0, self.confirmed_slot() - slot)

    def status_level(self, record: TxRecord) -> str:
        return self.level(record.slot, record.committed)

    def meets(self, record: TxRecord, commitment: str | None) -> bool:
        return reaches(self.status_level(record), commitment)

    def recent_status(self, signature: str) -> tuple[int, object, str] | None:
        """(slot, err, level) of a transaction in the in-memory window, else None."""
        record = self.txs.get(signature)
        if record is not None:
            return record.slot, record.err, self.status_level(record)
        cached = self.status_cache.get(signature)
        if cached is None:
            return None
        return cached[0], cached[1], self.level(cached[0])

    # -- accounts ------------------------------------------------------------------------
    def get_account(self, pubkey: Pubkey) -> Account | None:
        account = self.svm.get_account(pubkey)
        if account is None or (account.lamports == 0 and not account.executable):
            return None
        return account

    def get_account_at(self, pubkey: Pubkey, commitment: str | None) -> Account | None:
        """`pubkey` as a read at `commitment` sees it: the root's value at finalized (the
        default), the latest otherwise."""
        if commitment in ("processed", "confirmed"):
            return self.get_account(pubkey)
        account = self.finality.at_root(pubkey)
        if account is CURRENT:
            return self.get_account(pubkey)
        if account is None or (account.lamports == 0 and not account.executable):
            return None
        return account

    def account_reader(self, commitment: str | None):
        """A `pubkey -> Account | None` function for reads at `commitment`."""
        if commitment in ("processed", "confirmed") or self.finality.immediate:
            return self.get_account
        return lambda pubkey: self.get_account_at(pubkey, commitment)

    def keys_at(self, commitment: str | None, keys: list[Pubkey], owner: Pubkey | None = None) -> list[Pubkey]:
        """An index lookup's `keys` (by current owner, token owner or mint) plus, at
        finalized, the accounts written since the root whose value at the root belongs to
        `owner` (None: every one): the read then filters each by its value at the root."""
        if commitment in ("processed", "confirmed") or self.finality.immediate:
            return keys
        extra = [k for k, a in self.finality.root_keys() if a is not None and (owner is None or a.owner == owner)]
        return sorted(set(keys).union(extra), key=bytes) if extra else keys

    def _persistable(self, pubkey: Pubkey, account: Account | None) -> bool:
        if pubkey in self.startup_keys:
            return False
        if account is None:
            return True
        if account.owner in (SYSVAR_OWNER, NATIVE_LOADER):
            return False
        # Programs deployed by transactions (loader-v3/v4) persist; LiteSVM's own do not.
        return not (account.executable and account.owner in BUILTIN_LOADERS)

    def _index(self, pubkey: Pubkey, account: Account | None) -> None:
        old = self._indexed.get(pubkey)
        if old is not None and account is not None and old[1] is None and account.lamports and not account.executable:
            owner = account.owner
            if owner == old[0] and owner not in TOKEN_PROGRAMS:
                return  # the common case (a payer, a program's account): nothing to re-index
        old = self._indexed.pop(pubkey, None)
        if old is not None:
            owner, token_owner, mint = old
            self.by_owner.get(owner, set()).discard(pubkey)
            if token_owner is not None:
                self.by_token_owner.get(token_owner, set()).discard(pubkey)
            if mint is not None:
                self.by_mint.get(mint, set()).discard(pubkey)
        if account is None or (account.lamports == 0 and not account.executable):
            return
        token_owner = mint = None
        if account.owner in TOKEN_PROGRAMS and is_token_account(account):
            data = bytes(account.data)
            mint, token_owner = Pubkey(data[0:32]), Pubkey(data[32:64])
            self.by_token_owner.setdefault(token_owner, set()).add(pubkey)
            self.by_mint.setdefault(mint, set()).add(pubkey)
        self.by_owner.setdefault(account.owner, set()).add(pubkey)
        self._indexed[pubkey] = (account.owner, token_owner, mint)

    def all_accounts(self) -> list[Pubkey]:
        """Every indexed account (all that transactions or genesis created)."""
        return list(self._indexed)

    def program_accounts(self, owner: Pubkey) -> list[Pubkey]:
        return sorted(self.by_owner.get(owner, ()), key=bytes)

    def token_accounts_by_owner(self, owner: Pubkey) -> list[Pubkey]:
        return sorted(self.by_token_owner.get(owner, ()), key=bytes)

    def token_accounts_by_mint(self, mint: Pubkey) -> list[Pubkey]:
        return sorted(self.by_mint.get(mint, ()), key=bytes)

    # -- transactions --------------------------------------------------------------------
    def account_keys(self, message: Message | MessageV0) -> tuple[list[Pubkey], list[Pubkey], dict]:
        """All keys a message names (static, then lookup-table writable, readonly), its
        writable keys, and the loaded addresses (for the meta)."""
        keys = list(message.account_keys)
        writable = writable_keys(message, keys)
        loaded = {"writable": [], "readonly": []}
        if isinstance(message, MessageV0):
            lw, lr = [], []
            for lookup in message.address_table_lookups:
                table = self.svm.get_account(lookup.account_key)
                if table is None or table.owner != ALT_PROGRAM_ID:
                    continue
                data = bytes(table.data)[56:]
                addresses = [Pubkey(data[i:i + 32]) for i in range(0, len(data) - 31, 32)]
                lw += [addresses[i] for i in bytes(lookup.writable_indexes) if i < len(addresses)]
                lr += [addresses[i] for i in bytes(lookup.readonly_indexes) if i < len(addresses)]
            keys += lw + lr
            writable += lw
            loaded = {"writable": [str(k) for k in lw], "readonly": [str(k) for k in lr]}
        return keys, writable, loaded

    def seen(self, signature: str) -> bool:
        """Whether a transaction with this signature landed within the blockhash window
        (an older one cannot land again: its blockhash has expired)."""
        return signature in self.status_cache

    def process(self, tx: VersionedTransaction, signature: str | None = None, *, verified: bool = False) -> ProcessResult:
        """Executes `tx` now. The result's `record` is set when it landed (success or an
        execution failure that paid its fee); the caller persists `record` and `accounts`.
        `signature`: the first signature in base58, when the caller has it already.
        `verified`: its signatures were checked already (preflight, or signed here); otherwise
        they are checked here."""
        if signature is None:
            signature = str(tx.signatures[0])
        if signature in self.status_cache:
            return ProcessResult(signature, _fieldless("AlreadyProcessed"), [], 0)
        if not verified and not verify_signatures(tx):
            return ProcessResult(signature, _fieldless("SignatureFailure"), [], 0)
        message = tx.message
        nonced = False  # a durable-nonce transaction (its "blockhash" is the nonce)
        if not self.is_blockhash_valid(message.recent_blockhash):
            nonced = durable_nonce_valid(self.svm, message)
            if not nonced:
                return ProcessResult(signature, _fieldless("BlockhashNotFound"), [], 0)
        keys, writable, loaded = self.account_keys(message)
        pre_accounts = [self.svm.get_account(k) for k in keys]
        pre = [a.lamports if a is not None else 0 for a in pre_accounts]
        pre_tokens = self._token_balances(keys, pre_accounts)
        budget = compute_budget(message, keys)  # static keys first: a sanitized message's program ids index them
        priority = budget.priority_fee
        if not self._take_priority_fee(keys[0], pre_accounts[0], budget):
            return ProcessResult(signature, _fieldless("InsufficientFundsForFee"), [], 0)
        result = self._send(tx, keys, writable, pre_accounts)
        # Only writable accounts can change (the runtime refuses any other change): the
        # others are read once.
        writable_set = set(writable)
        post_accounts = [self.svm.get_account(k) if k in writable_set else a for k, a in zip(keys, pre_accounts)]
        post = [a.lamports if a is not None else 0 for a in post_accounts]
        meta = result.meta() if isinstance(result, FailedTransactionMetadata) else result
        logs = list(meta.logs())
        # Only a loader-v3/v4 program can be "not deployed", and every program a transaction
        # invokes (CPI included) is one of its keys: without such an account, no log to read.
        undeployed = self._first_undeployed(logs) if any(a is not None and a.owner in PROGRAM_LOADERS for a in post_accounts) else None
        if isinstance(result, FailedTransactionMetadata):
            err = result.err()
            landed = post[0] != pre[0] - priority  # the signature fee was charged: it is in a block
            if not landed and priority:  # refused before execution: no fee at all
                self.svm.set_account(keys[0], pre_accounts[0])
                post_accounts[0], post[0] = pre_accounts[0], pre[0]
            if landed and nonced:
                nonce_key = advance_after_failure(self.svm, message)
                post_accounts = [self.svm.get_account(k) if k == nonce_key else a for k, a in zip(keys, post_accounts)]
                post = [a.lamports if a is not None else 0 for a in post_accounts]
            if landed and undeployed is not None:  # it stopped there on Solana
                err, logs = _unsupported_program(undeployed), undeployed_logs(logs, undeployed)
        else:
            err, landed = None, True
            if undeployed is not None:
                err, logs = _unsupported_program(undeployed), undeployed_logs(logs, undeployed)
            else:
                violation = self.rent.first_violation(keys, writable_set, pre_accounts, post_accounts)
                if violation is not None:
                    err = TransactionErrorInsufficientFundsForRent(violation)
            if err is not None:
                # As a validator: the transaction fails, its changes are undone, it pays its fee.
                self._undo(keys, writable_set, pre_accounts)
                self.svm.set_account(keys[0], _with_lamports(pre_accounts[0], pre_accounts[0].lamports - budget.fee))
                if nonced:
                    advance_after_failure(self.svm, message)
                post_accounts = [self.svm.get_account(k) for k in keys]
                post = [a.lamports if a is not None else 0 for a in post_accounts]
        units = meta.compute_units_consumed()
        out = ProcessResult(signature, err, logs, units, keys=keys, writable=writable, return_data=meta.return_data())
        if not landed:
            return out
        fee = budget.fee
        self.recent_fees.record(self.slot, budget.price, writable)
        ejson = err_json(err)
        meta_json = {
            "err": ejson,
            "status": {"Ok": None} if ejson is None else {"Err": ejson},
            "fee": fee,
            "preBalances": pre,
            "postBalances": post,
            "innerInstructions": _inner(meta.inner_instructions()),
            "logMessages": logs,
            "preTokenBalances": pre_tokens,
            "postTokenBalances": self._token_balances(keys, post_accounts),
            "rewards": [],
            "loadedAddresses": loaded,
            "computeUnitsConsumed": units,
        }
        rd = meta.return_data()
        if rd is not None and bytes(rd.data):
            meta_json["returnData"] = {"programId": str(rd.program_id), "data": [base64.b64encode(bytes(rd.data)).decode(), "base64"]}
        record = TxRecord.build(signature, self.slot, self.block_time, bytes(tx), meta_json)
        self.tx_count += 1
        record.tx_id = self.tx_count
        self.txs[signature] = record
        self._record_order.append((self.slot, signature))
        self.status_cache[signature] = (self.slot, ejson)
        self.uncommitted[signature] = self.slot
        self.uncommitted_slots[self.slot] = self.uncommitted_slots.get(self.slot, 0) + 1
        self.current_sigs.append(signature)
        rows = []
        # Only writable accounts can have changed: the runtime refuses a change to any other.
        post_by_key = dict(zip(keys, post_accounts))
        pre_by_key = dict(zip(keys, pre_accounts))
        note_write, slot = self.finality.note_write, self.slot
        for key in dict.fromkeys(writable):  # a lookup table may repeat a key: once is enough
            account = post_by_key[key]
            if account is not None and account.owner in PROGRAM_LOADERS:
                self._deployed = (-1, {})  # a deployment changed: judge programs afresh
            if account is not None and account.lamports == 0 and not account.executable:
                account = None
            if not self._persistable(key, account):
                continue
            note_write(slot, key, pre_by_key[key])  # its value at the root (finality.py)
            self._index(key, account)
            rows.append(AccountRow(key, account))
        out.record, out.accounts = record, rows
        return out

    def _send(self, tx: VersionedTransaction, keys: list[Pubkey], writable: list[Pubkey], pre_accounts: list):
        """LiteSVM's send_transaction, except for a transaction that writes a deployed
        loader-v3 program account (Upgrade, ExtendProgram, Close, a transfer to it): LiteSVM
        recompiles such a program when it stores the transaction's accounts, in an order of
        its own, and panics when the program data is gone at that moment (a closed program).
        Such a transaction is simulated, and its accounts stored here in a safe order."""
        writable_set = set(writable)
        if not any(a is not None and a.executable and k in writable_set and a.owner == LOADER_V3 for k, a in zip(keys, pre_accounts)):
            return self.svm.send_transaction(tx)
        simulated = self.svm.simulate_transaction(tx)
        if isinstance(simulated, FailedTransactionMetadata):
            return self.svm.send_transaction(tx)  # fails the same way; LiteSVM stores no account then
        posts = dict(simulated.post_accounts())
        programs = []
        for key in dict.fromkeys(writable):
            account = posts.get(key)
            if account is None:
                continue
            if account.executable:
                programs.append((key, account))
            else:
                self.svm.set_account(key, account)
        for key, account in programs:
            self._set_program(key, account)
        return simulated.meta()

    def _take_priority_fee(self, payer_key: Pubkey, payer: Account | None, budget) -> bool:
        """LiteSVM charges the signature fee only: the prioritization fee is deducted before
        execution, as a validator takes the whole fee first (and keeps it if execution
        fails). False, with nothing taken, when the payer cannot pay the whole fee."""
        if not budget.priority_fee:
            return True
        if payer is None or payer.lamports < budget.fee:
            return False
        self.svm.set_account(payer_key, _with_lamports(payer, payer.lamports - budget.priority_fee))
        return True

    def _undo(self, keys: list[Pubkey], writable: set[Pubkey], before: list) -> None:
        """Puts every writable account back as it was before a transaction."""
        # Program accounts last: LiteSVM compiles a program from the program data set before it.
        restore = sorted(((k, a) for k, a in zip(keys, before) if k in writable), key=lambda ka: ka[1] is not None and ka[1].executable)
        for key, account in restore:
            if account is not None and account.executable:
                self._set_program(key, account)
            else:
                self.svm.set_account(key, account if account is not None else Account(0, b"", Pubkey.default(), False, 0))

    def _token_balances(self, keys: list[Pubkey], accounts: list) -> list[dict]:
        """Solana's pre/postTokenBalances: one entry per SPL token account among `keys`."""
        out = []
        for index, account in enumerate(accounts):
            if account is None or account.owner not in TOKEN_PROGRAMS or len(account.data) < 165 or not account.lamports or not is_token_account(account):
                continue
            data = bytes(account.data)
            mint = self.svm.get_account(Pubkey(data[0:32]))
            if mint is None or len(mint.data) < 45:
                continue
            out.append({
                "accountIndex": index,
                "mint": str(Pubkey(data[0:32])),
                "owner": str(Pubkey(data[32:64])),
                "programId": str(account.owner),
                "uiTokenAmount": _ui_amount(int.from_bytes(data[64:72], "little"), bytes(mint.data)[44]),
            })
        return out

    def simulate(self, tx: VersionedTransaction, *, sig_verify: bool = False, replace_blockhash: bool = False, commitment: str | None = "processed", verified: bool = False):
        """Runs `tx` without committing, in the bank of `commitment` (as agave's preflight
        and simulateTransaction): at finalized (the default on Solana) on the accounts and
        blockhashes of the root, else on the latest state. Returns (err, logs, units,
        post_accounts by key, return_data). `verified`: with sig_verify, the caller has checked
        the signatures already."""
        if commitment in ("processed", "confirmed") or self.finality.immediate:
            return self._simulate(tx, sig_verify, replace_blockhash, None, verified)
        swapped = []  # (key, its current value): the root's values are put in for the run
        for key in dict.fromkeys(self.account_keys(tx.message)[0]):
            value = self.finality.at_root(key)
            if value is not CURRENT:
                swapped.append((key, self.svm.get_account(key)))
                self.svm.set_account(key, value if value is not None else _EMPTY)
        try:
            return self._simulate(tx, sig_verify, replace_blockhash, self.finalized_slot(), verified)
        finally:
            for key, account in swapped:
                self.svm.set_account(key, account if account is not None else _EMPTY)

    def _simulate(self, tx: VersionedTransaction, sig_verify: bool, replace_blockhash: bool, at_slot: int | None, verified: bool):
        signature = str(tx.signatures[0])
        if sig_verify and self.seen(signature):
            return _fieldless("AlreadyProcessed"), [], 0, {}, None
        if not replace_blockhash and not self.is_blockhash_valid(tx.message.recent_blockhash, at_slot) and not durable_nonce_valid(self.svm, tx.message):
            return _fieldless("BlockhashNotFound"), [], 0, {}, None
        budget = compute_budget(tx.message)
        payer_key = tx.message.account_keys[0]
        payer = self.svm.get_account(payer_key) if budget.priority_fee else None
        if payer is not None and not self._take_priority_fee(payer_key, payer, budget):  # as process(); put back below
            return _fieldless("InsufficientFundsForFee"), [], 0, {}, None
        if sig_verify and not verified and not verify_signatures(tx):
            if payer is not None:
                self.svm.set_account(payer_key, payer)
            return _fieldless("SignatureFailure"), [], 0, {}, None
        try:
            result = self.svm.simulate_transaction(tx)
        finally:
            if payer is not None:
                self.svm.set_account(payer_key, payer)
        meta = result.meta()
        logs = list(meta.logs())
        undeployed = self._first_undeployed(logs)
        if undeployed is not None:  # as on Solana: it stops there
            return _unsupported_program(undeployed), undeployed_logs(logs, undeployed), meta.compute_units_consumed(), {}, None
        if isinstance(result, FailedTransactionMetadata):
            return result.err(), logs, meta.compute_units_consumed(), {}, meta.return_data()
        post = {k: a for k, a in result.post_accounts()}
        keys, writable, _ = self.account_keys(tx.message)
        before = [self.svm.get_account(k) for k in keys]
        violation = self.rent.first_violation(keys, set(writable), before, [post.get(k, a) for k, a in zip(keys, before)])
        if violation is not None:
            return TransactionErrorInsufficientFundsForRent(violation), logs, meta.compute_units_consumed(), {}, meta.return_data()
        return None, logs, meta.compute_units_consumed(), post, meta.return_data()

    def _first_undeployed(self, logs: list[str]):
        """The first program the logs show invoked that is not deployed in this slot
        (loader.py's rule, which LiteSVM does not apply); None almost always."""
        slot, verdicts = self._deployed
        if slot != self.slot:
            verdicts = {}
            self._deployed = (self.slot, verdicts)

        def undeployed(program: Pubkey) -> bool:
            verdict = verdicts.get(program)
            if verdict is None:
                verdict = program not in self.startup_keys and not_deployed(self.svm.get_account, program, self.slot)
                verdicts[program] = verdict
            return verdict

        return first_undeployed(logs, undeployed)

    def airdrop_transaction(self, to: Pubkey, lamports: int) -> VersionedTransaction:
        """A System transfer from the faucet, signed, on the current blockhash (a repeat of
        the same payee and amount within one slot gets a memo, so its signature differs)."""
        blockhash = self.blockhash()
        ixs = [transfer(TransferParams(from_pubkey=self.faucet.pubkey(), to_pubkey=to, lamports=lamports))]
        message = Message.new_with_blockhash(ixs, self.faucet.pubkey(), blockhash)
        tx = Transaction([self.faucet], message, blockhash)
        if self.seen(str(tx.signatures[0])):
            # Same payee and amount twice in one slot: make it distinct with a memo.
            from solders.instruction import Instruction

            memo = Instruction(Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"), f"airdrop {time.time_ns()}".encode(), [])
            message = Message.new_with_blockhash(ixs + [memo], self.faucet.pubkey(), blockhash)
            tx = Transaction([self.faucet], message, blockhash)
        return VersionedTransaction.from_bytes(bytes(tx))

    def record_keys(self, record: TxRecord) -> list[Pubkey]:
        """Every key a recorded transaction named (static and loaded), once each."""
        tx = VersionedTransaction.from_bytes(record.tx_bytes)
        keys = list(tx.message.account_keys)
        if getattr(tx.message, "address_table_lookups", None):  # only v0 messages load more
            loaded = record.meta.get("loadedAddresses") or {}
            keys += [Pubkey.from_string(k) for k in loaded.get("writable", []) + loaded.get("readonly", [])]
        return list(dict.fromkeys(keys))


_LEVELS = {"processed": 0, "confirmed": 1, "finalized": 2}


def reaches(level: str, commitment: str | None) -> bool:
    """Whether a transaction at `level` is visible at `commitment` (default finalized)."""
    return _LEVELS[level] >= _LEVELS.get(commitment or "finalized", 2)


_EMPTY = Account(0, b"", Pubkey.default(), False, 0)  # what LiteSVM holds for an absent account


def _unsupported_program(found):
    from solders.transaction_status import InstructionErrorFieldless, TransactionErrorInstructionError

    return TransactionErrorInstructionError(found.instruction, InstructionErrorFieldless.UnsupportedProgramId)


def _with_lamports(account: Account, lamports: int) -> Account:
    return Account(lamports, bytes(account.data), account.owner, account.executable, account.rent_epoch)


def _fieldless(name: str):
    from solders.transaction_status import TransactionErrorFieldless

    return getattr(TransactionErrorFieldless, name)


def _inner(inner: Iterable) -> list[dict]:
    out = []
    for index, instructions in enumerate(inner):
        if not instructions:
            continue
        out.append({
            "index": index,
            "instructions": [
                {
                    "programIdIndex": compiled.program_id_index,
                    "accounts": list(bytes(compiled.accounts)),
                    "data": based58.b58encode(bytes(compiled.data)).decode(),
                    "stackHeight": ix.stack_height(),
                }
                for ix in instructions
                for compiled in (ix.instruction(),)
            ],
        })
    return out


def _ui_amount(amount: int, decimals: int) -> dict:
    from ..rpc.encoding import ui_amount  # the RPC's shape of a token amount, for the records

    return ui_amount(amount, decimals)


def is_token_account(account: Account) -> bool:
    n = len(account.data)
    if n == 165:
        return True
    return account.owner == TOKEN_2022_PROGRAM_ID and n > 165 and bytes(account.data)[165] == 2


def is_mint(account: Account) -> bool:
    n = len(account.data)
    if account.owner not in TOKEN_PROGRAMS:
        return False
    if n == 82:
        return True
    return account.owner == TOKEN_2022_PROGRAM_ID and n > 165 and bytes(account.data)[165] == 1
