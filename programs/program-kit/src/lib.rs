//! What every crowdcompute program's processor shares, once: cheap address comparisons
//! (`keys`), Anchor-compatible events (`events`) and CPIs without pinocchio's per-account
//! re-checks (`cpi`). Each program's `shared` module re-exports these under the same names.
//! Helpers that return a program's own errors (system, sysvars, token) stay in each program.

#![no_std]

pub mod cpi;
pub mod events;
pub mod keys;
