"""Hostile calls against the staking program: every transaction an attacker could build
(wrong signer, dropped signer/writable flags, forged or substituted accounts, type cosplay,
a stake of another owner or config, a second initialisation, a closed stake revived,
overflowing amounts, slash CPIs from another program or signed by another PDA) is sent to
the real SBF build in LiteSVM; each test asserts the exact refusal and that no byte,
lamport or token of any watched account moved (helpers shared with tests/jobs/test_hostile.py).

The world: `config` (authority `authority`, slashes to the rewards pool, slasher program
the slash probe) and `other_config` (another authority, same mint); `alice` and `bob`
stake in `config`, `alice` also in `other_config`; 1,000 of fees are in the pool.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.sysvar import CLOCK, RENT

from crowdcompute.client.staking.program import SLASH_TO_REWARDS_POOL, StakingSettings
from crowdcompute.common.token import MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID
from crowdcompute.sandbox import Actor
from crowdcompute.sandbox.staking import IMPOSTOR_PROBE_ID, SLASH_PROBE_ID, StakingSandbox
from crowdcompute.localnet.runtime.svm import Outcome
from tests.idl_accounts import IdlAccounts
from tests.jobs.test_hostile import TOKEN_2022_PROGRAM_ID, CalleeError, Snapshot, data_of, plant

from .conftest import MAX, MIN, SETTINGS

RANDOM_PROGRAM_ID = Pubkey(hashlib.sha256(b"a random program").digest())
TOKEN_OWNER_MISMATCH = CalleeError(TOKEN_PROGRAM_ID, 4, "OwnerMismatch")
TOKEN_MINT_MISMATCH = CalleeError(TOKEN_PROGRAM_ID, 3, "MintMismatch")
U64_MAX = 2**64 - 1


STAKING_ACCOUNTS = IdlAccounts("staking")
ACCOUNTS, FLAGS = STAKING_ACCOUNTS.names, STAKING_ACCOUNTS.flags
tamper = STAKING_ACCOUNTS.tamper
account_of = STAKING_ACCOUNTS.account_of


@dataclass
class World:
    sb: StakingSandbox
    errors: object
    config: Pubkey
    authority: Actor
    other_config: Pubkey
    other_authority: Actor
    alice: Actor
    bob: Actor
    stranger: Actor
    fee: Keypair

    @property
    def st(self):
        return self.sb.staking

    def watched(self) -> dict[str, Pubkey]:
        st = self.st
        accounts = {"config": self.config, "other_config": self.other_config}
        for label, config in (("", self.config), ("other_", self.other_config)):
            accounts[f"{label}vault"] = st.vault(config)
            accounts[f"{label}pool"] = st.rewards_pool(config)
        for role in ("alice", "bob"):
            accounts[f"{role}.stake"] = st.stake(self.config, getattr(self, role).pubkey)
        accounts["alice.other_stake"] = st.stake(self.other_config, self.alice.pubkey)
        for role in ("authority", "other_authority", "alice", "bob", "stranger"):
            actor = getattr(self, role)
            accounts[role], accounts[f"{role}.token"] = actor.pubkey, actor.token
        return accounts

    def send(self, instructions: list[Instruction], signers: list[Keypair]) -> Outcome:
        return self.sb.chain.send(list(instructions), list(signers), payer=self.fee)

    def attack(self, instructions: list[Instruction], signers: list[Keypair], error, *, index: int | None = None) -> Outcome:
        before = Snapshot(self.sb.chain, self.watched())
        outcome = self.send(instructions, signers)
        logs = "\n".join(outcome.logs)
        assert not outcome.ok, f"the hostile transaction SUCCEEDED\n{logs}"
        got = outcome.custom_error
        if isinstance(error, CalleeError):
            assert got == error.code and f"Program {error.program} failed: custom program error: {error.code:#x}" in outcome.logs, f"{got}\n{logs}"
        else:
            assert got == self.errors[error], f"expected {error}, got {got} ({self.errors.name(got)})\n{logs}"
        assert outcome.error.index == (len(instructions) - 1 if index is None else index)
        assert before.changed() == [], f"a refused transaction changed {before.changed()}"
        return outcome

    def honest(self, name: str, owner: Actor | None = None) -> tuple[Instruction, list[Keypair]]:
        """A call of `name` by the party entitled to it (alice for her stake in `config`)."""
        st, config, alice = self.st, self.config, owner or self.alice
        if name == "init":
            authority = self.stranger
            return st.init(authority=authority.pubkey, mint=self.sb.mint, treasury=authority.token, settings=SETTINGS), [authority.keypair]
        if name == "update_config":
            return (st.update_config(authority=self.authority.pubkey, config=config, treasury=self.authority.token, slash_to=SLASH_TO_REWARDS_POOL,
                                     slasher_program=SLASH_PROBE_ID), [self.authority.keypair])
        if name == "stake":
            return st.stake_ix(owner=self.stranger.pubkey, config=config, owner_token=self.stranger.token, amount=10, duration=MIN), [self.stranger.keypair]
        if name == "topup":
            return st.topup(owner=alice.pubkey, config=config, owner_token=alice.token, amount=10), [alice.keypair]
        if name == "extend":
            return st.extend(owner=alice.pubkey, config=config, duration=MAX), [alice.keypair]
        if name == "unstake":
            return st.unstake(owner=alice.pubkey, config=config), [alice.keypair]
        if name == "withdraw":
            return st.withdraw(owner=alice.pubkey, config=config, owner_token=alice.token), [alice.keypair]
        if name == "restake":
            return st.restake(owner=alice.pubkey, config=config), [alice.keypair]
        if name == "close":
            return st.close(owner=alice.pubkey, config=config), [alice.keypair]
        if name == "slash":
            return (st.slash(slasher=self.authority.pubkey, config=config, stake=st.stake(config, alice.pubkey), destination=st.rewards_pool(config),
                             amount=10, bounty=4, bounty_to=self.stranger.token), [self.authority.keypair])
        if name == "deposit_fees":
            return st.deposit_fees(depositor=self.stranger.pubkey, config=config, depositor_token=self.stranger.token, amount=10), [self.stranger.keypair]
        if name == "claim":
            return st.claim(owner=alice.pubkey, config=config, owner_token=alice.token), [alice.keypair]
        # lock and unlock are signed by a slasher program's PDA, which only that program can
        # do (by CPI: tests/staking/test_stake_locks.py). The generic attacks below tamper
        # with a top-level call signed by a stranger instead: every check they aim at comes
        # before the locker's, which refuses the stranger in the end.
        if name == "lock":
            return st.lock(locker=self.stranger.pubkey, config=config, stake=st.stake(config, alice.pubkey), amount=10), [self.stranger.keypair]
        if name == "unlock":
            return st.unlock(locker=self.stranger.pubkey, stake=st.stake(config, alice.pubkey), amount=10), [self.stranger.keypair]
        if name == "sweep":
            return st.sweep(config=config, treasury=self.authority.token), []
        raise KeyError(name)


@pytest.fixture
def world(sb: StakingSandbox, errors) -> World:
    config, authority, outcome = sb.init(StakingSettings(slasher_program=SLASH_PROBE_ID))
    sb.must(outcome)
    other_config, other_authority, outcome = sb.init(SETTINGS)
    sb.must(outcome)
    alice, bob, stranger = sb.actor(10_000), sb.actor(10_000), sb.actor(10_000)
    sb.must(sb.stake(config, alice, 1_000, MIN))
    sb.must(sb.stake(config, bob, 1_000, MAX))
    sb.must(sb.stake(other_config, alice, 1_000, MIN))
    sb.must(sb.deposit_fees(config, stranger, 1_000))
    return World(sb, errors, config, authority, other_config, other_authority, alice, bob, stranger, sb.chain.funded())


ALL = list(ACCOUNTS)
OWNER_CALLS = ["topup", "extend", "unstake", "withdraw", "restake", "close", "claim"]
STAKE_CALLS = OWNER_CALLS + ["slash"]


# == 1. wrong signer, dropped flags ========================================================
SIGNED = [(name, account) for name in ALL for account, (signer, _) in FLAGS[name].items() if signer]
WRITABLE = [(name, account) for name in ALL for account, (_, writable) in FLAGS[name].items() if writable]


@pytest.mark.parametrize("name, account", SIGNED)
def test_signer_passed_as_non_signer(world: World, name: str, account: str):
    ix, _ = world.honest(name)
    meta = ix.accounts[ACCOUNTS[name].index(account)]
    world.attack([tamper(name, ix, **{account: AccountMeta(meta.pubkey, False, meta.is_writable)})], [], "SignatureMissing")


@pytest.mark.parametrize("name, account", WRITABLE)
def test_writable_passed_as_read_only(world: World, name: str, account: str):
    ix, signers = world.honest(name)
    meta = ix.accounts[ACCOUNTS[name].index(account)]
    world.attack([tamper(name, ix, **{account: AccountMeta(meta.pubkey, meta.is_signer, False)})], signers, "AccountNotWritable")


@pytest.mark.parametrize("name", OWNER_CALLS)
def test_stranger_acts_on_alices_stake(world: World, name: str):
    """The stranger signs as owner but passes alice's stake: a stake of another owner."""
    ix, _ = world.honest(name)
    changes = {"owner": world.stranger.pubkey}
    if "owner_token" in ACCOUNTS[name]:
        changes["owner_token"] = world.stranger.token
    world.attack([tamper(name, ix, **changes)], [world.stranger.keypair], "StakeOwnerMismatch")


