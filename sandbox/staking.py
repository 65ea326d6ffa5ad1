"""A ready staking config in an in-process chain: a mint, funded actors, and one call per
staking-program instruction that signs and sends it (the staking counterpart of
`sandbox.py`, for the tests and the benchmarks)."""

from __future__ import annotations

from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from crowdcompute.client.staking.program import StakingProgram, StakingSettings
from crowdcompute.client.staking.pda import slasher_address
from . import Actor, Sandbox
from crowdcompute.localnet.runtime.svm import SvmChain, Outcome, deploy_dir

__all__ = ["StakingSandbox", "SLASH_PROBE_ID", "IMPOSTOR_PROBE_ID"]

# The test-only slash-probe program, loaded twice: once as a config's slasher program, once
# as another program that tries the same.
SLASH_PROBE_ID = Pubkey.from_string("S1asherProbe1111111111111111111111111111111")
IMPOSTOR_PROBE_ID = Pubkey.from_string("ForgerProbe11111111111111111111111111111111")


class StakingSandbox(Sandbox):
    """A chain with the jobs and staking programs (and the slash probes), one mint, and a
    staking config on it made by `init`."""

    def __init__(self, staking: StakingProgram | None = None, *, decimals: int = 6) -> None:
        self.staking = staking or StakingProgram()
        from crowdcompute.client.jobs.program import JobsProgram

        jobs = JobsProgram()
        programs = {jobs.program_id: deploy_dir() / "jobs.so", self.staking.program_id: deploy_dir() / "staking.so"}
        probe = deploy_dir() / "slash_probe.so"
        if probe.is_file():
            programs[SLASH_PROBE_ID] = probe
            programs[IMPOSTOR_PROBE_ID] = probe
        super().__init__(SvmChain(programs), jobs, decimals=decimals, staking=self.staking)

    # -- config ------------------------------------------------------------------------
    def init(self, settings: StakingSettings | None = None, *, authority: Actor | None = None, treasury: Pubkey | None = None,
             mint: Pubkey | None = None) -> tuple[Pubkey, Actor, Outcome]:
        settings = settings or StakingSettings()
        authority = authority or self.actor()
        mint = mint or self.mint
        treasury = treasury or authority.token
        ix = self.staking.init(authority=authority.pubkey, mint=mint, treasury=treasury, settings=settings)
        return self.staking.config(authority.pubkey, mint), authority, self.chain.send([ix], [authority.keypair])

    def config_state(self, config: Pubkey) -> Any:
        return self.staking.decode(bytes(self.chain.account(config).data))

    def stake_state(self, config: Pubkey, owner: Pubkey) -> Any | None:
        account = self.chain.account(self.staking.stake(config, owner))
        return self.staking.decode(bytes(account.data)) if account else None

    # -- instructions ------------------------------------------------------------------
    def stake(self, config: Pubkey, owner: Actor, amount: int, duration: int) -> Outcome:
        ix = self.staking.stake_ix(owner=owner.pubkey, config=config, owner_token=owner.token, amount=amount, duration=duration)
        return self.chain.send([ix], [owner.keypair])

    def topup(self, config: Pubkey, owner: Actor, amount: int) -> Outcome:
        return self.chain.send([self.staking.topup(owner=owner.pubkey, config=config, owner_token=owner.token, amount=amount)], [owner.keypair])

    def extend(self, config: Pubkey, owner: Actor, duration: int) -> Outcome:
        return self.chain.send([self.staking.extend(owner=owner.pubkey, config=config, duration=duration)], [owner.keypair])

    def unstake(self, config: Pubkey, owner: Actor) -> Outcome:
        return self.chain.send([self.staking.unstake(owner=owner.pubkey, config=config)], [owner.keypair])

    def withdraw(self, config: Pubkey, owner: Actor) -> Outcome:
        return self.chain.send([self.staking.withdraw(owner=owner.pubkey, config=config, owner_token=owner.token)], [owner.keypair])

    def restake(self, config: Pubkey, owner: Actor) -> Outcome:
        return self.chain.send([self.staking.restake(owner=owner.pubkey, config=config)], [owner.keypair])

    def close_stake(self, config: Pubkey, owner: Actor) -> Outcome:
        return self.chain.send([self.staking.close(owner=owner.pubkey, config=config)], [owner.keypair])

    def slash(self, config: Pubkey, authority: Actor, owner: Pubkey, amount: int, destination: Pubkey | None = None, *, bounty: int = 0,
              bounty_to: Pubkey | None = None) -> Outcome:
        destination = destination or self.slash_destination(config)
        ix = self.staking.slash(slasher=authority.pubkey, config=config, stake=self.staking.stake(config, owner), destination=destination,
                                amount=amount, bounty=bounty, bounty_to=bounty_to)
        return self.chain.send([ix], [authority.keypair])

    def slash_by_probe(self, config: Pubkey, owner: Pubkey, amount: int, *, probe: Pubkey = SLASH_PROBE_ID, seed: int = 0,
                       caller: Actor | None = None, bounty: int = 0, bounty_to: Pubkey | None = None) -> Outcome:
        """A slash by CPI from the slash-probe program at `probe`, signed by its PDA
        ["slasher"] (seed 0) or ["impostor"] (seed 1)."""
        signer = self.probe_signer(probe, seed)
        destination = self.slash_destination(config)
        ix = self.staking.slash(slasher=signer, config=config, stake=self.staking.stake(config, owner), destination=destination,
                                amount=amount, bounty=bounty, bounty_to=bounty_to or destination)
        return self.by_probe(ix, probe=probe, seed=seed, caller=caller)

    @staticmethod
    def probe_signer(probe: Pubkey = SLASH_PROBE_ID, seed: int = 0) -> Pubkey:
        """The probe's PDA that signs what it forwards: ["slasher"] (seed 0) or ["impostor"]."""
        return Pubkey.find_program_address([b"slasher" if seed == 0 else b"impostor"], probe)[0]

    def by_probe(self, ix: Instruction, *, probe: Pubkey = SLASH_PROBE_ID, seed: int = 0, caller: Actor | None = None) -> Outcome:
        """Sends staking instruction `ix` (its first account the probe's signing PDA) by CPI
        from the slash-probe program, as a slasher program would (slash, lock, unlock)."""
        caller = caller or self.actor()
        metas = [AccountMeta(self.staking.program_id, False, False)]
        metas += [AccountMeta(meta.pubkey, False, meta.is_writable) for meta in ix.accounts]
        return self.chain.send([Instruction(probe, bytes([seed]) + bytes(ix.data), metas)], [caller.keypair])

    def deposit_fees(self, config: Pubkey, depositor: Actor, amount: int) -> Outcome:
        ix = self.staking.deposit_fees(depositor=depositor.pubkey, config=config, depositor_token=depositor.token, amount=amount)
        return self.chain.send([ix], [depositor.keypair])

    def sweep(self, config: Pubkey, treasury: Pubkey | None = None, caller: Actor | None = None) -> Outcome:
        """Sends the rewards no stake owns to the treasury (the config's by default)."""
        caller = caller or self.actor()
        ix = self.staking.sweep(config=config, treasury=treasury or self.config_state(config).treasury)
        return self.chain.send([ix], [caller.keypair])

    def claim(self, config: Pubkey, owner: Actor) -> Outcome:
        return self.chain.send([self.staking.claim(owner=owner.pubkey, config=config, owner_token=owner.token)], [owner.keypair])

    # -- helpers -----------------------------------------------------------------------
    def slash_destination(self, config: Pubkey) -> Pubkey:
        return self.staking.slash_destination(config, self.config_state(config))

    @staticmethod
    def slasher_of(program: Pubkey) -> Pubkey:
        return slasher_address(program)[0]
