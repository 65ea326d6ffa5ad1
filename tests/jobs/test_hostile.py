"""Hostile calls against the jobs program: every test sends a transaction an attacker could
build (wrong signer, forged or substituted accounts, type cosplay, replays, revived
accounts, overflowing amounts, calls in the wrong state) to the real SBF build in LiteSVM,
and asserts both the exact refusal (the program's custom error, or the runtime's) and that
nothing moved: the raw bytes, lamports and owner of the markets, the jobs, the vaults, the
token accounts and the actors are the same before and after.

The world every test starts from (fixture `world`):
- `market` (SETTINGS, 16 entries, authority `authority`) holds three jobs posted by `poster`:
  `running` (entry 0, matched to `node` when posted), `queued` (entry 1, paid by `poster`)
  and `sponsored` (entry 2, queued, paid by `stranger`, so poster and payer differ);
- `other_market` (same settings, another authority) holds `other_job`, queued, posted and
  paid by `stranger`;
- the clock is 100 seconds past the posts.

Each attack starts from an honest call (`World.honest`) that the program would accept (or
refuse only for the state the world is in) and changes one thing, so a refusal is due to
that change. Transactions are paid by a fee payer that is never watched, so failed
transactions' fees do not count as a change.

Sections: 1 wrong signer (and signer/writable flags dropped), 2 wrong owner, 3 type
cosplay and forged copies, 4 substituted vault, token accounts, programs and sysvars,
5 a job of another market, 6 second initialisation, 7 one account passed twice,
8 closed accounts revived, 9 overflowing amounts and timeouts, 10 calls in the wrong state.

Where the program deliberately leaves a check to SPL Token (the mint of a token account that
pays into or out of the vault), the expected refusal is SPL Token's error, surfaced through
the failing CPI (`CalleeError`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import pytest
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import TransferParams, transfer
from solders.sysvar import CLOCK, RENT
from solders.transaction_status import InstructionErrorFieldless, TransactionErrorInstructionError

from crowdcompute.client import MarketSettings
from crowdcompute.client.jobs.layout import JOB_SIZE, market_size
from crowdcompute.common.token import MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID
from crowdcompute.sandbox import Actor, Sandbox, digest
from crowdcompute.localnet.runtime.svm import SvmChain, Outcome
from tests.conftest import SETTINGS
from tests.idl_accounts import IdlAccounts

CAPACITY = 16
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
U64_MAX = 2**64 - 1
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
RANDOM_PROGRAM_ID = Pubkey(hashlib.sha256(b"a random program").digest())
MARKET_DISCRIMINATOR = hashlib.sha256(b"account:Market").digest()[:8]
JOB_DISCRIMINATOR = hashlib.sha256(b"account:Job").digest()[:8]
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
CLOCK_UNIX_TIMESTAMP = slice(32, 40)


@dataclass(frozen=True)
class CalleeError:
    """A refusal by a program the jobs program invokes, surfaced as the custom error of the
    jobs instruction (a failing CPI aborts the transaction with the callee's error)."""

    program: Pubkey
    code: int
    name: str


# spl_token::error::TokenError and solana_system_interface::error::SystemError.
TOKEN_MINT_MISMATCH = CalleeError(TOKEN_PROGRAM_ID, 3, "MintMismatch")
SYSTEM_ACCOUNT_ALREADY_IN_USE = CalleeError(SYSTEM_PROGRAM_ID, 0, "AccountAlreadyInUse")

# What refuses a transaction: a jobs error (by name), a callee's error, or the runtime's.
Refusal = str | CalleeError | InstructionErrorFieldless


JOBS_ACCOUNTS = IdlAccounts("jobs")
ACCOUNTS = JOBS_ACCOUNTS.names


# -- instructions ----------------------------------------------------------------------
tamper = JOBS_ACCOUNTS.tamper
account_of = JOBS_ACCOUNTS.account_of


def demote(name: str, ix: Instruction, account: str, *, signer: bool | None = False, writable: bool | None = None) -> Instruction:
    """`ix` with one account's flags set (None keeps a flag): by default, no longer a signer."""
    meta = ix.accounts[ACCOUNTS[name].index(account)]
    signer = meta.is_signer if signer is None else signer
    writable = meta.is_writable if writable is None else writable
    return tamper(name, ix, **{account: AccountMeta(meta.pubkey, signer, writable)})


# -- state -----------------------------------------------------------------------------
def account_state(chain: SvmChain, address: Pubkey) -> tuple | None:
    """Lamports, owner, executable flag and data of an account; None if it does not exist."""
    account = chain.svm.get_account(address)
    if account is None or (account.lamports == 0 and not account.data):
        return None
    return account.lamports, bytes(account.owner), account.executable, bytes(account.data)


class Snapshot:
    """The raw state of labelled accounts at one moment."""

    def __init__(self, chain: SvmChain, accounts: dict[str, Pubkey]) -> None:
        self.chain = chain
        self.accounts = dict(accounts)
        self.states = {label: account_state(chain, address) for label, address in self.accounts.items()}

    def changed(self) -> list[str]:
        """Labels of the accounts whose lamports, owner or bytes differ now."""
        return [label for label, address in self.accounts.items() if account_state(self.chain, address) != self.states[label]]


def plant(chain: SvmChain, data: bytes, owner: Pubkey, address: Pubkey | None = None) -> Pubkey:
    """Writes a rent-exempt account with `data` owned by `owner` (a new address by default)."""
    address = address or Keypair().pubkey()
    chain.set_account(address, Account(chain.rent_exempt(len(data)), bytes(data), owner, False, 0))
    return address


def data_of(chain: SvmChain, address: Pubkey) -> bytes:
    return bytes(chain.svm.get_account(address).data)


def open_market_ixs(sandbox: Sandbox, authority: Pubkey, market: Pubkey, settings: MarketSettings, *, capacity: int = CAPACITY) -> list[Instruction]:
    return [
        sandbox.jobs.create_market_account(authority, market, capacity=capacity, lamports=sandbox.chain.rent_exempt(market_size(capacity))),
        sandbox.jobs.open_market(authority, market, sandbox.mint, settings),
    ]


# -- the world -------------------------------------------------------------------------
@dataclass
class World:
    sandbox: Sandbox
    errors: object
    market: Pubkey
    authority: Actor
    poster: Actor
    node: Actor
    stranger: Actor
    running: Keypair
    queued: Keypair
    sponsored: Keypair
    other_market: Pubkey
    other_authority: Actor
    other_job: Keypair
    fee: Keypair
    extra: dict[str, Pubkey] = field(default_factory=dict)

    @property
    def chain(self) -> SvmChain:
        return self.sandbox.chain

    @property
    def jobs(self):
        return self.sandbox.jobs

    @property
    def vault(self) -> Pubkey:
        return self.jobs.vault(self.market)

    @property
    def other_vault(self) -> Pubkey:
        return self.jobs.vault(self.other_market)

    def watched(self) -> dict[str, Pubkey]:
        """Every account an attack could move something out of or into."""
        accounts = {
            "market": self.market, "vault": self.vault, "other_market": self.other_market, "other_vault": self.other_vault,
            "running": self.running.pubkey(), "queued": self.queued.pubkey(), "sponsored": self.sponsored.pubkey(),
            "other_job": self.other_job.pubkey(),
        }
        for role in ("authority", "poster", "node", "stranger", "other_authority"):
            actor: Actor = getattr(self, role)
            accounts[role] = actor.pubkey
            accounts[f"{role}.token"] = actor.token
        accounts.update(self.extra)
        return accounts

    def watch(self, **accounts: Pubkey) -> None:
        """Adds accounts (planted ones, extra token accounts) to what every attack checks."""
        self.extra.update(accounts)

    def send(self, instructions: list[Instruction], signers: list[Keypair]) -> Outcome:
        return self.chain.send(list(instructions), list(signers), payer=self.fee)

    def must(self, instructions: list[Instruction], signers: list[Keypair]) -> Outcome:
        return self.sandbox.must(self.send(instructions, signers))

    def honest(self, name: str) -> tuple[Instruction, dict[str, Keypair]]:
        """A call of `name` by the party entitled to make it, and its signers by account.

        cancel and extend target `queued`/`sponsored`, the running-job calls `running`;
        reclaim and clean are built the honest way even though the world is not yet past
        the timeout or settled (their refusals for that come after every account check)."""
        jobs, running, queued, sponsored = self.jobs, self.running.pubkey(), self.queued.pubkey(), self.sponsored.pubkey()
        if name == "post":
            job = Keypair()
            ix = jobs.post(poster=self.poster.pubkey, payer=self.stranger.pubkey, job=job.pubkey(), market=self.market,
                           payer_token=self.stranger.token, definition=digest("hostile post"), timeout=600,
                           max_price_per_second=SETTINGS.price_per_second, max_fee_bps=0)
            return ix, {"poster": self.poster.keypair, "payer": self.stranger.keypair, "job": job}
        if name == "cancel":
            ix = jobs.cancel(poster=self.poster.pubkey, job=queued, market=self.market, payer_token=self.poster.token, payer=self.poster.pubkey)
            return ix, {"poster": self.poster.keypair}
        if name == "extend":
            ix = jobs.extend(poster=self.poster.pubkey, payer=self.stranger.pubkey, job=sponsored, market=self.market,
                             payer_token=self.stranger.token, extra=60)
            return ix, {"poster": self.poster.keypair, "payer": self.stranger.keypair}
        if name == "end":
            ix = jobs.end(poster=self.poster.pubkey, job=running, market=self.market, node_token=self.node.token, payer_token=self.poster.token)
            return ix, {"poster": self.poster.keypair}
        if name == "finish":
            ix = jobs.finish(node=self.node.pubkey, job=running, market=self.market, node_token=self.node.token,
                             payer_token=self.poster.token, result=digest("honest result"))
            return ix, {"node": self.node.keypair}
        if name == "quit":
            return jobs.quit(node=self.node.pubkey, job=running, market=self.market, payer_token=self.poster.token), {"node": self.node.keypair}
        if name == "reclaim":
            return jobs.reclaim(job=running, market=self.market, payer_token=self.poster.token), {}
        if name == "clean":
            return jobs.clean(job=running, market=self.market, payer=self.poster.pubkey), {}
        if name == "work":
            return jobs.work(node=self.node.pubkey, market=self.market), {"node": self.node.keypair}
        if name == "leave":
            return jobs.leave(node=self.node.pubkey, market=self.market, slot=0), {"node": self.node.keypair}
        if name == "update_market":
            return jobs.update_market(self.authority.pubkey, self.market, SETTINGS), {"authority": self.authority.keypair}
        if name == "close_market":
            return jobs.close_market(self.authority.pubkey, self.market, self.authority.token), {"authority": self.authority.keypair}
        raise KeyError(name)

    def refused(self, outcome: Outcome, error: Refusal, *, index: int = 0) -> None:
        """The transaction failed in instruction `index` with `error`: a jobs error name, a
        callee's error (which must be logged as that program's failure), or a runtime error."""
        logs = "\n".join(outcome.logs)
        assert not outcome.ok, f"the hostile transaction SUCCEEDED\n{logs}"
        got = outcome.custom_error
        detail = f"got {got} ({self.errors.name(got)}; {outcome.error})\n{logs}"
        if isinstance(error, InstructionErrorFieldless):
            assert isinstance(outcome.error, TransactionErrorInstructionError) and outcome.error.err == error, f"expected {error}, {detail}"
        elif isinstance(error, CalleeError):
            assert got == error.code, f"expected {error}, {detail}"
            assert f"Program {error.program} failed: custom program error: {error.code:#x}" in outcome.logs, f"expected {error}, {detail}"
        else:
            assert got == self.errors[error], f"expected {error} ({self.errors[error]}), {detail}"
        assert isinstance(outcome.error, TransactionErrorInstructionError) and outcome.error.index == index, \
            f"expected a failure in instruction {index}, got {outcome.error}"

    def attack(self, instructions: list[Instruction], signers: list[Keypair], error: Refusal, *, index: int | None = None) -> Outcome:
        """Sends a hostile transaction; asserts the exact refusal and that nothing changed."""
        before = Snapshot(self.chain, self.watched())
        outcome = self.send(instructions, signers)
        self.refused(outcome, error, index=len(instructions) - 1 if index is None else index)
        assert before.changed() == [], f"a refused transaction changed {before.changed()}"
        return outcome

    # -- moving the world on (honestly) ----------------------------------------------
    def settle_running(self) -> None:
        """The node finishes `running`, and the market's retention passes: it can be cleaned."""
        ix, signers = self.honest("finish")
        self.must([ix], list(signers.values()))
        self.chain.advance(SETTINGS.retention + 1)

    def reclaim_once_and_rematch(self) -> None:
        """`running` is reclaimed once (re-queued at the front), another node takes it (the
        silent one never gets it back) and its timeout passes: the next reclaim is the last
        (SETTINGS.max_attempts = 2) and refunds the payer."""
        self.chain.advance(600)
        self.must([self.jobs.reclaim(job=self.running.pubkey(), market=self.market, payer_token=self.poster.token)], [])
        second = self.sandbox.actor()
        self.watch(second_node=second.pubkey, **{"second_node.token": second.token})
        self.must([self.jobs.work(node=second.pubkey, market=self.market)], [second.keypair])
        self.chain.advance(600)


@pytest.fixture
def world(sandbox: Sandbox, errors) -> World:
    market, authority, outcome = sandbox.open_market(SETTINGS, capacity=CAPACITY)
    sandbox.must(outcome)
    other_market, other_authority, outcome = sandbox.open_market(SETTINGS, capacity=CAPACITY)
    sandbox.must(outcome)
    poster = sandbox.actor(tokens=1_000_000)
    node = sandbox.actor()
    stranger = sandbox.actor(tokens=1_000_000)
    running, queued, sponsored, other_job = Keypair(), Keypair(), Keypair(), Keypair()
    sandbox.must(sandbox.work(market, node))
    sandbox.must(sandbox.post(market, poster, job=running)[1])
    sandbox.must(sandbox.post(market, poster, job=queued)[1])
    sandbox.must(sandbox.post(market, poster, payer=stranger, job=sponsored)[1])
    sandbox.must(sandbox.post(other_market, stranger, job=other_job)[1])
    sandbox.chain.advance(100)
    world = World(sandbox, errors, market, authority, poster, node, stranger, running, queued, sponsored,
                  other_market, other_authority, other_job, sandbox.chain.funded())
    # The world is what the docstring says.
    assert [sandbox.job_state(job.pubkey()).slot for job in (running, queued, sponsored)] == [0, 1, 2]
    entries = sandbox.market_state(market).entries
    assert type(entries[0].state).__name__ == "Running" and entries[0].node == node.pubkey
    assert data_of(sandbox.chain, market)[:8] == MARKET_DISCRIMINATOR
    assert data_of(sandbox.chain, running.pubkey())[:8] == JOB_DISCRIMINATOR
    return world


def custom_market(world: World, settings: MarketSettings) -> tuple[Pubkey, Actor]:
    """Another market on the world's mint with `settings`, watched by later attacks."""
    market, authority, outcome = world.sandbox.open_market(settings, capacity=CAPACITY)
    world.sandbox.must(outcome)
    world.watch(custom_market=market, custom_vault=world.jobs.vault(market), custom_authority=authority.pubkey)
    return market, authority


JOB_INSTRUCTIONS = ["cancel", "extend", "end", "finish", "quit", "reclaim", "clean"]
MARKET_INSTRUCTIONS = JOB_INSTRUCTIONS + ["post", "work", "leave", "update_market", "close_market"]


# == 1. wrong signer ====================================================================
def test_cancel_by_stranger_instead_of_poster(world: World):
    ix = world.jobs.cancel(poster=world.stranger.pubkey, job=world.queued.pubkey(), market=world.market,
                           payer_token=world.poster.token, payer=world.poster.pubkey)
    world.attack([ix], [world.stranger.keypair], "PosterMismatch")


def test_cancel_rent_to_other_than_payer(world: World):
    # The poster cancels a job someone else paid for and names itself as the payer.
    sponsored = world.sponsored.pubkey()
    ix = world.jobs.cancel(poster=world.poster.pubkey, job=sponsored, market=world.market, payer_token=world.stranger.token, payer=world.poster.pubkey)
    world.attack([ix], [world.poster.keypair], "PayerMismatch")


def test_extend_by_stranger_instead_of_poster(world: World):
    ix = world.jobs.extend(poster=world.stranger.pubkey, payer=world.stranger.pubkey, job=world.queued.pubkey(),
                           market=world.market, payer_token=world.stranger.token, extra=60)
    world.attack([ix], [world.stranger.keypair], "PosterMismatch")


def test_extend_paid_by_other_than_jobs_payer(world: World):
    ix = world.jobs.extend(poster=world.poster.pubkey, payer=world.poster.pubkey, job=world.sponsored.pubkey(),
                           market=world.market, payer_token=world.poster.token, extra=60)
    world.attack([ix], [world.poster.keypair], "PayerMismatch")


def test_end_by_stranger_instead_of_poster(world: World):
    ix = world.jobs.end(poster=world.stranger.pubkey, job=world.running.pubkey(), market=world.market,
                        node_token=world.node.token, payer_token=world.poster.token)
    world.attack([ix], [world.stranger.keypair], "PosterMismatch")


def test_finish_by_node_not_assigned(world: World):
    thief = world.sandbox.actor()
    world.watch(thief=thief.pubkey, thief_token=thief.token)
    ix = world.jobs.finish(node=thief.pubkey, job=world.running.pubkey(), market=world.market, node_token=thief.token,
                           payer_token=world.poster.token, result=digest("stolen"))
    world.attack([ix], [thief.keypair], "NodeNotAssigned")


def test_quit_by_node_not_assigned(world: World):
    thief = world.sandbox.actor()
    world.watch(thief=thief.pubkey)
    ix = world.jobs.quit(node=thief.pubkey, job=world.running.pubkey(), market=world.market, payer_token=world.poster.token)
    world.attack([ix], [thief.keypair], "NodeNotAssigned")


def test_leave_by_node_not_queued_there(world: World):
    # In a market where `node` waits at entry 0, another node tries to remove it.
    lobby, _ = custom_market(world, SETTINGS)
    world.must([world.jobs.work(node=world.node.pubkey, market=lobby)], [world.node.keypair])
    ix = world.jobs.leave(node=world.stranger.pubkey, market=lobby, slot=0)
    world.attack([ix], [world.stranger.keypair], "NodeNotQueued")
    # The node itself can leave: the refusal was about the signer.
    world.must([world.jobs.leave(node=world.node.pubkey, market=lobby, slot=0)], [world.node.keypair])


def test_update_market_by_stranger(world: World):
    cheap = MarketSettings(price_per_second=0, max_timeout=I64_MAX, retention=0, max_attempts=1)
    ix = world.jobs.update_market(world.stranger.pubkey, world.market, cheap)
    world.attack([ix], [world.stranger.keypair], "AuthorityMismatch")


def test_close_market_by_stranger(world: World):
    empty, authority = custom_market(world, SETTINGS)
    world.sandbox.mint_to(world.jobs.vault(empty), 777)  # stray tokens the thief would sweep
    ix = world.jobs.close_market(world.stranger.pubkey, empty, world.stranger.token)
    world.attack([ix], [world.stranger.keypair], "AuthorityMismatch")
    # The authority can close it: the refusal was about the signer.
    world.must([world.jobs.close_market(authority.pubkey, empty, authority.token)], [authority.keypair])
    assert world.sandbox.balance(authority.token) == 777 and world.chain.account(empty) is None


SIGNERS = [
    ("post", "poster"), ("post", "payer"), ("post", "job"),
    ("cancel", "poster"), ("extend", "poster"), ("extend", "payer"), ("end", "poster"),
    ("finish", "node"), ("quit", "node"), ("work", "node"), ("leave", "node"),
    ("update_market", "authority"), ("close_market", "authority"),
]


@pytest.mark.parametrize("name,account", SIGNERS, ids=[f"{n}-{a}" for n, a in SIGNERS])
def test_signer_passed_as_non_signer(world: World, name: str, account: str):
    ix, signers = world.honest(name)
    ix = demote(name, ix, account)
    others = [keypair for key, keypair in signers.items() if key != account]
    world.attack([ix], others, "SignatureMissing")


def test_open_market_on_precreated_account_without_its_signature(world: World):
    # The market account exists (created by its owner's keypair in an earlier transaction);
    # an attacker tries to initialise it with itself as authority, without the market's key.
    market = Keypair()
    world.must([open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), SETTINGS)[0]], [world.authority.keypair, market])
    world.watch(precreated=market.pubkey(), precreated_vault=world.jobs.vault(market.pubkey()))
    ix = world.jobs.open_market(world.stranger.pubkey, market.pubkey(), world.sandbox.mint, SETTINGS)
    ix = demote("open_market", ix, "market")
    world.attack([ix], [world.stranger.keypair], "SignatureMissing")


