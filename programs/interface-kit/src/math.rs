//! Checked arithmetic that SBF can link, shared by the programs and their interfaces: no
//! u128, no `u64 * u64` with overflow checks (both need `__multi3`, which the upstream BPF
//! route does not provide). Each program wraps these with its own ArithmeticOverflow error.

/// `a * b`, or None on overflow.
///
/// Built from 32-bit halves: the obvious `a > u64::MAX / b` guard is recognised by LLVM as
/// an overflow check and lowered to `__multi3`, which SBF cannot link.
#[inline(always)]
pub fn checked_mul(a: u64, b: u64) -> Option<u64> {
    const LOW: u64 = 0xFFFF_FFFF;
    let (a_high, a_low) = (a >> 32, a & LOW);
    let (b_high, b_low) = (b >> 32, b & LOW);
    if a_high != 0 && b_high != 0 {
        return None;
    }
    // One of the high halves is zero, so at most one cross product is non-zero, < 2^64.
    let cross = a_high * b_low + a_low * b_high;
    if cross > LOW {
        return None;
    }
    (cross << 32).checked_add(a_low * b_low)
}
