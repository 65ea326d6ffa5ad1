"""post, work, leave and cancel, each built through anchorpy.Program and run against the
real SBF build in LiteSVM: the escrow they take or give back, the queue they leave behind
(FIFO from both sides: jobs waiting for nodes and nodes waiting for jobs), the events they
emit, and every refusal an honest but mistaken caller can run into."""

from __future__ import annotations

from dataclasses import replace

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client import MarketSettings
from crowdcompute.client.jobs.layout import JOB_SIZE, NIL
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


# -- helpers ----------------------------------------------------------------------------

def open_market(sandbox: Sandbox, capacity: int, settings: MarketSettings = SETTINGS) -> Pubkey:
    market, _, outcome = sandbox.open_market(settings, capacity=capacity)
    sandbox.must(outcome)
    return market


def post(sandbox: Sandbox, market: Pubkey, poster: Actor, timeout: int = 600, **kwargs):
    """A post that must succeed: (job, outcome)."""
    job, outcome = sandbox.post(market, poster, timeout=timeout, **kwargs)
    sandbox.must(outcome)
    return job, outcome


def queue_order(sandbox: Sandbox, market: Pubkey) -> list[int]:
    """Entry indices linked in the queue, front to back, checked against the back links."""
    state = sandbox.market_state(market)
    forward, index = [], state.queue.head
    while index != NIL:
        forward.append(index)
        index = state.entries[index].next
    backward, index = [], state.queue.tail
    while index != NIL:
        backward.append(index)
        index = state.entries[index].prev
    assert backward[::-1] == forward
    assert state.queue.len == len(forward)
    return forward


def waiting_jobs(sandbox: Sandbox, market: Pubkey) -> list[Pubkey]:
    state = sandbox.market_state(market)
    return [state.entries[i].job for i in queue_order(sandbox, market)]


def waiting_nodes(sandbox: Sandbox, market: Pubkey) -> list[Pubkey]:
    state = sandbox.market_state(market)
    return [state.entries[i].node for i in queue_order(sandbox, market)]


def match_of(sandbox: Sandbox, outcome) -> tuple[Pubkey, Pubkey]:
    matched = event(sandbox, outcome, "JobMatched")
    return matched.job, matched.node


@pytest.fixture
def poster(sandbox) -> Actor:
    return sandbox.actor(tokens=FUNDS)


# -- post -------------------------------------------------------------------------------

def test_post_with_no_node_waiting_queues_the_job_and_escrows_price_times_timeout(sandbox, market, poster):
    definition = digest("render frame 7")
    now = sandbox.chain.now()
    job, outcome = post(sandbox, market, poster, timeout=600, definition=definition)

    assert event_names(sandbox, outcome) == ["JobPosted"]
    assert_fields(event(sandbox, outcome, "JobPosted"), job=job, timeout=600, deposit=6_000, slot=0, queued=1)

    state = sandbox.job_state(job)
    assert (state.market, state.poster, state.payer) == (market, poster.pubkey, poster.pubkey)
    assert bytes(state.definition) == definition
    assert bytes(state.result) == bytes(32)
    assert state.node == Pubkey.default()
    assert (state.price_per_second, state.timeout, state.deposit, state.paid) == (PRICE, 600, 6_000, 0)
    assert (state.posted_at, state.closed_at, state.slot, state.attempts) == (now, 0, 0, 0)
    assert kind(state.state) == "Open"

    assert sandbox.balance(poster.token) == FUNDS - 6_000
    assert sandbox.vault_balance(market) == 6_000
    m = sandbox.market_state(market)
    assert (m.jobs, m.escrowed) == (1, 6_000)
    assert (kind(m.queue.side), m.queue.len, m.queue.head, m.queue.tail, m.queue.used) == ("Jobs", 1, 0, 0, 1)
    entry = m.entries[0]
    assert (kind(entry.state), entry.job, entry.node, entry.since) == ("QueuedJob", job, Pubkey.default(), now)


def test_post_job_account_rent_is_exactly_the_rent_exempt_minimum(sandbox, market, poster):
    job, _ = post(sandbox, market, poster)
    account = sandbox.chain.account(job)
    assert account.owner == sandbox.jobs.program_id
    assert len(account.data) == JOB_SIZE
    assert account.lamports == sandbox.chain.rent_exempt(JOB_SIZE)


