//! open_market: initialise a client-created market account and create its vault; check
//! the staking config it names, if any (fixed for the market's life).

use crate::shared::keys;
use super::Context;
use crate::shared::accounts::data_mut;
use crate::shared::events::emit;
use crate::shared::staking::load_config;
use crate::shared::system::{check_system_program, CreateAccount};
use crate::shared::sysvars::rent_exempt_minimum;
use crate::shared::token::{check_mint, check_token_program, initialize_account, VaultSeeds, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};
use jobs_interface::discriminator::Discriminator;
use jobs_interface::error::JobsError;
use jobs_interface::event::MarketOpened;
use jobs_interface::instruction::open_market::{Accounts, Args};
use jobs_interface::pod::{is_zero32, Layout, PodU32, PodU64, Pubkey};
use jobs_interface::queue::Queue;
use crate::shared::math;
use jobs_interface::state::{limits, EntryVecLen, Market, MarketState, QueueEntry, MAX_CAPACITY};
use pinocchio::cpi::Signer;
use pinocchio::{AccountView, Address, ProgramResult};

/// Settings every market must satisfy (shared with update_market): each within its bound
/// (`state::limits`), at least one entry per node, a largest deposit that fits a u64, and
/// a staking config for whatever needs one (a minimum stake, a penalty, a fee).
#[inline(always)]
pub fn check_settings(args: &Args) -> Result<(), JobsError> {
    let max_timeout = args.max_timeout.get();
    let retention = args.retention.get();
    let max_attempts = args.max_attempts.get();
    let in_range = (1..=limits::MAX_TIMEOUT).contains(&max_timeout)
        && (0..=limits::MAX_RETENTION).contains(&retention)
        && (1..=limits::MAX_ATTEMPTS).contains(&max_attempts)
        && args.max_entries_per_node.get() != 0
        && args.reclaim_bounty_bps.get() <= limits::MAX_BOUNTY_BPS
        && args.fee_bps.get() <= limits::MAX_FEE_BPS;
    if !in_range || math::cost(args.price_per_second.get(), max_timeout).is_err() {
        return Err(JobsError::SettingInvalid);
    }
    let needs_staking = args.min_stake.get() != 0 || args.slash_penalty.get() != 0 || args.fee_bps.get() != 0;
    if needs_staking && is_zero32(&args.staking_config.0) {
        return Err(JobsError::StakingConfigMissing);
    }
    Ok(())
}

/// Writes the settings into the market header (the staking config too: update_market
/// passes the market's own).
#[inline(always)]
pub fn apply_settings(market: &mut Market, args: &Args) {
    market.price_per_second = args.price_per_second;
    market.max_timeout = args.max_timeout;
    market.min_stake = args.min_stake;
    market.retention = args.retention;
    market.max_attempts = args.max_attempts;
    market.max_entries_per_node = args.max_entries_per_node;
    market.slash_penalty = args.slash_penalty;
    market.reclaim_bounty_bps = args.reclaim_bounty_bps;
    market.fee_bps = args.fee_bps;
    market.staking_config = args.staking_config;
}

/// The staking config named in the arguments, if any: the account must be it, a Config of
/// the staking program (its id is a constant: a look-alike account of another program is
/// refused) staking the market's mint. Returns the bump of this program's PDA ["slasher"]
/// (0 without a config), derived once here so reclaim signs slashes without a derivation.
#[inline(never)]
fn check_staking_config(args: &Args, account: Option<&AccountView>, mint: &AccountView, program_id: &Address) -> Result<u8, JobsError> {
    if is_zero32(&args.staking_config.0) {
        // An account passed for no config is a mistake of the caller's, said plainly.
        return match account {
            Some(_) => Err(JobsError::StakingConfigInvalid),
            None => Ok(0),
        };
    }
    let account = account.ok_or(JobsError::StakingAccountsMissing)?;
    if !args.staking_config.is(keys::key(account)) {
        return Err(JobsError::StakingConfigInvalid);
    }
    let config = load_config(account)?;
    if !config.mint.is(keys::key(mint)) {
        return Err(JobsError::StakingConfigMintMismatch);
    }
    // A penalty this program could never apply is a promise to posters that nothing keeps:
    // the config must name this program as its slasher. (If its authority names another
    // later, the stakes this program has locked stay slashable by it: staking's `lock`.)
    if args.slash_penalty.get() != 0 && !config.slasher_program.is(program_id.as_array()) {
        return Err(JobsError::SlasherNotThisProgram);
    }
    // The seed is copied to the stack: a constant `&[seeds::SLASHER]` would be promoted to a
    // static holding a pointer, which SBF built this way does not relocate (pitfall 5).
    let seed: [u8; 7] = *b"slasher";
    const _: () = assert!(jobs_interface::seeds::SLASHER.len() == 7);
    let seed_list: [&[u8]; 1] = [&seed];
    let (_, bump) = Address::find_program_address(&seed_list, program_id);
    Ok(bump)
}

