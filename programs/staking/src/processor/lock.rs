//! lock: the config's slasher program makes a staked stake back one more obligation (the
//! jobs program: a market's slash penalty, for each job a node runs and each entry it
//! waits at). What a stake backs can be neither unstaked nor closed away, so a node can
//! never hold more jobs than its stake can be slashed for (docs/architecture.md, "What
//! a market guarantees").
//!
//! Only the config's current slasher PDA may lock (it signs by CPI with its seeds; no
//! other program can sign for it), and only while no other slasher holds a lock on the
//! stake: `locker` is then the one key that may release it, or slash it past a change of
//! slasher.

use super::Context;
use crate::shared::accounts::{load_config, load_stake_of};
use crate::shared::events::emit;
use crate::shared::keys;
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Locked;
use staking_interface::instruction::lock::{Accounts, Args};
use staking_interface::math::add;
use staking_interface::pod::{is_zero32, PodU64, Pubkey};
use staking_interface::state::StakeState;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    let amount = args.amount.get();
    if amount == 0 {
        return Err(StakingError::AmountZero.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    let locker = keys::key(&accounts.locker);
    if is_zero32(&config.slasher.0) || !config.slasher.is(locker) {
        return Err(StakingError::LockerInvalid.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake_of(&accounts.stake, &accounts.config, context.program_id) }?;
    let held = stake.locked.get();
    if held != 0 && !stake.locker.is(locker) {
        return Err(StakingError::LockerInvalid.into());
    }
    // An unlocking stake has no weight and is on its way out: it backs nothing new.
    if !stake.state.is(StakeState::Staked) {
        return Err(StakingError::StakeNotStaked.into());
    }
    let locked = add(held, amount)?;
    if locked > stake.amount.get() {
        return Err(StakingError::LockAboveStake.into());
    }
    stake.locked = PodU64::new(locked);
    stake.locker = Pubkey(*locker);
    emit(Locked { stake: Pubkey(*keys::key(&accounts.stake)), locker: stake.locker, amount: args.amount, locked: stake.locked });
    Ok(())
}