def test_post_with_a_node_waiting_matches_at_once(sandbox, market, poster):
    node = sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    sandbox.chain.advance(30)
    now = sandbox.chain.now()
    job, outcome = post(sandbox, market, poster, timeout=100)

    assert event_names(sandbox, outcome) == ["JobPosted", "JobMatched"]
    assert_fields(event(sandbox, outcome, "JobPosted"), job=job, timeout=100, deposit=1_000, slot=0, queued=0)
    assert_fields(event(sandbox, outcome, "JobMatched"), job=job, node=node.pubkey, started_at=now, slot=0)

    m = sandbox.market_state(market)
    assert (kind(m.queue.side), m.queue.len, m.queue.head, m.queue.tail) == ("Empty", 0, NIL, NIL)
    entry = m.entries[0]
    assert (kind(entry.state), entry.job, entry.node, entry.since) == ("Running", job, node.pubkey, now)
    assert sandbox.job_state(job).slot == 0
    assert sandbox.vault_balance(market) == 1_000


def test_post_payer_other_than_poster_pays_deposit_and_rent(sandbox, market, poster):
    payer = sandbox.actor(tokens=FUNDS)
    poster_lamports = sandbox.chain.lamports(poster.pubkey)
    job, outcome = post(sandbox, market, poster, timeout=50, payer=payer)
    assert_fields(event(sandbox, outcome, "JobPosted"), job=job, deposit=500)
    state = sandbox.job_state(job)
    assert (state.poster, state.payer) == (poster.pubkey, payer.pubkey)
    assert sandbox.balance(payer.token) == FUNDS - 500
    assert sandbox.balance(poster.token) == FUNDS
    assert sandbox.chain.lamports(poster.pubkey) == poster_lamports  # the payer also paid the fee


def test_post_at_the_maximum_timeout_is_accepted(sandbox, market, poster):
    job, outcome = post(sandbox, market, poster, timeout=SETTINGS.max_timeout)
    assert event(sandbox, outcome, "JobPosted").deposit == PRICE * SETTINGS.max_timeout
    assert sandbox.job_state(job).timeout == SETTINGS.max_timeout


@pytest.mark.parametrize("timeout", [0, -1, SETTINGS.max_timeout + 1])
def test_post_refuses_a_timeout_out_of_range_and_changes_nothing(sandbox, market, poster, errors, timeout):
    before = market_bytes(sandbox, market)
    job, outcome = sandbox.post(market, poster, timeout=timeout)
    assert_refused(outcome, errors, "TimeoutInvalid")
    assert sandbox.chain.account(job) is None
    assert market_bytes(sandbox, market) == before
    assert sandbox.balance(poster.token) == FUNDS


def test_post_refuses_a_zero_definition(sandbox, market, poster, errors):
    job, outcome = sandbox.post(market, poster, definition=bytes(32))
    assert_refused(outcome, errors, "DefinitionMissing")
    assert sandbox.chain.account(job) is None
    assert sandbox.balance(poster.token) == FUNDS


@pytest.mark.parametrize("index", [0, 7, 8, 31])
def test_post_accepts_a_definition_with_a_single_non_zero_byte(sandbox, market, poster, index):
    definition = bytes(index) + b"\x01" + bytes(31 - index)
    job, _ = post(sandbox, market, poster, definition=definition)
    assert bytes(sandbox.job_state(job).definition) == definition


def test_post_refuses_when_the_queue_is_full_and_changes_nothing(sandbox, poster, errors):
    market = open_market(sandbox, capacity=2)
    post(sandbox, market, poster)
    post(sandbox, market, poster)
    before = market_bytes(sandbox, market)
    balance, vault = sandbox.balance(poster.token), sandbox.vault_balance(market)
    job, outcome = sandbox.post(market, poster)
    assert_refused(outcome, errors, "QueueFull")
    assert sandbox.chain.account(job) is None
    assert market_bytes(sandbox, market) == before
    assert (sandbox.balance(poster.token), sandbox.vault_balance(market)) == (balance, vault)