WRITABLES = [
    ("post", "vault"), ("post", "payer_token"), ("post", "market"), ("cancel", "job"), ("cancel", "payer"),
    ("finish", "node_token"), ("finish", "payer_token"), ("end", "job"), ("work", "market"), ("clean", "payer"),
]


@pytest.mark.parametrize("name,account", WRITABLES, ids=[f"{n}-{a}" for n, a in WRITABLES])
def test_writable_passed_as_read_only(world: World, name: str, account: str):
    ix, signers = world.honest(name)
    ix = demote(name, ix, account, signer=None, writable=False)
    world.attack([ix], list(signers.values()), "AccountNotWritable")


# == 2. wrong owner =====================================================================
OWNERS = {"system": SYSTEM_PROGRAM_ID, "token": TOKEN_PROGRAM_ID, "random": RANDOM_PROGRAM_ID}


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("name", JOB_INSTRUCTIONS)
def test_job_copy_owned_by_another_program(world: World, name: str, owner: str):
    ix, signers = world.honest(name)
    real = account_of(name, ix, "job")
    copy = plant(world.chain, data_of(world.chain, real), OWNERS[owner])
    world.watch(copy=copy)
    world.attack([tamper(name, ix, job=copy)], list(signers.values()), "AccountOwnerInvalid")


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("name", MARKET_INSTRUCTIONS)
def test_market_copy_owned_by_another_program(world: World, name: str, owner: str):
    ix, signers = world.honest(name)
    copy = plant(world.chain, data_of(world.chain, world.market), OWNERS[owner])
    world.watch(copy=copy)
    world.attack([tamper(name, ix, market=copy)], list(signers.values()), "AccountOwnerInvalid")


