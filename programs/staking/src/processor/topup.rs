//! topup: adds tokens to a staked stake; its weight grows with them.

use super::Context;
use crate::shared::accounts::{check_vault, load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::{set_weight, weight_of};
use crate::shared::token::{check_token_account, check_token_program, Transfer};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::ToppedUp;
use staking_interface::instruction::topup::{Accounts, Args};
use staking_interface::math::add;
use staking_interface::pod::{PodU64, Pubkey};
use staking_interface::state::StakeState;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    let added = args.amount.get();
    if added == 0 {
        return Err(StakingError::AmountZero.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake(&accounts.stake, &accounts.config, &accounts.owner, context.program_id) }?;
    check_vault(config, &accounts.vault)?;
    if !stake.state.is(StakeState::Staked) {
        return Err(StakingError::StakeNotStaked.into());
    }
    check_token_account(&accounts.owner_token, &config.mint.0, Some(keys::key(&accounts.owner)))?;
    let amount = add(stake.amount.get(), added)?;
    let weight = weight_of(config, amount, stake.duration.get())?;
    Transfer { from: &accounts.owner_token, to: &accounts.vault, authority: &accounts.owner, amount: added, pda: None }.invoke()?;
    set_weight(config, stake, weight)?;
    stake.amount = PodU64::new(amount);
    config.total_staked = PodU64::new(add(config.total_staked.get(), added)?);
    emit(ToppedUp { stake: Pubkey(*keys::key(&accounts.stake)), added: args.amount, amount: stake.amount, weight: stake.weight });
    Ok(())
}