def test_slash_by_stranger(world: World):
    ix, _ = world.honest("slash")
    world.attack([tamper("slash", ix, slasher=world.stranger.pubkey)], [world.stranger.keypair], "SlasherInvalid")


def test_slash_by_other_configs_authority(world: World):
    ix, _ = world.honest("slash")
    world.attack([tamper("slash", ix, slasher=world.other_authority.pubkey)], [world.other_authority.keypair], "SlasherInvalid")


def test_update_config_by_stranger(world: World):
    ix, _ = world.honest("update_config")
    world.attack([tamper("update_config", ix, authority=world.stranger.pubkey)], [world.stranger.keypair], "AuthorityMismatch")


# == 2. slash by CPI: only the configured program's ["slasher"] PDA ========================
def test_slash_cpi_from_another_program(world: World):
    """The same code deployed at another address: its ["slasher"] PDA is not the config's."""
    outcome = world.attack([_probe_ix(world, IMPOSTOR_PROBE_ID, 0)], [], "SlasherInvalid")
    assert f"Program {world.st.program_id} failed: custom program error: {world.errors['SlasherInvalid']:#x}" in outcome.logs


def test_slash_cpi_signed_by_another_pda_of_the_slasher_program(world: World):
    world.attack([_probe_ix(world, SLASH_PROBE_ID, 1)], [], "SlasherInvalid")