# == 3. type cosplay ====================================================================
@pytest.mark.parametrize("name", JOB_INSTRUCTIONS)
def test_market_passed_as_job(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, job=world.market)], list(signers.values()), "AccountDiscriminatorInvalid")


@pytest.mark.parametrize("name", MARKET_INSTRUCTIONS)
def test_job_passed_as_market(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, market=world.running.pubkey())], list(signers.values()), "AccountDiscriminatorInvalid")


def test_job_bytes_with_market_discriminator(world: World):
    # A program-owned account holding a job's bytes under the Market discriminator: as a
    # job its type is wrong; as a market its size cannot be a market's.
    forged_data = MARKET_DISCRIMINATOR + data_of(world.chain, world.running.pubkey())[8:]
    forged = plant(world.chain, forged_data, world.jobs.program_id)
    world.watch(forged=forged)
    ix, signers = world.honest("finish")
    world.attack([tamper("finish", ix, job=forged)], list(signers.values()), "AccountDiscriminatorInvalid")
    ix, signers = world.honest("work")
    world.attack([tamper("work", ix, market=forged)], list(signers.values()), "AccountSizeInvalid")


def test_market_bytes_with_job_discriminator(world: World):
    forged_data = JOB_DISCRIMINATOR + data_of(world.chain, world.market)[8:]
    forged = plant(world.chain, forged_data, world.jobs.program_id)
    world.watch(forged=forged)
    ix, signers = world.honest("finish")
    world.attack([tamper("finish", ix, job=forged)], list(signers.values()), "AccountDiscriminatorInvalid")
    ix, signers = world.honest("work")
    world.attack([tamper("work", ix, market=forged)], list(signers.values()), "AccountDiscriminatorInvalid")


