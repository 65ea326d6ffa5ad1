//! HTTP/1.1 for the native front end, without I/O: what a request head says, and chunked
//! bodies decoded as their bytes arrive. The rules are localnet/rpc/http.py's (the asyncio
//! server this replaces where the native module is built), rule for rule, with the same
//! answers to the same mistakes; that file's doc lists them, and
//! tests/localnet/test_localnet_http_chunked.py and test_localnet_hostile.py run against
//! whichever server is in use. front.rs does the I/O.

pub const MAX_HEAD: usize = 16 * 1024; // request line and headers
const MAX_HEADERS: usize = 100;
pub const MAX_DISCARD: usize = 16 * 1024 * 1024; // an oversized body up to this is read and dropped
const MAX_CHUNK_LINE: usize = 1024;
const CORS: &str = "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\nAccess-Control-Allow-Headers: content-type, solana-client\r\n";
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        _ => "Error",
    }
}

/// A whole response, appended to `out`.
pub fn response(out: &mut Vec<u8>, status: u16, body: &[u8], keep_alive: bool, content_type: &str) {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{CORS}Connection: {connection}\r\n\r\n",
            reason(status),
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
}

/// What a request head asks for.
pub enum Head {
    /// Answer at once (OPTIONS, GET): status, body, content type; keep-alive or not.
    Answer(u16, Vec<u8>, &'static str, bool),
    /// A 405 with an error body, keeping the connection (GET of another path).
    Refuse405(bool),
    /// A POST with a Content-Length body.
    Body {
        length: u64,
        keep_alive: bool,
        expects_continue: bool,
    },
    /// A POST with a chunked body.
    Chunked {
        keep_alive: bool,
        expects_continue: bool,
    },
}

/// A request refused: the status and message of its error body; the connection closes.
pub struct Refusal(pub u16, pub String);

fn refuse(status: u16, message: &str) -> Refusal {
    Refusal(status, message.to_string())
}

fn trim(s: &str) -> &str {
    // Python's str.strip() for the whitespace HTTP allows around names and values.
    s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b')
}

/// The request head `head` (without its final CRLF CRLF).
pub fn parse_head(head: &[u8]) -> Result<Head, Refusal> {
    // latin-1, as http.py decodes it: every byte is one char.
    let text: String = head.iter().map(|&b| b as char).collect();
    let mut lines = text.split("\r\n");
    let parts: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    if parts.len() != 3 || !parts[2].starts_with("HTTP/1.") {
        return Err(refuse(400, "bad request line"));
    }
    let fields: Vec<&str> = lines.collect();
    if fields.len() > MAX_HEADERS {
        return Err(refuse(431, "too many headers"));
    }
    let (verb, path, version) = (parts[0], parts[1], parts[2]);
    let mut headers: Vec<(String, &str)> = Vec::with_capacity(fields.len());
    for raw in fields {
        let (name, value) = raw.split_once(':').unwrap_or((raw, ""));
        let (name, value) = (trim(name).to_ascii_lowercase(), trim(value));
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value, // the last one wins, as in http.py's dict
            None => headers.push((name, value)),
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    let connection = header("connection").unwrap_or("").to_ascii_lowercase();
    let keep_alive = if version == "HTTP/1.1" {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    };
    let expects_continue = header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    match verb {
        "OPTIONS" => {
            return Ok(Head::Answer(
                204,
                Vec::new(),
                "application/json",
                keep_alive,
            ))
        }
        "GET" if path.split('?').next() == Some("/health") => {
            return Ok(Head::Answer(200, b"ok".to_vec(), "text/plain", keep_alive))
        }
        "GET" => return Ok(Head::Refuse405(keep_alive)),
        "POST" => {}
        _ => return Err(refuse(405, "use POST")),
    }
    if let Some(coding) = header("transfer-encoding") {
        let codings: Vec<String> = coding
            .split(',')
            .map(|c| trim(c).to_ascii_lowercase())
            .collect();
        // RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0, or a last coding other than
        // chunked, leaves the body without a knowable framing.
        if version != "HTTP/1.1" || codings.last().map(String::as_str) != Some("chunked") {
            return Err(refuse(400, "bad Transfer-Encoding"));
        }
        if codings.len() != 1 {
            return Err(refuse(501, "only the chunked transfer coding is supported"));
        }
        // RFC 9112 section 6.3: with Content-Length too, chunked wins and the connection
        // closes after the answer (it may be a smuggling attempt).
        let keep_alive = keep_alive && header("content-length").is_none();
        return Ok(Head::Chunked {
            keep_alive,
            expects_continue,
        });
    }
    let Some(length) = header("content-length") else {
        return Err(refuse(411, "Content-Length required"));
    };
    if length.is_empty() || !length.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(400, "bad Content-Length"));
    }
    Ok(Head::Body {
        length: length.parse().unwrap_or(u64::MAX),
        keep_alive,
        expects_continue,
    })
}

