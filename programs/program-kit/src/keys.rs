//! Cheap address comparisons (see `interface_kit::pod::eq32` for why).

use interface_kit::pod::eq32;
use pinocchio::{AccountView, Address};

/// The account's address as bytes.
#[inline(always)]
pub fn key(account: &AccountView) -> &[u8; 32] {
    account.address().as_array()
}

#[inline(always)]
pub fn is(account: &AccountView, address: &Address) -> bool {
    eq32(key(account), address.as_array())
}

/// Whether `program` owns the account.
#[inline(always)]
pub fn owned_by(account: &AccountView, program: &Address) -> bool {
    // SAFETY: the runtime's account record outlives the instruction; `owner` is a plain field.
    let owner = unsafe { &(*account.account_ptr()).owner };
    eq32(owner.as_array(), program.as_array())
}

/// Whether two of the instruction's accounts are one account (a key passed twice).
/// The runtime serializes a key that appears twice in an instruction once and marks its
/// later places as duplicates of the first; pinocchio's entrypoint gives a duplicate a copy
/// of the first place's view, so two views of one account share its runtime record. One
/// pointer comparison instead of 32 bytes.
#[inline(always)]
pub fn same(a: &AccountView, b: &AccountView) -> bool {
    core::ptr::eq(a.account_ptr(), b.account_ptr())
}
