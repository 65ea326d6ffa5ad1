//! SPL Token: account checks and the CPIs the program makes.

use super::cpi::invoke;
use super::keys;
use pinocchio::cpi::{Seed, Signer};
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::{AccountView, Address, ProgramResult};
use staking_interface::error::StakingError;
use staking_interface::pod::eq32;

/// The SPL Token program. Token-2022 is refused (as by the jobs program: transfer fees and
/// hooks would break exact accounting).
pub const TOKEN_PROGRAM_ID: Address = Address::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022_PROGRAM_ID: Address = Address::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// SPL Token account: mint 0..32, owner 32..64, amount 64..72, state at 108.
pub const TOKEN_ACCOUNT_LEN: usize = 165;
/// SPL Token mint: is_initialized at 45.
pub const MINT_LEN: usize = 82;

const TRANSFER: u8 = 3;
const INITIALIZE_ACCOUNT_3: u8 = 18;

#[inline(always)]
pub fn check_token_program(account: &AccountView) -> Result<(), StakingError> {
    if !keys::is(account, &TOKEN_PROGRAM_ID) {
        return Err(StakingError::ProgramIdInvalid);
    }
    Ok(())
}

/// Checks that `mint` is an initialised SPL Token mint.
#[inline(always)]
pub fn check_mint(mint: &AccountView) -> Result<(), StakingError> {
    if keys::owned_by(mint, &TOKEN_2022_PROGRAM_ID) {
        return Err(StakingError::MintNotSplToken);
    }
    if !keys::owned_by(mint, &TOKEN_PROGRAM_ID) || mint.data_len() != MINT_LEN {
        return Err(StakingError::MintInvalid);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { mint.borrow_unchecked() };
    if data[45] != 1 {
        return Err(StakingError::MintInvalid);
    }
    Ok(())
}

/// Checks that `account` is an initialised SPL Token account of `mint` owned by `owner`
/// (`None`: any owner): the rule for every account the program pays into, whatever the
/// amount (a zero payout makes no transfer, so SPL Token would check nothing).
#[inline(always)]
pub fn check_token_account(account: &AccountView, mint: &[u8; 32], owner: Option<&[u8; 32]>) -> Result<(), StakingError> {
    if !keys::owned_by(account, &TOKEN_PROGRAM_ID) || account.data_len() != TOKEN_ACCOUNT_LEN {
        return Err(StakingError::TokenAccountInvalid);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { account.borrow_unchecked() };
    if data[108] == 0 {
        return Err(StakingError::TokenAccountInvalid);
    }
    let (account_mint, rest) = data.split_first_chunk::<32>().ok_or(StakingError::TokenAccountInvalid)?;
    let account_owner = rest.first_chunk::<32>().ok_or(StakingError::TokenAccountInvalid)?;
    if !eq32(account_mint, mint) {
        return Err(StakingError::TokenMintMismatch);
    }
    if let Some(owner) = owner {
        if !eq32(account_owner, owner) {
            return Err(StakingError::TokenOwnerMismatch);
        }
    }
    Ok(())
}

/// The signer seeds of a token account that is its own PDA: [prefix, config, bump]
/// (the vault and the rewards pool).
pub struct PdaSeeds<'a> {
    pub prefix: &'static [u8],
    pub config: &'a Address,
    pub bump: [u8; 1],
}

impl PdaSeeds<'_> {
    #[inline(always)]
    pub fn seeds(&self) -> [Seed<'_>; 3] {
        [Seed::from(self.prefix), Seed::from(self.config.as_ref()), Seed::from(&self.bump)]
    }
}

/// A token transfer of `amount` (skipped when zero), signed by the PDA `pda` when given
/// (then `authority` is that PDA's token account itself), else by `authority` as a
/// signer of the transaction or of the calling program.
pub struct Transfer<'a> {
    pub from: &'a AccountView,
    pub to: &'a AccountView,
    pub authority: &'a AccountView,
    pub amount: u64,
    pub pda: Option<&'a PdaSeeds<'a>>,
}

impl Transfer<'_> {
    #[inline(always)]
    pub fn invoke(&self) -> ProgramResult {
        if self.amount == 0 {
            return Ok(());
        }
        let mut data = [0u8; 9];
        data[0] = TRANSFER;
        data[1..9].copy_from_slice(&self.amount.to_le_bytes());
        let metas = [
            InstructionAccount::writable(self.from.address()),
            InstructionAccount::writable(self.to.address()),
            InstructionAccount::readonly_signer(self.authority.address()),
        ];
        let instruction = InstructionView { program_id: &TOKEN_PROGRAM_ID, data: &data, accounts: &metas };
        let accounts = [self.from, self.to, self.authority];
        match self.pda {
            Some(pda) => {
                let seeds = pda.seeds();
                invoke(&instruction, accounts, &[Signer::from(&seeds)]);
            }
            None => invoke(&instruction, accounts, &[]),
        }
        Ok(())
    }
}

/// InitializeAccount3: makes `account` a token account of `mint` owned by `owner`.
#[inline(always)]
pub fn initialize_account(account: &AccountView, mint: &AccountView, owner: &Address) -> ProgramResult {
    let mut data = [0u8; 33];
    data[0] = INITIALIZE_ACCOUNT_3;
    data[1..33].copy_from_slice(owner.as_ref());
    let metas = [InstructionAccount::writable(account.address()), InstructionAccount::readonly(mint.address())];
    let instruction = InstructionView { program_id: &TOKEN_PROGRAM_ID, data: &data, accounts: &metas };
    invoke(&instruction, [account, mint], &[]);
    Ok(())
}
