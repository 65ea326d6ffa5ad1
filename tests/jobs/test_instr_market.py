"""open_market, update_market and close_market, each built through anchorpy.Program
(JobsProgram.program.instruction[name]) and run against the real SBF build in LiteSVM:
the accounts they leave behind, the tokens and lamports they move, the events they emit,
and every refusal an honest but mistaken authority can run into."""

from __future__ import annotations

from dataclasses import replace

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import CreateAccountParams, create_account
from spl.token.constants import TOKEN_2022_PROGRAM_ID
from spl.token.instructions import InitializeMintParams, initialize_mint

from crowdcompute.client import MarketSettings, vault_address
from crowdcompute.client.jobs.layout import MARKET_HEADER_LEN, MAX_CAPACITY, NIL, QUEUE_ENTRY_LEN, market_size
from crowdcompute.common.token import MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID, token_account_amount, token_account_mint, token_account_owner
from crowdcompute.sandbox import Actor, Sandbox
from tests.conftest import SETTINGS
from tests.support import assert_refused, kind, market_bytes

HEADER_SIZE = 8 + MARKET_HEADER_LEN


# -- helpers ----------------------------------------------------------------------------

def events(sandbox: Sandbox, outcome) -> list:
    return sandbox.jobs.events(outcome.logs)


def only_event(sandbox: Sandbox, outcome, name: str):
    """The data of the single event of the transaction, which must be `name`."""
    found = events(sandbox, outcome)
    assert [e.name for e in found] == [name], found
    return found[0].data


def swap_account(ix: Instruction, old: Pubkey, new: Pubkey) -> Instruction:
    """The same anchorpy-built instruction with account `old` replaced by `new` (same flags)."""
    metas = [AccountMeta(new, m.is_signer, m.is_writable) if m.pubkey == old else m for m in ix.accounts]
    assert metas != list(ix.accounts)
    return Instruction(ix.program_id, ix.data, metas)


def open_raw(sandbox: Sandbox, *, space: int, settings: MarketSettings = SETTINGS, mint: Pubkey | None = None,
             owner: Pubkey | None = None, authority: Actor | None = None, vault: Pubkey | None = None):
    """create_account(space, owner) + open_market in one transaction, like Sandbox.open_market
    but with the account size, owner, mint and vault under the test's control."""
    authority = authority or sandbox.actor()
    market = Keypair()
    create = create_account(CreateAccountParams(
        from_pubkey=authority.pubkey, to_pubkey=market.pubkey(), lamports=sandbox.chain.rent_exempt(space), space=space,
        owner=owner or sandbox.jobs.program_id))
    ix = sandbox.jobs.open_market(authority.pubkey, market.pubkey(), mint or sandbox.mint, settings)
    if vault is not None:
        ix = swap_account(ix, sandbox.jobs.vault(market.pubkey()), vault)
    outcome = sandbox.send([create, ix], [authority.keypair, market])
    return market.pubkey(), authority, outcome


def open_market(sandbox: Sandbox, settings: MarketSettings = SETTINGS, capacity: int = 8):
    market, authority, outcome = sandbox.open_market(settings, capacity=capacity)
    sandbox.must(outcome)
    return market, authority


def update(sandbox: Sandbox, market: Pubkey, authority: Actor, settings: MarketSettings):
    return sandbox.send([sandbox.jobs.update_market(authority.pubkey, market, settings)], [authority.keypair])


def close(sandbox: Sandbox, market: Pubkey, authority: Actor, authority_token: Pubkey | None = None, fee_payer: Keypair | None = None):
    """close_market; a separate fee payer keeps the authority's lamport balance exact."""
    ix = sandbox.jobs.close_market(authority.pubkey, market, authority_token or authority.token)
    return sandbox.chain.send([ix], [authority.keypair], payer=fee_payer)


def run_one_job_to_done(sandbox: Sandbox, market: Pubkey, seconds: int = 10):
    """Post, match, run `seconds`, finish: leaves one settled (Done) job account."""
    poster, node = sandbox.actor(tokens=1_000_000), sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    job, outcome = sandbox.post(market, poster, timeout=100)
    sandbox.must(outcome)
    sandbox.chain.advance(seconds)
    sandbox.must(sandbox.finish(market, job, node, poster.token))
    return job, poster, node


