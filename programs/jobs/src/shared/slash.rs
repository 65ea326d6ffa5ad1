//! The slash of a node that let its job's deadline pass (reclaim, or its own late quit):
//! min(penalty, stake) through the staking program's `slash`, signed by this program's
//! PDA ["slasher"], the bounty to reclaim's caller (a late quit pays none).
//!
//! A reclaim must never get stuck because of staking, and a caller must never be able to
//! dodge the slash. So the slash accounts are required whenever the job has a penalty
//! (StakingAccountsMissing), every one is checked (the staking program by its constant id,
//! the config against the market's, the stake against the node, the slasher PDA against the
//! stake's locker or the config), and the slash is skipped, with the reason in
//! `NodeSlashed`, only for what the caller cannot fake: the node's stake is gone (its
//! address checked to be the node's PDA) or empty, the config no longer names this program
//! as its slasher and the stake holds no lock of this program's, or the treasury the config
//! sends slashes to is closed or frozen. A stake backing the job is locked by this program
//! (`work`), so it cannot be gone, and a change of slasher does not free it.

use super::keys;
use super::staking::{check_staking_program, is_stake_address, load_market_config, load_stake, SlashCpi};
use super::token::{TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID, TOKEN_STATE_OFFSET};
use jobs_interface::error::JobsError;
use super::events::emit;
use jobs_interface::event::{slash_outcome, NodeSlashed};
use jobs_interface::fees::reclaim_bounty;
use jobs_interface::pod::{eq32, PodU64, Pubkey};
use jobs_interface::state::{Job, Market};
use pinocchio::{AccountView, Address};
use staking_interface::state::SlashDestination;

/// The optional accounts reclaim passes to the slash, and this program's id (in here
/// because SBF calls take at most five register arguments, the returned value's pointer
/// included: docs/toolchain.md, pitfall 3).
pub struct SlashAccounts<'a> {
    pub program_id: &'a Address,
    /// The reclaimed job (named by the event).
    pub job: &'a AccountView,
    pub staking_program: Option<&'a AccountView>,
    pub config: Option<&'a AccountView>,
    pub stake: Option<&'a AccountView>,
    pub vault: Option<&'a AccountView>,
    pub destination: Option<&'a AccountView>,
    /// Receives the bounty (reclaim: required). None for a late quit: no bounty, and the
    /// destination stands in as the payee staking's `slash` asks for.
    pub bounty_to: Option<&'a AccountView>,
    pub slasher: Option<&'a AccountView>,
    pub token_program: &'a AccountView,
    /// The market's vault: never the bounty's payee.
    pub market_vault: &'a AccountView,
}

/// The `SlashAccounts` of an instruction that gives a job up (quit, reclaim): both name
/// their accounts alike, but each list is its own generated type, so one macro maps them.
macro_rules! slash_accounts_of {
    ($context:expr, $accounts:expr, $bounty_to:expr) => {
        $crate::shared::slash::SlashAccounts {
            program_id: $context.program_id,
            job: &$accounts.job,
            staking_program: $context.optional($accounts.staking_program)?,
            config: $context.optional($accounts.staking_config)?,
            stake: $context.optional($accounts.stake)?,
            vault: $context.optional($accounts.stake_vault)?,
            destination: $context.optional($accounts.slash_destination)?,
            bounty_to: $bounty_to,
            slasher: $context.optional($accounts.slasher)?,
            token_program: &$accounts.token_program,
            market_vault: &$accounts.vault,
        }
    };
}
pub(crate) use slash_accounts_of;

/// What became of the slash (`NodeSlashed`).
struct Slash {
    slashed: u64,
    bounty: u64,
    bounty_to: [u8; 32],
    outcome: u8,
}

/// SPL Token account state byte (at TOKEN_STATE_OFFSET): 1 = initialised, 2 = frozen.
const TOKEN_STATE_INITIALIZED: u8 = 1;

/// Slashes `node` for the job (its own penalty, non-zero, and bounty, fixed when posted)
/// and logs `NodeSlashed`. Out of line: jobs without a penalty never come here.
#[inline(never)]
pub fn slash_silent_node(market: &Market, job: &Job, node: &[u8; 32], accounts: &SlashAccounts) -> Result<(), JobsError> {
    let slash = slash(market, job, node, accounts)?;
    emit(NodeSlashed {
        job: Pubkey(*keys::key(accounts.job)),
        node: Pubkey(*node),
        slashed: PodU64::new(slash.slashed),
        bounty: PodU64::new(slash.bounty),
        bounty_to: Pubkey(slash.bounty_to),
        outcome: slash.outcome,
    });
    Ok(())
}

