//! Moving a job's escrow out of the vault: pay its node, refund its payer, keep the
//! market's `escrowed` counter equal to what the vault holds for open jobs.

use super::keys;
use super::math;
use super::token::{check_payee, Transfer, VaultSeeds};
use jobs_interface::error::JobsError;
use jobs_interface::state::{Job, Market};
use pinocchio::{AccountView, ProgramResult};

/// The accounts and amounts of one settlement.
pub struct Payout<'a> {
    pub market: &'a AccountView,
    pub vault: &'a AccountView,
    /// Receives `paid`; must be a token account of the market's mint owned by `node`.
    pub node_token: Option<&'a AccountView>,
    pub node: &'a [u8; 32],
    /// Receives the rest of the deposit; a token account of the market's mint owned by the
    /// job's payer.
    pub payer_token: &'a AccountView,
    pub paid: u64,
}

/// Checks the vault is the market's.
#[inline(always)]
pub fn check_vault(market: &Market, vault: &AccountView) -> Result<(), JobsError> {
    if !market.vault.is(keys::key(&vault)) {
        return Err(JobsError::VaultMismatch);
    }
    Ok(())
}

/// Releases the job's whole deposit: `payout.paid` to the node, the rest to the payer.
/// Both payees are checked (mint and owner) whatever the amounts, so one rule holds for
/// every settlement. Updates the counters first, then transfers (a failed transfer fails
/// the transaction, so nothing is half done).
#[inline(always)]
pub fn release(market: &mut Market, job: &mut Job, payout: &Payout) -> ProgramResult {
    check_vault(market, payout.vault)?;
    let deposit = job.deposit.get();
    let refund = math::sub(deposit, payout.paid)?;
    if let Some(node_token) = payout.node_token {
        check_payee(node_token, &market.mint.0, payout.node)?;
    }
    check_payee(payout.payer_token, &market.mint.0, &job.payer.0)?;

    market.escrowed.set(math::sub(market.escrowed.get(), deposit)?);
    job.deposit.set(0);
    job.paid.set(math::add(job.paid.get(), payout.paid)?);

    let seeds = VaultSeeds { market: payout.market.address(), bump: [market.vault_bump] };
    if let Some(node_token) = payout.node_token {
        Transfer { from: payout.vault, to: node_token, authority: payout.vault, amount: payout.paid, pda: Some(&seeds) }
            .invoke()?;
    }
    Transfer { from: payout.vault, to: payout.payer_token, authority: payout.vault, amount: refund, pda: Some(&seeds) }
        .invoke()
}

/// What a node earned for running from `since` to `now`: every started second, so at least
/// one (the clock ticks in whole seconds: a job that started and settled within one tick
/// ran, and was paid nothing before), capped at the job's timeout (at least 1 s, `post`).
#[inline(always)]
pub fn earned(job: &Job, since: i64, now: i64) -> Result<(u64, i64), JobsError> {
    let timeout = job.timeout.get();
    let seconds = math::started_seconds(since, now, timeout);
    if seconds < 1 {
        return Err(JobsError::ArithmeticOverflow); // a timeout below 1 s: never stored (post, extend)
    }
    // price * seconds cannot overflow: seconds <= timeout, and post and extend escrowed
    // deposit = price * timeout with checked arithmetic, so the product is at most the
    // deposit. One multiply instruction, against about twenty for the checked product on
    // SBF (no __multi3); the deposit check below still guards that invariant.
    let paid = job.price_per_second.get().wrapping_mul(seconds as u64);
    if paid > job.deposit.get() {
        return Err(JobsError::ArithmeticOverflow);
    }
    Ok((paid, seconds))
}
