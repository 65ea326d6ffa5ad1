//! Checked arithmetic that SBF can link: no u128, no `u64 * u64` with overflow checks
//! (both need `__multi3`, which the upstream BPF route does not provide).

use jobs_interface::error::JobsError;

/// `a * b`, or ArithmeticOverflow.
///
/// Built from 32-bit halves: the obvious `a > u64::MAX / b` guard is recognised by LLVM as
/// an overflow check and lowered to `__multi3`, which SBF cannot link.
#[inline(always)]
pub fn mul(a: u64, b: u64) -> Result<u64, JobsError> {
    const LOW: u64 = 0xFFFF_FFFF;
    let (a_high, a_low) = (a >> 32, a & LOW);
    let (b_high, b_low) = (b >> 32, b & LOW);
    if a_high != 0 && b_high != 0 {
        return Err(JobsError::ArithmeticOverflow);
    }
    // One of the high halves is zero, so at most one product is non-zero, each < 2^64.
    let cross = a_high * b_low + a_low * b_high;
    if cross > LOW {
        return Err(JobsError::ArithmeticOverflow);
    }
    (cross << 32).checked_add(a_low * b_low).ok_or(JobsError::ArithmeticOverflow)
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
