//! Account layouts. Account data is the 8-byte Anchor discriminator followed by one of
//! these layouts (whose bytes are their borsh encoding).

use crate::discriminator::{sighash, Discriminator};
use crate::idl::IdlType;
use crate::pod::*;
use crate::{byte_enum, layout};

byte_enum! {
    /// Where a job is in its life. While `Open`, the market's queue entry at `Job::slot`
    /// says whether it waits or runs (the entry is the single record of that, so a node
    /// that takes a job never needs to know the job's account in advance).
    pub enum JobState(JobStateByte) {
        /// Waiting in the queue or running on a node.
        Open = 0,
        /// Finished by its node with a result digest; the node was paid.
        Done = 1,
        /// Stopped by its poster while running; the node was paid for the time it ran.
        Ended = 2,
        /// Given up (quit or reclaimed) `max_attempts` times; fully refunded.
        Failed = 3,
    }
}

byte_enum! {
    /// What a market queue entry holds.
    pub enum EntryState(EntryStateByte) {
        /// Unused; on the free list when `next` links it.
        Free = 0,
        /// A job waiting for a node, linked in the queue.
        QueuedJob = 1,
        /// A node waiting for a job, linked in the queue.
        QueuedNode = 2,
        /// A job assigned to a node, not linked in the queue.
        Running = 3,
    }
}

byte_enum! {
    /// Whether a market takes new work.
    pub enum MarketState(MarketStateByte) {
        /// Takes posts and nodes.
        Open = 0,
        /// Closing (close_market while jobs remain): posts are refused, nodes may take
        /// waiting jobs but not queue, the authority may cancel waiting jobs; the next
        /// close_market once no job account is left closes it.
        Closing = 1,
    }
}

byte_enum! {
    /// Which side of the market waits: never both.
    pub enum QueueSide(QueueSideByte) {
        Empty = 0,
        Jobs = 1,
        Nodes = 2,
    }
}

layout! {
    /// One entry of a market's queue. An entry keeps its index from the moment a job or a
    /// node enters until the job settles, so `Job::slot` and a node's entry never move.
    pub struct QueueEntry (77) {
        pub state: EntryStateByte,
        /// The job (QueuedJob, Running).
        pub job: Pubkey,
        /// The node (QueuedNode, Running). For a QueuedJob: the node that last gave the job
        /// up (quit or reclaimed; zero: none), which is never matched with it again.
        pub node: Pubkey,
        /// When the entry was queued, or when the job started running.
        pub since: PodI64,
        /// Previous entry in the queue (towards the front), or `NIL`.
        pub prev: PodU16,
        /// Next entry in the queue (towards the back), or in the free list, or `NIL`.
        pub next: PodU16,
    }
}

layout! {
    /// The two-sided FIFO: a doubly linked list through the market's entries, plus a
    /// free list, so push, pop, push-front and removal are all O(1).
    pub struct QueueHeader (11) {
        pub side: QueueSideByte,
        /// Entries linked in the queue.
        pub len: PodU16,
        pub head: PodU16,
        pub tail: PodU16,
        /// First entry of the free list, or `NIL`.
        pub free_head: PodU16,
        /// Entries ever used: entries at or past this index were never touched.
        pub used: PodU16,
    }
}

/// The borsh length prefix of `Market`'s trailing `Vec<QueueEntry>`: always the capacity.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryVecLen(pub PodU32);

impl Pod for EntryVecLen {
    const IDL: IdlType = IdlType::VecOfDefined(QueueEntry::NAME);
}

