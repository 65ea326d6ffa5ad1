//! post: escrow price * timeout and create the job; the longest-waiting node takes it, or
//! it joins the back of the queue. With a network fee, the payer also pays
//! ceil(deposit x fee_bps / 10,000) into the staking config's rewards pool (not escrowed,
//! never refunded: it pays for the network, whatever becomes of the job). Price and fee rate
//! are bounded by the payer's maximums (PriceAboveMaximum, FeeAboveMaximum).

use super::Context;
use crate::shared::accounts::{data_mut, load_job, load_market};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::settle::check_vault;
use crate::shared::staking::NetworkFee;
use crate::shared::system::{check_system_program, CreateAccount};
use crate::shared::sysvars::{now, rent_exempt_minimum};
use crate::shared::token::{check_token_owner, check_token_program, Transfer};
use crate::shared::math;
use jobs_interface::discriminator::Discriminator;
use jobs_interface::error::JobsError;
use jobs_interface::event::{JobMatched, JobPosted};
use jobs_interface::instruction::post::{Accounts, Args};
use jobs_interface::pod::{Layout, PodI64, PodU16, PodU64, Pubkey};
use jobs_interface::queue::fill;
use jobs_interface::state::{EntryState, Job, JobState, MarketState, QueueSide, JOB_SIZE};
use pinocchio::ProgramResult;

/// Two copies of the instruction: one for a job address nobody has sent lamports to (the
/// usual case, with no branch for the other) and one for a pre-funded address (created as
/// Anchor's `init` does; see `CreateAccount`). Choosing costs one lamports read.
///
/// The network fee is charged once the job exists, apart from the post itself: keeping it
/// out of `post`'s body keeps the body what it was before fees existed (a fee path inside
/// it, even one never taken, cost a market without a fee about 50 units: values kept alive
/// across the deposit's CPI). Deciding costs one read of the new job's rate.
#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let Some(job) = context.accounts.get(JOB_ACCOUNT) else {
        return Err(JobsError::AccountsMissing.into());
    };
    if job.lamports() != 0 {
        post::<true>(context)?;
    } else {
        post::<false>(context)?;
    }
    // SAFETY: `post` succeeded, so the account is the job it created and wrote: JOB_SIZE
    // bytes of this program's, which hold the 2 bytes at JOB_FEE_BPS; unaligned read.
    let fee_bps = unsafe { core::ptr::read_unaligned(job.data_ptr().add(JOB_FEE_BPS) as *const u16) };
    if fee_bps != 0 {
        return charge_fee(context);
    }
    Ok(())
}

/// Offset of `Job::fee_bps` in the job account's data (after the discriminator).
const JOB_FEE_BPS: usize = 8 + core::mem::offset_of!(Job, fee_bps);
const _: () = assert!(JOB_FEE_BPS + 2 <= JOB_SIZE);

/// The network fee of the job just posted (its rate non-zero): ceil(deposit x fee_bps /
/// 10,000) from the payer into the staking config's rewards pool (`NetworkFee`). The
/// accounts are those `post` checked; the market and the job are loaded again (cheap, and
/// only on this path).
#[inline(never)]
fn charge_fee(context: &Context) -> ProgramResult {
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let market = unsafe { load_market(&accounts.market, context.program_id) }?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let job = unsafe { load_job(&accounts.job, context.program_id) }?;
    NetworkFee {
        staking_program: context.optional(accounts.staking_program)?,
        config: context.optional(accounts.staking_config)?,
        rewards_pool: context.optional(accounts.rewards_pool)?,
        payer: &accounts.payer,
        payer_token: &accounts.payer_token,
        token_program: &accounts.token_program,
        job: &accounts.job,
        deposit: job.deposit.get(),
        fee_bps: job.fee_bps.get(),
    }
    .charge(market.header)
}

/// The job's index in the instruction's accounts (checked against the interface below).
const JOB_ACCOUNT: usize = 2;
const _: () = {
    let name = jobs_interface::instruction::post::DEF.accounts[JOB_ACCOUNT].name.as_bytes();
    assert!(name.len() == 3 && name[0] == b'j' && name[1] == b'o' && name[2] == b'b');
};