# -- open_market ------------------------------------------------------------------------

def test_open_market_sets_every_field_and_an_empty_queue(sandbox):
    market, authority = open_market(sandbox, capacity=5)
    state = sandbox.market_state(market)
    vault, bump = vault_address(market, sandbox.jobs.program_id)
    assert state.authority == authority.pubkey
    assert state.mint == sandbox.mint
    assert state.vault == vault
    assert state.vault_bump == bump
    assert (state.price_per_second, state.max_timeout, state.min_stake, state.retention, state.max_attempts) == (10, 3600, 0, 60, 2)
    assert (state.jobs, state.escrowed) == (0, 0)
    queue = state.queue
    assert (kind(queue.side), queue.len, queue.head, queue.tail, queue.free_head, queue.used) == ("Empty", 0, NIL, NIL, NIL, 0)
    assert len(state.entries) == 5
    assert all(kind(entry.state) == "Free" for entry in state.entries)


def test_open_market_creates_the_vault_as_a_token_account_of_the_mint_owned_by_itself(sandbox):
    market, _ = open_market(sandbox)
    vault = sandbox.jobs.vault(market)
    account = sandbox.chain.account(vault)
    assert account.owner == TOKEN_PROGRAM_ID
    assert len(account.data) == TOKEN_ACCOUNT_LEN
    assert account.lamports == sandbox.chain.rent_exempt(TOKEN_ACCOUNT_LEN)
    data = bytes(account.data)
    assert token_account_mint(data) == sandbox.mint
    assert token_account_owner(data) == vault
    assert token_account_amount(data) == 0


def test_open_market_emits_market_opened_with_the_settings(sandbox):
    # A minimum stake needs a staking config: tests/test_staking_admission.py opens those.
    settings = MarketSettings(price_per_second=7, max_timeout=1234, min_stake=0, retention=99, max_attempts=4, reclaim_bounty_bps=250)
    market, authority, outcome = sandbox.open_market(settings, capacity=3)
    sandbox.must(outcome)
    opened = only_event(sandbox, outcome, "MarketOpened")
    assert opened.market == market
    assert opened.authority == authority.pubkey
    assert opened.mint == sandbox.mint
    assert opened.vault == sandbox.jobs.vault(market)
    assert (opened.price_per_second, opened.max_timeout, opened.min_stake, opened.retention, opened.max_attempts) == (7, 1234, 0, 99, 4)
    assert (opened.slash_penalty, opened.reclaim_bounty_bps, opened.fee_bps, opened.staking_config) == (0, 250, 0, Pubkey.default())


def test_open_market_authority_pays_the_vault_rent(sandbox):
    authority = sandbox.actor()
    before = sandbox.chain.lamports(authority.pubkey)
    market, _, outcome = open_raw(sandbox, space=market_size(4), authority=authority)
    sandbox.must(outcome)
    market_rent = sandbox.chain.rent_exempt(market_size(4))
    vault_rent = sandbox.chain.rent_exempt(TOKEN_ACCOUNT_LEN)
    fee = before - market_rent - vault_rent - sandbox.chain.lamports(authority.pubkey)
    assert fee == 5000 * 2  # two signatures (authority, market); nothing else left the authority


@pytest.mark.parametrize("capacity", [1, 3, 100])
def test_open_market_capacity_comes_from_the_account_size(sandbox, capacity):
    market, _, outcome = open_raw(sandbox, space=HEADER_SIZE + capacity * QUEUE_ENTRY_LEN)
    sandbox.must(outcome)
    assert len(sandbox.market_state(market).entries) == capacity


@pytest.mark.parametrize("space", [HEADER_SIZE + 1, market_size(2) + 1, market_size(2) + QUEUE_ENTRY_LEN - 1],
                         ids=["header_plus_1", "two_entries_plus_1", "three_entries_minus_1"])
def test_open_market_refuses_a_size_that_is_not_header_plus_whole_entries(sandbox, errors, space):
    market, _, outcome = open_raw(sandbox, space=space)
    assert_refused(outcome, errors, "CapacityInvalid")
    assert sandbox.chain.account(market) is None  # the whole transaction rolled back
    assert sandbox.chain.account(sandbox.jobs.vault(market)) is None


