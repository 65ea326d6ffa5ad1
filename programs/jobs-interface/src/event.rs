//! Events, logged as Anchor's `emit!` does: `sol_log_data` of one buffer holding
//! `sha256("event:<Name>")[..8]` followed by the event's borsh bytes.

use crate::pod::*;
use interface_kit::events;

/// Why a running job went back to the queue (`JobRequeued::reason`).
pub mod requeue_reason {
    /// The node gave it up.
    pub const QUIT: u8 = 0;
    /// Its node went silent past the timeout.
    pub const RECLAIMED: u8 = 1;
    /// The node gave it up at or past its deadline: settled as a reclaim (attempt
    /// counted, the node slashed; no bounty).
    pub const QUIT_LATE: u8 = 2;
}

/// What became of a reclaim's (or a late quit's) slash (`NodeSlashed::outcome`). Only `SLASHED` moves tokens;
/// the others are the cases where the slash is skipped so that a reclaim never gets stuck.
pub mod slash_outcome {
    /// `slashed` left the node's stake; `bounty` of it went to `bounty_to`.
    pub const SLASHED: u8 = 0;
    /// The node's stake account is closed (checked to be its PDA): nothing to slash.
    pub const STAKE_CLOSED: u8 = 1;
    /// The node's stake holds no tokens.
    pub const STAKE_EMPTY: u8 = 2;
    /// The staking config no longer names this program as its slasher, and the stake
    /// holds no lock of this program's (a lock keeps the power to slash past a change).
    pub const SLASHER_CHANGED: u8 = 3;
    /// The config sends slashes to its treasury, and that token account is closed or frozen.
    pub const DESTINATION_UNUSABLE: u8 = 4;
}

events! {
    /// A market was opened.
    pub struct MarketOpened (208) {
        pub market: Pubkey,
        pub authority: Pubkey,
        pub mint: Pubkey,
        pub vault: Pubkey,
        pub price_per_second: PodU64,
        pub max_timeout: PodI64,
        pub min_stake: PodU64,
        pub retention: PodI64,
        pub max_attempts: PodU16,
        pub max_entries_per_node: PodU16,
        pub slash_penalty: PodU64,
        pub reclaim_bounty_bps: PodU16,
        pub fee_bps: PodU16,
        /// Zero: none.
        pub staking_config: Pubkey,
    }

    /// A market's settings changed (its staking config never does).
    pub struct MarketUpdated (80) {
        pub market: Pubkey,
        pub price_per_second: PodU64,
        pub max_timeout: PodI64,
        pub min_stake: PodU64,
        pub retention: PodI64,
        pub max_attempts: PodU16,
        pub max_entries_per_node: PodU16,
        pub slash_penalty: PodU64,
        pub reclaim_bounty_bps: PodU16,
        pub fee_bps: PodU16,
    }

    /// A market with job accounts left became Closing: no new jobs or waiting nodes.
    pub struct MarketClosing (32) {
        pub market: Pubkey,
    }

    /// A market was closed; stray tokens swept to its authority.
    pub struct MarketClosed (40) {
        pub market: Pubkey,
        pub swept: PodU64,
    }

    /// A job was posted and its deposit escrowed. Job events name the job; its market,
    /// poster, payer and definition are in the job account (and the transaction's accounts),
    /// so they are not logged again: every logged byte costs a compute unit.
    pub struct JobPosted (51) {
        pub job: Pubkey,
        pub deposit: PodU64,
        pub timeout: PodI64,
        pub slot: PodU16,
        /// 1 when it waits in the queue, 0 when a node took it at once.
        pub queued: u8,
    }

    /// A job and a node were matched: the job runs from `started_at`.
    pub struct JobMatched (74) {
        pub job: Pubkey,
        pub node: Pubkey,
        pub started_at: PodI64,
        pub slot: PodU16,
    }

    /// A node joined the queue at entry `slot`.
    pub struct NodeQueued (34) {
        pub node: Pubkey,
        pub slot: PodU16,
    }

    /// A waiting node left the queue (by `leave`, or dropped because a job it gave up
    /// could go to no other node: its entries in this market are then removed).
    pub struct NodeLeft (34) {
        pub node: Pubkey,
        pub slot: PodU16,
    }

    /// A job finished with a result; its node was paid and the rest refunded.
    pub struct JobFinished (88) {
        pub job: Pubkey,
        pub result: Hash32,
        pub paid: PodU64,
        pub refunded: PodU64,
        pub elapsed: PodI64,
    }

    /// A running job went back to the front of the queue, unpaid (see `requeue_reason`).
    pub struct JobRequeued (69) {
        pub job: Pubkey,
        /// The node that gave it up or went silent.
        pub node: Pubkey,
        pub attempts: PodU16,
        pub reason: u8,
        pub slot: PodU16,
    }

    /// A job was given up (quit) or reclaimed `max_attempts` times in all, and refunded in
    /// full.
    pub struct JobFailed (42) {
        pub job: Pubkey,
        pub refunded: PodU64,
        pub attempts: PodU16,
    }

    /// A queued job was cancelled by its poster and refunded in full.
    pub struct JobCancelled (40) {
        pub job: Pubkey,
        pub refunded: PodU64,
    }

    /// A job's timeout was extended and the difference deposited.
    pub struct JobExtended (56) {
        pub job: Pubkey,
        pub extra: PodI64,
        pub timeout: PodI64,
        pub deposit: PodU64,
    }

    /// A running job was ended by its poster: its node paid for the time it ran.
    pub struct JobEnded (88) {
        pub job: Pubkey,
        pub node: Pubkey,
        pub paid: PodU64,
        pub refunded: PodU64,
        pub elapsed: PodI64,
    }

    /// The node of an ended job recorded its result digest (attach_result).
    pub struct JobResultAttached (64) {
        pub job: Pubkey,
        pub result: Hash32,
    }

    /// A settled job's account was closed and its rent returned.
    pub struct JobCleaned (32) {
        pub job: Pubkey,
    }

    /// A deposit's network fee (post, extend) went into the staking config's rewards pool.
    pub struct NetworkFeePaid (40) {
        pub job: Pubkey,
        pub fee: PodU64,
    }

    /// A reclaim's slash of the silent node (`outcome`, see `slash_outcome`): `slashed`
    /// base units left its stake, `bounty` of them to `bounty_to`, the rest to the config's
    /// slash destination.
    pub struct NodeSlashed (113) {
        pub job: Pubkey,
        pub node: Pubkey,
        pub slashed: PodU64,
        pub bounty: PodU64,
        pub bounty_to: Pubkey,
        pub outcome: u8,
    }

    /// A node published or changed its profile (set_node_profile): its public URL
    /// (`url_len` bytes of `url`) and its hardware summary's digest. An explorer that
    /// follows these events sees every change without reading the accounts.
    pub struct NodeProfileSet (274) {
        pub node: Pubkey,
        pub hardware: Hash32,
        pub updated_at: PodI64,
        /// 1 when this call created the profile, 0 when it overwrote it.
        pub created: u8,
        pub url_len: u8,
        pub url: PodBytes<200>,
    }

    /// A node closed its profile: it no longer serves endpoints.
    pub struct NodeProfileClosed (32) {
        pub node: Pubkey,
    }
}
