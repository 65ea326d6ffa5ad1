//! withdraw: sends the owner what has unlocked and not been withdrawn yet.
//!
//! `unlock_base` tokens unlock linearly over `duration` from `unlock_start`; a slash while
//! unlocking lowers `amount` only, so it takes the tokens that would have unlocked last.

use super::Context;
use crate::shared::accounts::{check_vault, load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::sysvars::now;
use crate::shared::token::{check_token_account, check_token_program, PdaSeeds, Transfer};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Withdrawn;
use staking_interface::instruction::withdraw::{Accounts, Args};
use staking_interface::math::{add, sub, unlocked};
use staking_interface::pod::{PodU64, Pubkey};
use staking_interface::seeds;
use staking_interface::state::StakeState;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake(&accounts.stake, &accounts.config, &accounts.owner, context.program_id) }?;
    check_vault(config, &accounts.vault)?;
    if !stake.state.is(StakeState::Unlocking) {
        return Err(StakingError::StakeNotUnlocking.into());
    }
    check_token_account(&accounts.owner_token, &config.mint.0, Some(keys::key(&accounts.owner)))?;
    let elapsed = now(&accounts.clock)?.saturating_sub(stake.unlock_start.get());
    let released = unlocked(stake.unlock_base.get(), stake.duration.get(), elapsed)?;
    let amount = stake.amount.get();
    let available = released.saturating_sub(stake.withdrawn.get());
    let available = if available < amount { available } else { amount };

    let vault_seeds = PdaSeeds { prefix: seeds::VAULT, config: accounts.config.address(), bump: [config.vault_bump] };
    Transfer { from: &accounts.vault, to: &accounts.owner_token, authority: &accounts.vault, amount: available, pda: Some(&vault_seeds) }
        .invoke()?;
    stake.withdrawn = PodU64::new(add(stake.withdrawn.get(), available)?);
    stake.amount = PodU64::new(sub(amount, available)?);
    config.total_staked = PodU64::new(sub(config.total_staked.get(), available)?);
    emit(Withdrawn { stake: Pubkey(*keys::key(&accounts.stake)), withdrawn: PodU64::new(available), amount: stake.amount });
    Ok(())
}
