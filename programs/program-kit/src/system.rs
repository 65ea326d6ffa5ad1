//! System program CPI: account creation (and pre-funded addresses, as Anchor's `init`).

use crate::cpi::invoke;
use crate::keys;
use interface_kit::errors::CommonErrors;
use interface_kit::pod::is_zero32;
use pinocchio::cpi::Signer;
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::{AccountView, Address, ProgramResult};

pub const SYSTEM_PROGRAM_ID: Address = Address::new_from_array([0u8; 32]);

/// Creates `to` with `space` bytes owned by `owner`, rent-exempt, funded by `from`; `to`
/// signs either in the transaction (a keypair) or through `signers` (a PDA).
///
/// An address with no lamports gets one System create_account. One that someone already
/// sent lamports (System create_account refuses it, so anyone could block the address for
/// the price of a lamport) is created as Anchor's `init` does: a transfer of the shortfall
/// to rent-exempt (if any), then `allocate` and `assign`. Either way an account that
/// already has data or another owner is refused by the System program, so nothing is
/// created twice. The hot path pays one lamports check for this.
pub struct CreateAccount<'a> {
    pub from: &'a AccountView,
    pub to: &'a AccountView,
    pub lamports: u64,
    pub space: u64,
    pub owner: &'a Address,
}

const ASSIGN: u32 = 1;
const TRANSFER: u32 = 2;
const ALLOCATE: u32 = 8;

impl CreateAccount<'_> {
    #[inline(always)]
    pub fn invoke_signed(&self, signers: &[Signer]) -> ProgramResult {
        if self.to.lamports() != 0 {
            return self.invoke_prefunded(signers);
        }
        self.invoke_empty(signers)
    }

    /// The path for an address with no lamports: one System create_account.
    #[inline(always)]
    pub fn invoke_empty(&self, signers: &[Signer]) -> ProgramResult {
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

    /// The path for an address that already holds lamports (see the type's docs).
    #[inline(never)]
    pub fn invoke_prefunded(&self, signers: &[Signer]) -> ProgramResult {
        let shortfall = self.lamports.saturating_sub(self.to.lamports());
        if shortfall > 0 {
            let mut data = [0u8; 12];
            data[..4].copy_from_slice(&TRANSFER.to_le_bytes());
            data[4..12].copy_from_slice(&shortfall.to_le_bytes());
            let metas = [
                InstructionAccount::writable_signer(self.from.address()),
                InstructionAccount::writable(self.to.address()),
            ];
            let instruction = InstructionView { program_id: &SYSTEM_PROGRAM_ID, data: &data, accounts: &metas };
            invoke(&instruction, [self.from, self.to], &[]);
        }
        let metas = [InstructionAccount::writable_signer(self.to.address())];
        let mut data = [0u8; 12];
        data[..4].copy_from_slice(&ALLOCATE.to_le_bytes());
        data[4..12].copy_from_slice(&self.space.to_le_bytes());
        let instruction = InstructionView { program_id: &SYSTEM_PROGRAM_ID, data: &data, accounts: &metas };
        invoke(&instruction, [self.to], signers);
        let mut data = [0u8; 36];
        data[..4].copy_from_slice(&ASSIGN.to_le_bytes());
        data[4..36].copy_from_slice(self.owner.as_ref());
        let instruction = InstructionView { program_id: &SYSTEM_PROGRAM_ID, data: &data, accounts: &metas };
        invoke(&instruction, [self.to], signers);
        Ok(())
    }
}

/// Checks that `account` is the System program (its address is all zeroes).
#[inline(always)]
pub fn check_system_program<E: CommonErrors>(account: &AccountView) -> Result<(), E> {
    if !is_zero32(keys::key(account)) {
        return Err(E::PROGRAM_ID_INVALID);
    }
    Ok(())
}