def test_slash_pda_passed_without_signature(world: World):
    """The slasher PDA named as the signer of a top-level slash, unsigned."""
    ix, _ = world.honest("slash")
    pda = world.sb.slasher_of(SLASH_PROBE_ID)
    world.attack([tamper("slash", ix, slasher=AccountMeta(pda, False, False))], [], "SignatureMissing")


def test_slash_cpi_when_config_names_no_slasher(world: World):
    """other_config has no slasher program: the probe's PDA is refused there."""
    ix = _probe_ix(world, SLASH_PROBE_ID, 0, config=world.other_config)
    world.attack([ix], [], "SlasherInvalid")


def _probe_ix(world: World, probe: Pubkey, seed: int, *, config: Pubkey | None = None) -> Instruction:
    config = config or world.config
    st = world.st
    signer = Pubkey.find_program_address([b"slasher" if seed == 0 else b"impostor"], probe)[0]
    metas = [AccountMeta(st.program_id, False, False), AccountMeta(signer, False, False), AccountMeta(config, False, True),
             AccountMeta(st.stake(config, world.alice.pubkey), False, True), AccountMeta(st.vault(config), False, True),
             AccountMeta(st.rewards_pool(config), False, True), AccountMeta(world.stranger.token, False, True),
             AccountMeta(TOKEN_PROGRAM_ID, False, False)]
    slash = st.slash(slasher=signer, config=config, stake=st.stake(config, world.alice.pubkey), destination=st.rewards_pool(config),
                     amount=10, bounty=4, bounty_to=world.stranger.token)
    return Instruction(probe, bytes([seed]) + bytes(slash.data), metas)


# == 2b. the bounty: at most the amount, never into the vault or (paid) into the pool =====
def test_slash_bounty_above_amount(world: World):
    ix, signers = world.honest("slash")
    data = bytes(ix.data[:8]) + (10).to_bytes(8, "little") + (11).to_bytes(8, "little")
    world.attack([Instruction(ix.program_id, data, ix.accounts)], signers, "BountyAboveAmount")


def test_slash_bounty_into_the_vault(world: World):
    """Tokens moved vault to vault would leave the stake while staying in the vault."""
    ix, signers = world.honest("slash")
    world.attack([tamper("slash", ix, bounty_to=world.st.vault(world.config))], signers, "BountyAccountInvalid")


