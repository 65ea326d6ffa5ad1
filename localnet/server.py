"""The localnet server: a Bank (bank.py) on a slot timer, its Store (store.py), the JSON-RPC
handler (rpc.py, served by http.py) on `rpc_port` and the PubSub server (pubsub.py) on `rpc_port + 1`.

Startup: an empty ledger gets a genesis (a random genesis hash, the faucet keypair saved as
`faucet.json` in the ledger, the faucet's balance) written synchronously; a ledger with
data is loaded (its accounts, and the recent history the bank keeps in memory) into a
fresh LiteSVM (programs reloaded from their .so files) and the bank resumes one slot after
the last it had. Then the writer process, the slot timer and both sites start. Shutdown
stops the timer and the sites, then lets the writer commit what is queued. If the writer
dies, `failed` is set and the command line stops the server (exit code 1).

Chain events, in the order a one-node agave cluster sends them: at each slot boundary the
slot's end and the next slot's start (tick); then, whenever the confirmed slot moves (a
boundary, or the commit of a slot's last transaction), each newly confirmed slot, and each
slot the root passes (finality.py). Finalized logs and block notifications need the rooted
slot's records, which may be in the ledger only: a task reads them in order, off the loop's
hot path, and only while someone subscribes to them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
import tomllib
from pathlib import Path
from typing import Awaitable, Callable

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from .runtime.bank import RECORD_SLOTS, STATUS_SLOTS, Bank, Block, ProcessResult
from .ledger.finality import FINALITY_LAG, Finality
from .rpc.history import History
from .runtime.intake import Intake, Then
from .rpc.pubsub import Hub, serve_pubsub
from .ledger.store import Store, StoreFailed, Write
from .runtime.verifier import Verifier
from .ledger.writer import SCHEMA_VERSION
from .runtime.svm import deploy_dir, packaged_programs_dir, repo_root

__all__ = ["Localnet", "default_programs", "default_ledger"]

log = logging.getLogger("crowdcompute.localnet")

# A slot ends early, for a transaction on its blockhash (intake.py), once it has lasted this
# share of --slot-ms: at most four early ends a slot's time, so a blockhash stays valid for at
# least 150 quarter slots (15 s at 400 ms) however fast clients send on fresh blockhashes, and
# such a transaction waits at most a quarter slot (agave's client waits for a slot's end).
EARLY_END_AFTER = 0.25


def default_ledger() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crowdcompute" / "localnet"


def default_programs() -> dict[Pubkey, Path]:
    """The programs of Anchor.toml's [programs.localnet], from target/deploy/<name>.so (a
    checkout) or from the wheel's crowdcompute/programs (an installed package)."""
    anchor = repo_root() / "Anchor.toml"
    if not anchor.is_file():
        anchor = packaged_programs_dir() / "Anchor.toml"
    programs: dict[Pubkey, Path] = {}
    if anchor.is_file():
        config = tomllib.loads(anchor.read_text())
        for name, address in config.get("programs", {}).get("localnet", {}).items():
            programs[Pubkey.from_string(address)] = deploy_dir() / f"{name}.so"
    return programs


LEDGER_FILE = "ledger.sqlite3"


def _check_is_ledger(folder: Path) -> None:
    """--reset deletes the ledger folder: refuse a folder that holds anything else, so a
    mistyped --ledger (a home directory, a project) is never wiped."""
    if not folder.is_dir():
        raise ValueError(f"--ledger {str(folder)!r} is not a directory")
    entries = {entry.name for entry in folder.iterdir()}
    if entries and LEDGER_FILE not in entries:
        raise ValueError(f"refusing to reset {str(folder)!r}: it is not empty and holds no {LEDGER_FILE}")


