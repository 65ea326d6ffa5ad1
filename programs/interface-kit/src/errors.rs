//! The refusals every program shares: the checks in programs/program-kit (SPL Token, the
//! System program) raise them, and each program's error enum gives them its own codes.
//! One trait, implemented by one macro line per program (`common_errors!`), instead of a
//! hand-written mapping in each program.

/// The shared refusals, as constants of a program's error type: a check returns
/// `Err(E::MINT_INVALID)` at the very place it fails, so each program's code is what it
/// would be with its own copy of the check (no mapping joins the failure paths).
pub trait CommonErrors: Copy {
    /// An account named as a program (SPL Token, System) is not that program.
    const PROGRAM_ID_INVALID: Self;
    /// A Token-2022 mint.
    const MINT_NOT_SPL_TOKEN: Self;
    /// Not an initialised SPL Token mint.
    const MINT_INVALID: Self;
    /// Not an initialised SPL Token account.
    const TOKEN_ACCOUNT_INVALID: Self;
    /// A token account of another mint.
    const TOKEN_MINT_MISMATCH: Self;
    /// A token account of another owner.
    const TOKEN_OWNER_MISMATCH: Self;
}

/// `CommonErrors` for an error enum (made by `errors!`) that has the variants of the same
/// names: a missing one is a compile error.
#[macro_export]
macro_rules! common_errors {
    ($name:ident) => {
        impl $crate::errors::CommonErrors for $name {
            const PROGRAM_ID_INVALID: Self = $name::ProgramIdInvalid;
            const MINT_NOT_SPL_TOKEN: Self = $name::MintNotSplToken;
            const MINT_INVALID: Self = $name::MintInvalid;
            const TOKEN_ACCOUNT_INVALID: Self = $name::TokenAccountInvalid;
            const TOKEN_MINT_MISMATCH: Self = $name::TokenMintMismatch;
            const TOKEN_OWNER_MISMATCH: Self = $name::TokenOwnerMismatch;
        }
    };
}
