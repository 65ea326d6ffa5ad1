//! Error codes of the staking program (Anchor custom errors start at 6000; unique within
//! this program, numbered apart from the jobs program's).

use interface_kit::errors;
use solana_program_error::ProgramError;

errors! {
    /// Every refusal of the staking program. Codes are ABI: append new ones, never renumber.
    pub enum StakingError {
        InstructionUnknown = 6000: "Instruction discriminator is not one of this program's",
        InstructionDataInvalid = 6001: "Instruction data has the wrong length or an invalid value",
        AccountsMissing = 6002: "Fewer accounts than the instruction needs",
        SignatureMissing = 6003: "An account that must sign did not",
        AccountNotWritable = 6004: "An account that must be writable is not",
        AccountOwnerInvalid = 6005: "Account is not owned by the expected program",
        AccountDiscriminatorInvalid = 6006: "Account is not of the expected type",
        AccountSizeInvalid = 6007: "Account data has the wrong size",
        ProgramIdInvalid = 6008: "System or token program account is not the expected program",
        SysvarInvalid = 6009: "Clock or Rent account is not the sysvar",
        RentSysvarUnreadable = 6010: "Rent sysvar could not be read",
        ArithmeticOverflow = 6011: "Amount, weight or time overflows",
        AddressMismatch = 6012: "Account is not the PDA its seeds give",
        ConfigMismatch = 6013: "Stake belongs to another staking config",
        AuthorityMismatch = 6014: "Signer is not the config's authority",
        StakeOwnerMismatch = 6015: "Signer is not the stake's owner",
        VaultMismatch = 6016: "Account is not the config's stake vault",
        RewardsPoolMismatch = 6017: "Account is not the config's rewards pool",
        TreasuryMismatch = 6018: "Account is not the config's treasury",
        MintNotSplToken = 6019: "Mint is not an SPL Token mint (Token-2022 mints are refused)",
        MintInvalid = 6020: "Mint account is not an initialised mint",
        TokenAccountInvalid = 6021: "Token account is not an initialised SPL Token account",
        TokenMintMismatch = 6022: "Token account holds another mint than the config's",
        TokenOwnerMismatch = 6023: "Token account belongs to someone else",
        SettingInvalid = 6024: "Config setting out of range (durations 1 s..10 years, min <= max; multipliers 1x..100x, min <= max; slash destination 0 or 1)",
        DurationInvalid = 6025: "Lock duration is outside the config's bounds",
        DurationShorter = 6026: "A lock can only be extended, never shortened",
        AmountZero = 6027: "Amount must be positive",
        StakeNotStaked = 6028: "Stake is unlocking (unstaked): restake it first",
        StakeNotUnlocking = 6029: "Stake is not unlocking: unstake it first",
        StakeNotEmpty = 6030: "Stake still holds tokens",
        RewardsUnclaimed = 6031: "Stake has rewards to claim first",
        SlasherInvalid = 6032: "Signer is neither the config's authority nor its slasher program's PDA",
        AccountAlreadyInitialized = 6033: "Account is already initialised",
        BountyAboveAmount = 6034: "Slash bounty is above the amount to slash",
        BountyAccountInvalid = 6035: "Bounty account is the config's vault, or its rewards pool while a bounty is paid",
        StakeLocked = 6036: "Stake backs obligations (jobs running or entries waiting) of a slasher program: it can be neither unstaked nor closed until they are released",
        LockerInvalid = 6037: "Signer is not the config's slasher program's PDA, or another slasher holds this stake's lock",
        LockAboveStake = 6038: "Stake does not hold enough to back what it already backs plus this obligation",
        AccountAliased = 6039: "One account stands for two roles that must be distinct (a created or closed account, a payer, a payee or a source)",
    }
}

impl From<StakingError> for ProgramError {
    #[inline(always)]
    fn from(error: StakingError) -> Self {
        ProgramError::Custom(error as u32)
    }
}

// The refusals program-kit's checks raise, under this program's codes.
interface_kit::common_errors!(StakingError);
