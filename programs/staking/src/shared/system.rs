//! The System program: the check that an account is it, with this program's error.
//! Account creation (`CreateAccount`, pre-funded addresses included) is every program's:
//! programs/program-kit.

use staking_interface::error::StakingError;
use pinocchio::AccountView;

pub use program_kit::system::CreateAccount;

#[inline(always)]
pub fn check_system_program(account: &AccountView) -> Result<(), StakingError> {
    if !program_kit::system::is_system_program(account) {
        return Err(StakingError::ProgramIdInvalid);
    }
    Ok(())
}