def test_slash_bounty_into_the_rewards_pool(world: World):
    """A paid bounty into the pool would be tokens no deposit booked."""
    ix, signers = world.honest("slash")
    world.attack([tamper("slash", ix, bounty_to=world.st.rewards_pool(world.config))], signers, "BountyAccountInvalid")


def test_slash_bounty_to_another_mints_account(world: World):
    ix, signers = world.honest("slash")
    other_mint = world.sb.new_mint()
    foreign = world.sb.token_account(world.stranger.pubkey, other_mint)
    world.attack([tamper("slash", ix, bounty_to=foreign)], signers, "TokenMintMismatch")


def test_slash_bounty_to_a_non_token_account(world: World):
    ix, signers = world.honest("slash")
    world.attack([tamper("slash", ix, bounty_to=world.st.stake(world.config, world.bob.pubkey))], signers, "TokenAccountInvalid")


# == 3. wrong owner, type cosplay, forged copies =========================================
@pytest.mark.parametrize("name", STAKE_CALLS)
def test_fake_stake_right_layout_wrong_owner(world: World, name: str):
    """alice's stake bytes, copied to an account another program owns."""
    ix, signers = world.honest(name)
    real = account_of(name, ix, "stake")
    fake = plant(world.sb.chain, bytes(world.sb.chain.svm.get_account(real).data), RANDOM_PROGRAM_ID)
    world.attack([tamper(name, ix, stake=fake)], signers, "AccountOwnerInvalid")


@pytest.mark.parametrize("name", [n for n in ALL if "config" in ACCOUNTS[n] and n != "init"])
def test_fake_config_right_layout_wrong_owner(world: World, name: str):
    ix, signers = world.honest(name)
    fake = plant(world.sb.chain, bytes(world.sb.chain.svm.get_account(world.config).data), RANDOM_PROGRAM_ID)
    world.attack([tamper(name, ix, config=fake)], signers, "AccountOwnerInvalid")


@pytest.mark.parametrize("name", STAKE_CALLS)
def test_config_passed_as_stake(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, stake=world.config)], signers, "AccountDiscriminatorInvalid")


@pytest.mark.parametrize("name", STAKE_CALLS)
def test_stake_passed_as_config(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, config=account_of(name, ix, "stake"))], signers, "AccountDiscriminatorInvalid")


@pytest.mark.parametrize("name", STAKE_CALLS)
def test_stake_of_another_config(world: World, name: str):
    """alice's stake in other_config, passed with config."""
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, stake=world.st.stake(world.other_config, world.alice.pubkey))], signers, "ConfigMismatch")


@pytest.mark.parametrize("name", OWNER_CALLS)
def test_stake_of_another_owner(world: World, name: str):
    """alice signs but passes bob's stake."""
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, stake=world.st.stake(world.config, world.bob.pubkey))], signers, "StakeOwnerMismatch")


# == 4. substituted vault, pool, treasury, token accounts, programs, sysvars ==================
VAULT_CALLS = [n for n in ALL if "vault" in ACCOUNTS[n] and n != "init"]
POOL_CALLS = ["deposit_fees", "claim"]


@pytest.mark.parametrize("name", VAULT_CALLS)
def test_vault_substituted(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, vault=world.st.vault(world.other_config))], signers, "VaultMismatch")


@pytest.mark.parametrize("name", POOL_CALLS)
def test_rewards_pool_substituted(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, rewards_pool=world.st.rewards_pool(world.other_config))], signers, "RewardsPoolMismatch")


def test_slash_to_another_destination(world: World):
    ix, signers = world.honest("slash")
    world.attack([tamper("slash", ix, destination=world.authority.token)], signers, "RewardsPoolMismatch")


def prepare(world: World, name: str) -> None:
    """Puts alice's stake in the state `name` needs (withdraw: unlocking)."""
    if name == "withdraw":
        world.sb.must(world.sb.unstake(world.config, world.alice))
        world.sb.chain.advance(MIN // 2)


@pytest.mark.parametrize("name", ["stake", "topup", "withdraw", "claim"])
def test_owner_token_of_another_owner(world: World, name: str):
    prepare(world, name)
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, owner_token=world.bob.token)], signers, "TokenOwnerMismatch")


