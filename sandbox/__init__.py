"""A ready market in an in-process chain: a payment mint, funded actors, and one call per
jobs-program instruction that signs and sends it. The tests, the demo and the benchmarks
all drive the program through this one place."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client.jobs import instruction_plan as plan
from crowdcompute.client.jobs.accounts import Job, Market
from crowdcompute.client.jobs.program import JobsProgram, MarketSettings, ReclaimSlash
from crowdcompute.client.staking.program import StakingProgram
from crowdcompute.client.jobs.layout import market_size
from crowdcompute.common.token import (
    MINT_LEN,
    associated_token_address,
    create_associated_token_account,
    create_mint_instructions,
    mint_to_instruction,
    token_account_amount,
)
from crowdcompute.localnet.runtime.svm import SvmChain, Outcome, deploy_dir

__all__ = ["Actor", "Sandbox", "digest"]


def digest(text: str | bytes) -> bytes:
    """sha256 of `text`: a stand-in for a definition or result stored by digest."""
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).digest()


@dataclass
class Actor:
    """A keypair with SOL and a token account of the market's mint."""

    keypair: Keypair
    token: Pubkey

    @property
    def pubkey(self) -> Pubkey:
        return self.keypair.pubkey()


class Sandbox:
    """One chain, one mint, and markets on it."""

    def __init__(self, chain: SvmChain | None = None, jobs: JobsProgram | None = None, *, decimals: int = 6,
                 staking: StakingProgram | None = None) -> None:
        self.jobs = jobs or JobsProgram()
        # Decodes the staking accounts a staked market's instructions need (their program
        # is loaded by `sandbox.staking.StakingSandbox`).
        self.staking = staking or StakingProgram()
        self.chain = chain or SvmChain({self.jobs.program_id: deploy_dir() / "jobs.so"})
        self.mint_authority = self.chain.funded()
        self.mint = self.new_mint(decimals=decimals)

    # -- tokens ------------------------------------------------------------------------
    def new_mint(self, *, decimals: int = 6) -> Pubkey:
        mint = Keypair()
        payer = self.mint_authority
        ixs = create_mint_instructions(payer.pubkey(), mint.pubkey(), payer.pubkey(), decimals=decimals, lamports=self.chain.rent_exempt(MINT_LEN))
        self.must(self.chain.send(ixs, [payer, mint]))
        return mint.pubkey()

    def token_account(self, owner: Pubkey, mint: Pubkey | None = None) -> Pubkey:
        mint = mint or self.mint
        payer = self.mint_authority
        self.must(self.chain.send([create_associated_token_account(payer.pubkey(), owner, mint)], [payer]))
        return associated_token_address(owner, mint)

    def mint_to(self, account: Pubkey, amount: int, mint: Pubkey | None = None) -> None:
        if amount:
            ix = mint_to_instruction(mint or self.mint, account, self.mint_authority.pubkey(), amount)
            self.must(self.chain.send([ix], [self.mint_authority]))

    def balance(self, token_account: Pubkey) -> int:
        account = self.chain.account(token_account)
        return token_account_amount(bytes(account.data)) if account else 0

    def actor(self, tokens: int = 0) -> Actor:
        keypair = self.chain.funded()
        token = self.token_account(keypair.pubkey())
        self.mint_to(token, tokens)
        return Actor(keypair, token)

    # -- markets -----------------------------------------------------------------------
    def open_market(self, settings: MarketSettings, *, capacity: int = 64, authority: Actor | None = None, mint: Pubkey | None = None) -> tuple[Pubkey, Actor, Outcome]:
        authority = authority or self.actor()
        market = Keypair()
        ixs = [
            self.jobs.create_market_account(authority.pubkey, market.pubkey(), capacity=capacity, lamports=self.chain.rent_exempt(market_size(capacity))),
            self.jobs.open_market(authority.pubkey, market.pubkey(), mint or self.mint, settings),
        ]
        outcome = self.chain.send(ixs, [authority.keypair, market])
        return market.pubkey(), authority, outcome

    def market_state(self, market: Pubkey) -> Any:
        return self.jobs.decode_market(bytes(self.chain.account(market).data))

    def job_state(self, job: Pubkey) -> Any | None:
        account = self.chain.account(job)
        return self.jobs.decode_job(bytes(account.data)) if account else None

    def vault_balance(self, market: Pubkey) -> int:
        return self.balance(self.jobs.vault(market))

    # -- the views the client decodes (what `instruction_plan` reads) -------------------
    def market_view(self, market: Pubkey) -> Market:
        return Market.from_decoded(market, self.market_state(market))

    def job_view(self, job: Pubkey) -> Job | Pubkey:
        """The job's view, or only its address when the account is gone (tests send to
        closed jobs to see the program refuse; the plan adds none of its accounts then)."""
        state = self.job_state(job)
        return Job.from_decoded(job, state) if state is not None else job

    def slash_destination(self, config: Pubkey | None) -> Pubkey | None:
        """Where staking config `config` sends slashes, as it stands now (None: no config)."""
        if config is None:
            return None
        return self.staking.slash_destination(config, self.staking.decode(bytes(self.chain.account(config).data)))

    # -- instructions: state read here, accounts picked by the client's instruction_plan ----
    def post(self, market: Pubkey, poster: Actor, *, payer: Actor | None = None, timeout: int = 600, definition: bytes | None = None,
             job: Keypair | None = None, max_price: int | None = None, max_fee_bps: int | None = None) -> tuple[Pubkey, Outcome]:
        """`max_price` (per second) and `max_fee_bps` default to the market's price and
        network fee as read now: the terms the payer saw before signing."""
        payer = payer or poster
        job = job or Keypair()
        view = self.market_view(market)
        ixs = plan.post(self.jobs, view, poster=poster.pubkey, payer=payer.pubkey, job=job.pubkey(),
                        definition=definition or digest(f"job {job.pubkey()}"), timeout=timeout,
                        max_price_per_second=view.price_per_second if max_price is None else max_price,
                        max_fee_bps=view.fee_bps if max_fee_bps is None else max_fee_bps, payer_token=payer.token)
        return job.pubkey(), self.chain.send(ixs, [payer.keypair, poster.keypair, job])

    def work(self, market: Pubkey, node: Actor) -> Outcome:
        """With a minimum stake, the node's stake under the market's config goes along; with
        a slash penalty, the accounts that lock the penalty on it too."""
        return self.chain.send(plan.work(self.jobs, self.market_view(market), node.pubkey), [node.keypair])

    def running_node(self, market: Pubkey, job: Pubkey) -> Pubkey | None:
        """The node at the job's entry (None for a job that is gone or out of range)."""
        state = self.job_state(job)
        entries = self.market_state(market).entries
        return entries[state.slot].node if state is not None and state.slot < len(entries) else None

    def leave(self, market: Pubkey, node: Actor, slot: int, *, waiting: Pubkey | None = None) -> Outcome:
        """`waiting`: the node whose entry it is, when `node` is the market authority
        removing it from a Closing market."""
        return self.chain.send(plan.leave(self.jobs, self.market_view(market), node=node.pubkey, slot=slot, waiting=waiting), [node.keypair])

    def finish(self, market: Pubkey, job: Pubkey, node: Actor, payer_token: Pubkey, result: bytes | None = None) -> Outcome:
        ixs = plan.finish(self.jobs, self.market_view(market), job, node=node.pubkey, node_token=node.token, payer_token=payer_token,
                          result=result if result is not None else digest(f"result {job}"))
        return self.chain.send(ixs, [node.keypair])

    def quit(self, market: Pubkey, job: Pubkey, node: Actor, payer_token: Pubkey | None = None) -> Outcome:
        """`payer_token`: the job's payer's (its associated token account by default; the
        node's own for a job that is gone)."""
        found, view = self.job_view(job), self.market_view(market)
        if payer_token is None and not isinstance(found, Job):
            payer_token = node.token
        ixs = plan.quit(self.jobs, view, found, node=node.pubkey, slash_destination=self.slash_destination(plan.slash_config(view)),
                        payer_token=payer_token)
        return self.chain.send(ixs, [node.keypair])

    def reclaim(self, market: Pubkey, job: Pubkey, payer_token: Pubkey, caller: Actor) -> Outcome:
        """For a job with a slash penalty, the silent node's slash accounts go along, the
        bounty to the caller's token account."""
        found, view = self.job_view(job), self.market_view(market)
        ixs = plan.reclaim(self.jobs, view, found, caller=caller.pubkey, node=self.running_node(market, job),
                           slash_destination=self.slash_destination(plan.slash_config(view, found)), bounty_to=caller.token,
                           payer_token=payer_token)
        return self.chain.send(ixs, [caller.keypair])

    def reclaim_slash(self, market: Pubkey, job: Pubkey, bounty_to: Pubkey) -> ReclaimSlash | None:
        """The accounts of the running node's slash, as the market and its staking config
        stand now; None for a job without a penalty (or not running)."""
        found, view = self.job_view(job), self.market_view(market)
        return plan.reclaim_slash(view, found, self.running_node(market, job), self.slash_destination(plan.slash_config(view, found)), bounty_to)

    def close_market(self, market: Pubkey, authority: Actor) -> Outcome:
        """close_market: closes a market with no job left, else makes it Closing."""
        return self.chain.send([self.jobs.close_market(authority.pubkey, market, authority.token)], [authority.keypair])

    def cancel(self, market: Pubkey, job: Pubkey, poster: Actor, payer: Actor | None = None) -> Outcome:
        payer = payer or poster
        ix = self.jobs.cancel(poster=poster.pubkey, job=job, market=market, payer_token=payer.token, payer=payer.pubkey)
        return self.chain.send([ix], [poster.keypair])

    def extend(self, market: Pubkey, job: Pubkey, poster: Actor, extra: int, payer: Actor | None = None) -> Outcome:
        payer = payer or poster
        ixs = plan.extend(self.jobs, self.market_view(market), self.job_view(job), poster=poster.pubkey, payer=payer.pubkey, extra=extra,
                          payer_token=payer.token)
        return self.chain.send(ixs, [poster.keypair, payer.keypair])

    def end(self, market: Pubkey, job: Pubkey, poster: Actor, node_token: Pubkey, payer_token: Pubkey) -> Outcome:
        ixs = plan.end(self.jobs, self.market_view(market), job, poster=poster.pubkey, node=self.running_node(market, job),
                       node_token=node_token, payer_token=payer_token)
        return self.chain.send(ixs, [poster.keypair])

    def attach_result(self, job: Pubkey, node: Actor, result: bytes) -> Outcome:
        return self.chain.send(plan.attach_result(self.jobs, job, node=node.pubkey, result=result), [node.keypair])

    def clean(self, market: Pubkey, job: Pubkey, payer: Pubkey, caller: Actor) -> Outcome:
        return self.chain.send([self.jobs.clean(job=job, market=market, payer=payer)], [caller.keypair])

    def send(self, instructions: list[Instruction], signers: list[Keypair]) -> Outcome:
        return self.chain.send(instructions, signers)

    @staticmethod
    def must(outcome: Outcome) -> Outcome:
        if not outcome.ok:
            raise RuntimeError(f"transaction failed: {outcome.error}\n" + "\n".join(outcome.logs))
        return outcome
