//! claim: sends a stake's owner the rewards it earned.

use super::Context;
use crate::shared::accounts::{check_rewards_pool, load_config, load_stake};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::settle;
use crate::shared::token::{check_token_account, check_token_program, PdaSeeds, Transfer};
use pinocchio::ProgramResult;
use staking_interface::event::Claimed;
use staking_interface::instruction::claim::{Accounts, Args};
use staking_interface::pod::{PodU64, Pubkey};
use staking_interface::seeds;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake(&accounts.stake, &accounts.config, &accounts.owner, context.program_id) }?;
    check_rewards_pool(config, &accounts.rewards_pool)?;
    check_token_account(&accounts.owner_token, &config.mint.0, Some(keys::key(&accounts.owner)))?;
    settle(config, stake)?;
    let owed = stake.rewards_owed.get();
    let pool_seeds = PdaSeeds { prefix: seeds::REWARDS, config: accounts.config.address(), bump: [config.rewards_bump] };
    Transfer { from: &accounts.rewards_pool, to: &accounts.owner_token, authority: &accounts.rewards_pool, amount: owed, pda: Some(&pool_seeds) }
        .invoke()?;
    stake.rewards_owed = PodU64::new(0);
    // Running totals wrap (as `rewards_deposited`): no total may ever stop a claim.
    stake.rewards_claimed = PodU64::new(stake.rewards_claimed.get().wrapping_add(owed));
    config.rewards_claimed = PodU64::new(config.rewards_claimed.get().wrapping_add(owed));
    emit(Claimed { stake: Pubkey(*keys::key(&accounts.stake)), amount: PodU64::new(owed) });
    Ok(())
}
