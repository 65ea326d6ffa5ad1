//! Finding a job's queue entry in the state an instruction needs.

use jobs_interface::error::JobsError;
use jobs_interface::event::JobMatched;
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

/// Sends a running job (entry `slot`) back to the FRONT of the queue; if nodes are
/// waiting, the longest-waiting one takes it at once (the queue never holds both sides).
#[inline(always)]
pub fn requeue_front(market: &mut MarketView, slot: u16, now: i64) -> Result<(), JobsError> {
    let mut queue = market.queue();
    let job = queue.entry(slot)?.job.0;
    if queue.side() == QueueSide::Nodes {
        let waiting = queue.pop_front()?.ok_or(JobsError::SlotInvalid)?;
        let node = queue.entry(waiting)?.node.0;
        queue.free(waiting)?;
        fill(queue.entry(slot)?, EntryState::Running, &job, &node, now);
        emit(JobMatched {
            job: Pubkey(job),
            node: Pubkey(node),
            started_at: PodI64::new(now),
            slot: PodU16::new(slot),
        });
    } else {
        fill(queue.entry(slot)?, EntryState::QueuedJob, &job, &[0u8; 32], now);
        queue.push_front(slot, QueueSide::Jobs)?;
    }
    Ok(())
}
