//! sweep: sends the rewards no stake owns (deposited while no stake had weight) from the
//! rewards pool to the treasury. Anyone may call it: the destination is the config's.
//!
//! Why not to the next staker: one base unit staked after a quiet spell would take every
//! fee paid meanwhile. Why not refuse the deposit: a market's posts pay the fee whether or
//! not anyone stakes yet, and must not fail for it.

use super::Context;
use crate::shared::accounts::{check_rewards_pool, load_config};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::token::{check_token_account, check_token_program, PdaSeeds, Transfer};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Swept;
use staking_interface::instruction::sweep::{Accounts, Args};
use staking_interface::pod::{PodU64, Pubkey};
use staking_interface::seeds;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    check_rewards_pool(config, &accounts.rewards_pool)?;
    if !config.treasury.is(keys::key(&accounts.treasury)) {
        return Err(StakingError::TreasuryMismatch.into());
    }
    check_token_account(&accounts.treasury, &config.mint.0, None)?;
    let amount = config.rewards_unowned.get();
    if amount == 0 {
        return Err(StakingError::AmountZero.into());
    }
    let pool_seeds = PdaSeeds { prefix: seeds::REWARDS, config: accounts.config.address(), bump: [config.rewards_bump] };
    Transfer { from: &accounts.rewards_pool, to: &accounts.treasury, authority: &accounts.rewards_pool, amount, pda: Some(&pool_seeds) }
        .invoke()?;
    config.rewards_unowned = PodU64::new(0);
    config.rewards_swept = PodU64::new(config.rewards_swept.get().wrapping_add(amount));
    emit(Swept { config: Pubkey(*keys::key(&accounts.config)), treasury: config.treasury, amount: PodU64::new(amount) });
    Ok(())
}
