//! SPL Token: account checks and the CPIs the program makes (programs/program-kit's
//! `token`, shared by every program, refusing with this program's codes through
//! `CommonErrors`), and its PDAs' seeds.

use pinocchio::cpi::Seed;
use pinocchio::{AccountView, Address};
use program_kit::token::{self, PdaSigner};
use staking_interface::error::StakingError;

pub use program_kit::token::{initialize_account, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

#[inline(always)]
pub fn check_token_program(account: &AccountView) -> Result<(), StakingError> {
    token::check_token_program(account)
}

/// Checks that `mint` is an initialised SPL Token mint (Token-2022 is refused, as by the
/// jobs program: transfer fees and hooks would break exact accounting).
#[inline(always)]
pub fn check_mint(mint: &AccountView) -> Result<(), StakingError> {
    token::check_mint(mint)
}

/// Checks that `account` is an initialised SPL Token account of `mint` owned by `owner`
/// (`None`: any owner): the rule for every account the program pays into, whatever the
/// amount (a zero payout makes no transfer, so SPL Token would check nothing).
#[inline(always)]
pub fn check_token_account(account: &AccountView, mint: &[u8; 32], owner: Option<&[u8; 32]>) -> Result<(), StakingError> {
    token::check_token_account(account, mint, owner).map(|_| ())
}

/// The signer seeds of a token account that is its own PDA: [prefix, config, bump]
/// (the vault and the rewards pool).
pub struct PdaSeeds<'a> {
    pub prefix: &'static [u8],
    pub config: &'a Address,
    pub bump: [u8; 1],
}

impl PdaSigner for PdaSeeds<'_> {
    #[inline(always)]
    fn seeds(&self) -> impl AsRef<[Seed<'_>]> {
        [Seed::from(self.prefix), Seed::from(self.config.as_ref()), Seed::from(&self.bump)]
    }
}

/// A token transfer (skipped when zero), signed by the vault's or the pool's PDA when
/// `pda` is given (then `authority` is that PDA's token account itself).
pub type Transfer<'a> = token::Transfer<'a, PdaSeeds<'a>>;