def test_post_running_jobs_keep_their_entry_so_they_count_against_capacity(sandbox, poster, errors):
    # Capacity counts entries in use, not the queue length: a running job holds its entry
    # until it settles.
    market = open_market(sandbox, capacity=2)
    sandbox.must(sandbox.work(market, sandbox.actor()))
    sandbox.must(sandbox.work(market, sandbox.actor()))
    post(sandbox, market, poster)
    post(sandbox, market, poster)
    assert sandbox.market_state(market).queue.len == 0
    _, outcome = sandbox.post(market, poster)
    assert_refused(outcome, errors, "QueueFull")


def test_post_by_a_payer_without_enough_tokens_fails_with_no_state_change(sandbox, market):
    poor = sandbox.actor(tokens=PRICE * 600 - 1)
    before = market_bytes(sandbox, market)
    lamports = sandbox.chain.lamports(poor.pubkey)
    job, outcome = sandbox.post(market, poor, timeout=600)
    assert not outcome.ok
    assert outcome.custom_error == SPL_TOKEN_INSUFFICIENT_FUNDS  # from the token program's transfer
    assert sandbox.chain.account(job) is None
    assert market_bytes(sandbox, market) == before
    assert sandbox.balance(poor.token) == PRICE * 600 - 1
    assert sandbox.vault_balance(market) == 0
    assert lamports - sandbox.chain.lamports(poor.pubkey) == 2 * 5000  # two signatures (payer, job): no rent taken


def test_post_from_a_payer_token_account_of_another_mint_fails_with_no_state_change(sandbox, market, poster):
    other_mint = sandbox.new_mint()
    wrong = Actor(poster.keypair, sandbox.token_account(poster.pubkey, other_mint))
    sandbox.mint_to(wrong.token, FUNDS, other_mint)
    before = market_bytes(sandbox, market)
    job, outcome = sandbox.post(market, wrong)
    assert not outcome.ok
    assert outcome.custom_error == SPL_TOKEN_MINT_MISMATCH
    assert sandbox.chain.account(job) is None
    assert market_bytes(sandbox, market) == before
    assert sandbox.balance(wrong.token) == FUNDS


def test_post_from_a_token_account_that_is_not_the_payers_fails_with_no_state_change(sandbox, market, poster):
    payer = sandbox.actor(tokens=FUNDS)
    mixed_up = Actor(payer.keypair, poster.token)  # the poster's token account, the payer signing
    before = market_bytes(sandbox, market)
    job, outcome = sandbox.post(market, poster, payer=mixed_up)
    assert not outcome.ok
    assert sandbox.jobs.errors.name(outcome.custom_error) == "TokenOwnerMismatch"
    assert sandbox.chain.account(job) is None
    assert market_bytes(sandbox, market) == before
    assert sandbox.balance(poster.token) == FUNDS
    assert sandbox.balance(payer.token) == FUNDS


def test_post_with_a_job_keypair_already_used_fails_with_no_state_change(sandbox, market, poster):
    keypair = Keypair()
    post(sandbox, market, poster, job=keypair)
    before = market_bytes(sandbox, market)
    balance = sandbox.balance(poster.token)
    _, outcome = sandbox.post(market, poster, job=keypair)
    assert not outcome.ok  # System create_account: the account is already in use
    assert market_bytes(sandbox, market) == before
    assert sandbox.balance(poster.token) == balance


def test_market_whose_largest_deposit_overflows_u64_is_refused(sandbox, errors):
    # price x max_timeout must fit a u64, so no post's deposit can overflow.
    _, _, outcome = sandbox.open_market(replace(SETTINGS, price_per_second=2**63, max_timeout=2), capacity=2)
    assert_refused(outcome, errors, "SettingInvalid")


def test_post_in_a_free_market_escrows_nothing(sandbox, poster):
    market = open_market(sandbox, capacity=2, settings=replace(SETTINGS, price_per_second=0))
    job, outcome = post(sandbox, market, poster, timeout=600)
    assert event(sandbox, outcome, "JobPosted").deposit == 0
    assert sandbox.job_state(job).deposit == 0
    assert sandbox.balance(poster.token) == FUNDS
    assert sandbox.vault_balance(market) == 0
    # The zero-amount transfer is skipped: the program makes no token CPI.
    assert not any("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke" in line for line in outcome.logs)


# -- work -------------------------------------------------------------------------------

