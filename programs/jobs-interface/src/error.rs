//! Error codes of the jobs program (Anchor custom errors start at 6000).

use crate::errors;
use solana_program_error::ProgramError;

errors! {
    /// Every refusal of the jobs program. Codes are ABI: append new ones, never renumber.
    pub enum JobsError {
        InstructionUnknown = 6000: "Instruction discriminator is not one of this program's",
        InstructionDataInvalid = 6001: "Instruction data has the wrong length",
        AccountsMissing = 6002: "Fewer accounts than the instruction needs",
        SignatureMissing = 6003: "An account that must sign did not",
        AccountNotWritable = 6004: "An account that must be writable is not",
        AccountOwnerInvalid = 6005: "Account is not owned by the expected program",
        AccountDiscriminatorInvalid = 6006: "Account is not of the expected type",
        AccountAlreadyInitialized = 6007: "Account is already initialised",
        AccountSizeInvalid = 6008: "Account data has the wrong size",
        ProgramIdInvalid = 6009: "System, token or staking program account is not the expected program",
        MarketMismatch = 6010: "Job belongs to another market",
        AuthorityMismatch = 6011: "Signer is not the market authority",
        VaultMismatch = 6012: "Vault is not the market's vault",
        MintNotSplToken = 6013: "Mint is not an SPL Token mint (Token-2022 mints are refused)",
        MintInvalid = 6014: "Mint account is not an initialised mint",
        TokenAccountInvalid = 6015: "Token account is not an initialised SPL Token account",
        TokenMintMismatch = 6016: "Token account holds another mint than the market's",
        TokenOwnerMismatch = 6017: "Token account belongs to someone else",
        TimeoutInvalid = 6018: "Timeout must be positive and at most the market's maximum (the job's own, for extend)",
        CapacityInvalid = 6019: "Queue capacity must be between 1 and 65534 and match the account size",
        SettingInvalid = 6020: "Market setting out of range (max timeout 1 s..365 days, retention 0..365 days, attempts 1..16, entries per node at least 1, price x max timeout within u64, reclaim bounty at most 10,000 bps, network fee at most 1,000 bps, staking config and slash penalty unchanged)",
        QueueFull = 6021: "Market queue is full",
        ArithmeticOverflow = 6022: "Amount or time overflows",
        JobNotQueued = 6023: "Job is not waiting in the queue",
        JobNotRunning = 6024: "Job is not running",
        JobNotOpen = 6025: "Job is already settled",
        JobStillOpen = 6026: "Job is still open",
        NodeNotAssigned = 6027: "Signer is not the node running this job",
        PosterMismatch = 6028: "Signer is not the job's poster",
        PayerMismatch = 6029: "Account is not the job's payer",
        SlotInvalid = 6030: "Queue entry index is out of range",
        NodeNotQueued = 6031: "Node is not waiting at that queue entry",
        TimeoutNotReached = 6032: "Job has not yet run past its timeout",
        RetentionNotReached = 6033: "Settled job is still within the market's retention",
        MarketHasJobs = 6034: "Market still has job accounts",
        ResultMissing = 6035: "Result digest must not be zero",
        DefinitionMissing = 6036: "Definition digest must not be zero",
        RentSysvarUnreadable = 6037: "Rent sysvar could not be read",
        SysvarInvalid = 6038: "Clock or Rent account is not the sysvar",
        PriceAboveMaximum = 6039: "Market price per second is above the maximum the payer accepts",
        MarketClosing = 6040: "Market is closing: it takes no new jobs and no new waiting nodes",
        NodeEntriesExceeded = 6041: "Node already holds the market's maximum of waiting queue entries",
        StakingConfigMissing = 6042: "A minimum stake, a slash penalty or a network fee needs a staking config",
        StakingConfigInvalid = 6043: "Account is not a config of the staking program, or not the market's staking config",
        StakingConfigMintMismatch = 6044: "Staking config stakes another mint than the market's",
        StakingAccountsMissing = 6045: "Staking accounts the market needs were not passed (the node's stake for a minimum stake; staking program, config and rewards pool for a network fee; the slash accounts for a penalty)",
        StakeInvalid = 6046: "Account is not the node's stake under the market's staking config",
        StakeTooLow = 6047: "Node's stake is not staked with at least the market's minimum weight (an unlocking stake has none)",
        SlasherMismatch = 6048: "Slasher account is not the PDA the staking config names for this program",
        FeeAboveMaximum = 6049: "Market network fee is above the maximum the payer accepts",
        AccountAliased = 6050: "One account stands for two roles that must be distinct (a created or closed account, a payer, a payee or a source)",
        SlasherNotThisProgram = 6051: "The staking config does not name this program as its slasher: a market's slash penalty could never be applied",
        JobsExcludeNode = 6052: "Every waiting job was last given up by this node: it takes none of them again",
        StakeCannotBack = 6053: "Node's stake cannot back one more job here: it must be staked and hold the market's slash penalty beyond what it already backs",
        StakeLockedElsewhere = 6054: "Node's stake backs jobs of another slasher program",
        UrlInvalid = 6055: "Node URL must be http:// or https:// and a host, at most 200 bytes of printable ASCII without spaces, zero-padded after url_len",
        HardwareMissing = 6056: "Hardware summary digest must not be zero",
        NodeProfileMismatch = 6057: "Account is not the signing node's profile (PDA [\"node_profile\", node])",
        JobNotEnded = 6058: "Job was not ended by its poster, or already holds a result",
    }
}

impl From<JobsError> for ProgramError {
    #[inline(always)]
    fn from(error: JobsError) -> Self {
        ProgramError::Custom(error as u32)
    }
}

/// A present optional account without a flag its instruction declares
/// (`interface_kit::accounts::Optional::get`).
impl From<interface_kit::accounts::FlagError> for JobsError {
    #[inline(always)]
    fn from(error: interface_kit::accounts::FlagError) -> Self {
        match error {
            interface_kit::accounts::FlagError::SignatureMissing => JobsError::SignatureMissing,
            interface_kit::accounts::FlagError::AccountNotWritable => JobsError::AccountNotWritable,
        }
    }
}

// The refusals program-kit's checks raise, under this program's codes.
interface_kit::common_errors!(JobsError);
