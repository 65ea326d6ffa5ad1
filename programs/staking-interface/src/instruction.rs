//! Instructions: accounts in order (with the flags the program enforces) and arguments.
//! Instruction data is `sha256("global:<name>")[..8]` followed by the borsh arguments.

macro_rules! instruction {
    ($($body:tt)*) => {
        interface_kit::instruction! { error = $crate::error::StakingError; $($body)* }
    };
}

/// The program whose PDA ["slasher"] locks stakes: the config's `slasher_program`.
const SLASHER_PROGRAM: interface_kit::idl::Seed =
    interface_kit::idl::Seed::Field { ty: "Config", path: "config.slasher_program" };

instruction! {
    /// Creates a staking config for `mint` with its vault and rewards pool (token accounts
    /// that are their own PDAs). The lock bounds and multiplier curve are fixed here:
    /// weight = amount x multiplier(duration), linear from min_multiplier at min_duration
    /// to max_multiplier at max_duration (millionths; rounded down). `slasher_program`
    /// (zero: none) is the one program whose PDA ["slasher"] may slash by CPI.
    pub mod init (65) {
        accounts {
            /// Pays the rents; becomes the config's authority.
            authority [signer writable],
            /// PDA ["config", authority, mint]: created here.
            config [writable] = pda(&[Seed::Const(crate::seeds::CONFIG), Seed::Account("authority"), Seed::Account("mint")]),
            /// SPL Token mint of the stakes and rewards.
            mint [],
            /// PDA ["vault", config]: created here as a token account owned by itself.
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("config")]),
            /// PDA ["rewards", config]: created here as a token account owned by itself.
            rewards_pool [writable] = pda(&[Seed::Const(crate::seeds::REWARDS), Seed::Account("config")]),
            /// A token account of the mint: where slashes go when `slash_to` is 1.
            treasury [],
            system_program [] = Resolve::Address(ids::SYSTEM_PROGRAM),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            rent [] = Resolve::Address(ids::RENT_SYSVAR),
        }
        args {
            pub min_duration: PodI64,
            pub max_duration: PodI64,
            pub min_multiplier: PodU64,
            pub max_multiplier: PodU64,
            /// 0: the rewards pool; 1: the treasury.
            pub slash_to: u8,
            pub slasher_program: Pubkey,
        }
    }
}

instruction! {
    /// The authority changes where slashes go, the treasury, and the slasher program
    /// (zero: none). Stakes and the multiplier curve are untouched.
    pub mod update_config (33) {
        accounts {
            authority [signer],
            config [writable],
            /// A token account of the mint.
            treasury [],
        }
        args {
            pub slash_to: u8,
            pub slasher_program: Pubkey,
        }
    }
}

instruction! {
    /// Creates the owner's stake: `amount` moves from the owner's token account to the
    /// vault, locked for `duration` (within the config's bounds); weight = amount x
    /// multiplier(duration).
    pub mod stake (16) {
        accounts {
            /// Pays the stake account's rent.
            owner [signer writable],
            config [writable],
            /// PDA ["stake", config, owner]: created here.
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
            /// The owner's token account of the mint.
            owner_token [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("config")]),
            system_program [] = Resolve::Address(ids::SYSTEM_PROGRAM),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            rent [] = Resolve::Address(ids::RENT_SYSVAR),
        }
        args {
            pub amount: PodU64,
            pub duration: PodI64,
        }
    }
}

instruction! {
    /// Adds `amount` to a staked (not unlocking) stake; its weight grows with it.
    pub mod topup (8) {
        accounts {
            owner [signer],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
            owner_token [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("config")]),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {
            pub amount: PodU64,
        }
    }
}

instruction! {
    /// Lengthens a staked stake's lock to `duration` (never shorter; within the bounds);
    /// its weight grows with the multiplier.
    pub mod extend (8) {
        accounts {
            owner [signer],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
        }
        args {
            pub duration: PodI64,
        }
    }
}

instruction! {
    /// Starts the unlock: weight drops to 0 (rewards settled first), and the stake's tokens
    /// unlock linearly over its duration from now.
    pub mod unstake (0) {
        accounts {
            owner [signer],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
        }
        args {}
    }
}

instruction! {
    /// Sends the owner what has unlocked and not been withdrawn yet.
    pub mod withdraw (0) {
        accounts {
            owner [signer],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
            /// The owner's token account of the mint.
            owner_token [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("config")]),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
            clock [] = Resolve::Address(ids::CLOCK_SYSVAR),
        }
        args {}
    }
}

instruction! {
    /// Cancels the unlock: what is left is locked again for the same duration, with its
    /// weight.
    pub mod restake (0) {
        accounts {
            owner [signer],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
        }
        args {}
    }
}

