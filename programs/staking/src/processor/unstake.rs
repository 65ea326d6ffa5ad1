//! unstake: starts the unlock. Weight drops to 0 (rewards settled first); the stake's
//! tokens unlock linearly over its duration from now.

use super::Context;
use crate::shared::accounts::{load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::set_weight;
use crate::shared::sysvars::now;
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Unstaked;
use staking_interface::instruction::unstake::{Accounts, Args};
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
    if !stake.state.is(StakeState::Staked) {
        return Err(StakingError::StakeNotStaked.into());
    }
    // A stake that backs jobs stays until they are released: unlocking would let it be
    // withdrawn from under them (withdraw needs an unlocking stake, and a lock needs a
    // staked one, so nothing locked is ever withdrawn).
    if stake.locked.get() != 0 {
        return Err(StakingError::StakeLocked.into());
    }
    let now = now(&accounts.clock)?;
    set_weight(config, stake, 0)?;
    stake.state.set(StakeState::Unlocking);
    stake.unlock_start = PodI64::new(now);
    stake.unlock_base = stake.amount;
    stake.withdrawn = PodU64::new(0);
    emit(Unstaked {
        stake: Pubkey(*keys::key(&accounts.stake)),
        amount: stake.amount,
        // Durations are at most 10 years: no overflow short of the year 292 billion.
        unlock_end: PodI64::new(now.saturating_add(stake.duration.get())),
    });
    Ok(())
}
