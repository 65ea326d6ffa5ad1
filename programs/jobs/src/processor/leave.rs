//! leave: a waiting node leaves the queue. With a slash penalty, the lock its entry held on
//! its stake is released. While the market is Closing, its authority may remove any
//! waiting node so: a market that slashes closes only once none waits (their locks would
//! otherwise outlive it), and a node that never leaves must not keep it open.

use super::Context;
use crate::shared::accounts::load_market;
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::staking::BondAccounts;
use jobs_interface::error::JobsError;
use jobs_interface::event::NodeLeft;
use jobs_interface::instruction::leave::{Accounts, Args};
use jobs_interface::pod::{eq32, Pubkey};
use jobs_interface::state::{EntryState, MarketState};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let mut market = unsafe { load_market(&accounts.market, context.program_id) }?;
    let signer = keys::key(&accounts.node);
    let by_authority = market.header.state.is(MarketState::Closing) && market.header.authority.is(signer);
    let slot = args.slot.get();
    let node = {
        let entry = market.entries.get(slot as usize).ok_or(JobsError::SlotInvalid)?;
        if !entry.state.is(EntryState::QueuedNode) || !(by_authority || eq32(&entry.node.0, signer)) {
            return Err(JobsError::NodeNotQueued.into());
        }
        entry.node.0
    };
    let mut queue = market.queue();
    queue.unlink(slot)?;
    queue.free(slot)?;
    let penalty = market.header.slash_penalty.get();
    if penalty != 0 {
        accounts.bond(context)?.release(market.header, &node, penalty)?;
    }
    emit(NodeLeft { node: Pubkey(node), slot: args.slot });
    Ok(())
}