def test_open_market_refuses_zero_capacity(sandbox, errors):
    _, _, outcome = open_raw(sandbox, space=HEADER_SIZE)
    assert_refused(outcome, errors, "CapacityInvalid")


def test_open_market_refuses_an_account_smaller_than_the_header(sandbox, errors):
    _, _, outcome = open_raw(sandbox, space=HEADER_SIZE - 1)
    assert_refused(outcome, errors, "AccountSizeInvalid")


def test_open_market_refuses_capacity_above_the_maximum(sandbox, errors):
    authority = sandbox.actor()
    sandbox.chain.airdrop(authority.pubkey, 100_000_000_000)  # ~35 SOL of rent for 5 MB
    _, _, outcome = open_raw(sandbox, space=HEADER_SIZE + (MAX_CAPACITY + 1) * QUEUE_ENTRY_LEN, authority=authority)
    assert_refused(outcome, errors, "CapacityInvalid")


def test_open_market_accepts_the_maximum_capacity(sandbox):
    authority = sandbox.actor()
    sandbox.chain.airdrop(authority.pubkey, 100_000_000_000)
    market, _, outcome = open_raw(sandbox, space=market_size(MAX_CAPACITY), authority=authority)
    sandbox.must(outcome)
    data = market_bytes(sandbox, market)
    # The borsh Vec length prefix (the last u32 of the header) holds the capacity.
    assert int.from_bytes(data[HEADER_SIZE - 4:HEADER_SIZE], "little") == MAX_CAPACITY


def test_open_market_refuses_a_token_2022_mint(sandbox, errors):
    payer = sandbox.chain.funded()
    mint = Keypair()
    ixs = [
        create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=mint.pubkey(), lamports=sandbox.chain.rent_exempt(MINT_LEN),
                                           space=MINT_LEN, owner=TOKEN_2022_PROGRAM_ID)),
        initialize_mint(InitializeMintParams(decimals=6, program_id=TOKEN_2022_PROGRAM_ID, mint=mint.pubkey(), mint_authority=payer.pubkey())),
    ]
    sandbox.must(sandbox.send(ixs, [payer, mint]))
    assert sandbox.chain.account(mint.pubkey()).owner == TOKEN_2022_PROGRAM_ID
    market, _, outcome = open_raw(sandbox, space=market_size(4), mint=mint.pubkey())
    assert_refused(outcome, errors, "MintNotSplToken")
    assert sandbox.chain.account(market) is None


def test_open_market_refuses_a_token_account_as_mint(sandbox, errors):
    holder = sandbox.actor()
    _, _, outcome = open_raw(sandbox, space=market_size(4), mint=holder.token)
    assert_refused(outcome, errors, "MintInvalid")


def test_open_market_refuses_a_wallet_as_mint(sandbox, errors):
    wallet = sandbox.chain.funded()
    _, _, outcome = open_raw(sandbox, space=market_size(4), mint=wallet.pubkey())
    assert_refused(outcome, errors, "MintInvalid")


def test_open_market_refuses_an_uninitialised_mint(sandbox, errors):
    payer = sandbox.chain.funded()
    mint = Keypair()
    create = create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=mint.pubkey(),
                                                lamports=sandbox.chain.rent_exempt(MINT_LEN), space=MINT_LEN, owner=TOKEN_PROGRAM_ID))
    sandbox.must(sandbox.send([create], [payer, mint]))
    _, _, outcome = open_raw(sandbox, space=market_size(4), mint=mint.pubkey())
    assert_refused(outcome, errors, "MintInvalid")


@pytest.mark.parametrize("change", [
    {"max_timeout": 0},
    {"max_timeout": -1},
    {"retention": -1},
    {"max_attempts": 0},
], ids=["max_timeout_zero", "max_timeout_negative", "retention_negative", "max_attempts_zero"])
def test_open_market_refuses_invalid_settings(sandbox, errors, change):
    market, _, outcome = sandbox.open_market(replace(SETTINGS, **change), capacity=4)
    assert_refused(outcome, errors, "SettingInvalid")
    assert sandbox.chain.account(market) is None


