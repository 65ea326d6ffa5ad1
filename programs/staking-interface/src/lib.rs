//! crowdcompute staking program interface: the one source of truth for the program, its
//! clients and its IDL. Account layouts (`state`), instruction accounts and arguments
//! (`instruction`), errors (`error`), events (`event`), PDA seeds (`seeds`), and the
//! integer math of weights, unlocking and rewards (`math`), which the program runs and the
//! host tests check. `no_std`; builds for SBF and for the host.
#![no_std]

pub mod error;
pub mod event;
pub mod instruction;
pub mod math;
pub mod seeds;
pub mod state;

pub use interface_kit::{discriminator, idl, pod};

/// The program id used on localnet and in tests (keys/localnet/staking-keypair.json). A
/// real deployment brings its own keypair; clients read the id from Anchor.toml or the IDL.
/// The jobs program trusts this id as a constant (it signs slashes and hands on payers'
/// signatures only to it), so a deployment with another id rebuilds the jobs program.
pub const PROGRAM_ID: &str = "2733cGnUXvSePAXfnTLw4mLieT5hVRDs9D9mut8PhL4R";

/// The program's name in the IDL and in Anchor.toml.
pub const PROGRAM_NAME: &str = "staking";

/// The IDL's version of this interface.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
