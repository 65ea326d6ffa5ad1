//! Loading this program's accounts with every check: owner, discriminator, size.
//!
//! Aliasing: the loaders hand out `&mut` over account data for the rest of the
//! instruction, so they are `unsafe fn`s whose callers keep the rule: each account is
//! loaded once, and no other reference to its data is held while the result lives.
//! Accounts of different types cannot alias (their discriminators differ); where two
//! accounts of one type are taken, the caller compares their addresses first.

use super::keys;
use jobs_interface::discriminator::Discriminator;
use jobs_interface::error::JobsError;
use jobs_interface::pod::{eq8, Layout};
use jobs_interface::queue::Queue;
use jobs_interface::state::{market_size, Job, Market, NodeProfile, QueueEntry, JOB_SIZE, NODE_PROFILE_SIZE};
use pinocchio::{AccountView, Address};

/// The account's data, mutably, for the rest of the instruction.
///
/// # Safety
/// The caller must not hold another reference to the same account's data. Accounts of
/// different types cannot alias (their discriminators differ); where two accounts of one
/// type are taken, the caller compares their addresses first.
#[inline(always)]
pub unsafe fn data_mut<'a>(account: &AccountView) -> &'a mut [u8] {
    // SAFETY: the runtime maps each account's data at `data_ptr()` for `data_len()` bytes,
    // writable for the whole instruction (writes to a read-only account fail the
    // transaction when it ends, so no write to one can persist).
    unsafe { core::slice::from_raw_parts_mut(account.data_ptr() as *mut u8, account.data_len()) }
}

/// A loaded market: its header and its queue entries.
pub struct MarketView<'a> {
    pub header: &'a mut Market,
    pub entries: &'a mut [QueueEntry],
}

impl<'a> MarketView<'a> {
    #[inline(always)]
    pub fn queue(&mut self) -> Queue<'_> {
        Queue { header: &mut self.header.queue, entries: self.entries }
    }
}

/// Checks that `account` is an initialised market of this program and loads it.
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_market<'a>(account: &AccountView, program_id: &Address) -> Result<MarketView<'a>, JobsError> {
    if !keys::owned_by(account, program_id) {
        return Err(JobsError::AccountOwnerInvalid);
    }
    // SAFETY: one market per instruction; no other reference to its data exists.
    let data = unsafe { data_mut(account) };
    let Some((discriminator, rest)) = data.split_first_chunk_mut::<8>() else {
        return Err(JobsError::AccountDiscriminatorInvalid);
    };
    if !eq8(discriminator, &Market::DISCRIMINATOR) {
        return Err(JobsError::AccountDiscriminatorInvalid);
    }
    if rest.len() < Market::LEN {
        return Err(JobsError::AccountSizeInvalid);
    }
    let (header, entries) = rest.split_at_mut(Market::LEN);
    let header = Market::load_mut(header).ok_or(JobsError::AccountSizeInvalid)?;
    let capacity = header.entries.0.get();
    if capacity > u16::MAX as u32 || market_size(capacity as u16) != data_len_of(account) {
        return Err(JobsError::AccountSizeInvalid);
    }
    // SAFETY: the size check above gives exactly `capacity` entries of alignment 1.
    let entries = unsafe {
        core::slice::from_raw_parts_mut(entries.as_mut_ptr() as *mut QueueEntry, capacity as usize)
    };
    Ok(MarketView { header, entries })
}

#[inline(always)]
fn data_len_of(account: &AccountView) -> usize {
    account.data_len()
}

/// Checks that `account` is a job of this program and loads it.
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_job<'a>(account: &AccountView, program_id: &Address) -> Result<&'a mut Job, JobsError> {
    if !keys::owned_by(account, program_id) {
        return Err(JobsError::AccountOwnerInvalid);
    }
    if account.data_len() != JOB_SIZE {
        return Err(JobsError::AccountDiscriminatorInvalid);
    }
    // SAFETY: one job per instruction; no other reference to its data exists.
    let data = unsafe { data_mut(account) };
    let Some((discriminator, rest)) = data.split_first_chunk_mut::<8>() else {
        return Err(JobsError::AccountDiscriminatorInvalid);
    };
    if !eq8(discriminator, &Job::DISCRIMINATOR) {
        return Err(JobsError::AccountDiscriminatorInvalid);
    }
    Job::load_mut(rest).ok_or(JobsError::AccountSizeInvalid)
}

/// Loads a job and checks that it belongs to `market`.
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_job_of<'a>(account: &AccountView, market: &AccountView, program_id: &Address) -> Result<&'a mut Job, JobsError> {
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job(account, program_id) }?;
    if !job.market.is(keys::key(&market)) {
        return Err(JobsError::MarketMismatch);
    }
    Ok(job)
}

/// Checks that `account` is a node profile of this program and that it is `node`'s, and
/// loads it. Only set_node_profile writes the profile discriminator, and only at the PDA
/// ["node_profile", node] of the node it stores, so an account of ours with that
/// discriminator that stores `node` is `node`'s profile: no derivation needed.
///
/// # Safety
/// The module's aliasing rule: no other reference to this account's data while the
/// result lives.
#[inline(always)]
pub unsafe fn load_node_profile<'a>(account: &AccountView, node: &AccountView, program_id: &Address) -> Result<&'a mut NodeProfile, JobsError> {
    if !keys::owned_by(account, program_id) {
        return Err(JobsError::AccountOwnerInvalid);
    }
    if account.data_len() != NODE_PROFILE_SIZE {
        return Err(JobsError::AccountDiscriminatorInvalid);
    }
    // SAFETY: one profile per instruction; no other reference to its data exists.
    let data = unsafe { data_mut(account) };
    let Some((discriminator, rest)) = data.split_first_chunk_mut::<8>() else {
        return Err(JobsError::AccountDiscriminatorInvalid);
    };
    if !eq8(discriminator, &NodeProfile::DISCRIMINATOR) {
        return Err(JobsError::AccountDiscriminatorInvalid);
    }
    let profile = NodeProfile::load_mut(rest).ok_or(JobsError::AccountSizeInvalid)?;
    if !profile.node.is(keys::key(node)) {
        return Err(JobsError::NodeProfileMismatch);
    }
    Ok(profile)
}

/// Moves all lamports of `from` to `to` and closes `from`: owner reset to the System
/// program, data length and lamports zero. The runtime zeroes the data, so the account
/// cannot be revived as ours later in the transaction.
#[inline(always)]
pub fn close(from: &AccountView, to: &AccountView) -> Result<(), JobsError> {
    let lamports = super::math::add(to.lamports(), from.lamports())?;
    let mut to = *to;
    let mut from = *from;
    to.set_lamports(lamports);
    from.set_lamports(0);
    // SAFETY: no reference to `from`'s data is used after this point by the caller.
    unsafe { from.close_unchecked() };
    Ok(())
}
