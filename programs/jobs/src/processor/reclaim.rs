//! reclaim: anyone, once a running job is past started + timeout without a finish. The
//! silent node is not paid. The job goes back to the front of the queue (never to that
//! node again), or, once it has been given up `max_attempts` times (the job's own, fixed
//! when posted; quits count too), is refunded in full and marked Failed. `payer_token` is
//! checked on both paths (one rule for the instruction, whichever path the caller's
//! transaction lands on).
//!
//! With a slash penalty (the job's, fixed when posted), the silent node's stake is
//! slashed on either path, part of it to the caller as the bounty that makes reclaims
//! happen (`shared/slash.rs`: what is checked, and when the slash is skipped rather than
//! blocking the reclaim), and the lock the job held on it is released
//! (`shared/give_up.rs`, shared with quit).

use super::Context;
use crate::shared::accounts::{load_job_of, load_market};
use crate::shared::give_up::{give_up, GiveUp};
use crate::shared::running::entry_of;
use crate::shared::settle::check_vault;
use crate::shared::slash::slash_accounts_of;
use crate::shared::sysvars::now;
use crate::shared::token::{check_payee, check_token_program};
use jobs_interface::error::JobsError;
use jobs_interface::event::requeue_reason;
use jobs_interface::instruction::reclaim::{Accounts, Args};
use jobs_interface::state::EntryState;
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let mut market = unsafe { load_market(&accounts.market, context.program_id) }?;
    check_vault(market.header, &accounts.vault)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job_of(&accounts.job, &accounts.market, context.program_id) }?;
    let slot = entry_of(&mut market, job, accounts.job.address(), EntryState::Running, JobsError::JobNotRunning)?;
    let (node, since) = {
        let entry = &market.entries[slot as usize];
        (entry.node.0, entry.since.get())
    };
    check_payee(&accounts.payer_token, &market.header.mint.0, &job.payer.0)?;
    let now = now(&accounts.clock)?;
    // Saturates rather than overflows, so a job started near the end of time is still
    // reclaimable (at i64::MAX) rather than stuck until its poster ends it.
    let deadline = since.saturating_add(job.timeout.get());
    if now < deadline {
        return Err(JobsError::TimeoutNotReached.into());
    }
    let bounty_to = match job.slash_penalty.get() {
        0 => None,
        // A reclaim with a penalty pays the caller's bounty: its account is required.
        _ => Some(context.optional(accounts.bounty_to)?.ok_or(JobsError::StakingAccountsMissing)?),
    };
    give_up(
        &mut market,
        job,
        &GiveUp {
            market: &accounts.market,
            payer_token: &accounts.payer_token,
            slash: slash_accounts_of!(context, accounts, bounty_to),
            slot,
            node,
            now,
            late: true,
            reason: requeue_reason::RECLAIMED,
        },
    )
}
