//! The front end's thread (front.rs): an epoll loop (mio) over the listener and every
//! connection. Each connection is a state machine over its input buffer (http.rs parses):
//! a request head, its body, then the request is with the event loop until its answer comes
//! back; pipelined requests wait in the buffer. Deadlines as http.py's (`Timeouts`): the next
//! head within the idle timeout, a whole body, or the reading of an answer, within the read one.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use crate::fast_send::recognize;
use crate::front::{error_body, Item, Shared};
use crate::http::{
    find, parse_head, response, Chunked, Chunks, Head, Refusal, CONTINUE, MAX_DISCARD, MAX_HEAD,
};

/// How long a connection may take: for its next request head (idle), for a whole body or
/// to read its answer (read). localnet/rpc/http.py's IDLE_TIMEOUT and READ_TIMEOUT, passed in.
#[derive(Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) idle: Duration,
    pub(crate) read: Duration,
}
pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
/// Unread input a connection may hold while its request is with the loop (pipelining).
const MAX_BUFFERED: usize = 4 * 1024 * 1024;

enum State {
    /// Waiting for a request head.
    Head,
    /// Reading a Content-Length body.
    Body { length: usize, keep_alive: bool },
    /// Reading a chunked body.
    Chunked { decoder: Chunked, keep_alive: bool },
    /// Reading and dropping a chunked body already answered 413; closes at its end.
    ChunkedOver(Chunked),
    /// The request is with the event loop (the token it carries).
    Waiting { token: u64, keep_alive: bool },
    /// Dropping an oversized body already answered 413, then closing.
    Discard(usize),
    /// Writing what is left, then closing.
    Closing,
}

struct Conn {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    state: State,
    eof: bool,
    /// When the current wait (for a head, for a body, for the client to read) runs out.
    deadline: Option<Instant>,
    writable_interest: bool,
    requests: u64,
    timeouts: Timeouts,
    held: bool, // reading stopped at MAX_BUFFERED with more possibly unread
}

enum Step {
    Continue,
    Wait,
    Close,
}

pub(crate) struct Server {
    poll: Poll,
    listener: TcpListener,
    conns: HashMap<usize, Conn>,
    next_conn: usize,
    shared: Arc<Shared>,
    max_body: usize,
    timeouts: Timeouts,
    /// Requests on their way to the event loop's queue (hand_over).
    handed: Vec<Item>,
}

