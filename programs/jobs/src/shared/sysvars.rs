//! Clock and rent, read through `sol_get_sysvar`.

use jobs_interface::error::JobsError;
use pinocchio::sysvars::{clock::Clock, rent::RENT_ID, Sysvar};
use pinocchio::ProgramResult;

/// The cluster's unix time, in seconds.
#[inline(always)]
pub fn now() -> Result<i64, pinocchio::error::ProgramError> {
    Ok(Clock::get()?.unix_timestamp)
}

/// The bytes every account pays rent for beyond its data.
const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// Lamports that make an account of `data_len` bytes rent-exempt.
///
/// Read from the raw sysvar because two layouts are live (docs/toolchain.md, pitfall 6):
/// the old `{lamports_per_byte_year: u64, exemption_threshold: f64, ..}` (LiteSVM in solders
/// 0.26: 3480 and 2.0) and the new `{lamports_per_byte: u64, ..}` where the second word is
/// 1.0. The threshold is decoded in integers (no floats on SBF): a power of two 2^k with
/// 0 <= k < 8 multiplies; anything else is refused.
#[inline(always)]
pub fn rent_exempt_minimum(data_len: usize) -> Result<u64, JobsError> {
    let mut raw = [0u8; 16];
    read_rent(&mut raw).map_err(|_| JobsError::RentSysvarUnreadable)?;
    let per_byte = u64::from_le_bytes([raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]]);
    let threshold = u64::from_le_bytes([raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]]);
    let multiplier = threshold_multiplier(threshold).ok_or(JobsError::RentSysvarUnreadable)?;
    let bytes = (data_len as u64).checked_add(ACCOUNT_STORAGE_OVERHEAD).ok_or(JobsError::ArithmeticOverflow)?;
    let per_byte = super::math::mul(per_byte, multiplier)?;
    super::math::mul(bytes, per_byte)
}

/// The integer value of an f64 bit pattern that is 2^k for 0 <= k < 8 (1.0, 2.0, 4.0...).
#[inline(always)]
fn threshold_multiplier(bits: u64) -> Option<u64> {
    const MANTISSA_MASK: u64 = (1 << 52) - 1;
    const EXPONENT_BIAS: u64 = 1023;
    if bits & MANTISSA_MASK != 0 || bits >> 63 != 0 {
        return None;
    }
    let exponent = bits >> 52;
    if !(EXPONENT_BIAS..EXPONENT_BIAS + 8).contains(&exponent) {
        return None;
    }
    Some(1u64 << (exponent - EXPONENT_BIAS))
}

#[inline(always)]
fn read_rent(out: &mut [u8; 16]) -> ProgramResult {
    #[cfg(any(target_os = "solana", target_arch = "bpf"))]
    {
        // SAFETY: `out` is valid for 16 bytes; the syscall writes at most `length` bytes.
        let result = unsafe {
            pinocchio::syscalls::sol_get_sysvar(RENT_ID.as_ref().as_ptr(), out.as_mut_ptr(), 0, 16)
        };
        if result != pinocchio::SUCCESS {
            return Err(pinocchio::error::ProgramError::UnsupportedSysvar);
        }
    }
    #[cfg(not(any(target_os = "solana", target_arch = "bpf")))]
    {
        let _ = (&RENT_ID, out);
    }
    Ok(())
}
