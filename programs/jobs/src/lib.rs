//! crowdcompute jobs program: markets, a two-sided queue of jobs and nodes, and a
//! per-second escrow. `#![no_std]` on pinocchio, built for SBF by the upstream BPF route
//! (docs/toolchain.md). Layouts, errors and events live in `jobs-interface`.
#![no_std]

pub mod processor;
pub mod shared;

// Instructions take at most 13 accounts (reclaim with its slash); more are ignored by the
// entrypoint.
program_kit::sbf_entrypoint!(label: b"jobs: panic", max_accounts: 16, errors: jobs_interface::error::JobsError);
