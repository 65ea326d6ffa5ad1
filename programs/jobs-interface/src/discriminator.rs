//! Anchor's 8-byte discriminators, computed at compile time (`interface-kit`).
pub use interface_kit::discriminator::*;
