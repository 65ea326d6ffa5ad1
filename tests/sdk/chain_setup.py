"""Setting up the chain for the SDK tests through the SDK and the standard RPC: a payment
mint (SPL Token instructions), wallets funded by the faucet (requestAirdrop), markets, and a
staking config of the mint for markets with staking."""

from __future__ import annotations

from dataclasses import dataclass, replace

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client import MarketSettings
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.staking.settings import StakingSettings
from crowdcompute.common.token import (
    MINT_LEN,
    associated_token_address,
    create_associated_token_account,
    create_mint_instructions,
    mint_to_instruction,
)

SOL = 1_000_000_000


@dataclass
class Wallets:
    url: str
    mint_authority: Keypair
    mint: Pubkey

    @classmethod
    async def create(cls, url: str) -> Wallets:
        authority = Keypair()
        mint = Keypair()
        async with CrowdClient(url, authority) as crowd:
            await crowd.airdrop(100 * SOL)
            rent = await crowd.chain.rent_exempt(MINT_LEN)
            await crowd.send(create_mint_instructions(authority.pubkey(), mint.pubkey(), authority.pubkey(), decimals=6, lamports=rent), [authority, mint])
        return cls(url, authority, mint.pubkey())

    async def fund(self, *, sol: int = 10 * SOL, tokens: int = 0, keypair: Keypair | None = None) -> Keypair:
        keypair = keypair or Keypair()
        owner = keypair.pubkey()
        async with CrowdClient(self.url, self.mint_authority) as crowd:
            if sol:
                await crowd.airdrop(sol, owner)
            ixs = [create_associated_token_account(self.mint_authority.pubkey(), owner, self.mint)]
            if tokens:
                ixs.append(mint_to_instruction(self.mint, associated_token_address(owner, self.mint), self.mint_authority.pubkey(), tokens))
            await crowd.send(ixs, [self.mint_authority])
        return keypair

    async def market(self, settings: MarketSettings, *, capacity: int = 16) -> tuple[Pubkey, Keypair]:
        authority = await self.fund()
        async with CrowdClient(self.url, authority) as crowd:
            return await crowd.open_market(self.mint, settings, capacity=capacity), authority

    async def staked_market(self, settings: MarketSettings, staking: StakingSettings | None = None, *,
                            capacity: int = 16) -> tuple[Pubkey, Keypair, Pubkey]:
        """A market whose nodes stake: its authority creates a staking config for the mint
        (crowd.stakes.init_config), then opens the market naming it. Returns (market, authority, config);
        the config is the one crowd.stakes.config_for_market resolves for the market."""
        authority = await self.fund()
        async with CrowdClient(self.url, authority) as crowd:
            config = await crowd.stakes.init_config(self.mint, settings=staking)
            settings = replace(settings, staking_config=config)
            market = await crowd.open_market(self.mint, settings, capacity=capacity)
            assert await crowd.stakes.config_for_market(market) == config
        return market, authority, config

    async def staking_config(self) -> Pubkey:
        """A staking config of the mint (the default curve; the jobs program may slash)."""
        authority = await self.fund()
        async with CrowdClient(self.url, authority) as crowd:
            return await crowd.stakes.init_config(self.mint)