layout! {
    /// A market: its settings, escrow counters and queue. `entries` (capacity entries) follow
    /// this header in the account, as the elements of a borsh `Vec<QueueEntry>`.
    pub struct Market (210) {
        pub authority: Pubkey,
        /// SPL Token mint jobs are paid in.
        pub mint: Pubkey,
        /// Token account holding every open job's deposit; PDA ["vault", market], its own owner.
        pub vault: Pubkey,
        pub vault_bump: u8,
        /// Price of one second of a node's time, in the mint's base units.
        pub price_per_second: PodU64,
        /// Longest timeout a job may have, in seconds (extensions included).
        pub max_timeout: PodI64,
        /// Stake weight a node needs to work here (0 = none): `work` reads the node's stake
        /// under `staking_config`.
        pub min_stake: PodU64,
        /// Seconds a settled job is kept before anyone may clean it.
        pub retention: PodI64,
        /// Times a job may be reclaimed from a silent node before it is refunded.
        pub max_attempts: PodU16,
        /// Most queue entries one node may hold while waiting (`work` refuses past it).
        pub max_entries_per_node: PodU16,
        /// Open or Closing.
        pub state: MarketStateByte,
        /// Job accounts of this market that exist (open or settled, not yet cleaned).
        pub jobs: PodU64,
        /// Sum of the open jobs' remaining deposits: what the vault must hold.
        pub escrowed: PodU64,
        /// The staking program's config whose stakes admit nodes (`min_stake`), take the
        /// slashes (`slash_penalty`) and share the fees (`fee_bps`); zero: none. Named at
        /// open_market, never changed.
        pub staking_config: Pubkey,
        /// Base units slashed from a silent node's stake on each reclaim (at most what it
        /// holds); 0: none. Named at open_market, never changed: each job a node runs and
        /// each entry it waits at keeps this much of its stake locked (staking `lock`), so
        /// what the stake backs is always what it can be slashed for.
        pub slash_penalty: PodU64,
        /// Share of each slash paid to whoever called reclaim, in basis points (<= 10,000).
        pub reclaim_bounty_bps: PodU16,
        /// Network fee on every deposit (post, extend), in basis points (<= 1,000), paid by
        /// the payer into the staking config's rewards pool.
        pub fee_bps: PodU16,
        /// Bump of this program's PDA ["slasher"], which signs slash CPIs (set when a
        /// staking config is named; derived once so reclaim signs without a derivation).
        pub slasher_bump: u8,
        pub queue: QueueHeader,
        /// Capacity: the number of entries that follow.
        pub entries: EntryVecLen,
    }
}

layout! {
    /// A job: its definition, escrow, outcome, and the market's terms it was posted under
    /// (price, timeout cap, retention, attempts, slash penalty and bounty, network fee):
    /// later market updates never change them.
    pub struct Job (275) {
        pub market: Pubkey,
        /// Who may cancel, extend or end it.
        pub poster: Pubkey,
        /// Who paid the deposit and the account's rent, and gets refunds and the rent back.
        pub payer: Pubkey,
        /// sha256 of the job definition in content-addressed storage.
        pub definition: Hash32,
        /// sha256 of the result bundle (set by finish).
        pub result: Hash32,
        /// The node that settled it (finish or end).
        pub node: Pubkey,
        /// Price per second fixed when posted.
        pub price_per_second: PodU64,
        /// Seconds a node may run it, extensions included.
        pub timeout: PodI64,
        /// The market's maximum timeout when posted: extensions stop there.
        pub max_timeout: PodI64,
        /// The market's retention when posted: seconds it is kept once settled.
        pub retention: PodI64,
        /// The market's max_attempts when posted: give-ups (quits and reclaims) before it is
        /// refunded.
        pub max_attempts: PodU16,
        /// The market's slash penalty when posted: slashed from a node that goes silent on it.
        pub slash_penalty: PodU64,
        /// The market's reclaim bounty when posted (basis points of each slash).
        pub reclaim_bounty_bps: PodU16,
        /// The market's network fee when posted (basis points of each deposit, extend's too).
        pub fee_bps: PodU16,
        /// Tokens still escrowed for it in the vault.
        pub deposit: PodU64,
        /// Tokens paid to its node.
        pub paid: PodU64,
        pub posted_at: PodI64,
        /// When it settled (Done, Ended, Failed); retention counts from here.
        pub closed_at: PodI64,
        /// Its queue entry while open.
        pub slot: PodU16,
        /// Times it was given up: quit by its node or reclaimed from a silent one.
        pub attempts: PodU16,
        pub state: JobStateByte,
    }
}

layout! {
    /// A node's profile: PDA ["node_profile", node], written by the node (set_node_profile)
    /// when it starts and whenever its URL changes. It says where the node's front door is
    /// (the public URL a service job's poster connects to) and what hardware it has (the
    /// sha256 of its hardware summary in content-addressed storage: a CIDv0's digest).
    /// Fixed size (the URL zero-padded), so every profile is NODE_PROFILE_SIZE bytes and a
    /// getProgramAccounts filter on the discriminator (or the size) lists them all.
    pub struct NodeProfile (274) {
        /// The node: the key that signs set_node_profile and close_node_profile.
        pub node: Pubkey,
        /// sha256 of the node's hardware summary in storage (never zero).
        pub hardware: Hash32,
        /// Cluster time of the last set_node_profile: a reader may call an old profile stale.
        pub updated_at: PodI64,
        /// The PDA's bump.
        pub bump: u8,
        /// Bytes of `url` in use (`profile::url_is_valid`).
        pub url_len: u8,
        /// The node's public URL (http:// or https://), zero-padded.
        pub url: PodBytes<200>,
    }
}