def test_job_of_wrong_size(world: World):
    # Right owner and discriminator, one byte more or less: load_job refuses the size as a
    # wrong type (AccountDiscriminatorInvalid), before reading any field.
    data = data_of(world.chain, world.running.pubkey())
    for variant in (data + b"\0", data[:-1], data[:8]):
        forged = plant(world.chain, variant, world.jobs.program_id)
        world.watch(forged=forged)
        ix, signers = world.honest("finish")
        world.attack([tamper("finish", ix, job=forged)], list(signers.values()), "AccountDiscriminatorInvalid")


def test_market_of_wrong_size(world: World):
    data = data_of(world.chain, world.market)
    for variant in (data + b"\0", data[:-1], data[: -77], data[:100]):
        forged = plant(world.chain, variant, world.jobs.program_id)
        world.watch(forged=forged)
        ix, signers = world.honest("work")
        world.attack([tamper("work", ix, market=forged)], list(signers.values()), "AccountSizeInvalid")
    forged = plant(world.chain, data[:5], world.jobs.program_id)
    world.watch(forged=forged)
    world.attack([tamper("work", ix, market=forged)], list(signers.values()), "AccountDiscriminatorInvalid")


# The exact bytes of a real job in a program-owned account at another address (which no one
# can produce on a cluster: this checks the second line of defence, the entry's job key).
FORGED_COPY = [("finish", "JobNotRunning"), ("end", "JobNotRunning"), ("quit", "JobNotRunning"),
               ("reclaim", "JobNotRunning"), ("cancel", "JobNotQueued"), ("extend", "JobNotOpen")]


@pytest.mark.parametrize("name,error", FORGED_COPY, ids=[n for n, _ in FORGED_COPY])
def test_forged_job_copy_at_another_address(world: World, name: str, error: str):
    ix, signers = world.honest(name)
    real = account_of(name, ix, "job")
    forged = plant(world.chain, data_of(world.chain, real), world.jobs.program_id)
    world.watch(forged=forged)
    if name == "reclaim":
        world.chain.advance(600)  # past the timeout, so only the job's identity can refuse
    world.attack([tamper(name, ix, job=forged)], list(signers.values()), error)


# == 4. substituted vault, token accounts and programs ==================================
VAULT_INSTRUCTIONS = ["post", "cancel", "extend", "end", "finish", "reclaim", "close_market"]


@pytest.mark.parametrize("substitute", ["other_vault", "own_token", "random"])
@pytest.mark.parametrize("name", VAULT_INSTRUCTIONS)
def test_vault_substituted(world: World, name: str, substitute: str):
    ix, signers = world.honest(name)
    fake = {"other_vault": world.other_vault, "own_token": world.poster.token, "random": Keypair().pubkey()}[substitute]
    world.attack([tamper(name, ix, vault=fake)], list(signers.values()), "VaultMismatch")


