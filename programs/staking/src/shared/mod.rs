//! Logic shared by several instructions. The CPI, System, token, sysvar and event helpers
//! follow the jobs program's `shared/` (same reasons, same measured costs), bound to this
//! program's errors and seeds.

pub mod accounts;
pub mod cpi;
pub mod events;
pub mod keys;
pub mod rewards;
pub mod system;
pub mod sysvars;
pub mod token;