@pytest.mark.parametrize("name", ["stake", "topup", "withdraw", "claim"])
def test_owner_token_of_another_mint(world: World, name: str):
    prepare(world, name)
    ix, signers = world.honest(name)
    owner = account_of(name, ix, "owner")
    other_mint = world.sb.new_mint()
    token = world.sb.token_account(owner, other_mint)
    world.sb.mint_to(token, 1_000, other_mint)
    world.attack([tamper(name, ix, owner_token=token)], signers, "TokenMintMismatch")


@pytest.mark.parametrize("name", ["withdraw", "claim"])
def test_vault_or_pool_passed_as_owner_token(world: World, name: str):
    prepare(world, name)
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, owner_token=world.st.vault(world.config))], signers, "TokenOwnerMismatch")


def test_deposit_from_someone_elses_token_account(world: World):
    ix, signers = world.honest("deposit_fees")
    world.attack([tamper("deposit_fees", ix, depositor_token=world.bob.token)], signers, TOKEN_OWNER_MISMATCH)


@pytest.mark.parametrize("name", [n for n in ALL if "token_program" in ACCOUNTS[n]])
def test_token_program_substituted(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, token_program=TOKEN_2022_PROGRAM_ID)], signers, "ProgramIdInvalid")


@pytest.mark.parametrize("name", ["init", "stake"])
def test_system_program_substituted(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, system_program=RANDOM_PROGRAM_ID)], signers, "ProgramIdInvalid")


@pytest.mark.parametrize("name, sysvar, substitute", [("unstake", "clock", RENT), ("withdraw", "clock", RENT), ("stake", "rent", CLOCK), ("init", "rent", CLOCK)])
def test_sysvar_substituted(world: World, name: str, sysvar: str, substitute: Pubkey):
    ix, signers = world.honest(name)
    prepare(world, name)
    world.attack([tamper(name, ix, **{sysvar: substitute})], signers, "SysvarInvalid")


def test_init_with_token_2022_mint(world: World):
    ix, signers = world.honest("init")
    fake_mint = plant(world.sb.chain, bytes(world.sb.chain.svm.get_account(world.sb.mint).data), TOKEN_2022_PROGRAM_ID)
    world.attack([tamper("init", ix, mint=fake_mint)], signers, "MintNotSplToken")


def test_init_with_treasury_of_another_mint(world: World):
    ix, signers = world.honest("init")
    other_mint = world.sb.new_mint()
    world.attack([tamper("init", ix, treasury=world.sb.token_account(world.stranger.pubkey, other_mint))], signers, "TokenMintMismatch")


@pytest.mark.parametrize("kind", ["token_account", "uninitialised_mint", "system_account"])
def test_init_with_invalid_mint(world: World, kind: str):
    """Each way a mint can be no SPL Token mint (Token-2022's has its own test above)."""
    fake = {
        "token_account": lambda: world.stranger.token,
        "uninitialised_mint": lambda: plant(world.sb.chain, bytes(MINT_LEN), TOKEN_PROGRAM_ID),
        "system_account": lambda: world.stranger.pubkey,
    }[kind]()
    ix, signers = world.honest("init")
    world.attack([tamper("init", ix, mint=fake)], signers, "MintInvalid")


# Every token account the program checks (pays into, or takes from its owner), and the
# actor whose real token account belongs there.
TOKEN_SLOTS = [("init", "treasury", "stranger"), ("update_config", "treasury", "authority"), ("stake", "owner_token", "stranger"),
               ("topup", "owner_token", "alice"), ("withdraw", "owner_token", "alice"), ("claim", "owner_token", "alice"),
               ("slash", "bounty_to", "stranger")]


@pytest.mark.parametrize("kind", ["system_account", "mint", "uninitialised", "foreign_owned_copy"])
@pytest.mark.parametrize("name, account, owner", TOKEN_SLOTS, ids=[f"{n}.{a}" for n, a, _ in TOKEN_SLOTS])
def test_not_a_token_account(world: World, name: str, account: str, owner: str, kind: str):
    rightful: Actor = getattr(world, owner)
    fake = {
        "system_account": lambda: rightful.pubkey,
        "mint": lambda: world.sb.mint,
        "uninitialised": lambda: plant(world.sb.chain, bytes(TOKEN_ACCOUNT_LEN), TOKEN_PROGRAM_ID),
        # the rightful token account's exact bytes, owned by another program
        "foreign_owned_copy": lambda: plant(world.sb.chain, data_of(world.sb.chain, rightful.token), RANDOM_PROGRAM_ID),
    }[kind]()
    prepare(world, name)
    ix, signers = world.honest(name)
    world.attack([tamper(name, ix, **{account: fake})], signers, "TokenAccountInvalid")


