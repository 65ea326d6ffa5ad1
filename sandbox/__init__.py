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

from crowdcompute.client.jobs import Bond, JobsProgram, MarketSettings, QuitSlash, ReclaimSlash
from crowdcompute.client.staking import StakingProgram
from crowdcompute.client.layout import market_size
from crowdcompute.common.token import (
    MINT_LEN,
    associated_token_address,
    create_associated_token_account,
    create_mint_instructions,
    mint_to_instruction,
    token_account_amount,
)
from crowdcompute.localnet.svm import Chain, Outcome, deploy_dir

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

    def __init__(self, chain: Chain | None = None, jobs: JobsProgram | None = None, *, decimals: int = 6,
                 staking: StakingProgram | None = None) -> None:
        self.jobs = jobs or JobsProgram()
        # Decodes the staking accounts a staked market's instructions need (their program
        # is loaded by `sandbox.staking.StakingSandbox`).
        self.staking = staking or StakingProgram()
        self.chain = chain or Chain({self.jobs.program_id: deploy_dir() / "jobs.so"})
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

    # -- instructions ------------------------------------------------------------------
    def post(self, market: Pubkey, poster: Actor, *, payer: Actor | None = None, timeout: int = 600, definition: bytes | None = None,
             job: Keypair | None = None, max_price: int | None = None, max_fee_bps: int | None = None) -> tuple[Pubkey, Outcome]:
        """`max_price` (per second) and `max_fee_bps` default to the market's price and
        network fee as read now: the terms the payer saw before signing."""
        payer = payer or poster
        job = job or Keypair()
        state = self.market_state(market)
        if max_price is None:
            max_price = state.price_per_second
        if max_fee_bps is None:
            max_fee_bps = state.fee_bps
        ix = self.jobs.post(poster=poster.pubkey, payer=payer.pubkey, job=job.pubkey(), market=market, payer_token=payer.token,
                            definition=definition or digest(f"job {job.pubkey()}"), timeout=timeout, max_price_per_second=max_price,
                            max_fee_bps=max_fee_bps, fee_config=state.staking_config if state.fee_bps else None)
        return job.pubkey(), self.chain.send([ix], [payer.keypair, poster.keypair, job])

    def work(self, market: Pubkey, node: Actor) -> Outcome:
        """With a minimum stake, the node's stake under the market's config goes along; with
        a slash penalty, the accounts that lock the penalty on it too."""
        state = self.market_state(market)
        ix = self.jobs.work(node=node.pubkey, market=market, stake_config=state.staking_config if state.min_stake else None,
                            bond_config=state.staking_config if state.slash_penalty else None)
        return self.chain.send([ix], [node.keypair])

    def bond(self, market: Pubkey, node: Pubkey) -> Bond | None:
        """The node's bond in a market with a slash penalty (None without one)."""
        state = self.market_state(market)
        return Bond(config=state.staking_config, node=node) if state.slash_penalty else None

    def running_node(self, market: Pubkey, job: Pubkey) -> Pubkey | None:
        """The node at the job's entry (None for a job that is gone or out of range)."""
        state = self.job_state(job)
        entries = self.market_state(market).entries
        return entries[state.slot].node if state is not None and state.slot < len(entries) else None

    def leave(self, market: Pubkey, node: Actor, slot: int, *, waiting: Pubkey | None = None) -> Outcome:
        """`waiting`: the node whose entry it is, when `node` is the market authority
        removing it from a Closing market."""
        bond = self.bond(market, waiting or node.pubkey)
        return self.chain.send([self.jobs.leave(node=node.pubkey, market=market, slot=slot, bond=bond)], [node.keypair])

    def finish(self, market: Pubkey, job: Pubkey, node: Actor, payer_token: Pubkey, result: bytes | None = None) -> Outcome:
        ix = self.jobs.finish(node=node.pubkey, job=job, market=market, node_token=node.token, payer_token=payer_token,
                              result=result if result is not None else digest(f"result {job}"), bond=self.bond(market, node.pubkey))
        return self.chain.send([ix], [node.keypair])

    def quit(self, market: Pubkey, job: Pubkey, node: Actor, payer_token: Pubkey | None = None) -> Outcome:
        """`payer_token`: the job's payer's (its associated token account by default)."""
        state = self.job_state(job)
        market_state = self.market_state(market)
        if payer_token is None:
            payer_token = associated_token_address(state.payer, market_state.mint) if state is not None else node.token
        slash = None
        if market_state.slash_penalty:
            config = market_state.staking_config
            config_state = self.staking.decode(bytes(self.chain.account(config).data))
            slash = QuitSlash(config=config, node=node.pubkey, destination=self.staking.slash_destination(config, config_state))
        ix = self.jobs.quit(node=node.pubkey, job=job, market=market, payer_token=payer_token, slash=slash)
        return self.chain.send([ix], [node.keypair])

    def reclaim(self, market: Pubkey, job: Pubkey, payer_token: Pubkey, caller: Actor) -> Outcome:
        """For a job with a slash penalty, the silent node's slash accounts go along, the
        bounty to the caller's token account."""
        return self.chain.send([self.jobs.reclaim(job=job, market=market, payer_token=payer_token,
                                                  slash=self.reclaim_slash(market, job, caller.token))], [caller.keypair])

    def reclaim_slash(self, market: Pubkey, job: Pubkey, bounty_to: Pubkey) -> ReclaimSlash | None:
        """The accounts of the running node's slash, as the market and its staking config
        stand now; None for a job without a penalty (or not running)."""
        state = self.job_state(job)
        if state is None or not state.slash_penalty:
            return None
        market_state = self.market_state(market)
        if state.slot >= len(market_state.entries):
            return None
        config = market_state.staking_config
        config_state = self.staking.decode(bytes(self.chain.account(config).data))
        return ReclaimSlash(config=config, node=market_state.entries[state.slot].node,
                            destination=self.staking.slash_destination(config, config_state), bounty_to=bounty_to)

    def close_market(self, market: Pubkey, authority: Actor) -> Outcome:
        """close_market: closes a market with no job left, else makes it Closing."""
        return self.chain.send([self.jobs.close_market(authority.pubkey, market, authority.token)], [authority.keypair])

    def cancel(self, market: Pubkey, job: Pubkey, poster: Actor, payer: Actor | None = None) -> Outcome:
        payer = payer or poster
        ix = self.jobs.cancel(poster=poster.pubkey, job=job, market=market, payer_token=payer.token, payer=payer.pubkey)
        return self.chain.send([ix], [poster.keypair])

    def extend(self, market: Pubkey, job: Pubkey, poster: Actor, extra: int, payer: Actor | None = None) -> Outcome:
        payer = payer or poster
        state = self.job_state(job)
        fee_config = self.market_state(market).staking_config if state is not None and state.fee_bps else None
        ix = self.jobs.extend(poster=poster.pubkey, payer=payer.pubkey, job=job, market=market, payer_token=payer.token, extra=extra,
                              fee_config=fee_config)
        return self.chain.send([ix], [poster.keypair, payer.keypair])

    def end(self, market: Pubkey, job: Pubkey, poster: Actor, node_token: Pubkey, payer_token: Pubkey) -> Outcome:
        node = self.running_node(market, job)
        bond = self.bond(market, node) if node is not None else None
        ix = self.jobs.end(poster=poster.pubkey, job=job, market=market, node_token=node_token, payer_token=payer_token, bond=bond)
        return self.chain.send([ix], [poster.keypair])

    def clean(self, market: Pubkey, job: Pubkey, payer: Pubkey, caller: Actor) -> Outcome:
        return self.chain.send([self.jobs.clean(job=job, market=market, payer=payer)], [caller.keypair])

    def send(self, instructions: list[Instruction], signers: list[Keypair]) -> Outcome:
        return self.chain.send(instructions, signers)

    @staticmethod
    def must(outcome: Outcome) -> Outcome:
        if not outcome.ok:
            raise RuntimeError(f"transaction failed: {outcome.error}\n" + "\n".join(outcome.logs))
        return outcome
