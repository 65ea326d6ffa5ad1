//! PDA seeds.

/// The market vault: PDA ["vault", market], a token account that is its own owner.
pub const VAULT: &[u8] = b"vault";

/// This program's PDA ["slasher"]: a staking config that names this program as its slasher
/// program lets this address sign `slash` (reclaim signs it with ["slasher", bump]). The
/// staking program's seed, so both sides derive the same address.
pub const SLASHER: &[u8] = b"slasher";

/// A node's profile: PDA ["node_profile", node], where the node publishes its public URL and
/// the digest of its hardware summary (`state::NodeProfile`).
pub const NODE_PROFILE: &[u8] = b"node_profile";
