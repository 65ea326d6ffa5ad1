//! attach_result: the node of a job its poster ended records the job's result digest
//! afterwards. A service job runs until its poster's `end`; its bundle (logs, health
//! history, restarts) exists only after the containers stop, so it cannot ride on `end`.
//! Once per job, only on an ended job with no result yet, only by the node `end` paid
//! (recorded in the job as `node`). No money moves.

use super::Context;
use crate::shared::accounts::load_job;
use crate::shared::events::emit;
use crate::shared::keys;
use jobs_interface::error::JobsError;
use jobs_interface::event::JobResultAttached;
use jobs_interface::instruction::attach_result::{Accounts, Args};
use jobs_interface::pod::Pubkey;
use jobs_interface::state::JobState;
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    if args.result.is_zero() {
        return Err(JobsError::ResultMissing.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job(&accounts.job, context.program_id) }?;
    if !job.state.is(JobState::Ended) || !job.result.is_zero() {
        return Err(JobsError::JobNotEnded.into());
    }
    if !job.node.is(keys::key(&accounts.node)) {
        return Err(JobsError::NodeNotAssigned.into());
    }
    job.result = args.result;
    emit(JobResultAttached { job: Pubkey(*accounts.job.address().as_array()), result: args.result });
    Ok(())
}
