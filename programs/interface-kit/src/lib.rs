//! The pieces every program interface of this workspace is built from (`jobs-interface`,
//! `staking-interface`): Pod field types whose bytes are their borsh encoding (`pod`),
//! Anchor's discriminators at compile time (`discriminator`), IDL descriptions (`idl`),
//! optional instruction accounts read only when asked (`accounts`) and the macros that
//! define a layout, an enum, the errors or an instruction once and derive both the Rust
//! item and its IDL description (`macros`). `no_std`; host and SBF.
#![no_std]

pub mod accounts;
pub mod discriminator;
pub mod errors;
pub mod idl;
pub mod macros;
pub mod math;
pub mod pod;

/// Re-exported for the `instruction!` macro, so interfaces need not name it themselves.
#[doc(hidden)]
pub use solana_account_view as __account_view;
