//! Descriptions of the layouts, for the IDL generator: shared by every program interface (`interface-kit`).
pub use interface_kit::idl::*;
