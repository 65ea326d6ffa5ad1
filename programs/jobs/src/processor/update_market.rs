//! update_market: the authority changes the settings for later posts. Every job keeps the
//! terms it was posted under (price, timeout cap, retention, attempts), so a re-priced or
//! re-tuned market never changes what a payer already agreed to.

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
    let accounts = Accounts::parse(context.accounts, context.program_id.as_array())?;
    let market = load_market(&accounts.market, context.program_id)?;
    if !market.header.authority.is(keys::key(&accounts.authority)) {
        return Err(JobsError::AuthorityMismatch.into());
    }
    // The two argument layouts are the same settings, field for field.
    let settings = Settings {
        price_per_second: args.price_per_second,
        max_timeout: args.max_timeout,
        min_stake: args.min_stake,
        retention: args.retention,
        max_attempts: args.max_attempts,
        max_entries_per_node: args.max_entries_per_node,
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
    });
    Ok(())
}