def test_open_market_with_vault_not_its_pda(world: World):
    market = Keypair()
    create, open_ = open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), SETTINGS)
    world.watch(new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    for fake in (world.vault, world.jobs.vault(world.other_market), Keypair().pubkey()):
        world.attack([create, tamper("open_market", open_, vault=fake)], [world.authority.keypair, market], "VaultMismatch")


# (instruction, token account, whose account the honest call passes there)
TOKEN_SLOTS = [
    ("post", "payer_token", "stranger"), ("cancel", "payer_token", "poster"), ("extend", "payer_token", "stranger"),
    ("finish", "node_token", "node"), ("finish", "payer_token", "poster"),
    ("end", "node_token", "node"), ("end", "payer_token", "poster"), ("quit", "payer_token", "poster"),
]
TOKEN_IDS = [f"{n}-{a}" for n, a, _ in TOKEN_SLOTS]


@pytest.mark.parametrize("name,account,owner", TOKEN_SLOTS, ids=TOKEN_IDS)
def test_token_account_of_another_mint(world: World, name: str, account: str, owner: str):
    # The rightful owner's account, of another mint (and funded in it). A source's mint is
    # left to SPL Token (it refuses a transfer between two mints, and every deposit goes to
    # the vault); a payee's mint is checked by the program, whatever the amount (issue 9: a
    # zero payout makes no transfer, so nothing else would check it).
    other_mint = world.sandbox.new_mint()
    rightful: Actor = getattr(world, owner)
    fake = world.sandbox.token_account(rightful.pubkey, other_mint)
    world.sandbox.mint_to(fake, 1_000_000, other_mint)
    world.watch(fake=fake)
    ix, signers = world.honest(name)
    error = TOKEN_MINT_MISMATCH if name in ("post", "extend") else "TokenMintMismatch"
    world.attack([tamper(name, ix, **{account: fake})], list(signers.values()), error)


# (instruction, token account, whose token account the attacker passes instead)
FOREIGN_TOKENS = [
    ("finish", "payer_token", "node"),        # the node takes the payer's refund
    ("finish", "node_token", "stranger"),     # the pay goes to someone else than the node
    ("end", "node_token", "poster"),          # the poster takes the node's pay
    ("end", "payer_token", "stranger"),
    ("cancel", "payer_token", "stranger"),
    ("post", "payer_token", "poster"),        # the payer spends the poster's tokens
    ("extend", "payer_token", "poster"),
]


@pytest.mark.parametrize("name,account,thief", FOREIGN_TOKENS, ids=[f"{n}-{a}-{t}" for n, a, t in FOREIGN_TOKENS])
def test_token_account_of_another_owner(world: World, name: str, account: str, thief: str):
    ix, signers = world.honest(name)
    error = "TokenOwnerMismatch"
    world.attack([tamper(name, ix, **{account: getattr(world, thief).token})], list(signers.values()), error)


def test_reclaim_refund_to_foreign_token_account(world: World):
    # reclaim is open to anyone (here: a caller that only pays the fee); its refund must
    # still go to the job's payer.
    world.reclaim_once_and_rematch()
    other_mint = world.sandbox.new_mint()
    poster_other_mint = world.sandbox.token_account(world.poster.pubkey, other_mint)
    world.watch(poster_other_mint=poster_other_mint)
    for payer_token, error in ((world.stranger.token, "TokenOwnerMismatch"), (world.node.token, "TokenOwnerMismatch"),
                               (world.vault, "TokenOwnerMismatch"), (poster_other_mint, "TokenMintMismatch"),
                               (world.stranger.pubkey, "TokenAccountInvalid")):
        ix = world.jobs.reclaim(job=world.running.pubkey(), market=world.market, payer_token=payer_token)
        world.attack([ix], [], error)
    # The honest refund goes through: the refusals were about the token account.
    before = world.sandbox.balance(world.poster.token)
    world.must([world.jobs.reclaim(job=world.running.pubkey(), market=world.market, payer_token=world.poster.token)], [])
    assert world.sandbox.balance(world.poster.token) == before + SETTINGS.price_per_second * 600
    assert type(world.sandbox.job_state(world.running.pubkey()).state).__name__ == "Failed"


def test_close_market_sweep_to_foreign_token_account(world: World):
    empty, authority = custom_market(world, SETTINGS)
    vault = world.jobs.vault(empty)
    world.sandbox.mint_to(vault, 500)
    for destination, error in ((world.stranger.token, "TokenOwnerMismatch"), (vault, "AccountAliased"),
                               (authority.pubkey, "TokenAccountInvalid")):
        ix = world.jobs.close_market(authority.pubkey, empty, destination)
        world.attack([ix], [authority.keypair], error)


# Each kind of fake token account: all refused by the program before any transfer.
FAKE_TOKEN_ACCOUNTS = ["system_account", "mint", "uninitialised", "foreign_owned_copy"]


@pytest.mark.parametrize("kind", FAKE_TOKEN_ACCOUNTS)
@pytest.mark.parametrize("name,account,owner", TOKEN_SLOTS, ids=TOKEN_IDS)
def test_not_a_token_account(world: World, name: str, account: str, owner: str, kind: str):
    rightful: Actor = getattr(world, owner)
    if kind == "system_account":
        fake = rightful.pubkey
    elif kind == "mint":
        fake = world.sandbox.mint
    elif kind == "uninitialised":
        fake = plant(world.chain, bytes(TOKEN_ACCOUNT_LEN), TOKEN_PROGRAM_ID)
    else:  # the rightful token account's exact bytes, owned by another program
        fake = plant(world.chain, data_of(world.chain, rightful.token), RANDOM_PROGRAM_ID)
    world.watch(fake=fake)
    ix, signers = world.honest(name)
    error = "TokenAccountInvalid"
    world.attack([tamper(name, ix, **{account: fake})], list(signers.values()), error)


PROGRAM_SUBSTITUTES = {"token_2022": TOKEN_2022_PROGRAM_ID, "system": SYSTEM_PROGRAM_ID, "random": RANDOM_PROGRAM_ID}
TOKEN_PROGRAM_INSTRUCTIONS = ["post", "cancel", "extend", "end", "finish", "reclaim", "close_market"]


@pytest.mark.parametrize("substitute", PROGRAM_SUBSTITUTES)
@pytest.mark.parametrize("name", TOKEN_PROGRAM_INSTRUCTIONS)
def test_token_program_substituted(world: World, name: str, substitute: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, token_program=PROGRAM_SUBSTITUTES[substitute])], list(signers.values()), "ProgramIdInvalid")


@pytest.mark.parametrize("fake", ["token", "jobs", "random"])
def test_system_program_substituted_in_post(world: World, fake: str):
    program = {"token": TOKEN_PROGRAM_ID, "jobs": world.jobs.program_id, "random": RANDOM_PROGRAM_ID}[fake]
    ix, signers = world.honest("post")
    world.attack([tamper("post", ix, system_program=program)], list(signers.values()), "ProgramIdInvalid")


@pytest.mark.parametrize("account,fake", [("system_program", TOKEN_PROGRAM_ID), ("system_program", RANDOM_PROGRAM_ID),
                                          ("token_program", TOKEN_2022_PROGRAM_ID), ("token_program", SYSTEM_PROGRAM_ID)],
                         ids=["system-token", "system-random", "token-2022", "token-system"])
