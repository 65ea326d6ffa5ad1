//! Checked arithmetic that SBF can link: no u128, no `u64 * u64` with overflow checks
//! (both need `__multi3`, which the upstream BPF route does not provide).

use jobs_interface::error::JobsError;

/// `a * b`, or ArithmeticOverflow.
///
/// (interface_kit::math::checked_mul says how, without `__multi3`).
#[inline(always)]
pub fn mul(a: u64, b: u64) -> Result<u64, JobsError> {
    interface_kit::math::checked_mul(a, b).ok_or(JobsError::ArithmeticOverflow)
}

#[inline(always)]
pub fn add(a: u64, b: u64) -> Result<u64, JobsError> {
    a.checked_add(b).ok_or(JobsError::ArithmeticOverflow)
}

#[inline(always)]
pub fn sub(a: u64, b: u64) -> Result<u64, JobsError> {
    a.checked_sub(b).ok_or(JobsError::ArithmeticOverflow)
}

/// price per second * seconds, for a non-negative number of seconds.
#[inline(always)]
pub fn cost(price_per_second: u64, seconds: i64) -> Result<u64, JobsError> {
    if seconds < 0 {
        return Err(JobsError::ArithmeticOverflow);
    }
    mul(price_per_second, seconds as u64)
}

/// Seconds from `start` to `now`, never negative (a clock that went back counts as 0) and
/// never overflowing (a span past i64::MAX saturates: it is past every timeout).
#[inline(always)]
pub fn elapsed(start: i64, now: i64) -> i64 {
    let seconds = now.saturating_sub(start);
    if seconds > 0 { seconds } else { 0 }
}
