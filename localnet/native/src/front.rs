//! The native front end of the JSON-RPC port: one thread with an epoll loop (server.rs) reads
//! and writes every HTTP connection (http.rs has the protocol), recognizes a plain
//! sendTransaction, decodes it and checks its signatures (fast_send.rs), and hands only what
//! needs the bank to the event loop (localnet/rpc/front.py), in arrival order, through one queue
//! and one eventfd; answers come back the same way.
//!
//! Why: with the commit point in the journal the localnet is CPU-bound on its event loop,
//! and a quarter of that loop was HTTP, JSON and handing signatures to a checking thread
//! (docs/architecture.md, "Where the time goes"). Here none of that holds the GIL. One
//! thread for every connection, not one each: under load each wake-up of either side
//! carries a batch (a thread per connection cost two context switches a request, and each
//! answer woke a thread that preempted the event loop).
//!
//! The protocol between the two sides:
//! - `take()` (the loop, woken by `wake_fd`) returns what arrived since the last call:
//!   `(0, token, id, raw, signature, verified, skip_preflight, config)` for a recognized
//!   sendTransaction, `(1, token, body)` for any other POST body.
//! - `respond(answers)` answers some: a list of `(token, status, body)`.
//! - `close()` stops listening and ends every connection (the port is free when it returns).
//!
//! A connection has at most one request with the loop at a time: pipelined requests wait in
//! its buffer and are answered in order, as by http.py.

use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Interest, Poll, Waker};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::fast_send::Send;
use crate::server::{Server, Timeouts, LISTENER, WAKER};

pub(crate) enum Item {
    Send(u64, Send),
    Rpc(u64, Vec<u8>),
}

pub(crate) struct Shared {
    pub(crate) to_loop: Mutex<Vec<Item>>,
    pub(crate) wake_loop: File, // an eventfd the event loop reads
    pub(crate) answers: Mutex<Vec<(u64, u16, Vec<u8>)>>,
    pub(crate) closing: AtomicBool,
    /// Requests handed over, and how many of them were recognized sendTransactions.
    pub(crate) requests: AtomicU64,
    pub(crate) fast_sends: AtomicU64,
}

/// rpc.py's `error_body(message)`: the same bytes.
pub fn error_body(message: &str) -> Vec<u8> {
    let message = serde_json::to_string(&format!("Invalid request: {message}")).expect("a string");
    format!(r#"{{"jsonrpc":"2.0","error":{{"code":-32600,"message":{message}}},"id":null}}"#)
        .into_bytes()
}

fn eventfd() -> std::io::Result<File> {
    // SAFETY: eventfd returns a new descriptor or -1; File owns it from here on.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { File::from_raw_fd(fd) })
}

#[pyclass(module = "crowdcompute.localnet._native")]
pub struct Frontend {
    shared: Arc<Shared>,
    waker: Arc<Waker>,
    address: SocketAddr,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[pymethods]
impl Frontend {
    /// Listens on host:port (0: any free port) and serves POST bodies of at most `max_body`.
    #[new]
    /// `idle_timeout`, `read_timeout` (seconds): http.py's IDLE_TIMEOUT and READ_TIMEOUT.
    #[pyo3(signature = (host, port, max_body, idle_timeout = 60.0, read_timeout = 30.0))]
    fn new(
        host: &str,
        port: u16,
        max_body: usize,
        idle_timeout: f64,
        read_timeout: f64,
    ) -> PyResult<Self> {
        let seconds = |s: f64| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| PyValueError::new_err(format!("not a timeout: {s}")))
        };
        let timeouts = Timeouts {
            idle: seconds(idle_timeout)?,
            read: seconds(read_timeout)?,
        };
        let cannot =
            |e: std::io::Error| PyOSError::new_err(format!("cannot listen on {host}:{port}: {e}"));
        let std_listener = std::net::TcpListener::bind((host, port)).map_err(cannot)?; // SO_REUSEADDR, as asyncio's
        std_listener.set_nonblocking(true)?;
        let address = std_listener.local_addr()?;
        let mut listener = TcpListener::from_std(std_listener);
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let shared = Arc::new(Shared {
            to_loop: Mutex::new(Vec::new()),
            wake_loop: eventfd()?,
            answers: Mutex::new(Vec::new()),
            closing: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            fast_sends: AtomicU64::new(0),
        });
        let mut server = Server::new(poll, listener, shared.clone(), max_body, timeouts);
        let thread = std::thread::Builder::new()
            .name("crowdcompute-http".into())
            .spawn(move || server.run())?;
        Ok(Frontend {
            shared,
            waker,
            address,
            thread: Mutex::new(Some(thread)),
        })
    }

    #[getter]
    fn port(&self) -> u16 {
        self.address.port()
    }

    /// The eventfd that becomes readable when `take()` has something.
    #[getter]
    fn wake_fd(&self) -> i32 {
        self.shared.wake_loop.as_raw_fd()
    }

    /// (requests handed to the event loop, how many were recognized sendTransactions)
    #[getter]
    fn counts(&self) -> (u64, u64) {
        (
            self.shared.requests.load(Ordering::Relaxed),
            self.shared.fast_sends.load(Ordering::Relaxed),
        )
    }

    /// What arrived since the last call, oldest first (see the module doc for the shapes).
    fn take<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let mut counter = [0u8; 8];
        let _ = (&self.shared.wake_loop).read(&mut counter); // EAGAIN when already read
        let items = std::mem::take(&mut *self.shared.to_loop.lock().unwrap());
        items
            .into_iter()
            .map(|item| match item {
                Item::Send(token, send) => (
                    0u8,
                    token,
                    PyBytes::new(py, &send.id),
                    PyBytes::new(py, &send.raw),
                    send.signature,
                    send.verified,
                    send.skip_preflight,
                    send.config.map(|c| PyBytes::new(py, &c)),
                )
                    .into_pyobject(py)
                    .map(Bound::into_any),
                Item::Rpc(token, body) => (1u8, token, PyBytes::new(py, &body))
                    .into_pyobject(py)
                    .map(Bound::into_any),
            })
            .collect()
    }

    /// Answers requests: `answers` is a list of (token, status, body). An answer to a
    /// connection that closed meanwhile is dropped.
    fn respond(&self, answers: Vec<(u64, u16, Bound<'_, PyBytes>)>) {
        let first = {
            let mut queue = self.shared.answers.lock().unwrap();
            let first = queue.is_empty();
            queue.extend(
                answers
                    .into_iter()
                    .map(|(token, status, body)| (token, status, body.as_bytes().to_vec())),
            );
            first
        };
        if first {
            let _ = self.waker.wake();
        }
    }

    /// Stops listening and ends every connection; the port is free when this returns.
    fn close(&self, py: Python<'_>) {
        self.shared.closing.store(true, Ordering::Release);
        let _ = self.waker.wake();
        let thread = self.thread.lock().unwrap().take();
        if let Some(thread) = thread {
            py.allow_threads(|| {
                let _ = thread.join();
            });
        }
    }
}
