//! set_node_profile: a node publishes its public URL and its hardware summary's digest in
//! its profile, PDA ["node_profile", node]. The first call creates the account at its fixed
//! size (the payer pays the rent); later calls overwrite it in place.

use super::Context;
use crate::shared::accounts::{data_mut, load_node_profile};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::system::{check_system_program, CreateAccount};
use crate::shared::sysvars::{now, rent_exempt_minimum};
use jobs_interface::discriminator::Discriminator;
use jobs_interface::error::JobsError;
use jobs_interface::event::NodeProfileSet;
use jobs_interface::instruction::set_node_profile::{Accounts, Args};
use jobs_interface::pod::{Layout, PodI64, Pubkey};
use jobs_interface::profile::url_is_valid;
use jobs_interface::seeds;
use jobs_interface::state::{NodeProfile, NODE_PROFILE_SIZE};
use pinocchio::cpi::{Seed, Signer};
use pinocchio::{Address, ProgramResult};

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    // The profile is created (or written) here: never over the node's or the payer's own
    // wallet (a PDA cannot sign, so the address check below refuses it too; this says why).
    if keys::same(&accounts.profile, &accounts.node) || keys::same(&accounts.profile, &accounts.payer) {
        return Err(JobsError::AccountAliased.into());
    }
    check_system_program::<JobsError>(&accounts.system_program)?;
    if !url_is_valid(args.url_len, &args.url.0) {
        return Err(JobsError::UrlInvalid.into());
    }
    if args.hardware.is_zero() {
        return Err(JobsError::HardwareMissing.into());
    }
    let now = now(&accounts.clock)?;
    let node_key = accounts.node.address();

    let created = !keys::owned_by(&accounts.profile, context.program_id);
    let profile = if created {
        // First call: the address must be the node's PDA (the System program refuses an
        // account that already has data or another owner, so nothing is created twice).
        let (address, bump) = Address::find_program_address(&[seeds::NODE_PROFILE, node_key.as_ref()], context.program_id);
        if !keys::is(&accounts.profile, &address) {
            return Err(JobsError::NodeProfileMismatch.into());
        }
        let bump_seed = [bump];
        let signer_seeds = [Seed::from(seeds::NODE_PROFILE), Seed::from(node_key.as_ref()), Seed::from(&bump_seed)];
        CreateAccount {
            from: &accounts.payer,
            to: &accounts.profile,
            lamports: rent_exempt_minimum(&accounts.rent, NODE_PROFILE_SIZE)?,
            space: NODE_PROFILE_SIZE as u64,
            owner: context.program_id,
        }
        .invoke_signed(&[Signer::from(&signer_seeds)])?;
        // SAFETY: the account was just created with NODE_PROFILE_SIZE zeroed bytes; nothing
        // else refers to its data.
        let data = unsafe { data_mut(&accounts.profile) };
        let (discriminator, rest) = data.split_at_mut(8);
        discriminator.copy_from_slice(&NodeProfile::DISCRIMINATOR);
        let profile = NodeProfile::load_mut(rest).ok_or(JobsError::AccountSizeInvalid)?;
        profile.node = Pubkey(*node_key.as_array());
        profile.bump = bump;
        profile
    } else {
        // Later calls: the node's own profile (owner, size, discriminator, stored node).
        // SAFETY: loaded once in this instruction; no other reference to its data.
        unsafe { load_node_profile(&accounts.profile, &accounts.node, context.program_id) }?
    };
    profile.hardware = args.hardware;
    profile.updated_at = PodI64::new(now);
    profile.url_len = args.url_len;
    profile.url = args.url;

    emit(NodeProfileSet {
        node: profile.node,
        hardware: profile.hardware,
        updated_at: profile.updated_at,
        created: created as u8,
        url_len: profile.url_len,
        url: profile.url,
    });
    Ok(())
}
