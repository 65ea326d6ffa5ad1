//! One file per instruction; `dispatch` routes on the 8-byte discriminator.

use pinocchio::{AccountView, Address, ProgramResult};
use staking_interface::{error::StakingError, instruction as ix};

mod claim;
mod close;
mod deposit_fees;
mod extend;
mod init;
mod lock;
mod restake;
mod slash;
mod stake;
mod sweep;
mod topup;
mod unstake;
mod unlock;
mod update_config;
mod withdraw;

/// What every handler receives. One reference, because SBF calls that are not inlined take
/// at most five register arguments (docs/toolchain.md, pitfall 3).
pub struct Context<'a> {
    pub program_id: &'a Address,
    pub accounts: &'a [AccountView],
    /// Instruction data after the discriminator once dispatched.
    pub data: &'a [u8],
}

const fn tag(discriminator: [u8; 8]) -> u64 {
    u64::from_le_bytes(discriminator)
}

const INIT: u64 = tag(ix::init::DISCRIMINATOR);
const UPDATE_CONFIG: u64 = tag(ix::update_config::DISCRIMINATOR);
const STAKE: u64 = tag(ix::stake::DISCRIMINATOR);
const TOPUP: u64 = tag(ix::topup::DISCRIMINATOR);
const EXTEND: u64 = tag(ix::extend::DISCRIMINATOR);
const UNSTAKE: u64 = tag(ix::unstake::DISCRIMINATOR);
const WITHDRAW: u64 = tag(ix::withdraw::DISCRIMINATOR);
const RESTAKE: u64 = tag(ix::restake::DISCRIMINATOR);
const CLOSE: u64 = tag(ix::close::DISCRIMINATOR);
const SLASH: u64 = tag(ix::slash::DISCRIMINATOR);
const DEPOSIT_FEES: u64 = tag(ix::deposit_fees::DISCRIMINATOR);
const CLAIM: u64 = tag(ix::claim::DISCRIMINATOR);
const LOCK: u64 = tag(ix::lock::DISCRIMINATOR);
const UNLOCK: u64 = tag(ix::unlock::DISCRIMINATOR);
const SWEEP: u64 = tag(ix::sweep::DISCRIMINATOR);

#[inline(always)]
pub fn dispatch(context: &Context) -> ProgramResult {
    let Some((discriminator, data)) = context.data.split_first_chunk::<8>() else {
        return Err(StakingError::InstructionUnknown.into());
    };
    let context = Context { program_id: context.program_id, accounts: context.accounts, data };
    match u64::from_le_bytes(*discriminator) {
        DEPOSIT_FEES => deposit_fees::process(&context),
        CLAIM => claim::process(&context),
        SLASH => slash::process(&context),
        LOCK => lock::process(&context),
        UNLOCK => unlock::process(&context),
        STAKE => stake::process(&context),
        TOPUP => topup::process(&context),
        EXTEND => extend::process(&context),
        UNSTAKE => unstake::process(&context),
        WITHDRAW => withdraw::process(&context),
        RESTAKE => restake::process(&context),
        CLOSE => close::process(&context),
        INIT => init::process(&context),
        UPDATE_CONFIG => update_config::process(&context),
        SWEEP => sweep::process(&context),
        _ => Err(StakingError::InstructionUnknown.into()),
    }
}
