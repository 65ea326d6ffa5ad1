//! close_node_profile: a node withdraws its profile; the rent goes to the receiver.

use super::Context;
use crate::shared::accounts::{close, load_node_profile};
use crate::shared::events::emit;
use crate::shared::keys;
use jobs_interface::error::JobsError;
use jobs_interface::event::NodeProfileClosed;
use jobs_interface::instruction::close_node_profile::{Accounts, Args};
use pinocchio::ProgramResult;

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // Closing into itself would leave the rent in a zeroed account of nobody's.
    if keys::same(&accounts.receiver, &accounts.profile) {
        return Err(JobsError::AccountAliased.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let profile = unsafe { load_node_profile(&accounts.profile, &accounts.node, context.program_id) }?;
    emit(NodeProfileClosed { node: profile.node });
    close(&accounts.profile, &accounts.receiver)?;
    Ok(())
}
