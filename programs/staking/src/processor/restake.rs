//! restake: cancels the unlock. What is left is locked again for the same duration, with
//! its weight.

use super::Context;
use crate::shared::accounts::{load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::{set_weight, weight_of};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Restaked;
use staking_interface::instruction::restake::{Accounts, Args};
use staking_interface::pod::{PodI64, PodU64, Pubkey};
use staking_interface::state::StakeState;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake(&accounts.stake, &accounts.config, &accounts.owner, context.program_id) }?;
    if !stake.state.is(StakeState::Unlocking) {
        return Err(StakingError::StakeNotUnlocking.into());
    }
    if stake.amount.get() == 0 {
        return Err(StakingError::AmountZero.into());
    }
    let weight = weight_of(config, stake.amount.get(), stake.duration.get())?;
    set_weight(config, stake, weight)?;
    stake.state.set(StakeState::Staked);
    stake.unlock_start = PodI64::new(0);
    stake.unlock_base = PodU64::new(0);
    stake.withdrawn = PodU64::new(0);
    emit(Restaked { stake: Pubkey(*keys::key(&accounts.stake)), amount: stake.amount, weight: stake.weight });
    Ok(())
}