impl Conn {
    /// Reads what the socket has, up to MAX_BUFFERED unread (`held` when it stopped there).
    /// Edge-triggered, so it must leave nothing unread that no new edge would announce: it
    /// reads until WouldBlock, or until a short read (the socket had no more; data arriving
    /// later is a new edge), except after the peer closed its side (`closed`: the EOF came
    /// with the data, and no edge follows it). A short read saves a syscall a request.
    /// False when the connection failed.
    fn read(&mut self, closed: bool) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        self.held = false;
        while !self.eof {
            if self.input.len() >= MAX_BUFFERED {
                self.held = true;
                return true;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.input.extend_from_slice(&chunk[..n]);
                    if n < chunk.len() && !closed {
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Writes what it can; false when the connection failed.
    fn flush(&mut self) -> bool {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return false,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.output.clear();
        self.written = 0;
        true
    }

    /// After an answer: the next request, or closing.
    fn next(&mut self, keep_alive: bool) -> Step {
        if keep_alive {
            self.state = State::Head;
            self.deadline = Some(Instant::now() + self.timeouts.idle);
        } else {
            self.state = State::Closing;
            self.deadline = Some(Instant::now() + self.timeouts.read);
        }
        Step::Continue
    }

    /// Queues a JSON-RPC error answer (rpc.py's `error_body`) with this status.
    fn error(&mut self, status: u16, message: &str, keep_alive: bool) {
        response(
            &mut self.output,
            status,
            &error_body(message),
            keep_alive,
            "application/json",
        );
    }

    /// Queues the 413 of a body over `max_body`; the connection closes after it.
    fn too_large(&mut self, max_body: usize) {
        self.error(
            413,
            &format!("request body larger than {max_body} bytes"),
            false,
        );
    }

    fn refuse(&mut self, Refusal(status, message): Refusal) -> Step {
        self.error(status, &message, false);
        self.state = State::Closing;
        Step::Continue
    }
}

impl Server {
    pub(crate) fn new(
        poll: Poll,
        listener: TcpListener,
        shared: Arc<Shared>,
        max_body: usize,
        timeouts: Timeouts,
    ) -> Self {
        Server {
            poll,
            listener,
            conns: HashMap::new(),
            next_conn: 2,
            shared,
            max_body,
            timeouts,
            handed: Vec::new(),
        }
    }

    pub(crate) fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = Instant::now();
        loop {
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::from_secs(1))) {
                if e.kind() != ErrorKind::Interrupted {
                    return;
                }
            }
            if self.shared.closing.load(Ordering::Acquire) {
                return;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => {}
                    Token(id) => self.serve(id, Some(event.is_read_closed() || event.is_error())),
                }
            }
            // Answers from the event loop (the waker, or they arrived during this turn).
            let answers = std::mem::take(&mut *self.shared.answers.lock().unwrap());
            for (token, status, body) in answers {
                self.answer(token, status, body);
            }
            self.hand_over();
            if last_sweep.elapsed() >= Duration::from_secs(1) {
                last_sweep = Instant::now();
                let now = Instant::now();
                let late: Vec<usize> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.deadline.is_some_and(|d| d < now))
                    .map(|(id, _)| *id)
                    .collect();
                for id in late {
                    self.drop_conn(id);
                }
            }
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let id = self.next_conn;
                    self.next_conn += 1;
                    let _ = stream.set_nodelay(true);
                    if self
                        .poll
                        .registry()
                        .register(&mut stream, Token(id), Interest::READABLE)
                        .is_err()
                    {
                        continue;
                    }
                    let conn = Conn {
                        stream,
                        input: Vec::new(),
                        output: Vec::new(),
                        written: 0,
                        state: State::Head,
                        eof: false,
                        deadline: Some(Instant::now() + self.timeouts.idle),
                        timeouts: self.timeouts,
                        writable_interest: false,
                        requests: 0,
                        held: false,
                    };
                    self.conns.insert(id, conn);
                    self.serve(id, Some(true)); // data (and a close) may have come with the connection
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return, // EMFILE and the like: the listener stays readable, retried next turn
            }
        }
    }

    fn drop_conn(&mut self, id: usize) {
        if let Some(mut conn) = self.conns.remove(&id) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
        }
    }

    /// Runs connection `id` as far as it can go (`read`: read the socket first; Some(true)
    /// when the peer may have closed its side).
    fn serve(&mut self, id: usize, read: Option<bool>) {
        let Some(mut conn) = self.conns.remove(&id) else {
            return;
        };
        let keep = self.drive(&mut conn, id, read);
        if keep {
            let wants_write = conn.written < conn.output.len();
            if wants_write {
                // A client that does not read its answer must not hold it forever.
                let by = Instant::now() + conn.timeouts.read;
                if conn.deadline.is_none_or(|d| d > by) {
                    conn.deadline = Some(by);
                }
            }
            if wants_write != conn.writable_interest {
                let interest = if wants_write {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                if self
                    .poll
                    .registry()
                    .reregister(&mut conn.stream, Token(id), interest)
                    .is_err()
                {
                    return;
                }
                conn.writable_interest = wants_write;
            }
            self.conns.insert(id, conn);
        } else {
            let _ = self.poll.registry().deregister(&mut conn.stream);
        }
    }

    /// False when the connection is done.
    fn drive(&mut self, conn: &mut Conn, id: usize, read: Option<bool>) -> bool {
        if let Some(closed) = read {
            if !conn.read(closed) {
                return false;
            }
        }
        loop {
            match self.step(conn, id) {
                Step::Continue => continue,
                // What was answered still goes out first (a client that half-closed after
                // its requests reads its answers, then the end of the stream).
                Step::Close
                    if conn.written < conn.output.len()
                        && !matches!(conn.state, State::Closing) =>
                {
                    conn.state = State::Closing;
                    continue;
                }
                Step::Close => return false,
                Step::Wait => {
                    if !conn.flush() {
                        return false;
                    }
                    if matches!(conn.state, State::Closing) && conn.output.is_empty() {
                        return false;
                    }
                    if conn.output.is_empty()
                        && conn.eof
                        && !matches!(conn.state, State::Waiting { .. })
                    {
                        return false; // the client is gone and nothing is on its way to it
                    }
                    // Input held back at MAX_BUFFERED: read more now that some was used.
                    if conn.held
                        && conn.input.len() < MAX_BUFFERED
                        && !matches!(conn.state, State::Waiting { .. })
                    {
                        let before = conn.input.len();
                        if !conn.read(true) {
                            return false;
                        }
                        if conn.input.len() != before || conn.eof {
                            continue;
                        }
                    }
                    return true;
                }
            }
        }
    }

    /// One step of the connection's state machine.
    fn step(&mut self, conn: &mut Conn, id: usize) -> Step {
        match &mut conn.state {
            State::Head => {
                let Some(end) = find(&conn.input, b"\r\n\r\n", MAX_HEAD + 4) else {
                    if conn.input.len() >= MAX_HEAD + 4 {
                        return conn.refuse(Refusal(431, "request head too large".into()));
                    }
                    return if conn.eof { Step::Close } else { Step::Wait };
                };
                let head: Vec<u8> = conn.input.drain(..end + 4).collect();
                match parse_head(&head[..end]) {
                    Err(refusal) => conn.refuse(refusal),
                    Ok(Head::Answer(status, body, content_type, keep_alive)) => {
                        response(&mut conn.output, status, &body, keep_alive, content_type);
                        conn.next(keep_alive)
                    }
                    Ok(Head::Refuse405(keep_alive)) => {
                        conn.error(405, "use POST", keep_alive);
                        conn.next(keep_alive)
                    }
                    Ok(Head::Body {
                        length,
                        keep_alive,
                        expects_continue,
                    }) => {
                        if length > self.max_body as u64 {
                            conn.too_large(self.max_body);
                            // Read (and drop) a moderately oversized body before closing, so
                            // the client, still sending, reads the 413 instead of a reset.
                            conn.state = if length <= MAX_DISCARD as u64 {
                                State::Discard(length as usize)
                            } else {
                                State::Closing
                            };
                            conn.deadline = Some(Instant::now() + conn.timeouts.read);
                            return Step::Continue;
                        }
                        if expects_continue {
                            conn.output.extend_from_slice(CONTINUE);
                        }
                        conn.state = State::Body {
                            length: length as usize,
                            keep_alive,
                        };
                        conn.deadline = Some(Instant::now() + conn.timeouts.read);
                        Step::Continue
                    }
                    Ok(Head::Chunked {
                        keep_alive,
                        expects_continue,
                    }) => {
                        if expects_continue {
                            conn.output.extend_from_slice(CONTINUE);
                        }
                        conn.state = State::Chunked {
                            decoder: Chunked::new(self.max_body),
                            keep_alive,
                        };
                        conn.deadline = Some(Instant::now() + conn.timeouts.read);
                        Step::Continue
                    }
                }
            }
            State::Body { length, keep_alive } => {
                if conn.input.len() < *length {
                    return if conn.eof { Step::Close } else { Step::Wait };
                }
                let (length, keep_alive) = (*length, *keep_alive);
                let body: Vec<u8> = conn.input.drain(..length).collect();
                self.dispatch(conn, id, body, keep_alive);
                Step::Continue
            }
            State::Chunked {
                decoder,
                keep_alive,
            } => match decoder.feed(&mut conn.input) {
                Chunks::More => {
                    if conn.eof {
                        Step::Close
                    } else {
                        Step::Wait
                    }
                }
                Chunks::Done(body) => {
                    let keep_alive = *keep_alive;
                    self.dispatch(conn, id, body.unwrap_or_default(), keep_alive);
                    Step::Continue
                }
                Chunks::TooLarge => {
                    conn.too_large(self.max_body);
                    let State::Chunked { decoder, .. } =
                        std::mem::replace(&mut conn.state, State::Closing)
                    else {
                        unreachable!()
                    };
                    if !decoder.hopeless() {
                        conn.state = State::ChunkedOver(decoder); // read to its end, then close
                    }
                    Step::Continue
                }
                Chunks::Bad(Some(message)) => conn.refuse(Refusal(400, message)),
                Chunks::Bad(None) => Step::Close,
            },
            State::ChunkedOver(decoder) => match decoder.feed(&mut conn.input) {
                Chunks::More if !conn.eof => Step::Wait,
                Chunks::More | Chunks::Bad(_) | Chunks::TooLarge => Step::Close,
                Chunks::Done(_) => {
                    conn.state = State::Closing;
                    Step::Continue
                }
            },
            State::Waiting { .. } => Step::Wait,
            State::Discard(left) => {
                let n = (*left).min(conn.input.len());
                conn.input.drain(..n);
                *left -= n;
                if *left == 0 || conn.eof {
                    conn.state = State::Closing;
                    return Step::Continue;
                }
                Step::Wait
            }
            State::Closing => {
                conn.input.clear();
                Step::Wait
            }
        }
    }

    /// Hands a body to the event loop.
    fn dispatch(&mut self, conn: &mut Conn, id: usize, body: Vec<u8>, keep_alive: bool) {
        conn.requests += 1;
        // Unique among this connection's requests, and the connection is in it.
        let token = ((id as u64) << 24) | (conn.requests & 0xff_ffff);
        conn.state = State::Waiting { token, keep_alive };
        conn.deadline = None; // the handler is ours: no deadline while it runs
        self.shared.requests.fetch_add(1, Ordering::Relaxed);
        let item = match recognize(&body) {
            Some(send) => {
                self.shared.fast_sends.fetch_add(1, Ordering::Relaxed);
                Item::Send(token, send)
            }
            None => Item::Rpc(token, body),
        };
        self.handed.push(item);
        // At once, not at the end of the turn: the loop starts on it while this thread reads
        // and checks the next ones (handing over a turn's requests together made them move
        // as one convoy through the check, the loop and the answers: 10% fewer a second).
        self.hand_over();
    }

    /// Queues this turn's requests for the event loop, waking it when its queue was empty
    /// (it takes the whole queue per wake-up).
    fn hand_over(&mut self) {
        if self.handed.is_empty() {
            return;
        }
        let was_empty = {
            let mut queue = self.shared.to_loop.lock().unwrap();
            let was_empty = queue.is_empty();
            queue.append(&mut self.handed);
            was_empty
        };
        if was_empty {
            let _ = (&self.shared.wake_loop).write_all(&1u64.to_ne_bytes());
        }
    }

    fn answer(&mut self, token: u64, status: u16, body: Vec<u8>) {
        let id = (token >> 24) as usize;
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        }; // it closed meanwhile
        let State::Waiting {
            token: waiting,
            keep_alive,
        } = conn.state
        else {
            return;
        };
        if waiting != token {
            return;
        }
        response(
            &mut conn.output,
            status,
            &body,
            keep_alive,
            "application/json",
        );
        conn.next(keep_alive);
        self.serve(id, None);
    }
}
