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

from crowdcompute.client.jobs import JobsProgram, MarketSettings
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

    def __init__(self, chain: Chain | None = None, jobs: JobsProgram | None = None, *, decimals: int = 6) -> None:
        self.jobs = jobs or JobsProgram()
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
             job: Keypair | None = None, max_price: int | None = None) -> tuple[Pubkey, Outcome]:
        """`max_price` (per second) defaults to the market's price as read now: the price the
        payer saw before signing."""
        payer = payer or poster
        job = job or Keypair()
        if max_price is None:
            max_price = self.market_state(market).price_per_second
        ix = self.jobs.post(poster=poster.pubkey, payer=payer.pubkey, job=job.pubkey(), market=market, payer_token=payer.token,
                            definition=definition or digest(f"job {job.pubkey()}"), timeout=timeout, max_price_per_second=max_price)
        return job.pubkey(), self.chain.send([ix], [payer.keypair, poster.keypair, job])

    def work(self, market: Pubkey, node: Actor) -> Outcome:
        return self.chain.send([self.jobs.work(node=node.pubkey, market=market)], [node.keypair])

    def leave(self, market: Pubkey, node: Actor, slot: int) -> Outcome:
        return self.chain.send([self.jobs.leave(node=node.pubkey, market=market, slot=slot)], [node.keypair])

    def finish(self, market: Pubkey, job: Pubkey, node: Actor, payer_token: Pubkey, result: bytes | None = None) -> Outcome:
        ix = self.jobs.finish(node=node.pubkey, job=job, market=market, node_token=node.token, payer_token=payer_token,
                              result=result if result is not None else digest(f"result {job}"))
        return self.chain.send([ix], [node.keypair])

    def quit(self, market: Pubkey, job: Pubkey, node: Actor) -> Outcome:
        return self.chain.send([self.jobs.quit(node=node.pubkey, job=job, market=market)], [node.keypair])

    def reclaim(self, market: Pubkey, job: Pubkey, payer_token: Pubkey, caller: Actor) -> Outcome:
        return self.chain.send([self.jobs.reclaim(job=job, market=market, payer_token=payer_token)], [caller.keypair])

    def close_market(self, market: Pubkey, authority: Actor) -> Outcome:
        """close_market: closes a market with no job left, else makes it Closing."""
        return self.chain.send([self.jobs.close_market(authority.pubkey, market, authority.token)], [authority.keypair])

    def cancel(self, market: Pubkey, job: Pubkey, poster: Actor, payer: Actor | None = None) -> Outcome:
        payer = payer or poster
        ix = self.jobs.cancel(poster=poster.pubkey, job=job, market=market, payer_token=payer.token, payer=payer.pubkey)
        return self.chain.send([ix], [poster.keypair])

    def extend(self, market: Pubkey, job: Pubkey, poster: Actor, extra: int, payer: Actor | None = None) -> Outcome:
        payer = payer or poster
        ix = self.jobs.extend(poster=poster.pubkey, payer=payer.pubkey, job=job, market=market, payer_token=payer.token, extra=extra)
        return self.chain.send([ix], [poster.keypair, payer.keypair])

    def end(self, market: Pubkey, job: Pubkey, poster: Actor, node_token: Pubkey, payer_token: Pubkey) -> Outcome:
        ix = self.jobs.end(poster=poster.pubkey, job=job, market=market, node_token=node_token, payer_token=payer_token)
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
