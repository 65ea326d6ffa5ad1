//! Instructions: accounts in order (with the flags the program enforces) and arguments.
//! Instruction data is `sha256("global:<name>")[..8]` followed by the borsh arguments.

use crate::instruction;
use interface_kit::idl::Seed;

// The staking accounts jobs names, as PDAs of the staking program (its own seeds).
const STAKING: Seed = Seed::Address(staking_interface::PROGRAM_ID);
const STAKE: &[u8] = staking_interface::seeds::STAKE;
const REWARDS: &[u8] = staking_interface::seeds::REWARDS;
const STAKING_VAULT: &[u8] = staking_interface::seeds::VAULT;
/// The market's staking config, read from the market (instructions that do not list it).
const MARKET_STAKING_CONFIG: Seed = Seed::Field { ty: "Market", path: "market.staking_config" };
/// The node that runs the job, read from the job (instructions whose signer is not it).
const JOB_NODE: Seed = Seed::Field { ty: "Job", path: "job.node" };

instruction! {
    /// Opens a market. The market account is created beforehand by the client (System
    /// create_account, owner = this program, size = `market_size(capacity)`) in the same
    /// transaction, and signs so no one else can initialise it. In the IDL's constants,
    /// market_size(capacity) = MARKET_HEADER_SIZE + capacity * QUEUE_ENTRY_SIZE bytes, the
    /// 8-byte discriminator included (1 <= capacity <= MAX_CAPACITY); not the size of the
    /// Market type alone, which leaves out the queue. The vault is created here
    /// (also when someone sent its address lamports first).
    /// The queue's capacity is the authority's choice, through the account's size: with
    /// `max_entries_per_node`, it bounds what one key can hold of the queue. Without a
    /// minimum stake, entries are free, so a sybil with capacity / max_entries_per_node keys
    /// can still fill it (docs/architecture.md, "Free queue entries").
    /// A staking config (the staking program's, of the market's mint) is named here for
    /// good; a minimum stake, a slash penalty or a network fee needs one, and a slash
    /// penalty needs a config that names this program as its slasher (SlasherNotThisProgram).
    /// The slash penalty is fixed here too: every job and waiting entry locks that much of
    /// its node's stake.
    pub mod open_market (80) {
        accounts {
            /// Pays the vault's rent; becomes the market authority.
            authority [signer writable],
            /// Zeroed, program-owned, MARKET_HEADER_SIZE + capacity * QUEUE_ENTRY_SIZE bytes
            /// (IDL constants).
            market [signer writable],
            /// SPL Token mint of payments.
            mint [],
            /// PDA ["vault", market]: created here as a token account owned by itself.
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            system_program [] = Resolve::Address(ids::SYSTEM_PROGRAM),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The Rent sysvar: what an account must hold to be rent-exempt.
            rent [] = Resolve::Address(ids::RENT_SYSVAR),
            /// The staking config named in the arguments (checked: the staking program's
            /// Config, of the market's mint); absent when none is named.
            staking_config [optional],
        }
        args {
            pub price_per_second: PodU64,
            pub max_timeout: PodI64,
            /// Stake weight a node needs to work (0: none; needs a staking config).
            pub min_stake: PodU64,
            pub retention: PodI64,
            pub max_attempts: PodU16,
            pub max_entries_per_node: PodU16,
            /// Base units slashed from a silent node's stake per reclaim (0: none; needs a
            /// staking config whose slasher is this program). Fixed for good.
            pub slash_penalty: PodU64,
            /// Share of each slash paid to reclaim's caller, in basis points (<= 10,000).
            pub reclaim_bounty_bps: PodU16,
            /// Network fee on every deposit, in basis points (<= 1,000; needs a staking config).
            pub fee_bps: PodU16,
            /// The staking program's config (zero: none). Named at open_market for good:
            /// update_market refuses another (SettingInvalid).
            pub staking_config: Pubkey,
        }
    }
}

