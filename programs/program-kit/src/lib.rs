//! What every crowdcompute program's processor shares, once: cheap address comparisons
//! (`keys`), Anchor-compatible events (`events`), CPIs without pinocchio's per-account
//! re-checks (`cpi`), System account creation (`system`) and the Clock and Rent sysvars
//! (`sysvars`). Each program's `shared` module re-exports these under the same names and
//! maps the kit's errors to its own codes; the token helpers are, for now, each program's.

#![no_std]

pub mod cpi;
pub mod events;
pub mod keys;
pub mod system;
pub mod sysvars;