def test_work_with_no_job_waiting_queues_the_node(sandbox, market):
    node = sandbox.actor()
    now = sandbox.chain.now()
    outcome = sandbox.must(sandbox.work(market, node))
    assert event_names(sandbox, outcome) == ["NodeQueued"]
    assert_fields(event(sandbox, outcome, "NodeQueued"), node=node.pubkey, slot=0)
    m = sandbox.market_state(market)
    assert (kind(m.queue.side), m.queue.len, m.queue.head, m.queue.tail) == ("Nodes", 1, 0, 0)
    entry = m.entries[0]
    assert (kind(entry.state), entry.job, entry.node, entry.since) == ("QueuedNode", Pubkey.default(), node.pubkey, now)
    assert (m.jobs, m.escrowed) == (0, 0)  # a waiting node is not a job


def test_work_nodes_get_successive_slots(sandbox, market):
    slots = [event(sandbox, sandbox.must(sandbox.work(market, sandbox.actor())), "NodeQueued").slot for _ in range(3)]
    assert slots == [0, 1, 2]
    assert queue_order(sandbox, market) == [0, 1, 2]


def test_work_takes_the_oldest_waiting_job(sandbox, market, poster):
    jobs = [post(sandbox, market, poster)[0] for _ in range(3)]
    assert waiting_jobs(sandbox, market) == jobs
    node = sandbox.actor()
    sandbox.chain.advance(5)
    now = sandbox.chain.now()
    outcome = sandbox.must(sandbox.work(market, node))
    assert event_names(sandbox, outcome) == ["JobMatched"]
    assert_fields(event(sandbox, outcome, "JobMatched"), job=jobs[0], node=node.pubkey, started_at=now, slot=0)
    m = sandbox.market_state(market)
    assert (kind(m.entries[0].state), m.entries[0].node, m.entries[0].since) == ("Running", node.pubkey, now)
    assert waiting_jobs(sandbox, market) == jobs[1:]


def test_work_serves_waiting_jobs_in_fifo_order(sandbox, market, poster):
    jobs = [post(sandbox, market, poster)[0] for _ in range(4)]
    nodes = [sandbox.actor() for _ in range(4)]
    matches = [match_of(sandbox, sandbox.must(sandbox.work(market, node))) for node in nodes]
    assert matches == [(job, node.pubkey) for job, node in zip(jobs, nodes)]
    assert kind(sandbox.market_state(market).queue.side) == "Empty"
    # The next node waits: the queue changes side.
    outcome = sandbox.must(sandbox.work(market, sandbox.actor()))
    assert event(sandbox, outcome, "NodeQueued").slot == 4
    assert kind(sandbox.market_state(market).queue.side) == "Nodes"


def test_post_serves_waiting_nodes_in_fifo_order(sandbox, market, poster):
    nodes = [sandbox.actor() for _ in range(4)]
    for node in nodes:
        sandbox.must(sandbox.work(market, node))
    assert waiting_nodes(sandbox, market) == [n.pubkey for n in nodes]
    for i, node in enumerate(nodes):
        job, outcome = post(sandbox, market, poster)
        assert match_of(sandbox, outcome) == (job, node.pubkey)
        assert sandbox.job_state(job).slot == i  # the job takes over the node's entry
    assert kind(sandbox.market_state(market).queue.side) == "Empty"
    # The next job waits: the queue changes side.
    _, outcome = post(sandbox, market, poster)
    assert event(sandbox, outcome, "JobPosted").queued == 1
    assert kind(sandbox.market_state(market).queue.side) == "Jobs"


def test_work_refuses_when_the_queue_is_full_of_nodes(sandbox, errors):
    market = open_market(sandbox, capacity=3)
    for _ in range(3):
        sandbox.must(sandbox.work(market, sandbox.actor()))
    before = market_bytes(sandbox, market)
    assert_refused(sandbox.work(market, sandbox.actor()), errors, "QueueFull")
    assert market_bytes(sandbox, market) == before


def test_work_by_the_same_node_twice_gives_it_two_entries(sandbox, market, poster):
    # Current behaviour: nothing stops a node from waiting twice; it holds two entries and
    # is matched once per entry, in FIFO order with the other nodes.
    node, other = sandbox.actor(), sandbox.actor()
    first = event(sandbox, sandbox.must(sandbox.work(market, node)), "NodeQueued").slot
    sandbox.must(sandbox.work(market, other))
    second = event(sandbox, sandbox.must(sandbox.work(market, node)), "NodeQueued").slot
    assert (first, second) == (0, 2)
    assert waiting_nodes(sandbox, market) == [node.pubkey, other.pubkey, node.pubkey]
    matched = [match_of(sandbox, post(sandbox, market, poster)[1])[1] for _ in range(3)]
    assert matched == [node.pubkey, other.pubkey, node.pubkey]


