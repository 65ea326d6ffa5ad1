//! init: creates a staking config for a mint, with its vault and rewards pool.

use super::Context;
use crate::shared::accounts::data_mut;
use crate::shared::events::emit;
use crate::shared::keys;
use crate::shared::system::{check_system_program, CreateAccount};
use crate::shared::sysvars::rent_exempt_minimum;
use crate::shared::token::{check_mint, check_token_account, check_token_program, initialize_account, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};
use pinocchio::cpi::{Seed, Signer};
use pinocchio::{AccountView, Address, ProgramResult};
use pinocchio::error::ProgramError;
use staking_interface::discriminator::Discriminator;
use staking_interface::error::StakingError;
use staking_interface::event::ConfigInitialized;
use staking_interface::instruction::init::{Accounts, Args};
use staking_interface::pod::{is_zero32, Layout, PodU64, Pubkey};
use staking_interface::seeds;
use staking_interface::state::{limits, Config, SlashDestination, CONFIG_SIZE};

/// The curve and lock bounds: durations 1 s..10 years with min <= max, multipliers
/// 1x..100x with min <= max (`state::limits`), and a known slash destination.
#[inline(always)]
fn check_settings(args: &Args) -> Result<(), StakingError> {
    let (min_duration, max_duration) = (args.min_duration.get(), args.max_duration.get());
    let (min_multiplier, max_multiplier) = (args.min_multiplier.get(), args.max_multiplier.get());
    let ok = 1 <= min_duration
        && min_duration <= max_duration
        && max_duration <= limits::MAX_DURATION
        && limits::MIN_MULTIPLIER <= min_multiplier
        && min_multiplier <= max_multiplier
        && max_multiplier <= limits::MAX_MULTIPLIER
        && SlashDestination::from_u8(args.slash_to).is_some();
    if !ok {
        return Err(StakingError::SettingInvalid);
    }
    Ok(())
}

/// The slasher program's PDA ["slasher"], derived once here and stored, so a slash
/// compares addresses (zero program: no slasher).
#[inline(always)]
pub fn slasher_of(program: &Pubkey) -> Pubkey {
    if is_zero32(&program.0) {
        return Pubkey::default();
    }
    // The seed is copied to the stack: a constant `&[seeds::SLASHER]` would be promoted to a
    // static holding a pointer, which SBF built this way does not relocate (pitfall 5).
    let seed: [u8; 7] = *b"slasher";
    const _: () = assert!(seeds::SLASHER.len() == 7);
    let seed_list: [&[u8]; 1] = [&seed];
    let (address, _) = Address::find_program_address(&seed_list, &Address::new_from_array(program.0));
    Pubkey(*address.as_array())
}

/// Creates a token account at the PDA [prefix, config] owned by itself; returns its bump.
#[inline(always)]
fn create_token_pda(accounts: &Accounts, account: &AccountView, prefix: &'static [u8], mismatch: StakingError, program_id: &Address) -> Result<u8, ProgramError> {
    let config = accounts.config.address();
    let (address, bump) = Address::find_program_address(&[prefix, config.as_ref()], program_id);
    if !keys::is(account, &address) {
        return Err(mismatch.into());
    }
    let bump_seed = [bump];
    let signer_seeds = [Seed::from(prefix), Seed::from(config.as_ref()), Seed::from(&bump_seed)];
    CreateAccount {
        from: &accounts.authority,
        to: account,
        lamports: rent_exempt_minimum(&accounts.rent, TOKEN_ACCOUNT_LEN)?,
        space: TOKEN_ACCOUNT_LEN as u64,
        owner: &TOKEN_PROGRAM_ID,
    }
    .invoke_signed(&[Signer::from(&signer_seeds)])?;
    initialize_account(account, &accounts.mint, &address)?;
    Ok(bump)
}

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_system_program::<StakingError>(&accounts.system_program)?;
    check_token_program(&accounts.token_program)?;
    check_settings(args)?;
    check_mint(&accounts.mint)?;
    let mint = *keys::key(&accounts.mint);
    check_token_account(&accounts.treasury, &mint, None)?;

    // The config: PDA ["config", authority, mint], never initialised.
    if keys::owned_by(&accounts.config, context.program_id) {
        return Err(StakingError::AccountAlreadyInitialized.into());
    }
    let authority = accounts.authority.address();
    let (config_key, config_bump) =
        Address::find_program_address(&[seeds::CONFIG, authority.as_ref(), &mint], context.program_id);
    if !keys::is(&accounts.config, &config_key) {
        return Err(StakingError::AddressMismatch.into());
    }
    let bump_seed = [config_bump];
    let signer_seeds = [Seed::from(seeds::CONFIG), Seed::from(authority.as_ref()), Seed::from(&mint), Seed::from(&bump_seed)];
    CreateAccount {
        from: &accounts.authority,
        to: &accounts.config,
        lamports: rent_exempt_minimum(&accounts.rent, CONFIG_SIZE)?,
        space: CONFIG_SIZE as u64,
        owner: context.program_id,
    }
    .invoke_signed(&[Signer::from(&signer_seeds)])?;

    let vault_bump = create_token_pda(&accounts, &accounts.vault, seeds::VAULT, StakingError::VaultMismatch, context.program_id)?;
    let rewards_bump = create_token_pda(&accounts, &accounts.rewards_pool, seeds::REWARDS, StakingError::RewardsPoolMismatch, context.program_id)?;

    // SAFETY: the only reference to the config's data in this instruction.
    let data = unsafe { data_mut(&accounts.config) };
    let (discriminator, rest) = data.split_first_chunk_mut::<8>().ok_or(StakingError::AccountSizeInvalid)?;
    discriminator.copy_from_slice(&Config::DISCRIMINATOR);
    let config = Config::load_mut(rest).ok_or(StakingError::AccountSizeInvalid)?;
    *config = Config::default();
    config.authority = Pubkey(*authority.as_array());
    config.mint = Pubkey(mint);
    config.vault = Pubkey(*keys::key(&accounts.vault));
    config.rewards_pool = Pubkey(*keys::key(&accounts.rewards_pool));
    config.treasury = Pubkey(*keys::key(&accounts.treasury));
    config.slasher_program = args.slasher_program;
    config.slasher = slasher_of(&args.slasher_program);
    config.min_duration = args.min_duration;
    config.max_duration = args.max_duration;
    config.min_multiplier = args.min_multiplier;
    config.max_multiplier = args.max_multiplier;
    config.slash_to.0 = args.slash_to;
    config.stakes = PodU64::new(0);
    config.bump = config_bump;
    config.vault_bump = vault_bump;
    config.rewards_bump = rewards_bump;

    emit(ConfigInitialized {
        config: Pubkey(*config_key.as_array()),
        authority: config.authority,
        mint: config.mint,
        treasury: config.treasury,
        slasher_program: config.slasher_program,
        min_duration: config.min_duration,
        max_duration: config.max_duration,
        min_multiplier: config.min_multiplier,
        max_multiplier: config.max_multiplier,
        slash_to: args.slash_to,
        vault: config.vault,
        rewards_pool: config.rewards_pool,
    });
    Ok(())
}
