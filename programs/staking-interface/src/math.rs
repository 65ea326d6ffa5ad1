//! The staking program's integer math, here so that host tests check exactly what the
//! program runs. No u128, no floats, no `u64 * u64` with overflow checks: SBF built by the
//! upstream route links none of the library calls those need (docs/toolchain.md, pitfall 4).
//! Wide products are built from 32-bit halves.
//!
//! Weight: `weight = floor(amount x m(d) / 10^6)` with the multiplier in millionths,
//! `m(d) = m_min + floor((m_max - m_min) x (d - d_min) / (d_max - d_min))`: linear in the
//! lock duration, rounded down twice (never in the staker's favour).
//!
//! Rewards: a 64.64 fixed-point accumulator `acc` of base units per unit of weight.
//! Everything is counted in 2^-64 base units ("sub-units") and nothing is dropped:
//! - a deposit D over total weight W adds `q = floor((D x 2^64 + R) / W)` sub-units per
//!   weight, where R is what the previous division left; the new R is the remainder
//!   (below W sub-units, less than one base unit over all stakes);
//! - each stake keeps a snapshot of `acc`; settling adds `w x (acc - snapshot) + dust`
//!   (exact: a 64 x 64-bit product) to the stake: its whole base units to `rewards_owed`,
//!   the fraction back to `dust`; the snapshot moves to `acc`.
//! So at every instant, in sub-units, the deposits equal the stakes' owed units and dust,
//! their unsettled `w x (acc - snapshot)`, and the config's R: the pool's balance covers
//! every claim, and a claim is never more than the exact share (both divisions round down,
//! and whole units are paid only once the fractions add up to them). The products stay
//! small: `w x (acc - snapshot)` is at most what was deposited while the stake held w (a
//! snapshot-free `w x acc - debt` could overflow for a stake joining after a large deposit
//! over a tiny total weight).

use crate::error::StakingError;

/// 1x in millionths.
pub const MULTIPLIER_ONE: u64 = 1_000_000;

const LOW: u64 = 0xFFFF_FFFF;

/// `a * b`, or ArithmeticOverflow.
///
/// (interface_kit::math::checked_mul says how, without `__multi3`).
#[inline(always)]
pub fn mul(a: u64, b: u64) -> Result<u64, StakingError> {
    interface_kit::math::checked_mul(a, b).ok_or(StakingError::ArithmeticOverflow)
}

#[inline(always)]
pub fn add(a: u64, b: u64) -> Result<u64, StakingError> {
    a.checked_add(b).ok_or(StakingError::ArithmeticOverflow)
}

#[inline(always)]
pub fn sub(a: u64, b: u64) -> Result<u64, StakingError> {
    a.checked_sub(b).ok_or(StakingError::ArithmeticOverflow)
}

/// `floor(a * b / c)`, exact, for `b` and `c` below 2^32 (c > 0): with a = q c + r,
/// a b / c = q b + r b / c, where r b < 2^64. Overflow of the result is an error.
#[inline(always)]
pub fn mul_div_floor(a: u64, b: u64, c: u64) -> Result<u64, StakingError> {
    if c == 0 || b > LOW || c > LOW {
        return Err(StakingError::ArithmeticOverflow);
    }
    let (q, r) = (a / c, a % c);
    // r < c < 2^32 and b < 2^32: the product fits.
    add(mul(q, b)?, (r * b) / c)
}

/// The full 128-bit product `a * b` as (high, low) words.
#[inline(always)]
pub fn wide_mul(a: u64, b: u64) -> (u64, u64) {
    // LLVM recognises the schoolbook product below as a 128-bit multiply and emits
    // `__multi3`, which SBF cannot link; reading the high halves through a volatile load
    // hides that they come from `a` and `b` (cost: two stack round trips).
    // SAFETY: reads of initialised locals.
    let (a1, b1) = unsafe { (core::ptr::read_volatile(&(a >> 32)), core::ptr::read_volatile(&(b >> 32))) };
    let (a0, b0) = (a & LOW, b & LOW);
    // Each partial product of two 32-bit halves is below 2^64.
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    // Below 3 x 2^32: no overflow.
    let middle = (p00 >> 32) + (p01 & LOW) + (p10 & LOW);
    let low = (middle << 32) | (p00 & LOW);
    // The exact high word of a product of two u64 is below 2^64.
    let high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
    (high, low)
}

