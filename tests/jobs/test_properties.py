"""Property-based test of the jobs program: random instruction sequences against a model.

One in-process chain (LiteSVM, the real SBF build), two markets with small queues, several
posters/payers and nodes. A hypothesis rule-based state machine sends post, work, leave,
finish, quit, reclaim, cancel, extend, end, clean, update_market and close_market with
arguments drawn from what the model knows, valid or deliberately wrong, and moves the clock.
The model keeps each job's terms as posted (price, timeout cap, retention, attempts: later
updates never change them), the payer's maximum price, closing markets, the per-node cap
on waiting entries, give-ups (quits and reclaims) counted as attempts, and the node each
waiting job was last given up by (never matched with it again; its waiting entries go when
only they wait). A Python model predicts, for
every call, whether it must succeed (and exactly what it does: slots, matches, payments,
refunds, events) or which error it must fail with (and then that nothing changed).
After every step the invariants compare the whole chain state with the model:
escrow == vault == Market.escrowed, conservation of tokens, one payment per job, the queue
(one side only, FIFO order, links, free list), and Market.jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client import JobsProgram, MarketSettings
from crowdcompute.client.jobs.layout import NIL
from crowdcompute.sandbox import Actor, Sandbox, digest

JOBS = JobsProgram()  # IDL, coder and event parser: loaded once for every example

# spl-token's TokenError::InsufficientFunds: a payer without enough tokens for a deposit.
TOKEN_INSUFFICIENT_FUNDS = "token:InsufficientFunds"
TOKEN_ERRORS = {TOKEN_INSUFFICIENT_FUNDS: 1}

# Two markets: different prices, timeouts and retention; queues small enough to fill.
MARKETS = [
    (MarketSettings(price_per_second=10, max_timeout=3600, min_stake=0, retention=600, max_attempts=2, max_entries_per_node=2), 6),
    (MarketSettings(price_per_second=3, max_timeout=1800, min_stake=0, retention=300, max_attempts=2, max_entries_per_node=1), 4),
]
# What update_market may switch a market to (all within the program's bounds).
UPDATES = st.builds(MarketSettings, price_per_second=st.sampled_from([0, 1, 3, 10, 25]), max_timeout=st.sampled_from([400, 1800, 3600]),
                    min_stake=st.just(0), retention=st.sampled_from([0, 300, 600]), max_attempts=st.sampled_from([1, 2, 3]),
                    max_entries_per_node=st.sampled_from([1, 2, 3]))
RICH = 100_000_000
POOR = 5_000  # one client runs out: posts and extends then fail in the token program
CLIENTS = [RICH, RICH, RICH, POOR]
NODES = 4
ZERO32 = bytes(32)
DEFAULT_KEY = Pubkey.default()

mostly = st.integers(0, 3).map(lambda v: v != 0)  # ~75% True: the right actor
rarely = st.integers(0, 9).map(lambda v: v == 0)  # ~10% True: a deliberate mistake
picks = st.integers(0, 1_000)
clients = st.integers(0, len(CLIENTS) - 1)
nodes = st.integers(0, NODES - 1)
# Valid for both markets, valid for the first only, and never valid.
timeouts = st.one_of(st.integers(1, 400), st.integers(1, 3600), st.sampled_from([0, -7, 1801, 3601]))
extras = st.one_of(st.integers(1, 600), st.integers(1, 4000), st.sampled_from([0, -5]))


class Party(Actor):
    """An Actor whose public key is derived once (the invariants ask for it thousands of times)."""

    @cached_property
    def pubkey(self) -> Pubkey:
        return self.keypair.pubkey()


@dataclass
class JobM:
    """What the model knows of one job account."""

    key: Pubkey
    market: int
    poster: int  # client index
    payer: int  # client index
    definition: bytes
    price: int
    timeout: int
    deposit: int
    posted_at: int
    slot: int
    max_timeout: int  # the market's terms when posted: the job's for good
    retention: int
    max_attempts: int
    paid: int = 0
    state: str = "Open"  # Open, Done, Ended, Failed; Cancelled (account closed, not a chain state)
    attempts: int = 0
    closed_at: int = 0
    node: int | None = None  # the settling node (finish, end)
    result: bytes = ZERO32
    alive: bool = True  # the account exists (not cancelled, not cleaned)


@dataclass
class MarketM:
    """What the model knows of one market: its settings and its queue, entry by entry."""

    address: Pubkey
    vault: Pubkey
    settings: MarketSettings  # the current ones: later posts take them
    capacity: int
    authority: Actor | None = None
    closing: bool = False
    # slot -> ("job", job key, since, node that last gave it up or None) | ("node", node index, since)
    #       | ("run", job key, node index, since)
    entries: dict[int, tuple] = field(default_factory=dict)
    queue: list[int] = field(default_factory=list)  # linked entries, front first
    free: list[int] = field(default_factory=list)  # the free list, head first
    used: int = 0

    @property
    def side(self) -> str:
        if not self.queue:
            return "Empty"
        return "Jobs" if self.entries[self.queue[0]][0] == "job" else "Nodes"

    def waiting(self, node: int) -> int:
        """Queue entries `node` waits at."""
        return sum(1 for s in self.queue if self.entries[s][0] == "node" and self.entries[s][1] == node)

    def can_alloc(self) -> bool:
        return bool(self.free) or self.used < self.capacity

    def alloc(self) -> int:
        if self.free:
            return self.free.pop(0)
        assert self.used < self.capacity
        self.used += 1
        return self.used - 1

    def release(self, slot: int) -> None:
        del self.entries[slot]
        self.free.insert(0, slot)


class JobsMachine(RuleBasedStateMachine):
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox(jobs=JOBS)
        self.chain = self.sandbox.chain
        self.errors = JOBS.errors
        self.now = self.chain.now()
        self.version = 0  # bumped by every transaction and clock move: invalidates the cache
        self._cache: tuple[int, dict] | None = None

        self.markets: list[MarketM] = []
        for market_settings, capacity in MARKETS:
            address, authority, outcome = self.sandbox.open_market(market_settings, capacity=capacity)
            self.sandbox.must(outcome)
            self.markets.append(MarketM(address, JOBS.vault(address), market_settings, capacity, authority))
        party = lambda actor: Party(actor.keypair, actor.token)  # noqa: E731
        self.clients: list[Party] = [party(self.sandbox.actor(tokens)) for tokens in CLIENTS]
        self.nodes: list[Party] = [party(self.sandbox.actor()) for _ in range(NODES)]
        self.bystander: Party = party(self.sandbox.actor())
        self._decoded: dict[bytes, object] = {}  # account bytes -> decoded account

        # Expected balance of every token account in play: actors and both vaults.
        self.tokens: dict[Pubkey, int] = {a.token: amount for a, amount in zip(self.clients, CLIENTS)}
        self.tokens.update({node.token: 0 for node in self.nodes})
        self.tokens[self.bystander.token] = 0
        self.tokens.update({m.vault: 0 for m in self.markets})
        self.total = sum(CLIENTS)
        self.model_jobs: dict[Pubkey, JobM] = {}

    # -- sending and checking ------------------------------------------------------------
    def code(self, name: str) -> int:
        return TOKEN_ERRORS[name] if name in TOKEN_ERRORS else self.errors[name]

    def snapshot(self) -> dict:
        """Every byte the program could change: both markets, all jobs, all token accounts."""
        keys = [m.address for m in self.markets] + list(self.model_jobs) + list(self.tokens)
        snap = {}
        for key in keys:
            account = self.chain.account(key)
            snap[key] = None if account is None else (bytes(account.data), str(account.owner))
        return snap

    def send(self, what: str, expected: str | None, action):
        """Runs `action` (one transaction); `expected` is None (must succeed) or the error name."""
        before = self.snapshot() if expected is not None else None
        outcome = action()
        self.version += 1
        got = "ok" if outcome.ok else (self.errors.name(outcome.custom_error) or f"{outcome.error}")
        event(f"{what}: {expected or 'ok'}")
        logs = "\n".join(outcome.logs)
        if expected is None:
            assert outcome.ok, f"{what}: the model expects success, the program refused with {got}\n{logs}"
        else:
            assert not outcome.ok, f"{what}: the model expects {expected}, the program accepted\n{logs}"
            assert outcome.custom_error == self.code(expected), f"{what}: expected {expected}, got {got}\n{logs}"
            after = self.snapshot()
            changed = [str(k) for k in before if before[k] != after[k]]
            assert not changed, f"{what}: refused with {expected} but changed {changed}"
        return outcome

    def events(self, outcome, names: list[str]) -> list:
        found = JOBS.events(outcome.logs)
        assert [e.name for e in found] == names, f"events {[e.name for e in found]}, expected {names}"
        return [e.data for e in found]

    def pick_job(self, job: Pubkey, fit: bool, pick: int, *predicates) -> JobM:
        """The bundle's job, or (when `fit`) one the model says suits the rule (first
        predicate with candidates wins, then any job whose account exists), so valid calls
        are frequent and closed accounts are not chosen most of the time."""
        if fit:
            for predicate in predicates + (lambda j: j.alive,):
                candidates = [j for j in self.model_jobs.values() if predicate(j)]
                if candidates:
                    return candidates[pick % len(candidates)]
        return self.model_jobs[job]

    def entry(self, j: JobM) -> tuple | None:
        """The entry holding an open job (queued or running), per the model."""
        if not j.alive or j.state != "Open":
            return None
        entry = self.markets[j.market].entries.get(j.slot)
        assert entry is not None and entry[1] == j.key, "model: an open job's entry must hold it"
        return entry

    def running(self, j: JobM) -> bool:
        entry = self.entry(j)
        return entry is not None and entry[0] == "run"

    def queued(self, j: JobM) -> bool:
        entry = self.entry(j)
        return entry is not None and entry[0] == "job"

    def overdue(self, j: JobM) -> bool:
        return self.running(j) and self.now >= self.entry(j)[3] + j.timeout

    def settled(self, j: JobM) -> bool:
        return j.alive and j.state in ("Done", "Ended", "Failed")

    def expired(self, j: JobM) -> bool:
        return self.settled(j) and self.now >= j.closed_at + j.retention

    def job_account_errors(self, j: JobM, market: int) -> str | None:
        """The checks every instruction on an existing job makes first."""
        if not j.alive:
            return "AccountOwnerInvalid"  # closed: owned by the System program now
        if market != j.market:
            return "MarketMismatch"
        return None

    def transfer(self, source: Pubkey, destination: Pubkey, amount: int) -> None:
        self.tokens[source] -= amount
        self.tokens[destination] += amount
        assert self.tokens[source] >= 0

    def requeue_front(self, mk: MarketM, slot: int, j: JobM, gave_up: int) -> tuple[int | None, list[int]]:
        """A job given up by `gave_up` goes straight to the longest-waiting other node, or
        back to the front, never to `gave_up` again: when only its entries wait, they are
        removed. Returns (the node that took it, the removed entries)."""
        if mk.side == "Nodes":
            others = [w for w in mk.queue if mk.entries[w][1] != gave_up]
            if others:
                waiting = others[0]
                mk.queue.remove(waiting)
                node = mk.entries[waiting][1]
                mk.release(waiting)
                mk.entries[slot] = ("run", j.key, node, self.now)
                return node, []
            removed = list(mk.queue)
            for waiting in removed:
                mk.release(waiting)
            mk.queue.clear()
            mk.entries[slot] = ("job", j.key, self.now, gave_up)
            mk.queue.insert(0, slot)
            return None, removed
        mk.entries[slot] = ("job", j.key, self.now, gave_up)
        mk.queue.insert(0, slot)
        return None, []

    def check_requeued(self, outcome, j: JobM, node: int, slot: int, reason: int, matched: int | None, removed: list[int]) -> None:
        names = ["JobRequeued"] + (["JobMatched"] if matched is not None else []) + ["NodeLeft"] * len(removed)
        data = self.events(outcome, names)
        assert data[0].job == j.key and data[0].node == self.nodes[node].pubkey and data[0].reason == reason
        assert data[0].attempts == j.attempts and data[0].slot == slot
        if matched is not None:
            self.check_matched(data[1], j, matched, slot)
        for left, waiting in zip(data[1:], removed):
            assert left.node == self.nodes[node].pubkey and left.slot == waiting

    def check_matched(self, data, j: JobM, node: int, slot: int) -> None:
        assert data.job == j.key and data.node == self.nodes[node].pubkey, (
            f"JobMatched gave job {data.job} to node {data.node}; FIFO says job {j.key} to node {self.nodes[node].pubkey}")
        assert data.slot == slot and data.started_at == self.now

    def settle(self, j: JobM, paid: int, state: str, node: int | None) -> int:
        """Moves a job's whole deposit out of the vault: `paid` to the node, the rest back."""
        mk = self.markets[j.market]
        refund = j.deposit - paid
        if node is not None:
            self.transfer(mk.vault, self.nodes[node].token, paid)
        self.transfer(mk.vault, self.clients[j.payer].token, refund)
        mk.release(j.slot)
        j.deposit = 0
        j.paid += paid
        j.state = state
        j.closed_at = self.now
        return refund

    # -- rules -------------------------------------------------------------------------
    @initialize(target=jobs, poster=st.integers(0, 2), payer=st.integers(0, 2), timeout=st.integers(1, 400))
    def first_jobs(self, poster, payer, timeout):
        """One job waiting in each market, so the rules on jobs can run from the first step."""
        return multiple(*(self.post_job(m, poster, False, payer, timeout, False, 0) for m in range(len(self.markets))))

    @rule(target=jobs, m=st.integers(0, 1), poster=clients, same_payer=mostly, payer=clients, timeout=timeouts, zero_definition=rarely,
          max_price_offset=st.one_of(st.just(0), st.integers(-3, 50)))
    def post(self, m, poster, same_payer, payer, timeout, zero_definition, max_price_offset):
        key = self.post_job(m, poster, same_payer, payer, timeout, zero_definition, max_price_offset)
        return multiple() if key is None else key

    def post_job(self, m, poster, same_payer, payer, timeout, zero_definition, max_price_offset) -> Pubkey | None:
        mk = self.markets[m]
        payer = poster if same_payer else payer
        price = mk.settings.price_per_second
        max_price = max(0, price + max_price_offset)  # what the payer accepts: below, at or above the price
        deposit = price * timeout
        if zero_definition:
            expected = "DefinitionMissing"
        elif mk.closing:
            expected = "MarketClosing"
        elif timeout <= 0 or timeout > mk.settings.max_timeout:
            expected = "TimeoutInvalid"
        elif price > max_price:
            expected = "PriceAboveMaximum"
        elif mk.side != "Nodes" and not mk.can_alloc():
            expected = "QueueFull"
        elif self.tokens[self.clients[payer].token] < deposit:
            expected = TOKEN_INSUFFICIENT_FUNDS
        else:
            expected = None
        keypair = Keypair()
        definition = ZERO32 if zero_definition else digest(f"definition {keypair.pubkey()}")
        outcome = self.send("post", expected, lambda: self.sandbox.post(
            mk.address, self.clients[poster], payer=self.clients[payer], timeout=timeout, definition=definition, job=keypair,
            max_price=max_price)[1])
        key = keypair.pubkey()
        if expected is not None:
            assert self.chain.account(key) is None, "a refused post left a job account"
            return None

        matched = None
        if mk.side == "Nodes":
            slot = mk.queue.pop(0)
            matched = mk.entries[slot][1]
            mk.entries[slot] = ("run", key, matched, self.now)
        else:
            slot = mk.alloc()
            mk.entries[slot] = ("job", key, self.now, None)
            mk.queue.append(slot)
        j = JobM(key, m, poster, payer, definition, price, timeout, deposit, self.now, slot,
                 mk.settings.max_timeout, mk.settings.retention, mk.settings.max_attempts)
        self.model_jobs[key] = j
        self.transfer(self.clients[payer].token, mk.vault, deposit)

        data = self.events(outcome, ["JobPosted"] if matched is None else ["JobPosted", "JobMatched"])
        posted = data[0]
        assert posted.job == key and posted.slot == slot
        assert posted.deposit == deposit and posted.timeout == timeout and posted.queued == (matched is None)
        if matched is not None:
            self.check_matched(data[1], j, matched, slot)
        event(f"post: ok, {'matched' if matched is not None else 'queued'}")
        return key

    @rule(m=st.integers(0, 1), node=nodes)
    def work(self, m, node):
        self.work_in(m, node)

    @rule(node=nodes, first=st.integers(0, 1))
    def work_in_both(self, node, first):
        """A node offers itself to both markets (also makes running jobs more frequent)."""
        self.work_in(first, node)
        self.work_in(1 - first, node)

    def work_in(self, m, node):
        mk = self.markets[m]
        side = mk.side
        takable = [s for s in mk.queue if side == "Jobs" and mk.entries[s][3] != node]
        if side == "Jobs":
            # Taking a waiting job: allowed while closing too (it drains); never one this
            # node last gave up.
            expected = None if takable else "JobsExcludeNode"
        elif mk.closing:
            expected = "MarketClosing"
        elif mk.waiting(node) >= mk.settings.max_entries_per_node:
            expected = "NodeEntriesExceeded"
        elif not mk.can_alloc():
            expected = "QueueFull"
        else:
            expected = None
        outcome = self.send("work", expected, lambda: self.sandbox.work(mk.address, self.nodes[node]))
        if expected is not None:
            return
        if side == "Jobs":
            slot = takable[0]  # the oldest waiting job it did not give up
            mk.queue.remove(slot)
            j = self.model_jobs[mk.entries[slot][1]]
            mk.entries[slot] = ("run", j.key, node, self.now)
            (data,) = self.events(outcome, ["JobMatched"])
            self.check_matched(data, j, node, slot)
            event("work: ok, matched")
        else:
            slot = mk.alloc()
            mk.entries[slot] = ("node", node, self.now)
            mk.queue.append(slot)
            (data,) = self.events(outcome, ["NodeQueued"])
            assert data.node == self.nodes[node].pubkey and data.slot == slot

    @rule(m=st.integers(0, 1), node=nodes, own=mostly, raw_slot=st.integers(0, 7))
    def leave(self, m, node, own, raw_slot):
        mk = self.markets[m]
        mine = [s for s in mk.queue if mk.entries[s][0] == "node" and mk.entries[s][1] == node]
        slot = mine[raw_slot % len(mine)] if own and mine else raw_slot
        entry = mk.entries.get(slot)
        if slot >= mk.capacity:
            expected = "SlotInvalid"
        elif entry is None or entry[0] != "node" or entry[1] != node:
            expected = "NodeNotQueued"
        else:
            expected = None
        outcome = self.send("leave", expected, lambda: self.sandbox.leave(mk.address, self.nodes[node], slot))
        if expected is None:
            mk.queue.remove(slot)
            mk.release(slot)
            (data,) = self.events(outcome, ["NodeLeft"])
            assert data.node == self.nodes[node].pubkey and data.slot == slot

    @rule(job=jobs, fit=mostly, pick=picks, right_node=mostly, node=nodes, zero_result=rarely, wrong_market=rarely, wrong_payer_token=rarely)
    def finish(self, job, fit, pick, right_node, node, zero_result, wrong_market, wrong_payer_token):
        j = self.pick_job(job, fit, pick, self.running)
        m = 1 - j.market if wrong_market else j.market
        entry = self.entry(j)
        if right_node and entry is not None and entry[0] == "run":
            node = entry[2]
        payer_token = self.clients[(j.payer + 1) % len(self.clients) if wrong_payer_token else j.payer].token
        if zero_result:
            expected = "ResultMissing"
        elif error := self.job_account_errors(j, m):
            expected = error
        elif j.state != "Open":
            expected = "JobNotOpen"
        elif entry[0] != "run":
            expected = "JobNotRunning"
        elif entry[2] != node:
            expected = "NodeNotAssigned"
        elif wrong_payer_token:
            expected = "TokenOwnerMismatch"
        else:
            expected = None
        result = ZERO32 if zero_result else digest(f"result {j.key} {self.now}")
        outcome = self.send("finish", expected, lambda: self.sandbox.finish(
            self.markets[m].address, j.key, self.nodes[node], payer_token, result))
        if expected is not None:
            return
        slot, since = j.slot, entry[3]
        elapsed = min(max(1, self.now - since), j.timeout)  # every started second: at least one
        paid = j.price * elapsed
        refund = self.settle(j, paid, "Done", node)
        j.node, j.result = node, result
        (data,) = self.events(outcome, ["JobFinished"])
        assert data.job == j.key and bytes(data.result) == result
        assert (data.paid, data.refunded, data.elapsed) == (paid, refund, elapsed)

    @rule(job=jobs, fit=mostly, pick=picks, right_node=mostly, node=nodes, wrong_market=rarely)
    def quit(self, job, fit, pick, right_node, node, wrong_market):
        j = self.pick_job(job, fit, pick, self.running)
        m = 1 - j.market if wrong_market else j.market
        entry = self.entry(j)
        if right_node and entry is not None and entry[0] == "run":
            node = entry[2]
        if error := self.job_account_errors(j, m):
            expected = error
        elif j.state != "Open":
            expected = "JobNotOpen"
        elif entry[0] != "run":
            expected = "JobNotRunning"
        elif entry[2] != node:
            expected = "NodeNotAssigned"
        else:
            expected = None
        outcome = self.send("quit", expected, lambda: self.sandbox.quit(self.markets[m].address, j.key, self.nodes[node]))
        if expected is not None:
            return
        # A quit is an attempt (late or not: without a penalty, lateness changes nothing).
        j.attempts += 1
        late = self.now >= entry[3] + j.timeout
        if j.attempts >= j.max_attempts:
            refunded = self.settle(j, 0, "Failed", None)
            (data,) = self.events(outcome, ["JobFailed"])
            assert data.job == j.key and data.refunded == refunded and data.attempts == j.attempts
            event("quit: ok, failed and refunded")
            return
        slot = j.slot
        matched, removed = self.requeue_front(self.markets[m], slot, j, node)
        self.check_requeued(outcome, j, node, slot, 2 if late else 0, matched, removed)
        event(f"quit: ok, {'to a waiting node' if matched is not None else 'to the front'}")

    @rule(job=jobs, fit=mostly, pick=picks, wrong_market=rarely, wrong_payer_token=rarely, caller=st.integers(-1, len(CLIENTS) - 1))
    def reclaim(self, job, fit, pick, wrong_market, wrong_payer_token, caller):
        j = self.pick_job(job, fit, pick, lambda j: self.overdue(j) and j.attempts > 0, self.overdue, self.running)
        m = 1 - j.market if wrong_market else j.market
        mk = self.markets[j.market]
        entry = self.entry(j)
        payer_token = self.clients[(j.payer + 1) % len(self.clients) if wrong_payer_token else j.payer].token
        attempts = j.attempts + 1
        refund = attempts >= j.max_attempts  # the job's own, not the market's current
        if error := self.job_account_errors(j, m):
            expected = error
        elif j.state != "Open":
            expected = "JobNotOpen"
        elif entry[0] != "run":
            expected = "JobNotRunning"
        elif wrong_payer_token:
            expected = "TokenOwnerMismatch"  # checked on both paths
        elif self.now < entry[3] + j.timeout:
            expected = "TimeoutNotReached"
        else:
            expected = None
        who = self.bystander if caller < 0 else self.clients[caller]
        outcome = self.send("reclaim", expected, lambda: self.sandbox.reclaim(self.markets[m].address, j.key, payer_token, who))
        if expected is not None:
            return
        node, slot = entry[2], j.slot
        j.attempts = attempts
        if not refund:
            matched, removed = self.requeue_front(mk, slot, j, node)
            self.check_requeued(outcome, j, node, slot, 1, matched, removed)
            event(f"reclaim: ok, {'to a waiting node' if matched is not None else 'to the front'}")
        else:
            refunded = self.settle(j, 0, "Failed", None)
            (data,) = self.events(outcome, ["JobFailed"])
            assert data.job == j.key and data.refunded == refunded and data.attempts == attempts
            event("reclaim: ok, failed and refunded")

    @rule(job=jobs, fit=mostly, pick=picks, right_poster=mostly, poster=clients, right_payer=mostly, payer=clients, wrong_market=rarely,
          by_authority=rarely)
    def cancel(self, job, fit, pick, right_poster, poster, right_payer, payer, wrong_market, by_authority):
        j = self.pick_job(job, fit, pick, self.queued)
        m = 1 - j.market if wrong_market else j.market
        poster = j.poster if right_poster else poster
        payer = j.payer if right_payer else payer
        # The signer: the poster (or someone else), or the market's authority (allowed while closing).
        signer = self.markets[m].authority if by_authority else self.clients[poster]
        if error := self.job_account_errors(j, m):
            expected = error
        elif by_authority and not self.markets[m].closing:
            expected = "PosterMismatch"
        elif not by_authority and poster != j.poster:
            expected = "PosterMismatch"
        elif payer != j.payer:
            expected = "PayerMismatch"
        elif j.state != "Open":
            expected = "JobNotOpen"
        elif not self.queued(j):
            expected = "JobNotQueued"
        else:
            expected = None
        rent = self.chain.lamports(j.key)
        payer_lamports = self.chain.lamports(self.clients[payer].pubkey)
        outcome = self.send("cancel", expected, lambda: self.sandbox.cancel(
            self.markets[m].address, j.key, signer, self.clients[payer]))
        if expected is not None:
            return
        mk = self.markets[m]
        mk.queue.remove(j.slot)
        refunded = self.settle(j, 0, "Cancelled", None)
        j.alive = False
        (data,) = self.events(outcome, ["JobCancelled"])
        assert data.job == j.key and data.refunded == refunded
        if signer.pubkey != self.clients[payer].pubkey:  # the signer paid the fee: the payer gets exactly the rent back
            assert self.chain.lamports(self.clients[payer].pubkey) == payer_lamports + rent
        assert self.chain.account(j.key) is None

    @rule(job=jobs, fit=mostly, pick=picks, right_poster=mostly, poster=clients, right_payer=mostly, payer=clients, extra=extras, wrong_market=rarely)
    def extend(self, job, fit, pick, right_poster, poster, right_payer, payer, extra, wrong_market):
        j = self.pick_job(job, fit, pick, lambda j: self.entry(j) is not None)
        m = 1 - j.market if wrong_market else j.market
        poster = j.poster if right_poster else poster
        payer = j.payer if right_payer else payer
        added = j.price * extra
        if error := self.job_account_errors(j, m):
            expected = error
        elif poster != j.poster:
            expected = "PosterMismatch"
        elif payer != j.payer:
            expected = "PayerMismatch"
        elif j.state != "Open":
            expected = "JobNotOpen"
        elif extra <= 0 or j.timeout + extra > j.max_timeout:
            expected = "TimeoutInvalid"
        elif self.tokens[self.clients[payer].token] < added:
            expected = TOKEN_INSUFFICIENT_FUNDS
        else:
            expected = None
        outcome = self.send("extend", expected, lambda: self.sandbox.extend(
            self.markets[m].address, j.key, self.clients[poster], extra, payer=self.clients[payer]))
        if expected is not None:
            return
        j.timeout += extra
        j.deposit += added
        self.transfer(self.clients[payer].token, self.markets[m].vault, added)
        (data,) = self.events(outcome, ["JobExtended"])
        assert data.job == j.key and (data.extra, data.timeout, data.deposit) == (extra, j.timeout, j.deposit)

    @rule(job=jobs, fit=mostly, pick=picks, right_poster=mostly, poster=clients, right_node=mostly, node=nodes, wrong_payer_token=rarely, wrong_market=rarely)
    def end(self, job, fit, pick, right_poster, poster, right_node, node, wrong_payer_token, wrong_market):
        j = self.pick_job(job, fit, pick, self.running)
        m = 1 - j.market if wrong_market else j.market
        poster = j.poster if right_poster else poster
        entry = self.entry(j)
        if right_node and entry is not None and entry[0] == "run":
            node = entry[2]
        payer_token = self.clients[(j.payer + 1) % len(self.clients) if wrong_payer_token else j.payer].token
        if error := self.job_account_errors(j, m):
            expected = error
        elif poster != j.poster:
            expected = "PosterMismatch"
        elif j.state != "Open":
            expected = "JobNotOpen"
        elif entry[0] != "run":
            expected = "JobNotRunning"
        elif entry[2] != node:
            expected = "TokenOwnerMismatch"  # the node's token account must be the running node's
        elif wrong_payer_token:
            expected = "TokenOwnerMismatch"
        else:
            expected = None
        outcome = self.send("end", expected, lambda: self.sandbox.end(
            self.markets[m].address, j.key, self.clients[poster], self.nodes[node].token, payer_token))
        if expected is not None:
            return
        since = entry[3]
        elapsed = min(max(1, self.now - since), j.timeout)  # every started second: at least one
        paid = j.price * elapsed
        refund = self.settle(j, paid, "Ended", node)
        j.node = node
        (data,) = self.events(outcome, ["JobEnded"])
        assert data.job == j.key and data.node == self.nodes[node].pubkey
        assert (data.paid, data.refunded, data.elapsed) == (paid, refund, elapsed)

    @rule(job=jobs, fit=mostly, pick=picks, right_payer=mostly, payer=clients, caller=st.integers(-1, len(CLIENTS) - 1), wrong_market=rarely)
    def clean(self, job, fit, pick, right_payer, payer, caller, wrong_market):
        j = self.pick_job(job, fit, pick, self.expired, self.settled)
        m = 1 - j.market if wrong_market else j.market
        payer = j.payer if right_payer else payer
        if error := self.job_account_errors(j, m):
            expected = error
        elif j.state == "Open":
            expected = "JobStillOpen"
        elif payer != j.payer:
            expected = "PayerMismatch"
        elif self.now < j.closed_at + j.retention:
            expected = "RetentionNotReached"
        else:
            expected = None
        who = self.bystander if caller < 0 else self.clients[caller]
        rent = self.chain.lamports(j.key)
        payer_lamports = self.chain.lamports(self.clients[payer].pubkey)
        outcome = self.send("clean", expected, lambda: self.sandbox.clean(
            self.markets[m].address, j.key, self.clients[payer].pubkey, who))
        if expected is not None:
            return
        j.alive = False
        (data,) = self.events(outcome, ["JobCleaned"])
        assert data.job == j.key
        if who.pubkey != self.clients[payer].pubkey:  # someone else paid the fee
            assert self.chain.lamports(self.clients[payer].pubkey) == payer_lamports + rent
        assert self.chain.account(j.key) is None

    @rule(m=st.integers(0, 1), new=UPDATES)
    def update_market(self, m, new):
        """The authority re-prices and re-tunes: jobs already posted keep their terms."""
        mk = self.markets[m]
        outcome = self.send("update_market", None, lambda: self.sandbox.send(
            [JOBS.update_market(mk.authority.pubkey, mk.address, new)], [mk.authority.keypair]))
        mk.settings = new
        (data,) = self.events(outcome, ["MarketUpdated"])
        assert (data.price_per_second, data.max_timeout, data.retention, data.max_attempts, data.max_entries_per_node) == (
            new.price_per_second, new.max_timeout, new.retention, new.max_attempts, new.max_entries_per_node)

    @rule(go=rarely)
    def close_market(self, go):
        """The authority closes the second market while jobs remain: it becomes Closing (a
        second call is refused). Rare, so the market keeps working most of the time; the
        final close (no job left) is in tests/jobs/test_market_rules.py."""
        mk = self.markets[1]
        if not go or not any(j.market == 1 and j.alive for j in self.model_jobs.values()):
            return
        expected = "MarketHasJobs" if mk.closing else None
        outcome = self.send("close_market", expected, lambda: self.sandbox.close_market(mk.address, mk.authority))
        if expected is None:
            mk.closing = True
            (data,) = self.events(outcome, ["MarketClosing"])
            assert data.market == mk.address

    @rule(seconds=st.one_of(st.integers(0, 2000), st.sampled_from([0, 1, 600, 1800, 2000])))
    def advance(self, seconds):
        self.move_clock(seconds)

    def move_clock(self, seconds: int) -> None:
        self.chain.advance(seconds)
        self.now += seconds
        self.version += 1

    @rule(pick=picks, offset=st.sampled_from([-1, 0, 1]))
    def advance_to_boundary(self, pick, offset):
        """Moves the clock to one second before, at, or after a boundary the model knows: a
        running job's deadline (reclaim; pay capped at the timeout) or a settled job's end
        of retention (clean). Off-by-one errors in either show here."""
        boundaries = [self.entry(j)[3] + j.timeout for j in self.model_jobs.values() if self.running(j)]
        boundaries += [j.closed_at + j.retention for j in self.model_jobs.values() if self.settled(j)]
        future = [b + offset - self.now for b in boundaries if b + offset > self.now]
        if future:
            self.move_clock(min(future[pick % len(future)], 4000))

    # -- invariants --------------------------------------------------------------------
    def state(self) -> dict:
        """The chain as the invariants see it, read once per step."""
        if self._cache is None or self._cache[0] != self.version:
            markets = [self.decode(m.address) for m in self.markets]
            jobs = {key: self.decode(key) for key in self.model_jobs}
            balances = {key: self.sandbox.balance(key) for key in self.tokens}
            self._cache = (self.version, {"markets": markets, "jobs": jobs, "balances": balances})
        return self._cache[1]

    def decode(self, address: Pubkey):
        """The account decoded by the IDL's coder (as Sandbox.market_state and job_state do),
        or None once closed; decoding is cached by content, since most accounts do not change
        from one step to the next."""
        account = self.chain.account(address)
        if account is None:
            return None
        data = bytes(account.data)
        decoded = self._decoded.get(data)
        if decoded is None:
            decoded = self._decoded[data] = JOBS.program.coder.accounts.decode(data)
        return decoded

    @invariant()
    def clock_matches(self):
        assert self.chain.now() == self.now

    @invariant()
    def escrow_is_exact(self):
        state = self.state()
        for i, (mk, market) in enumerate(zip(self.markets, state["markets"])):
            deposits = sum(j.deposit for j in self.model_jobs.values() if j.market == i and j.alive and j.state == "Open")
            chain_deposits = sum(state["jobs"][j.key].deposit for j in self.model_jobs.values()
                                 if j.market == i and state["jobs"][j.key] is not None and type(state["jobs"][j.key].state).__name__ == "Open")
            vault = state["balances"][mk.vault]
            assert vault == deposits == market.escrowed == chain_deposits, (
                f"market {i}: vault {vault}, model deposits {deposits}, escrowed {market.escrowed}, job accounts {chain_deposits}")

    @invariant()
    def tokens_are_conserved(self):
        balances = self.state()["balances"]
        assert sum(balances.values()) == self.total, f"tokens created or lost: {sum(balances.values())} != {self.total}"
        wrong = {str(k): (balances[k], v) for k, v in self.tokens.items() if balances[k] != v}
        assert not wrong, f"token balances (chain, model) differ from the model: {wrong}"

    @invariant()
    def each_job_paid_once(self):
        state = self.state()
        for n, node in enumerate(self.nodes):
            earned = sum(j.paid for j in self.model_jobs.values() if j.node == n)
            assert state["balances"][node.token] == earned, f"node {n} holds {state['balances'][node.token]}, its jobs paid {earned}"
        for j in self.model_jobs.values():
            chain = state["jobs"][j.key]
            if chain is None:
                continue
            name = type(chain.state).__name__
            assert chain.paid == j.paid, f"job {j.key}: paid {chain.paid}, model {j.paid}"
            if name != "Open":
                assert chain.deposit == 0, f"settled job {j.key} ({name}) still holds {chain.deposit}"
            if name in ("Open", "Failed"):
                assert chain.paid == 0 and chain.node == DEFAULT_KEY, f"job {j.key} ({name}) paid a node"
            else:
                assert chain.node == self.nodes[j.node].pubkey

    @invariant()
    def jobs_match_model(self):
        state = self.state()
        for j in self.model_jobs.values():
            chain = state["jobs"][j.key]
            assert (chain is not None) == j.alive, f"job {j.key}: account {'exists' if chain else 'closed'}, model alive={j.alive}"
            if chain is None:
                continue
            got = (type(chain.state).__name__, chain.market, chain.poster, chain.payer, bytes(chain.definition), bytes(chain.result),
                   chain.price_per_second, chain.timeout, chain.deposit, chain.posted_at, chain.closed_at, chain.slot, chain.attempts,
                   chain.max_timeout, chain.retention, chain.max_attempts)
            want = (j.state, self.markets[j.market].address, self.clients[j.poster].pubkey, self.clients[j.payer].pubkey, j.definition,
                    j.result, j.price, j.timeout, j.deposit, j.posted_at, j.closed_at, j.slot, j.attempts,
                    j.max_timeout, j.retention, j.max_attempts)
            assert got == want, f"job {j.key}: chain {got}\nmodel {want}"

    @invariant()
    def market_jobs_counts_accounts(self):
        state = self.state()
        for i, market in enumerate(state["markets"]):
            alive = sum(1 for j in self.model_jobs.values() if j.market == i and state["jobs"][j.key] is not None)
            assert market.jobs == alive, f"market {i}: Market.jobs {market.jobs}, job accounts alive {alive}"
            state_name = type(market.state).__name__
            assert state_name == ("Closing" if self.markets[i].closing else "Open"), f"market {i}: state {state_name}"
            assert alive == sum(1 for j in self.model_jobs.values() if j.market == i and j.alive)

    @invariant()
    def queue_is_one_sided_fifo(self):
        state = self.state()
        for i, (mk, market) in enumerate(zip(self.markets, state["markets"])):
            q, entries = market.queue, market.entries
            assert len(entries) == mk.capacity
            walk, previous, index = [], NIL, q.head
            while index != NIL:
                assert index < mk.capacity and len(walk) < mk.capacity, f"market {i}: queue links run off ({walk + [index]})"
                entry = entries[index]
                assert entry.prev == previous, f"market {i}: entry {index} prev {entry.prev}, expected {previous}"
                walk.append(index)
                previous, index = index, entry.next
            assert q.tail == previous, f"market {i}: tail {q.tail}, walk ends at {previous}"
            assert q.len == len(walk), f"market {i}: queue.len {q.len}, walk {walk}"
            kinds = {type(entries[s].state).__name__ for s in walk}
            assert len(kinds) <= 1, f"market {i}: the queue holds both jobs and nodes: {kinds}"
            side = type(q.side).__name__
            expected_side = {"QueuedJob": "Jobs", "QueuedNode": "Nodes"}[kinds.pop()] if walk else "Empty"
            assert side == expected_side, f"market {i}: side {side}, linked entries say {expected_side}"
            assert walk == mk.queue, f"market {i}: chain FIFO {walk}, model FIFO {mk.queue}"
            assert side == mk.side

            # Every entry: the model's content, or free.
            for s, entry in enumerate(entries):
                got = (type(entry.state).__name__, entry.job, entry.node, entry.since)
                model = mk.entries.get(s)
                if model is None:
                    want = ("Free", DEFAULT_KEY, DEFAULT_KEY, 0)
                elif model[0] == "job":
                    gave_up = DEFAULT_KEY if model[3] is None else self.nodes[model[3]].pubkey
                    want = ("QueuedJob", model[1], gave_up, model[2])
                elif model[0] == "node":
                    want = ("QueuedNode", DEFAULT_KEY, self.nodes[model[1]].pubkey, model[2])
                else:
                    want = ("Running", model[1], self.nodes[model[2]].pubkey, model[3])
                assert got == want, f"market {i} entry {s}: chain {got}, model {want}"
            free, index = [], q.free_head
            while index != NIL:
                assert index < mk.capacity and len(free) < mk.capacity, f"market {i}: free list runs off ({free + [index]})"
                free.append(index)
                index = entries[index].next
            assert free == mk.free and q.used == mk.used, f"market {i}: free {free} used {q.used}, model {mk.free} {mk.used}"


JobsMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=100, deadline=None)
TestJobsProperties = JobsMachine.TestCase
