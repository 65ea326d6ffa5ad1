//! Logic shared by several instructions. The System, token and sysvar helpers follow the
//! jobs program's `shared/` (same reasons, same measured costs), bound to this program's
//! errors and seeds; keys, events and CPI plumbing come from programs/program-kit.

pub mod accounts;
pub mod rewards;
pub mod system;
pub mod sysvars;
pub mod token;
// Shared by every program (programs/program-kit), under the names the instructions use.
pub use program_kit::{cpi, events, keys};