/// Leading zero bits of a non-zero word (written out: no library call on SBF).
#[inline(always)]
fn leading_zeros(mut x: u64) -> u32 {
    let mut n = 0;
    if x >> 32 == 0 { n += 32; x <<= 32; }
    if x >> 48 == 0 { n += 16; x <<= 16; }
    if x >> 56 == 0 { n += 8; x <<= 8; }
    if x >> 60 == 0 { n += 4; x <<= 4; }
    if x >> 62 == 0 { n += 2; x <<= 2; }
    if x >> 63 == 0 { n += 1; }
    n
}

/// `(hi x 2^64 + lo) / w` for `hi < w`: the quotient (below 2^64) and the remainder, by
/// long division in chunks as wide as `w` leaves room for (one bit at a time only when
/// w >= 2^63).
#[inline(always)]
pub fn div_wide(hi: u64, lo: u64, w: u64) -> (u64, u64) {
    debug_assert!(hi < w);
    let (mut q, mut r, mut lo) = (0u64, hi, lo);
    let k = leading_zeros(w);
    if k == 0 {
        let mut i = 0;
        while i < 64 {
            let carry = r >> 63;
            r = (r << 1) | (lo >> 63);
            lo <<= 1;
            q <<= 1;
            if carry != 0 || r >= w {
                r = r.wrapping_sub(w);
                q |= 1;
            }
            i += 1;
        }
        return (q, r);
    }
    let mut bits = 64u32;
    while bits > 0 {
        let step = if k < bits { k } else { bits };
        // r < w < 2^(64-k): shifting by at most k bits keeps r below 2^64, and the
        // quotient digit r / w below 2^step (1 <= step <= 63).
        r = (r << step) | (lo >> (64 - step));
        lo <<= step;
        q = (q << step) | (r / w);
        r %= w;
        bits -= step;
    }
    (q, r)
}

/// A stake's multiplier (millionths) for a lock of `duration` seconds; refuses a duration
/// outside [min_duration, max_duration]. Bounds come from a validated config: durations
/// below 2^32, min <= max for both.
#[inline(always)]
pub fn multiplier(duration: i64, min_duration: i64, max_duration: i64, min_multiplier: u64, max_multiplier: u64) -> Result<u64, StakingError> {
    if duration < min_duration || duration > max_duration {
        return Err(StakingError::DurationInvalid);
    }
    if max_duration == min_duration {
        return Ok(min_multiplier);
    }
    let span = (max_duration - min_duration) as u64;
    let into = (duration - min_duration) as u64;
    add(min_multiplier, mul_div_floor(sub(max_multiplier, min_multiplier)?, into, span)?)
}

/// `floor(amount x multiplier / 10^6)`.
#[inline(always)]
pub fn weight(amount: u64, multiplier: u64) -> Result<u64, StakingError> {
    mul_div_floor(amount, multiplier, MULTIPLIER_ONE)
}

/// Of `base` tokens unlocking linearly over `duration` seconds, how many have unlocked
/// `elapsed` seconds in (rounded down; all of them from `duration` on).
#[inline(always)]
pub fn unlocked(base: u64, duration: i64, elapsed: i64) -> Result<u64, StakingError> {
    if elapsed <= 0 {
        return Ok(0);
    }
    if elapsed >= duration {
        return Ok(base);
    }
    mul_div_floor(base, elapsed as u64, duration as u64)
}

/// Base units per unit of weight, 64.64 fixed point: `int + frac / 2^64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerWeight {
    pub int: u64,
    pub frac: u64,
}

impl PerWeight {
    /// `floor(amount x 2^64 / total_weight) / 2^64`, for total_weight > 0.
    #[inline(always)]
    pub fn of(amount: u64, total_weight: u64) -> PerWeight {
        Self::share(amount, 0, total_weight).0
    }

