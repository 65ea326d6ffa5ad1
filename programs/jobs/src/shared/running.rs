//! Finding a job's queue entry in the state an instruction needs, and sending a job that
//! was given up back to the queue.

use jobs_interface::error::JobsError;
use jobs_interface::event::{JobMatched, NodeLeft};
use jobs_interface::pod::{PodI64, PodU16, Pubkey};
use jobs_interface::queue::fill;
use jobs_interface::state::{EntryState, Job, JobState, QueueSide};
use pinocchio::Address;

use super::accounts::MarketView;
use super::events::emit;

/// The job is open; returns its entry index after checking the entry holds this job in
/// `state`.
#[inline(always)]
pub fn entry_of(market: &mut MarketView, job: &Job, job_key: &Address, state: EntryState, error: JobsError) -> Result<u16, JobsError> {
    if !job.state.is(JobState::Open) {
        return Err(JobsError::JobNotOpen);
    }
    let slot = job.slot.get();
    let entry = market.entries.get(slot as usize).ok_or(error)?;
    if !entry.state.is(state) || !entry.job.is(job_key.as_array()) {
        return Err(error);
    }
    Ok(slot)
}

/// Sends a running job (entry `slot`) that `gave_up` just gave up (quit or reclaimed) back
/// to the FRONT of the queue, never to `gave_up` again: the longest-waiting other node
/// takes it at once, or it waits with `gave_up` recorded in its entry (`work` skips it for
/// that node). When only `gave_up` waits, its waiting entries are removed (event
/// `NodeLeft` each): the queue never holds both sides, and those entries could only ever
/// take this job back. Returns how many entries were removed (each held a lock on the
/// node's stake in a market with a slash penalty, which the caller releases).
#[inline(always)]
pub fn requeue_front(market: &mut MarketView, slot: u16, now: i64, gave_up: &[u8; 32]) -> Result<u64, JobsError> {
    let mut queue = market.queue();
    let job = queue.entry(slot)?.job.0;
    let mut removed = 0;
    if queue.side() == QueueSide::Nodes {
        if let Some(waiting) = queue.first_not_of(gave_up)? {
            queue.unlink(waiting)?;
            let node = queue.entry(waiting)?.node.0;
            queue.free(waiting)?;
            fill(queue.entry(slot)?, EntryState::Running, &job, &node, now);
            emit(JobMatched {
                job: Pubkey(job),
                node: Pubkey(node),
                started_at: PodI64::new(now),
                slot: PodU16::new(slot),
            });
            return Ok(0);
        }
        // Every waiting entry is `gave_up`'s (at most max_entries_per_node of them).
        while let Some(waiting) = queue.pop_front()? {
            queue.free(waiting)?;
            emit(NodeLeft { node: Pubkey(*gave_up), slot: PodU16::new(waiting) });
            removed += 1;
        }
    }
    fill(queue.entry(slot)?, EntryState::QueuedJob, &job, gave_up, now);
    queue.push_front(slot, QueueSide::Jobs)?;
    Ok(removed)
}
