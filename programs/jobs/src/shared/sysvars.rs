//! Clock and rent from the sysvar accounts the instruction lists (programs/program-kit's
//! `sysvars`, shared by every program), with this program's error codes.

use jobs_interface::error::JobsError;
use pinocchio::AccountView;
use program_kit::sysvars::{self, SysvarError};

/// The cluster's unix time, in seconds, from the Clock sysvar account.
#[inline(always)]
pub fn now(clock: &AccountView) -> Result<i64, JobsError> {
    sysvars::now(clock).map_err(code)
}

/// Lamports that make an account of `data_len` bytes rent-exempt, from the Rent sysvar.
#[inline(always)]
pub fn rent_exempt_minimum(rent: &AccountView, data_len: usize) -> Result<u64, JobsError> {
    sysvars::rent_exempt_minimum(rent, data_len).map_err(code)
}

#[inline(always)]
fn code(error: SysvarError) -> JobsError {
    match error {
        SysvarError::Invalid => JobsError::SysvarInvalid,
        SysvarError::RentUnreadable => JobsError::RentSysvarUnreadable,
        SysvarError::Overflow => JobsError::ArithmeticOverflow,
    }
}
