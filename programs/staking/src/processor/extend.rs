//! extend: lengthens a staked stake's lock (never shortens it); its weight follows the
//! multiplier.

use super::Context;
use crate::shared::accounts::{load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::{set_weight, weight_of};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Extended;
use staking_interface::instruction::extend::{Accounts, Args};
use staking_interface::pod::Pubkey;
use staking_interface::state::StakeState;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake(&accounts.stake, &accounts.config, &accounts.owner, context.program_id) }?;
    if !stake.state.is(StakeState::Staked) {
        return Err(StakingError::StakeNotStaked.into());
    }
    let duration = args.duration.get();
    if duration < stake.duration.get() {
        return Err(StakingError::DurationShorter.into());
    }
    let weight = weight_of(config, stake.amount.get(), duration)?;
    set_weight(config, stake, weight)?;
    stake.duration = args.duration;
    emit(Extended { stake: Pubkey(*keys::key(&accounts.stake)), duration: args.duration, weight: stake.weight });
    Ok(())
}
