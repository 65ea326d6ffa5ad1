//! crowdcompute jobs program interface: the one source of truth for the program, its
//! clients and its IDL. Account layouts (`state`), instruction accounts and arguments
//! (`instruction`), errors (`error`), events (`event`), PDA seeds (`seeds`), the market
//! queue (`queue`), the node profile's URL rule (`profile`) and the network fee and reclaim bounty in basis points (`fees`).
//! `no_std`; builds for SBF and for the host.
#![no_std]

pub mod discriminator;
pub mod error;
pub mod event;
pub mod fees;
pub mod idl;
pub mod instruction;
pub mod macros;
pub mod pod;
pub mod profile;
pub mod queue;
pub mod seeds;
pub mod state;

// The definition macros live in `interface-kit`, shared with the staking interface.
pub use interface_kit::{byte_enum, errors, layout};

/// The program id used on localnet and in tests (keys/localnet/jobs-keypair.json). A real
/// deployment brings its own keypair; clients read the id from Anchor.toml or the IDL.
pub const PROGRAM_ID: &str = "89sBEmkPQeUE9MKrTSCcSbdkWbe4Y1gQUp4f3qvAgQFv";

/// The program's name in the IDL and in Anchor.toml.
pub const PROGRAM_NAME: &str = "jobs";

/// The IDL's version of this interface.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
