//! The JSON-RPC fast path: a body that is one plain `sendTransaction` request is decoded
//! here, off the event loop (the transaction's bytes, its signature check, what to echo as
//! the id). Anything else, or anything this is unsure of, goes to Python's JSON-RPC handler
//! (localnet/rpc/methods.py) unchanged, which answers it as it always has: this never answers an
//! error itself, so every error message stays rpc.py's.
//!
//! "Unsure" is deliberately wide: an id that Python would re-encode differently than its
//! text (escapes, `-0`, floats), a duplicate field, an encoding or skipPreflight value that
//! is not the plain one, base64 with non-canonical padding, a transaction over the size
//! limits. Those are rare and answered correctly, only more slowly.

use serde::Deserialize;
use serde_json::value::RawValue;

/// What Python needs to run a recognized sendTransaction.
pub struct Send {
    /// The request's id as JSON text, echoed as is in the answer (`null` when absent).
    pub id: Vec<u8>,
    /// The transaction's wire bytes, decoded from base58 or base64.
    pub raw: Vec<u8>,
    /// Its first signature in base58 (None when it has none, or does not parse).
    pub signature: Option<String>,
    /// Whether every signature verifies (lib.rs's `verify_wire`: the localnet's sigverify).
    pub verified: bool,
    pub skip_preflight: bool,
    /// The config object's JSON text, for the preflight (None when skipped or absent).
    pub config: Option<Vec<u8>>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Config<'a> {
    #[serde(borrow)]
    encoding: Option<&'a RawValue>,
    #[serde(borrow)]
    skipPreflight: Option<&'a RawValue>,
}

// rpc.py's limits on the encoded transaction (agave's): longer strings get its error text.
const MAX_BASE58: usize = 1683;
const MAX_BASE64: usize = 1644;

/// The body as a sendTransaction to run, or None: Python handles it.
pub fn recognize(body: &[u8]) -> Option<Send> {
    let request: Request = serde_json::from_slice(body).ok()?;
    if request.jsonrpc?.get() != "\"2.0\"" || request.method?.get() != "\"sendTransaction\"" {
        return None;
    }
    let id = match request.id {
        None => b"null".to_vec(),
        Some(id) if echoes_as_is(id.get()) => id.get().as_bytes().to_vec(),
        Some(_) => return None,
    };
    let params: Vec<&RawValue> = serde_json::from_str(request.params?.get()).ok()?;
    if params.is_empty() || params.len() > 2 {
        return None;
    }
    let data: String = serde_json::from_str(params[0].get()).ok()?;
    let (mut base64, mut skip_preflight, mut config) = (false, false, None);
    if let Some(raw_config) = params.get(1).filter(|c| c.get() != "null") {
        let parsed: Config = serde_json::from_str(raw_config.get()).ok()?;
        base64 = match parsed.encoding.map(RawValue::get) {
            None | Some("null") | Some("\"base58\"") => false,
            Some("\"base64\"") => true,
            Some(_) => return None,
        };
        skip_preflight = match parsed.skipPreflight.map(RawValue::get) {
            None | Some("null") | Some("false") => false,
            Some("true") => true,
            Some(_) => return None, // Python's truthiness of other values: its call
        };
        if !skip_preflight {
            config = Some(raw_config.get().as_bytes().to_vec());
        }
    }
    let raw = if base64 {
        if data.len() > MAX_BASE64 {
            return None;
        }
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&data)
            .ok()?
    } else {
        if data.len() > MAX_BASE58 {
            return None;
        }
        bs58::decode(&data).into_vec().ok()?
    };
    let verified = crate::verify_wire(&raw);
    let signature = crate::wire::parse(&raw)
        .and_then(|tx| tx.signatures.get(..64))
        .map(|first| bs58::encode(first).into_string());
    Some(Send {
        id,
        raw,
        signature,
        verified,
        skip_preflight,
        config,
    })
}

/// Whether Python's json module would write this id back as the same text: null, an
/// integer without sign tricks, or a string of printable ASCII without escapes.
fn echoes_as_is(id: &str) -> bool {
    let bytes = id.as_bytes();
    if id == "null" {
        return true;
    }
    if let Some(inner) = id.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return inner
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    }
    let digits = id.strip_prefix('-').unwrap_or(id);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && bytes[0] != b'-' || !digits.starts_with('0'))
}
