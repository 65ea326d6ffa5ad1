//! Logic shared by several instructions.

pub mod accounts;
pub mod events;
pub mod math;
pub mod running;
pub mod settle;
pub mod system;
pub mod sysvars;
pub mod token;