# -- leave ------------------------------------------------------------------------------

def test_leave_frees_the_entry_and_emits_node_left(sandbox, market):
    node = sandbox.actor()
    slot = event(sandbox, sandbox.must(sandbox.work(market, node)), "NodeQueued").slot
    outcome = sandbox.must(sandbox.leave(market, node, slot))
    assert_fields(event(sandbox, outcome, "NodeLeft"), node=node.pubkey, slot=slot)
    m = sandbox.market_state(market)
    assert (kind(m.queue.side), m.queue.len, m.queue.head, m.queue.tail, m.queue.free_head) == ("Empty", 0, NIL, NIL, slot)
    assert kind(m.entries[slot].state) == "Free"


def test_leave_from_the_middle_keeps_the_fifo_order_of_the_others(sandbox, market, poster):
    nodes = [sandbox.actor() for _ in range(4)]
    slots = [event(sandbox, sandbox.must(sandbox.work(market, n)), "NodeQueued").slot for n in nodes]
    sandbox.must(sandbox.leave(market, nodes[1], slots[1]))
    assert queue_order(sandbox, market) == [slots[0], slots[2], slots[3]]
    sandbox.must(sandbox.leave(market, nodes[2], slots[2]))
    assert queue_order(sandbox, market) == [slots[0], slots[3]]
    # Posts are served by the remaining nodes in their original order.
    matched = [match_of(sandbox, post(sandbox, market, poster)[1])[1] for _ in range(2)]
    assert matched == [nodes[0].pubkey, nodes[3].pubkey]
    _, outcome = post(sandbox, market, poster)
    assert event(sandbox, outcome, "JobPosted").queued == 1


def test_leave_from_the_front_and_the_back(sandbox, market):
    nodes = [sandbox.actor() for _ in range(3)]
    for n in nodes:
        sandbox.must(sandbox.work(market, n))
    sandbox.must(sandbox.leave(market, nodes[0], 0))
    assert queue_order(sandbox, market) == [1, 2]
    sandbox.must(sandbox.leave(market, nodes[2], 2))
    assert queue_order(sandbox, market) == [1]


def test_leave_freed_entry_is_reused_by_the_next_arrival(sandbox, market, poster):
    nodes = [sandbox.actor() for _ in range(3)]
    for n in nodes:
        sandbox.must(sandbox.work(market, n))
    sandbox.must(sandbox.leave(market, nodes[1], 1))
    newcomer = sandbox.actor()
    assert event(sandbox, sandbox.must(sandbox.work(market, newcomer)), "NodeQueued").slot == 1
    # Reused entry 1, but the newcomer waits at the back.
    assert waiting_nodes(sandbox, market) == [nodes[0].pubkey, nodes[2].pubkey, newcomer.pubkey]
    assert sandbox.market_state(market).queue.used == 3


def test_leave_twice_is_refused(sandbox, market, errors):
    node = sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    sandbox.must(sandbox.leave(market, node, 0))
    before = market_bytes(sandbox, market)
    assert_refused(sandbox.leave(market, node, 0), errors, "NodeNotQueued")
    assert market_bytes(sandbox, market) == before


def test_leave_of_another_nodes_entry_is_refused(sandbox, market, errors):
    node, other = sandbox.actor(), sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    sandbox.must(sandbox.work(market, other))
    assert_refused(sandbox.leave(market, node, 1), errors, "NodeNotQueued")
    assert waiting_nodes(sandbox, market) == [node.pubkey, other.pubkey]


def test_leave_after_being_matched_is_refused(sandbox, market, poster, errors):
    node = sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    post(sandbox, market, poster)
    assert_refused(sandbox.leave(market, node, 0), errors, "NodeNotQueued")
    assert kind(sandbox.market_state(market).entries[0].state) == "Running"


def test_leave_of_an_entry_holding_a_waiting_job_is_refused(sandbox, market, poster, errors):
    post(sandbox, market, poster)
    assert_refused(sandbox.leave(market, sandbox.actor(), 0), errors, "NodeNotQueued")


