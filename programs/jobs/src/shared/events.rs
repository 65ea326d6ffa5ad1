//! Anchor-compatible events: one `sol_log_data` of discriminator + borsh bytes.

use jobs_interface::discriminator::Discriminator;
use jobs_interface::pod::Layout;

const BUFFER: usize = 256;

#[inline(always)]
pub fn emit<E: Layout + Discriminator>(event: &E) {
    const { assert!(8 + E::LEN <= BUFFER) };
    let mut buffer = [0u8; BUFFER];
    buffer[..8].copy_from_slice(&E::DISCRIMINATOR);
    buffer[8..8 + E::LEN].copy_from_slice(event.as_bytes());
    let data: [&[u8]; 1] = [&buffer[..8 + E::LEN]];
    #[cfg(any(target_os = "solana", target_arch = "bpf"))]
    // SAFETY: `data` is an array of one slice, the layout sol_log_data reads.
    unsafe {
        pinocchio::syscalls::sol_log_data(data.as_ptr() as *const u8, data.len() as u64)
    };
    #[cfg(not(any(target_os = "solana", target_arch = "bpf")))]
    let _ = data;
}
