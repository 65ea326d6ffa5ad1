//! Plain-old-data field types of alignment 1: shared by every program interface (`interface-kit`).
pub use interface_kit::pod::*;
