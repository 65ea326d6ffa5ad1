//! Logic shared by several instructions.

pub mod accounts;
pub mod cpi;
pub mod events;
pub mod keys;
pub mod math;
pub mod running;
pub mod settle;
pub mod system;
pub mod sysvars;
pub mod token;