#[inline(always)]
fn slash(market: &Market, job: &Job, node: &[u8; 32], accounts: &SlashAccounts) -> Result<Slash, JobsError> {
    let penalty = job.slash_penalty.get();
    let (Some(program), Some(config_account), Some(stake_account), Some(vault), Some(destination), Some(slasher)) = (
        accounts.staking_program,
        accounts.config,
        accounts.stake,
        accounts.vault,
        accounts.destination,
        accounts.slasher,
    ) else {
        return Err(JobsError::StakingAccountsMissing);
    };
    let (bounty_to, bounty_bps) = match accounts.bounty_to {
        Some(account) => (account, job.reclaim_bounty_bps.get()),
        None => (destination, 0),
    };
    // The bounty leaves the node's stake for the caller: paid into the market's vault, it
    // would sit there as no job's deposit.
    if keys::same(bounty_to, accounts.market_vault) {
        return Err(JobsError::AccountAliased);
    }
    check_staking_program(program)?;
    let skipped = |outcome| Ok(Slash { slashed: 0, bounty: 0, bounty_to: *keys::key(bounty_to), outcome });

    // What the config says, copied out: no reference into it survives to the CPI.
    let (slasher_ours, slasher_key, to_treasury, treasury) = {
        let config = load_market_config(config_account, market)?;
        (
            config.slasher_program.is(accounts.program_id.as_array()),
            config.slasher.0,
            config.slash_to.is(SlashDestination::Treasury),
            config.treasury.0,
        )
    };
    let config_key = keys::key(config_account);
    let (held, locker) = match load_stake(stake_account, config_key, node)? {
        Some(stake) => (stake.amount.get(), if stake.locked.get() != 0 { Some(stake.locker.0) } else { None }),
        None if is_stake_address(stake_account.address(), config_account.address(), node) => {
            return skipped(slash_outcome::STAKE_CLOSED);
        }
        None => return Err(JobsError::StakeInvalid),
    };
    match locker {
        // The stake backs the job (locked at `work`): its locker, this program's PDA,
        // slashes it, whichever slasher the config names now.
        Some(locker) => {
            if !eq32(keys::key(slasher), &locker) {
                return Err(JobsError::SlasherMismatch);
            }
        }
        // Nothing locked (a stake that backs no job of ours): the config's slasher decides.
        // Its authority may name another slasher program at any time: then this program can
        // no longer sign a slash, and the reclaim goes on without one.
        None => {
            if !slasher_ours {
                return skipped(slash_outcome::SLASHER_CHANGED);
            }
            if !eq32(keys::key(slasher), &slasher_key) {
                return Err(JobsError::SlasherMismatch);
            }
        }
    }
    if held == 0 {
        return skipped(slash_outcome::STAKE_EMPTY);
    }
    // A treasury its owner closed or its mint's authority froze would fail the slash's
    // transfer, and the reclaim with it. A wrong destination is left to the staking
    // program to refuse (the caller's mistake, not a way around the slash).
    if to_treasury && eq32(keys::key(destination), &treasury) && !is_live_token_account(destination) {
        return skipped(slash_outcome::DESTINATION_UNUSABLE);
    }

    let slashed = if penalty < held { penalty } else { held };
    let bounty = reclaim_bounty(slashed, bounty_bps);
    SlashCpi {
        slasher,
        config: config_account,
        stake: stake_account,
        vault,
        destination,
        bounty_to,
        token_program: accounts.token_program,
        amount: slashed,
        bounty,
        slasher_bump: market.slasher_bump,
    }
    .invoke();
    Ok(Slash { slashed, bounty, bounty_to: *keys::key(bounty_to), outcome: slash_outcome::SLASHED })
}

/// An initialised (not frozen) SPL Token account.
#[inline(always)]
fn is_live_token_account(account: &AccountView) -> bool {
    if !keys::owned_by(account, &TOKEN_PROGRAM_ID) || account.data_len() != TOKEN_ACCOUNT_LEN {
        return false;
    }
    // SAFETY: read-only view of a token-program account; dropped before the CPI.
    let data = unsafe { account.borrow_unchecked() };
    data[TOKEN_STATE_OFFSET] == TOKEN_STATE_INITIALIZED
}