# == 5. PDAs and second initialisation =====================================================
def test_init_config_not_its_pda(world: World):
    ix, signers = world.honest("init")
    world.attack([tamper("init", ix, config=Keypair().pubkey())], signers, "AddressMismatch")


@pytest.mark.parametrize("account, error", [("vault", "VaultMismatch"), ("rewards_pool", "RewardsPoolMismatch")])
def test_init_token_pdas_substituted(world: World, account: str, error: str):
    ix, signers = world.honest("init")
    world.attack([tamper("init", ix, **{account: Keypair().pubkey()})], signers, error)


def test_init_twice(world: World):
    ix = world.st.init(authority=world.authority.pubkey, mint=world.sb.mint, treasury=world.authority.token, settings=SETTINGS)
    world.attack([ix], [world.authority.keypair], "AccountAlreadyInitialized")


def test_stake_account_not_its_pda(world: World):
    ix, signers = world.honest("stake")
    world.attack([tamper("stake", ix, stake=Keypair().pubkey())], signers, "AddressMismatch")


def test_stake_into_another_owners_pda(world: World):
    """The stranger stakes naming alice's stake address."""
    ix, signers = world.honest("stake")
    world.attack([tamper("stake", ix, stake=world.st.stake(world.config, world.alice.pubkey))], signers, "AccountAlreadyInitialized")


def test_stake_twice(world: World):
    ix = world.st.stake_ix(owner=world.alice.pubkey, config=world.config, owner_token=world.alice.token, amount=10, duration=MIN)
    world.attack([ix], [world.alice.keypair], "AccountAlreadyInitialized")


# == 6. closed stake revived, one account twice ============================================
def _empty_claimed(world: World, owner: Actor) -> None:
    world.sb.must(world.sb.unstake(world.config, owner))
    world.sb.chain.advance(MAX)
    world.sb.must(world.sb.withdraw(world.config, owner))
    world.sb.must(world.sb.claim(world.config, owner))


@pytest.mark.parametrize("then", ["claim", "restake", "close"])
def test_closed_stake_used_again_in_same_transaction(world: World, then: str):
    _empty_claimed(world, world.alice)
    close, signers = world.honest("close")
    again, _ = world.honest(then)
    world.attack([close, again], signers, "AccountOwnerInvalid", index=1)


@pytest.mark.parametrize("account", ["vault", "rewards_pool"])
def test_treasury_set_to_the_vault_or_pool(world: World, account: str):
    """A treasury that is the vault would turn slashes into vault-to-vault transfers that
    debit stakes while the tokens stay, unaccounted; the pool, fees nobody booked."""
    treasury = world.st.vault(world.config) if account == "vault" else world.st.rewards_pool(world.config)
    ix = world.st.update_config(authority=world.authority.pubkey, config=world.config, treasury=treasury, slash_to=1, slasher_program=SLASH_PROBE_ID)
    world.attack([ix], [world.authority.keypair], "SettingInvalid")


# == 7. overflow and arguments ============================================================
def test_weight_that_overflows(world: World):
    whale = world.sb.actor(2**62)
    ix = world.st.stake_ix(owner=whale.pubkey, config=world.config, owner_token=whale.token, amount=2**62, duration=MAX)
    world.attack([ix], [whale.keypair], "ArithmeticOverflow")


def test_topup_past_u64(world: World):
    world.sb.mint_to(world.alice.token, U64_MAX - 30_000)
    ix = world.st.topup(owner=world.alice.pubkey, config=world.config, owner_token=world.alice.token, amount=U64_MAX - 500)
    world.attack([ix], [world.alice.keypair], "ArithmeticOverflow")


@pytest.mark.parametrize("name", ALL)
def test_instruction_data_of_wrong_length(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([Instruction(ix.program_id, bytes(ix.data) + b"\x00", ix.accounts)], signers, "InstructionDataInvalid")


def test_unknown_instruction(world: World):
    ix, signers = world.honest("claim")
    world.attack([Instruction(ix.program_id, b"\x01" * 8, ix.accounts)], signers, "InstructionUnknown")


@pytest.mark.parametrize("name", ALL)
def test_accounts_missing(world: World, name: str):
    ix, signers = world.honest(name)
    world.attack([Instruction(ix.program_id, ix.data, ix.accounts[:-1])], signers, "AccountsMissing")