def test_program_substituted_in_open_market(world: World, account: str, fake: Pubkey):
    market = Keypair()
    create, open_ = open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), SETTINGS)
    world.watch(new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    world.attack([create, tamper("open_market", open_, **{account: fake})], [world.authority.keypair, market], "ProgramIdInvalid")


@pytest.mark.parametrize("kind,error", [("token_2022_mint", "MintNotSplToken"), ("token_account", "MintInvalid"),
                                        ("uninitialised_mint", "MintInvalid"), ("system_account", "MintInvalid")])
def test_open_market_with_invalid_mint(world: World, kind: str, error: str):
    mint_data = data_of(world.chain, world.sandbox.mint)
    fake = {
        "token_2022_mint": lambda: plant(world.chain, mint_data, TOKEN_2022_PROGRAM_ID),
        "token_account": lambda: world.poster.token,
        "uninitialised_mint": lambda: plant(world.chain, bytes(MINT_LEN), TOKEN_PROGRAM_ID),
        "system_account": lambda: world.stranger.pubkey,
    }[kind]()
    market = Keypair()
    create, open_ = open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), SETTINGS)
    world.watch(fake=fake, new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    world.attack([create, tamper("open_market", open_, mint=fake)], [world.authority.keypair, market], error)


def _fake_sysvar(world: World, sysvar: Pubkey, patch: Callable[[bytearray], None]) -> Pubkey:
    """A copy of a sysvar's account, patched, owned by the Sysvar program, at another address."""
    data = bytearray(data_of(world.chain, sysvar))
    patch(data)
    fake = plant(world.chain, bytes(data), SYSVAR_OWNER)
    world.watch(fake_sysvar=fake)
    return fake


def _clock_in_future(data: bytearray) -> None:
    now = int.from_bytes(data[CLOCK_UNIX_TIMESTAMP], "little", signed=True)
    data[CLOCK_UNIX_TIMESTAMP] = (now + 1_000_000).to_bytes(8, "little", signed=True)


CLOCK_INSTRUCTIONS = ["post", "work", "finish", "quit", "reclaim", "end", "clean"]


@pytest.mark.parametrize("substitute", ["future_clock", "rent_sysvar", "system_program"])
@pytest.mark.parametrize("name", CLOCK_INSTRUCTIONS)
def test_clock_substituted(world: World, name: str, substitute: str):
    # A clock a million seconds ahead would pay a node the whole timeout, let anyone reclaim
    # a job at once or clean it before its retention: only the Clock sysvar is read.
    if name == "clean":
        world.settle_running()
        world.chain.set_time(world.chain.now() - SETTINGS.retention)  # back inside the retention
    ix, signers = world.honest(name)
    fake = {"future_clock": lambda: _fake_sysvar(world, CLOCK, _clock_in_future), "rent_sysvar": lambda: RENT,
            "system_program": lambda: SYSTEM_PROGRAM_ID}[substitute]()
    world.attack([tamper(name, ix, clock=fake)], list(signers.values()), "SysvarInvalid")


def test_finish_with_future_clock_then_honest(world: World):
    fake = _fake_sysvar(world, CLOCK, _clock_in_future)
    ix, signers = world.honest("finish")
    world.attack([tamper("finish", ix, clock=fake)], list(signers.values()), "SysvarInvalid")
    # With the real clock the node is paid for the 100 seconds it ran, not the 600 it could.
    world.must([ix], list(signers.values()))
    assert world.sandbox.balance(world.node.token) == 100 * SETTINGS.price_per_second


def _cheap_rent(data: bytearray) -> None:
    data[0:8] = (1).to_bytes(8, "little")  # one lamport per byte-year


@pytest.mark.parametrize("substitute", ["cheap_rent", "clock_sysvar"])
def test_rent_substituted(world: World, substitute: str):
    # A cheaper rent would create the job (or the vault) below rent exemption.
    fake = _fake_sysvar(world, RENT, _cheap_rent) if substitute == "cheap_rent" else CLOCK
    ix, signers = world.honest("post")
    world.attack([tamper("post", ix, rent=fake)], list(signers.values()), "SysvarInvalid")
    market = Keypair()
    create, open_ = open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), SETTINGS)
    world.watch(new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    world.attack([create, tamper("open_market", open_, rent=fake)], [world.authority.keypair, market], "SysvarInvalid")


# == 5. a job of another market =========================================================
@pytest.mark.parametrize("name", JOB_INSTRUCTIONS)
def test_job_of_another_market(world: World, name: str):
    # other_job (of other_market) passed with this market and its vault.
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, job=world.other_job.pubkey())], list(signers.values()), "MarketMismatch")


@pytest.mark.parametrize("name", JOB_INSTRUCTIONS)
def test_market_of_another_job(world: World, name: str):
    # This market's job passed with the other market (and the other market's vault).
    ix, signers = world.honest(name)
    changes = {"market": world.other_market}
    if "vault" in ACCOUNTS[name]:
        changes["vault"] = world.other_vault
    world.attack([tamper(name, ix, **changes)], list(signers.values()), "MarketMismatch")


def test_node_running_in_both_markets_finishes_across(world: World):
    # The node runs a job at entry 0 in each market; it presents one market's job with the
    # other market (same entry index, its own entry): the job's market field refuses it.
    world.must([world.jobs.work(node=world.node.pubkey, market=world.other_market)], [world.node.keypair])
    assert world.sandbox.market_state(world.other_market).entries[0].node == world.node.pubkey
    ix = world.jobs.finish(node=world.node.pubkey, job=world.running.pubkey(), market=world.other_market,
                           node_token=world.node.token, payer_token=world.poster.token, result=digest("crossed"))
    world.attack([ix], [world.node.keypair], "MarketMismatch")


