//! System program CPI: account creation.

use super::keys;
use jobs_interface::error::JobsError;
use super::cpi::invoke;
use pinocchio::cpi::Signer;
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::{AccountView, Address, ProgramResult};

pub const SYSTEM_PROGRAM_ID: Address = Address::new_from_array([0u8; 32]);

#[inline(always)]
pub fn check_system_program(account: &AccountView) -> Result<(), JobsError> {
    if !keys::is(account, &SYSTEM_PROGRAM_ID) {
        return Err(JobsError::ProgramIdInvalid);
    }
    Ok(())
}

/// A System create_account of `space` bytes owned by `owner`, funded rent-exempt by `from`.
/// `to` signs either in the transaction (a keypair) or through `signer` (a PDA). Fails if
/// `to` already holds lamports, so nothing is created twice.
pub struct CreateAccount<'a> {
    pub from: &'a AccountView,
    pub to: &'a AccountView,
    pub lamports: u64,
    pub space: u64,
    pub owner: &'a Address,
}

impl CreateAccount<'_> {
    #[inline(always)]
    pub fn invoke_signed(&self, signers: &[Signer]) -> ProgramResult {
        let mut data = [0u8; 52];
        // data[0..4] = 0: the CreateAccount discriminator.
        data[4..12].copy_from_slice(&self.lamports.to_le_bytes());
        data[12..20].copy_from_slice(&self.space.to_le_bytes());
        data[20..52].copy_from_slice(self.owner.as_ref());
        let metas = [
            InstructionAccount::writable_signer(self.from.address()),
            InstructionAccount::writable_signer(self.to.address()),
        ];
        let instruction = InstructionView { program_id: &SYSTEM_PROGRAM_ID, data: &data, accounts: &metas };
        invoke(&instruction, [self.from, self.to], signers);
        Ok(())
    }
}