instruction! {
    /// Changes a market's settings for jobs posted from now on: every job keeps the terms it
    /// was posted under (price, timeout cap, retention, attempts, penalty, bounty, fee).
    /// Settings are bounded (`state::limits`); the staking config and the slash penalty
    /// must be the market's (fixed at open_market: stakes lock the penalty).
    pub mod update_market (80) {
        accounts {
            authority [signer],
            market [writable],
        }
        args {
            pub price_per_second: PodU64,
            pub max_timeout: PodI64,
            /// Stake weight a node needs to work (0: none; needs a staking config).
            pub min_stake: PodU64,
            pub retention: PodI64,
            pub max_attempts: PodU16,
            pub max_entries_per_node: PodU16,
            /// The market's slash penalty, unchanged (SettingInvalid otherwise).
            pub slash_penalty: PodU64,
            /// Share of each slash paid to reclaim's caller, in basis points (<= 10,000).
            pub reclaim_bounty_bps: PodU16,
            /// Network fee on every deposit, in basis points (<= 1,000; needs a staking config).
            pub fee_bps: PodU16,
            /// The staking program's config (zero: none). Named at open_market for good:
            /// update_market refuses another (SettingInvalid).
            pub staking_config: Pubkey,
        }
    }
}

instruction! {
    /// Closes a market. With no job account left: tokens sent to the vault by mistake go to
    /// the authority's token account, the vault and the market are closed, their rent
    /// returns to the authority, and waiting nodes are dropped. With job accounts left, the
    /// market becomes Closing instead (event MarketClosing): posts and queueing nodes are
    /// refused, the authority may cancel waiting jobs, running jobs settle as usual, and a
    /// later close_market closes it once the last job is cleaned. In a market with a slash
    /// penalty, waiting nodes hold locks on their stakes: the market closes only once none
    /// waits (MarketHasJobs otherwise; while Closing, its authority may remove them with
    /// `leave`).
    pub mod close_market (0) {
        accounts {
            authority [signer writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// Receives stray tokens; a token account of the market's mint (not the vault).
            authority_token [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {}
    }
}

instruction! {
    /// Posts a job: the payer escrows price * timeout in the vault and pays the job
    /// account's rent. The longest-waiting node takes it at once, or it joins the queue.
    /// The job keeps the market's terms of this moment (price, timeout cap, retention,
    /// attempts, slash penalty and bounty, network fee); the price and the fee are refused
    /// if above the payer's maximums. With a network fee, the payer also pays
    /// ceil(deposit x fee_bps / 10,000) into the staking config's rewards pool (a CPI to the
    /// staking program's `deposit_fees`; never escrowed, never refunded).
    pub mod post (50) {
        accounts {
            poster [signer],
            /// Pays the deposit and the rent; receives refunds.
            payer [signer writable],
            /// A new keypair: the job account is created here (never the poster or the
            /// payer: AccountAliased).
            job [signer writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// The payer's token account of the market's mint.
            payer_token [writable],
            system_program [] = Resolve::Address(ids::SYSTEM_PROGRAM),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The Rent sysvar: what an account must hold to be rent-exempt.
            rent [] = Resolve::Address(ids::RENT_SYSVAR),
            /// The staking program (network fee; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The market's staking config (network fee).
            staking_config [optional writable],
            /// The staking config's rewards pool: receives the fee.
            rewards_pool [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::REWARDS), Seed::Account("staking_config")]),
        }
        args {
            /// sha256 of the job definition.
            pub definition: Hash32,
            /// Seconds a node may run it.
            pub timeout: PodI64,
            /// Highest price per second the payer accepts (PriceAboveMaximum if the market
            /// asks more when the transaction lands).
            pub max_price_per_second: PodU64,
            /// Highest network fee the payer accepts, in basis points (FeeAboveMaximum if
            /// the market asks more when the transaction lands; extend needs none: it pays
            /// the job's own rate, fixed here).
            pub max_fee_bps: PodU16,
        }
    }
}

instruction! {
    /// The poster withdraws a job that waits in the queue: full refund, account closed.
    /// Once the market is Closing, its authority may do so too (to drain the market).
    pub mod cancel (0) {
        accounts {
            /// The job's poster, or the market authority while the market is Closing.
            poster [signer],
            job [writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// A token account of the payer's, of the market's mint.
            payer_token [writable],
            /// The job's payer: receives the rent.
            payer [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {}
    }
}

instruction! {
    /// A node enters the market: it takes the oldest waiting job it did not last give up,
    /// or waits in the queue. The entry it gets (event `JobMatched` or `NodeQueued`) records
    /// its assignment. Waiting is refused past the market's `max_entries_per_node` entries
    /// per node, and while the market is Closing; when every waiting job was last given up
    /// by this node, it is refused (JobsExcludeNode). With a minimum stake, the node's stake
    /// must be staked (not unlocking) under the market's staking config with at least that
    /// weight. With a slash penalty, the stake must also back one more job: the penalty is
    /// locked on it (a CPI to staking's `lock`, signed by this program's PDA ["slasher"])
    /// until the job or the entry ends.
    pub mod work (0) {
        accounts {
            node [signer],
            market [writable],
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The node's stake, PDA ["stake", staking config, node] of the staking program
            /// (needed when the market asks a minimum stake or a slash penalty; absent
            /// otherwise).
            stake [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKE), Seed::Account("staking_config"), Seed::Account("node")]),
            /// The staking program (slash penalty).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The market's staking config (slash penalty).
            staking_config [optional],
            /// This program's PDA ["slasher"] (slash penalty).
            slasher [optional] = pda(&[Seed::Const(crate::seeds::SLASHER)]),
        }
        args {}
    }
}

instruction! {
    /// A waiting node leaves the queue; with a slash penalty, the lock its entry held on its
    /// stake is released. While the market is Closing, its authority may remove any waiting
    /// node so (the market closes only once none waits).
    pub mod leave (2) {
        accounts {
            /// The waiting node, or the market authority while the market is Closing.
            node [signer],
            market [writable],
            /// The staking program (slash penalty; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The waiting node's stake (slash penalty): PDA ["stake", staking config, node]
            /// of the staking program, where node is the entry's (not the signer when the
            /// authority removes it), so the IDL gives no seeds for it.
            stake [optional writable],
            /// This program's PDA ["slasher"] (slash penalty).
            slasher [optional] = pda(&[Seed::Const(crate::seeds::SLASHER)]),
        }
        args {
            /// The node's queue entry (from `NodeQueued`).
            pub slot: PodU16,
        }
    }
}

instruction! {
    /// The node running a job posts its result: it is paid price * min(elapsed, timeout),
    /// the rest is refunded to the payer. With a slash penalty, the lock the job held on the
    /// node's stake is released.
    pub mod finish (32) {
        accounts {
            node [signer],
            job [writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// The node's token account of the market's mint.
            node_token [writable],
            /// A token account of the payer's, of the market's mint.
            payer_token [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The staking program (slash penalty; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The node's stake (slash penalty).
            stake [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKE), super::MARKET_STAKING_CONFIG, Seed::Account("node")]),
            /// This program's PDA ["slasher"] (slash penalty).
            slasher [optional] = pda(&[Seed::Const(crate::seeds::SLASHER)]),
        }
        args {
            /// sha256 of the result bundle; must not be zero.
            pub result: Hash32,
        }
    }
}

instruction! {
    /// The node running a job gives it up, unpaid. The give-up counts as an attempt: the job
    /// goes back to the front (never to this node again: the next waiting node takes it,
    /// or it waits; this node's waiting entries are removed when only they wait), or, at
    /// `max_attempts`, is refunded in full and Failed. At or past its deadline (started +
    /// timeout), a quit settles as `reclaim` does: with a slash penalty, the node is slashed
    /// (no bounty: the whole slash goes where the config sends slashes). With a slash
    /// penalty, the lock the job held on the node's stake is released.
    pub mod quit (0) {
        accounts {
            node [signer],
            job [writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// The payer's token account of the market's mint (the refund at max_attempts).
            payer_token [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The staking program (slash penalty; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The market's staking config (a late quit's slash).
            staking_config [optional writable],
            /// The node's stake: PDA ["stake", staking config, node].
            stake [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKE), Seed::Account("staking_config"), Seed::Account("node")]),
            /// The staking config's vault (a late quit's slash).
            stake_vault [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKING_VAULT), Seed::Account("staking_config")]),
            /// Where the config sends slashes (a late quit's slash).
            slash_destination [optional writable],
            /// This program's PDA ["slasher"].
            slasher [optional] = pda(&[Seed::Const(crate::seeds::SLASHER)]),
        }
        args {}
    }
}

instruction! {
    /// Anyone, once a running job is past started + timeout: the silent node is unpaid and
    /// the job goes back to the front (never to that node again, as after `quit`), or is
    /// refunded after `max_attempts` give-ups (quits and reclaims).
    /// With a slash penalty (the job's, fixed when posted), min(penalty, stake) is slashed
    /// from the silent node's stake by a CPI to the staking program signed by this
    /// program's PDA ["slasher"]; floor(slashed x bounty_bps / 10,000) of it goes to
    /// `bounty_to` (the caller's reward), the rest where the config sends slashes. The slash
    /// is skipped, never blocking the reclaim, when the stake is closed or empty, when the
    /// config no longer names this program as its slasher and the stake holds no lock of
    /// this program's, or when the config's treasury (its slash destination) is closed;
    /// event `NodeSlashed` says which. The lock the job held on the stake is released.
    pub mod reclaim (0) {
        accounts {
            job [writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// The payer's token account of the market's mint: checked on every path (the
            /// refund path pays into it; the requeue path leaves it untouched).
            payer_token [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The staking program (slash penalty; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The market's staking config.
            staking_config [optional writable],
            /// The silent node's stake: PDA ["stake", staking config, node] (checked to be
            /// that address when the stake was closed).
            stake [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKE), Seed::Account("staking_config"), super::JOB_NODE]),
            /// The staking config's vault.
            stake_vault [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKING_VAULT), Seed::Account("staking_config")]),
            /// Where the config sends slashes: its rewards pool or its treasury.
            slash_destination [optional writable],
            /// Receives the bounty: a token account of the mint (the caller's; not the
            /// market's vault: AccountAliased).
            bounty_to [optional writable],
            /// This program's PDA ["slasher"], as the staking config stores it.
            slasher [optional] = pda(&[Seed::Const(crate::seeds::SLASHER)]),
        }
        args {}
    }
}

instruction! {
    /// The poster adds time to a queued or running job; the payer deposits the difference
    /// at the job's own price, up to the timeout cap the job was posted under, and the
    /// network fee on it at the job's own rate (as `post`).
    pub mod extend (8) {
        accounts {
            poster [signer],
            payer [signer],
            job [writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            payer_token [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The staking program (network fee; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The market's staking config (network fee).
            staking_config [optional writable],
            /// The staking config's rewards pool: receives the fee.
            rewards_pool [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::REWARDS), Seed::Account("staking_config")]),
        }
        args {
            /// Seconds to add.
            pub extra: PodI64,
        }
    }
}

instruction! {
    /// The poster stops a running job: its node is paid for the time it ran, the rest is
    /// refunded. With a slash penalty, the lock the job held on the node's stake is released.
    pub mod end (0) {
        accounts {
            poster [signer],
            job [writable],
            market [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")]),
            /// The running node's token account of the market's mint.
            node_token [writable],
            payer_token [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The staking program (slash penalty; absent without one).
            staking_program [optional] = Resolve::Address(staking_interface::PROGRAM_ID),
            /// The running node's stake (slash penalty).
            stake [optional writable] = pda_of(super::STAKING, &[Seed::Const(super::STAKE), super::MARKET_STAKING_CONFIG, super::JOB_NODE]),
            /// This program's PDA ["slasher"] (slash penalty).
            slasher [optional] = pda(&[Seed::Const(crate::seeds::SLASHER)]),
        }
        args {}
    }
}

instruction! {
    /// The node a poster's `end` stopped records the job's result digest (its bundle:
    /// logs, health history) afterwards: once, only on an ended job, only by the node that
    /// ran it. Nothing is paid: `end` settled the money.
    pub mod attach_result (32) {
        accounts {
            node [signer],
            job [writable],
        }
        args {
            /// sha256 of the result bundle (the digest of its CIDv0).
            pub result: Hash32,
        }
    }
}

instruction! {
    /// Anyone, once a settled job is older than its retention (the market's when it was
    /// posted): the job account is closed and its rent returned to its payer.
    pub mod clean (0) {
        accounts {
            job [writable],
            market [writable],
            /// The job's payer: receives the rent.
            payer [writable],
            /// The Clock sysvar: the cluster's time.
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
        }
        args {}
    }
}

instruction! {
    /// A node publishes where its front door is and what hardware it has: its profile, PDA
    /// ["node_profile", node], created on the first call (the payer pays the rent of the
    /// fixed NODE_PROFILE_SIZE bytes) and overwritten by later ones (no realloc: every URL
    /// fits). The URL is checked (UrlInvalid): http:// or https:// and a host, at most
    /// MAX_URL_LEN bytes of printable ASCII without spaces, zero-padded after `url_len`.
    /// Event `NodeProfileSet`.
    pub mod set_node_profile (233) {
        accounts {
            /// The node whose profile this is.
            node [signer],
            /// Pays the rent when the profile is created (may be the node).
            payer [signer writable],
            /// PDA ["node_profile", node].
            profile [writable] = pda(&[Seed::Const(crate::seeds::NODE_PROFILE), Seed::Account("node")]),
            system_program [] = Resolve::Address(ids::SYSTEM_PROGRAM),
            /// The Clock sysvar: the cluster's time (`updated_at`).
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
            /// The Rent sysvar: what an account must hold to be rent-exempt.
            rent [] = Resolve::Address(ids::RENT_SYSVAR),
        }
        args {
            /// Bytes of `url` in use.
            pub url_len: u8,
            /// The node's public URL, zero-padded to MAX_URL_LEN bytes.
            pub url: PodBytes<200>,
            /// sha256 of the node's hardware summary in storage; must not be zero.
            pub hardware: Hash32,
        }
    }
}

instruction! {
    /// A node withdraws its profile (it serves no endpoints any more): the account closes
    /// and its rent goes to `receiver`. Event `NodeProfileClosed`.
    pub mod close_node_profile (0) {
        accounts {
            /// The node whose profile this is.
            node [signer],
            /// PDA ["node_profile", node].
            profile [writable] = pda(&[Seed::Const(crate::seeds::NODE_PROFILE), Seed::Account("node")]),
            /// Receives the rent (not the profile itself: AccountAliased).
            receiver [writable],
        }
        args {}
    }
}

// Time and rent are read from the sysvar accounts rather than by syscall: reading an
// account the runtime has already mapped costs a few units, a sysvar syscall over a hundred
// (docs/architecture.md, "Compute units").

/// Every instruction, in the order the IDL lists them.
pub const ALL: &[crate::idl::InstructionDef] = &[
    open_market::DEF,
    update_market::DEF,
    close_market::DEF,
    post::DEF,
    cancel::DEF,
    work::DEF,
    leave::DEF,
    finish::DEF,
    quit::DEF,
    reclaim::DEF,
    extend::DEF,
    end::DEF,
    attach_result::DEF,
    clean::DEF,
    set_node_profile::DEF,
    close_node_profile::DEF,
];
