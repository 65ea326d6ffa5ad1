//! Plain-old-data field types of alignment 1.
//!
//! Account and instruction layouts are `#[repr(C)]` structs of these types, so a struct can
//! be read in place from any byte offset (no padding, no alignment), and its bytes are
//! exactly its borsh encoding (little endian, fixed size). Each type also names its IDL type.

use crate::idl::IdlType;

/// A type whose in-memory layout is its borsh encoding, and which the IDL can describe.
pub trait Pod: Copy {
    const IDL: IdlType;
}

macro_rules! pod_int {
    ($(#[$doc:meta])* $name:ident, $int:ty, $idl:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name(pub [u8; core::mem::size_of::<$int>()]);

        impl $name {
            #[inline(always)]
            pub const fn new(value: $int) -> Self {
                Self(value.to_le_bytes())
            }
            #[inline(always)]
            pub const fn get(&self) -> $int {
                <$int>::from_le_bytes(self.0)
            }
            #[inline(always)]
            pub fn set(&mut self, value: $int) {
                self.0 = value.to_le_bytes();
            }
        }

        impl Pod for $name {
            const IDL: IdlType = IdlType::$idl;
        }
    };
}

pod_int!(
    /// A little-endian `u16`.
    PodU16, u16, U16
);
pod_int!(
    /// A little-endian `u32`.
    PodU32, u32, U32
);
pod_int!(
    /// A little-endian `u64`.
    PodU64, u64, U64
);
pod_int!(
    /// A little-endian `i64` (unix seconds and durations).
    PodI64, i64, I64
);

impl Pod for u8 {
    const IDL: IdlType = IdlType::U8;
}

/// 32-byte equality as four u64 comparisons.
///
/// `[u8; 32] == [u8; 32]` becomes a byte-by-byte `memcmp` loop on SBF (about 100 compute
/// units each); this is about a tenth of that.
#[inline(always)]
pub fn eq32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let word = |bytes: &[u8; 32], i: usize| {
        u64::from_le_bytes([
            bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3], bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7],
        ])
    };
    word(a, 0) == word(b, 0) && word(a, 8) == word(b, 8) && word(a, 16) == word(b, 16) && word(a, 24) == word(b, 24)
}

/// Whether 32 bytes are all zero, as four word loads OR-ed. `eq32` against a constant zero
/// is folded by LLVM into 32 byte loads (about 70 units on SBF); this is about 10.
#[inline(always)]
pub fn is_zero32(bytes: &[u8; 32]) -> bool {
    let word = |i: usize| {
        // SAFETY: i + 8 <= 32; read_unaligned accepts any alignment.
        unsafe { core::ptr::read_unaligned(bytes.as_ptr().add(i) as *const u64) }
    };
    (word(0) | word(8) | word(16) | word(24)) == 0
}

/// 8-byte equality as one u64 comparison (discriminators).
#[inline(always)]
pub fn eq8(a: &[u8; 8], b: &[u8; 8]) -> bool {
    u64::from_le_bytes(*a) == u64::from_le_bytes(*b)
}

/// An account address (borsh: 32 bytes; IDL: `pubkey`).
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Pubkey(pub [u8; 32]);

impl Pubkey {
    #[inline(always)]
    pub fn is(&self, other: &[u8; 32]) -> bool {
        eq32(&self.0, other)
    }
}

impl Pod for Pubkey {
    const IDL: IdlType = IdlType::Pubkey;
}

/// A 32-byte digest (sha256 of a job definition or of a result bundle).
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    #[inline(always)]
    pub fn is_zero(&self) -> bool {
        is_zero32(&self.0)
    }
}

impl Pod for Hash32 {
    const IDL: IdlType = IdlType::Bytes32;
}

/// `N` raw bytes (borsh: a fixed array, IDL `[u8; N]`): bounded text such as a node's URL,
/// zero-padded after its length, so an account that holds one keeps a fixed size.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PodBytes<const N: usize>(pub [u8; N]);

impl<const N: usize> Default for PodBytes<N> {
    #[inline(always)]
    fn default() -> Self {
        Self([0u8; N])
    }
}

impl<const N: usize> Pod for PodBytes<N> {
    const IDL: IdlType = IdlType::Bytes(N);
}

/// Views a `#[repr(C)]` struct of alignment-1 fields as bytes and back.
///
/// # Safety
/// Implementors must be `#[repr(C)]`, contain only alignment-1 fields with no padding, and
/// accept every bit pattern (all fields are byte arrays or `u8`).
pub unsafe trait Layout: Sized + Copy {
    const LEN: usize = core::mem::size_of::<Self>();

    /// Reads `Self` in place from the start of `bytes`.
    #[inline(always)]
    fn load(bytes: &[u8]) -> Option<&Self> {
        if bytes.len() < Self::LEN {
            return None;
        }
        // SAFETY: length checked above; alignment 1 and any bit pattern are valid (trait contract).
        Some(unsafe { &*(bytes.as_ptr() as *const Self) })
    }

    /// Reads `Self` in place, mutably, from the start of `bytes`.
    #[inline(always)]
    fn load_mut(bytes: &mut [u8]) -> Option<&mut Self> {
        if bytes.len() < Self::LEN {
            return None;
        }
        // SAFETY: as in `load`, and the exclusive borrow of `bytes` is carried over.
        Some(unsafe { &mut *(bytes.as_mut_ptr() as *mut Self) })
    }

    /// The bytes of `self`: its borsh encoding.
    #[inline(always)]
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Self` has no padding (trait contract), so all LEN bytes are initialised.
        unsafe { core::slice::from_raw_parts(self as *const Self as *const u8, Self::LEN) }
    }
}
