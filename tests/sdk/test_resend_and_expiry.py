"""A transaction the cluster loses is sent again until it lands, and one that never lands
fails as TransactionExpired once its blockhash is past lastValidBlockHeight (not after a
fixed wait, and not "it may still land"). The localnet never drops a transaction that can
land (it drops, as agave does, only what skipPreflight let through and cannot land), so a
proxy in front of it (real HTTP) loses sendTransaction requests on purpose."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import TransactionExpired

from .dropping_proxy import DroppingProxy


@pytest.fixture
def proxy_factory(localnet):
    made: list[DroppingProxy] = []

    def make(drop: int) -> DroppingProxy:
        made.append(DroppingProxy(localnet.url, drop))
        return made[-1]

    yield make
    for p in made:
        p.stop()


def send_transfer(url: str, payer: Keypair, to: Keypair, lamports: int):
    async def go():
        async with CrowdClient(url, payer) as crowd:
            ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to.pubkey(), lamports=lamports))
            return await crowd.send([ix], [payer])

    return asyncio.run(go())


def balance(url: str, who: Keypair) -> int:
    async def go():
        async with CrowdClient(url) as crowd:
            return await crowd.balance(who.pubkey())

    return asyncio.run(go())


def test_a_lost_transaction_is_sent_again_and_lands_once(localnet, wallets, proxy_factory):
    proxy = proxy_factory(drop=1)
    payer, to = asyncio.run(wallets.fund()), Keypair()
    send_transfer(proxy.url, payer, to, 5_000_000)
    assert proxy.dropped == 1 and proxy.sends >= 2
    assert balance(localnet.url, to) == 5_000_000


def test_a_transaction_that_never_lands_expires_with_its_blockhash(localnet, wallets, proxy_factory):
    proxy = proxy_factory(drop=-1)
    payer, to = asyncio.run(wallets.fund()), Keypair()
    before = balance(localnet.url, payer)
    with pytest.raises(TransactionExpired, match="expired unconfirmed .* can no longer land"):
        send_transfer(proxy.url, payer, to, 5_000_000)
    assert proxy.sends >= 2  # re-sent while its blockhash was valid
    assert balance(localnet.url, payer) == before and balance(localnet.url, to) == 0
