"""Property-based test of the staking program: random sequences of stake, topup, extend,
unstake, withdraw, restake, slash (by the authority and through the slasher program's
CPI, with a bounty to a reporter), lock and unlock (through the slasher program's CPI),
deposit_fees, claim, sweep and close, with the clock moving, against a Python model.

The model mirrors the program's integer rules (weight = floor(amount x multiplier / 10^6),
linear unlock rounded down, slashes taking the tail of an unlock) and keeps every staker's
exact reward share as a Fraction: each deposit (or slash to the pool) adds
deposit x weight / total weight to each stake, or, while no stake has weight, is no
staker's (the treasury's: `sweep` sends it there). What a stake backs (`locked`) is never
more than it held when locked; while it backs anything it can be neither unstaked nor
closed.
It predicts whether each call succeeds and, if not, with which error; after every step:
- every base unit is accounted for: wallets + vault + rewards pool + treasury are constant;
- the vault holds exactly the stakes' amounts (Config.total_staked), the pool exactly
  deposited - claimed - swept; Config.total_weight is the sum of the stakes' weights;
- each stake's amount, weight and state are the model's;
- no staker has claimed more than its exact share, and every claim leaves it less than
  two base units short of it (its own fraction in flight and its part of the config's
  division remainder); the sum of claims never exceeds the deposits;
- the client's off-chain figures (`crowdcompute.client.staking.accounts`), read from the
  accounts just before a claim or a withdraw, are exactly what it pays.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from solders.pubkey import Pubkey

from crowdcompute.client.staking.program import DAY, SLASH_TO_REWARDS_POOL, StakingProgram, StakingSettings
from crowdcompute.client.staking.accounts import Stake, StakingConfig
from crowdcompute.sandbox.staking import SLASH_PROBE_ID, StakingSandbox

STAKING = StakingProgram()
SETTINGS = StakingSettings(slasher_program=SLASH_PROBE_ID)
MIN, MAX = SETTINGS.min_duration, SETTINGS.max_duration
STAKERS = 3
WALLET = 1_000_000
FEES = 5_000_000


@dataclass
class StakeModel:
    amount: int
    duration: int
    staked: bool = True
    unlock_start: int = 0
    unlock_base: int = 0
    withdrawn: int = 0
    locked: int = 0

    @property
    def weight(self) -> int:
        return SETTINGS.weight(self.amount, self.duration) if self.staked else 0

    def withdrawable(self, now: int) -> int:
        elapsed = now - self.unlock_start
        released = 0 if elapsed <= 0 else self.unlock_base if elapsed >= self.duration else self.unlock_base * elapsed // self.duration
        return min(self.amount, max(0, released - self.withdrawn))


class StakingMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.sb = StakingSandbox(STAKING)
        config, self.authority, outcome = self.sb.init(SETTINGS)
        self.sb.must(outcome)
        self.config = config
        self.stakers = [self.sb.actor(WALLET) for _ in range(STAKERS)]
        self.payer = self.sb.actor(FEES)
        self.errors = STAKING.errors
        self.stakes: list[StakeModel | None] = [None] * STAKERS
        self.share = [Fraction(0)] * STAKERS      # exact rewards earned
        self.claimed = [0] * STAKERS
        self.unowned = 0
        self.swept = 0
        self.deposited = 0
        self.wallets = [WALLET] * STAKERS
        self.total = self.tokens()

    # -- helpers -----------------------------------------------------------------------
    def tokens(self) -> int:
        sb, config = self.sb, self.config
        accounts = [s.token for s in self.stakers] + [self.payer.token, self.authority.token, STAKING.vault(config), STAKING.rewards_pool(config)]
        return sum(sb.balance(a) for a in accounts)

    def total_weight(self) -> int:
        return sum(s.weight for s in self.stakes if s)

    def offchain(self, i: int) -> tuple[Stake, StakingConfig]:
        """Staker i's stake and the config as the client reads them."""
        owner = self.stakers[i].pubkey
        stake = Stake.from_decoded(STAKING.stake(self.config, owner), self.sb.stake_state(self.config, owner))
        return stake, StakingConfig.from_decoded(self.config, self.sb.config_state(self.config), 6)

    def distribute(self, amount: int) -> None:
        self.deposited += amount
        weight = self.total_weight()
        if weight == 0:
            self.unowned += amount
            return
        for i, stake in enumerate(self.stakes):
            if stake and stake.weight:
                self.share[i] += Fraction(amount * stake.weight, weight)

    def expect(self, outcome, error: str | None) -> bool:
        logs = "\n".join(outcome.logs)
        if error is None:
            assert outcome.ok, logs
        else:
            assert not outcome.ok and outcome.custom_error == self.errors[error], f"expected {error}, got {self.errors.name(outcome.custom_error)}\n{logs}"
        return outcome.ok

    # -- rules -------------------------------------------------------------------------
    @rule(i=st.integers(0, STAKERS - 1), amount=st.integers(0, WALLET // 4), duration=st.integers(MIN - DAY, MAX + DAY))
    def stake(self, i, amount, duration):
        if amount > self.wallets[i]:
            return
        outcome = self.sb.stake(self.config, self.stakers[i], amount, duration)
        # The program's order: arguments, then the stake's address.
        error = ("AmountZero" if amount == 0 else "DurationInvalid" if not MIN <= duration <= MAX
                 else "AccountAlreadyInitialized" if self.stakes[i] else None)
        if self.expect(outcome, error):
            self.stakes[i] = StakeModel(amount, duration)
            self.wallets[i] -= amount

    @rule(i=st.integers(0, STAKERS - 1), amount=st.integers(1, WALLET // 8))
    def topup(self, i, amount):
        stake = self.stakes[i]
        if stake is None or amount > self.wallets[i]:
            return
        outcome = self.sb.topup(self.config, self.stakers[i], amount)
        if self.expect(outcome, None if stake.staked else "StakeNotStaked"):
            stake.amount += amount
            self.wallets[i] -= amount

    @rule(i=st.integers(0, STAKERS - 1), extra=st.integers(-DAY, 200 * DAY))
    def extend(self, i, extra):
        stake = self.stakes[i]
        if stake is None:
            return
        duration = stake.duration + extra
        outcome = self.sb.extend(self.config, self.stakers[i], duration)
        error = "StakeNotStaked" if not stake.staked else "DurationShorter" if extra < 0 else "DurationInvalid" if duration > MAX else None
        if self.expect(outcome, error):
            stake.duration = duration

    @rule(i=st.integers(0, STAKERS - 1))
    def unstake(self, i):
        stake = self.stakes[i]
        if stake is None:
            return
        outcome = self.sb.unstake(self.config, self.stakers[i])
        error = "StakeNotStaked" if not stake.staked else "StakeLocked" if stake.locked else None
        if self.expect(outcome, error):
            stake.staked, stake.unlock_start, stake.unlock_base, stake.withdrawn = False, self.sb.chain.now(), stake.amount, 0

    @rule(i=st.integers(0, STAKERS - 1))
    def withdraw(self, i):
        stake = self.stakes[i]
        if stake is None:
            return
        available = stake.withdrawable(self.sb.chain.now()) if not stake.staked else 0
        assert self.offchain(i)[0].withdrawable(self.sb.chain.now()) == available
        before = self.sb.balance(self.stakers[i].token)
        outcome = self.sb.withdraw(self.config, self.stakers[i])
        if self.expect(outcome, None if not stake.staked else "StakeNotUnlocking"):
            assert self.sb.balance(self.stakers[i].token) - before == available
            stake.amount -= available
            stake.withdrawn += available
            self.wallets[i] += available

    @rule(i=st.integers(0, STAKERS - 1))
    def restake(self, i):
        stake = self.stakes[i]
        if stake is None:
            return
        outcome = self.sb.restake(self.config, self.stakers[i])
        error = "StakeNotUnlocking" if stake.staked else "AmountZero" if stake.amount == 0 else None
        if self.expect(outcome, error):
            stake.staked, stake.unlock_start, stake.unlock_base, stake.withdrawn = True, 0, 0, 0

    @rule(i=st.integers(0, STAKERS - 1), amount=st.integers(1, WALLET // 4), by_cpi=st.booleans(), bounty_share=st.sampled_from([0, 1, 2, 4]))
    def slash(self, i, amount, by_cpi, bounty_share):
        """`bounty_share`: the bounty as a quarter of the amount (the payer reports)."""
        stake = self.stakes[i]
        if stake is None:
            return
        bounty = amount * bounty_share // 4
        bounty_to = self.payer.token
        if by_cpi:
            outcome = self.sb.slash_by_probe(self.config, self.stakers[i].pubkey, amount, caller=self.payer, bounty=bounty, bounty_to=bounty_to)
        else:
            outcome = self.sb.slash(self.config, self.authority, self.stakers[i].pubkey, amount, bounty=bounty, bounty_to=bounty_to)
        self.expect(outcome, None)
        slashed = min(amount, stake.amount)
        paid = min(bounty, slashed)  # the bounty, out of what the stake held
        stake.amount -= slashed
        self.distribute(slashed - paid)  # the rest to the rewards pool, over the weights after the slash

    @rule(i=st.integers(0, STAKERS - 1), amount=st.integers(0, WALLET // 4))
    def lock(self, i, amount):
        """The slasher program (the probe, by CPI) makes stake i back `amount` more."""
        stake = self.stakes[i]
        if stake is None:
            return
        ix = STAKING.lock(locker=self.sb.probe_signer(), config=self.config, stake=STAKING.stake(self.config, self.stakers[i].pubkey), amount=amount)
        outcome = self.sb.by_probe(ix, caller=self.payer)
        error = ("AmountZero" if amount == 0 else "StakeNotStaked" if not stake.staked
                 else "LockAboveStake" if stake.locked + amount > stake.amount else None)
        if self.expect(outcome, error):
            stake.locked += amount

    @rule(i=st.integers(0, STAKERS - 1), amount=st.integers(0, WALLET // 4))
    def unlock(self, i, amount):
        stake = self.stakes[i]
        if stake is None:
            return
        ix = STAKING.unlock(locker=self.sb.probe_signer(), stake=STAKING.stake(self.config, self.stakers[i].pubkey), amount=amount)
        outcome = self.sb.by_probe(ix, caller=self.payer)
        if self.expect(outcome, None if stake.locked else "LockerInvalid"):
            stake.locked = max(0, stake.locked - amount)

    @rule()
    def sweep(self):
        outcome = self.sb.sweep(self.config, caller=self.payer)
        if self.expect(outcome, None if self.unowned else "AmountZero"):
            self.swept += self.unowned
            self.unowned = 0

    @rule(amount=st.integers(1, 200_000))
    def deposit_fees(self, amount):
        outcome = self.sb.deposit_fees(self.config, self.payer, amount)
        self.expect(outcome, None)
        self.distribute(amount)

    @rule(i=st.integers(0, STAKERS - 1))
    def claim(self, i):
        if self.stakes[i] is None:
            return
        before = self.sb.balance(self.stakers[i].token)
        stake, config = self.offchain(i)
        self.expect(self.sb.claim(self.config, self.stakers[i]), None)
        got = self.sb.balance(self.stakers[i].token) - before
        assert got == stake.claimable(config), "the client's claimable is not what claim paid"
        self.claimed[i] += got
        self.wallets[i] += got
        # Never more than the exact share; less by under two units once all is settled.
        assert self.claimed[i] <= self.share[i]
        assert self.share[i] - self.claimed[i] < 2, (self.share[i], self.claimed[i])

    @rule(i=st.integers(0, STAKERS - 1))
    def close(self, i):
        stake = self.stakes[i]
        if stake is None:
            return
        self.claim(i)
        outcome = self.sb.close_stake(self.config, self.stakers[i])
        error = "StakeNotEmpty" if stake.amount else "StakeLocked" if stake.locked else None
        if self.expect(outcome, error):
            self.stakes[i] = None
            # A new stake starts from nothing: what this one was owed is all claimed.
            self.share[i] = Fraction(self.claimed[i])

    @rule(seconds=st.integers(1, 60 * DAY))
    def advance(self, seconds):
        self.sb.chain.advance(seconds)

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def every_unit_accounted_for(self):
        sb, config = self.sb, self.config
        state = sb.config_state(config)
        assert self.tokens() == self.total
        vault = sb.balance(STAKING.vault(config))
        assert vault == state.total_staked == sum(s.amount for s in self.stakes if s)
        assert sb.balance(STAKING.rewards_pool(config)) == state.rewards_deposited - state.rewards_claimed - state.rewards_swept
        assert state.rewards_deposited == self.deposited and state.rewards_claimed == sum(self.claimed) <= self.deposited
        assert state.total_weight == self.total_weight()
        assert (state.rewards_unowned, state.rewards_swept) == (self.unowned, self.swept)
        for i, stake in enumerate(self.stakes):
            chain = sb.stake_state(config, self.stakers[i].pubkey)
            if stake is None:
                assert chain is None
                continue
            assert (chain.amount, chain.weight, chain.duration, chain.locked) == (stake.amount, stake.weight, stake.duration, stake.locked)
            assert chain.locker == (self.sb.probe_signer() if stake.locked else Pubkey.default())
            assert type(chain.state).__name__ == ("Staked" if stake.staked else "Unlocking")
            assert sb.balance(self.stakers[i].token) == self.wallets[i]


StakingMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=50, deadline=None)
TestStakingProperties = StakingMachine.TestCase
