//! unlock: the slasher that locked a stake releases what it backed for one obligation
//! (all that is locked if less: a slash may have taken the rest of the stake, and the
//! release must never fail for that, or the job it settles would be stuck).
//!
//! The stake is not tied to a config here: `locker` is the only key that can sign, and it
//! is what `lock` stored, under whichever config the stake belongs to.

use super::Context;
use crate::shared::accounts::load_any_stake;
use crate::shared::events::emit;
use crate::shared::keys;
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Unlocked;
use staking_interface::instruction::unlock::{Accounts, Args};
use staking_interface::pod::{PodU64, Pubkey};

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_any_stake(&accounts.stake, context.program_id) }?;
    let held = stake.locked.get();
    if held == 0 || !stake.locker.is(keys::key(&accounts.locker)) {
        return Err(StakingError::LockerInvalid.into());
    }
    let locked = held.saturating_sub(args.amount.get());
    stake.locked = PodU64::new(locked);
    if locked == 0 {
        stake.locker = Pubkey::default();
    }
    emit(Unlocked { stake: Pubkey(*keys::key(&accounts.stake)), amount: args.amount, locked: stake.locked });
    Ok(())
}