    /// `(amount x 2^64 + carried) / total_weight` in 2^-64 units, for total_weight > 0: the
    /// increment, rounded down, and what is left of the numerator (below total_weight, so
    /// below one base unit over all weight), which the next deposit carries.
    #[inline(always)]
    pub fn share(amount: u64, carried: u64, total_weight: u64) -> (PerWeight, u64) {
        let (frac, left) = div_wide(amount % total_weight, carried, total_weight);
        (PerWeight { int: amount / total_weight, frac }, left)
    }

    /// `self + other`, modulo 2^64 in the integer part: the accumulator wraps rather than
    /// stopping deposits once the rewards per unit of weight ever paid pass u64::MAX (a
    /// high-supply mint shared over little weight). Readers take differences (`minus`),
    /// which stay exact while the difference itself fits, as every unclaimed share does.
    #[inline(always)]
    pub fn plus(self, other: PerWeight) -> PerWeight {
        let (frac, carry) = self.frac.overflowing_add(other.frac);
        let int = self.int.wrapping_add(other.int).wrapping_add(carry as u64);
        PerWeight { int, frac }
    }

    /// `self - earlier`, modulo 2^64 in the integer part (the accumulator only grows, and
    /// wraps: see `plus`).
    #[inline(always)]
    pub fn minus(self, earlier: PerWeight) -> PerWeight {
        let (frac, borrow) = self.frac.overflowing_sub(earlier.frac);
        let int = self.int.wrapping_sub(earlier.int).wrapping_sub(borrow as u64);
        PerWeight { int, frac }
    }

    /// `floor(weight x self)`: what `weight` earned over an accumulator difference.
    #[inline(always)]
    pub fn share_floor(self, weight: u64) -> Result<u64, StakingError> {
        Ok(self.earned(weight, 0)?.0)
    }

