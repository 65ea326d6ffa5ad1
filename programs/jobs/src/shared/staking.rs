//! The staking program as the jobs program uses it: the one program id it trusts, its
//! Config and Stake accounts loaded with every check, and its CPIs (`deposit_fees` for a
//! market's network fee, `slash` for a silent node, `lock` and `unlock` for what a node's
//! stake backs while it holds jobs and entries in a market with a slash penalty).
//!
//! The staking program's id is a constant (staking-interface's `PROGRAM_ID`), never an
//! account the caller picks: a fake "staking program" would be handed the payer's
//! signature (deposit_fees) or this program's slasher PDA's (slash). A deployment with
//! another staking program id rebuilds this program.
//!
//! Accounts of the staking program are read, never written, here: owner, size and
//! discriminator first. Past those, the stored links are enough: the staking program
//! writes the Stake discriminator only into the PDA ["stake", config, owner] it derives in
//! `stake`, with those very config and owner, so a Stake account it owns whose `config` is
//! the market's and whose `owner` is the node is that node's stake (programs/staking,
//! `shared/accounts.rs`). References into their data are dropped before any CPI.

use super::cpi::invoke;
use crate::processor::Context;
use jobs_interface::instruction as ix;
use super::keys;
use super::events::emit;
use jobs_interface::error::JobsError;
use jobs_interface::event::NetworkFeePaid;
use jobs_interface::fees::network_fee;
use jobs_interface::pod::{eq32, eq8, Layout, Pubkey};
use jobs_interface::state::Market;
use pinocchio::cpi::{Seed, Signer};
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::{AccountView, Address, ProgramResult};
use staking_interface::discriminator::Discriminator;
use staking_interface::instruction::{deposit_fees, lock, slash, unlock};
use staking_interface::pod::PodU64;
use staking_interface::state::{Config, Stake, StakeState, CONFIG_SIZE, STAKE_SIZE};

/// The staking program this program trusts (Anchor.toml's `staking`).
pub const STAKING_PROGRAM_ID: Address = Address::from_str_const(staking_interface::PROGRAM_ID);

#[inline(always)]
pub fn check_staking_program(account: &AccountView) -> Result<(), JobsError> {
    if !keys::is(account, &STAKING_PROGRAM_ID) {
        return Err(JobsError::ProgramIdInvalid);
    }
    Ok(())
}

/// The data of an account of the staking program with `T`'s size and discriminator, or
/// None if the account is not the staking program's. `invalid` when owned but not a `T`.
#[inline(always)]
fn load<'a, T: Layout + Discriminator>(account: &'a AccountView, size: usize, invalid: JobsError) -> Result<Option<&'a T>, JobsError> {
    if !keys::owned_by(account, &STAKING_PROGRAM_ID) {
        return Ok(None);
    }
    if account.data_len() != size {
        return Err(invalid);
    }
    // SAFETY: read-only view of another program's account; nothing borrows it mutably in
    // this instruction, and callers drop the reference before any CPI.
    let data = unsafe { account.borrow_unchecked() };
    let (discriminator, rest) = data.split_first_chunk::<8>().ok_or(invalid)?;
    if !eq8(discriminator, &T::DISCRIMINATOR) {
        return Err(invalid);
    }
    T::load(rest).map(Some).ok_or(invalid)
}

/// A Config of the staking program (owner, size, discriminator), else StakingConfigInvalid.
#[inline(always)]
pub fn load_config(account: &AccountView) -> Result<&Config, JobsError> {
    load::<Config>(account, CONFIG_SIZE, JobsError::StakingConfigInvalid)?.ok_or(JobsError::StakingConfigInvalid)
}

/// The market's staking config: its address first, then owner, size and discriminator.
#[inline(always)]
pub fn load_market_config<'a>(account: &'a AccountView, market: &Market) -> Result<&'a Config, JobsError> {
    if !market.staking_config.is(keys::key(account)) {
        return Err(JobsError::StakingConfigInvalid);
    }
    load_config(account)
}

