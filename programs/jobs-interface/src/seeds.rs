//! PDA seeds.

/// The market vault: PDA ["vault", market], a token account that is its own owner.
pub const VAULT: &[u8] = b"vault";
