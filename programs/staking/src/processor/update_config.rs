//! update_config: the authority changes the treasury, where slashes go, and the slasher
//! program (its PDA derived and stored here).

use super::init::slasher_of;
use super::Context;
use crate::shared::accounts::load_config;
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::token::check_token_account;
use pinocchio::ProgramResult;
use staking_interface::error::StakingError;
use staking_interface::event::ConfigUpdated;
use staking_interface::instruction::update_config::{Accounts, Args};
use staking_interface::pod::Pubkey;
use staking_interface::state::SlashDestination;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    if !config.authority.is(keys::key(&accounts.authority)) {
        return Err(StakingError::AuthorityMismatch.into());
    }
    if SlashDestination::from_u8(args.slash_to).is_none() {
        return Err(StakingError::SettingInvalid.into());
    }
    check_token_account(&accounts.treasury, &config.mint.0, None)?;
    // Slashes into the vault would debit stakes while the tokens stay there, unaccounted;
    // into the pool, they would be fees nobody booked.
    let treasury = keys::key(&accounts.treasury);
    if config.vault.is(treasury) || config.rewards_pool.is(treasury) {
        return Err(StakingError::SettingInvalid.into());
    }
    config.treasury = Pubkey(*keys::key(&accounts.treasury));
    config.slash_to.0 = args.slash_to;
    config.slasher_program = args.slasher_program;
    config.slasher = slasher_of(&args.slasher_program);
    emit(ConfigUpdated {
        config: Pubkey(*keys::key(&accounts.config)),
        treasury: config.treasury,
        slasher_program: config.slasher_program,
        slash_to: args.slash_to,
    });
    Ok(())
}