# == 6. second initialisation ===========================================================
def test_open_market_twice(world: World):
    market = Keypair()
    authority = world.authority
    create, open_ = open_market_ixs(world.sandbox, authority.pubkey, market.pubkey(), SETTINGS)
    world.must([create, open_], [authority.keypair, market])
    world.watch(new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    # Re-initialising, even by the market's own keys, with new settings or a new authority.
    cheap = MarketSettings(price_per_second=0, max_timeout=1, retention=0, max_attempts=1)
    again = world.jobs.open_market(authority.pubkey, market.pubkey(), world.sandbox.mint, cheap)
    world.attack([again], [authority.keypair, market], "AccountAlreadyInitialized")
    hijack = world.jobs.open_market(world.stranger.pubkey, market.pubkey(), world.sandbox.mint, cheap)
    world.attack([hijack], [world.stranger.keypair, market], "AccountAlreadyInitialized")
    # The whole create + open again: System create_account refuses an account in use.
    outcome = world.attack([create, open_], [authority.keypair, market], SYSTEM_ACCOUNT_ALREADY_IN_USE, index=0)
    assert any("already in use" in line for line in outcome.logs), outcome.logs
    # The owner's keys can still not re-initialise it: the market is as it was.
    assert world.sandbox.market_state(market.pubkey()).authority == authority.pubkey


def test_open_market_on_live_market_of_another(world: World):
    # The existing market's own account (its keypair is not ours, so it cannot sign).
    ix = demote("open_market", world.jobs.open_market(world.stranger.pubkey, world.market, world.sandbox.mint, SETTINGS), "market")
    world.attack([ix], [world.stranger.keypair], "SignatureMissing")


@pytest.mark.parametrize("existing", ["running", "queued", "other_job"])
def test_post_with_existing_job_keypair(world: World, existing: str):
    job: Keypair = getattr(world, existing)
    ix = world.jobs.post(poster=world.poster.pubkey, payer=world.poster.pubkey, job=job.pubkey(), market=world.market,
                         payer_token=world.poster.token, definition=digest("overwrite"), timeout=60,
                         max_price_per_second=SETTINGS.price_per_second, max_fee_bps=0)
    outcome = world.attack([ix], [world.poster.keypair, job], SYSTEM_ACCOUNT_ALREADY_IN_USE)
    assert any("already in use" in line for line in outcome.logs), outcome.logs


# == 7. one account passed where two distinct ones are needed ===========================
def test_finish_node_token_same_as_payer_token(world: World):
    ix, signers = world.honest("finish")
    for same in (world.node.token, world.poster.token):
        world.attack([tamper("finish", ix, node_token=same, payer_token=same)], list(signers.values()), "TokenOwnerMismatch")


def test_end_node_token_same_as_payer_token(world: World):
    ix, signers = world.honest("end")
    for same in (world.node.token, world.poster.token):
        world.attack([tamper("end", ix, node_token=same, payer_token=same)], list(signers.values()), "TokenOwnerMismatch")


VAULT_AS_TOKEN = [("post", "payer_token"), ("cancel", "payer_token"), ("extend", "payer_token"), ("finish", "node_token"),
                  ("finish", "payer_token"), ("end", "node_token"), ("end", "payer_token")]


@pytest.mark.parametrize("name,account", VAULT_AS_TOKEN, ids=[f"{n}-{a}" for n, a in VAULT_AS_TOKEN])
def test_vault_passed_as_token_account(world: World, name: str, account: str):
    # As a source the payer cannot sign for the vault (SPL Token); as a payee it is not the
    # payee's (the program).
    ix, signers = world.honest(name)
    error = "TokenOwnerMismatch"
    world.attack([tamper(name, ix, **{account: world.vault})], list(signers.values()), error)


def test_job_passed_as_its_own_payer(world: World):
    # The closing job's rent sent to the job itself (cancel), or clean's payer = the job.
    ix, signers = world.honest("cancel")
    world.attack([tamper("cancel", ix, payer=world.queued.pubkey())], list(signers.values()), "PayerMismatch")
    world.settle_running()
    ix, signers = world.honest("clean")
    world.attack([tamper("clean", ix, payer=world.running.pubkey())], list(signers.values()), "PayerMismatch")
    world.attack([tamper("clean", ix, payer=world.market)], list(signers.values()), "PayerMismatch")


def test_market_passed_as_market_and_job_in_clean(world: World):
    world.settle_running()
    ix, signers = world.honest("clean")
    world.attack([tamper("clean", ix, job=world.market)], list(signers.values()), "AccountDiscriminatorInvalid")


# == 8. closed accounts revived =========================================================
def _revive(world: World, job: Pubkey, funder: Keypair) -> Instruction:
    return transfer(TransferParams(from_pubkey=funder.pubkey(), to_pubkey=job, lamports=world.chain.rent_exempt(JOB_SIZE)))


@pytest.mark.parametrize("then", ["clean", "finish", "end", "reclaim"])
def test_cleaned_job_revived_in_same_transaction(world: World, then: str):
    world.settle_running()
    reviver = world.chain.funded()
    world.watch(reviver=reviver.pubkey())
    clean, _ = world.honest("clean")
    again, signers = world.honest(then)
    world.attack([clean, _revive(world, world.running.pubkey(), reviver), again], [reviver, *signers.values()], "AccountOwnerInvalid")


@pytest.mark.parametrize("then", ["cancel", "extend"])
def test_cancelled_job_revived_in_same_transaction(world: World, then: str):
    reviver = world.chain.funded()
    world.watch(reviver=reviver.pubkey())
    queued = world.queued.pubkey()
    cancel, cancel_signers = world.honest("cancel")
    if then == "cancel":
        again = cancel
    else:
        again = world.jobs.extend(poster=world.poster.pubkey, payer=world.poster.pubkey, job=queued, market=world.market,
                                  payer_token=world.poster.token, extra=60)
    world.attack([cancel, _revive(world, queued, reviver), again], [reviver, world.poster.keypair], "AccountOwnerInvalid")


@pytest.mark.parametrize("name", ["cancel", "clean"])
def test_closed_job_used_twice_in_same_transaction(world: World, name: str):
    # No revival: the second call finds the account closed by the first.
    if name == "clean":
        world.settle_running()
    ix, signers = world.honest(name)
    world.attack([ix, ix], list(signers.values()), "AccountOwnerInvalid")


def test_cleaned_job_revived_later(world: World):
    world.settle_running()
    job = world.running.pubkey()
    clean, _ = world.honest("clean")
    rent = world.chain.lamports(job)
    poster_lamports = world.chain.lamports(world.poster.pubkey)
    world.must([clean], [])
    assert world.chain.account(job) is None
    assert world.chain.lamports(world.poster.pubkey) == poster_lamports + rent
    reviver = world.chain.funded()
    world.must([_revive(world, job, reviver)], [reviver])
    assert world.chain.account(job).owner == SYSTEM_PROGRAM_ID
    for name in ("clean", "finish", "end", "reclaim", "quit", "extend", "cancel"):
        ix, signers = world.honest(name)
        world.attack([tamper(name, ix, job=job)], list(signers.values()), "AccountOwnerInvalid")


# == 9. amounts and timeouts that overflow ==============================================
@pytest.mark.parametrize("price,timeout", [(2**63, 2), (U64_MAX, I64_MAX), (2**32, 2**32), (4, 2**62)],
                         ids=["2^63x2", "max x max", "2^32x2^32", "4x2^62"])
def test_market_whose_deposit_could_overflow(world: World, price: int, timeout: int):
    # A market whose price x max_timeout overflows (or whose max_timeout is past the bound)
    # is refused when opened, so no post's deposit can overflow.
    market = Keypair()
    world.watch(new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    settings = MarketSettings(price_per_second=price, max_timeout=timeout, retention=60, max_attempts=2)
    ixs = open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), settings)
    world.attack(ixs, [world.authority.keypair, market], "SettingInvalid")


def test_escrowed_counter_overflows(world: World):
    # One post escrows 2^39 x 2^24 = 2^63; the second would take the counter to 2^64.
    market, _ = custom_market(world, MarketSettings(price_per_second=2**39, max_timeout=2**24, retention=60, max_attempts=2))
    whale = world.sandbox.actor(tokens=2**63)
    world.watch(whale=whale.pubkey, whale_token=whale.token)
    first = world.sandbox.post(market, whale, timeout=2**24)[1]
    world.sandbox.must(first)  # 2^63 escrowed
    assert world.sandbox.vault_balance(market) == 2**63
    job = Keypair()
    ix = world.jobs.post(poster=whale.pubkey, payer=whale.pubkey, job=job.pubkey(), market=market, payer_token=whale.token,
                         definition=digest("second"), timeout=2**24, max_price_per_second=2**39, max_fee_bps=0)
    world.attack([ix], [whale.keypair, job], "ArithmeticOverflow")


@pytest.mark.parametrize("extra,error", [(I64_MAX, "ArithmeticOverflow"), (I64_MAX - 599, "ArithmeticOverflow"),
                                         (I64_MAX - 600, "TimeoutInvalid"), (2**62, "TimeoutInvalid"),
                                         (3001, "TimeoutInvalid")],
                         ids=["i64max", "just-over", "sum-i64max", "2^62", "past-max"])
def test_extend_overflowing_or_past_max(world: World, extra: int, error: str):
    # The job's timeout is 600 and the market's maximum 3600.
    ix, signers = world.honest("extend")
    world.attack([world.jobs.extend(poster=world.poster.pubkey, payer=world.stranger.pubkey, job=world.sponsored.pubkey(),
                                    market=world.market, payer_token=world.stranger.token, extra=extra)],
                 list(signers.values()), error)


def test_extend_past_the_jobs_own_cap(world: World):
    # A market with the longest timeout there can be: the time sum fits an i64, but the job's
    # own cap (max_timeout when posted) refuses before any cost is computed.
    market, _ = custom_market(world, MarketSettings(price_per_second=10, max_timeout=365 * 86_400, retention=60, max_attempts=2))
    job, outcome = world.sandbox.post(market, world.poster, timeout=1)
    world.sandbox.must(outcome)
    world.watch(custom_job=job)
    for extra in (2**62, I64_MAX - 1):
        ix = world.jobs.extend(poster=world.poster.pubkey, payer=world.poster.pubkey, job=job, market=market,
                               payer_token=world.poster.token, extra=extra)
        world.attack([ix], [world.poster.keypair], "TimeoutInvalid")


