//! clean: anyone, once a settled job is older than its retention (the market's when it was
//! posted: a later update_market cannot lock a payer's rent away). The job account closes
//! and its rent goes back to its payer.

use crate::shared::keys;
use super::Context;
use crate::shared::accounts::{close, load_job_of, load_market};
use crate::shared::events::emit;
use crate::shared::math;
use crate::shared::sysvars::now;
use jobs_interface::error::JobsError;
use jobs_interface::event::JobCleaned;
use jobs_interface::instruction::clean::{Accounts, Args};
use jobs_interface::pod::Pubkey;
use jobs_interface::state::JobState;
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let market = unsafe { load_market(&accounts.market, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job_of(&accounts.job, &accounts.market, context.program_id) }?;
    if job.state.is(JobState::Open) {
        return Err(JobsError::JobStillOpen.into());
    }
    if !job.payer.is(keys::key(&accounts.payer)) {
        return Err(JobsError::PayerMismatch.into());
    }
    // The deadline saturates rather than overflows: at worst a job is cleanable at i64::MAX.
    let expires = job.closed_at.get().saturating_add(job.retention.get());
    if now(&accounts.clock)? < expires {
        return Err(JobsError::RetentionNotReached.into());
    }
    market.header.jobs.set(math::sub(market.header.jobs.get(), 1)?);
    emit(JobCleaned { job: Pubkey(*accounts.job.address().as_array()) });
    close(&accounts.job, &accounts.payer)?;
    Ok(())
}
