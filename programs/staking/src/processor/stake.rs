//! stake: creates the owner's stake and locks `amount` in the vault for `duration`.

use super::Context;
use crate::shared::accounts::{check_vault, data_mut, load_config};
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::rewards::{set_weight, weight_of};
use crate::shared::system::{check_system_program, CreateAccount};
use crate::shared::sysvars::rent_exempt_minimum;
use crate::shared::token::{check_token_account, check_token_program, Transfer};
use pinocchio::cpi::{Seed, Signer};
use pinocchio::{Address, ProgramResult};
use staking_interface::discriminator::Discriminator;
use staking_interface::error::StakingError;
use staking_interface::event::Staked;
use staking_interface::instruction::stake::{Accounts, Args};
use staking_interface::math::add;
use staking_interface::pod::{Layout, PodU64, Pubkey};
use staking_interface::seeds;
use staking_interface::state::{Stake, StakeState, STAKE_SIZE};

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_system_program::<StakingError>(&accounts.system_program)?;
    check_token_program(&accounts.token_program)?;
    let amount = args.amount.get();
    if amount == 0 {
        return Err(StakingError::AmountZero.into());
    }
    // SAFETY: loaded once in this instruction; no other reference to its data.
    let config = unsafe { load_config(&accounts.config, context.program_id) }?;
    check_vault(config, &accounts.vault)?;
    let weight = weight_of(config, amount, args.duration.get())?;
    check_token_account(&accounts.owner_token, &config.mint.0, Some(keys::key(&accounts.owner)))?;

    // The stake: PDA ["stake", config, owner], never initialised.
    if keys::owned_by(&accounts.stake, context.program_id) {
        return Err(StakingError::AccountAlreadyInitialized.into());
    }
    let (config_key, owner_key) = (accounts.config.address(), accounts.owner.address());
    let (stake_key, bump) =
        Address::find_program_address(&[seeds::STAKE, config_key.as_ref(), owner_key.as_ref()], context.program_id);
    if !keys::is(&accounts.stake, &stake_key) {
        return Err(StakingError::AddressMismatch.into());
    }
    let bump_seed = [bump];
    let signer_seeds = [Seed::from(seeds::STAKE), Seed::from(config_key.as_ref()), Seed::from(owner_key.as_ref()), Seed::from(&bump_seed)];
    CreateAccount {
        from: &accounts.owner,
        to: &accounts.stake,
        lamports: rent_exempt_minimum(&accounts.rent, STAKE_SIZE)?,
        space: STAKE_SIZE as u64,
        owner: context.program_id,
    }
    .invoke_signed(&[Signer::from(&signer_seeds)])?;
    Transfer { from: &accounts.owner_token, to: &accounts.vault, authority: &accounts.owner, amount, pda: None }.invoke()?;

    // SAFETY: the only reference to the stake's data in this instruction.
    let data = unsafe { data_mut(&accounts.stake) };
    let (discriminator, rest) = data.split_first_chunk_mut::<8>().ok_or(StakingError::AccountSizeInvalid)?;
    discriminator.copy_from_slice(&Stake::DISCRIMINATOR);
    let stake = Stake::load_mut(rest).ok_or(StakingError::AccountSizeInvalid)?;
    *stake = Stake::default();
    stake.owner = Pubkey(*owner_key.as_array());
    stake.config = Pubkey(*config_key.as_array());
    stake.state.set(StakeState::Staked);
    stake.amount = args.amount;
    stake.duration = args.duration;
    stake.bump = bump;
    set_weight(config, stake, weight)?;
    config.total_staked = PodU64::new(add(config.total_staked.get(), amount)?);
    config.stakes = PodU64::new(add(config.stakes.get(), 1)?);

    emit(Staked { stake: Pubkey(*stake_key.as_array()), amount: args.amount, duration: args.duration, weight: stake.weight });
    Ok(())
}
