//! Logic shared by several instructions.

pub mod accounts;
pub mod give_up;
pub mod math;
pub mod running;
pub mod settle;
pub mod slash;
pub mod staking;
pub mod system;
pub mod sysvars;
pub mod token;
// Shared by every program (programs/program-kit), under the names the instructions use.
pub use program_kit::{cpi, events, keys};