def test_leave_of_a_slot_past_the_capacity_is_refused(sandbox, market, errors):
    node = sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    capacity = len(sandbox.market_state(market).entries)
    assert_refused(sandbox.leave(market, node, capacity), errors, "SlotInvalid")
    assert_refused(sandbox.leave(market, node, NIL), errors, "SlotInvalid")


# -- cancel -----------------------------------------------------------------------------

def test_cancel_refunds_in_full_and_closes_the_job_with_rent_to_the_payer(sandbox, market, poster):
    payer = sandbox.actor(tokens=FUNDS)
    job, _ = post(sandbox, market, poster, timeout=300, payer=payer)
    rent = sandbox.chain.lamports(job)
    payer_lamports = sandbox.chain.lamports(payer.pubkey)
    assert sandbox.balance(payer.token) == FUNDS - 3_000

    outcome = sandbox.must(sandbox.cancel(market, job, poster, payer=payer))
    assert event_names(sandbox, outcome) == ["JobCancelled"]
    assert_fields(event(sandbox, outcome, "JobCancelled"), job=job, refunded=3_000)
    assert sandbox.balance(payer.token) == FUNDS
    assert sandbox.balance(poster.token) == FUNDS
    assert sandbox.vault_balance(market) == 0
    assert sandbox.chain.account(job) is None
    assert sandbox.chain.lamports(payer.pubkey) == payer_lamports + rent  # the poster paid the fee
    m = sandbox.market_state(market)
    assert (m.jobs, m.escrowed) == (0, 0)
    assert (kind(m.queue.side), m.queue.len, m.queue.free_head) == ("Empty", 0, 0)
    assert kind(m.entries[0].state) == "Free"


def test_cancel_from_the_middle_keeps_the_fifo_order_of_the_other_jobs(sandbox, market, poster):
    jobs = [post(sandbox, market, poster)[0] for _ in range(3)]
    sandbox.must(sandbox.cancel(market, jobs[1], poster))
    assert waiting_jobs(sandbox, market) == [jobs[0], jobs[2]]
    nodes = [sandbox.actor() for _ in range(2)]
    assert [match_of(sandbox, sandbox.must(sandbox.work(market, n)))[0] for n in nodes] == [jobs[0], jobs[2]]


def test_cancel_of_a_running_job_is_refused(sandbox, market, poster, errors):
    sandbox.must(sandbox.work(market, sandbox.actor()))
    job, _ = post(sandbox, market, poster)
    before = market_bytes(sandbox, market)
    assert_refused(sandbox.cancel(market, job, poster), errors, "JobNotQueued")
    assert market_bytes(sandbox, market) == before
    assert sandbox.vault_balance(market) == PRICE * 600


def test_cancel_of_a_finished_job_is_refused(sandbox, market, poster, errors):
    node = sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    job, _ = post(sandbox, market, poster)
    sandbox.must(sandbox.finish(market, job, node, poster.token))
    assert_refused(sandbox.cancel(market, job, poster), errors, "JobNotOpen")
    assert sandbox.job_state(job) is not None


def test_cancel_twice_is_refused_because_the_job_is_gone(sandbox, market, poster, errors):
    job, _ = post(sandbox, market, poster)
    sandbox.must(sandbox.cancel(market, job, poster))
    assert_refused(sandbox.cancel(market, job, poster), errors, "AccountOwnerInvalid")
    assert sandbox.balance(poster.token) == FUNDS


def test_cancel_naming_the_poster_as_payer_when_someone_else_paid_is_refused(sandbox, market, poster, errors):
    payer = sandbox.actor(tokens=FUNDS)
    job, _ = post(sandbox, market, poster, payer=payer)
    assert_refused(sandbox.cancel(market, job, poster), errors, "PayerMismatch")  # payer defaults to the poster
    assert kind(sandbox.job_state(job).state) == "Open"


def test_cancel_refund_to_a_token_account_that_is_not_the_payers_is_refused(sandbox, market, poster, errors):
    payer = sandbox.actor(tokens=FUNDS)
    job, _ = post(sandbox, market, poster, payer=payer)
    mixed_up = Actor(payer.keypair, poster.token)
    assert_refused(sandbox.cancel(market, job, poster, payer=mixed_up), errors, "TokenOwnerMismatch")
    assert sandbox.vault_balance(market) == PRICE * 600
