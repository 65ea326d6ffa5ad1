"""The staking program through anchorpy: instruction builders, account decoding, events
and errors, all driven by the IDL (idl/staking.json), as `jobs.py` is for the jobs program.

Builders return solders `Instruction`s and send nothing, so one code path serves LiteSVM,
a localnet and a real cluster.
"""

from __future__ import annotations

from typing import Any

from anchorpy import Context, EventParser, Program, Provider, Wallet
from anchorpy.program.common import Event
from solana.rpc.async_api import AsyncClient
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.sysvar import CLOCK, RENT

from ..idl import load_idl, load_idl_json, program_id as idl_program_id
from ..jobs.program import JobsErrorCode
from .pda import config_address, rewards_pool_address, stake_address, stake_vault_address
from .settings import DAY, MULTIPLIER_ONE, SLASH_TO_REWARDS_POOL, SLASH_TO_TREASURY, StakingSettings
from ..token import TOKEN_PROGRAM_ID

__all__ = ["StakingProgram", "StakingSettings", "MULTIPLIER_ONE", "SLASH_TO_REWARDS_POOL", "SLASH_TO_TREASURY", "DAY"]

class StakingProgram:
    """anchorpy's Program for the staking program, plus the accounts each instruction needs."""

    def __init__(self, program_id: Pubkey | None = None, provider: Provider | None = None) -> None:
        self.program_id = program_id or idl_program_id("staking")
        provider = provider or Provider(AsyncClient("http://127.0.0.1:8899"), Wallet(Keypair()))
        self.program = Program(load_idl("staking"), self.program_id, provider)
        self.errors = JobsErrorCode(load_idl_json("staking"))
        self._events = EventParser(self.program_id, self.program.coder)

    # -- addresses ---------------------------------------------------------------------
    def config(self, authority: Pubkey, mint: Pubkey) -> Pubkey:
        return config_address(authority, mint, self.program_id)[0]

    def vault(self, config: Pubkey) -> Pubkey:
        return stake_vault_address(config, self.program_id)[0]

    def rewards_pool(self, config: Pubkey) -> Pubkey:
        return rewards_pool_address(config, self.program_id)[0]

    def stake(self, config: Pubkey, owner: Pubkey) -> Pubkey:
        return stake_address(config, owner, self.program_id)[0]

    # -- decoding ----------------------------------------------------------------------
    def decode(self, data: bytes) -> Any:
        """A Config or a Stake, by its discriminator."""
        return self.program.coder.accounts.decode(bytes(data))

    def slash_destination(self, config: Pubkey, state: Any) -> Pubkey:
        """Where the config (decoded `state`) sends slashes: its rewards pool or its treasury."""
        return self.rewards_pool(config) if type(state.slash_to).__name__ == "RewardsPool" else state.treasury

    def events(self, logs: list[str]) -> list[Event]:
        found: list[Event] = []
        self._events.parse_logs(logs, found.append)
        return found

    # -- instructions ------------------------------------------------------------------
    def init(self, *, authority: Pubkey, mint: Pubkey, treasury: Pubkey, settings: StakingSettings) -> Instruction:
        config = self.config(authority, mint)
        args = [settings.min_duration, settings.max_duration, settings.min_multiplier, settings.max_multiplier, settings.slash_to, settings.slasher_program]
        return self._ix("init", args, authority=authority, config=config, mint=mint, vault=self.vault(config), rewards_pool=self.rewards_pool(config),
                        treasury=treasury, system_program=SYSTEM_PROGRAM_ID, token_program=TOKEN_PROGRAM_ID, rent=RENT)

    def update_config(self, *, authority: Pubkey, config: Pubkey, treasury: Pubkey, slash_to: int, slasher_program: Pubkey) -> Instruction:
        return self._ix("update_config", [slash_to, slasher_program], authority=authority, config=config, treasury=treasury)

    def stake_ix(self, *, owner: Pubkey, config: Pubkey, owner_token: Pubkey, amount: int, duration: int) -> Instruction:
        return self._ix("stake", [amount, duration], owner=owner, config=config, stake=self.stake(config, owner), owner_token=owner_token,
                        vault=self.vault(config), system_program=SYSTEM_PROGRAM_ID, token_program=TOKEN_PROGRAM_ID, rent=RENT)

    def topup(self, *, owner: Pubkey, config: Pubkey, owner_token: Pubkey, amount: int) -> Instruction:
        return self._ix("topup", [amount], owner=owner, config=config, stake=self.stake(config, owner), owner_token=owner_token,
                        vault=self.vault(config), token_program=TOKEN_PROGRAM_ID)

    def extend(self, *, owner: Pubkey, config: Pubkey, duration: int) -> Instruction:
        return self._ix("extend", [duration], owner=owner, config=config, stake=self.stake(config, owner))

    def unstake(self, *, owner: Pubkey, config: Pubkey) -> Instruction:
        return self._ix("unstake", [], owner=owner, config=config, stake=self.stake(config, owner), clock=CLOCK)

    def withdraw(self, *, owner: Pubkey, config: Pubkey, owner_token: Pubkey) -> Instruction:
        return self._ix("withdraw", [], owner=owner, config=config, stake=self.stake(config, owner), owner_token=owner_token,
                        vault=self.vault(config), token_program=TOKEN_PROGRAM_ID, clock=CLOCK)

    def restake(self, *, owner: Pubkey, config: Pubkey) -> Instruction:
        return self._ix("restake", [], owner=owner, config=config, stake=self.stake(config, owner))

    def close(self, *, owner: Pubkey, config: Pubkey) -> Instruction:
        return self._ix("close", [], owner=owner, config=config, stake=self.stake(config, owner))

    def slash(self, *, slasher: Pubkey, config: Pubkey, stake: Pubkey, destination: Pubkey, amount: int, bounty: int = 0,
              bounty_to: Pubkey | None = None) -> Instruction:
        """`destination`: the rewards pool or the treasury, as the config's `slash_to` says.
        `bounty` (at most `amount`) of the slashed tokens go to `bounty_to`, a token account
        of the mint (by default `destination`, which only a zero bounty may use when it is
        the rewards pool)."""
        return self._ix("slash", [amount, bounty], slasher=slasher, config=config, stake=stake, vault=self.vault(config),
                        destination=destination, bounty_to=bounty_to or destination, token_program=TOKEN_PROGRAM_ID)

    def deposit_fees(self, *, depositor: Pubkey, config: Pubkey, depositor_token: Pubkey, amount: int) -> Instruction:
        return self._ix("deposit_fees", [amount], depositor=depositor, config=config, depositor_token=depositor_token,
                        rewards_pool=self.rewards_pool(config), token_program=TOKEN_PROGRAM_ID)

    def claim(self, *, owner: Pubkey, config: Pubkey, owner_token: Pubkey) -> Instruction:
        return self._ix("claim", [], owner=owner, config=config, stake=self.stake(config, owner), owner_token=owner_token,
                        rewards_pool=self.rewards_pool(config), token_program=TOKEN_PROGRAM_ID)

    def lock(self, *, locker: Pubkey, config: Pubkey, stake: Pubkey, amount: int) -> Instruction:
        """The config's slasher program makes `stake` back one more obligation of `amount`
        (`locker`, its PDA ["slasher"], signs by CPI: the jobs program does this in `work`)."""
        return self._ix("lock", [amount], locker=locker, config=config, stake=stake)

    def unlock(self, *, locker: Pubkey, stake: Pubkey, amount: int) -> Instruction:
        """The stake's locker releases `amount` of what it backs (by CPI, as `lock`)."""
        return self._ix("unlock", [amount], locker=locker, stake=stake)

    def sweep(self, *, config: Pubkey, treasury: Pubkey) -> Instruction:
        """Sends the rewards no stake owns (paid while no stake had weight) to the treasury."""
        return self._ix("sweep", [], config=config, rewards_pool=self.rewards_pool(config), treasury=treasury, token_program=TOKEN_PROGRAM_ID)

    def _ix(self, name: str, args: list, **accounts: Pubkey) -> Instruction:
        return self.program.instruction[name](*args, ctx=Context(accounts=accounts))