#[inline(never)]
fn post<const PREFUNDED: bool>(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // The job is created here: over the payer's or the poster's own wallet (one key passed
    // twice, signing once), it could never be cancelled or cleaned (its rent would go back
    // to itself), so its market could never close.
    if keys::same(&accounts.job, &accounts.payer) || keys::same(&accounts.job, &accounts.poster) {
        return Err(JobsError::AccountAliased.into());
    }
    check_system_program::<JobsError>(&accounts.system_program)?;
    check_token_program(&accounts.token_program)?;
    if args.definition.is_zero() {
        return Err(JobsError::DefinitionMissing.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let mut market = unsafe { load_market(&accounts.market, context.program_id) }?;
    if !market.header.state.is(MarketState::Open) {
        return Err(JobsError::MarketClosing.into());
    }
    let timeout = args.timeout.get();
    if timeout <= 0 || timeout > market.header.max_timeout.get() {
        return Err(JobsError::TimeoutInvalid.into());
    }
    // The payer agreed to a price and a fee rate when it signed: a market re-priced, or its
    // fee raised, since then (say, by an authority front-running the post) gets a refusal,
    // not the payer's tokens. Both before anything is created or moved.
    let price = market.header.price_per_second.get();
    if price > args.max_price_per_second.get() {
        return Err(JobsError::PriceAboveMaximum.into());
    }
    if market.header.fee_bps.get() > args.max_fee_bps.get() {
        return Err(JobsError::FeeAboveMaximum.into());
    }
    let deposit = math::cost(price, timeout)?;
    let escrowed = math::add(market.header.escrowed.get(), deposit)?;
    let jobs = math::add(market.header.jobs.get(), 1)?;
    check_vault(market.header, &accounts.vault)?;
    // The payer must own the source, so refunds go back where the deposit came from (SPL Token
    // alone would also accept a delegate's signature); its mint is enforced by the transfer.
    check_token_owner(&accounts.payer_token, accounts.payer.address().as_array())?;

    // Match or queue first: a full queue refuses before anything is created or moved.
    let now = now(&accounts.clock)?;
    let job_key = *accounts.job.address().as_array();
    let mut queue = market.queue();
    let (slot, node) = if queue.header.side.is(QueueSide::Nodes) {
        let slot = queue.pop_front()?.ok_or(JobsError::SlotInvalid)?;
        let entry = queue.entry(slot)?;
        let node = entry.node.0;
        fill(entry, EntryState::Running, &job_key, &node, now);
        (slot, Some(node))
    } else {
        let slot = queue.alloc()?;
        fill(queue.entry(slot)?, EntryState::QueuedJob, &job_key, &[0u8; 32], now);
        queue.push_back(slot, QueueSide::Jobs)?;
        (slot, None)
    };
    market.header.escrowed.set(escrowed);
    market.header.jobs.set(jobs);

    // The job account: a fresh keypair that signs; creation fails if it exists (and works
    // if someone sent the address lamports first).
    let create = CreateAccount {
        from: &accounts.payer,
        to: &accounts.job,
        lamports: rent_exempt_minimum(&accounts.rent, JOB_SIZE)?,
        space: JOB_SIZE as u64,
        owner: context.program_id,
    };
    if PREFUNDED {
        create.invoke_prefunded(&[])?;
    } else {
        create.invoke_empty(&[])?;
    }
    Transfer { from: &accounts.payer_token, to: &accounts.vault, authority: &accounts.payer, amount: deposit, pda: None }
        .invoke()?;
    // SAFETY: the job account was just created with JOB_SIZE bytes; nothing else refers to it.
    let data = unsafe { data_mut(&accounts.job) };
    let (discriminator, rest) = data.split_at_mut(8);
    discriminator.copy_from_slice(&Job::DISCRIMINATOR);
    let job = Job::load_mut(rest).ok_or(JobsError::AccountSizeInvalid)?;
    job.market = Pubkey(*accounts.market.address().as_array());
    job.poster = Pubkey(*accounts.poster.address().as_array());
    job.payer = Pubkey(*accounts.payer.address().as_array());
    job.definition = args.definition;
    // The market's terms of this moment, the job's for good (update_market changes later
    // posts only).
    job.price_per_second = PodU64::new(price);
    job.timeout = args.timeout;
    job.max_timeout = market.header.max_timeout;
    job.retention = market.header.retention;
    job.max_attempts = market.header.max_attempts;
    // The staking terms (zero without staking).
    job.slash_penalty = market.header.slash_penalty;
    job.reclaim_bounty_bps = market.header.reclaim_bounty_bps;
    job.fee_bps = market.header.fee_bps;
    job.deposit = PodU64::new(deposit);
    job.posted_at = PodI64::new(now);
    job.slot = PodU16::new(slot);
    job.state.set(JobState::Open);

    emit(JobPosted {
        job: Pubkey(job_key),
        timeout: args.timeout,
        deposit: job.deposit,
        slot: job.slot,
        queued: node.is_none() as u8,
    });
    if let Some(node) = node {
        emit(JobMatched {
            job: Pubkey(job_key),
            node: Pubkey(node),
            started_at: PodI64::new(now),
            slot: job.slot,
        });
    }
    Ok(())
}
