"""The jobs program through anchorpy's Program over the checked-in IDL, sent through the
localnet's RPC: open a market, post a job, read both accounts back."""

from __future__ import annotations

import hashlib
import json

import pytest
from anchorpy import Context, Program, Provider, Wallet
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.types import TxOpts
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import CreateAccountParams, create_account
from solders.sysvar import CLOCK, RENT
from solders.transaction import Transaction

from crowdcompute.client import JobsProgram, MarketSettings
from crowdcompute.client.idl import load_idl
from crowdcompute.client.jobs.layout import market_size
from crowdcompute.localnet.runtime.svm import repo_root
from crowdcompute.common.token import (
    MINT_LEN,
    TOKEN_PROGRAM_ID,
    associated_token_address,
    create_associated_token_account,
    create_mint_instructions,
    mint_to_instruction,
)


async def _send(client: AsyncClient, ixs, signers):
    blockhash = (await client.get_latest_blockhash(Confirmed)).value.blockhash
    tx = Transaction(signers, Message.new_with_blockhash(ixs, signers[0].pubkey(), blockhash), blockhash)
    return (await client.send_raw_transaction(bytes(tx), TxOpts(preflight_commitment=Confirmed))).value


async def _funded_program(client: AsyncClient, jobs: JobsProgram) -> tuple[Keypair, Program, Keypair, Pubkey]:
    """A funded authority, anchorpy's Program over the jobs IDL with it as the wallet, a
    payment mint and the authority's token account holding 1,000,000 base units (the plain
    clients make them)."""
    authority = Keypair()
    await client.confirm_transaction((await client.request_airdrop(authority.pubkey(), 100 * 10**9)).value, Confirmed, sleep_seconds=0.05)
    program = Program(load_idl("jobs"), jobs.program_id, Provider(client, Wallet(authority), TxOpts(preflight_commitment=Confirmed)))
    mint = Keypair()
    rent = (await client.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
    await _send(client, create_mint_instructions(authority.pubkey(), mint.pubkey(), authority.pubkey(), decimals=6, lamports=rent), [authority, mint])
    token = associated_token_address(authority.pubkey(), mint.pubkey())
    await _send(client, [create_associated_token_account(authority.pubkey(), authority.pubkey(), mint.pubkey()),
                         mint_to_instruction(mint.pubkey(), token, authority.pubkey(), 1_000_000)], [authority])
    return authority, program, mint, token


@pytest.mark.asyncio
async def test_open_market_and_post_job(server):
    jobs = JobsProgram()
    async with AsyncClient(server.url, commitment=Confirmed) as client:
        authority, program, mint, poster_token = await _funded_program(client, jobs)

        # open_market through anchorpy's rpc namespace
        settings = MarketSettings(price_per_second=10, max_timeout=3600, min_stake=0, retention=60, max_attempts=2)
        market = Keypair()
        lamports = (await client.get_minimum_balance_for_rent_exemption(market_size(8))).value
        create = jobs.create_market_account(authority.pubkey(), market.pubkey(), capacity=8, lamports=lamports)
        vault = jobs.vault(market.pubkey())

        # Optional accounts (the staking ones; this market has no staking) are passed as the
        # program's own id, as Anchor's convention has it (anchorpy 0.21 asks for every account).
        absent = jobs.program_id
        sig = await program.rpc["open_market"](*settings.args(), ctx=Context(
            accounts={"authority": authority.pubkey(), "market": market.pubkey(), "mint": mint.pubkey(), "vault": vault,
                      "system_program": SYSTEM_PROGRAM_ID, "token_program": TOKEN_PROGRAM_ID, "rent": RENT, "staking_config": absent},
            signers=[market], pre_instructions=[create]))
        status = (await client.get_signature_statuses([sig])).value[0]
        assert status is not None and status.err is None

        state = await program.account["Market"].fetch(market.pubkey())
        assert state.authority == authority.pubkey() and state.mint == mint.pubkey() and state.price_per_second == 10

        # post a job at the price and network fee the payer accepts (its maximums: what it
        # read above); escrow moves price * timeout into the vault
        job = Keypair()
        definition = hashlib.sha256(b"job one").digest()
        sig = await program.rpc["post"](list(definition), 600, state.price_per_second, state.fee_bps, ctx=Context(
            accounts={"poster": authority.pubkey(), "payer": authority.pubkey(), "job": job.pubkey(), "market": market.pubkey(),
                      "vault": vault, "payer_token": poster_token, "system_program": SYSTEM_PROGRAM_ID,
                      "token_program": TOKEN_PROGRAM_ID, "clock": CLOCK, "rent": RENT,
                      "staking_program": absent, "staking_config": absent, "rewards_pool": absent},
            signers=[job]))
        tx = (await client.get_transaction(sig, commitment=Confirmed)).value
        assert tx.transaction.meta.err is None
        events = jobs.events(tx.transaction.meta.log_messages)
        assert events, tx.transaction.meta.log_messages
        record = await program.account["Job"].fetch(job.pubkey())
        assert record.market == market.pubkey() and bytes(record.definition) == definition
        # the job keeps the terms it was posted under
        assert (record.price_per_second, record.max_timeout, record.retention, record.max_attempts) == (10, 3600, 60, 2)
        assert (await client.get_token_account_balance(vault, Confirmed)).value.amount == str(10 * 600)
        assert (await client.get_token_account_balance(poster_token, Confirmed)).value.amount == str(1_000_000 - 6000)

        # anchorpy's all(): getProgramAccounts with a discriminator memcmp, served by the index
        jobs_found = await program.account["Job"].all()
        assert job.pubkey() in [j.public_key for j in jobs_found]
        markets = await program.account["Market"].all()
        assert market.pubkey() in [m.public_key for m in markets]


# What differs between two identical runs: the cluster's time, and the vault's bump (a
# PDA of each market's own address).
_RUN_DEPENDENT = {"started_at", "since", "posted_at", "closed_at", "vault_bump"}


def _plain(value, names: dict):
    """An event's or account's decoded value with the given keys renamed and what differs
    between two identical runs left out (the two runs compared)."""
    if isinstance(value, Pubkey):
        return names.get(value, value)
    if isinstance(value, (list, tuple)):
        return [_plain(item, names) for item in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {key: _plain(item, names) for key, item in vars(value).items()
                if not key.startswith("_") and key not in _RUN_DEPENDENT}
    return value


@pytest.mark.asyncio
async def test_anchorpy_with_the_placeholder_for_optional_accounts_does_what_the_sdk_does(server):
    """anchorpy ignores `isOptional` and wants every account: the IDL's docs say to pass the
    program's id for an absent one. Two identical markets, one driven by anchorpy's Program
    with that placeholder, one by the SDK (which leaves trailing absent accounts off): a node
    works and a job is posted without a fee in each; the events and markets are the same."""
    jobs = JobsProgram()
    sizes = {c["name"]: int(c["value"]) for c in json.loads((repo_root() / "idl" / "jobs.spec.json").read_text())["constants"]}
    async with AsyncClient(server.url, commitment=Confirmed) as client:
        authority, program, mint, token = await _funded_program(client, jobs)

        # two markets without staking, sized from the IDL's constants
        settings = MarketSettings(price_per_second=10, max_timeout=3600, min_stake=0, retention=60, max_attempts=2)
        space = sizes["MARKET_HEADER_SIZE"] + 4 * sizes["QUEUE_ENTRY_SIZE"]
        lamports = (await client.get_minimum_balance_for_rent_exemption(space)).value
        markets = [Keypair(), Keypair()]
        for market in markets:
            create = create_account(CreateAccountParams(from_pubkey=authority.pubkey(), to_pubkey=market.pubkey(), lamports=lamports,
                                                        space=space, owner=jobs.program_id))
            await _send(client, [create, jobs.open_market(authority.pubkey(), market.pubkey(), mint.pubkey(), settings)], [authority, market])
        nodes = [Keypair(), Keypair()]
        jobs_posted = [Keypair(), Keypair()]
        absent = jobs.program_id
        definition = hashlib.sha256(b"same job").digest()

        async def events_of(signature) -> list:
            tx = (await client.get_transaction(signature, commitment=Confirmed)).value
            assert tx.transaction.meta.err is None, tx.transaction.meta.log_messages
            return jobs.events(tx.transaction.meta.log_messages)

        # anchorpy, every optional account the placeholder
        anchor_events = []
        work = program.instruction["work"](ctx=Context(accounts={
            "node": nodes[0].pubkey(), "market": markets[0].pubkey(), "clock": CLOCK,
            "stake": absent, "staking_program": absent, "staking_config": absent, "slasher": absent}))
        assert [meta.pubkey for meta in work.accounts][3:] == [absent] * 4
        anchor_events += await events_of(await _send(client, [work], [authority, nodes[0]]))
        anchor_events += await events_of(await program.rpc["post"](list(definition), 600, 10, 0, ctx=Context(accounts={
            "poster": authority.pubkey(), "payer": authority.pubkey(), "job": jobs_posted[0].pubkey(), "market": markets[0].pubkey(),
            "vault": jobs.vault(markets[0].pubkey()), "payer_token": token, "system_program": SYSTEM_PROGRAM_ID,
            "token_program": TOKEN_PROGRAM_ID, "clock": CLOCK, "rent": RENT,
            "staking_program": absent, "staking_config": absent, "rewards_pool": absent}, signers=[jobs_posted[0]])))

        # the SDK
        sdk_events = await events_of(await _send(client, [jobs.work(node=nodes[1].pubkey(), market=markets[1].pubkey())], [authority, nodes[1]]))
        sdk_events += await events_of(await _send(client, [jobs.post(
            poster=authority.pubkey(), payer=authority.pubkey(), job=jobs_posted[1].pubkey(), market=markets[1].pubkey(), payer_token=token,
            definition=definition, timeout=600, max_price_per_second=10, max_fee_bps=0)], [authority, jobs_posted[1]]))

        def names(i: int) -> dict:
            return {markets[i].pubkey(): "market", nodes[i].pubkey(): "node", jobs_posted[i].pubkey(): "job",
                    jobs.vault(markets[i].pubkey()): "vault"}

        assert [event.name for event in anchor_events] == [event.name for event in sdk_events] == ["NodeQueued", "JobPosted", "JobMatched"]
        assert [_plain(e.data, names(0)) for e in anchor_events] == [_plain(e.data, names(1)) for e in sdk_events]
        states = [await program.account["Market"].fetch(market.pubkey()) for market in markets]
        assert _plain(states[0], names(0)) == _plain(states[1], names(1))
        jobs_state = [await program.account["Job"].fetch(job.pubkey()) for job in jobs_posted]
        assert _plain(jobs_state[0], names(0)) == _plain(jobs_state[1], names(1))
