//! Test-only program: forwards one staking instruction by CPI, signed by one of its own
//! PDAs, as a config's slasher program does (slash, lock, unlock). Instruction data:
//! `[seed: u8]` then the staking instruction's own data (discriminator and arguments);
//! seed 0 signs as ["slasher"], seed 1 as ["impostor"] (another PDA of the same program).
//! Accounts: the staking program, the signing PDA (the forwarded instruction's first
//! account, its signer), then the rest of its accounts in order, with the flags they
//! arrive with (2, 3 or 7 of them: unlock, lock, slash).
#![no_std]

#[cfg(any(target_os = "solana", target_arch = "bpf"))]
mod entrypoint {
    use pinocchio::cpi::{invoke_signed, Seed, Signer};
    use pinocchio::error::ProgramError;
    use pinocchio::instruction::{InstructionAccount, InstructionView};
    use pinocchio::{no_allocator, program_entrypoint, AccountView, Address, ProgramResult};

    program_entrypoint!(process_instruction, 9);
    no_allocator!();

    fn process_instruction(program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
        let [staking, forwarded @ ..] = accounts else {
            return Err(ProgramError::NotEnoughAccountKeys);
        };
        let Some((&seed, staking_data)) = data.split_first() else {
            return Err(ProgramError::InvalidInstructionData);
        };
        // Seeds copied to the stack (a pointer held in a static is not relocated on SBF).
        let slasher: [u8; 7] = *b"slasher";
        let impostor: [u8; 8] = *b"impostor";
        let seed: &[u8] = if seed == 0 { &slasher } else { &impostor };
        let (_, bump) = Address::find_program_address(&[seed], program_id);
        let bump = [bump];
        let seeds = [Seed::from(seed), Seed::from(&bump)];
        let signer = [Signer::from(&seeds)];
        // One arm per arity of the instructions a slasher sends: unlock (2), lock (3),
        // slash (7).
        match forwarded {
            [a, b] => forward(staking, staking_data, [&*a, &*b], &signer),
            [a, b, c] => forward(staking, staking_data, [&*a, &*b, &*c], &signer),
            [a, b, c, d, e, f, g] => forward(staking, staking_data, [&*a, &*b, &*c, &*d, &*e, &*f, &*g], &signer),
            _ => Err(ProgramError::NotEnoughAccountKeys),
        }
    }

    /// Invokes the staking program with `accounts` (the first one signing through the seeds),
    /// each with the writability it arrived with.
    fn forward<const N: usize>(staking: &AccountView, data: &[u8], accounts: [&AccountView; N], signer: &[Signer]) -> ProgramResult {
        let metas: [InstructionAccount; N] = core::array::from_fn(|index| {
            let account = accounts[index];
            if index == 0 {
                InstructionAccount::readonly_signer(account.address())
            } else if account.is_writable() {
                InstructionAccount::writable(account.address())
            } else {
                InstructionAccount::readonly(account.address())
            }
        });
        let instruction = InstructionView { program_id: staking.address(), data, accounts: &metas };
        invoke_signed(&instruction, &accounts, signer)
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        const LABEL: &[u8] = b"slash-probe: panic";
        // SAFETY: LABEL is a valid byte string; sol_panic_ never returns.
        unsafe { pinocchio::syscalls::sol_panic_(LABEL.as_ptr(), LABEL.len() as u64, 0, 0) }
    }
}
