//! slash: takes up to `amount` from a stake: `bounty` of it to `bounty_to` (the jobs
//! program pays reclaim's caller so), the rest to the rewards pool or the treasury.
//!
//! Signed by the config's authority, or by the slasher program's PDA ["slasher"]: that
//! address was derived from the program id when the config stored it, and only that
//! program can sign for it (invoke_signed with its seeds), so a CPI from any other program,
//! or signed by any other PDA of the slasher program, is refused. Or by the stake's locker
//! while it holds a lock: the slasher that the stake backs jobs for keeps the power to
//! slash it for them after the authority names another slasher (`lock`).

use super::Context;
use crate::shared::accounts::{check_rewards_pool, check_vault, load_config, load_stake_of};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::{distribute, set_weight, weight_of};
use crate::shared::token::{check_token_account, check_token_program, PdaSeeds, Transfer};
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::Slashed;
use staking_interface::instruction::slash::{Accounts, Args};
use staking_interface::math::sub;
use staking_interface::pod::{is_zero32, PodU64, Pubkey};
use staking_interface::seeds;
use staking_interface::state::{SlashDestination, StakeState};

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    if args.amount.get() == 0 {
        return Err(StakingError::AmountZero.into());
    }
    if args.bounty.get() > args.amount.get() {
        return Err(StakingError::BountyAboveAmount.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let stake = unsafe { load_stake_of(&accounts.stake, &accounts.config, context.program_id) }?;
    let slasher = keys::key(&accounts.slasher);
    let by_slasher_program = !is_zero32(&config.slasher.0) && config.slasher.is(slasher);
    let by_locker = stake.locked.get() != 0 && stake.locker.is(slasher);
    if !config.authority.is(slasher) && !by_slasher_program && !by_locker {
        return Err(StakingError::SlasherInvalid.into());
    }
    check_vault(config, &accounts.vault)?;
    let to_pool = config.slash_to.is(SlashDestination::RewardsPool);
    if to_pool {
        check_rewards_pool(config, &accounts.destination)?;
    } else if !config.treasury.is(keys::key(&accounts.destination)) {
        return Err(StakingError::TreasuryMismatch.into());
    }
    // The bounty's payee, checked whatever the bounty. Into the vault, a bounty would
    // debit the stake while the tokens stayed there, unaccounted; into the rewards pool,
    // it would be tokens no deposit booked (a zero bounty moves nothing, so the pool may
    // stand in for "no payee" then).
    check_token_account(&accounts.bounty_to, &config.mint.0, None)?;
    let bounty_to = keys::key(&accounts.bounty_to);
    if config.vault.is(bounty_to) || (args.bounty.get() != 0 && config.rewards_pool.is(bounty_to)) {
        return Err(StakingError::BountyAccountInvalid.into());
    }

    let held = stake.amount.get();
    let slashed = if args.amount.get() < held { args.amount.get() } else { held };
    // A stake holding less than `amount` pays at most what was taken as the bounty.
    let bounty = if args.bounty.get() < slashed { args.bounty.get() } else { slashed };
    let to_destination = sub(slashed, bounty)?;
    let vault_seeds = PdaSeeds { prefix: seeds::VAULT, config: accounts.config.address(), bump: [config.vault_bump] };
    Transfer { from: &accounts.vault, to: &accounts.bounty_to, authority: &accounts.vault, amount: bounty, pda: Some(&vault_seeds) }
        .invoke()?;
    Transfer { from: &accounts.vault, to: &accounts.destination, authority: &accounts.vault, amount: to_destination, pda: Some(&vault_seeds) }
        .invoke()?;
    let amount = sub(held, slashed)?;
    if stake.state.is(StakeState::Staked) {
        let weight = weight_of(config, amount, stake.duration.get())?;
        set_weight(config, stake, weight)?;
    }
    stake.amount = PodU64::new(amount);
    // Running totals wrap: they are statistics, and must never stop a slash (a reclaim).
    stake.slashed = PodU64::new(stake.slashed.get().wrapping_add(slashed));
    config.total_staked = PodU64::new(sub(config.total_staked.get(), slashed)?);
    config.slashed = PodU64::new(config.slashed.get().wrapping_add(slashed));
    if to_pool {
        distribute(config, to_destination)?;
    }
    emit(Slashed {
        stake: Pubkey(*keys::key(&accounts.stake)),
        by: Pubkey(*slasher),
        slashed: PodU64::new(slashed),
        amount: stake.amount,
        slash_to: config.slash_to.0,
        bounty: PodU64::new(bounty),
        bounty_to: Pubkey(*bounty_to),
    });
    Ok(())
}