def test_open_market_accepts_the_boundary_settings(sandbox):
    # Price 0 (a free market), retention 0 (clean at once), one attempt, a one-second maximum.
    settings = MarketSettings(price_per_second=0, max_timeout=1, min_stake=0, retention=0, max_attempts=1)
    market, _ = open_market(sandbox, settings)
    state = sandbox.market_state(market)
    assert (state.price_per_second, state.max_timeout, state.retention, state.max_attempts) == (0, 1, 0, 1)


def test_open_market_refuses_a_market_that_is_already_open(sandbox, errors):
    market_kp = Keypair()
    authority = sandbox.actor()
    ixs = [sandbox.jobs.create_market_account(authority.pubkey, market_kp.pubkey(), capacity=4, lamports=sandbox.chain.rent_exempt(market_size(4))),
           sandbox.jobs.open_market(authority.pubkey, market_kp.pubkey(), sandbox.mint, SETTINGS)]
    sandbox.must(sandbox.send(ixs, [authority.keypair, market_kp]))
    before = market_bytes(sandbox, market_kp.pubkey())
    again = sandbox.jobs.open_market(authority.pubkey, market_kp.pubkey(), sandbox.mint, replace(SETTINGS, price_per_second=99))
    outcome = sandbox.send([again], [authority.keypair, market_kp])
    # The vault exists already, but the market check comes first.
    assert_refused(outcome, errors, "AccountAlreadyInitialized")
    assert market_bytes(sandbox, market_kp.pubkey()) == before


def test_open_market_refuses_a_market_account_not_owned_by_the_program(sandbox, errors):
    _, _, outcome = open_raw(sandbox, space=market_size(4), owner=SYSTEM_PROGRAM_ID)
    assert_refused(outcome, errors, "AccountOwnerInvalid")


def test_open_market_refuses_the_vault_of_another_market(sandbox, errors):
    other = sandbox.jobs.vault(Keypair().pubkey())
    _, _, outcome = open_raw(sandbox, space=market_size(4), vault=other)
    assert_refused(outcome, errors, "VaultMismatch")


# -- update_market ----------------------------------------------------------------------

def test_update_market_changes_every_setting_and_emits_market_updated(sandbox):
    market, authority = open_market(sandbox)
    before = sandbox.market_state(market)
    settings = MarketSettings(price_per_second=25, max_timeout=7200, min_stake=0, retention=300, max_attempts=5, reclaim_bounty_bps=9)
    outcome = sandbox.must(update(sandbox, market, authority, settings))
    state = sandbox.market_state(market)
    assert (state.price_per_second, state.max_timeout, state.min_stake, state.retention, state.max_attempts) == (25, 7200, 0, 300, 5)
    assert (state.reclaim_bounty_bps, state.slash_penalty, state.fee_bps, state.staking_config) == (9, 0, 0, Pubkey.default())
    # Nothing else moved.
    assert (state.authority, state.mint, state.vault, state.vault_bump) == (before.authority, before.mint, before.vault, before.vault_bump)
    assert (state.jobs, state.escrowed, state.queue) == (before.jobs, before.escrowed, before.queue)
    updated = only_event(sandbox, outcome, "MarketUpdated")
    assert updated.market == market
    assert (updated.price_per_second, updated.max_timeout, updated.min_stake, updated.retention, updated.max_attempts) == (25, 7200, 0, 300, 5)
    assert updated.reclaim_bounty_bps == 9


def test_update_market_open_jobs_keep_their_posted_price(sandbox):
    market, authority = open_market(sandbox)
    poster, node = sandbox.actor(tokens=1_000_000), sandbox.actor()
    job, outcome = sandbox.post(market, poster, timeout=600)
    sandbox.must(outcome)
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, price_per_second=50)))
    assert sandbox.job_state(job).price_per_second == 10
    assert sandbox.job_state(job).deposit == 6_000
    sandbox.must(sandbox.work(market, node))
    sandbox.chain.advance(100)
    outcome = sandbox.must(sandbox.finish(market, job, node, poster.token))
    finished = only_event(sandbox, outcome, "JobFinished")
    assert (finished.paid, finished.refunded, finished.elapsed) == (1_000, 5_000, 100)  # 10/s, not 50/s
    assert sandbox.balance(node.token) == 1_000
    assert sandbox.balance(poster.token) == 1_000_000 - 1_000


