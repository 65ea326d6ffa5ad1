"""Property-based test across the jobs and staking programs: random sequences of stake,
unstake, restake, withdraw, close, claim (the nodes' stakes), post and extend (with the
network fee), work (admitted by stake), finish, reclaim (with the slash and its bounty),
update_market (minimum stake, bounty, fee; the penalty is fixed), the staking authority
naming another slasher program and back, and the clock, on one market with staking (real
SBF builds in LiteSVM).

A model predicts what each call must do: whether work admits the node (its stake staked,
with the weight the market asks, able to back one more job's penalty, under a config that
still names the jobs program as its slasher; never a job it last gave up), whether the
node may unstake (not while its stake backs a job or an entry), the fee every deposit pays
(ceil(deposit x bps / 10^4), at the market's rate for a post and the job's for an extend),
and for a reclaim what is slashed (min(the job's penalty, the stake), whatever slasher the
config names by then: the lock keeps the power) and what the caller gets (floor(slashed x
bps / 10^4)). The
queue's own rules are the other property test's (tests/jobs/test_properties.py): here the
market's state before each work or post says whether the queue takes it. After every step:
- every base unit is accounted for: the wallets, the market vault, the staking vault, the
  rewards pool and the treasury hold the same total as at the start;
- the market vault holds exactly `Market.escrowed`, the sum of the open jobs' deposits;
- the staking vault holds exactly `Config.total_staked`, the sum of the stakes, and each
  stake is the model's (amount, weight, state);
- each stake backs exactly what its node holds: the penalty for each job it runs and each
  entry it waits at;
- the rewards pool holds exactly what was deposited (fees, slashes) less what was claimed,
  and the deposits are the model's; the caller holds exactly the bounties.
"""

from __future__ import annotations

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crowdcompute.client import MarketSettings
from crowdcompute.client.jobs.program import network_fee, reclaim_bounty
from crowdcompute.client.jobs.layout import NIL
from crowdcompute.client.staking.program import DAY, SLASH_TO_REWARDS_POOL, StakingProgram, StakingSettings
from crowdcompute.sandbox import Sandbox
from crowdcompute.sandbox.staking import SLASH_PROBE_ID, StakingSandbox
from tests.staking.test_staking_properties import StakeModel

STAKING = StakingProgram()
CURVE = StakingSettings()  # the model's weights: the default curve, as the config's
MIN_LOCK = CURVE.min_duration
NODES = 3
POSTERS = 2
RICH = 10_000_000
POOR = 20_000  # one poster runs out: its posts and extends then fail in the token program
NODE_FUNDS = 20_000
CAPACITY = 6

STAKE_AMOUNTS = st.sampled_from([400, 1_000, 3_000])
LOCKS = st.sampled_from([MIN_LOCK, 60 * DAY])
UPDATES = st.fixed_dictionaries({
    "min_stake": st.sampled_from([0, 500, 1_000, 2_500]),
    "reclaim_bounty_bps": st.sampled_from([0, 2_500, 10_000]),
    "fee_bps": st.sampled_from([0, 1, 150, 1_000]),
})


def state_name(value) -> str:
    return type(value).__name__


class StakedMarketMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.sb = sb = StakingSandbox(STAKING)
        self.jobs = sb.jobs
        self.config, self.staking_authority, outcome = sb.init(StakingSettings(slasher_program=sb.jobs.program_id))
        sb.must(outcome)
        self.settings = MarketSettings(price_per_second=10, max_timeout=600, retention=0, max_attempts=2, max_entries_per_node=2,
                                       min_stake=1_000, slash_penalty=300, reclaim_bounty_bps=2_500, fee_bps=150, staking_config=self.config)
        self.market, self.authority, outcome = sb.open_market(self.settings, capacity=CAPACITY)
        sb.must(outcome)
        self.posters = [sb.actor(RICH), sb.actor(POOR)][:POSTERS]
        self.nodes = [sb.actor(NODE_FUNDS) for _ in range(NODES)]
        self.caller = sb.actor()
        self.stakes: list[StakeModel | None] = [None] * NODES
        # Two nodes start staked (one well above the minimum, one at it); the third not.
        for i, (amount, lock) in enumerate([(3_000, MIN_LOCK), (1_000, MIN_LOCK)]):
            sb.must(sb.stake(self.config, self.nodes[i], amount, lock))
            self.stakes[i] = StakeModel(amount, lock)
        self.job_keys: list = []
        self.deposited = 0  # into the rewards pool: fees and slashes
        self.bounties = 0
        self.slasher_is_jobs = True
        self.errors = self.jobs.errors
        self.total = self.tokens()

    # -- helpers -----------------------------------------------------------------------
    def tokens(self) -> int:
        sb = self.sb
        accounts = [a.token for a in self.posters + self.nodes + [self.caller, self.staking_authority]]
        accounts += [self.jobs.vault(self.market), STAKING.vault(self.config), STAKING.rewards_pool(self.config)]
        return sum(sb.balance(a) for a in accounts)

    def expect(self, outcome, error: str | None, errors=None) -> bool:
        errors = errors or self.errors
        logs = "\n".join(outcome.logs)
        if error is None:
            assert outcome.ok, logs
        elif error == "token":
            assert not outcome.ok and "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed" in logs, logs
        else:
            assert not outcome.ok and outcome.custom_error == errors[error], f"expected {error}, got {errors.name(outcome.custom_error)}\n{logs}"
        return outcome.ok

    def weight(self, i: int) -> int:
        stake = self.stakes[i]
        return CURVE.weight(stake.amount, stake.duration) if stake and stake.staked else 0

    def market_state(self):
        return self.sb.market_state(self.market)

    def can_queue(self, market) -> bool:
        return market.queue.free_head != NIL or market.queue.used < CAPACITY

    def held(self, i: int) -> int:
        """Jobs node i runs and entries it waits at: what its stake backs, in penalties."""
        node = self.nodes[i].pubkey
        return sum(1 for e in self.market_state().entries if state_name(e.state) in ("Running", "QueuedNode") and e.node == node)

    def locked(self, i: int) -> int:
        return self.settings.slash_penalty * self.held(i)

    def running(self, pick: int, *, timed_out: bool):
        """A (job, node index, job state) running now, past its timeout if asked."""
        market = self.market_state()
        now = self.sb.chain.now()
        found = []
        for key in self.job_keys:
            job = self.sb.job_state(key)
            if job is None or state_name(job.state) != "Open":
                continue
            entry = market.entries[job.slot]
            if state_name(entry.state) != "Running" or entry.job != key:
                continue
            if timed_out and now < entry.since + job.timeout:
                continue
            found.append((key, next(i for i, n in enumerate(self.nodes) if n.pubkey == entry.node), job))
        return found[pick % len(found)] if found else None

    # -- stakes ------------------------------------------------------------------------
    @rule(i=st.integers(0, NODES - 1), amount=STAKE_AMOUNTS, lock=LOCKS)
    def stake(self, i, amount, lock):
        if self.stakes[i] is not None:
            return
        if self.expect(self.sb.stake(self.config, self.nodes[i], amount, lock), None, STAKING.errors):
            self.stakes[i] = StakeModel(amount, lock)

    @rule(i=st.integers(0, NODES - 1))
    def unstake(self, i):
        stake = self.stakes[i]
        if stake is None or not stake.staked:
            return
        if self.expect(self.sb.unstake(self.config, self.nodes[i]), "StakeLocked" if self.locked(i) else None, STAKING.errors):
            stake.staked, stake.unlock_start, stake.unlock_base, stake.withdrawn = False, self.sb.chain.now(), stake.amount, 0

    @rule(i=st.integers(0, NODES - 1))
    def restake(self, i):
        stake = self.stakes[i]
        if stake is None or stake.staked or stake.amount == 0:
            return
        self.expect(self.sb.restake(self.config, self.nodes[i]), None, STAKING.errors)
        stake.staked, stake.unlock_start, stake.unlock_base, stake.withdrawn = True, 0, 0, 0

    @rule(i=st.integers(0, NODES - 1))
    def withdraw(self, i):
        stake = self.stakes[i]
        if stake is None or stake.staked:
            return
        available = stake.withdrawable(self.sb.chain.now())
        self.expect(self.sb.withdraw(self.config, self.nodes[i]), None, STAKING.errors)
        stake.amount -= available
        stake.withdrawn += available

    @rule(i=st.integers(0, NODES - 1))
    def claim_and_close(self, i):
        stake = self.stakes[i]
        if stake is None:
            return
        self.expect(self.sb.claim(self.config, self.nodes[i]), None, STAKING.errors)
        if stake.amount == 0:
            self.expect(self.sb.close_stake(self.config, self.nodes[i]), None, STAKING.errors)
            self.stakes[i] = None

    @rule()
    def toggle_slasher(self):
        """The staking authority names another slasher program (or the jobs program again)."""
        self.slasher_is_jobs = not self.slasher_is_jobs
        program = self.jobs.program_id if self.slasher_is_jobs else SLASH_PROBE_ID
        ix = STAKING.update_config(authority=self.staking_authority.pubkey, config=self.config, treasury=self.staking_authority.token,
                                   slash_to=SLASH_TO_REWARDS_POOL, slasher_program=program)
        self.sb.must(self.sb.send([ix], [self.staking_authority.keypair]))

    # -- the market --------------------------------------------------------------------
    @rule(p=st.integers(0, POSTERS - 1), timeout=st.integers(1, 600), max_fee_offset=st.one_of(st.just(0), st.integers(-3, 50)))
    def post(self, p, timeout, max_fee_offset):
        poster = self.posters[p]
        market = self.market_state()
        deposit = self.settings.price_per_second * timeout
        fee = network_fee(deposit, self.settings.fee_bps)
        max_fee_bps = max(0, self.settings.fee_bps + max_fee_offset)  # what the payer accepts: below, at or above the fee
        before, pool = self.sb.balance(poster.token), self.sb.balance(STAKING.rewards_pool(self.config))
        job, outcome = self.sb.post(self.market, poster, timeout=timeout, max_fee_bps=max_fee_bps)
        queues = state_name(market.queue.side) != "Nodes"
        if self.settings.fee_bps > max_fee_bps:
            error = "FeeAboveMaximum"
        elif queues and not self.can_queue(market):
            error = "QueueFull"
        else:
            error = "token" if before < deposit + fee else None
        event(f"post: {error or 'ok'}{' with a fee' if fee else ''}")
        if self.expect(outcome, error):
            self.job_keys.append(job)
            self.deposited += fee
            assert before - self.sb.balance(poster.token) == deposit + fee
            assert self.sb.balance(STAKING.rewards_pool(self.config)) - pool == fee
            state = self.sb.job_state(job)
            assert (state.fee_bps, state.slash_penalty) == (self.settings.fee_bps, self.settings.slash_penalty)
        else:
            assert self.sb.job_state(job) is None and self.sb.balance(poster.token) == before, "a refused post moved something"

    @rule(i=st.integers(0, NODES - 1))
    def work(self, i):
        market = self.market_state()
        min_stake, penalty = self.settings.min_stake, self.settings.slash_penalty
        stake = self.stakes[i]
        node = self.nodes[i].pubkey
        takable = [e for e in market.entries if state_name(e.state) == "QueuedJob" and e.node != node]
        if min_stake and stake is None:
            error = "StakeInvalid"
        elif min_stake and self.weight(i) < min_stake:
            error = "StakeTooLow"
        elif penalty and not self.slasher_is_jobs:
            error = "SlasherNotThisProgram"
        elif penalty and stake is None:
            error = "StakeInvalid"
        elif penalty and (not stake.staked or stake.amount - self.locked(i) < penalty):
            error = "StakeCannotBack"
        elif state_name(market.queue.side) == "Jobs":
            error = None if takable else "JobsExcludeNode"
        else:
            waiting = sum(1 for e in market.entries if state_name(e.state) == "QueuedNode" and e.node == self.nodes[i].pubkey)
            error = ("NodeEntriesExceeded" if waiting >= self.settings.max_entries_per_node
                     else "QueueFull" if not self.can_queue(market) else None)
        self.expect(self.sb.work(self.market, self.nodes[i]), error)
        event(f"work: {error or 'admitted'}")

    @rule(pick=st.integers(0, 100))
    def finish(self, pick):
        found = self.running(pick, timed_out=False)
        if found is None:
            return
        job, i, _ = found
        poster = next(p for p in self.posters if p.pubkey == self.sb.job_state(job).payer)
        self.expect(self.sb.finish(self.market, job, self.nodes[i], poster.token), None)

    @rule(pick=st.integers(0, 100))
    def reclaim(self, pick):
        found = self.running(pick, timed_out=True)
        if found is None:
            return
        job, i, state = found
        payer = next(p for p in self.posters if p.pubkey == state.payer)
        stake = self.stakes[i]
        penalty = state.slash_penalty
        # The node's stake backs the job (locked at work): slashed whatever slasher the
        # config names now.
        if not penalty or stake is None or stake.amount == 0:
            slashed = 0
        else:
            slashed = min(penalty, stake.amount)
        bounty = reclaim_bounty(slashed, state.reclaim_bounty_bps)
        outcome = self.sb.reclaim(self.market, job, payer.token, self.caller)
        self.expect(outcome, None)
        events = {e.name: e.data for e in self.jobs.events(outcome.logs)}
        if penalty:
            assert (events["NodeSlashed"].slashed, events["NodeSlashed"].bounty) == (slashed, bounty)
            event(f"reclaim: slash outcome {events['NodeSlashed'].outcome}")
        else:
            assert "NodeSlashed" not in events
        if slashed:
            stake.amount -= slashed
            self.deposited += slashed - bounty
            self.bounties += bounty
        if penalty:
            assert events["NodeSlashed"].outcome == 0 if slashed else True

    @rule(pick=st.integers(0, 100), extra=st.integers(1, 300))
    def extend(self, pick, extra):
        open_jobs = [(k, s) for k in self.job_keys if (s := self.sb.job_state(k)) is not None and state_name(s.state) == "Open"]
        if not open_jobs:
            return
        job, state = open_jobs[pick % len(open_jobs)]
        payer = next(p for p in self.posters if p.pubkey == state.payer)
        added = state.price_per_second * extra
        fee = network_fee(added, state.fee_bps)
        before = self.sb.balance(payer.token)
        outcome = Sandbox.extend(self.sb, self.market, job, payer, extra)
        error = "TimeoutInvalid" if state.timeout + extra > state.max_timeout else "token" if before < added + fee else None
        if self.expect(outcome, error):
            self.deposited += fee
            assert before - self.sb.balance(payer.token) == added + fee

    @rule(changes=UPDATES)
    def update(self, changes):
        from dataclasses import replace

        settings = replace(self.settings, **changes)
        self.sb.must(self.sb.send([self.jobs.update_market(self.authority.pubkey, self.market, settings)], [self.authority.keypair]))
        self.settings = settings

    @rule(seconds=st.sampled_from([1, 30, 200, 700, 20 * DAY]))
    def advance(self, seconds):
        self.sb.chain.advance(seconds)

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def every_unit_accounted_for(self):
        assert self.tokens() == self.total

    @invariant()
    def the_market_vault_holds_the_escrow(self):
        escrow = sum(s.deposit for k in self.job_keys if (s := self.sb.job_state(k)) is not None and state_name(s.state) == "Open")
        assert self.sb.vault_balance(self.market) == self.market_state().escrowed == escrow

    @invariant()
    def the_stakes_are_the_models(self):
        config = self.sb.config_state(self.config)
        assert self.sb.balance(STAKING.vault(self.config)) == config.total_staked == sum(s.amount for s in self.stakes if s)
        for i, stake in enumerate(self.stakes):
            chain = self.sb.stake_state(self.config, self.nodes[i].pubkey)
            if stake is None:
                assert chain is None
                continue
            assert (chain.amount, chain.weight, state_name(chain.state)) == (stake.amount, self.weight(i), "Staked" if stake.staked else "Unlocking")
            assert chain.locked == self.locked(i), f"node {i}'s stake backs {chain.locked}, it holds {self.held(i)} jobs and entries"

    @invariant()
    def the_pool_holds_what_was_deposited_less_claims(self):
        config = self.sb.config_state(self.config)
        assert config.rewards_deposited == self.deposited
        assert self.sb.balance(STAKING.rewards_pool(self.config)) == config.rewards_deposited - config.rewards_claimed - config.rewards_swept
        assert self.sb.balance(self.caller.token) == self.bounties


StakedMarketMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=50, deadline=None)
TestStakedMarketProperties = StakedMarketMachine.TestCase
