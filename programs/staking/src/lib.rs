//! crowdcompute staking program: stakes locked with a time multiplier, a linear unlock,
//! slashing by the authority or one slasher program, and fees shared by weight.
//! `#![no_std]` on pinocchio, built for SBF by the upstream BPF route (docs/toolchain.md).
//! Layouts, errors, events and the math live in `staking-interface`.
#![no_std]

pub mod processor;
pub mod shared;

// Instructions take at most 9 accounts; more are ignored by the entrypoint.
program_kit::sbf_entrypoint!(label: b"staking: panic", max_accounts: 16, errors: staking_interface::error::StakingError);
