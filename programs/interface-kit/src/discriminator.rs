//! Anchor's 8-byte discriminators, computed at compile time.

use sha2_const_stable::Sha256;

/// `sha256("<namespace>:<name>")[..8]`: Anchor's rule for instructions (`global`),
/// accounts (`account`) and events (`event`).
pub const fn sighash(namespace: &str, name: &str) -> [u8; 8] {
    let digest = Sha256::new()
        .update(namespace.as_bytes())
        .update(b":")
        .update(name.as_bytes())
        .finalize();
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        out[i] = digest[i];
        i += 1;
    }
    out
}

/// An account type: a layout that starts with its discriminator.
pub trait Discriminator {
    const DISCRIMINATOR: [u8; 8];
}
