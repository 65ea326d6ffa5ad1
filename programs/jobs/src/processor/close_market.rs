//! close_market: the authority closes a market that has no job accounts left; while some
//! remain, it moves the market to Closing instead.
//!
//! Without the Closing state anyone could keep a market open for ever by posting a job
//! now and then. Closing refuses posts and waiting nodes (MarketClosing), lets the
//! authority cancel waiting jobs (full refunds), and lets running jobs settle as usual:
//! each job is then done within its own timeout x attempts, and cleanable within its own
//! retention, all bounded (`state::limits`), after which close_market closes the market.

use crate::shared::keys;
use super::Context;
use crate::shared::accounts::{close, load_market};
use crate::shared::events::emit;
use crate::shared::settle::check_vault;
use crate::shared::token::{check_token_account, check_token_program, close_vault, Transfer, VaultSeeds};
use jobs_interface::error::JobsError;
use jobs_interface::event::{MarketClosed, MarketClosing};
use jobs_interface::state::{MarketState, QueueSide};
use jobs_interface::instruction::close_market::{Accounts, Args};
use jobs_interface::pod::{PodU64, Pubkey};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let market = unsafe { load_market(&accounts.market, context.program_id) }?;
    let header = market.header;
    if !header.authority.is(keys::key(&accounts.authority)) {
        return Err(JobsError::AuthorityMismatch.into());
    }
    check_vault(header, &accounts.vault)?;
    // Stray tokens go from the vault to this account: never the vault itself.
    if keys::key(&accounts.authority_token) == keys::key(&accounts.vault) {
        return Err(JobsError::AccountAliased.into());
    }
    // Waiting nodes of a market that slashes hold locks on their stakes: dropping their
    // entries with the market would leave those locked for ever. They leave first (while
    // Closing, the authority may remove them with `leave`).
    let nodes_wait = header.queue.side.is(QueueSide::Nodes) && header.slash_penalty.get() != 0;
    if header.jobs.get() != 0 || header.escrowed.get() != 0 || nodes_wait {
        if header.state.is(MarketState::Closing) {
            return Err(JobsError::MarketHasJobs.into());
        }
        // Waiting nodes stay: a job that comes back (quit, reclaim) still goes to the
        // longest-waiting node, which drains the market sooner. They are dropped with the
        // market when it closes, as before.
        header.state.set(MarketState::Closing);
        emit(MarketClosing { market: Pubkey(*accounts.market.address().as_array()) });
        return Ok(());
    }
    let mint = header.mint.0;
    let vault_key = *accounts.vault.address().as_array();
    // No job is open, so anything in the vault was sent to it by mistake: sweep it to the
    // authority rather than let a stray transfer keep the market open forever.
    let stray = check_token_account(&accounts.vault, &mint, &vault_key)?;
    let seeds = VaultSeeds { market: accounts.market.address(), bump: [header.vault_bump] };
    if stray > 0 {
        check_token_account(&accounts.authority_token, &mint, accounts.authority.address().as_array())?;
        Transfer { from: &accounts.vault, to: &accounts.authority_token, authority: &accounts.vault, amount: stray, pda: Some(&seeds) }
            .invoke()?;
    }
    close_vault(&accounts.vault, &accounts.authority, &seeds)?;
    emit(MarketClosed { market: Pubkey(*accounts.market.address().as_array()), swept: PodU64::new(stray) });
    close(&accounts.market, &accounts.authority)?;
    Ok(())
}
