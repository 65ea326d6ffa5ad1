//! Optional instruction accounts, read only when the program asks for them.
//!
//! Anchor's convention: an optional account that is absent is passed as the program's own
//! id, and trailing optional accounts may be left off the list. `Accounts::parse` (the
//! `instruction!` macro) reads nothing of them: an optional account is a zero-sized
//! `Optional` that knows its place in the list, and `get` looks there, checking whether it
//! is present and its signer and writable flags, only when the program asks. An
//! instruction that never needs an account (a market without staking never asks for the
//! stake) pays nothing for it.

use core::marker::PhantomData;
use solana_account_view::AccountView;

/// A present optional account without a flag its instruction declares. Each program maps
/// it to its own `SignatureMissing` / `AccountNotWritable` codes (`From`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagError {
    SignatureMissing,
    AccountNotWritable,
}

/// The optional account at `INDEX` of an instruction whose errors are `E`, declared a
/// signer and/or writable (checked when present). Zero-sized.
pub struct Optional<E, const INDEX: usize, const SIGNER: bool, const WRITABLE: bool>(PhantomData<E>);

impl<E, const INDEX: usize, const SIGNER: bool, const WRITABLE: bool> Clone for Optional<E, INDEX, SIGNER, WRITABLE> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, const INDEX: usize, const SIGNER: bool, const WRITABLE: bool> Copy for Optional<E, INDEX, SIGNER, WRITABLE> {}

impl<E: From<FlagError>, const INDEX: usize, const SIGNER: bool, const WRITABLE: bool> Optional<E, INDEX, SIGNER, WRITABLE> {
    #[inline(always)]
    pub const fn new() -> Self {
        Self(PhantomData)
    }

    /// The account in `accounts` (the instruction's whole list), or None when it is absent
    /// (left off the list, or `program_id`: the program's own id, Anchor's placeholder);
    /// refused when present without the flags the instruction declares.
    #[inline(always)]
    pub fn get<'a>(self, accounts: &'a [AccountView], program_id: &[u8; 32]) -> Result<Option<&'a AccountView>, E> {
        let Some(account) = accounts.get(INDEX) else {
            return Ok(None);
        };
        if crate::pod::eq32(account.address().as_array(), program_id) {
            return Ok(None);
        }
        if SIGNER && !account.is_signer() {
            return Err(FlagError::SignatureMissing.into());
        }
        if WRITABLE && !account.is_writable() {
            return Err(FlagError::AccountNotWritable.into());
        }
        Ok(Some(account))
    }
}

/// The index of `name` in `names` (the instruction's accounts, in order); compile time.
pub const fn position(names: &[&str], name: &str) -> usize {
    let mut index = 0;
    while index < names.len() {
        if bytes_eq(names[index].as_bytes(), name.as_bytes()) {
            return index;
        }
        index += 1;
    }
    panic!("no account of that name")
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
