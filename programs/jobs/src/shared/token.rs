//! SPL Token: account checks and the three CPIs the program makes.

use super::keys;
use jobs_interface::error::JobsError;
use jobs_interface::pod::eq32;
use super::cpi::invoke;
use pinocchio::cpi::{Seed, Signer};
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::{AccountView, Address, ProgramResult};

/// The SPL Token program. Token-2022 is refused (docs/architecture.md says why).
pub const TOKEN_PROGRAM_ID: Address = Address::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022_PROGRAM_ID: Address = Address::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// SPL Token account: mint 0..32, owner 32..64, amount 64..72, state at 108.
pub const TOKEN_ACCOUNT_LEN: usize = 165;
/// SPL Token mint: is_initialized at 45.
pub const MINT_LEN: usize = 82;

const TRANSFER: u8 = 3;
const CLOSE_ACCOUNT: u8 = 9;
const INITIALIZE_ACCOUNT_3: u8 = 18;

#[inline(always)]
pub fn check_token_program(account: &AccountView) -> Result<(), JobsError> {
    if !keys::is(account, &TOKEN_PROGRAM_ID) {
        return Err(JobsError::ProgramIdInvalid);
    }
    Ok(())
}

/// Checks that `mint` is an initialised SPL Token mint.
#[inline(always)]
pub fn check_mint(mint: &AccountView) -> Result<(), JobsError> {
    if keys::owned_by(mint, &TOKEN_2022_PROGRAM_ID) {
        return Err(JobsError::MintNotSplToken);
    }
    if !keys::owned_by(mint, &TOKEN_PROGRAM_ID) || mint.data_len() != MINT_LEN {
        return Err(JobsError::MintInvalid);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { mint.borrow_unchecked() };
    if data[45] != 1 {
        return Err(JobsError::MintInvalid);
    }
    Ok(())
}

/// Checks that `account` is an initialised SPL Token account of `mint` owned by `owner`:
/// the rule for every account the vault pays into, whatever the amount (a zero payout makes
/// no transfer, so SPL Token would check nothing).
#[inline(always)]
pub fn check_payee(account: &AccountView, mint: &[u8; 32], owner: &[u8; 32]) -> Result<(), JobsError> {
    token_account_data(account, mint, owner).map(|_| ())
}

/// Like `check_payee`, and returns the account's balance.
#[inline(always)]
pub fn check_token_account(account: &AccountView, mint: &[u8; 32], owner: &[u8; 32]) -> Result<u64, JobsError> {
    let data = token_account_data(account, mint, owner)?;
    Ok(u64::from_le_bytes([data[64], data[65], data[66], data[67], data[68], data[69], data[70], data[71]]))
}

#[inline(always)]
fn token_account_data<'a>(account: &'a AccountView, mint: &[u8; 32], owner: &[u8; 32]) -> Result<&'a [u8], JobsError> {
    if !keys::owned_by(account, &TOKEN_PROGRAM_ID) || account.data_len() != TOKEN_ACCOUNT_LEN {
        return Err(JobsError::TokenAccountInvalid);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { account.borrow_unchecked() };
    if data[108] == 0 {
        return Err(JobsError::TokenAccountInvalid);
    }
    let (account_mint, rest) = data.split_first_chunk::<32>().ok_or(JobsError::TokenAccountInvalid)?;
    let account_owner = rest.first_chunk::<32>().ok_or(JobsError::TokenAccountInvalid)?;
    if !eq32(account_mint, mint) {
        return Err(JobsError::TokenMintMismatch);
    }
    if !eq32(account_owner, owner) {
        return Err(JobsError::TokenOwnerMismatch);
    }
    Ok(data)
}

/// Checks that the token account a deposit comes from belongs to `owner` (so refunds
/// return to whoever paid, not to a delegate).
///
/// Its mint is not compared here: SPL Token refuses a transfer between accounts of
/// different mints, and the vault holds the market's mint, so an account of another mint
/// fails the transfer and the transaction with it (a zero deposit moves nothing, so
/// nothing needs checking). Payees are checked by `check_payee`.
#[inline(always)]
pub fn check_token_owner(account: &AccountView, owner: &[u8; 32]) -> Result<(), JobsError> {
    if !keys::owned_by(account, &TOKEN_PROGRAM_ID) || account.data_len() != TOKEN_ACCOUNT_LEN {
        return Err(JobsError::TokenAccountInvalid);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { account.borrow_unchecked() };
    if data[108] == 0 {
        return Err(JobsError::TokenAccountInvalid);
    }
    let account_owner = data[32..].first_chunk::<32>().ok_or(JobsError::TokenAccountInvalid)?;
    if !eq32(account_owner, owner) {
        return Err(JobsError::TokenOwnerMismatch);
    }
    Ok(())
}

/// The market vault's signer seeds: ["vault", market, bump].
pub struct VaultSeeds<'a> {
    pub market: &'a Address,
    pub bump: [u8; 1],
}

impl VaultSeeds<'_> {
    #[inline(always)]
    pub fn seeds(&self) -> [Seed<'_>; 3] {
        [
            Seed::from(jobs_interface::seeds::VAULT),
            Seed::from(self.market.as_ref()),
            Seed::from(&self.bump),
        ]
    }
}

/// A token transfer of `amount` (skipped when zero), signed by the vault when `vault` is
/// given, else by `authority` as a transaction signer.
pub struct Transfer<'a> {
    pub from: &'a AccountView,
    pub to: &'a AccountView,
    pub authority: &'a AccountView,
    pub amount: u64,
    pub vault: Option<&'a VaultSeeds<'a>>,
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
        match self.vault {
            Some(vault) => {
                let seeds = vault.seeds();
                invoke(&instruction, accounts, &[Signer::from(&seeds)]);
                Ok(())
            }
            None => {
                invoke(&instruction, accounts, &[]);
                Ok(())
            }
        }
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

/// CloseAccount of the vault (signed by its seeds): rent to `destination`.
#[inline(always)]
pub fn close_vault(vault: &AccountView, destination: &AccountView, seeds: &VaultSeeds) -> ProgramResult {
    let data = [CLOSE_ACCOUNT];
    let metas = [
        InstructionAccount::writable(vault.address()),
        InstructionAccount::writable(destination.address()),
        InstructionAccount::readonly_signer(vault.address()),
    ];
    let instruction = InstructionView { program_id: &TOKEN_PROGRAM_ID, data: &data, accounts: &metas };
    let seeds = seeds.seeds();
    invoke(&instruction, [vault, destination, vault], &[Signer::from(&seeds)]);
    Ok(())
}
