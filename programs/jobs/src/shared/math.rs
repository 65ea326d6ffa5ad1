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

/// The seconds from `start` to `now` a job is paid for: at least 1 (a clock that stood
/// still or went back counts as 1), at most `cap` (the job's timeout, at least 1 by `post`).
/// The span is taken as unsigned, so it is exact for any two i64s with `now > start`; a
/// span past i64::MAX is past every cap. Branches, not saturating i64 arithmetic: this is
/// on every settlement's path, and the lifecycle's compute budget is tight.
#[inline(always)]
pub fn started_seconds(start: i64, now: i64, cap: i64) -> i64 {
    let span = if now > start { (now as u64).wrapping_sub(start as u64) } else { 1 };
    let seconds = span as i64; // negative only for a span past i64::MAX
    if seconds < 0 || seconds > cap { cap } else { seconds }
}
