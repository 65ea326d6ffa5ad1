"""A market with staking on the real SBF builds of both programs in LiteSVM: a staking
config of the market's mint that lets the jobs program slash (its PDA ["slasher"]), and a
market naming it with a minimum stake, a slash penalty with a reclaim bounty and a network
fee. Helpers to stake nodes, post, run and reclaim jobs, and read what moved."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client import MarketSettings
from crowdcompute.client.jobs.program import ReclaimSlash
from crowdcompute.client.staking.program import DAY, StakingSettings
from crowdcompute.localnet.runtime.svm import Outcome, deploy_dir
from crowdcompute.sandbox import Actor, Sandbox
from crowdcompute.sandbox.staking import StakingSandbox

# The default curve: a stake locked for the shortest duration (14 days) weighs its amount.
MIN_LOCK = 14 * DAY
MIN_STAKE = 1_000
PENALTY = 400
BOUNTY_BPS = 2_500
FEE_BPS = 100
PRICE = 10
FUNDS = 100_000_000


def market_settings(config: Pubkey, **changes) -> MarketSettings:
    """10/s, an hour at most, two attempts; staking: weight 1,000 to work, 400 slashed per
    reclaim (a quarter to the caller), a 1% fee on every deposit."""
    base = MarketSettings(price_per_second=PRICE, max_timeout=3600, retention=60, max_attempts=2, min_stake=MIN_STAKE,
                          slash_penalty=PENALTY, reclaim_bounty_bps=BOUNTY_BPS, fee_bps=FEE_BPS, staking_config=config)
    return replace(base, **changes)


@dataclass
class World:
    sb: StakingSandbox
    config: Pubkey
    staking_authority: Actor
    market: Pubkey
    authority: Actor

    @property
    def jobs(self):
        return self.sb.jobs

    @property
    def staking(self):
        return self.sb.staking

    def must(self, outcome: Outcome) -> Outcome:
        return self.sb.must(outcome)

    def send(self, instructions: list[Instruction], signers: list[Keypair]) -> Outcome:
        return self.sb.send(instructions, signers)

    # -- actors ------------------------------------------------------------------------
    def node(self, stake: int = 2 * MIN_STAKE, *, duration: int = MIN_LOCK, config: Pubkey | None = None) -> Actor:
        """A node with `stake` locked under the config (none when 0) and as much again in hand."""
        node = self.sb.actor(stake + 10_000)
        if stake:
            self.must(self.sb.stake(config or self.config, node, stake, duration))
        return node

    def poster(self, tokens: int = FUNDS) -> Actor:
        return self.sb.actor(tokens)

    # -- the market --------------------------------------------------------------------
    def open(self, settings: MarketSettings, *, capacity: int = 16) -> Pubkey:
        market, _, outcome = self.sb.open_market(settings, capacity=capacity, authority=self.authority)
        self.must(outcome)
        return market

    def update(self, settings: MarketSettings, market: Pubkey | None = None) -> Outcome:
        return self.send([self.jobs.update_market(self.authority.pubkey, market or self.market, settings)], [self.authority.keypair])

    def post(self, poster: Actor, *, timeout: int = 600, market: Pubkey | None = None) -> tuple[Pubkey, Outcome]:
        return self.sb.post(market or self.market, poster, timeout=timeout)

    def extend(self, job: Pubkey, poster: Actor, extra: int, market: Pubkey | None = None) -> Outcome:
        # StakingSandbox.extend is the staking program's; this is the jobs program's.
        return Sandbox.extend(self.sb, market or self.market, job, poster, extra)

    def running(self, node: Actor, *, timeout: int = 60, poster: Actor | None = None) -> tuple[Pubkey, Actor]:
        """A job posted and taken by `node`."""
        poster = poster or self.poster()
        job, outcome = self.post(poster, timeout=timeout)
        self.must(outcome)
        self.must(self.sb.work(self.market, node))
        return job, poster

    def reclaim(self, job: Pubkey, poster: Actor, caller: Actor, *, slash: ReclaimSlash | None = None) -> Outcome:
        """reclaim as the sandbox sends it (the slash accounts from the chain), or with `slash`."""
        if slash is None:
            return self.sb.reclaim(self.market, job, poster.token, caller)
        return self.send([self.jobs.reclaim(job=job, market=self.market, payer_token=poster.token, slash=slash)], [caller.keypair])

    def honest_slash(self, job: Pubkey, caller: Actor) -> ReclaimSlash:
        slash = self.sb.reclaim_slash(self.market, job, caller.token)
        assert slash is not None
        return slash

    # -- reads -------------------------------------------------------------------------
    def stake_of(self, node: Actor):
        return self.sb.stake_state(self.config, node.pubkey)

    def pool(self) -> int:
        return self.sb.balance(self.staking.rewards_pool(self.config))

    def stake_vault(self) -> int:
        return self.sb.balance(self.staking.vault(self.config))

    def events(self, outcome: Outcome) -> dict[str, object]:
        """The jobs program's events by name (each at most once here)."""
        return {event.name: event.data for event in self.jobs.events(outcome.logs)}

    def staking_events(self, outcome: Outcome) -> dict[str, object]:
        return {event.name: event.data for event in self.staking.events(outcome.logs)}


@pytest.fixture(scope="session")
def programs():
    for name in ("jobs.so", "staking.so", "slash_probe.so"):
        if not (deploy_dir() / name).is_file():
            pytest.exit(f"{deploy_dir() / name} is missing: run `bash scripts/build-programs.sh`", returncode=2)


@pytest.fixture
def sb(programs) -> StakingSandbox:
    return StakingSandbox()


@pytest.fixture
def world(sb: StakingSandbox) -> World:
    config, staking_authority, outcome = sb.init(StakingSettings(slasher_program=sb.jobs.program_id))
    sb.must(outcome)
    authority = sb.actor()
    market, _, outcome = sb.open_market(market_settings(config), capacity=16, authority=authority)
    sb.must(outcome)
    return World(sb, config, staking_authority, market, authority)


@pytest.fixture
def errors(sb: StakingSandbox):
    return sb.jobs.errors


@pytest.fixture
def staking_errors(sb: StakingSandbox):
    return sb.staking.errors
