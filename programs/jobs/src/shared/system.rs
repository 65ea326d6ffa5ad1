//! The System program: the check that an account is it, with this program's error.
//! Account creation (`CreateAccount`, pre-funded addresses included) is every program's:
//! programs/program-kit.

use jobs_interface::error::JobsError;
use pinocchio::AccountView;

pub use program_kit::system::CreateAccount;

#[inline(always)]
pub fn check_system_program(account: &AccountView) -> Result<(), JobsError> {
    if !program_kit::system::is_system_program(account) {
        return Err(JobsError::ProgramIdInvalid);
    }
    Ok(())
}
