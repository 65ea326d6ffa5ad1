//! Clock and rent, read from the sysvar accounts the instruction lists. Errors are this
//! module's `SysvarError`; each program maps them to its own codes (its shared/sysvars.rs).
//!
//! Reading an account the runtime already mapped costs a few units; the sysvar syscalls
//! cost over a hundred each, a large share of an instruction that makes no CPI.

use crate::keys;
use pinocchio::sysvars::{clock::CLOCK_ID, rent::RENT_ID};
use pinocchio::{AccountView, Address};

/// What can go wrong reading a sysvar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysvarError {
    /// Not the sysvar's address, or too short.
    Invalid,
    /// A Rent layout whose exemption threshold is not 2^k (0 <= k < 8).
    RentUnreadable,
    /// The minimum balance overflows a u64.
    Overflow,
}

const CLOCK_LEN: usize = 40;
const UNIX_TIMESTAMP_OFFSET: usize = 32;

/// The cluster's unix time, in seconds, from the Clock sysvar account.
#[inline(always)]
pub fn now(clock: &AccountView) -> Result<i64, SysvarError> {
    let data = sysvar_data(clock, &CLOCK_ID, CLOCK_LEN)?;
    let bytes = data[UNIX_TIMESTAMP_OFFSET..].first_chunk::<8>().ok_or(SysvarError::Invalid)?;
    Ok(i64::from_le_bytes(*bytes))
}

/// The bytes every account pays rent for beyond its data.
const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// Lamports that make an account of `data_len` bytes rent-exempt, from the Rent sysvar.
///
/// Two layouts are live (docs/toolchain.md, pitfall 6): the old
/// `{lamports_per_byte_year: u64, exemption_threshold: f64, ..}` (LiteSVM in solders 0.26:
/// 3480 and 2.0) and the new `{lamports_per_byte: u64, ..}` whose second word is 1.0. The
/// threshold is decoded in integers (no floats on SBF): a power of two 2^k with 0 <= k < 8
/// shifts; anything else is refused.
#[inline(always)]
pub fn rent_exempt_minimum(rent: &AccountView, data_len: usize) -> Result<u64, SysvarError> {
    let data = sysvar_data(rent, &RENT_ID, 16)?;
    let per_byte = u64::from_le_bytes(*data.first_chunk::<8>().ok_or(SysvarError::Invalid)?);
    let threshold = u64::from_le_bytes(*data[8..].first_chunk::<8>().ok_or(SysvarError::Invalid)?);
    let shift = threshold_shift(threshold).ok_or(SysvarError::RentUnreadable)?;
    let bytes = (data_len as u64).checked_add(ACCOUNT_STORAGE_OVERHEAD).ok_or(SysvarError::Overflow)?;
    // per_byte x 2^shift, refused if any bit is shifted out (shift < 8).
    if per_byte >> (63 - shift) > 1 {
        return Err(SysvarError::Overflow);
    }
    let per_byte = per_byte << shift;
    // Every caller's `data_len` is a constant, so the bound folds to a constant and the
    // product is one multiply (a non-constant divisor here would be lowered to `__multi3`,
    // which SBF cannot link: the build would fail, not misbehave).
    if per_byte > u64::MAX / bytes {
        return Err(SysvarError::Overflow);
    }
    Ok(per_byte.wrapping_mul(bytes))
}

/// The data of a sysvar account, after checking its address and size.
#[inline(always)]
fn sysvar_data<'a>(account: &'a AccountView, id: &Address, min_len: usize) -> Result<&'a [u8], SysvarError> {
    if !keys::is(account, id) || account.data_len() < min_len {
        return Err(SysvarError::Invalid);
    }
    // SAFETY: sysvar accounts are read-only to programs; nothing borrows them mutably.
    Ok(unsafe { account.borrow_unchecked() })
}

/// k for an f64 bit pattern that is 2^k with 0 <= k < 8 (1.0, 2.0, 4.0...).
#[inline(always)]
fn threshold_shift(bits: u64) -> Option<u64> {
    const MANTISSA_MASK: u64 = (1 << 52) - 1;
    const EXPONENT_BIAS: u64 = 1023;
    if bits & MANTISSA_MASK != 0 || bits >> 63 != 0 {
        return None;
    }
    // The sign bit is clear, so this is the biased exponent; below the bias it wraps high.
    let shift = (bits >> 52).wrapping_sub(EXPONENT_BIAS);
    if shift >= 8 {
        return None;
    }
    Some(shift)
}