/// `node`'s stake under `config`: None when the account is not the staking program's (a
/// closed stake, or never made); StakeInvalid when it is, but is not a Stake of that node
/// under that config.
#[inline(always)]
pub fn load_stake<'a>(account: &'a AccountView, config: &[u8; 32], node: &[u8; 32]) -> Result<Option<&'a Stake>, JobsError> {
    let Some(stake) = load::<Stake>(account, STAKE_SIZE, JobsError::StakeInvalid)? else {
        return Ok(None);
    };
    if !stake.config.is(config) || !stake.owner.is(node) {
        return Err(JobsError::StakeInvalid);
    }
    Ok(Some(stake))
}

/// `work`'s admission in a market with a minimum stake: the node's stake must be staked
/// (an unlocking stake has no weight) under the market's config with at least that weight.
#[inline(always)]
pub fn check_admission(market: &Market, stake: Option<&AccountView>, node: &[u8; 32]) -> Result<(), JobsError> {
    let account = stake.ok_or(JobsError::StakingAccountsMissing)?;
    let stake = load_stake(account, &market.staking_config.0, node)?.ok_or(JobsError::StakeInvalid)?;
    if !stake.state.is(StakeState::Staked) || stake.weight.get() < market.min_stake.get() {
        return Err(JobsError::StakeTooLow);
    }
    Ok(())
}

/// Whether `address` is the staking program's PDA ["stake", config, node]: the check that a
/// stake account that is gone is the node's, so that a reclaim cannot dodge the slash by
/// naming another empty address. A derivation (about 1,500 units a try): only on that path.
#[inline(never)]
pub fn is_stake_address(address: &Address, config: &Address, node: &[u8; 32]) -> bool {
    let (expected, _) =
        Address::find_program_address(&[staking_interface::seeds::STAKE, config.as_ref(), node], &STAKING_PROGRAM_ID);
    eq32(address.as_array(), expected.as_array())
}

/// A deposit's network fee (post, extend) and the accounts it travels through.
pub struct NetworkFee<'a> {
    pub staking_program: Option<&'a AccountView>,
    pub config: Option<&'a AccountView>,
    pub rewards_pool: Option<&'a AccountView>,
    /// The payer: signs the transaction, so its signature carries into the CPI.
    pub payer: &'a AccountView,
    pub payer_token: &'a AccountView,
    pub token_program: &'a AccountView,
    /// The job the deposit is for (named by the event).
    pub job: &'a AccountView,
    pub deposit: u64,
    /// The job's rate (fixed when posted; non-zero).
    pub fee_bps: u16,
}

impl NetworkFee<'_> {
    /// Pays ceil(deposit x fee_bps / 10,000) (none when zero) from the payer into the
    /// market's staking config's rewards pool: a CPI to `deposit_fees`, which checks the
    /// pool is the config's and shares the fee by weight, and logs `NetworkFeePaid`. The
    /// staking program and the config are checked here (the program id is the constant;
    /// the config the market's), so a payer can neither skip the fee
    /// (StakingAccountsMissing) nor send it elsewhere. Out of line: markets without a fee
    /// never come here.
    #[inline(always)]
    pub fn charge(&self, market: &Market) -> ProgramResult {
        let fee = network_fee(self.deposit, self.fee_bps);
        if fee == 0 {
            return Ok(());
        }
        let (Some(program), Some(config), Some(pool)) = (self.staking_program, self.config, self.rewards_pool) else {
            return Err(JobsError::StakingAccountsMissing.into());
        };
        check_staking_program(program)?;
        // The market's config was checked to be a staking Config when it was named (and
        // the staking program loads it again); the address is what matters here.
        if !market.staking_config.is(keys::key(config)) {
            return Err(JobsError::StakingConfigInvalid.into());
        }
        let data = deposit_fees::Args { amount: PodU64::new(fee) }.pack();
        let metas = [
            InstructionAccount::readonly_signer(self.payer.address()),
            InstructionAccount::writable(config.address()),
            InstructionAccount::writable(self.payer_token.address()),
            InstructionAccount::writable(pool.address()),
            InstructionAccount::readonly(self.token_program.address()),
        ];
        let instruction = InstructionView { program_id: &STAKING_PROGRAM_ID, data: &data, accounts: &metas };
        invoke(&instruction, [self.payer, config, self.payer_token, pool, self.token_program], &[]);
        emit(NetworkFeePaid { job: Pubkey(*keys::key(self.job)), fee: PodU64::new(fee) });
        Ok(())
    }
}

