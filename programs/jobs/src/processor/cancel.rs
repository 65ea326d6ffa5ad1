//! cancel: the poster withdraws a job that still waits in the queue: full refund, the job
//! leaves the queue and its account closes (rent back to the payer). While the market is
//! Closing, its authority may cancel too, so a poster who walks away cannot keep a closing
//! market open: the payer gets the same full refund either way.

use crate::shared::keys;
use super::Context;
use crate::shared::accounts::{close, load_job_of, load_market};
use crate::shared::events::emit;
use crate::shared::math;
use crate::shared::running::entry_of;
use crate::shared::settle::{release, Payout};
use crate::shared::token::check_token_program;
use jobs_interface::error::JobsError;
use jobs_interface::event::JobCancelled;
use jobs_interface::instruction::cancel::{Accounts, Args};
use jobs_interface::pod::{PodU64, Pubkey};
use jobs_interface::state::{EntryState, MarketState};
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
    let signer = keys::key(&accounts.poster);
    let closing_authority = market.header.state.is(MarketState::Closing) && market.header.authority.is(signer);
    if !job.poster.is(signer) && !closing_authority {
        return Err(JobsError::PosterMismatch.into());
    }
    if !job.payer.is(keys::key(&accounts.payer)) {
        return Err(JobsError::PayerMismatch.into());
    }
    let slot = entry_of(&mut market, job, accounts.job.address(), EntryState::QueuedJob, JobsError::JobNotQueued)?;
    let refunded = job.deposit.get();

    let mut queue = market.queue();
    queue.unlink(slot)?;
    queue.free(slot)?;
    market.header.jobs.set(math::sub(market.header.jobs.get(), 1)?);
    release(
        market.header,
        job,
        &Payout {
            market: &accounts.market,
            vault: &accounts.vault,
            node_token: None,
            node: &[0u8; 32],
            payer_token: &accounts.payer_token,
            paid: 0,
        },
    )?;
    emit(JobCancelled {
        job: Pubkey(*accounts.job.address().as_array()),
        refunded: PodU64::new(refunded),
    });
    close(&accounts.job, &accounts.payer)?;
    Ok(())
}
