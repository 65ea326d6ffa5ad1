//! PDA seeds. Every address the program signs for or trusts is one of these.

/// A staking config: PDA ["config", authority, mint]. The authority is in the seeds so that
/// no one can take a mint's config address first (it signs `init`).
pub const CONFIG: &[u8] = b"config";
/// The staked tokens: PDA ["vault", config], an SPL Token account that is its own owner.
pub const VAULT: &[u8] = b"vault";
/// Fees and slashed tokens owed to stakers: PDA ["rewards", config], a token account that
/// is its own owner.
pub const REWARDS: &[u8] = b"rewards";
/// A staker's stake: PDA ["stake", config, owner].
pub const STAKE: &[u8] = b"stake";
/// The address through which the config's slasher program signs a slash CPI: PDA
/// ["slasher"] of that program (derived at init/update_config, stored, compared).
pub const SLASHER: &[u8] = b"slasher";