impl Discriminator for Market {
    const DISCRIMINATOR: [u8; 8] = sighash("account", Market::NAME);
}

impl Discriminator for Job {
    const DISCRIMINATOR: [u8; 8] = sighash("account", Job::NAME);
}

impl Discriminator for NodeProfile {
    const DISCRIMINATOR: [u8; 8] = sighash("account", NodeProfile::NAME);
}

const _: () = assert!(crate::profile::MAX_URL_LEN == 200);

/// Bounds on market settings (checked by open_market and update_market), so a job's terms
/// stay sane and every clock sum a job needs (start + timeout, settled + retention) stays
/// far from i64 overflow: every job can always be settled and cleaned.
pub mod limits {
    /// Longest `max_timeout`: 365 days.
    pub const MAX_TIMEOUT: i64 = 365 * 86_400;
    /// Longest `retention`: 365 days.
    pub const MAX_RETENTION: i64 = 365 * 86_400;
    /// Most `max_attempts`: a job is held at most max_attempts x timeout before its refund.
    pub const MAX_ATTEMPTS: u16 = 16;
    /// Basis points in one whole (bounty and fee rates).
    pub const BPS: u16 = 10_000;
    /// Largest network fee: 10% of each deposit.
    pub const MAX_FEE_BPS: u16 = 1_000;
    /// Largest reclaim bounty: the whole slash.
    pub const MAX_BOUNTY_BPS: u16 = BPS;
}

/// `QueueEntry` index meaning "none".
pub const NIL: u16 = u16::MAX;

/// Largest queue capacity: every index below `NIL` is usable.
pub const MAX_CAPACITY: u16 = NIL - 1;

/// Bytes of a market account before its queue: the 8-byte discriminator and `Market`
/// (whose last field is the queue's borsh length prefix).
pub const MARKET_HEADER_SIZE: usize = 8 + <Market as Layout>::LEN;

/// Bytes of one queue entry of a market account.
pub const QUEUE_ENTRY_SIZE: usize = <QueueEntry as Layout>::LEN;

/// Bytes of a market account with `capacity` queue entries.
pub const fn market_size(capacity: u16) -> usize {
    MARKET_HEADER_SIZE + capacity as usize * QUEUE_ENTRY_SIZE
}

/// Bytes of a job account.
pub const JOB_SIZE: usize = 8 + <Job as Layout>::LEN;

/// Bytes of a node profile account.
pub const NODE_PROFILE_SIZE: usize = 8 + <NodeProfile as Layout>::LEN;

/// The sizes the IDL publishes (`constants`), so a client sizes accounts without this
/// crate: a market is `MARKET_HEADER_SIZE + capacity * QUEUE_ENTRY_SIZE` bytes.
pub const SIZES: &[crate::idl::ConstDef] = &[
    crate::idl::ConstDef {
        name: "MARKET_HEADER_SIZE",
        docs: "Bytes of a market account before its queue: the 8-byte discriminator and Market (its last field the queue's length prefix).",
        value: MARKET_HEADER_SIZE as u64,
    },
    crate::idl::ConstDef {
        name: "QUEUE_ENTRY_SIZE",
        docs: "Bytes of one queue entry: a market account is MARKET_HEADER_SIZE + capacity * QUEUE_ENTRY_SIZE bytes.",
        value: QUEUE_ENTRY_SIZE as u64,
    },
    crate::idl::ConstDef { name: "MAX_CAPACITY", docs: "Most queue entries a market may hold.", value: MAX_CAPACITY as u64 },
    crate::idl::ConstDef { name: "JOB_SIZE", docs: "Bytes of a job account, the 8-byte discriminator included.", value: JOB_SIZE as u64 },
    crate::idl::ConstDef {
        name: "NODE_PROFILE_SIZE",
        docs: "Bytes of a node profile account, the 8-byte discriminator included (every profile has this size).",
        value: NODE_PROFILE_SIZE as u64,
    },
    crate::idl::ConstDef { name: "MAX_URL_LEN", docs: "Most bytes of a node profile's URL.", value: crate::profile::MAX_URL_LEN as u64 },
];
