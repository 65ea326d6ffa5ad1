//! SPL Token: the account checks and the CPIs (Transfer, InitializeAccount3, CloseAccount)
//! every program makes. Refusals are the program's own codes (interface-kit's
//! `CommonErrors`, a constant returned where each check fails: a mapping applied
//! afterwards joined the failure paths and cost close_market a unit, scripts/bench_cu.py).
//!
//! Only SPL Token is accepted: Token-2022 mints are refused by name (their transfer fees
//! and hooks would break exact accounting; docs/architecture.md).

use crate::cpi::invoke;
use crate::keys;
use interface_kit::errors::CommonErrors;
use interface_kit::pod::eq32;
use pinocchio::cpi::{Seed, Signer};
use pinocchio::instruction::{InstructionAccount, InstructionView};
use pinocchio::{AccountView, Address, ProgramResult};

/// The SPL Token program.
pub const TOKEN_PROGRAM_ID: Address = Address::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// Token-2022: named only to refuse its mints with their own error.
pub const TOKEN_2022_PROGRAM_ID: Address = Address::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// SPL Token account: mint 0..32, owner 32..64, amount 64..72, state at 108.
pub const TOKEN_ACCOUNT_LEN: usize = 165;
/// SPL Token mint: is_initialized at 45.
pub const MINT_LEN: usize = 82;

/// Where a token account's state byte is (0 uninitialised, 1 initialised, 2 frozen).
pub const TOKEN_STATE_OFFSET: usize = 108;

const TRANSFER: u8 = 3;
const CLOSE_ACCOUNT: u8 = 9;
const INITIALIZE_ACCOUNT_3: u8 = 18;

#[inline(always)]
pub fn check_token_program<E: CommonErrors>(account: &AccountView) -> Result<(), E> {
    if !keys::is(account, &TOKEN_PROGRAM_ID) {
        return Err(E::PROGRAM_ID_INVALID);
    }
    Ok(())
}

/// Checks that `mint` is an initialised SPL Token mint.
#[inline(always)]
pub fn check_mint<E: CommonErrors>(mint: &AccountView) -> Result<(), E> {
    if keys::owned_by(mint, &TOKEN_2022_PROGRAM_ID) {
        return Err(E::MINT_NOT_SPL_TOKEN);
    }
    if !keys::owned_by(mint, &TOKEN_PROGRAM_ID) || mint.data_len() != MINT_LEN {
        return Err(E::MINT_INVALID);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { mint.borrow_unchecked() };
    if data[45] != 1 {
        return Err(E::MINT_INVALID);
    }
    Ok(())
}

/// Checks that `account` is an initialised (or frozen) SPL Token account of `mint` owned
/// by `owner` (`None`: any owner), and returns its balance (free where it is not used:
/// every caller inlines this). The rule for every account a program pays into, whatever the
/// amount: a zero payout makes no transfer, so SPL Token would check nothing.
#[inline(always)]
pub fn check_token_account<E: CommonErrors>(
    account: &AccountView,
    mint: &[u8; 32],
    owner: Option<&[u8; 32]>,
) -> Result<u64, E> {
    let data = token_account_data::<E>(account)?;
    let (account_mint, rest) = data.split_first_chunk::<32>().ok_or(E::TOKEN_ACCOUNT_INVALID)?;
    let account_owner = rest.first_chunk::<32>().ok_or(E::TOKEN_ACCOUNT_INVALID)?;
    if !eq32(account_mint, mint) {
        return Err(E::TOKEN_MINT_MISMATCH);
    }
    if let Some(owner) = owner {
        if !eq32(account_owner, owner) {
            return Err(E::TOKEN_OWNER_MISMATCH);
        }
    }
    Ok(u64::from_le_bytes([data[64], data[65], data[66], data[67], data[68], data[69], data[70], data[71]]))
}

/// Checks that `account` is an initialised (or frozen) SPL Token account owned by `owner`,
/// whatever its mint: for an account the program only takes from, where SPL Token itself
/// refuses a transfer between different mints.
#[inline(always)]
pub fn check_token_owner<E: CommonErrors>(account: &AccountView, owner: &[u8; 32]) -> Result<(), E> {
    let data = token_account_data::<E>(account)?;
    let account_owner = data[32..].first_chunk::<32>().ok_or(E::TOKEN_ACCOUNT_INVALID)?;
    if !eq32(account_owner, owner) {
        return Err(E::TOKEN_OWNER_MISMATCH);
    }
    Ok(())
}

/// The data of an SPL Token account that is initialised (or frozen).
#[inline(always)]
fn token_account_data<'a, E: CommonErrors>(account: &'a AccountView) -> Result<&'a [u8], E> {
    if !keys::owned_by(account, &TOKEN_PROGRAM_ID) || account.data_len() != TOKEN_ACCOUNT_LEN {
        return Err(E::TOKEN_ACCOUNT_INVALID);
    }
    // SAFETY: read-only view of a token-program account; nothing else borrows it.
    let data = unsafe { account.borrow_unchecked() };
    if data[TOKEN_STATE_OFFSET] == 0 {
        return Err(E::TOKEN_ACCOUNT_INVALID);
    }
    Ok(data)
}

/// The seeds of a PDA that signs a token CPI, bump last. Each program names its own PDAs
/// (their seeds are part of its interface); the CPIs below take any of them.
pub trait PdaSigner {
    fn seeds(&self) -> impl AsRef<[Seed<'_>]>;
}

/// A token transfer of `amount` (skipped when zero), signed by the PDA `pda` when given
/// (then `authority` is the account that PDA derives, usually `from` itself), else by
/// `authority` as a signer of the transaction or of the calling program.
pub struct Transfer<'a, S: PdaSigner> {
    pub from: &'a AccountView,
    pub to: &'a AccountView,
    pub authority: &'a AccountView,
    pub amount: u64,
    pub pda: Option<&'a S>,
}

impl<S: PdaSigner> Transfer<'_, S> {
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
                invoke(&instruction, accounts, &[Signer::from(seeds.as_ref())]);
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

/// CloseAccount of a token account that is its own authority (a PDA signed by `pda`):
/// its rent goes to `destination`.
#[inline(always)]
pub fn close_account(account: &AccountView, destination: &AccountView, pda: &impl PdaSigner) -> ProgramResult {
    let data = [CLOSE_ACCOUNT];
    let metas = [
        InstructionAccount::writable(account.address()),
        InstructionAccount::writable(destination.address()),
        InstructionAccount::readonly_signer(account.address()),
    ];
    let instruction = InstructionView { program_id: &TOKEN_PROGRAM_ID, data: &data, accounts: &metas };
    let seeds = pda.seeds();
    invoke(&instruction, [account, destination, account], &[Signer::from(seeds.as_ref())]);
    Ok(())
}
