//! Test-only program: forwards a slash to the staking program by CPI, signed by one of its
//! own PDAs. Instruction data: `[seed: u8][amount: u64][bounty: u64]`, seed 0 signs as
//! ["slasher"] (what a config's slasher program does), seed 1 as ["impostor"] (another PDA
//! of the same program). Accounts: staking program, the signing PDA, then slash's accounts
//! after its signer (config, stake, vault, destination, bounty_to, token program).
#![no_std]

#[cfg(any(target_os = "solana", target_arch = "bpf"))]
mod entrypoint {
    use pinocchio::cpi::{invoke_signed, Seed, Signer};
    use pinocchio::error::ProgramError;
    use pinocchio::instruction::{InstructionAccount, InstructionView};
    use pinocchio::{no_allocator, program_entrypoint, AccountView, Address, ProgramResult};
    use staking_interface::instruction::slash;
    use staking_interface::pod::PodU64;

    program_entrypoint!(process_instruction, 8);
    no_allocator!();

    fn process_instruction(program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
        let [staking, signer, config, stake, vault, destination, bounty_to, token_program, ..] = accounts else {
            return Err(ProgramError::NotEnoughAccountKeys);
        };
        let (Some(&seed), Some(amount), Some(bounty)) = (data.first(), data.get(1..9), data.get(9..17)) else {
            return Err(ProgramError::InvalidInstructionData);
        };
        // Seeds copied to the stack (a pointer held in a static is not relocated on SBF).
        let slasher: [u8; 7] = *b"slasher";
        let impostor: [u8; 8] = *b"impostor";
        let seed: &[u8] = if seed == 0 { &slasher } else { &impostor };
        let (_, bump) = Address::find_program_address(&[seed], program_id);
        let amount = u64::from_le_bytes(amount.try_into().map_err(|_| ProgramError::InvalidInstructionData)?);
        let bounty = u64::from_le_bytes(bounty.try_into().map_err(|_| ProgramError::InvalidInstructionData)?);
        let data = slash::Args { amount: PodU64::new(amount), bounty: PodU64::new(bounty) }.pack();
        let metas = [
            InstructionAccount::readonly_signer(signer.address()),
            InstructionAccount::writable(config.address()),
            InstructionAccount::writable(stake.address()),
            InstructionAccount::writable(vault.address()),
            InstructionAccount::writable(destination.address()),
            InstructionAccount::writable(bounty_to.address()),
            InstructionAccount::readonly(token_program.address()),
        ];
        let instruction = InstructionView { program_id: staking.address(), data: &data, accounts: &metas };
        let bump = [bump];
        let seeds = [Seed::from(seed), Seed::from(&bump)];
        invoke_signed(&instruction, &[&*signer, &*config, &*stake, &*vault, &*destination, &*bounty_to, &*token_program], &[Signer::from(&seeds)])
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        const LABEL: &[u8] = b"slash-probe: panic";
        // SAFETY: LABEL is a valid byte string; sol_panic_ never returns.
        unsafe { pinocchio::syscalls::sol_panic_(LABEL.as_ptr(), LABEL.len() as u64, 0, 0) }
    }
}