@pytest.mark.parametrize("timeout", [0, -1, I64_MIN, SETTINGS.max_timeout + 1, I64_MAX])
def test_post_timeout_out_of_range(world: World, timeout: int):
    job = Keypair()
    ix = world.jobs.post(poster=world.poster.pubkey, payer=world.poster.pubkey, job=job.pubkey(), market=world.market,
                         payer_token=world.poster.token, definition=digest("bad timeout"), timeout=timeout,
                         max_price_per_second=SETTINGS.price_per_second, max_fee_bps=0)
    world.attack([ix], [world.poster.keypair, job], "TimeoutInvalid")


@pytest.mark.parametrize("extra", [0, -1, -600, I64_MIN])
def test_extend_non_positive(world: World, extra: int):
    ix, signers = world.honest("extend")
    ix = world.jobs.extend(poster=world.poster.pubkey, payer=world.stranger.pubkey, job=world.sponsored.pubkey(),
                           market=world.market, payer_token=world.stranger.token, extra=extra)
    world.attack([ix], list(signers.values()), "TimeoutInvalid")


BAD_SETTINGS = {
    "max_timeout_0": MarketSettings(price_per_second=10, max_timeout=0),
    "max_timeout_negative": MarketSettings(price_per_second=10, max_timeout=-1),
    "max_timeout_i64_min": MarketSettings(price_per_second=10, max_timeout=I64_MIN),
    "max_attempts_0": MarketSettings(price_per_second=10, max_timeout=3600, max_attempts=0),
    "retention_negative": MarketSettings(price_per_second=10, max_timeout=3600, retention=-1),
    "max_timeout_past_365_days": MarketSettings(price_per_second=10, max_timeout=365 * 86_400 + 1),
    "max_timeout_i64_max": MarketSettings(price_per_second=10, max_timeout=I64_MAX),
    "retention_past_365_days": MarketSettings(price_per_second=10, max_timeout=3600, retention=365 * 86_400 + 1),
    "retention_i64_max": MarketSettings(price_per_second=10, max_timeout=3600, retention=I64_MAX),
    "max_attempts_17": MarketSettings(price_per_second=10, max_timeout=3600, max_attempts=17),
    "max_entries_per_node_0": MarketSettings(price_per_second=10, max_timeout=3600, max_entries_per_node=0),
    "price_x_max_timeout_overflows": MarketSettings(price_per_second=2**63, max_timeout=2),
}


@pytest.mark.parametrize("settings", BAD_SETTINGS)
def test_open_market_with_invalid_settings(world: World, settings: str):
    market = Keypair()
    world.watch(new_market=market.pubkey(), new_vault=world.jobs.vault(market.pubkey()))
    ixs = open_market_ixs(world.sandbox, world.authority.pubkey, market.pubkey(), BAD_SETTINGS[settings])
    world.attack(ixs, [world.authority.keypair, market], "SettingInvalid")


@pytest.mark.parametrize("settings", BAD_SETTINGS)
def test_update_market_with_invalid_settings(world: World, settings: str):
    ix = world.jobs.update_market(world.authority.pubkey, world.market, BAD_SETTINGS[settings])
    world.attack([ix], [world.authority.keypair], "SettingInvalid")


# == 10. calls in the wrong state =======================================================
@pytest.mark.parametrize("name", ["finish", "quit", "end", "reclaim"])
def test_running_job_call_on_queued_job(world: World, name: str):
    ix, signers = world.honest(name)
    world.chain.advance(3600)  # reclaim: any timeout has passed
    world.attack([tamper(name, ix, job=world.queued.pubkey())], list(signers.values()), "JobNotRunning")


def test_cancel_running_job(world: World):
    # The poster would take back the whole deposit while the node works.
    ix = world.jobs.cancel(poster=world.poster.pubkey, job=world.running.pubkey(), market=world.market,
                           payer_token=world.poster.token, payer=world.poster.pubkey)
    world.attack([ix], [world.poster.keypair], "JobNotQueued")


def test_leave_with_invalid_slot(world: World):
    lobby, _ = custom_market(world, SETTINGS)
    world.must([world.jobs.work(node=world.node.pubkey, market=lobby)], [world.node.keypair])
    node = world.node
    for slot, error in ((CAPACITY, "SlotInvalid"), (0xFFFF, "SlotInvalid"), (5, "NodeNotQueued"), (1, "NodeNotQueued")):
        world.attack([world.jobs.leave(node=node.pubkey, market=lobby, slot=slot)], [node.keypair], error)
    # In the world's market the node holds entry 0, running: it cannot "leave" that entry.
    world.attack([world.jobs.leave(node=node.pubkey, market=world.market, slot=0)], [node.keypair], "NodeNotQueued")
    # ...nor entry 1, a waiting job.
    world.attack([world.jobs.leave(node=node.pubkey, market=world.market, slot=1)], [node.keypair], "NodeNotQueued")


SETTLE_TWICE = [("finish", "finish"), ("finish", "end"), ("end", "finish"), ("end", "end"), ("finish", "quit"), ("end", "reclaim")]


@pytest.mark.parametrize("first,second", SETTLE_TWICE, ids=[f"{a}-{b}" for a, b in SETTLE_TWICE])
def test_job_settled_twice_in_one_transaction(world: World, first: str, second: str):
    if second == "reclaim":
        world.chain.advance(600)
    ix1, signers1 = world.honest(first)
    ix2, signers2 = world.honest(second)
    world.attack([ix1, ix2], list({**signers1, **signers2}.values()), "JobNotOpen")


def test_settled_job_calls(world: World):
    world.settle_running()
    running = world.running.pubkey()
    for name in ("finish", "end", "quit", "reclaim", "cancel"):
        ix, signers = world.honest(name)
        world.attack([tamper(name, ix, job=running)], list(signers.values()), "JobNotOpen")
    extend = world.jobs.extend(poster=world.poster.pubkey, payer=world.poster.pubkey, job=running, market=world.market,
                               payer_token=world.poster.token, extra=60)
    world.attack([extend], [world.poster.keypair], "JobNotOpen")


def test_clean_too_early(world: World):
    ix, signers = world.honest("clean")
    world.attack([ix], list(signers.values()), "JobStillOpen")
    finish, finish_signers = world.honest("finish")
    world.must([finish], list(finish_signers.values()))
    world.chain.advance(SETTINGS.retention - 5)
    world.attack([ix], list(signers.values()), "RetentionNotReached")


def test_reclaim_before_timeout(world: World):
    ix, signers = world.honest("reclaim")
    world.attack([ix], list(signers.values()), "TimeoutNotReached")


def test_close_market_with_jobs(world: World):
    # The first close_market makes the market Closing (jobs remain); the next is refused.
    ix, signers = world.honest("close_market")
    world.must([ix], list(signers.values()))
    ix, signers = world.honest("close_market")
    world.attack([ix], list(signers.values()), "MarketHasJobs")
