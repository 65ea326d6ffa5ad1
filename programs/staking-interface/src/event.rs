//! Events, logged as Anchor's `emit!` does: `sol_log_data` of one buffer holding
//! `sha256("event:<Name>")[..8]` followed by the event's borsh bytes. Stake events name
//! the stake; its owner and config are in the stake account.

use interface_kit::events;
use interface_kit::pod::*;

events! {
    /// A staking config was created.
    pub struct ConfigInitialized (257) {
        pub config: Pubkey,
        pub authority: Pubkey,
        pub mint: Pubkey,
        pub treasury: Pubkey,
        pub slasher_program: Pubkey,
        pub min_duration: PodI64,
        pub max_duration: PodI64,
        pub min_multiplier: PodU64,
        pub max_multiplier: PodU64,
        pub slash_to: u8,
        pub vault: Pubkey,
        pub rewards_pool: Pubkey,
    }

    /// The authority changed the treasury, the slash destination or the slasher program.
    pub struct ConfigUpdated (97) {
        pub config: Pubkey,
        pub treasury: Pubkey,
        pub slasher_program: Pubkey,
        pub slash_to: u8,
    }

    /// A stake was created with `amount` locked for `duration`.
    pub struct Staked (56) {
        pub stake: Pubkey,
        pub amount: PodU64,
        pub duration: PodI64,
        pub weight: PodU64,
    }

    /// Tokens were added to a stake.
    pub struct ToppedUp (56) {
        pub stake: Pubkey,
        pub added: PodU64,
        pub amount: PodU64,
        pub weight: PodU64,
    }

    /// A stake's lock was lengthened.
    pub struct Extended (48) {
        pub stake: Pubkey,
        pub duration: PodI64,
        pub weight: PodU64,
    }

    /// A stake began to unlock: weight 0, `amount` unlocks linearly until `unlock_end`.
    pub struct Unstaked (48) {
        pub stake: Pubkey,
        pub amount: PodU64,
        pub unlock_end: PodI64,
    }

    /// Unlocked tokens went back to the owner.
    pub struct Withdrawn (48) {
        pub stake: Pubkey,
        pub withdrawn: PodU64,
        /// Left in the stake.
        pub amount: PodU64,
    }

    /// An unlock was cancelled: the rest is locked again with its weight.
    pub struct Restaked (48) {
        pub stake: Pubkey,
        pub amount: PodU64,
        pub weight: PodU64,
    }

    /// An empty stake account was closed and its rent returned.
    pub struct StakeClosed (32) {
        pub stake: Pubkey,
    }

    /// Tokens were slashed from a stake (at most what it held): `bounty` of them to
    /// `bounty_to`, the rest to `slash_to`.
    pub struct Slashed (121) {
        pub stake: Pubkey,
        /// The authority or the slasher PDA that signed.
        pub by: Pubkey,
        pub slashed: PodU64,
        /// Left in the stake.
        pub amount: PodU64,
        pub slash_to: u8,
        pub bounty: PodU64,
        pub bounty_to: Pubkey,
    }

    /// Fees (or slashed tokens) entered the rewards pool for stakers.
    pub struct FeesDeposited (48) {
        pub config: Pubkey,
        pub amount: PodU64,
        /// The total weight they were shared over (0: no staker's; `sweep` sends them to the
        /// treasury).
        pub total_weight: PodU64,
    }

    /// A staker claimed its rewards.
    pub struct Claimed (40) {
        pub stake: Pubkey,
        pub amount: PodU64,
    }

    /// A slasher program made a stake back one more obligation.
    pub struct Locked (80) {
        pub stake: Pubkey,
        pub locker: Pubkey,
        pub amount: PodU64,
        /// All the stake now backs.
        pub locked: PodU64,
    }

    /// The locker released what a stake backed for one obligation.
    pub struct Unlocked (48) {
        pub stake: Pubkey,
        pub amount: PodU64,
        /// What the stake still backs.
        pub locked: PodU64,
    }

    /// Rewards no stake owned went to the treasury.
    pub struct Swept (72) {
        pub config: Pubkey,
        pub treasury: Pubkey,
        pub amount: PodU64,
    }
}
