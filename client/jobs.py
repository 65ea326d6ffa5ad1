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
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import CreateAccountParams, create_account
from solders.sysvar import CLOCK, RENT

from .idl import load_idl, load_idl_json, program_id as idl_program_id
from .layout import market_size
from .pda import vault_address
from .token import TOKEN_PROGRAM_ID

__all__ = ["JobsProgram", "MarketSettings", "JobsErrorCode"]


@dataclass(frozen=True)
class MarketSettings:
    """What a market charges and allows. A job keeps the settings of the moment it was
    posted; the program bounds each one (jobs-interface `state::limits`: max_timeout and
    retention at most 365 days, max_attempts 1..16, max_entries_per_node at least 1)."""

    price_per_second: int
    max_timeout: int
    min_stake: int = 0
    retention: int = 86_400
    max_attempts: int = 3
    # Queue entries one node may hold while waiting (the free-entry sybil bound).
    max_entries_per_node: int = 4

    def args(self) -> list[int]:
        return [self.price_per_second, self.max_timeout, self.min_stake, self.retention, self.max_attempts, self.max_entries_per_node]


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

    def __init__(self, program_id: Pubkey | None = None, provider: Provider | None = None) -> None:
        self.program_id = program_id or idl_program_id("jobs")
        # Building instructions needs no connection; a provider is only used to send.
        provider = provider or Provider(AsyncClient("http://127.0.0.1:8899"), Wallet(Keypair()))
        self.program = Program(load_idl("jobs"), self.program_id, provider)
        self.errors = JobsErrorCode(load_idl_json("jobs"))
        self._events = EventParser(self.program_id, self.program.coder)

    # -- addresses ---------------------------------------------------------------------
    def vault(self, market: Pubkey) -> Pubkey:
        return vault_address(market, self.program_id)[0]

    # -- decoding ----------------------------------------------------------------------
    def decode_market(self, data: bytes) -> Any:
        return self.program.coder.accounts.decode(bytes(data))

    def decode_job(self, data: bytes) -> Any:
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
                        vault=self.vault(market), system_program=SYSTEM_PROGRAM_ID, token_program=TOKEN_PROGRAM_ID, rent=RENT)

    def update_market(self, authority: Pubkey, market: Pubkey, settings: MarketSettings) -> Instruction:
        return self._ix("update_market", settings.args(), authority=authority, market=market)

    def close_market(self, authority: Pubkey, market: Pubkey, authority_token: Pubkey) -> Instruction:
        return self._ix("close_market", [], authority=authority, market=market, vault=self.vault(market),
                        authority_token=authority_token, token_program=TOKEN_PROGRAM_ID)

    # -- jobs --------------------------------------------------------------------------
    def post(self, *, poster: Pubkey, payer: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, definition: bytes, timeout: int,
             max_price_per_second: int) -> Instruction:
        """`max_price_per_second`: the most the payer accepts; the post fails with
        PriceAboveMaximum if the market asks more when it lands."""
        return self._ix("post", [list(_digest(definition)), timeout, max_price_per_second], poster=poster, payer=payer, job=job, market=market,
                        vault=self.vault(market), payer_token=payer_token, system_program=SYSTEM_PROGRAM_ID, token_program=TOKEN_PROGRAM_ID,
                        clock=CLOCK, rent=RENT)

    def cancel(self, *, poster: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, payer: Pubkey) -> Instruction:
        return self._ix("cancel", [], poster=poster, job=job, market=market, vault=self.vault(market),
                        payer_token=payer_token, payer=payer, token_program=TOKEN_PROGRAM_ID)

    def work(self, *, node: Pubkey, market: Pubkey) -> Instruction:
        return self._ix("work", [], node=node, market=market, clock=CLOCK)

    def leave(self, *, node: Pubkey, market: Pubkey, slot: int) -> Instruction:
        return self._ix("leave", [slot], node=node, market=market)

    def finish(self, *, node: Pubkey, job: Pubkey, market: Pubkey, node_token: Pubkey, payer_token: Pubkey, result: bytes) -> Instruction:
        return self._ix("finish", [list(_digest(result))], node=node, job=job, market=market, vault=self.vault(market),
                        node_token=node_token, payer_token=payer_token, token_program=TOKEN_PROGRAM_ID, clock=CLOCK)

    def quit(self, *, node: Pubkey, job: Pubkey, market: Pubkey) -> Instruction:
        return self._ix("quit", [], node=node, job=job, market=market, clock=CLOCK)

    def reclaim(self, *, job: Pubkey, market: Pubkey, payer_token: Pubkey) -> Instruction:
        """`payer_token`: the job's payer's token account, checked on both paths."""
        return self._ix("reclaim", [], job=job, market=market, vault=self.vault(market), payer_token=payer_token, token_program=TOKEN_PROGRAM_ID, clock=CLOCK)

    def extend(self, *, poster: Pubkey, payer: Pubkey, job: Pubkey, market: Pubkey, payer_token: Pubkey, extra: int) -> Instruction:
        return self._ix("extend", [extra], poster=poster, payer=payer, job=job, market=market, vault=self.vault(market),
                        payer_token=payer_token, token_program=TOKEN_PROGRAM_ID)

    def end(self, *, poster: Pubkey, job: Pubkey, market: Pubkey, node_token: Pubkey, payer_token: Pubkey) -> Instruction:
        return self._ix("end", [], poster=poster, job=job, market=market, vault=self.vault(market),
                        node_token=node_token, payer_token=payer_token, token_program=TOKEN_PROGRAM_ID, clock=CLOCK)

    def clean(self, *, job: Pubkey, market: Pubkey, payer: Pubkey) -> Instruction:
        return self._ix("clean", [], job=job, market=market, payer=payer, clock=CLOCK)

    def _ix(self, name: str, args: list, **accounts: Pubkey) -> Instruction:
        return self.program.instruction[name](*args, ctx=Context(accounts=accounts))


def _digest(value: bytes) -> bytes:
    if len(value) != 32:
        raise ValueError(f"a digest is 32 bytes, got {len(value)}: {value!r}")
    return bytes(value)