def test_update_market_new_price_applies_to_jobs_posted_after(sandbox):
    market, authority = open_market(sandbox)
    poster = sandbox.actor(tokens=1_000_000)
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, price_per_second=50)))
    job, outcome = sandbox.post(market, poster, timeout=600)
    sandbox.must(outcome)
    assert sandbox.job_state(job).price_per_second == 50
    assert sandbox.job_state(job).deposit == 30_000
    assert sandbox.vault_balance(market) == 30_000


def test_update_market_new_max_timeout_bounds_later_posts(sandbox, errors):
    market, authority = open_market(sandbox)
    poster = sandbox.actor(tokens=1_000_000)
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, max_timeout=100)))
    _, outcome = sandbox.post(market, poster, timeout=101)
    assert_refused(outcome, errors, "TimeoutInvalid")
    _, outcome = sandbox.post(market, poster, timeout=100)
    sandbox.must(outcome)


@pytest.mark.parametrize("change", [
    {"max_timeout": 0},
    {"max_timeout": -5},
    {"retention": -1},
    {"max_attempts": 0},
], ids=["max_timeout_zero", "max_timeout_negative", "retention_negative", "max_attempts_zero"])
def test_update_market_refuses_invalid_settings_and_changes_nothing(sandbox, errors, change):
    market, authority = open_market(sandbox)
    before = market_bytes(sandbox, market)
    outcome = update(sandbox, market, authority, replace(SETTINGS, price_per_second=99, **change))
    assert_refused(outcome, errors, "SettingInvalid")
    assert market_bytes(sandbox, market) == before


def test_update_market_refuses_a_signer_that_is_not_the_authority(sandbox, errors):
    market, _ = open_market(sandbox)
    before = market_bytes(sandbox, market)
    outcome = update(sandbox, market, sandbox.actor(), replace(SETTINGS, price_per_second=99))
    assert_refused(outcome, errors, "AuthorityMismatch")
    assert market_bytes(sandbox, market) == before


# -- close_market -----------------------------------------------------------------------

def test_close_market_of_an_unused_market_returns_all_rent_to_the_authority(sandbox):
    market, authority = open_market(sandbox)
    vault = sandbox.jobs.vault(market)
    rent = sandbox.chain.lamports(market) + sandbox.chain.lamports(vault)
    assert rent == sandbox.chain.rent_exempt(market_size(8)) + sandbox.chain.rent_exempt(TOKEN_ACCOUNT_LEN)
    before = sandbox.chain.lamports(authority.pubkey)
    outcome = sandbox.must(close(sandbox, market, authority, fee_payer=sandbox.chain.funded()))
    closed = only_event(sandbox, outcome, "MarketClosed")
    assert (closed.market, closed.swept) == (market, 0)
    assert sandbox.chain.account(market) is None
    assert sandbox.chain.account(vault) is None
    assert sandbox.chain.lamports(authority.pubkey) == before + rent


def test_close_market_with_an_open_job_makes_it_closing_then_refuses_until_no_job_is_left(sandbox, errors):
    market, authority = open_market(sandbox)
    poster = sandbox.actor(tokens=10_000)
    _, outcome = sandbox.post(market, poster, timeout=60)
    sandbox.must(outcome)
    outcome = sandbox.must(close(sandbox, market, authority))
    assert only_event(sandbox, outcome, "MarketClosing").market == market
    assert kind(sandbox.market_state(market).state) == "Closing"
    assert sandbox.vault_balance(market) == 600
    before = market_bytes(sandbox, market)
    assert_refused(close(sandbox, market, authority), errors, "MarketHasJobs")
    assert market_bytes(sandbox, market) == before


def test_close_market_refused_while_a_settled_job_is_not_cleaned_then_succeeds_after_clean(sandbox, errors):
    market, authority = open_market(sandbox)
    job, poster, _ = run_one_job_to_done(sandbox, market)
    assert sandbox.market_state(market).jobs == 1
    assert sandbox.market_state(market).escrowed == 0
    sandbox.must(close(sandbox, market, authority))  # Closing: the settled job is still there
    assert_refused(close(sandbox, market, authority), errors, "MarketHasJobs")

    sandbox.chain.advance(SETTINGS.retention)
    sandbox.must(sandbox.clean(market, job, poster.pubkey, sandbox.actor()))
    assert sandbox.market_state(market).jobs == 0
    outcome = sandbox.must(close(sandbox, market, authority))
    assert only_event(sandbox, outcome, "MarketClosed").swept == 0
    assert sandbox.chain.account(market) is None
    assert sandbox.chain.account(sandbox.jobs.vault(market)) is None


