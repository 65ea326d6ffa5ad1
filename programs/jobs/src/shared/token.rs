//! SPL Token: account checks and the three CPIs the program makes (programs/program-kit's
//! `token`, shared by every program, refusing with this program's codes through
//! `CommonErrors`), and the vault's seeds.

use jobs_interface::error::JobsError;
use pinocchio::cpi::Seed;
use pinocchio::{AccountView, Address, ProgramResult};
use program_kit::token::{self, PdaSigner};

pub use program_kit::token::{initialize_account, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID, TOKEN_STATE_OFFSET};

#[inline(always)]
pub fn check_token_program(account: &AccountView) -> Result<(), JobsError> {
    token::check_token_program(account)
}

/// Checks that `mint` is an initialised SPL Token mint (Token-2022 is refused:
/// docs/architecture.md says why).
#[inline(always)]
pub fn check_mint(mint: &AccountView) -> Result<(), JobsError> {
    token::check_mint(mint)
}

/// Checks that `account` is an initialised SPL Token account of `mint` owned by `owner`:
/// the rule for every account the vault pays into, whatever the amount (a zero payout makes
/// no transfer, so SPL Token would check nothing).
#[inline(always)]
pub fn check_payee(account: &AccountView, mint: &[u8; 32], owner: &[u8; 32]) -> Result<(), JobsError> {
    token::check_token_account(account, mint, Some(owner)).map(|_| ())
}

/// Like `check_payee`, and returns the account's balance.
#[inline(always)]
pub fn check_token_account(account: &AccountView, mint: &[u8; 32], owner: &[u8; 32]) -> Result<u64, JobsError> {
    token::check_token_account(account, mint, Some(owner))
}

/// Checks that the token account a deposit comes from belongs to `owner` (so refunds
/// return to whoever paid, not to a delegate).
///
/// Its mint is not compared here: SPL Token refuses a transfer between accounts of
/// different mints, and the vault holds the market's mint, so an account of another mint
/// fails the transfer and the transaction with it (a zero deposit moves nothing, so
/// nothing needs checking). Payees are checked by `check_payee`.
#[inline(always)]
pub fn check_token_owner(account: &AccountView, owner: &[u8; 32]) -> Result<(), JobsError> {
    token::check_token_owner(account, owner)
}

/// The market vault's signer seeds: ["vault", market, bump].
pub struct VaultSeeds<'a> {
    pub market: &'a Address,
    pub bump: [u8; 1],
}

impl VaultSeeds<'_> {
    #[inline(always)]
    pub fn seeds(&self) -> [Seed<'_>; 3] {
        [
            Seed::from(jobs_interface::seeds::VAULT),
            Seed::from(self.market.as_ref()),
            Seed::from(&self.bump),
        ]
    }
}

impl PdaSigner for VaultSeeds<'_> {
    #[inline(always)]
    fn seeds(&self) -> impl AsRef<[Seed<'_>]> {
        VaultSeeds::seeds(self)
    }
}

/// A token transfer (skipped when zero), signed by the vault when `pda` is given, else by
/// `authority` as a transaction signer.
pub type Transfer<'a> = token::Transfer<'a, VaultSeeds<'a>>;

/// CloseAccount of the vault (signed by its seeds): rent to `destination`.
#[inline(always)]
pub fn close_vault(vault: &AccountView, destination: &AccountView, seeds: &VaultSeeds) -> ProgramResult {
    token::close_account(vault, destination, seeds)
}
