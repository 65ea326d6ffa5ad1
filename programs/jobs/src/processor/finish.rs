//! finish: the node running a job posts its result digest. It is paid
//! price * min(elapsed, timeout); the rest of the deposit goes back to the payer. With a
//! slash penalty, the lock the job held on the node's stake is released.

use super::Context;
use crate::shared::accounts::{load_job_of, load_market};
use crate::shared::events::emit;
use crate::shared::running::entry_of;
use crate::shared::staking::unbond;
use crate::shared::settle::{earned, release, Payout};
use crate::shared::sysvars::now;
use crate::shared::token::check_token_program;
use jobs_interface::error::JobsError;
use jobs_interface::event::JobFinished;
use jobs_interface::instruction::finish::{Accounts, Args};
use jobs_interface::pod::{eq32, PodI64, PodU64, Pubkey};
use jobs_interface::state::{EntryState, JobState};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    if args.result.is_zero() {
        return Err(JobsError::ResultMissing.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let mut market = unsafe { load_market(&accounts.market, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job_of(&accounts.job, &accounts.market, context.program_id) }?;
    let slot = entry_of(&mut market, job, accounts.job.address(), EntryState::Running, JobsError::JobNotRunning)?;
    // A reference into the runtime's account record, not a copy: it lives the whole instruction.
    let node = accounts.node.address().as_array();
    let since = {
        let entry = &market.entries[slot as usize];
        if !eq32(&entry.node.0, node) {
            return Err(JobsError::NodeNotAssigned.into());
        }
        entry.since.get()
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
            node,
            payer_token: &accounts.payer_token,
            paid,
        },
    )?;
    job.state.set(JobState::Done);
    job.result = args.result;
    job.node = Pubkey(*node);
    job.closed_at = PodI64::new(now);

    emit(JobFinished {
        job: Pubkey(*accounts.job.address().as_array()),
        result: args.result,
        paid: PodU64::new(paid),
        refunded: PodU64::new(refunded),
        elapsed: PodI64::new(elapsed),
    });
    // Last, off the path of markets without a penalty (nothing live across it).
    let penalty = job.slash_penalty.get();
    if penalty != 0 {
        unbond(market.header, &accounts, context, node, penalty)?;
    }
    Ok(())
}
