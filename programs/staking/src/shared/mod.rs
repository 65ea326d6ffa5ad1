//! Logic shared by several instructions. The System, token and sysvar helpers are
//! programs/program-kit's, as in the jobs program, bound here to this program's errors and
//! seeds; keys, events and CPI plumbing come from the kit as they are.

pub mod accounts;
pub mod rewards;
pub mod system;
pub mod sysvars;
pub mod token;
// Shared by every program (programs/program-kit), under the names the instructions use.
pub use program_kit::{cpi, events, keys};
