//! work: a node enters the market. It takes the oldest waiting job, or waits at the back
//! of the queue. It names no job: the instruction never depends on the caller having
//! guessed the queue's contents, so nodes entering together never race for a job.
//!
//! With a minimum stake (`min_stake`), a node is admitted only with its stake under the
//! market's staking config, staked with at least that weight (`shared/staking.rs`,
//! `check_admission`): on both paths, taking a job or waiting for one. With a slash
//! penalty, its stake must also back one more job: the penalty is locked on it
//! (`shared/staking.rs`, `Lock`) for the job it takes or the entry it waits at, and
//! released when that ends, so a node can never hold more than its stake can be slashed
//! for, nor unstake from under the jobs it holds.
//!
//! A node never takes a job it last gave up (quit or reclaimed: the job's entry names it):
//! it takes the oldest other waiting job; when every waiting job names it, it is refused
//! (JobsExcludeNode) rather than queued (the queue never holds both sides).
//!
//! Waiting is bounded per node (`max_entries_per_node`): without a minimum stake, entries
//! cost a node nothing, so one key could otherwise fill the queue and take every job; with
//! one, a staked node still holds at most that many.
//! Counting a node's entries walks the waiting nodes, only when it could matter (at least
//! that many nodes wait) and only on the waiting path: taking a job costs nothing more
//! (docs/architecture.md, "Free queue entries", has the figures and the alternatives).

use super::Context;
use crate::shared::accounts::load_market;
use crate::shared::events::emit;
use crate::shared::staking::{check_admission, BondAccounts, Lock};
use crate::shared::sysvars::now;
use jobs_interface::error::JobsError;
use jobs_interface::event::{JobMatched, NodeQueued};
use jobs_interface::instruction::work::{Accounts, Args};
use jobs_interface::pod::{PodI64, PodU16, Pubkey};
use jobs_interface::queue::fill;
use jobs_interface::pod::eq32;
use jobs_interface::queue::Queue;
use jobs_interface::state::{EntryState, Market, MarketState, QueueSide, NIL};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let mut market = unsafe { load_market(&accounts.market, context.program_id) }?;
    let node = *accounts.node.address().as_array();
    if market.header.min_stake.get() != 0 {
        admit(market.header, &accounts, context, &node)?;
    }
    if market.header.slash_penalty.get() != 0 {
        bond(market.header, &accounts, context, &node)?;
    }
    let now = now(&accounts.clock)?;
    if market.header.queue.side.is(QueueSide::Jobs) {
        let mut queue = market.queue();
        // The oldest waiting job, unless this node last gave it up (rare: then the walk).
        let head = queue.header.head.get();
        let front = queue.entries.get(head as usize).ok_or(JobsError::SlotInvalid)?;
        let slot = if !eq32(&front.node.0, &node) { head } else { skip_given_up(&queue, &node)? };
        queue.unlink(slot)?;
        let entry = queue.entry(slot)?;
        let job = entry.job.0;
        fill(entry, EntryState::Running, &job, &node, now);
        emit(JobMatched {
            job: Pubkey(job),
            node: Pubkey(node),
            started_at: PodI64::new(now),
            slot: PodU16::new(slot),
        });
    } else {
        if !market.header.state.is(MarketState::Open) {
            return Err(JobsError::MarketClosing.into());
        }
        let max_entries = market.header.max_entries_per_node.get();
        let mut queue = market.queue();
        if queue.header.len.get() >= max_entries {
            check_entries_below(&queue, &node, max_entries)?;
        }
        let slot = queue.alloc()?;
        fill(queue.entry(slot)?, EntryState::QueuedNode, &[0u8; 32], &node, now);
        queue.push_back(slot, QueueSide::Nodes)?;
        emit(NodeQueued { node: Pubkey(node), slot: PodU16::new(slot) });
    }
    Ok(())
}

/// Refuses if `node` already waits at `max` entries. Called only when the queue holds
/// nodes (the side is not Jobs) and at least `max` of them; walks them front to back and
/// stops at the `max`-th entry of this node.
#[inline(never)]
fn check_entries_below(queue: &Queue, node: &[u8; 32], max: u16) -> Result<(), JobsError> {
    let mut held: u16 = 0;
    let mut index = queue.header.head.get();
    while index != NIL {
        let entry = queue.entries.get(index as usize).ok_or(JobsError::SlotInvalid)?;
        if eq32(&entry.node.0, node) {
            held += 1;
            if held >= max {
                return Err(JobsError::NodeEntriesExceeded);
            }
        }
        index = entry.next.get();
    }
    Ok(())
}

/// The oldest waiting job `node` did not last give up, past the front one (which it did).
#[inline(never)]
fn skip_given_up(queue: &Queue, node: &[u8; 32]) -> Result<u16, JobsError> {
    queue.first_not_of(node)?.ok_or(JobsError::JobsExcludeNode)
}

/// The lock of the market's slash penalty on the node's stake (`Lock`): markets without a
/// penalty never come here.
#[inline(never)]
fn bond(market: &Market, accounts: &Accounts, context: &Context, node: &[u8; 32]) -> Result<(), JobsError> {
    Lock {
        bond: accounts.bond(context)?,
        config: context.optional(accounts.staking_config)?,
        program_id: context.program_id,
        node,
    }
    .invoke(market)
}

/// The stake admission (`check_admission`), out of line with the stake's lookup: markets
/// without a minimum stake never come here.
#[inline(never)]
fn admit(market: &Market, accounts: &Accounts, context: &Context, node: &[u8; 32]) -> Result<(), JobsError> {
    check_admission(market, context.optional(accounts.stake)?, node)
}
