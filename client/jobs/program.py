"""The jobs program through anchorpy: instruction builders, account decoding, events and
errors, all driven by the IDL (idl/jobs.json).

Builders return solders `Instruction`s and send nothing, so one code path serves LiteSVM,
a localnet and a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anchorpy import Context, EventParser, Program, Provider, Wallet
from anchorpy.program.common import Event
from solana.rpc.async_api import AsyncClient
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import CreateAccountParams, create_account
from solders.sysvar import CLOCK, RENT

from ..idl import load_idl, load_idl_json, program_id as idl_program_id
from .layout import market_size
from .pda import node_profile_address, vault_address
from ..staking.pda import rewards_pool_address, slasher_address, stake_address, stake_vault_address
from ..token import TOKEN_PROGRAM_ID

__all__ = ["JobsProgram", "MarketSettings", "Bond", "QuitSlash", "ReclaimSlash", "JobsErrorCode", "network_fee", "reclaim_bounty"]


@dataclass(frozen=True)
class MarketSettings:
    """What a market charges and allows. A job keeps the settings of the moment it was
    posted; the program bounds each one (jobs-interface `state::limits`: max_timeout and
    retention at most 365 days, max_attempts 1..16, max_entries_per_node at least 1,
    reclaim_bounty_bps at most 10,000, fee_bps at most 1,000).

    Staking: `staking_config` (a config of the staking program, of the market's mint) is
    named when the market opens and never changes; a minimum stake (weight), a slash penalty
    or a network fee needs one. The slash penalty is fixed when the market opens too (its
    config must name the jobs program as its slasher): every job a node runs and every entry
    it waits at locks that much of its stake until it ends."""

    price_per_second: int
    max_timeout: int
    # Stake weight a node needs to work here (0: none).
    min_stake: int = 0
    retention: int = 86_400
    max_attempts: int = 3
    # Queue entries one node may hold while waiting (the free-entry sybil bound).
    max_entries_per_node: int = 4
    # Base units slashed from a silent node's stake on each reclaim (0: none).
    slash_penalty: int = 0
    # Share of each slash paid to reclaim's caller, in basis points.
    reclaim_bounty_bps: int = 0
    # Network fee on every deposit, in basis points, to the staking config's rewards pool.
    fee_bps: int = 0
    staking_config: Pubkey = Pubkey.default()

    def args(self) -> list[Any]:
        return [self.price_per_second, self.max_timeout, self.min_stake, self.retention, self.max_attempts, self.max_entries_per_node,
                self.slash_penalty, self.reclaim_bounty_bps, self.fee_bps, self.staking_config]

    @property
    def has_staking(self) -> bool:
        return self.staking_config != Pubkey.default()


@dataclass(frozen=True)
class Bond:
    """The stake that backs a node's job or waiting entry in a market with a slash penalty
    (the market's staking config and the node): `work` locks the penalty on it, and every
    instruction that ends the job or the entry (finish, end, leave, quit, reclaim) releases
    it, so each of those passes the node's stake and the jobs program's slasher PDA."""

    config: Pubkey
    node: Pubkey


@dataclass(frozen=True)
class QuitSlash:
    """What quit needs in a market with a slash penalty: the node's stake (its lock is
    released), and, for a quit at or past the deadline (slashed as a reclaim, no bounty),
    where the config sends slashes (its rewards pool or its treasury, as its `slash_to`
    says). A node cannot know which side of the deadline its quit lands, so it passes all."""

    config: Pubkey
    node: Pubkey
    destination: Pubkey


@dataclass(frozen=True)
class ReclaimSlash:
    """What reclaim needs to slash a silent node (markets with a slash penalty): the
    market's staking config, the node, where the config sends slashes (its rewards pool or
    its treasury, as its `slash_to` says) and the token account that takes the bounty."""

    config: Pubkey
    node: Pubkey
    destination: Pubkey
    bounty_to: Pubkey


class JobsErrorCode:
    """Error names by code and codes by name, from the IDL."""

    def __init__(self, idl_json: dict) -> None:
        self.by_code = {error["code"]: error for error in idl_json["errors"]}
        self.by_name = {error["name"]: error["code"] for error in idl_json["errors"]}

    def __getitem__(self, name: str) -> int:
        return self.by_name[name]

    def name(self, code: int | None) -> str | None:
        error = self.by_code.get(code) if code is not None else None
        return error["name"] if error else None


class JobsProgram:
    """anchorpy's Program for the jobs program, plus the accounts each instruction needs."""

    def __init__(self, program_id: Pubkey | None = None, provider: Provider | None = None, *, staking_program_id: Pubkey | None = None) -> None:
        self.program_id = program_id or idl_program_id("jobs")
        # The staking program the jobs program trusts (a constant in the program).
        self.staking_program_id = staking_program_id or idl_program_id("staking")
        # Building instructions needs no connection; a provider is only used to send.
        provider = provider or Provider(AsyncClient("http://127.0.0.1:8899"), Wallet(Keypair()))
        self.program = Program(load_idl("jobs"), self.program_id, provider)
        idl_json = load_idl_json("jobs")
        self.errors = JobsErrorCode(idl_json)
        # Optional accounts by instruction (snake_case names), from the IDL's isOptional.
        self._optional = {_snake(i["name"]): [_snake(a["name"]) for a in i["accounts"] if a.get("isOptional")] for i in idl_json["instructions"]}
        self._events = EventParser(self.program_id, self.program.coder)

    # -- addresses ---------------------------------------------------------------------
    def vault(self, market: Pubkey) -> Pubkey:
        return vault_address(market, self.program_id)[0]

    @property
    def slasher(self) -> Pubkey:
        """This program's PDA ["slasher"]: a staking config that names the jobs program as
        its slasher program lets it slash silent nodes."""
        return slasher_address(self.program_id)[0]

    def node_profile(self, node: Pubkey) -> Pubkey:
        """A node's profile: PDA ["node_profile", node] (its public URL, its hardware digest)."""
        return node_profile_address(node, self.program_id)[0]

    def stake(self, config: Pubkey, node: Pubkey) -> Pubkey:
        """A node's stake under `config`: PDA ["stake", config, node] of the staking program."""
        return stake_address(config, node, self.staking_program_id)[0]

    # -- decoding ----------------------------------------------------------------------
    def decode_market(self, data: bytes) -> Any:
        return self.program.coder.accounts.decode(bytes(data))

    def decode_job(self, data: bytes) -> Any:
        return self.program.coder.accounts.decode(bytes(data))

    def decode_node_profile(self, data: bytes) -> Any:
        return self.program.coder.accounts.decode(bytes(data))

    def events(self, logs: list[str]) -> list[Event]:
        found: list[Event] = []
        self._events.parse_logs(logs, found.append)
        return found

    # -- market ------------------------------------------------------------------------
    def create_market_account(self, authority: Pubkey, market: Pubkey, *, capacity: int, lamports: int) -> Instruction:
        """System create_account of the market (owner = this program); `market` signs."""
        return create_account(
            CreateAccountParams(from_pubkey=authority, to_pubkey=market, lamports=lamports, space=market_size(capacity), owner=self.program_id)
        )

    def open_market(self, authority: Pubkey, market: Pubkey, mint: Pubkey, settings: MarketSettings) -> Instruction:
        return self._ix("open_market", settings.args(), authority=authority, market=market, mint=mint,
                        vault=self.vault(market), system_program=SYSTEM_PROGRAM_ID, token_program=TOKEN_PROGRAM_ID, rent=RENT,
                        staking_config=settings.staking_config if settings.has_staking else None)

    def update_market(self, authority: Pubkey, market: Pubkey, settings: MarketSettings) -> Instruction:
        """`settings.staking_config` must be the market's (it never changes)."""
        return self._ix("update_market", settings.args(), authority=authority, market=market)

    def close_market(self, authority: Pubkey, market: Pubkey, authority_token: Pubkey) -> Instruction:
        return self._ix("close_market", [], authority=authority, market=market, vault=self.vault(market),
                        authority_token=authority_token, token_program=TOKEN_PROGRAM_ID)

    # -- jobs --------------------------------------------------------------------------
    def post(self, *, poster: Pubkey, payer: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, definition: bytes, timeout: int,
             max_price_per_second: int, max_fee_bps: int, fee_config: Pubkey | None = None) -> Instruction:
        """`max_price_per_second`, `max_fee_bps`: the most the payer accepts; the post fails
        with PriceAboveMaximum or FeeAboveMaximum if the market asks more when it lands.
        `fee_config`: the market's staking config when it charges a network fee (its
        rewards pool takes the fee)."""
        return self._ix("post", [list(_digest(definition)), timeout, max_price_per_second, max_fee_bps], poster=poster, payer=payer, job=job,
                        market=market, vault=self.vault(market), payer_token=payer_token, system_program=SYSTEM_PROGRAM_ID,
                        token_program=TOKEN_PROGRAM_ID, clock=CLOCK, rent=RENT, **self._fee_accounts(fee_config))

    def cancel(self, *, poster: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, payer: Pubkey) -> Instruction:
        return self._ix("cancel", [], poster=poster, job=job, market=market, vault=self.vault(market),
                        payer_token=payer_token, payer=payer, token_program=TOKEN_PROGRAM_ID)

    def work(self, *, node: Pubkey, market: Pubkey, stake_config: Pubkey | None = None, bond_config: Pubkey | None = None) -> Instruction:
        """`stake_config`: the market's staking config when it asks a minimum stake (the
        node's stake under it is passed). `bond_config`: the same when it has a slash
        penalty (the stake, the staking program, the config and the slasher PDA: the
        penalty is locked on the stake)."""
        config = stake_config or bond_config
        accounts: dict[str, Pubkey | None] = dict(stake=self.stake(config, node) if config else None)
        if bond_config is not None:
            accounts.update(staking_program=self.staking_program_id, staking_config=bond_config, slasher=self.slasher)
        return self._ix("work", [], node=node, market=market, clock=CLOCK, **accounts)

    def leave(self, *, node: Pubkey, market: Pubkey, slot: int, bond: Bond | None = None) -> Instruction:
        """`node`: the waiting node, or the market authority removing it while the market
        is Closing. `bond`: the waiting node's, in a market with a slash penalty."""
        return self._ix("leave", [slot], node=node, market=market, **self._bond_accounts(bond))

    def finish(self, *, node: Pubkey, job: Pubkey, market: Pubkey, node_token: Pubkey, payer_token: Pubkey, result: bytes,
               bond: Bond | None = None) -> Instruction:
        return self._ix("finish", [list(_digest(result))], node=node, job=job, market=market, vault=self.vault(market),
                        node_token=node_token, payer_token=payer_token, token_program=TOKEN_PROGRAM_ID, clock=CLOCK,
                        **self._bond_accounts(bond))

    def quit(self, *, node: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, slash: QuitSlash | None = None) -> Instruction:
        """`payer_token`: the job's payer's token account (the refund when this give-up is
        the job's last attempt). `slash`: in a market with a slash penalty."""
        staking: dict[str, Pubkey | None] = {}
        if slash is not None:
            staking = dict(staking_program=self.staking_program_id, staking_config=slash.config, stake=self.stake(slash.config, slash.node),
                           stake_vault=stake_vault_address(slash.config, self.staking_program_id)[0], slash_destination=slash.destination,
                           slasher=self.slasher)
        return self._ix("quit", [], node=node, job=job, market=market, vault=self.vault(market), payer_token=payer_token,
                        token_program=TOKEN_PROGRAM_ID, clock=CLOCK, **staking)

    def reclaim(self, *, job: Pubkey, market: Pubkey, payer_token: Pubkey, slash: ReclaimSlash | None = None) -> Instruction:
        """`payer_token`: the job's payer's token account, checked on both paths. `slash`:
        the accounts of the silent node's slash, for a job with a slash penalty."""
        staking: dict[str, Pubkey | None] = {}
        if slash is not None:
            staking = dict(staking_program=self.staking_program_id, staking_config=slash.config, stake=self.stake(slash.config, slash.node),
                           stake_vault=stake_vault_address(slash.config, self.staking_program_id)[0], slash_destination=slash.destination,
                           bounty_to=slash.bounty_to, slasher=self.slasher)
        return self._ix("reclaim", [], job=job, market=market, vault=self.vault(market), payer_token=payer_token, token_program=TOKEN_PROGRAM_ID,
                        clock=CLOCK, **staking)

    def extend(self, *, poster: Pubkey, payer: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, extra: int,
               fee_config: Pubkey | None = None) -> Instruction:
        """`fee_config`: the market's staking config when the job pays a network fee."""
        return self._ix("extend", [extra], poster=poster, payer=payer, job=job, market=market, vault=self.vault(market),
                        payer_token=payer_token, token_program=TOKEN_PROGRAM_ID, **self._fee_accounts(fee_config))

    def end(self, *, poster: Pubkey, job: Pubkey, market: Pubkey, node_token: Pubkey, payer_token: Pubkey,
            bond: Bond | None = None) -> Instruction:
        """`bond`: the running node's, in a market with a slash penalty."""
        return self._ix("end", [], poster=poster, job=job, market=market, vault=self.vault(market),
                        node_token=node_token, payer_token=payer_token, token_program=TOKEN_PROGRAM_ID, clock=CLOCK,
                        **self._bond_accounts(bond))

    def attach_result(self, *, node: Pubkey, job: Pubkey, result: bytes) -> Instruction:
        return self._ix("attach_result", [list(_digest(result))], node=node, job=job)

    def clean(self, *, job: Pubkey, market: Pubkey, payer: Pubkey) -> Instruction:
        return self._ix("clean", [], job=job, market=market, payer=payer, clock=CLOCK)

    # -- node profiles -----------------------------------------------------------------
    def set_node_profile(self, *, node: Pubkey, payer: Pubkey, url_len: int, url: bytes, hardware: bytes) -> Instruction:
        """The node's profile, as given: `url` zero-padded to MAX_URL_LEN bytes, `url_len` of
        them in use (`profile.encode_url` makes both from a string and checks the program's
        rule first; this builder sends whatever it is given, so tests can try bad ones)."""
        return self._ix("set_node_profile", [url_len, list(url), list(_digest(hardware))], node=node, payer=payer,
                        profile=self.node_profile(node), system_program=SYSTEM_PROGRAM_ID, clock=CLOCK, rent=RENT)

    def close_node_profile(self, *, node: Pubkey, receiver: Pubkey, profile: Pubkey | None = None) -> Instruction:
        """`profile`: the node's own unless given (tests pass another's)."""
        return self._ix("close_node_profile", [], node=node, profile=profile or self.node_profile(node), receiver=receiver)

    def _bond_accounts(self, bond: Bond | None) -> dict[str, Pubkey | None]:
        if bond is None:
            return {}
        return dict(staking_program=self.staking_program_id, stake=self.stake(bond.config, bond.node), slasher=self.slasher)

    def _fee_accounts(self, config: Pubkey | None) -> dict[str, Pubkey | None]:
        if config is None:
            return {}
        return dict(staking_program=self.staking_program_id, staking_config=config,
                    rewards_pool=rewards_pool_address(config, self.staking_program_id)[0])

    def _ix(self, name: str, args: list, **accounts: Pubkey | None) -> Instruction:
        """The instruction. An optional account left out (or None) is absent: passed as
        this program's id, read-only, as Anchor's clients do, when an account after it is
        present; left off the end of the list otherwise (the program reads both as absent,
        as Anchor's own account parsing does, and a placeholder costs it about ten compute
        units to deserialize, on every post and work of a market without staking)."""
        optional = self._optional[name]
        for account in optional:
            if accounts.get(account) is None:
                accounts[account] = self.program_id
        ix = self.program.instruction[name](*args, ctx=Context(accounts=accounts))
        metas = [AccountMeta(meta.pubkey, False, False) if meta.pubkey == self.program_id else meta for meta in ix.accounts]
        required = len(metas) - len(optional)
        while len(metas) > required and metas[-1].pubkey == self.program_id:
            metas.pop()
        return Instruction(ix.program_id, ix.data, metas)


def network_fee(deposit: int, fee_bps: int) -> int:
    """The network fee on a deposit, as the program computes it (jobs-interface `fees`):
    ceil(deposit x fee_bps / 10,000), in the network's favour."""
    return -(-deposit * fee_bps // 10_000)


def reclaim_bounty(slashed: int, bounty_bps: int) -> int:
    """A reclaim's bounty out of a slash, as the program computes it: rounded down."""
    return slashed * bounty_bps // 10_000


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _digest(value: bytes) -> bytes:
    if len(value) != 32:
        raise ValueError(f"a digest is 32 bytes, got {len(value)}: {value!r}")
    return bytes(value)


