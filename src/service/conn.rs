//! Accepting and keeping connections: the global and per-client connection
//! caps, the header-read and idle timeouts, graceful shutdown.
//!
//! `axum::serve` has none of these, so connections are served here with
//! hyper's HTTP/1 connection builder. Each connection is watched: its socket
//! reads mark when a request head starts arriving, its requests mark when one
//! is in flight. A connection with no request in flight is closed when no
//! byte arrived for `idle_timeout_secs` (silent and keep-alive connections),
//! or when a request head that started arriving is not complete after
//! `header_read_timeout_secs` (slow clients). A request in flight is bounded
//! by the router's request timeout instead.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use super::Limits;
use super::clients;

/// What a refused connection is told before it is closed.
static BUSY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let body = r#"{"errors":[{"status":"503","code":"too_many_connections","title":"Service Unavailable","detail":"too many connections; retry shortly"}]}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// The caps in force, and who holds how many connections.
pub(crate) struct Gate {
    global: Arc<Semaphore>,
    max: usize,
    per_client: usize,
    clients: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; gives its slots back when dropped.
pub(crate) struct Admitted {
    gate: Arc<Gate>,
    client: IpAddr,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut clients = self.gate.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = clients.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                clients.remove(&self.client);
            }
        }
    }
}

impl Gate {
    pub(crate) fn new(max: usize, per_client: usize) -> Arc<Gate> {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Arc::new(Gate {
            global: Arc::new(Semaphore::new(max)),
            max,
            per_client: per_client.max(1),
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `peer`, or `None` when either cap is reached.
    pub(crate) fn admit(self: &Arc<Gate>, peer: IpAddr) -> Option<Admitted> {
        let client = clients::key(peer);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let held = clients.get(&client).copied().unwrap_or(0);
        if held >= self.per_client {
            return None;
        }
        let permit = Arc::clone(&self.global).try_acquire_owned().ok()?;
        clients.insert(client, held + 1);
        Some(Admitted {
            gate: Arc::clone(self),
            client,
            _permit: permit,
        })
    }

    /// Resolves when every connection is closed.
    async fn drained(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _ = self.global.acquire_many(all).await;
    }
}

/// The connection cap to use: `configured`, lowered (with a warning) so that
/// the connections, plus room for the store, keys and STS, fit in the
/// process's open-file limit where it can be read (Linux). Past the limit,
/// `accept` fails and every client, `/healthz` included, goes unanswered.
pub(crate) fn effective_max_connections(configured: usize) -> usize {
    const RESERVE: usize = 64;
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<usize>().ok())
        });
    match soft {
        Some(soft) if configured + RESERVE > soft => {
            let lowered = soft.saturating_sub(RESERVE).max(1);
            tracing::warn!(
                configured,
                lowered,
                open_file_limit = soft,
                "limits.max_connections does not fit the open-file limit; lowered (raise `ulimit -n`)"
            );
            lowered
        }
        _ => configured,
    }
}

#[derive(Debug)]
struct Activity {
    in_flight: usize,
    /// When the connection last had nothing to do (opened, or a response sent).
    idle_since: Instant,
    /// When the first byte of the request head now being read arrived.
    head_since: Option<Instant>,
}

type Shared = Arc<Mutex<Activity>>;

fn lock(a: &Shared) -> std::sync::MutexGuard<'_, Activity> {
    a.lock().unwrap_or_else(|e| e.into_inner())
}

/// The socket, noting when a request head starts arriving.
struct Watched {
    stream: TcpStream,
    activity: Shared,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut a = lock(&self.activity);
            if a.in_flight == 0 && a.head_since.is_none() {
                a.head_since = Some(Instant::now());
            }
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Marks a request in flight until dropped.
struct InFlight(Shared);

impl InFlight {
    fn begin(activity: &Shared) -> InFlight {
        let mut a = lock(activity);
        a.in_flight += 1;
        a.head_since = None;
        InFlight(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut a = lock(&self.0);
        a.in_flight = a.in_flight.saturating_sub(1);
        a.idle_since = Instant::now();
        a.head_since = None;
    }
}

/// The timeouts of a connection.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    header: Duration,
    idle: Duration,
    tick: Duration,
}

impl Timeouts {
    fn new(limits: &Limits) -> Timeouts {
        let header = Duration::from_secs(limits.header_read_timeout_secs);
        let idle = Duration::from_secs(limits.idle_timeout_secs);
        let tick = (header.min(idle) / 8).clamp(Duration::from_millis(50), Duration::from_secs(1));
        Timeouts { header, idle, tick }
    }

