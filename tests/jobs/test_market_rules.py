"""The market's own rules against a hostile authority, a front-runner and a sybil (issue 9).

Each test plays the attack on the real SBF build in LiteSVM and shows it now fails, or costs
the attacker what it should; the behaviour before these rules would fail each one (noted
per test). Happy paths of the same rules sit next to them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from crowdcompute.client import MarketSettings
from crowdcompute.client.jobs.layout import JOB_SIZE, market_size
from crowdcompute.common.token import TOKEN_ACCOUNT_LEN
from crowdcompute.sandbox import Actor, Sandbox
from tests.conftest import SETTINGS
from tests.support import assert_refused, kind, market_bytes

YEAR = 365 * 86_400
I64_MAX = 2**63 - 1
FUNDS = 100_000_000


def open_market(sandbox: Sandbox, settings: MarketSettings = SETTINGS, capacity: int = 8) -> tuple[Pubkey, Actor]:
    market, authority, outcome = sandbox.open_market(settings, capacity=capacity)
    sandbox.must(outcome)
    return market, authority


def update(sandbox: Sandbox, market: Pubkey, authority: Actor, settings: MarketSettings):
    return sandbox.send([sandbox.jobs.update_market(authority.pubkey, market, settings)], [authority.keypair])


def running_job(sandbox: Sandbox, market: Pubkey, *, timeout: int = 600) -> tuple[Pubkey, Actor, Actor]:
    poster, node = sandbox.actor(tokens=FUNDS), sandbox.actor()
    job, outcome = sandbox.post(market, poster, timeout=timeout)
    sandbox.must(outcome)
    sandbox.must(sandbox.work(market, node))
    return job, poster, node


def send_lamports(sandbox: Sandbox, to: Pubkey, lamports: int) -> None:
    giver = sandbox.chain.funded()
    sandbox.must(sandbox.send([transfer(TransferParams(from_pubkey=giver.pubkey(), to_pubkey=to, lamports=lamports))], [giver]))


# -- the payer pays only what it agreed to ------------------------------------------------

def test_authority_repricing_before_a_post_lands_gets_a_refusal_not_the_payers_tokens(sandbox, errors):
    # Seen before: 10/s -> 10,000/s just before the post landed; the payer escrowed 1,000x.
    market, authority = open_market(sandbox)
    poster = sandbox.actor(tokens=FUNDS)
    seen = sandbox.market_state(market).price_per_second
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, price_per_second=10_000)))  # the front-run
    job, outcome = sandbox.post(market, poster, timeout=1000, max_price=seen)
    assert_refused(outcome, errors, "PriceAboveMaximum")
    assert sandbox.balance(poster.token) == FUNDS
    assert sandbox.chain.account(job) is None


def test_post_at_or_under_the_maximum_escrows_at_the_markets_price(sandbox):
    market, _ = open_market(sandbox)
    poster = sandbox.actor(tokens=FUNDS)
    for max_price in (SETTINGS.price_per_second, 10**9):
        job, outcome = sandbox.post(market, poster, timeout=100, max_price=max_price)
        sandbox.must(outcome)
        state = sandbox.job_state(job)
        assert (state.price_per_second, state.deposit) == (10, 1000)


def test_extend_after_a_reprice_charges_the_jobs_price(sandbox):
    market, authority = open_market(sandbox)
    job, poster, _ = running_job(sandbox, market, timeout=100)
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, price_per_second=10_000)))
    before = sandbox.balance(poster.token)
    sandbox.must(sandbox.extend(market, job, poster, 50))
    assert before - sandbox.balance(poster.token) == 50 * 10
    assert sandbox.job_state(job).deposit == 150 * 10


# -- a job's terms are fixed when it is posted -------------------------------------------

def test_raising_the_timeout_cap_does_not_let_an_old_job_grow_past_its_own(sandbox, errors):
    # Before: extend read the market's current cap.
    market, authority = open_market(sandbox)
    job, poster, _ = running_job(sandbox, market, timeout=3000)
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, max_timeout=YEAR)))
    assert_refused(sandbox.extend(market, job, poster, 601), errors, "TimeoutInvalid")
    sandbox.must(sandbox.extend(market, job, poster, 600))  # up to the job's cap, 3600
    assert sandbox.job_state(job).max_timeout == SETTINGS.max_timeout


def test_raising_retention_does_not_lock_an_old_jobs_rent(sandbox):
    # Seen before: retention set to i64::MAX locked every payer's job rent, and the market.
    market, authority = open_market(sandbox)
    job, poster, node = running_job(sandbox, market, timeout=100)
    sandbox.must(sandbox.finish(market, job, node, poster.token))
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, retention=YEAR)))
    sandbox.chain.advance(SETTINGS.retention)  # the job's own retention
    sandbox.must(sandbox.clean(market, job, poster.pubkey, sandbox.actor()))
    assert sandbox.chain.account(job) is None


def test_retention_for_ever_is_refused(sandbox, errors):
    market, authority = open_market(sandbox)
    before = market_bytes(sandbox, market)
    assert_refused(update(sandbox, market, authority, replace(SETTINGS, retention=I64_MAX)), errors, "SettingInvalid")
    assert market_bytes(sandbox, market) == before


def test_raising_max_attempts_does_not_hold_an_old_job_longer(sandbox):
    # Before: reclaim read the market's current max_attempts, so the job went back to the queue.
    market, authority = open_market(sandbox, replace(SETTINGS, max_attempts=1))
    job, poster, _ = running_job(sandbox, market, timeout=100)
    sandbox.must(update(sandbox, market, authority, replace(SETTINGS, max_attempts=16)))
    sandbox.chain.advance(100)
    sandbox.must(sandbox.reclaim(market, job, poster.token, sandbox.actor()))
    assert kind(sandbox.job_state(job).state) == "Failed"
    assert sandbox.balance(poster.token) == FUNDS


def test_new_posts_take_the_updated_terms(sandbox):
    market, authority = open_market(sandbox)
    newer = replace(SETTINGS, price_per_second=20, max_timeout=7200, retention=120, max_attempts=5)
    sandbox.must(update(sandbox, market, authority, newer))
    job, outcome = sandbox.post(market, sandbox.actor(tokens=FUNDS), timeout=10)
    sandbox.must(outcome)
    state = sandbox.job_state(job)
    assert (state.price_per_second, state.max_timeout, state.retention, state.max_attempts) == (20, 7200, 120, 5)


# -- an address cannot be blocked by sending it lamports ---------------------------------

@pytest.mark.parametrize("sent", ["one lamport", "more than rent"])
def test_post_to_a_prefunded_job_address(sandbox, sent):
    # Before: System create_account refused an address holding lamports.
    market, _ = open_market(sandbox)
    rent = sandbox.chain.rent_exempt(JOB_SIZE)
    lamports = 1 if sent == "one lamport" else rent + 12_345
    job = Keypair()
    send_lamports(sandbox, job.pubkey(), lamports)
    poster = sandbox.actor(tokens=FUNDS)
    payer_before = sandbox.chain.lamports(poster.pubkey)
    _, outcome = sandbox.post(market, poster, timeout=60, job=job)
    sandbox.must(outcome)
    account = sandbox.chain.account(job.pubkey())
    assert account.owner == sandbox.jobs.program_id and len(account.data) == JOB_SIZE
    assert account.lamports == max(rent, lamports)
    # The payer paid the shortfall only, besides the fee of two signatures (payer, job).
    fee = 2 * 5_000
    assert payer_before - sandbox.chain.lamports(poster.pubkey) - fee == max(0, rent - lamports)
    assert sandbox.job_state(job.pubkey()).deposit == 600


@pytest.mark.parametrize("sent", ["one lamport", "more than rent"])
def test_open_market_with_a_prefunded_vault(sandbox, sent):
    market = Keypair()
    vault = sandbox.jobs.vault(market.pubkey())
    rent = sandbox.chain.rent_exempt(TOKEN_ACCOUNT_LEN)
    send_lamports(sandbox, vault, 1 if sent == "one lamport" else rent + 999)
    authority = sandbox.actor()
    ixs = [sandbox.jobs.create_market_account(authority.pubkey, market.pubkey(), capacity=4, lamports=sandbox.chain.rent_exempt(market_size(4))),
           sandbox.jobs.open_market(authority.pubkey, market.pubkey(), sandbox.mint, SETTINGS)]
    sandbox.must(sandbox.send(ixs, [authority.keypair, market]))
    assert sandbox.chain.lamports(vault) >= rent
    assert sandbox.vault_balance(market.pubkey()) == 0
    job, outcome = sandbox.post(market.pubkey(), sandbox.actor(tokens=FUNDS), timeout=10)
    sandbox.must(outcome)
    assert sandbox.vault_balance(market.pubkey()) == 100


# -- a market can be closed by its authority ---------------------------------------------

def test_posting_now_and_then_no_longer_keeps_a_market_open(sandbox, errors):
    # Before: close_market needed no job left, so anyone kept a market open by posting.
    market, authority = open_market(sandbox, replace(SETTINGS, retention=60))
    running, poster, node = running_job(sandbox, market, timeout=100)
    waiting, outcome = sandbox.post(market, poster, timeout=100)
    sandbox.must(outcome)
    walked_away, outcome = sandbox.post(market, poster, timeout=100)
    sandbox.must(outcome)

    closing = sandbox.must(sandbox.close_market(market, authority))
    assert [e.name for e in sandbox.jobs.events(closing.logs)] == ["MarketClosing"]
    assert kind(sandbox.market_state(market).state) == "Closing"
    # The griefer's next post, and a node that would wait, are refused.
    _, outcome = sandbox.post(market, poster, timeout=100)
    assert_refused(outcome, errors, "MarketClosing")
    # A node may still take a waiting job (the market drains) ...
    second = sandbox.actor()
    sandbox.must(sandbox.work(market, second))
    # ... the authority cancels the job its poster walked away from (full refund) ...
    stranger = sandbox.actor()
    assert_refused(sandbox.cancel(market, walked_away, stranger, payer=poster), errors, "PosterMismatch")
    before = sandbox.balance(poster.token)
    sandbox.must(sandbox.send([sandbox.jobs.cancel(poster=authority.pubkey, job=walked_away, market=market,
                                                   payer_token=poster.token, payer=poster.pubkey)], [authority.keypair]))
    assert sandbox.balance(poster.token) == before + 1000
    # ... and no node can queue.
    assert_refused(sandbox.work(market, sandbox.actor()), errors, "MarketClosing")
    assert_refused(sandbox.close_market(market, authority), errors, "MarketHasJobs")

    sandbox.must(sandbox.finish(market, running, node, poster.token))
    sandbox.must(sandbox.finish(market, waiting, second, poster.token))
    sandbox.chain.advance(60)
    for job in (running, waiting):
        sandbox.must(sandbox.clean(market, job, poster.pubkey, sandbox.actor()))
    closed = sandbox.must(sandbox.close_market(market, authority))
    assert [e.name for e in sandbox.jobs.events(closed.logs)] == ["MarketClosed"]
    assert sandbox.chain.account(market) is None


def test_a_job_reclaimed_in_a_closing_market_can_be_cancelled_by_the_authority(sandbox):
    market, authority = open_market(sandbox, replace(SETTINGS, max_attempts=2))
    job, poster, _ = running_job(sandbox, market, timeout=100)
    sandbox.must(sandbox.close_market(market, authority))
    sandbox.chain.advance(100)
    sandbox.must(sandbox.reclaim(market, job, poster.token, sandbox.actor()))  # back in the queue
    sandbox.must(sandbox.send([sandbox.jobs.cancel(poster=authority.pubkey, job=job, market=market,
                                                   payer_token=poster.token, payer=poster.pubkey)], [authority.keypair]))
    assert sandbox.balance(poster.token) == FUNDS
    sandbox.must(sandbox.close_market(market, authority))
    assert sandbox.chain.account(market) is None


def test_the_authority_cannot_cancel_in_an_open_market(sandbox, errors):
    market, authority = open_market(sandbox)
    poster = sandbox.actor(tokens=FUNDS)
    job, outcome = sandbox.post(market, poster, timeout=100)
    sandbox.must(outcome)
    outcome = sandbox.send([sandbox.jobs.cancel(poster=authority.pubkey, job=job, market=market,
                                                payer_token=poster.token, payer=poster.pubkey)], [authority.keypair])
    assert_refused(outcome, errors, "PosterMismatch")


# -- free queue entries ------------------------------------------------------------------

def test_one_key_can_no_longer_fill_the_queue(sandbox, errors):
    # Seen before: one key filled the queue with free entries; honest nodes got QueueFull
    # and every job went to that key.
    market, _ = open_market(sandbox, replace(SETTINGS, max_entries_per_node=2), capacity=8)
    sybil, honest = sandbox.actor(), sandbox.actor()
    for _ in range(2):
        sandbox.must(sandbox.work(market, sybil))
    before = market_bytes(sandbox, market)
    assert_refused(sandbox.work(market, sybil), errors, "NodeEntriesExceeded")
    assert market_bytes(sandbox, market) == before
    sandbox.must(sandbox.work(market, honest))
    poster = sandbox.actor(tokens=FUNDS)
    takers = []
    for _ in range(3):
        _, outcome = sandbox.post(market, poster, timeout=10)
        takers += [e.data.node for e in sandbox.jobs.events(sandbox.must(outcome).logs) if e.name == "JobMatched"]
    assert takers == [sybil.pubkey, sybil.pubkey, honest.pubkey]
    # Its entries taken, the sybil may wait again (the cap counts waiting entries only).
    sandbox.must(sandbox.work(market, sybil))


def test_the_cap_counts_entries_anywhere_in_the_queue(sandbox, errors):
    market, _ = open_market(sandbox, replace(SETTINGS, max_entries_per_node=2), capacity=8)
    sybil = sandbox.actor()
    others = [sandbox.actor() for _ in range(3)]
    sandbox.must(sandbox.work(market, sybil))
    for other in others:
        sandbox.must(sandbox.work(market, other))
    sandbox.must(sandbox.work(market, sybil))
    assert_refused(sandbox.work(market, sybil), errors, "NodeEntriesExceeded")


# -- small things ------------------------------------------------------------------------

def test_zero_payout_still_checks_the_payees_mint(sandbox, errors):
    # Before: a zero payout skipped the transfer, so a node token account of any mint passed.
    market, _ = open_market(sandbox)
    job, poster, node = running_job(sandbox, market)
    other_mint = sandbox.new_mint()
    wrong = sandbox.token_account(node.pubkey, other_mint)
    ix = sandbox.jobs.finish(node=node.pubkey, job=job, market=market, node_token=wrong, payer_token=poster.token, result=bytes([1]) * 32)
    assert_refused(sandbox.send([ix], [node.keypair]), errors, "TokenMintMismatch")  # paid 0: same second


def test_zero_refund_still_checks_the_payers_mint(sandbox, errors):
    market, _ = open_market(sandbox)
    job, poster, node = running_job(sandbox, market, timeout=100)
    sandbox.chain.advance(100)  # the node earns the whole deposit: the refund is 0
    wrong = sandbox.token_account(poster.pubkey, sandbox.new_mint())
    ix = sandbox.jobs.finish(node=node.pubkey, job=job, market=market, node_token=node.token, payer_token=wrong, result=bytes([1]) * 32)
    assert_refused(sandbox.send([ix], [node.keypair]), errors, "TokenMintMismatch")


def test_reclaim_requeue_checks_the_payer_token_account(sandbox, errors):
    # Before: the requeue path took payer_token and never looked at it.
    market, _ = open_market(sandbox, replace(SETTINGS, max_attempts=2))
    job, poster, _ = running_job(sandbox, market, timeout=100)
    sandbox.chain.advance(100)
    caller = sandbox.actor()
    assert_refused(sandbox.reclaim(market, job, caller.token, caller), errors, "TokenOwnerMismatch")
    sandbox.must(sandbox.reclaim(market, job, poster.token, caller))
    assert sandbox.job_state(job).attempts == 1


def test_a_job_started_near_the_end_of_time_can_still_be_reclaimed(sandbox):
    # Before: since + timeout overflowed, reclaim failed with ArithmeticOverflow for ever.
    market, _ = open_market(sandbox, replace(SETTINGS, max_attempts=1))
    sandbox.chain.set_time(I64_MAX - 50)
    job, poster, _ = running_job(sandbox, market, timeout=100)
    sandbox.chain.set_time(I64_MAX)
    sandbox.must(sandbox.reclaim(market, job, poster.token, sandbox.actor()))
    assert kind(sandbox.job_state(job).state) == "Failed"
    assert sandbox.balance(poster.token) == FUNDS
