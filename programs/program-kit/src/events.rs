//! Anchor-compatible events: one `sol_log_data` of discriminator + borsh bytes.

use interface_kit::discriminator::Discriminator;
use interface_kit::pod::Layout;

/// An event with its discriminator in front: its bytes are exactly what Anchor logs.
#[repr(C)]
struct Envelope<E> {
    discriminator: [u8; 8],
    event: E,
}

/// Logs `event`. Taken by value and wrapped in place, so it is built once, in the buffer
/// that is logged (the log syscall costs 200 units plus one per byte).
#[inline(always)]
pub fn emit<E: Layout + Discriminator>(event: E) {
    let envelope = Envelope { discriminator: E::DISCRIMINATOR, event };
    let len = 8 + E::LEN;
    // SAFETY: `Envelope` is repr(C) of an 8-byte array and an alignment-1 layout: no
    // padding, `len` initialised bytes.
    let bytes = unsafe { core::slice::from_raw_parts(&envelope as *const Envelope<E> as *const u8, len) };
    let data: [&[u8]; 1] = [bytes];
    #[cfg(any(target_os = "solana", target_arch = "bpf"))]
    // SAFETY: `data` is an array of one slice, the layout sol_log_data reads.
    unsafe {
        pinocchio::syscalls::sol_log_data(data.as_ptr() as *const u8, data.len() as u64)
    };
    #[cfg(not(any(target_os = "solana", target_arch = "bpf")))]
    let _ = data;
}
