//! What every crowdcompute program's processor shares, once: cheap address comparisons
//! (`keys`), Anchor-compatible events (`events`), CPIs without pinocchio's per-account
//! re-checks (`cpi`) and System account creation (`system`). Each program's `shared` module
//! re-exports these under the same names; the checks that return a program's own errors
//! (and its sysvars and token helpers, for now) stay in each program.

#![no_std]

pub mod cpi;
pub mod events;
pub mod keys;
pub mod system;
