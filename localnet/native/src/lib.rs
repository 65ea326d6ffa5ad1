//! crowdcompute.localnet._native: the localnet's signature check of whole batches of wire
//! transactions, with the GIL released (localnet/runtime/verifier.py runs it on a thread of its own),
//! and the JSON-RPC port's native front end (front.rs: HTTP, sendTransaction's decoding and
//! signature check on threads that never hold the GIL).
//!
//! The verdict of a transaction is the one localnet/runtime/sigverify.py gives with solders (which
//! uses ed25519-dalek 1's `verify_strict`): as many signatures as the header requires, and
//! signature i verifies under static account key i over the message bytes, with
//! `verify_strict`: S canonical, neither R nor the key of small order, and R recomputed
//! exactly. Not batch verification: it is cofactored and accepts signatures this refuses.
//! Stricter than solders on one point: a transaction with fewer static keys than required
//! signatures is 0 (solders checks only the pairs it has; sanitization refuses it anyway).
//! One difference no one can use: ed25519-dalek 1 compares R as points, 2 as bytes, so 1
//! would also take a non-canonical encoding of R (y >= p); such a y is below 19, and signing
//! with that R needs its discrete logarithm, so no such signature can be made.

mod fast_send;
mod front;
mod http;
mod server;
mod wire;

use ed25519_dalek::{Signature, VerifyingKey};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Whether every signature of the wire transaction `raw` verifies (see the module doc);
/// false for anything that does not parse.
pub fn verify_wire(raw: &[u8]) -> bool {
    let Some(tx) = wire::parse(raw) else {
        return false;
    };
    let n = tx.num_required_signatures;
    if tx.signatures.len() != n * 64 || tx.keys.len() < n * 32 {
        return false;
    }
    tx.signatures
        .chunks_exact(64)
        .zip(tx.keys.chunks_exact(32))
        .all(|(signature, key)| {
            let key: &[u8; 32] = key.try_into().expect("32-byte chunk");
            let signature: &[u8; 64] = signature.try_into().expect("64-byte chunk");
            match VerifyingKey::from_bytes(key) {
                Ok(key) => key
                    .verify_strict(tx.message, &Signature::from_bytes(signature))
                    .is_ok(),
                Err(_) => false, // not a point
            }
        })
}

/// One byte per transaction of `raws` (wire bytes): 1 when all its signatures verify, else 0.
/// The GIL is released for the whole batch.
#[pyfunction]
fn verify_batch<'py>(py: Python<'py>, raws: Vec<Bound<'py, PyBytes>>) -> Bound<'py, PyBytes> {
    // bytes objects are immutable and `raws` holds them: their buffers outlive the release.
    let slices: Vec<&[u8]> = raws.iter().map(|raw| raw.as_bytes()).collect();
    let verdicts: Vec<u8> = py.allow_threads(|| {
        slices
            .iter()
            .map(|raw| u8::from(verify_wire(raw)))
            .collect()
    });
    PyBytes::new(py, &verdicts)
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(verify_batch, module)?)?;
    module.add_class::<front::Frontend>()
}
