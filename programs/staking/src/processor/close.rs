//! close: closes an empty stake (no tokens, no rewards owed); rent back to the owner.

use super::Context;
use crate::shared::accounts::{close, load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::{set_weight, settle};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::StakeClosed;
use staking_interface::instruction::close::{Accounts, Args};
use staking_interface::math::sub;
use staking_interface::pod::{PodU64, Pubkey};

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake(&accounts.stake, &accounts.config, &accounts.owner, context.program_id) }?;
    if stake.amount.get() != 0 {
        return Err(StakingError::StakeNotEmpty.into());
    }
    // Slashed to nothing while backing jobs: the locker's release must still find it.
    if stake.locked.get() != 0 {
        return Err(StakingError::StakeLocked.into());
    }
    settle(config, stake)?;
    if stake.rewards_owed.get() != 0 {
        return Err(StakingError::RewardsUnclaimed.into());
    }
    // An empty stake has weight 0 (floor(0 x m)); kept exact anyway.
    set_weight(config, stake, 0)?;
    config.stakes = PodU64::new(sub(config.stakes.get(), 1)?);
    emit(StakeClosed { stake: Pubkey(*keys::key(&accounts.stake)) });
    close(&accounts.stake, &accounts.owner)?;
    Ok(())
}