    /// `weight x self + dust / 2^64`, exact: whole base units, and the fraction left (in
    /// 2^-64 units) that the stake keeps for next time.
    #[inline(always)]
    pub fn earned(self, weight: u64, dust: u64) -> Result<(u64, u64), StakingError> {
        let (high, low) = wide_mul(weight, self.frac);
        let (dust, carry) = low.overflowing_add(dust);
        Ok((add(add(mul(weight, self.int)?, high)?, carry as u64)?, dust))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> u64 {
        *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *state ^ (*state >> 29)
    }

    #[test]
    fn mul_and_wide_mul_agree_with_u128() {
        let mut s = 7;
        for _ in 0..100_000 {
            let (a, b) = (lcg(&mut s) >> (lcg(&mut s) % 64), lcg(&mut s) >> (lcg(&mut s) % 64));
            let exact = a as u128 * b as u128;
            assert_eq!(wide_mul(a, b), ((exact >> 64) as u64, exact as u64));
            assert_eq!(mul(a, b).ok(), u64::try_from(exact).ok());
        }
    }

    #[test]
    fn mul_div_floor_is_exact() {
        let mut s = 11;
        for _ in 0..100_000 {
            let a = lcg(&mut s) >> (lcg(&mut s) % 64);
            let b = (lcg(&mut s) >> 32) >> (lcg(&mut s) % 32);
            let c = ((lcg(&mut s) >> 32) >> (lcg(&mut s) % 32)).max(1);
            let exact = a as u128 * b as u128 / c as u128;
            assert_eq!(mul_div_floor(a, b, c).ok(), u64::try_from(exact).ok(), "{a} {b} {c}");
        }
        assert!(mul_div_floor(1, 1 << 32, 1).is_err());
        assert!(mul_div_floor(1, 1, 0).is_err());
    }

    #[test]
    fn div_wide_is_exact() {
        let mut s = 13;
        let check = |hi: u64, lo: u64, w: u64| {
            let n = ((hi as u128) << 64) | lo as u128;
            assert_eq!(div_wide(hi, lo, w), ((n / w as u128) as u64, (n % w as u128) as u64), "{hi} {lo} {w}");
        };
        for _ in 0..100_000 {
            let w = (lcg(&mut s) >> (lcg(&mut s) % 64)).max(1);
            check(lcg(&mut s) % w, lcg(&mut s), w);
        }
        check(u64::MAX - 1, u64::MAX, u64::MAX);
        check(0, u64::MAX, 1);
        check((1 << 63) - 1, 12345, 1 << 63);
    }

    #[test]
    fn carried_remainders_and_dust_lose_nothing() {
        // One stake alone receives every deposit: with the remainder carried by the config
        // and the dust kept by the stake, what it is owed plus what is in flight is exact.
        let mut s = 19;
        for _ in 0..2_000 {
            let w = (lcg(&mut s) >> (lcg(&mut s) % 64)).max(1);
            let (mut acc, mut carried, mut snapshot, mut dust, mut owed, mut deposited) = (PerWeight::default(), 0u64, PerWeight::default(), 0u64, 0u128, 0u128);
            for _ in 0..20 {
                let amount = lcg(&mut s) >> 40;
                deposited += amount as u128;
                let (increment, left) = PerWeight::share(amount, carried, w);
                acc = acc.plus(increment);
                carried = left;
                if lcg(&mut s) % 3 == 0 {
                    let (units, left) = acc.minus(snapshot).earned(w, dust).unwrap();
                    owed += units as u128;
                    dust = left;
                    snapshot = acc;
                }
            }
            let (units, left) = acc.minus(snapshot).earned(w, dust).unwrap();
            owed += units as u128;
            // deposited x 2^64 = owed x 2^64 + the stake's dust + the config's remainder.
            assert_eq!(deposited << 64, (owed << 64) + left as u128 + carried as u128 * 1, "w={w}");
        }
    }

    #[test]
    fn a_wrapped_accumulator_still_pays_exact_shares() {
        // Rewards per unit of weight past u64::MAX (a high-supply mint over one unit of
        // weight): the accumulator wraps, and a stake's share since its snapshot is exact.
        let near_end = PerWeight { int: u64::MAX - 5, frac: u64::MAX - 7 };
        let increment = PerWeight { int: 1_000, frac: 9 };
        let later = near_end.plus(increment);
        assert!(later.int < near_end.int, "wrapped");
        assert_eq!(later.minus(near_end), increment);
        assert_eq!(later.minus(near_end).earned(3, 0).unwrap(), (3_000, 27));
    }

    #[test]
    fn shares_round_against_the_claimer() {
        let mut s = 17;
        for _ in 0..50_000 {
            let total = (lcg(&mut s) >> (lcg(&mut s) % 64)).max(1);
            let amount = lcg(&mut s) >> (lcg(&mut s) % 64);
            let w = lcg(&mut s) % total + 1;
            let acc = PerWeight::of(amount, total);
            let exact = ((acc.int as u128) << 64) + acc.frac as u128; // acc x 2^64
            assert!(exact <= ((amount as u128) << 64) / total as u128);
            let product = w as u128 * exact;
            assert_eq!(acc.share_floor(w).unwrap() as u128, product >> 64);
            let half = PerWeight::of(amount / 2, total);
            let later = half.plus(PerWeight::of(amount / 3, total));
            assert_eq!(later.minus(half), PerWeight::of(amount / 3, total));
            assert!(acc.share_floor(w).unwrap() as u128 * total as u128 <= amount as u128 * w as u128);
        }
    }

    #[test]
    fn multiplier_is_linear_and_rounds_down() {
        let (lo, hi) = (14 * 86_400, 365 * 86_400);
        let m = |d| multiplier(d, lo, hi, MULTIPLIER_ONE, 4 * MULTIPLIER_ONE).unwrap();
        assert_eq!(m(lo), 1_000_000);
        assert_eq!(m(hi), 4_000_000);
        // 14 + 351/2 days: exactly half way.
        assert_eq!(m(lo + 351 * 86_400 / 2), 2_500_000);
        // 30 days: 1 + 3 x 16/351 = 1.136752136... -> 1_136_752.
        assert_eq!(m(30 * 86_400), 1_136_752);
        assert_eq!(multiplier(lo - 1, lo, hi, 1, 2), Err(StakingError::DurationInvalid));
        assert_eq!(weight(1_000_000_000, 1_136_752).unwrap(), 1_136_752_000);
        assert_eq!(weight(3, 1_500_000).unwrap(), 4);
        assert_eq!(unlocked(100, 30, 10).unwrap(), 33);
        assert_eq!(unlocked(100, 30, 31).unwrap(), 100);
        assert_eq!(unlocked(100, 30, -5).unwrap(), 0);
    }
}