class Localnet:
    def __init__(self, ledger: Path | None = None, *, programs: dict[Pubkey, Path] | None = None, slot_ms: int = 400, reset: bool = False,
                 finality_lag: int | None = FINALITY_LAG, frontend: str | None = None) -> None:
        """`finality_lag`: slots between the confirmed slot and the root (None: finalize
        immediately, the root is the confirmed slot). `frontend`: what serves JSON-RPC,
        "native" (front.py, where the native module is built) or "python" (http.py); None:
        CROWDCOMPUTE_LOCALNET_FRONTEND, else native where built."""
        self.ledger = Path(ledger) if ledger else default_ledger()
        if reset and self.ledger.exists():
            _check_is_ledger(self.ledger)
            shutil.rmtree(self.ledger)
        self.ledger.mkdir(parents=True, exist_ok=True)
        self.programs = dict(default_programs() if programs is None else programs)
        self.slot_ms = slot_ms
        self.store = Store(self.ledger)
        self.finality_lag = finality_lag
        self.frontend = frontend
        try:
            self.bank = self._open()
        except BaseException:
            self.store.conn.close()
            self.store._server_lock.close()
            raise
        self.history = History(self.bank, self.store, slot_ms)
        self.hub = Hub(self.bank)
        self.verifier = Verifier()
        self.intake = Intake(self.bank, self.store, self.hub, self.verifier, end_slot=self.end_slot_early)
        self._slot_started = time.monotonic()  # when the current slot began (tick)
        self.failed: asyncio.Event | None = None  # made by start_store (it needs the loop)
        self.pending_blocks: list[Block] = []  # finished blocks not yet confirmed
        self.confirmed_announced = self.bank.confirmed_slot()
        self._rooted: asyncio.Queue | None = None  # rooted slots whose transactions subscribers want
        self._rooted_task: asyncio.Task | None = None
        self._http = None
        self._ws = None
        self.address: tuple[str, int] | None = None
        self._timer: asyncio.Task | None = None
        self._background: set[asyncio.Future] = set()
        self.started_at = time.monotonic()

    # -- ledger --------------------------------------------------------------------------
    def _faucet(self) -> Keypair:
        return self._keypair("faucet.json")

    def _keypair(self, name: str) -> Keypair:
        """A keypair kept in the ledger folder (created, written and fsynced if absent)."""
        path = self.ledger / name
        if path.is_file():
            return Keypair.from_bytes(bytes(json.loads(path.read_text())))
        keypair = Keypair()
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write(json.dumps(list(bytes(keypair))))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return keypair

    def _open(self) -> Bank:
        faucet = self._faucet()
        loaded = self.store.load(status_slots=STATUS_SLOTS, record_slots=RECORD_SLOTS)
        if loaded is None:
            genesis = os.urandom(32)
            bank = Bank(self.programs, genesis_hash=genesis, faucet=faucet)
            bank.finality = Finality(self.finality_lag)
            rows = bank.genesis_accounts()
            # Slot 0 is the genesis block, finished before the first answer (as on a validator):
            # getBlock(0) answers from the start; transactions land from slot 1 on.
            block = bank.advance()
            meta = {"genesis_hash": genesis.hex(), "creation_time": str(bank.creation_time), "slot": str(bank.slot), "schema_version": SCHEMA_VERSION}
            self.store.write_now(Write(accounts=rows, block=block, meta=meta))
            return bank
        meta = loaded.meta
        bank = Bank(self.programs, genesis_hash=bytes.fromhex(meta["genesis_hash"]), faucet=faucet, creation_time=int(meta["creation_time"]))
        bank.finality = Finality(self.finality_lag)
        bank.restore_accounts(loaded.accounts)
        bank.restore_history(loaded.txs, loaded.statuses, loaded.blocks, loaded.tx_count)
        block = bank.resume(loaded.last_slot)
        self.store.write_now(Write(block=block, meta={"slot": str(bank.slot)}))
        return bank

    # -- serving -------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 8899) -> None:
        from .rpc.front import NativeFront, native_frontend
        from .rpc.http import serve_http
        from .rpc.methods import MAX_BODY, RpcHandler, error_body

        self.address = (host, port)
        await self.start_store()
        # The native front end (front.py) where it is built; else the asyncio server.
        frontend = native_frontend(self.frontend)
        if frontend is not None:
            self._http = NativeFront(self, frontend, host, port)
        else:
            self._http = await serve_http(RpcHandler(self), host, port, max_body=MAX_BODY, error_body=error_body)
        self._ws = await serve_pubsub(self.hub, host, port + 1)
        self._timer = asyncio.ensure_future(self._slots())
        self._rooted = asyncio.Queue()
        self._rooted_task = asyncio.ensure_future(self._rooted_feed())

    async def start_store(self) -> None:
        """Starts the writer and verifier processes (start() does it; call it first to run
        transactions, e.g. provision(), before the server listens). `failed` is set if the
        writer dies: the server must stop, as it can no longer make transactions durable."""
        if not self.store.started:
            self.failed = asyncio.Event()
            self.store.on_failure = lambda error: self.failed.set()
            await self.store.start()
            self.verifier.start()

    async def stop(self) -> None:
        for task in (self._timer, self._rooted_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if self._ws is not None:
            self._ws.close()
            await asyncio.wait_for(self._ws.wait_closed(), 5)
        if self._http is not None:
            await self._http.close()
        if self._background:
            await asyncio.wait(self._background, timeout=5)
        await self.verifier.close()  # what it still checks runs, and is committed below
        await self.store.close()

    async def _slots(self) -> None:
        # The timer keeps its own pace: a slot that follows an early end (end_slot_early) is
        # shorter, and the number of slots stays the time elapsed / slot_ms plus the early ends.
        period = self.slot_ms / 1000
        deadline = time.monotonic() + period
        while True:
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            deadline += period
            if deadline < time.monotonic():  # fell behind (a long stall): do not burst
                deadline = time.monotonic() + period
            self.tick()
            self.intake.slot_ended()

    def end_slot_early(self) -> float:
        """Ends the current slot for a transaction on its blockhash (intake.py) and returns 0,
        or, while the slot has lasted less than EARLY_END_AFTER of a slot, returns the
        seconds left until it may end."""
        wait = self._slot_started + self.slot_ms * EARLY_END_AFTER / 1000 - time.monotonic()
        if wait > 0:
            return wait
        self.tick()
        return 0.0

    def tick(self) -> Block:
        self._slot_started = time.monotonic()
        block = self.bank.advance()
        if self.store.failed is None:  # after a writer failure the server is stopping (see start_store)
            try:
                self._track(self.store.submit(Write(block=block, meta={"slot": str(self.bank.slot)})))
            except StoreFailed:
                pass  # failed is set: the command line stops the server
        self.hub.publish_slot(block, self.bank.slot)
        self.pending_blocks.append(block)
        self._settle()
        published = self.pending_blocks[0].slot - 1 if self.pending_blocks else block.slot
        self.bank.forget(published=published)
        return block

    def _track(self, future: asyncio.Future) -> None:
        self._background.add(future)

        def done(f: asyncio.Future) -> None:
            self._background.discard(f)
            if not f.cancelled() and f.exception() is not None:
                log.error("ledger write failed: %s", f.exception())

        future.add_done_callback(done)

    def _settle(self) -> None:
        """After the confirmed slot may have moved: confirmed blocks, then the root."""
        while self.pending_blocks and self.bank.block_committed(self.pending_blocks[0].slot):
            block = self.pending_blocks.pop(0)
            self.hub.publish_block(block)
            if block.slot > self.confirmed_announced:
                self.confirmed_announced = block.slot
                self.hub.publish_confirmed_slot(block.slot)
        for slot, written in self.bank.advance_root():
            self.hub.publish_rooted(slot, written)
            if self._rooted is not None and self.hub.wants_rooted_transactions():
                self._rooted.put_nowait(slot)

    async def _rooted_feed(self) -> None:
        """Finalized logs and block notifications, slot by slot in root order."""
        while True:
            slot = await self._rooted.get()
            try:
                block = await self.history.block(slot)
                if block is not None:
                    records = await self.history.records(block.signatures) if block.signatures else {}
                    self.hub.publish_rooted_transactions(block, records)
            except Exception:  # noqa: BLE001 - a failed read must not stop later notifications
                log.exception("finalized notifications of slot %d failed", slot)

    # -- transactions --------------------------------------------------------------------
    def execute(self, tx: VersionedTransaction, signature: str | None = None, *, verified: bool = False,
                preflight: Callable[[bool], None] | None = None, raw: bytes | None = None, verdict: bool | None = None,
                then: Then | None = None) -> Awaitable[ProcessResult] | None:
        """Processes `tx` (intake.py: in arrival order; its signatures checked on the verifier
        process unless `verified`; `preflight(verified)` right before, which may raise the
        error to answer instead); when it landed, the result comes only after its durable
        commit. `raw`: its wire bytes as received, if known; `verdict`: whether its signatures
        verify, when the native front end checked them already. A future, not a coroutine:
        one frame fewer to resume on the hot path; or, with `then` (intake.Then), None, and
        `then` is settled instead."""
        return self.intake.execute(tx, signature or str(tx.signatures[0]), verified=verified, preflight=preflight, raw=raw, verdict=verdict,
                                   then=then)

    async def run_instructions(self, instructions: list, signers: list[Keypair]) -> ProcessResult:
        """Signs `instructions` with the faucet (fee payer) and `signers`, and executes them
        through the normal path (recorded, durable, notified)."""
        blockhash = self.bank.blockhash()
        message = Message.new_with_blockhash(instructions, self.bank.faucet.pubkey(), blockhash)
        tx = Transaction([self.bank.faucet, *signers], message, blockhash)
        result = await self.execute(VersionedTransaction.from_bytes(bytes(tx)), verified=True)  # signed here
        if result.err is not None:
            raise RuntimeError(f"provisioning transaction failed: {result.err}\n" + "\n".join(result.logs))
        return result

    async def provision(self, *, test_mint: bool, fund: list[Pubkey], sol: int, tokens: int) -> Pubkey | None:
        """The demo set-up: a test payment mint (6 decimals, authority = the faucet; its
        keypair kept as test-mint.json in the ledger, so it survives restarts), and each of
        `fund` topped up to `sol` lamports and, with a mint, `tokens` base units in its
        associated token account. Idempotent: a restart only tops up."""
        from crowdcompute.common.token import MINT_LEN, associated_token_address, create_associated_token_account, create_mint_instructions, mint_to_instruction

        mint: Pubkey | None = None
        if test_mint:
            keypair = self._keypair("test-mint.json")
            mint = keypair.pubkey()
            if self.bank.get_account(mint) is None:
                rent = self.bank.svm.minimum_balance_for_rent_exemption(MINT_LEN)
                await self.run_instructions(create_mint_instructions(self.bank.faucet.pubkey(), mint, self.bank.faucet.pubkey(), decimals=6, lamports=rent), [keypair])
        for owner in fund:
            account = self.bank.get_account(owner)
            have = account.lamports if account else 0
            if have < sol:
                await self.run_instructions([transfer(TransferParams(from_pubkey=self.bank.faucet.pubkey(), to_pubkey=owner, lamports=sol - have))], [])
            if mint is not None:
                ata = associated_token_address(owner, mint)
                existing = self.bank.get_account(ata)
                balance = int.from_bytes(bytes(existing.data)[64:72], "little") if existing else 0
                ixs = [] if existing else [create_associated_token_account(self.bank.faucet.pubkey(), owner, mint)]
                if balance < tokens:
                    ixs.append(mint_to_instruction(mint, ata, self.bank.faucet.pubkey(), tokens - balance))
                if ixs:
                    await self.run_instructions(ixs, [])
        return mint