#[inline(never)]
pub fn process(context: &Context) -> ProgramResult {
    let args = Args::unpack(context.data)?;
    let accounts = Accounts::parse(context.accounts)?;
    check_system_program::<JobsError>(&accounts.system_program)?;
    check_token_program(&accounts.token_program)?;
    check_settings(args)?;

    // The authority pays the vault's rent and gets it back at close: it cannot be the
    // account being initialised (the System program would refuse to debit a program's
    // account anyway; said plainly here).
    if keys::key(&accounts.authority) == keys::key(&accounts.market) {
        return Err(JobsError::AccountAliased.into());
    }
    // The market: created by the client for this program, never initialised.
    if !keys::owned_by(&accounts.market, context.program_id) {
        return Err(JobsError::AccountOwnerInvalid.into());
    }
    // SAFETY: the only reference to the market's data in this instruction.
    let data = unsafe { data_mut(&accounts.market) };
    let entries_bytes = data.len().checked_sub(8 + Market::LEN).ok_or(JobsError::AccountSizeInvalid)?;
    if entries_bytes % QueueEntry::LEN != 0 {
        return Err(JobsError::CapacityInvalid.into());
    }
    let capacity = entries_bytes / QueueEntry::LEN;
    if capacity == 0 || capacity > MAX_CAPACITY as usize {
        return Err(JobsError::CapacityInvalid.into());
    }
    let (discriminator, rest) = data.split_at_mut(8);
    if discriminator.iter().any(|byte| *byte != 0) {
        return Err(JobsError::AccountAlreadyInitialized.into());
    }

    check_mint(&accounts.mint)?;
    let slasher_bump = check_staking_config(args, context.optional(accounts.staking_config)?, &accounts.mint, context.program_id)?;

    // The vault: PDA ["vault", market], a token account that is its own owner. Derived
    // with the syscall once here; its bump is stored so later signing costs nothing.
    let market_key = accounts.market.address();
    let (vault_key, bump) =
        Address::find_program_address(&[jobs_interface::seeds::VAULT, market_key.as_ref()], context.program_id);
    if !keys::is(&accounts.vault, &vault_key) {
        return Err(JobsError::VaultMismatch.into());
    }
    let seeds = VaultSeeds { market: market_key, bump: [bump] };
    let signer_seeds = seeds.seeds();
    CreateAccount {
        from: &accounts.authority,
        to: &accounts.vault,
        lamports: rent_exempt_minimum(&accounts.rent, TOKEN_ACCOUNT_LEN)?,
        space: TOKEN_ACCOUNT_LEN as u64,
        owner: &TOKEN_PROGRAM_ID,
    }
    .invoke_signed(&[Signer::from(&signer_seeds)])?;
    initialize_account(&accounts.vault, &accounts.mint, &vault_key)?;

    discriminator.copy_from_slice(&Market::DISCRIMINATOR);
    let market = Market::load_mut(rest).ok_or(JobsError::AccountSizeInvalid)?;
    market.authority = Pubkey(*accounts.authority.address().as_array());
    market.mint = Pubkey(*accounts.mint.address().as_array());
    market.vault = Pubkey(*vault_key.as_array());
    market.vault_bump = bump;
    apply_settings(market, args);
    market.slasher_bump = slasher_bump;
    market.state.set(MarketState::Open);
    market.jobs = PodU64::new(0);
    market.escrowed = PodU64::new(0);
    Queue::init(&mut market.queue);
    market.entries = EntryVecLen(PodU32::new(capacity as u32));

    emit(MarketOpened {
        market: Pubkey(*market_key.as_array()),
        authority: market.authority,
        mint: market.mint,
        vault: market.vault,
        price_per_second: market.price_per_second,
        max_timeout: market.max_timeout,
        min_stake: market.min_stake,
        retention: market.retention,
        max_attempts: market.max_attempts,
        max_entries_per_node: market.max_entries_per_node,
        slash_penalty: market.slash_penalty,
        reclaim_bounty_bps: market.reclaim_bounty_bps,
        fee_bps: market.fee_bps,
        staking_config: market.staking_config,
    });
    Ok(())
}
