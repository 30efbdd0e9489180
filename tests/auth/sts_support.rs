//! Shared by the STS integration tests: the Python venv, a moto server on a
//! free loopback port, a transport that counts what leaves the process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arnmap::{StsRequest, StsResponse, Transport, TransportError};

/// The venv holding moto and datadog-api-client: `$ARNMAP_VENV`, else
/// `.venv` at the repo root. `None` (test skipped, reason printed) only when
/// `CI` is unset; under CI a missing venv fails the test.
pub fn venv() -> Option<PathBuf> {
    let dir = std::env::var_os("ARNMAP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let python = dir.join("bin").join("python");
    if python.exists() {
        return Some(dir);
    }
    let why = format!(
        "no Python venv at {} (set ARNMAP_VENV, or run: python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt)",
        dir.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and the STS integration tests need their peers: {why}");
    }
    eprintln!("SKIPPED (CI unset): {why}");
    None
}

/// Path of a helper script in tests/python.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
        .join(name)
}

/// Runs a helper script with the venv's Python and returns its stdout.
pub fn python(venv: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(venv.join("bin").join("python"))
        .arg(script(name))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// A moto server, killed when dropped.
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Moto {
    /// Starts moto's server with `no_auth` unauthenticated calls allowed, on
    /// a port the kernel picks (read back from its startup line, so parallel
    /// tests never race for a port).
    pub fn start(venv: &Path, no_auth: u32) -> Moto {
        let mut child = Command::new(venv.join("bin").join("python"))
            .arg(script("moto_sts.py"))
            .arg("0")
            .env("INITIAL_NO_AUTH_ACTION_COUNT", no_auth.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto");
        let stderr = child.stderr.take().expect("moto stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Read the port, then keep draining so moto never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(digits.parse::<u16>().ok());
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                panic!("moto did not report its port: {other:?}");
            }
        };
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A transport that counts requests and forwards them (or answers 599 if it has nowhere to).
pub struct Counting {
    inner: Option<Arc<dyn Transport>>,
    /// Requests sent so far.
    pub calls: AtomicUsize,
}

impl Counting {
    /// Counts and forwards to `inner`.
    pub fn new(inner: Option<Arc<dyn Transport>>) -> Arc<Counting> {
        Arc::new(Counting {
            inner,
            calls: AtomicUsize::new(0),
        })
    }

    /// Requests sent so far.
    pub fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Transport for Counting {
    fn send(&self, request: &StsRequest<'_>) -> Result<StsResponse, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.inner {
            Some(t) => t.send(request),
            None => Err(TransportError::Io("counting transport: no network".into())),
        }
    }
}

/// Re-encodes a decoded proof (headers in their order, repeats kept).
pub fn encode_raw(p: &arnmap::internals::wire::RawProof) -> String {
    let fields: Vec<String> = p
        .headers
        .iter()
        .map(|(n, vs)| {
            format!(
                "{}:{}",
                serde_json::Value::from(n.as_str()),
                serde_json::Value::from(vs.clone())
            )
        })
        .collect();
    arnmap::internals::wire::encode(
        &p.body,
        &format!("{{{}}}", fields.join(",")),
        &p.method,
        &p.url,
    )
}

/// Replaces the value of a header (case-insensitive) in a proof.
pub fn with_header(raw: &str, name: &str, value: &str) -> String {
    let mut p = arnmap::internals::wire::decode(raw).expect("decodable");
    for (n, vs) in &mut p.headers {
        if n.eq_ignore_ascii_case(name) {
            *vs = vec![value.to_owned()];
        }
    }
    encode_raw(&p)
}

/// The value of a header in a proof.
pub fn header(raw: &str, name: &str) -> String {
    let p = arnmap::internals::wire::decode(raw).expect("decodable");
    p.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
        .expect("header present")
}
