//! work: a node enters the market. It takes the oldest waiting job, or waits at the back
//! of the queue. It names no job: the instruction never depends on the caller having
//! guessed the queue's contents, so nodes entering together never race for a job.

use super::Context;
use crate::shared::accounts::load_market;
use crate::shared::events::emit;
use crate::shared::sysvars::now;
use jobs_interface::error::JobsError;
use jobs_interface::event::{JobMatched, NodeQueued};
use jobs_interface::instruction::work::{Accounts, Args};
use jobs_interface::pod::{PodI64, PodU16, Pubkey};
use jobs_interface::queue::fill;
use jobs_interface::state::{EntryState, QueueSide};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    let mut market = load_market(&accounts.market, context.program_id)?;
    let node = *accounts.node.address().as_array();
    let now = now(&accounts.clock)?;
    let mut queue = market.queue();
    if queue.side() == QueueSide::Jobs {
        let slot = queue.pop_front()?.ok_or(JobsError::SlotInvalid)?;
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
        let slot = queue.alloc()?;
        fill(queue.entry(slot)?, EntryState::QueuedNode, &[0u8; 32], &node, now);
        queue.push_back(slot, QueueSide::Nodes)?;
        emit(NodeQueued { node: Pubkey(node), slot: PodU16::new(slot) });
    }
    Ok(())
}
