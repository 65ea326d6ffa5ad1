//! quit: the node running a job gives it up, unpaid. It counts as an attempt, whoever gives
//! up, so a job runs at most timeout x max_attempts: the job goes back to the FRONT of the
//! queue (never to this node again) or, at max_attempts, is refunded and Failed. At or past
//! the deadline a quit settles as `reclaim` does, slash included (no bounty): without
//! that, a node could quit and take the same job again with a fresh start, or quit late
//! to dodge the slash (`shared/give_up.rs`).

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
use jobs_interface::instruction::quit::{Accounts, Args};
use jobs_interface::pod::eq32;
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
    let node = *accounts.node.address().as_array();
    let since = {
        let entry = &market.entries[slot as usize];
        if !eq32(&entry.node.0, &node) {
            return Err(JobsError::NodeNotAssigned.into());
        }
        entry.since.get()
    };
    check_payee(&accounts.payer_token, &market.header.mint.0, &job.payer.0)?;
    let now = now(&accounts.clock)?;
    // As reclaim: saturating, so a job started near the end of time still has a deadline.
    let late = now >= since.saturating_add(job.timeout.get());
    give_up(
        &mut market,
        job,
        &GiveUp {
            market: &accounts.market,
            payer_token: &accounts.payer_token,
            slash: slash_accounts_of!(context, accounts, None),
            slot,
            node,
            now,
            late,
            reason: if late { requeue_reason::QUIT_LATE } else { requeue_reason::QUIT },
        },
    )
}
