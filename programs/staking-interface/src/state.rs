//! Account layouts. Account data is the 8-byte Anchor discriminator followed by one of
//! these layouts (whose bytes are their borsh encoding).

use interface_kit::discriminator::{sighash, Discriminator};
use interface_kit::pod::*;
use interface_kit::{byte_enum, layout};

byte_enum! {
    /// Where slashed tokens go (`Config::slash_to`). Never lost: either stays with stakers
    /// or with the treasury.
    pub enum SlashDestination(SlashDestinationByte) {
        /// To the rewards pool, shared by stakers in proportion to weight (like fees).
        RewardsPool = 0,
        /// To the config's treasury token account.
        Treasury = 1,
    }
}

byte_enum! {
    /// A stake's phase.
    pub enum StakeState(StakeStateByte) {
        /// Locked with weight; earns rewards; can be topped up, extended, unstaked, slashed.
        Staked = 0,
        /// Unstaked: weight 0, tokens unlock linearly over `duration` from `unlock_start`.
        Unlocking = 1,
    }
}

layout! {
    /// A staking config: one mint, its vault and rewards pool, the lock bounds and the
    /// multiplier curve, who may slash, and the running totals of stakes and rewards.
    /// PDA ["config", authority, mint].
    pub struct Config (348) {
        /// May slash, and change the treasury, slash destination and slasher program.
        pub authority: Pubkey,
        /// The staked token: an SPL Token mint.
        pub mint: Pubkey,
        /// PDA ["vault", config]: holds every stake's tokens (`total_staked`).
        pub vault: Pubkey,
        /// PDA ["rewards", config]: fees and slashed tokens owed to stakers.
        pub rewards_pool: Pubkey,
        /// A token account of `mint`: receives slashed tokens when `slash_to` is Treasury.
        pub treasury: Pubkey,
        /// The one program whose PDA ["slasher"] may slash by CPI (zero: none).
        pub slasher_program: Pubkey,
        /// That PDA, derived when the program is set (zero: none).
        pub slasher: Pubkey,
        /// Shortest lock (seconds): weight `min_multiplier`.
        pub min_duration: PodI64,
        /// Longest lock (seconds): weight `max_multiplier`.
        pub max_duration: PodI64,
        /// Multiplier at `min_duration`, in millionths (1_000_000 = 1x).
        pub min_multiplier: PodU64,
        /// Multiplier at `max_duration`, in millionths.
        pub max_multiplier: PodU64,
        /// Tokens of every stake (staked or unlocking): the vault's balance.
        pub total_staked: PodU64,
        /// Sum of the stakes' weights.
        pub total_weight: PodU64,
        /// Rewards per unit of weight ever distributed: integer part (base units).
        pub reward_per_weight: PodU64,
        /// ... and its fraction, in 2^-64 units (a 64.64 fixed-point accumulator).
        pub reward_per_weight_frac: PodU64,
        /// Tokens ever paid into the rewards pool (fees and slashes), modulo 2^64: a
        /// wrapping counter, so that no total ever stops a deposit (only differences of
        /// these counters mean anything).
        pub rewards_deposited: PodU64,
        /// Tokens ever claimed from it, modulo 2^64. The pool holds `rewards_deposited -
        /// rewards_claimed - rewards_swept` (wrapping).
        pub rewards_claimed: PodU64,
        /// Deposited while no stake had weight: no staker's, so the treasury's; `sweep`
        /// sends them there (never to the next staker, who would take them all).
        pub rewards_unowned: PodU64,
        /// What the last distribution's division left, in 2^-64 base units (below the total
        /// weight then, so below one base unit in all): carried into the next one.
        pub reward_remainder: PodU64,
        /// Tokens ever slashed, modulo 2^64 (wrapping, as `rewards_deposited`).
        pub slashed: PodU64,
        /// Stake accounts alive.
        pub stakes: PodU64,
        pub slash_to: SlashDestinationByte,
        pub bump: u8,
        pub vault_bump: u8,
        pub rewards_bump: u8,
        /// Unowned rewards ever swept to the treasury, modulo 2^64 (wrapping).
        pub rewards_swept: PodU64,
    }
}

impl Discriminator for Config {
    const DISCRIMINATOR: [u8; 8] = sighash("account", Config::NAME);
}

layout! {
    /// One owner's stake under one config. PDA ["stake", config, owner].
    pub struct Stake (202) {
        pub owner: Pubkey,
        pub config: Pubkey,
        pub state: StakeStateByte,
        /// Tokens of this stake in the vault (locked, or not yet withdrawn while unlocking).
        pub amount: PodU64,
        /// Lock duration (seconds): sets the multiplier, and how long the unlock takes.
        pub duration: PodI64,
        /// amount x multiplier(duration) while Staked; 0 while Unlocking.
        pub weight: PodU64,
        /// When the unlock began (Unlocking); 0 while Staked.
        pub unlock_start: PodI64,
        /// `amount` when the unlock began: the unlock releases it linearly over `duration`.
        pub unlock_base: PodU64,
        /// Withdrawn since the unlock began.
        pub withdrawn: PodU64,
        /// `Config::reward_per_weight` when this stake's rewards were last settled (integer
        /// part): rewards since then are weight x (now - this).
        pub reward_snapshot: PodU64,
        /// ... and its fraction, in 2^-64 units.
        pub reward_snapshot_frac: PodU64,
        /// Rewards settled and not yet claimed.
        pub rewards_owed: PodU64,
        /// The fraction of a base unit settled but not yet whole, in 2^-64 units.
        pub reward_dust: PodU64,
        /// Rewards ever claimed, modulo 2^64 (wrapping).
        pub rewards_claimed: PodU64,
        /// Tokens ever slashed from this stake, modulo 2^64 (wrapping).
        pub slashed: PodU64,
        pub bump: u8,
        /// Tokens that back obligations of `locker` (a slasher program's PDA: the jobs
        /// program locks the market's slash penalty for each job a node runs and each entry
        /// it waits at): while non-zero the stake can be neither unstaked nor closed, and
        /// `locker` may slash it even after the config names another slasher.
        pub locked: PodU64,
        /// The slasher PDA that holds `locked` (zero while nothing is locked). One at a time:
        /// another slasher can lock this stake only once this one has released it all.
        pub locker: Pubkey,
    }
}

impl Discriminator for Stake {
    const DISCRIMINATOR: [u8; 8] = sighash("account", Stake::NAME);
}

/// Bounds on config settings (checked by init and update_config).
pub mod limits {
    /// Longest lock: 10 years (keeps every duration below 2^32, which the math relies on).
    pub const MAX_DURATION: i64 = 10 * 365 * 86_400;
    /// Multipliers are in millionths: 1x..100x.
    pub const MIN_MULTIPLIER: u64 = crate::math::MULTIPLIER_ONE;
    pub const MAX_MULTIPLIER: u64 = 100 * crate::math::MULTIPLIER_ONE;
}

/// Bytes of a config account.
pub const CONFIG_SIZE: usize = 8 + <Config as Layout>::LEN;
/// Bytes of a stake account.
pub const STAKE_SIZE: usize = 8 + <Stake as Layout>::LEN;

/// The sizes the IDL publishes (`constants`), so a client sizes accounts without this crate.
pub const SIZES: &[crate::idl::ConstDef] = &[
    crate::idl::ConstDef { name: "CONFIG_SIZE", docs: "Bytes of a config account, the 8-byte discriminator included.", value: CONFIG_SIZE as u64 },
    crate::idl::ConstDef { name: "STAKE_SIZE", docs: "Bytes of a stake account, the 8-byte discriminator included.", value: STAKE_SIZE as u64 },
];
