//! quit: the node running a job gives it up, unpaid. The job goes back to the FRONT of
//! the queue (or straight to the longest-waiting node).

use super::Context;
use crate::shared::accounts::{load_job_of, load_market};
use crate::shared::events::emit;
use crate::shared::running::{entry_of, requeue_front};
use crate::shared::sysvars::now;
use jobs_interface::error::JobsError;
use jobs_interface::event::{requeue_reason, JobRequeued};
use jobs_interface::instruction::quit::{Accounts, Args};
use jobs_interface::pod::{PodU16, Pubkey};
use jobs_interface::state::EntryState;
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    let mut market = load_market(&accounts.market, context.program_id)?;
    let job = load_job_of(&accounts.job, &accounts.market, context.program_id)?;
    let slot = entry_of(&mut market, job, accounts.job.address(), EntryState::Running, JobsError::JobNotRunning)?;
    let node = *accounts.node.address().as_array();
    if market.entries[slot as usize].node.0 != node {
        return Err(JobsError::NodeNotAssigned.into());
    }
    emit(JobRequeued {
        job: Pubkey(*accounts.job.address().as_array()),
        node: Pubkey(node),
        attempts: job.attempts,
        reason: requeue_reason::QUIT,
        slot: PodU16::new(slot),
    });
    requeue_front(&mut market, slot, now(&accounts.clock)?)?;
    Ok(())
}