instruction! {
    /// Closes an empty stake (no tokens, no rewards to claim); its rent returns to the owner.
    pub mod close (0) {
        accounts {
            owner [signer writable],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
        }
        args {}
    }
}

instruction! {
    /// Takes up to `amount` from a stake (all it holds if less), staked or unlocking:
    /// `bounty` of it (at most `amount`; at most what was taken) to `bounty_to`, e.g. the
    /// reward of whoever reported the fault, the rest to the rewards pool or the treasury
    /// as the config says. Signed by the config's authority, by the slasher program's PDA
    /// ["slasher"] through a CPI, or by the stake's locker while it holds a lock (so a
    /// change of slasher never frees a node from the jobs it holds). The authority's power
    /// to slash any stake is the trust a staker gives it (docs/architecture.md).
    pub mod slash (16) {
        accounts {
            /// The authority, or the slasher program's PDA.
            slasher [signer],
            config [writable],
            stake [writable],
            vault [writable] = pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("config")]),
            /// The rewards pool or the treasury, as `Config::slash_to` says.
            destination [writable],
            /// A token account of the mint, never the vault (nor the rewards pool when a
            /// bounty is paid: tokens there would be no one's); checked whatever the bounty.
            bounty_to [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {
            pub amount: PodU64,
            /// Paid out of the slashed tokens to `bounty_to` (at most `amount`).
            pub bounty: PodU64,
        }
    }
}

instruction! {
    /// Pays `amount` into the rewards pool for the stakers, shared in proportion to weight
    /// (while no stake has weight, it is no staker's: the treasury's, sent there by
    /// `sweep`). Anyone may call it, e.g. the jobs program with a market's fee.
    pub mod deposit_fees (8) {
        accounts {
            /// The authority of `depositor_token`.
            depositor [signer],
            config [writable],
            depositor_token [writable],
            rewards_pool [writable] = pda(&[Seed::Const(crate::seeds::REWARDS), Seed::Account("config")]),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {
            pub amount: PodU64,
        }
    }
}

instruction! {
    /// Sends a stake's owner its rewards.
    pub mod claim (0) {
        accounts {
            owner [signer],
            config [writable],
            stake [writable] = pda(&[Seed::Const(crate::seeds::STAKE), Seed::Account("config"), Seed::Account("owner")]),
            /// The owner's token account of the mint.
            owner_token [writable],
            rewards_pool [writable] = pda(&[Seed::Const(crate::seeds::REWARDS), Seed::Account("config")]),
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {}
    }
}

instruction! {
    /// The config's slasher program (its PDA ["slasher"] signs, by CPI) makes a staked stake
    /// back one more obligation of `amount` (e.g. the jobs program: a market's slash penalty
    /// for each job a node runs and each entry it waits at). The stake must hold what it
    /// already backs plus `amount`. While anything is locked, the stake can be neither
    /// unstaked nor closed, and the locker may slash it even if the config later names
    /// another slasher program; another slasher can lock it only once all is released.
    pub mod lock (8) {
        accounts {
            /// The config's slasher PDA.
            locker [signer] = pda_of(super::SLASHER_PROGRAM, &[Seed::Const(crate::seeds::SLASHER)]),
            config [],
            stake [writable],
        }
        args {
            pub amount: PodU64,
        }
    }
}

instruction! {
    /// The slasher that locked a stake releases `amount` of what it backs (all that is
    /// locked if less: a slash may have taken the rest).
    pub mod unlock (8) {
        accounts {
            /// The stake's locker (the PDA that signed its locks).
            locker [signer],
            stake [writable],
        }
        args {
            pub amount: PodU64,
        }
    }
}

instruction! {
    /// Sends the rewards no stake owns (deposited while no stake had weight) from the
    /// rewards pool to the config's treasury. Anyone may call it.
    pub mod sweep (0) {
        accounts {
            config [writable],
            rewards_pool [writable] = pda(&[Seed::Const(crate::seeds::REWARDS), Seed::Account("config")]),
            /// The config's treasury.
            treasury [writable],
            token_program [] = Resolve::Address(ids::TOKEN_PROGRAM),
        }
        args {}
    }
}

/// Every instruction's IDL description, in the order the IDL lists them.
pub const ALL: &[interface_kit::idl::InstructionDef] = &[
    init::DEF,
    update_config::DEF,
    stake::DEF,
    topup::DEF,
    extend::DEF,
    unstake::DEF,
    withdraw::DEF,
    restake::DEF,
    close::DEF,
    slash::DEF,
    deposit_fees::DEF,
    claim::DEF,
    lock::DEF,
    unlock::DEF,
    sweep::DEF,
];
