//! leave: a waiting node leaves the queue.

use super::Context;
use crate::shared::accounts::load_market;
use crate::shared::events::emit;
use jobs_interface::error::JobsError;
use jobs_interface::event::NodeLeft;
use jobs_interface::instruction::leave::{Accounts, Args};
use jobs_interface::pod::Pubkey;
use jobs_interface::state::EntryState;
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    let mut market = load_market(&accounts.market, context.program_id)?;
    let node = *accounts.node.address().as_array();
    let slot = args.slot.get();
    let mut queue = market.queue();
    let entry = queue.entry(slot)?;
    if !entry.state.is(EntryState::QueuedNode) || entry.node.0 != node {
        return Err(JobsError::NodeNotQueued.into());
    }
    queue.unlink(slot)?;
    queue.free(slot)?;
    emit(NodeLeft { node: Pubkey(node), slot: args.slot });
    Ok(())
}