    /// Whether a connection in this state is over its time.
    fn expired(&self, a: &Activity, now: Instant) -> bool {
        if a.in_flight > 0 {
            return false;
        }
        match a.head_since {
            Some(since) => now.saturating_duration_since(since) >= self.header,
            None => now.saturating_duration_since(a.idle_since) >= self.idle,
        }
    }
}

/// Accepts and serves connections until `shutdown` resolves, then lets the
/// connections finish their requests for at most `grace`.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let gate = Gate::new(
        effective_max_connections(limits.max_connections),
        limits.max_connections_per_client,
    );
    let timeouts = Timeouts::new(limits);
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    let max_buf = (limits.max_header_bytes + 8 * 1024).max(8 * 1024);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    let mut last_accept_warning: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors, mostly: wait a little rather than spin.
                if last_accept_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                    tracing::warn!(error = %e, "accept failed");
                    last_accept_warning = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(admitted) = gate.admit(peer.ip()) else {
            // Told so if the socket takes it at once; closed either way.
            let _ = stream.try_write(&BUSY);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            serve_one(stream, peer, app, timeouts, max_buf, stop).await;
            drop(admitted);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    if tokio::time::timeout(grace, gate.drained()).await.is_err() {
        tracing::warn!("shutdown grace period over; dropping requests still in flight");
    }
    Ok(())
}

async fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    timeouts: Timeouts,
    max_buf: usize,
    mut stop: watch::Receiver<bool>,
) {
    let activity: Shared = Arc::new(Mutex::new(Activity {
        in_flight: 0,
        idle_since: Instant::now(),
        head_since: None,
    }));
    let io = TokioIo::new(Watched {
        stream,
        activity: Arc::clone(&activity),
    });
    let service_activity = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let guard = InFlight::begin(&service_activity);
        request.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await;
            drop(guard);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .header_read_timeout(None)
        .max_buf_size(max_buf);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut tick = tokio::time::interval(timeouts.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = tick.tick() => {
                if timeouts.expired(&lock(&activity), Instant::now()) {
                    // Idle, or a request head too slow: close.
                    return;
                }
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_are_global_and_per_client() {
        let gate = Gate::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let c: IpAddr = "10.0.0.3".parse().unwrap();
        let a1 = gate.admit(a).unwrap();
        let _a2 = gate.admit(a).unwrap();
        assert!(gate.admit(a).is_none(), "per-client cap");
        let _b1 = gate.admit(b).unwrap();
        assert!(gate.admit(c).is_none(), "global cap");
        drop(a1);
        let c1 = gate.admit(c);
        assert!(c1.is_some(), "a closed connection frees its slots");
        assert!(gate.admit(a).is_none(), "the global cap again");
    }

    #[test]
    fn idle_and_slow_heads_expire_requests_in_flight_do_not() {
        let limits = Limits {
            header_read_timeout_secs: 2,
            idle_timeout_secs: 5,
            ..Limits::default()
        };
        let t = Timeouts::new(&limits);
        let now = Instant::now();
        let s = Duration::from_secs;
        let idle = Activity {
            in_flight: 0,
            idle_since: now,
            head_since: None,
        };
        assert!(!t.expired(&idle, now + s(4)));
        assert!(t.expired(&idle, now + s(5)));
        let slow = Activity {
            head_since: Some(now + s(1)),
            ..idle
        };
        assert!(!t.expired(&slow, now + s(2)));
        assert!(t.expired(&slow, now + s(3)));
        let busy = Activity {
            in_flight: 1,
            ..slow
        };
        assert!(!t.expired(&busy, now + s(60)));
    }
}
