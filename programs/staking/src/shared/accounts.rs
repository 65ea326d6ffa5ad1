//! Loading this program's accounts with every check: owner, size, discriminator, and the
//! links between them (a stake's config and owner, a config's vault and pool).
//!
//! The PDA addresses of a config and a stake are checked once, when `init` and `stake`
//! create them; after that an account owned by this program with the config or stake
//! discriminator can only be one of those (no other instruction writes either
//! discriminator), so loading compares the stored links instead of re-deriving seeds.
//!
//! Aliasing: the loaders hand out `&mut` over account data for the rest of the
//! instruction, so they are `unsafe fn`s whose callers keep the rule: each account is
//! loaded once, and no other reference to its data is held while the result lives.
//! Accounts of different types cannot alias (their discriminators differ); where two
//! accounts of one type are taken, the caller compares their addresses first.

use super::keys;
use pinocchio::{AccountView, Address};
use staking_interface::discriminator::Discriminator;
use staking_interface::error::StakingError;
use staking_interface::pod::{eq8, Layout};
use staking_interface::state::{Config, Stake, CONFIG_SIZE, STAKE_SIZE};

/// The account's data, mutably, for the rest of the instruction.
///
/// # Safety
/// The caller must not hold another reference to the same account's data. Accounts of
/// different types cannot alias (their discriminators differ), and each instruction takes
/// one config and one stake.
#[inline(always)]
pub unsafe fn data_mut<'a>(account: &AccountView) -> &'a mut [u8] {
    // SAFETY: the runtime maps each account's data at `data_ptr()` for `data_len()` bytes,
    // writable for the whole instruction (writes to a read-only account fail the
    // transaction when it ends, so no write to one can persist).
    unsafe { core::slice::from_raw_parts_mut(account.data_ptr() as *mut u8, account.data_len()) }
}

/// Checks owner, size and discriminator, and loads `T`.
#[inline(always)]
fn load<'a, T: Layout + Discriminator>(account: &AccountView, program_id: &Address, size: usize) -> Result<&'a mut T, StakingError> {
    if !keys::owned_by(account, program_id) {
        return Err(StakingError::AccountOwnerInvalid);
    }
    if account.data_len() != size {
        return Err(StakingError::AccountDiscriminatorInvalid);
    }
    // SAFETY: one account of each type per instruction; no other reference to its data.
    let data = unsafe { data_mut(account) };
    let (discriminator, rest) = data.split_first_chunk_mut::<8>().ok_or(StakingError::AccountSizeInvalid)?;
    if !eq8(discriminator, &T::DISCRIMINATOR) {
        return Err(StakingError::AccountDiscriminatorInvalid);
    }
    T::load_mut(rest).ok_or(StakingError::AccountSizeInvalid)
}

/// A config of this program.
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_config<'a>(account: &AccountView, program_id: &Address) -> Result<&'a mut Config, StakingError> {
    load::<Config>(account, program_id, CONFIG_SIZE)
}

/// A stake of this program under `config`, owned by `owner`.
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_stake<'a>(account: &AccountView, config: &AccountView, owner: &AccountView, program_id: &Address) -> Result<&'a mut Stake, StakingError> {
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake_of(account, config, program_id) }?;
    if !stake.owner.is(keys::key(owner)) {
        return Err(StakingError::StakeOwnerMismatch);
    }
    Ok(stake)
}

/// A stake of this program, under whichever config (unlock: its locker is what matters).
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_any_stake<'a>(account: &AccountView, program_id: &Address) -> Result<&'a mut Stake, StakingError> {
    load::<Stake>(account, program_id, STAKE_SIZE)
}

/// A stake of this program under `config`, whoever owns it (slash).
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_stake_of<'a>(account: &AccountView, config: &AccountView, program_id: &Address) -> Result<&'a mut Stake, StakingError> {
    let stake = load::<Stake>(account, program_id, STAKE_SIZE)?;
    if !stake.config.is(keys::key(config)) {
        return Err(StakingError::ConfigMismatch);
    }
    Ok(stake)
}

#[inline(always)]
pub fn check_vault(config: &Config, vault: &AccountView) -> Result<(), StakingError> {
    if !config.vault.is(keys::key(vault)) {
        return Err(StakingError::VaultMismatch);
    }
    Ok(())
}

#[inline(always)]
pub fn check_rewards_pool(config: &Config, pool: &AccountView) -> Result<(), StakingError> {
    if !config.rewards_pool.is(keys::key(pool)) {
        return Err(StakingError::RewardsPoolMismatch);
    }
    Ok(())
}

/// Moves all lamports of `from` to `to` and closes `from`: owner reset to the System
/// program, data length and lamports zero. The runtime zeroes the data, so the account
/// cannot be revived as ours later in the transaction.
#[inline(always)]
pub fn close(from: &AccountView, to: &AccountView) -> Result<(), StakingError> {
    let lamports = staking_interface::math::add(to.lamports(), from.lamports())?;
    let mut to = *to;
    let mut from = *from;
    to.set_lamports(lamports);
    from.set_lamports(0);
    // SAFETY: no reference to `from`'s data is used after this point by the caller.
    unsafe { from.close_unchecked() };
    Ok(())
}
