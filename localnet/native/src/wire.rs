//! The parts of a wire transaction that its signature check needs, found without copying:
//! its signatures, its message's bytes (what each signer signed), its static account keys
//! and the header's count of required signatures.
//!
//! The format is the one solders (bincode + solana's short_vec) reads: a short_vec count of
//! 64-byte signatures, then a legacy message (its first byte, the header's
//! num_required_signatures, is below 0x80) or a versioned one (0x80 | version; only version
//! 0 exists). The whole message is walked, not just its keys, because what is signed is the
//! message as solders re-serializes it: exactly the bytes it parsed, so bytes after a complete
//! message are not part of it (solders ignores them too).

/// A parsed wire transaction, borrowing from its bytes.
pub struct Wire<'a> {
    /// `count * 64` bytes.
    pub signatures: &'a [u8],
    /// The static account keys, 32 bytes each.
    pub keys: &'a [u8],
    /// The serialized message: what every signature signs.
    pub message: &'a [u8],
    pub num_required_signatures: usize,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// solana's short_vec length (a u16 in 1-3 bytes, 7 bits each): refused, as solana
    /// refuses them, are a zero byte after the first (an alias of a shorter encoding), a third
    /// byte that continues, and a value above u16::MAX.
    fn short_vec(&mut self) -> Option<usize> {
        let mut value: u32 = 0;
        for nth in 0..3u32 {
            let byte = self.byte()?;
            if byte == 0 && nth > 0 {
                return None;
            }
            let done = byte & 0x80 == 0;
            if nth == 2 && !done {
                return None;
            }
            value |= u32::from(byte & 0x7f) << (7 * nth);
            if value > u32::from(u16::MAX) {
                return None;
            }
            if done {
                return Some(value as usize);
            }
        }
        None // unreachable: the third byte either ends the value or was refused
    }

    /// A short_vec of `size`-byte items, as one slice.
    fn items(&mut self, size: usize) -> Option<&'a [u8]> {
        let count = self.short_vec()?;
        self.take(count * size) // count <= u16::MAX: no overflow
    }
}

pub fn parse(raw: &[u8]) -> Option<Wire<'_>> {
    let mut r = Reader { buf: raw, pos: 0 };
    let signatures = r.items(64)?;
    let start = r.pos;
    let prefix = r.byte()?;
    let versioned = prefix & 0x80 != 0;
    let num_required_signatures = if versioned {
        if prefix & 0x7f != 0 {
            return None; // only version 0 exists (127 would be an off-chain message)
        }
        let header = r.take(3)?;
        header[0]
    } else {
        r.take(2)?; // the readonly counts
        prefix
    };
    let keys = r.items(32)?;
    r.take(32)?; // recent blockhash
    for _ in 0..r.short_vec()? {
        r.byte()?; // program id index
        r.items(1)?; // account indexes
        r.items(1)?; // data
    }
    if versioned {
        for _ in 0..r.short_vec()? {
            r.take(32)?; // the lookup table's address
            r.items(1)?; // writable indexes
            r.items(1)?; // readonly indexes
        }
    }
    Some(Wire {
        signatures,
        keys,
        message: &raw[start..r.pos],
        num_required_signatures: usize::from(num_required_signatures),
    })
}
