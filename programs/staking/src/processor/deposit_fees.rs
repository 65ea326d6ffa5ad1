//! deposit_fees: pays tokens into the rewards pool, shared by the stakers' weights.

use super::Context;
use crate::shared::accounts::{check_rewards_pool, load_config};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::distribute;
use crate::shared::token::{check_token_program, Transfer};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::FeesDeposited;
use staking_interface::instruction::deposit_fees::{Accounts, Args};
use staking_interface::pod::{PodU64, Pubkey};

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    if args.amount.get() == 0 {
        return Err(StakingError::AmountZero.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    check_rewards_pool(config, &accounts.rewards_pool)?;
    // SPL Token checks that the depositor may spend from `depositor_token` and that it
    // holds the pool's mint (a transfer between mints fails, and the transaction with it).
    Transfer { from: &accounts.depositor_token, to: &accounts.rewards_pool, authority: &accounts.depositor, amount: args.amount.get(), pda: None }
        .invoke()?;
    let total_weight = distribute(config, args.amount.get())?;
    emit(FeesDeposited { config: Pubkey(*keys::key(&accounts.config)), amount: args.amount, total_weight: PodU64::new(total_weight) });
    Ok(())
}
