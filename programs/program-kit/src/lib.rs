//! What every crowdcompute program's processor shares, once: cheap address comparisons
//! (`keys`), Anchor-compatible events (`events`), CPIs without pinocchio's per-account
//! re-checks (`cpi`), System account creation (`system`), the Clock and Rent sysvars
//! (`sysvars`) and SPL Token's account checks and CPIs (`token`). Each program's `shared`
//! module re-exports these under the same names and maps the kit's errors to its own codes.

#![no_std]

pub mod cpi;
pub mod events;
pub mod keys;
pub mod system;
pub mod sysvars;
pub mod token;

/// Re-exported for `sbf_entrypoint!`, so programs need not name it themselves.
#[doc(hidden)]
pub use pinocchio as __pinocchio;

/// A program's SBF entrypoint: pinocchio's entrypoint (at most `$max_accounts` accounts are
/// parsed; more are ignored), no allocator, `crate::processor::dispatch` on a
/// `crate::processor::Context`, a failure's name logged once (`$errors::log_line`, made by
/// interface-kit's `errors!`), and a panic handler that logs `$label` with the line and
/// column: pinocchio's `nostd_panic_handler!` reads the file name through a pointer in a
/// static, which SBF built by the upstream route does not relocate (docs/toolchain.md,
/// pitfall 5). Compiled only for SBF; host builds (tests of the interface) skip it.
#[macro_export]
macro_rules! sbf_entrypoint {
    (label: $label:literal, max_accounts: $max:literal, errors: $errors:path) => {
        #[cfg(any(target_os = "solana", target_arch = "bpf"))]
        mod entrypoint {
            use $crate::__pinocchio::{no_allocator, program_entrypoint, AccountView, Address, ProgramResult};

            program_entrypoint!(process_instruction, $max);
            no_allocator!();

            fn process_instruction(program_id: &Address, accounts: &mut [AccountView], instruction_data: &[u8]) -> ProgramResult {
                let context = crate::processor::Context { program_id, accounts, data: instruction_data };
                let result = crate::processor::dispatch(&context);
                if let Err(error) = &result {
                    log_error(error);
                }
                result
            }

            /// Logs the program's own error once, by name (`log_line`), as p-token and
            /// Anchor do; out of line and cold, so a success pays one branch.
            #[cold]
            #[inline(never)]
            fn log_error(error: &$crate::__pinocchio::error::ProgramError) {
                if let $crate::__pinocchio::error::ProgramError::Custom(code) = error {
                    if let Some(line) = <$errors>::log_line(*code) {
                        // SAFETY: `line` is a valid byte string for the call.
                        unsafe { $crate::__pinocchio::syscalls::sol_log_(line.as_ptr(), line.len() as u64) }
                    }
                }
            }

            #[panic_handler]
            fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
                const LABEL: &[u8] = $label;
                let (line, column) = match info.location() {
                    Some(location) => (location.line() as u64, location.column() as u64),
                    None => (0, 0),
                };
                // SAFETY: LABEL is a valid byte string; sol_panic_ never returns.
                unsafe { $crate::__pinocchio::syscalls::sol_panic_(LABEL.as_ptr(), LABEL.len() as u64, line, column) }
            }
        }
    };
}