/// Where a chunked body's decoding stands.
enum Part {
    SizeLine,
    Data(usize),
    DataEnd,
    Trailer(usize), // bytes of trailer fields so far
}

/// What the decoder made of the bytes it was given.
pub enum Chunks {
    /// More bytes are needed.
    More,
    /// The whole body (None when it was over the limit: its bytes were dropped).
    Done(Option<Vec<u8>>),
    /// Just went over the limit: answer 413 now; decoding goes on, dropping the data,
    /// unless it is `hopeless()`.
    TooLarge,
    /// Malformed framing (400 with this message), or past even MAX_DISCARD (None: drop the
    /// connection without a word, the 413 having been sent).
    Bad(Option<String>),
}

/// A chunked body decoded as its bytes arrive (http.py's `_read_chunked`).
pub struct Chunked {
    part: Part,
    body: Vec<u8>,
    total: usize,
    limit: usize, // max_body, then MAX_DISCARD once over it
    over: bool,
}

impl Chunked {
    pub fn new(max_body: usize) -> Self {
        Chunked {
            part: Part::SizeLine,
            body: Vec::new(),
            total: 0,
            limit: max_body,
            over: false,
        }
    }

    fn bad(&self, message: &str) -> Chunks {
        Chunks::Bad((!self.over).then(|| format!("bad chunked body: {message}")))
    }

    /// Consumes what it can of `input` (drained from its front) and says where it stands.
    pub fn feed(&mut self, input: &mut Vec<u8>) -> Chunks {
        let mut at = 0;
        let outcome = loop {
            match self.part {
                Part::SizeLine | Part::Trailer(_) => {
                    let limit = if matches!(self.part, Part::SizeLine) {
                        MAX_CHUNK_LINE
                    } else {
                        MAX_HEAD
                    };
                    let Some(end) = find(&input[at..], b"\r\n", limit + 2) else {
                        if input.len() - at > limit + 1 {
                            break self.bad("line too long");
                        }
                        break Chunks::More;
                    };
                    let line = &input[at..at + end];
                    at += end + 2;
                    if line.len() > limit {
                        break self.bad("line too long");
                    }
                    if let Part::Trailer(seen) = self.part {
                        if line.is_empty() {
                            break Chunks::Done(
                                (!self.over).then(|| std::mem::take(&mut self.body)),
                            );
                        }
                        let seen = seen + line.len() + 2;
                        if seen > MAX_HEAD {
                            break self.bad("trailer section too large");
                        }
                        self.part = Part::Trailer(seen);
                        continue;
                    }
                    let size = trim_bws(line.split(|&b| b == b';').next().unwrap_or(&[])); // extensions ignored
                    if size.is_empty() || !size.iter().all(u8::is_ascii_hexdigit) {
                        break self.bad("bad chunk size");
                    }
                    let size = std::str::from_utf8(size)
                        .ok()
                        .and_then(|s| usize::from_str_radix(s, 16).ok())
                        .unwrap_or(usize::MAX);
                    if size == 0 {
                        self.part = Part::Trailer(0);
                        continue;
                    }
                    self.total = self.total.saturating_add(size);
                    self.part = Part::Data(size);
                    if self.total > self.limit {
                        // Checked before the data is read: a size line alone cannot make us buffer.
                        if self.over {
                            break Chunks::Bad(None);
                        }
                        self.over = true;
                        self.limit = MAX_DISCARD;
                        self.body = Vec::new();
                        break Chunks::TooLarge;
                    }
                }
                Part::Data(left) => {
                    let n = left.min(input.len() - at);
                    if !self.over {
                        self.body.extend_from_slice(&input[at..at + n]);
                    }
                    at += n;
                    if n < left {
                        self.part = Part::Data(left - n);
                        break Chunks::More;
                    }
                    self.part = Part::DataEnd;
                }
                Part::DataEnd => {
                    if input.len() - at < 2 {
                        break Chunks::More;
                    }
                    if &input[at..at + 2] != b"\r\n" {
                        break self.bad("chunk data not followed by CRLF");
                    }
                    at += 2;
                    self.part = Part::SizeLine;
                }
            }
        };
        input.drain(..at);
        outcome
    }

    /// Past even MAX_DISCARD: not worth reading to its end (close after the 413).
    pub fn hopeless(&self) -> bool {
        self.total > MAX_DISCARD
    }
}

/// Where `needle` starts in the first `within` bytes of `hay`.
pub fn find(hay: &[u8], needle: &[u8], within: usize) -> Option<usize> {
    let hay = &hay[..hay.len().min(within)];
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_bws(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &s[start..end]
}