/// A slash CPI: `amount` from `stake`, `bounty` of it to `bounty_to`, signed by this
/// program's PDA ["slasher", bump].
pub struct SlashCpi<'a> {
    pub slasher: &'a AccountView,
    pub config: &'a AccountView,
    pub stake: &'a AccountView,
    pub vault: &'a AccountView,
    pub destination: &'a AccountView,
    pub bounty_to: &'a AccountView,
    pub token_program: &'a AccountView,
    pub amount: u64,
    pub bounty: u64,
    pub slasher_bump: u8,
}

impl SlashCpi<'_> {
    #[inline(always)]
    pub fn invoke(&self) {
        let data = slash::Args { amount: PodU64::new(self.amount), bounty: PodU64::new(self.bounty) }.pack();
        let metas = [
            InstructionAccount::readonly_signer(self.slasher.address()),
            InstructionAccount::writable(self.config.address()),
            InstructionAccount::writable(self.stake.address()),
            InstructionAccount::writable(self.vault.address()),
            InstructionAccount::writable(self.destination.address()),
            InstructionAccount::writable(self.bounty_to.address()),
            InstructionAccount::readonly(self.token_program.address()),
        ];
        let instruction = InstructionView { program_id: &STAKING_PROGRAM_ID, data: &data, accounts: &metas };
        let bump = [self.slasher_bump];
        let seeds = [Seed::from(jobs_interface::seeds::SLASHER), Seed::from(&bump)];
        invoke(
            &instruction,
            [self.slasher, self.config, self.stake, self.vault, self.destination, self.bounty_to, self.token_program],
            &[Signer::from(&seeds)],
        );
    }
}

/// The accounts a stake's lock travels through (work, and every settlement that releases
/// it): the node's stake, the staking program and this program's PDA ["slasher"].
pub struct Bond<'a> {
    pub staking_program: Option<&'a AccountView>,
    pub stake: Option<&'a AccountView>,
    pub slasher: Option<&'a AccountView>,
}

/// What `work` needs beyond `Bond` to lock: the market's staking config (staking's `lock`
/// checks that the signer is its slasher).
pub struct Lock<'a> {
    pub bond: Bond<'a>,
    pub config: Option<&'a AccountView>,
    pub program_id: &'a Address,
    pub node: &'a [u8; 32],
}

/// An instruction's account list that names the node's bond (`staking_program`, `stake`,
/// `slasher`). Each list is its own generated type: the impls below map them all to `Bond`.
pub trait BondAccounts {
    /// The bond's accounts: None for each one absent; `Bond`'s methods refuse those.
    fn bond<'a>(&self, context: &Context<'a>) -> Result<Bond<'a>, JobsError>;
}

macro_rules! bond_accounts {
    ($($accounts:path),*) => {$(
        impl BondAccounts for $accounts {
            #[inline(always)]
            fn bond<'a>(&self, context: &Context<'a>) -> Result<Bond<'a>, JobsError> {
                Ok(Bond {
                    staking_program: context.optional(self.staking_program)?,
                    stake: context.optional(self.stake)?,
                    slasher: context.optional(self.slasher)?,
                })
            }
        }
    )*};
}
bond_accounts!(ix::work::Accounts, ix::leave::Accounts, ix::finish::Accounts, ix::end::Accounts);

/// Releases the lock a settled job held on its node's stake (finish, end; `Bond::release`).
/// Out of line, with the accounts' lookup: markets without a penalty pay only the branch
/// to here.
#[inline(never)]
pub fn unbond<A: BondAccounts>(market: &Market, accounts: &A, context: &Context, node: &[u8; 32], amount: u64) -> Result<(), JobsError> {
    accounts.bond(context)?.release(market, node, amount)
}