def test_close_market_sweeps_stray_tokens_in_the_vault_to_the_authority(sandbox):
    market, authority = open_market(sandbox)
    vault = sandbox.jobs.vault(market)
    sandbox.mint_to(vault, 777)  # sent to the vault by mistake, no job behind it
    rent = sandbox.chain.lamports(market) + sandbox.chain.lamports(vault)
    before = sandbox.chain.lamports(authority.pubkey)
    outcome = sandbox.must(close(sandbox, market, authority, fee_payer=sandbox.chain.funded()))
    assert only_event(sandbox, outcome, "MarketClosed").swept == 777
    assert sandbox.balance(authority.token) == 777
    assert sandbox.chain.account(vault) is None
    assert sandbox.chain.account(market) is None
    assert sandbox.chain.lamports(authority.pubkey) == before + rent


def test_close_market_while_nodes_wait_succeeds(sandbox):
    # Current behaviour: waiting nodes hold no escrow and no account, so they do not keep
    # a market open; closing it simply drops them from the queue.
    market, authority = open_market(sandbox)
    sandbox.must(sandbox.work(market, sandbox.actor()))
    assert sandbox.market_state(market).queue.len == 1
    sandbox.must(close(sandbox, market, authority))
    assert sandbox.chain.account(market) is None


def test_close_market_sweeps_only_what_is_left_after_every_job_settled(sandbox):
    market, authority = open_market(sandbox)
    sandbox.mint_to(sandbox.jobs.vault(market), 50)  # stray tokens while a job is open
    job, poster, node = run_one_job_to_done(sandbox, market, seconds=10)
    assert sandbox.balance(node.token) == 100
    assert sandbox.balance(poster.token) == 1_000_000 - 100
    assert sandbox.vault_balance(market) == 50
    sandbox.chain.advance(SETTINGS.retention)
    sandbox.must(sandbox.clean(market, job, poster.pubkey, sandbox.actor()))
    outcome = sandbox.must(close(sandbox, market, authority))
    assert only_event(sandbox, outcome, "MarketClosed").swept == 50
    assert sandbox.balance(authority.token) == 50


def test_close_market_with_stray_tokens_refuses_a_token_account_of_someone_else(sandbox, errors):
    market, authority = open_market(sandbox)
    sandbox.mint_to(sandbox.jobs.vault(market), 5)
    outcome = close(sandbox, market, authority, authority_token=sandbox.actor().token)
    assert_refused(outcome, errors, "TokenOwnerMismatch")
    assert sandbox.vault_balance(market) == 5
    assert sandbox.chain.account(market) is not None


def test_close_market_with_stray_tokens_refuses_a_token_account_of_another_mint(sandbox, errors):
    market, authority = open_market(sandbox)
    sandbox.mint_to(sandbox.jobs.vault(market), 5)
    other_mint = sandbox.new_mint()
    wrong = sandbox.token_account(authority.pubkey, other_mint)
    outcome = close(sandbox, market, authority, authority_token=wrong)
    assert_refused(outcome, errors, "TokenMintMismatch")
    assert sandbox.vault_balance(market) == 5


def test_close_market_refuses_a_signer_that_is_not_the_authority(sandbox, errors):
    market, _ = open_market(sandbox)
    impostor = sandbox.actor()
    assert_refused(close(sandbox, market, impostor), errors, "AuthorityMismatch")
    assert sandbox.chain.account(market) is not None


def test_close_market_twice_is_refused_because_the_market_is_gone(sandbox, errors):
    market, authority = open_market(sandbox)
    sandbox.must(close(sandbox, market, authority))
    outcome = close(sandbox, market, authority)
    # The closed market is a system-owned empty account now.
    assert_refused(outcome, errors, "AccountOwnerInvalid")
