//! A running job given up, by its node (`quit`) or by anyone once its deadline has passed
//! (`reclaim`): one rule for both, so the bound a market promises holds whoever ends an
//! attempt. A job runs at most `timeout x max_attempts` in all, and a node that lets the
//! deadline pass is slashed.
//!
//! - The give-up counts as an attempt, whoever makes it.
//! - Late (a reclaim, or a quit at or past started + timeout), with a slash penalty: the
//!   node is slashed (`shared/slash.rs`); the bounty goes to reclaim's caller, none for a
//!   quit (a node would otherwise get back part of its own slash).
//! - The job goes back to the front of the queue, never to this node again
//!   (`requeue_front`), or at `max_attempts` is refunded in full and Failed.
//! - With a slash penalty, the lock the job held on the node's stake is released, and
//!   those of any waiting entries of the node that `requeue_front` removed.

use super::accounts::MarketView;
use super::events::emit;
use super::running::requeue_front;
use super::settle::{release, Payout};
use super::slash::{slash_silent_node, SlashAccounts};
use super::staking::Bond;
use jobs_interface::error::JobsError;
use jobs_interface::event::{JobFailed, JobRequeued};
use jobs_interface::pod::{PodI64, PodU16, PodU64, Pubkey};
use jobs_interface::state::{Job, JobState};
use pinocchio::{AccountView, ProgramResult};

/// One give-up: who, when, why, and the accounts it settles through.
pub struct GiveUp<'a> {
    pub market: &'a AccountView,
    pub payer_token: &'a AccountView,
    /// The slash's accounts (the vault, the job and the token program too).
    pub slash: SlashAccounts<'a>,
    /// The job's queue entry (Running).
    pub slot: u16,
    /// The node running it.
    pub node: [u8; 32],
    pub now: i64,
    /// At or past the deadline: the node is slashed.
    pub late: bool,
    /// `requeue_reason` for the event.
    pub reason: u8,
}

#[inline(always)]
pub fn give_up(market: &mut MarketView, job: &mut Job, give_up: &GiveUp) -> ProgramResult {
    let attempts = job.attempts.get().checked_add(1).ok_or(JobsError::ArithmeticOverflow)?;
    job.attempts.set(attempts);
    let penalty = job.slash_penalty.get();
    let accounts = &give_up.slash;
    if give_up.late && penalty != 0 {
        slash_silent_node(market.header, job, &give_up.node, accounts)?;
    }

    let job_key = Pubkey(*accounts.job.address().as_array());
    let removed = if attempts < job.max_attempts.get() {
        emit(JobRequeued {
            job: job_key,
            node: Pubkey(give_up.node),
            attempts: job.attempts,
            reason: give_up.reason,
            slot: PodU16::new(give_up.slot),
        });
        requeue_front(market, give_up.slot, give_up.now, &give_up.node)?
    } else {
        let refunded = job.deposit.get();
        market.queue().free(give_up.slot)?;
        release(
            market.header,
            job,
            &Payout {
                market: give_up.market,
                vault: accounts.market_vault,
                node_token: None,
                node: &give_up.node,
                payer_token: give_up.payer_token,
                paid: 0,
            },
        )?;
        job.state.set(JobState::Failed);
        job.closed_at = PodI64::new(give_up.now);
        emit(JobFailed { job: job_key, refunded: PodU64::new(refunded), attempts: job.attempts });
        0
    };

    if penalty != 0 {
        // The job's lock, and one for each waiting entry removed (removed <= the queue's
        // capacity, < 2^16). A product past u64::MAX releases all: staking's `unlock`
        // saturates, and settling must never fail for it.
        let amount = interface_kit::math::checked_mul(penalty, removed + 1).unwrap_or(u64::MAX);
        Bond { staking_program: accounts.staking_program, stake: accounts.stake, slasher: accounts.slasher }
            .release(market.header, &give_up.node, amount)?;
    }
    Ok(())
}
