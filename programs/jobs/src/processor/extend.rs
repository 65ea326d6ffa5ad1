//! extend: the poster adds time to a queued or running job; its payer deposits
//! price * extra at the job's own price, up to the timeout cap it was posted under (a
//! market re-priced or re-capped since changes nothing for it), and the network fee on it
//! at the job's own rate (as post: rounded up, to the staking config's rewards pool).

use crate::shared::keys;
use super::Context;
use crate::shared::accounts::{load_job_of, load_market};
use crate::shared::events::emit;
use crate::shared::math;
use crate::shared::settle::check_vault;
use crate::shared::staking::NetworkFee;
use crate::shared::token::{check_token_owner, check_token_program, Transfer};
use jobs_interface::error::JobsError;
use jobs_interface::event::JobExtended;
use jobs_interface::instruction::extend::{Accounts, Args};
use jobs_interface::pod::Pubkey;
use jobs_interface::state::{EntryState, JobState};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_token_program(&accounts.token_program)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let market = unsafe { load_market(&accounts.market, context.program_id) }?;
    check_vault(market.header, &accounts.vault)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job_of(&accounts.job, &accounts.market, context.program_id) }?;
    if !job.poster.is(keys::key(&accounts.poster)) {
        return Err(JobsError::PosterMismatch.into());
    }
    if !job.payer.is(keys::key(&accounts.payer)) {
        return Err(JobsError::PayerMismatch.into());
    }
    if !job.state.is(JobState::Open) {
        return Err(JobsError::JobNotOpen.into());
    }
    // An open job's entry holds it, queued or running (checked to stay defensive).
    let entry = market.entries.get(job.slot.get() as usize).ok_or(JobsError::SlotInvalid)?;
    let holds_job = entry.state.is(EntryState::QueuedJob) || entry.state.is(EntryState::Running);
    if !holds_job || !entry.job.is(keys::key(&accounts.job)) {
        return Err(JobsError::JobNotOpen.into());
    }
    let extra = args.extra.get();
    if extra <= 0 {
        return Err(JobsError::TimeoutInvalid.into());
    }
    let timeout = job.timeout.get().checked_add(extra).ok_or(JobsError::ArithmeticOverflow)?;
    if timeout > job.max_timeout.get() {
        return Err(JobsError::TimeoutInvalid.into());
    }
    let added = math::cost(job.price_per_second.get(), extra)?;
    let deposit = math::add(job.deposit.get(), added)?;
    let escrowed = math::add(market.header.escrowed.get(), added)?;
    // The payer must own the source, so refunds go back where the deposit came from (SPL Token
    // alone would also accept a delegate's signature); its mint is enforced by the transfer.
    check_token_owner(&accounts.payer_token, &job.payer.0)?;

    job.timeout.set(timeout);
    job.deposit.set(deposit);
    market.header.escrowed.set(escrowed);
    Transfer { from: &accounts.payer_token, to: &accounts.vault, authority: &accounts.payer, amount: added, pda: None }
        .invoke()?;
    emit(JobExtended {
        job: Pubkey(*accounts.job.address().as_array()),
        extra: args.extra,
        timeout: job.timeout,
        deposit: job.deposit,
    });
    // The network fee at the job's own rate (fixed when posted).
    let fee_bps = job.fee_bps.get();
    if fee_bps != 0 {
        NetworkFee {
            staking_program: context.optional(accounts.staking_program)?,
            config: context.optional(accounts.staking_config)?,
            rewards_pool: context.optional(accounts.rewards_pool)?,
            payer: &accounts.payer,
            payer_token: &accounts.payer_token,
            token_program: &accounts.token_program,
            job: &accounts.job,
            deposit: added,
            fee_bps,
        }
        .charge(market.header)?;
    }
    Ok(())
}
