//! update_market: the authority changes the settings for later posts. Every job keeps the
//! terms it was posted under (price, timeout cap, retention, attempts, penalty, bounty,
//! fee), so a re-priced or re-tuned market never changes what a payer or a node already
//! agreed to. The staking config never changes (SettingInvalid).

use crate::shared::keys;
use super::open_market::{apply_settings, check_settings};
use super::Context;
use crate::shared::accounts::load_market;
use crate::shared::events::emit;
use jobs_interface::error::JobsError;
use jobs_interface::event::MarketUpdated;
use jobs_interface::instruction::update_market::{Accounts, Args};
use jobs_interface::pod::Pubkey;
use jobs_interface::instruction::open_market::Args as Settings;
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let market = unsafe { load_market(&accounts.market, context.program_id) }?;
    if !market.header.authority.is(keys::key(&accounts.authority)) {
        return Err(JobsError::AuthorityMismatch.into());
    }
    // The staking config is the market's for good: the stakes admitted, slashed and paid
    // under it are what every job and node agreed to. So is the slash penalty: every job
    // running and entry waiting has that much of its node's stake locked, and releases
    // the same amount (a node is never slashed for more than its stake backs).
    if !market.header.staking_config.is(&args.staking_config.0)
        || market.header.slash_penalty.get() != args.slash_penalty.get()
    {
        return Err(JobsError::SettingInvalid.into());
    }
    // The two argument layouts are the same settings, field for field.
    let settings = Settings {
        price_per_second: args.price_per_second,
        max_timeout: args.max_timeout,
        min_stake: args.min_stake,
        retention: args.retention,
        max_attempts: args.max_attempts,
        max_entries_per_node: args.max_entries_per_node,
        slash_penalty: args.slash_penalty,
        reclaim_bounty_bps: args.reclaim_bounty_bps,
        fee_bps: args.fee_bps,
        staking_config: args.staking_config,
    };
    check_settings(&settings)?;
    apply_settings(market.header, &settings);
    emit(MarketUpdated {
        market: Pubkey(*accounts.market.address().as_array()),
        price_per_second: args.price_per_second,
        max_timeout: args.max_timeout,
        min_stake: args.min_stake,
        retention: args.retention,
        max_attempts: args.max_attempts,
        max_entries_per_node: args.max_entries_per_node,
        slash_penalty: args.slash_penalty,
        reclaim_bounty_bps: args.reclaim_bounty_bps,
        fee_bps: args.fee_bps,
    });
    Ok(())
}
