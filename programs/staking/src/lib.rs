//! crowdcompute staking program: stakes locked with a time multiplier, a linear unlock,
//! slashing by the authority or one slasher program, and fees shared by weight.
//! `#![no_std]` on pinocchio, built for SBF by the upstream BPF route (docs/toolchain.md).
//! Layouts, errors, events and the math live in `staking-interface`.
#![no_std]

pub mod processor;
pub mod shared;

#[cfg(any(target_os = "solana", target_arch = "bpf"))]
mod entrypoint {
    use pinocchio::{no_allocator, program_entrypoint, AccountView, Address, ProgramResult};

    // Instructions take at most 9 accounts; more are ignored by the entrypoint.
    program_entrypoint!(process_instruction, 16);
    no_allocator!();

    fn process_instruction(
        program_id: &Address,
        accounts: &mut [AccountView],
        instruction_data: &[u8],
    ) -> ProgramResult {
        let context = crate::processor::Context { program_id, accounts, data: instruction_data };
        crate::processor::dispatch(&context)
    }

    /// pinocchio's `nostd_panic_handler!` reads the file name through a pointer in a static,
    /// which SBF built this way does not relocate (docs/toolchain.md, pitfall 5): log a fixed
    /// label with the line and column instead.
    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        const LABEL: &[u8] = b"staking: panic";
        let (line, column) = match info.location() {
            Some(location) => (location.line() as u64, location.column() as u64),
            None => (0, 0),
        };
        // SAFETY: LABEL is a valid byte string; sol_panic_ never returns.
        unsafe { pinocchio::syscalls::sol_panic_(LABEL.as_ptr(), LABEL.len() as u64, line, column) }
    }
}
