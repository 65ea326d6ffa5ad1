//! A node's profile URL: the rule set_node_profile enforces (and clients check first).
//!
//! A service job's poster reaches the node's containers through the node's own front door,
//! at the URL the node publishes in its profile (`state::NodeProfile`). The URL is hostile
//! input to every reader, so the program bounds it: at most `MAX_URL_LEN` bytes, printable
//! ASCII without spaces (no control bytes for a terminal or a log to interpret), an
//! `http://` or `https://` scheme followed by at least one byte, and zero padding after its
//! length (one encoding per URL, so "the same URL" is a byte comparison).

/// Most bytes of a node URL.
pub const MAX_URL_LEN: usize = 200;

const HTTP: &[u8] = b"http://";
const HTTPS: &[u8] = b"https://";

/// Whether `url` (all `MAX_URL_LEN` bytes) holds a valid URL in its first `len` bytes and
/// zeroes after them.
#[inline(always)]
pub fn url_is_valid(len: u8, url: &[u8; MAX_URL_LEN]) -> bool {
    let len = len as usize;
    if len > MAX_URL_LEN {
        return false;
    }
    let (text, padding) = url.split_at(len);
    let scheme = if text.starts_with(HTTPS) { HTTPS.len() } else if text.starts_with(HTTP) { HTTP.len() } else { return false };
    if text.len() <= scheme {
        return false;
    }
    // Printable ASCII without the space: 0x21 ('!') to 0x7e ('~').
    text.iter().all(|&byte| (0x21..=0x7e).contains(&byte)) && padding.iter().all(|&byte| byte == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(text: &[u8]) -> (u8, [u8; MAX_URL_LEN]) {
        let mut url = [0u8; MAX_URL_LEN];
        url[..text.len()].copy_from_slice(text);
        (text.len() as u8, url)
    }

    #[test]
    fn accepts_http_and_https_urls() {
        for text in [&b"http://a"[..], b"https://node.example:8443/path?q=1"] {
            let (len, url) = padded(text);
            assert!(url_is_valid(len, &url), "{:?}", text);
        }
        let mut long = [b'a'; MAX_URL_LEN];
        long[..8].copy_from_slice(b"https://");
        assert!(url_is_valid(MAX_URL_LEN as u8, &long));
    }

    #[test]
    fn refuses_everything_else() {
        for text in [&b""[..], b"http://", b"https://", b"ftp://a", b"HTTP://a", b"http://a b", b"http://a\x7f", b"http://\x1b[2J", b"http://\xc3\xa9"] {
            let (len, url) = padded(text);
            assert!(!url_is_valid(len, &url), "{:?}", text);
        }
        let (len, mut url) = padded(b"http://a");
        url[len as usize + 3] = 1;
        assert!(!url_is_valid(len, &url), "bytes after the length must be zero");
        let (_, url) = padded(b"http://a");
        assert!(!url_is_valid(MAX_URL_LEN as u8 + 1, &url));
    }
}
