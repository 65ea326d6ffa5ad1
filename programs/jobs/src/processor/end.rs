//! end: the poster stops a running job. Its node is paid for the time it ran (capped at
//! the timeout); the rest is refunded.

use crate::shared::keys;
use super::Context;
use crate::shared::accounts::{load_job_of, load_market};
use crate::shared::events::emit;
use crate::shared::running::entry_of;
use crate::shared::staking::unbond;
use crate::shared::settle::{earned, release, Payout};
use crate::shared::sysvars::now;
use crate::shared::token::check_token_program;
use jobs_interface::error::JobsError;
use jobs_interface::event::JobEnded;
use jobs_interface::instruction::end::{Accounts, Args};
use jobs_interface::pod::{PodI64, PodU64, Pubkey};
use jobs_interface::state::{EntryState, JobState};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let mut market = unsafe { load_market(&accounts.market, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job_of(&accounts.job, &accounts.market, context.program_id) }?;
    if !job.poster.is(keys::key(&accounts.poster)) {
        return Err(JobsError::PosterMismatch.into());
    }
    let slot = entry_of(&mut market, job, accounts.job.address(), EntryState::Running, JobsError::JobNotRunning)?;
    let (node, since) = {
        let entry = &market.entries[slot as usize];
        (entry.node.0, entry.since.get())
    };
    let now = now(&accounts.clock)?;
    let (paid, elapsed) = earned(job, since, now)?;
    let refunded = job.deposit.get() - paid; // earned() checked paid <= deposit

    market.queue().free(slot)?;
    release(
        market.header,
        job,
        &Payout {
            market: &accounts.market,
            vault: &accounts.vault,
            node_token: Some(&accounts.node_token),
            node: &node,
            payer_token: &accounts.payer_token,
            paid,
        },
    )?;
    job.state.set(JobState::Ended);
    job.node = Pubkey(node);
    job.closed_at = PodI64::new(now);
    emit(JobEnded {
        job: Pubkey(*accounts.job.address().as_array()),
        node: Pubkey(node),
        paid: PodU64::new(paid),
        refunded: PodU64::new(refunded),
        elapsed: PodI64::new(elapsed),
    });
    // Last, off the path of markets without a penalty (nothing live across it).
    let penalty = job.slash_penalty.get();
    if penalty != 0 {
        unbond(market.header, &accounts, context, &node, penalty)?;
    }
    Ok(())
}
