"""finish, quit, reclaim, extend, end and clean, each built through anchorpy.Program and
run against the real SBF build in LiteSVM: who is paid what for how long, where a job goes
when its node gives up or goes silent, the time rules (timeout caps, reclaim deadlines,
retention), the events, and every refusal an honest but mistaken caller can run into.

SETTINGS: 10 base units per second, max timeout 3600 s, retention 60 s, max_attempts 2."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from solders.pubkey import Pubkey

from crowdcompute.client.jobs.layout import NIL
from crowdcompute.sandbox import Actor, Sandbox, digest
from tests.conftest import SETTINGS
from tests.support import (
    SPL_TOKEN_INSUFFICIENT_FUNDS,
    SPL_TOKEN_MINT_MISMATCH,
    assert_fields,
    assert_refused,
    event,
    event_names,
    kind,
    market_bytes,
)

PRICE = SETTINGS.price_per_second
FUNDS = 1_000_000
QUIT, RECLAIMED = 0, 1  # JobRequeued.reason


# -- helpers ----------------------------------------------------------------------------

def job_bytes(sandbox: Sandbox, job: Pubkey) -> bytes:
    return bytes(sandbox.chain.account(job).data)


def queue_jobs(sandbox: Sandbox, market: Pubkey) -> list[Pubkey]:
    """Jobs waiting in the queue, front to back."""
    state = sandbox.market_state(market)
    assert kind(state.queue.side) in ("Jobs", "Empty")
    order, index = [], state.queue.head
    while index != NIL:
        order.append(state.entries[index].job)
        index = state.entries[index].next
    assert len(order) == state.queue.len
    return order


@dataclass
class Run:
    """A job running on a node."""

    job: Pubkey
    poster: Actor
    payer: Actor
    node: Actor
    started: int
    slot: int


def start(sandbox: Sandbox, market: Pubkey, *, timeout: int = 600, poster: Actor | None = None, payer: Actor | None = None,
          node: Actor | None = None) -> Run:
    """A node waits, then a job is posted and taken by it at once."""
    poster = poster or sandbox.actor(tokens=FUNDS)
    node = node or sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    job, outcome = sandbox.post(market, poster, payer=payer, timeout=timeout)
    sandbox.must(outcome)
    matched = event(sandbox, outcome, "JobMatched")
    assert matched.node == node.pubkey
    return Run(job, poster, payer or poster, node, matched.started_at, matched.slot)


def queued(sandbox: Sandbox, market: Pubkey, poster: Actor, timeout: int = 600) -> Pubkey:
    job, outcome = sandbox.post(market, poster, timeout=timeout)
    sandbox.must(outcome)
    assert event(sandbox, outcome, "JobPosted").queued == 1
    return job


def finish(sandbox: Sandbox, market: Pubkey, run: Run, result: bytes | None = None):
    return sandbox.finish(market, run.job, run.node, run.payer.token, result)


def end(sandbox: Sandbox, market: Pubkey, run: Run):
    return sandbox.end(market, run.job, run.poster, run.node.token, run.payer.token)


def reclaim(sandbox: Sandbox, market: Pubkey, run: Run):
    return sandbox.reclaim(market, run.job, run.payer.token, sandbox.actor())  # anyone may reclaim


def assert_entry_free(sandbox: Sandbox, market: Pubkey, slot: int) -> None:
    state = sandbox.market_state(market)
    assert kind(state.entries[slot].state) == "Free"
    assert state.queue.free_head == slot


def settle_done(sandbox, market, run):
    sandbox.must(finish(sandbox, market, run))


def settle_ended(sandbox, market, run):
    sandbox.must(end(sandbox, market, run))


def settle_failed(sandbox, market, run):
    for attempt in range(SETTINGS.max_attempts):
        if attempt:
            sandbox.must(sandbox.work(market, sandbox.actor()))
        sandbox.chain.advance(600)
        sandbox.must(reclaim(sandbox, market, run))
    assert kind(sandbox.job_state(run.job).state) == "Failed"


# -- finish -----------------------------------------------------------------------------

def test_finish_pays_price_times_elapsed_and_refunds_the_rest(sandbox, market):
    run = start(sandbox, market, timeout=600)
    sandbox.chain.advance(100)
    now = sandbox.chain.now()
    result = digest("bundle")
    outcome = sandbox.must(finish(sandbox, market, run, result))

    assert event_names(sandbox, outcome) == ["JobFinished"]
    assert_fields(event(sandbox, outcome, "JobFinished"), job=run.job, result=result, paid=1_000, refunded=5_000, elapsed=100)

    job = sandbox.job_state(run.job)
    assert kind(job.state) == "Done"
    assert (bytes(job.result), job.node) == (result, run.node.pubkey)
    assert (job.deposit, job.paid, job.closed_at, job.timeout, job.attempts) == (0, 1_000, now, 600, 0)

    assert sandbox.balance(run.node.token) == 1_000
    assert sandbox.balance(run.payer.token) == FUNDS - 1_000
    assert sandbox.vault_balance(market) == 0
    m = sandbox.market_state(market)
    assert (m.jobs, m.escrowed) == (1, 0)  # the settled account stays until clean
    assert_entry_free(sandbox, market, run.slot)


def test_finish_refunds_the_payer_when_it_is_not_the_poster(sandbox, market):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=600, payer=payer)
    sandbox.chain.advance(30)
    done = event(sandbox, sandbox.must(finish(sandbox, market, run)), "JobFinished")
    assert (done.paid, done.refunded) == (300, 5_700)
    assert sandbox.balance(payer.token) == FUNDS - 300
    assert sandbox.balance(run.poster.token) == FUNDS
    assert sandbox.balance(run.node.token) == 300


def test_finish_late_caps_elapsed_at_the_timeout(sandbox, market):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(250)
    done = event(sandbox, sandbox.must(finish(sandbox, market, run)), "JobFinished")
    assert (done.paid, done.refunded, done.elapsed) == (1_000, 0, 100)
    assert sandbox.balance(run.node.token) == 1_000
    assert sandbox.balance(run.payer.token) == FUNDS - 1_000
    assert sandbox.job_state(run.job).paid == 1_000


def test_finish_exactly_at_the_timeout_pays_the_whole_deposit(sandbox, market):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(100)
    done = event(sandbox, sandbox.must(finish(sandbox, market, run)), "JobFinished")
    assert (done.paid, done.refunded, done.elapsed) == (1_000, 0, 100)


def test_finish_in_the_second_it_started_pays_one_second(sandbox, market):
    """Every started second is paid: the clock ticks in whole seconds, and a job that
    started and settled within one tick ran (it used to be paid nothing)."""
    run = start(sandbox, market, timeout=100)
    done = event(sandbox, sandbox.must(finish(sandbox, market, run)), "JobFinished")
    assert (done.paid, done.refunded, done.elapsed) == (10, 990, 1)
    assert sandbox.balance(run.node.token) == 10
    assert sandbox.balance(run.payer.token) == FUNDS - 10
    assert kind(sandbox.job_state(run.job).state) == "Done"


def test_finish_time_counts_from_the_match_not_the_post(sandbox, market):
    poster, node = sandbox.actor(tokens=FUNDS), sandbox.actor()
    job = queued(sandbox, market, poster, timeout=600)
    sandbox.chain.advance(400)  # waiting in the queue is not paid
    sandbox.must(sandbox.work(market, node))
    sandbox.chain.advance(20)
    done = event(sandbox, sandbox.must(sandbox.finish(market, job, node, poster.token)), "JobFinished")
    assert (done.paid, done.elapsed) == (200, 20)


def test_finish_after_the_clock_went_back_counts_one_started_second(sandbox, market):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.set_time(run.started - 30)
    done = event(sandbox, sandbox.must(finish(sandbox, market, run)), "JobFinished")
    assert (done.paid, done.refunded, done.elapsed) == (10, 990, 1)


def test_finish_leaves_other_open_escrows_untouched(sandbox, market):
    first = start(sandbox, market, timeout=600)
    second = start(sandbox, market, timeout=300)
    assert sandbox.market_state(market).escrowed == 9_000
    sandbox.chain.advance(10)
    sandbox.must(finish(sandbox, market, first))
    assert sandbox.market_state(market).escrowed == 3_000
    assert sandbox.vault_balance(market) == 3_000
    assert sandbox.job_state(second.job).deposit == 3_000


def test_finish_frees_the_entry_for_the_next_post(sandbox, market):
    run = start(sandbox, market)
    used = sandbox.market_state(market).queue.used
    sandbox.must(finish(sandbox, market, run))
    assert_entry_free(sandbox, market, run.slot)
    job, outcome = sandbox.post(market, sandbox.actor(tokens=FUNDS))
    sandbox.must(outcome)
    assert event(sandbox, outcome, "JobPosted").slot == run.slot
    assert sandbox.job_state(job).slot == run.slot
    assert sandbox.market_state(market).queue.used == used  # no fresh entry taken


def test_finish_refuses_a_zero_result(sandbox, market, errors):
    run = start(sandbox, market)
    sandbox.chain.advance(10)
    before = (market_bytes(sandbox, market), job_bytes(sandbox, run.job))
    assert_refused(finish(sandbox, market, run, bytes(32)), errors, "ResultMissing")
    assert (market_bytes(sandbox, market), job_bytes(sandbox, run.job)) == before
    assert sandbox.balance(run.node.token) == 0


@pytest.mark.parametrize("index", [0, 15, 16, 31])
def test_finish_accepts_a_result_with_a_single_non_zero_byte(sandbox, market, index):
    run = start(sandbox, market)
    result = bytes(index) + b"\x80" + bytes(31 - index)
    sandbox.must(finish(sandbox, market, run, result))
    assert bytes(sandbox.job_state(run.job).result) == result


def test_finish_twice_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    sandbox.chain.advance(10)
    sandbox.must(finish(sandbox, market, run))
    sandbox.chain.advance(10)
    assert_refused(finish(sandbox, market, run), errors, "JobNotOpen")
    assert sandbox.balance(run.node.token) == 100


def test_finish_of_a_queued_job_is_refused(sandbox, market, errors):
    poster, node = sandbox.actor(tokens=FUNDS), sandbox.actor()
    job = queued(sandbox, market, poster)
    outcome = sandbox.finish(market, job, node, poster.token)
    assert_refused(outcome, errors, "JobNotRunning")


def test_finish_by_a_node_that_is_not_running_the_job_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    other = sandbox.actor()
    outcome = sandbox.finish(market, run.job, other, run.payer.token)
    assert_refused(outcome, errors, "NodeNotAssigned")


def test_finish_paying_a_token_account_that_is_not_the_nodes_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    mixed_up = Actor(run.node.keypair, run.poster.token)
    assert_refused(sandbox.finish(market, run.job, mixed_up, run.payer.token), errors, "TokenOwnerMismatch")


def test_finish_refunding_a_token_account_that_is_not_the_payers_is_refused(sandbox, market, errors):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, payer=payer)
    assert_refused(sandbox.finish(market, run.job, run.node, run.poster.token), errors, "TokenOwnerMismatch")


# -- quit -------------------------------------------------------------------------------

def test_quit_puts_the_job_at_the_front_ahead_of_older_queued_jobs(sandbox, market):
    poster = sandbox.actor(tokens=FUNDS)
    j1 = queued(sandbox, market, poster)
    j2 = queued(sandbox, market, poster)
    n1 = sandbox.actor()
    assert event(sandbox, sandbox.must(sandbox.work(market, n1)), "JobMatched").job == j1
    j3 = queued(sandbox, market, poster)
    assert queue_jobs(sandbox, market) == [j2, j3]

    sandbox.chain.advance(50)
    outcome = sandbox.must(sandbox.quit(market, j1, n1))
    assert event_names(sandbox, outcome) == ["JobRequeued"]
    slot = sandbox.job_state(j1).slot
    assert_fields(event(sandbox, outcome, "JobRequeued"), job=j1, node=n1.pubkey, attempts=1, reason=QUIT, slot=slot)
    assert queue_jobs(sandbox, market) == [j1, j2, j3]
    entry = sandbox.market_state(market).entries[slot]
    # The waiting job's entry names the node that gave it up: never matched with it again.
    assert (kind(entry.state), entry.node) == ("QueuedJob", n1.pubkey)

    # The quitting node is unpaid; the next node takes the quit job before j2 and j3.
    assert sandbox.balance(n1.token) == 0
    assert sandbox.vault_balance(market) == 3 * PRICE * 600
    taken = [event(sandbox, sandbox.must(sandbox.work(market, sandbox.actor())), "JobMatched").job for _ in range(3)]
    assert taken == [j1, j2, j3]


def test_quit_with_a_node_waiting_hands_the_job_over_in_the_same_transaction(sandbox, market):
    run = start(sandbox, market, timeout=600)
    waiting = sandbox.actor()
    waiting_slot = event(sandbox, sandbox.must(sandbox.work(market, waiting)), "NodeQueued").slot
    sandbox.chain.advance(100)
    now = sandbox.chain.now()

    outcome = sandbox.must(sandbox.quit(market, run.job, run.node))
    assert event_names(sandbox, outcome) == ["JobRequeued", "JobMatched"]
    matched = event(sandbox, outcome, "JobMatched")
    assert (matched.job, matched.node, matched.started_at, matched.slot) == (run.job, waiting.pubkey, now, run.slot)
    m = sandbox.market_state(market)
    assert (kind(m.queue.side), m.queue.len) == ("Empty", 0)
    assert (kind(m.entries[run.slot].state), m.entries[run.slot].node, m.entries[run.slot].since) == ("Running", waiting.pubkey, now)
    assert_entry_free(sandbox, market, waiting_slot)

    # The new node is paid from the hand-over, the quitting node not at all.
    sandbox.chain.advance(50)
    done = event(sandbox, sandbox.must(sandbox.finish(market, run.job, waiting, run.payer.token)), "JobFinished")
    assert (done.paid, done.elapsed) == (500, 50)
    assert sandbox.balance(waiting.token) == 500
    assert sandbox.job_state(run.job).node == waiting.pubkey
    assert sandbox.balance(run.node.token) == 0


def test_quits_count_as_attempts_and_the_last_one_refunds(sandbox, market):
    # A quit is an attempt, whoever gives up: a job is held at most timeout x max_attempts.
    run = start(sandbox, market, timeout=100)
    node = run.node
    for attempt in range(1, SETTINGS.max_attempts):
        outcome = sandbox.must(sandbox.quit(market, run.job, node))
        assert event(sandbox, outcome, "JobRequeued").attempts == attempt
        node = sandbox.actor()
        sandbox.must(sandbox.work(market, node))
    outcome = sandbox.must(sandbox.quit(market, run.job, node))
    assert event_names(sandbox, outcome) == ["JobFailed"]
    assert_fields(event(sandbox, outcome, "JobFailed"), job=run.job, refunded=1_000, attempts=SETTINGS.max_attempts)
    job = sandbox.job_state(run.job)
    assert (job.attempts, kind(job.state), job.deposit) == (SETTINGS.max_attempts, "Failed", 0)
    assert sandbox.balance(run.payer.token) == FUNDS
    assert sandbox.vault_balance(market) == 0


def test_a_quit_and_a_reclaim_count_towards_the_same_attempts(sandbox, market):
    run = start(sandbox, market, timeout=100)
    sandbox.must(sandbox.quit(market, run.job, run.node))
    other = sandbox.actor()
    sandbox.must(sandbox.work(market, other))
    sandbox.chain.advance(100)
    outcome = sandbox.must(sandbox.reclaim(market, run.job, run.payer.token, sandbox.actor()))
    expected = ["JobRequeued"] if SETTINGS.max_attempts > 2 else ["JobFailed"]
    assert event_names(sandbox, outcome) == expected
    assert sandbox.job_state(run.job).attempts == 2


def test_quit_by_a_node_that_also_waits_never_hands_the_job_back_to_itself(sandbox, market, errors):
    # The quitting node's own waiting entry could only take the job back with a fresh
    # start: it is removed, and the job waits for another node.
    run = start(sandbox, market, timeout=100)
    own_slot = event(sandbox, sandbox.must(sandbox.work(market, run.node)), "NodeQueued").slot
    sandbox.chain.advance(40)
    outcome = sandbox.must(sandbox.quit(market, run.job, run.node))
    assert event_names(sandbox, outcome) == ["JobRequeued", "NodeLeft"]
    assert_fields(event(sandbox, outcome, "NodeLeft"), node=run.node.pubkey, slot=own_slot)
    assert queue_jobs(sandbox, market) == [run.job]
    assert_entry_free(sandbox, market, own_slot)
    # It cannot take the job again by working; another node can.
    assert_refused(sandbox.work(market, run.node), errors, "JobsExcludeNode")
    other = sandbox.actor()
    matched = event(sandbox, sandbox.must(sandbox.work(market, other)), "JobMatched")
    assert (matched.job, matched.node) == (run.job, other.pubkey)


def test_quit_hands_the_job_to_the_first_waiting_node_that_is_not_the_quitter(sandbox, market):
    run = start(sandbox, market, timeout=100)
    own_slot = event(sandbox, sandbox.must(sandbox.work(market, run.node)), "NodeQueued").slot
    other = sandbox.actor()
    sandbox.must(sandbox.work(market, other))
    outcome = sandbox.must(sandbox.quit(market, run.job, run.node))
    matched = event(sandbox, outcome, "JobMatched")
    assert (matched.job, matched.node) == (run.job, other.pubkey)
    # The quitter's own entry, ahead of the other node's, still waits (for another job).
    m = sandbox.market_state(market)
    assert (kind(m.entries[own_slot].state), m.entries[own_slot].node) == ("QueuedNode", run.node.pubkey)
    assert (kind(m.queue.side), m.queue.len) == ("Nodes", 1)


def test_quit_of_a_queued_job_is_refused(sandbox, market, errors):
    poster, node = sandbox.actor(tokens=FUNDS), sandbox.actor()
    job = queued(sandbox, market, poster)
    assert_refused(sandbox.quit(market, job, node), errors, "JobNotRunning")


def test_quit_by_a_node_that_is_not_running_the_job_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    before = market_bytes(sandbox, market)
    assert_refused(sandbox.quit(market, run.job, sandbox.actor()), errors, "NodeNotAssigned")
    assert market_bytes(sandbox, market) == before


def test_quit_of_a_finished_job_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    sandbox.must(finish(sandbox, market, run))
    assert_refused(sandbox.quit(market, run.job, run.node), errors, "JobNotOpen")


# -- reclaim ----------------------------------------------------------------------------

def test_reclaim_before_start_plus_timeout_is_refused(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(99)
    before = (market_bytes(sandbox, market), job_bytes(sandbox, run.job))
    assert_refused(reclaim(sandbox, market, run), errors, "TimeoutNotReached")
    assert (market_bytes(sandbox, market), job_bytes(sandbox, run.job)) == before


def test_reclaim_at_start_plus_timeout_requeues_at_the_front_with_one_attempt(sandbox, market):
    poster = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, poster=poster)
    older = queued(sandbox, market, poster)  # waits behind; the reclaimed job goes ahead of it
    sandbox.chain.advance(100)

    outcome = sandbox.must(reclaim(sandbox, market, run))
    assert event_names(sandbox, outcome) == ["JobRequeued"]
    assert_fields(event(sandbox, outcome, "JobRequeued"), job=run.job, node=run.node.pubkey, attempts=1, reason=RECLAIMED, slot=run.slot)
    job = sandbox.job_state(run.job)
    assert (job.attempts, kind(job.state), job.deposit, job.paid, job.slot) == (1, "Open", 1_000, 0, run.slot)
    assert queue_jobs(sandbox, market) == [run.job, older]
    # The silent node is not paid; the deposit stays in escrow.
    assert sandbox.balance(run.node.token) == 0
    assert sandbox.vault_balance(market) == 1_000 + PRICE * 600
    assert sandbox.market_state(market).escrowed == 1_000 + PRICE * 600


def test_reclaim_with_a_node_waiting_hands_the_job_over_in_the_same_transaction(sandbox, market):
    run = start(sandbox, market, timeout=100)
    waiting = sandbox.actor()
    sandbox.must(sandbox.work(market, waiting))
    sandbox.chain.advance(150)
    now = sandbox.chain.now()
    outcome = sandbox.must(reclaim(sandbox, market, run))
    assert event_names(sandbox, outcome) == ["JobRequeued", "JobMatched"]
    matched = event(sandbox, outcome, "JobMatched")
    assert (matched.job, matched.node, matched.started_at, matched.slot) == (run.job, waiting.pubkey, now, run.slot)
    assert sandbox.job_state(run.job).attempts == 1


def test_reclaim_deadline_counts_from_the_latest_match(sandbox, market, errors):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=100)
    sandbox.chain.advance(500)  # long wait in the queue
    sandbox.must(sandbox.work(market, sandbox.actor()))
    sandbox.chain.advance(99)
    assert_refused(sandbox.reclaim(market, job, poster.token, sandbox.actor()), errors, "TimeoutNotReached")
    sandbox.chain.advance(1)
    sandbox.must(sandbox.reclaim(market, job, poster.token, sandbox.actor()))


def test_reclaim_at_max_attempts_refunds_in_full_and_fails_the_job(sandbox, market):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, payer=payer)
    sandbox.chain.advance(100)
    sandbox.must(reclaim(sandbox, market, run))
    second = sandbox.actor()
    sandbox.must(sandbox.work(market, second))
    sandbox.chain.advance(100)
    now = sandbox.chain.now()

    outcome = sandbox.must(reclaim(sandbox, market, run))
    assert SETTINGS.max_attempts == 2
    assert event_names(sandbox, outcome) == ["JobFailed"]
    assert_fields(event(sandbox, outcome, "JobFailed"), job=run.job, refunded=1_000, attempts=2)
    job = sandbox.job_state(run.job)
    assert (kind(job.state), job.attempts, job.deposit, job.paid, job.closed_at) == ("Failed", 2, 0, 0, now)
    assert sandbox.balance(payer.token) == FUNDS
    assert sandbox.balance(run.node.token) == 0
    assert sandbox.balance(second.token) == 0
    assert sandbox.vault_balance(market) == 0
    m = sandbox.market_state(market)
    assert (m.jobs, m.escrowed) == (1, 0)
    assert_entry_free(sandbox, market, run.slot)


def test_reclaim_with_max_attempts_one_fails_at_the_first_reclaim(sandbox):
    market, _, outcome = sandbox.open_market(replace(SETTINGS, max_attempts=1), capacity=4)
    sandbox.must(outcome)
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(100)
    outcome = sandbox.must(reclaim(sandbox, market, run))
    assert event(sandbox, outcome, "JobFailed").attempts == 1
    assert kind(sandbox.job_state(run.job).state) == "Failed"


def test_reclaim_refund_to_a_token_account_that_is_not_the_payers_is_refused(sandbox, market, errors):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, payer=payer)
    sandbox.chain.advance(100)
    sandbox.must(reclaim(sandbox, market, run))
    sandbox.must(sandbox.work(market, sandbox.actor()))
    sandbox.chain.advance(100)
    outcome = sandbox.reclaim(market, run.job, run.poster.token, sandbox.actor())
    assert_refused(outcome, errors, "TokenOwnerMismatch")
    assert kind(sandbox.job_state(run.job).state) == "Open"


def test_reclaim_of_a_queued_job_is_refused(sandbox, market, errors):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=100)
    sandbox.chain.advance(1_000)
    assert_refused(sandbox.reclaim(market, job, poster.token, sandbox.actor()), errors, "JobNotRunning")


def test_reclaim_of_a_failed_job_is_refused(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    settle_failed(sandbox, market, run)
    sandbox.chain.advance(1_000)
    assert_refused(reclaim(sandbox, market, run), errors, "JobNotOpen")


def test_stale_node_finishing_after_reclaim_is_refused_while_requeued(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(120)
    sandbox.must(reclaim(sandbox, market, run))
    assert_refused(finish(sandbox, market, run), errors, "JobNotRunning")


def test_stale_node_finishing_after_reclaim_is_refused_once_another_node_runs_it(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(120)
    sandbox.must(reclaim(sandbox, market, run))
    sandbox.must(sandbox.work(market, sandbox.actor()))
    assert_refused(finish(sandbox, market, run), errors, "NodeNotAssigned")
    assert_refused(sandbox.quit(market, run.job, run.node), errors, "NodeNotAssigned")


# -- extend -----------------------------------------------------------------------------

def test_extend_a_queued_job_grows_timeout_and_deposit(sandbox, market):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=600)
    outcome = sandbox.must(sandbox.extend(market, job, poster, 300))
    assert event_names(sandbox, outcome) == ["JobExtended"]
    assert_fields(event(sandbox, outcome, "JobExtended"), job=job, extra=300, timeout=900, deposit=9_000)
    state = sandbox.job_state(job)
    assert (state.timeout, state.deposit, kind(state.state)) == (900, 9_000, "Open")
    assert sandbox.balance(poster.token) == FUNDS - 9_000
    assert sandbox.vault_balance(market) == 9_000
    assert sandbox.market_state(market).escrowed == 9_000
    assert queue_jobs(sandbox, market) == [job]  # still waiting, same place


def test_extend_a_running_job_moves_the_reclaim_deadline_and_the_pay_cap(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(80)
    extended = event(sandbox, sandbox.must(sandbox.extend(market, run.job, run.poster, 50)), "JobExtended")
    assert (extended.timeout, extended.deposit) == (150, 1_500)
    sandbox.chain.advance(20)  # 100 s: the old deadline
    assert_refused(reclaim(sandbox, market, run), errors, "TimeoutNotReached")
    sandbox.chain.advance(100)  # 200 s: past the new timeout too
    done = event(sandbox, sandbox.must(finish(sandbox, market, run)), "JobFinished")
    assert (done.paid, done.refunded, done.elapsed) == (1_500, 0, 150)


def test_extend_up_to_the_market_maximum_is_accepted(sandbox, market):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=600)
    sandbox.must(sandbox.extend(market, job, poster, SETTINGS.max_timeout - 600))
    assert sandbox.job_state(job).timeout == SETTINGS.max_timeout
    assert sandbox.job_state(job).deposit == PRICE * SETTINGS.max_timeout


@pytest.mark.parametrize("extra", [SETTINGS.max_timeout - 600 + 1, 0, -1])
def test_extend_refuses_extra_time_out_of_range(sandbox, market, errors, extra):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=600)
    before = (market_bytes(sandbox, market), job_bytes(sandbox, job))
    assert_refused(sandbox.extend(market, job, poster, extra), errors, "TimeoutInvalid")
    assert (market_bytes(sandbox, market), job_bytes(sandbox, job)) == before
    assert sandbox.balance(poster.token) == FUNDS - 6_000


def test_extend_by_an_extra_that_overflows_the_timeout_is_refused_as_overflow(sandbox, market, errors):
    # Current behaviour: timeout + extra is computed with checked_add before the comparison
    # with the market maximum, so an i64-overflowing extra reports ArithmeticOverflow, not
    # TimeoutInvalid. Either way nothing changes.
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=600)
    before = job_bytes(sandbox, job)
    assert_refused(sandbox.extend(market, job, poster, 2**63 - 1), errors, "ArithmeticOverflow")
    assert job_bytes(sandbox, job) == before


def test_extend_pays_the_jobs_own_price_after_a_market_price_change(sandbox):
    market, authority, outcome = sandbox.open_market(SETTINGS, capacity=4)
    sandbox.must(outcome)
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=100)
    sandbox.must(sandbox.send([sandbox.jobs.update_market(authority.pubkey, market, replace(SETTINGS, price_per_second=50))], [authority.keypair]))
    extended = event(sandbox, sandbox.must(sandbox.extend(market, job, poster, 100)), "JobExtended")
    assert (extended.timeout, extended.deposit) == (200, 2_000)
    assert sandbox.balance(poster.token) == FUNDS - 2_000


def test_extend_by_a_separate_payer_takes_the_payers_tokens(sandbox, market):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, payer=payer)
    sandbox.must(sandbox.extend(market, run.job, run.poster, 10, payer=payer))
    assert sandbox.balance(payer.token) == FUNDS - 1_100
    assert sandbox.balance(run.poster.token) == FUNDS


def test_extend_naming_someone_other_than_the_jobs_payer_is_refused(sandbox, market, errors):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, payer=payer)
    assert_refused(sandbox.extend(market, run.job, run.poster, 10), errors, "PayerMismatch")  # poster as payer
    assert sandbox.job_state(run.job).timeout == 100
    assert sandbox.balance(run.poster.token) == FUNDS


def test_extend_by_a_payer_without_enough_tokens_fails_with_no_state_change(sandbox, market):
    poster = sandbox.actor(tokens=PRICE * 100)
    job = queued(sandbox, market, poster, timeout=100)
    before = (market_bytes(sandbox, market), job_bytes(sandbox, job))
    outcome = sandbox.extend(market, job, poster, 1)
    assert not outcome.ok
    assert outcome.custom_error == SPL_TOKEN_INSUFFICIENT_FUNDS
    assert (market_bytes(sandbox, market), job_bytes(sandbox, job)) == before


def test_extend_from_a_token_account_that_is_not_the_payers_fails_with_no_state_change(sandbox, market):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster, timeout=100)
    before = (market_bytes(sandbox, market), job_bytes(sandbox, job))
    stranger = sandbox.actor(tokens=FUNDS)
    outcome = sandbox.extend(market, job, poster, 10, payer=Actor(poster.keypair, stranger.token))
    assert not outcome.ok
    assert sandbox.jobs.errors.name(outcome.custom_error) == "TokenOwnerMismatch"
    assert (market_bytes(sandbox, market), job_bytes(sandbox, job)) == before
    assert sandbox.balance(stranger.token) == FUNDS


@pytest.mark.parametrize("settle", [settle_done, settle_ended, settle_failed], ids=["done", "ended", "failed"])
def test_extend_of_a_settled_job_is_refused(sandbox, market, errors, settle):
    run = start(sandbox, market, timeout=100)
    settle(sandbox, market, run)
    assert_refused(sandbox.extend(market, run.job, run.poster, 10), errors, "JobNotOpen")


# -- end --------------------------------------------------------------------------------

def test_end_pays_the_node_for_elapsed_time_and_refunds_the_rest(sandbox, market):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=600, payer=payer)
    sandbox.chain.advance(42)
    now = sandbox.chain.now()
    outcome = sandbox.must(end(sandbox, market, run))
    assert event_names(sandbox, outcome) == ["JobEnded"]
    assert_fields(event(sandbox, outcome, "JobEnded"), job=run.job, node=run.node.pubkey, paid=420, refunded=5_580, elapsed=42)
    job = sandbox.job_state(run.job)
    assert (kind(job.state), job.node, job.paid, job.deposit, job.closed_at) == ("Ended", run.node.pubkey, 420, 0, now)
    assert bytes(job.result) == bytes(32)
    assert sandbox.balance(run.node.token) == 420
    assert sandbox.balance(payer.token) == FUNDS - 420
    assert sandbox.balance(run.poster.token) == FUNDS
    assert sandbox.vault_balance(market) == 0
    m = sandbox.market_state(market)
    assert (m.jobs, m.escrowed) == (1, 0)
    assert_entry_free(sandbox, market, run.slot)


def test_end_late_caps_elapsed_at_the_timeout(sandbox, market):
    run = start(sandbox, market, timeout=100)
    sandbox.chain.advance(500)
    ended = event(sandbox, sandbox.must(end(sandbox, market, run)), "JobEnded")
    assert (ended.paid, ended.refunded, ended.elapsed) == (1_000, 0, 100)


def test_end_of_a_queued_job_is_refused(sandbox, market, errors):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster)
    outcome = sandbox.end(market, job, poster, sandbox.actor().token, poster.token)
    assert_refused(outcome, errors, "JobNotRunning")
    assert kind(sandbox.job_state(job).state) == "Open"


@pytest.mark.parametrize("settle", [settle_done, settle_ended, settle_failed], ids=["done", "ended", "failed"])
def test_end_of_a_settled_job_is_refused(sandbox, market, errors, settle):
    run = start(sandbox, market, timeout=100)
    settle(sandbox, market, run)
    assert_refused(end(sandbox, market, run), errors, "JobNotOpen")


def test_end_paying_a_token_account_that_is_not_the_running_nodes_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    sandbox.chain.advance(10)
    outcome = sandbox.end(market, run.job, run.poster, sandbox.actor().token, run.payer.token)
    assert_refused(outcome, errors, "TokenOwnerMismatch")
    assert kind(sandbox.job_state(run.job).state) == "Open"


# -- clean ------------------------------------------------------------------------------

@pytest.mark.parametrize("settle", [settle_done, settle_ended, settle_failed], ids=["done", "ended", "failed"])
def test_clean_after_retention_closes_the_job_and_returns_rent_to_the_payer(sandbox, market, settle):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, payer=payer)
    settle(sandbox, market, run)
    sandbox.chain.advance(SETTINGS.retention)
    rent = sandbox.chain.lamports(run.job)
    before = sandbox.chain.lamports(payer.pubkey)
    outcome = sandbox.must(sandbox.clean(market, run.job, payer.pubkey, sandbox.actor()))  # anyone may clean
    assert event_names(sandbox, outcome) == ["JobCleaned"]
    assert_fields(event(sandbox, outcome, "JobCleaned"), job=run.job)
    assert sandbox.chain.account(run.job) is None
    assert sandbox.chain.lamports(payer.pubkey) == before + rent
    assert sandbox.market_state(market).jobs == 0


def test_clean_before_retention_is_refused(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    settle_done(sandbox, market, run)
    sandbox.chain.advance(SETTINGS.retention - 1)
    assert_refused(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()), errors, "RetentionNotReached")
    assert sandbox.job_state(run.job) is not None
    sandbox.chain.advance(1)
    sandbox.must(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()))


def test_clean_retention_counts_from_settlement_not_from_posting(sandbox, market, errors):
    run = start(sandbox, market, timeout=600)
    sandbox.chain.advance(500)  # far longer than the 60 s retention, but the job is still running
    settle_done(sandbox, market, run)
    assert_refused(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()), errors, "RetentionNotReached")


def test_clean_of_a_queued_job_is_refused(sandbox, market, errors):
    poster = sandbox.actor(tokens=FUNDS)
    job = queued(sandbox, market, poster)
    sandbox.chain.advance(10_000)
    assert_refused(sandbox.clean(market, job, poster.pubkey, sandbox.actor()), errors, "JobStillOpen")


def test_clean_of_a_running_job_is_refused(sandbox, market, errors):
    run = start(sandbox, market)
    sandbox.chain.advance(10_000)
    assert_refused(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()), errors, "JobStillOpen")
    assert sandbox.market_state(market).jobs == 1


def test_clean_with_rent_to_someone_other_than_the_payer_is_refused(sandbox, market, errors):
    payer = sandbox.actor(tokens=FUNDS)
    run = start(sandbox, market, timeout=100, payer=payer)
    settle_done(sandbox, market, run)
    sandbox.chain.advance(SETTINGS.retention)
    assert_refused(sandbox.clean(market, run.job, run.poster.pubkey, sandbox.actor()), errors, "PayerMismatch")
    assert sandbox.job_state(run.job) is not None
    assert sandbox.market_state(market).jobs == 1


def test_clean_twice_is_refused_because_the_job_is_gone(sandbox, market, errors):
    run = start(sandbox, market, timeout=100)
    settle_done(sandbox, market, run)
    sandbox.chain.advance(SETTINGS.retention)
    sandbox.must(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()))
    assert_refused(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()), errors, "AccountOwnerInvalid")
    assert sandbox.market_state(market).jobs == 0


def test_clean_at_the_longest_retention_is_due_after_exactly_that_long(sandbox, errors):
    # Retention is bounded (365 days): no market can keep a payer's job rent for ever.
    year = 365 * 86_400
    market, _, outcome = sandbox.open_market(replace(SETTINGS, retention=year), capacity=4)
    sandbox.must(outcome)
    run = start(sandbox, market, timeout=100)
    settle_done(sandbox, market, run)
    sandbox.chain.advance(year - 1)
    assert_refused(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()), errors, "RetentionNotReached")
    sandbox.chain.advance(1)
    sandbox.must(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()))
    assert sandbox.job_state(run.job) is None


def test_clean_with_zero_retention_is_allowed_in_the_same_second(sandbox):
    market, _, outcome = sandbox.open_market(replace(SETTINGS, retention=0), capacity=4)
    sandbox.must(outcome)
    run = start(sandbox, market, timeout=100)
    settle_done(sandbox, market, run)
    sandbox.must(sandbox.clean(market, run.job, run.payer.pubkey, sandbox.actor()))
    assert sandbox.chain.account(run.job) is None