impl Lock<'_> {
    /// `work` in a market with a slash penalty: the node's stake must back one more job, so
    /// the penalty is locked on it (staking's `lock`, signed by this program's PDA
    /// ["slasher"]) until the job or the entry ends. Refused here, with this program's
    /// errors, for anything staking would refuse: a config that no longer names this
    /// program as its slasher (no new obligations it could not slash), a stake that is
    /// unlocking or short of the penalty beyond what it backs, or one that another
    /// slasher holds. Out of line: markets without a penalty never come here.
    #[inline(never)]
    pub fn invoke(&self, market: &Market) -> Result<(), JobsError> {
        let (Some(program), Some(config_account), Some(stake_account), Some(slasher)) =
            (self.bond.staking_program, self.config, self.bond.stake, self.bond.slasher)
        else {
            return Err(JobsError::StakingAccountsMissing);
        };
        check_staking_program(program)?;
        let penalty = market.slash_penalty.get();
        {
            let config = load_market_config(config_account, market)?;
            if !config.slasher_program.is(self.program_id.as_array()) {
                return Err(JobsError::SlasherNotThisProgram);
            }
            if !config.slasher.is(keys::key(slasher)) {
                return Err(JobsError::SlasherMismatch);
            }
            let stake = load_stake(stake_account, keys::key(config_account), self.node)?.ok_or(JobsError::StakeInvalid)?;
            let locked = stake.locked.get();
            if locked != 0 && !stake.locker.is(keys::key(slasher)) {
                return Err(JobsError::StakeLockedElsewhere);
            }
            let free = stake.amount.get().saturating_sub(locked);
            if !stake.state.is(StakeState::Staked) || free < penalty {
                return Err(JobsError::StakeCannotBack);
            }
        } // no reference into the stake or the config survives to the CPI
        let data = lock::Args { amount: PodU64::new(penalty) }.pack();
        let metas = [
            InstructionAccount::readonly_signer(slasher.address()),
            InstructionAccount::readonly(config_account.address()),
            InstructionAccount::writable(stake_account.address()),
        ];
        let instruction = InstructionView { program_id: &STAKING_PROGRAM_ID, data: &data, accounts: &metas };
        let bump = [market.slasher_bump];
        let seeds = [Seed::from(jobs_interface::seeds::SLASHER), Seed::from(&bump)];
        invoke(&instruction, [slasher, config_account, stake_account], &[Signer::from(&seeds)]);
        Ok(())
    }
}

impl Bond<'_> {
    /// Releases `amount` of what `node`'s stake backs for this program (a job that settled,
    /// an entry that left): staking's `unlock`, signed by this program's PDA ["slasher"].
    ///
    /// Whoever settles cannot skip it: the accounts are required, the stake must be the
    /// node's under the market's config (an empty or foreign address is refused: a stake
    /// cannot close while it backs anything, so the node's is always there), and the
    /// slasher account must be the stake's locker. Nothing is done when nothing is locked.
    /// Out of line: markets without a penalty never come here.
    #[inline(never)]
    pub fn release(&self, market: &Market, node: &[u8; 32], amount: u64) -> Result<(), JobsError> {
        let (Some(program), Some(stake_account), Some(slasher)) = (self.staking_program, self.stake, self.slasher) else {
            return Err(JobsError::StakingAccountsMissing);
        };
        check_staking_program(program)?;
        {
            let stake = load_stake(stake_account, &market.staking_config.0, node)?.ok_or(JobsError::StakeInvalid)?;
            if stake.locked.get() == 0 {
                return Ok(());
            }
            if !stake.locker.is(keys::key(slasher)) {
                return Err(JobsError::SlasherMismatch);
            }
        } // no reference into the stake survives to the CPI
        let data = unlock::Args { amount: PodU64::new(amount) }.pack();
        let metas = [InstructionAccount::readonly_signer(slasher.address()), InstructionAccount::writable(stake_account.address())];
        let instruction = InstructionView { program_id: &STAKING_PROGRAM_ID, data: &data, accounts: &metas };
        let bump = [market.slasher_bump];
        let seeds = [Seed::from(jobs_interface::seeds::SLASHER), Seed::from(&bump)];
        invoke(&instruction, [slasher, stake_account], &[Signer::from(&seeds)]);
        Ok(())
    }
}
