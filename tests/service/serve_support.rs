//! Starting `arnmap serve` (the real binary) for the service tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The org of the service tests, and another.
pub const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";
/// An org with a policy in which the test roles are not mapped.
pub const OTHER_ORG: &str = "6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b";

/// The policy the service tests load: a deny for `blocked-role` in ORG, and a
/// rule in OTHER_ORG that maps nobody the tests use.
pub const POLICY: &str = r#"
org "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10" {
    deny "arn:aws:sts::123456789012:assumed-role/blocked-role" as blocked
    map "arn:aws:sts::123456789012:assumed-role/shared-role" to "shared@example.com" as shared
    test "arn:aws:sts::123456789012:assumed-role/shared-role/s1" -> "shared@example.com"
    test "arn:aws:sts::123456789012:assumed-role/blocked-role/e2e" -> deny
}
org "6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b" {
    map "arn:aws:iam::123456789012:user/nobody" to "nobody@example.com"
}
"#;

/// A fresh directory under the target dir's tmp.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes POLICY into `dir/policies/e2e.policy`; returns the policies dir.
pub fn write_policy(dir: &Path) -> PathBuf {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("policies dir");
    std::fs::write(policies.join("e2e.policy"), POLICY).expect("policy");
    policies
}

/// Runs the arnmap binary to completion; returns stdout, panicking on failure.
pub fn arnmap(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_arnmap"))
        .args(args)
        .output()
        .expect("run arnmap");
    assert!(
        out.status.success(),
        "arnmap {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `(api_key, app_key)` with both permissions, from `arnmap keys create`.
pub fn create_keys(data: &Path, org: &str, permissions: &[&str]) -> (String, String) {
    let mut args = vec![
        "keys",
        "create",
        "--data-dir",
        data.to_str().expect("utf-8 path"),
        "--org",
        org,
        "--permission",
    ];
    args.extend_from_slice(permissions);
    let out = arnmap(&args);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("keys JSON");
    (
        v["api_key"].as_str().expect("api_key").to_owned(),
        v["app_key"].as_str().expect("app_key").to_owned(),
    )
}

/// A running `arnmap serve`, SIGKILLed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Everything it wrote to stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the service on a kernel-picked port with `extra` arguments.
    pub fn start(data: &Path, policies: &Path, extra: &[String]) -> Server {
        Server::start_command(
            Command::new(env!("CARGO_BIN_EXE_arnmap")),
            data,
            policies,
            extra,
        )
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_with_env(
        data: &Path,
        policies: &Path,
        extra: &[String],
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_arnmap"));
        command.envs(env.iter().copied());
        Server::start_command(command, data, policies, extra)
    }

    /// [`Server::start`] with the service's open-file soft limit set to
    /// `open_files` (through `sh -c 'ulimit -n N; exec …'`, Unix).
    pub fn start_with_open_files(
        data: &Path,
        policies: &Path,
        extra: &[String],
        open_files: u32,
    ) -> Server {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("ulimit -n {open_files} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_arnmap"),
        ]);
        Server::start_command(command, data, policies, extra)
    }

    fn start_command(
        mut command: Command,
        data: &Path,
        policies: &Path,
        extra: &[String],
    ) -> Server {
        let mut child = command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data)
            .arg("--policies")
            .arg(policies)
            .args(extra)
            .env("ARNMAP_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start arnmap serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("arnmap serve: listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "arnmap serve did not start:\n{}",
                    log.lock().map(|l| l.clone()).unwrap_or_default()
                );
            }
        };
        Server { child, url, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident set size in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain HTTP client that reports every status instead of failing.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `(status, body)` of a request.
pub fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
    let mut response = response.expect("HTTP request");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// Sends `count` `POST /api/v2/delegated-token` with `proof`, from the
/// loopback address `source` (e.g. `127.0.0.2`, another client than the
/// tests' `127.0.0.1`), `workers` at a time, each worker pausing `pause`
/// between its requests; one connection per request. Returns every status
/// (0: no answer within 10 s). Loopback only, bounded by `count`.
pub fn flood_from(
    source: std::net::Ipv4Addr,
    url: &str,
    proof: &str,
    count: usize,
    workers: usize,
    pause: Duration,
) -> Vec<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("http://IP:PORT");
    assert!(addr.ip().is_loopback() && source.is_loopback());
    let request = format!(
        "POST /api/v2/delegated-token HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Delegated {proof}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let request = Arc::new(request);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let (request, next) = (Arc::clone(&request), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < count {
                    let one = async {
                        let socket = tokio::net::TcpSocket::new_v4().ok()?;
                        socket.bind((source, 0).into()).ok()?;
                        let mut stream = socket.connect(addr).await.ok()?;
                        stream.write_all(request.as_bytes()).await.ok()?;
                        let mut response = Vec::new();
                        stream.read_to_end(&mut response).await.ok()?;
                        let head = String::from_utf8_lossy(&response);
                        head.get(9..12)?.parse::<u16>().ok()
                    };
                    let status = tokio::time::timeout(Duration::from_secs(10), one)
                        .await
                        .ok()
                        .flatten()
                        .unwrap_or(0);
                    statuses.push(status);
                    tokio::time::sleep(pause).await;
                }
                statuses
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap_or_default());
        }
        all
    })
}

/// What a held connection does.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Sends nothing.
    Silent,
    /// Sends a request line at once, then one header line every so often,
    /// never the blank line that ends the head.
    Dribble(Duration),
}

/// Opens `count` connections to `url` from the loopback address `source`,
/// each behaving as told, and returns for each how long after opening the
/// server closed it (`None`: still open after `give_up`, or the connection
/// failed). Loopback only; bounded by `count` and `give_up`.
pub fn hold_connections(
    source: std::net::Ipv4Addr,
    url: &str,
    count: usize,
    behaviour: Behaviour,
    give_up: Duration,
) -> Vec<Option<Duration>> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("http://IP:PORT");
    assert!(addr.ip().is_loopback() && source.is_loopback());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut tasks = Vec::new();
        for _ in 0..count {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.bind((source, 0).into()).expect("bind");
            let Ok(mut stream) = socket.connect(addr).await else {
                tasks.push(None);
                continue;
            };
            let opened = std::time::Instant::now();
            tasks.push(Some(tokio::spawn(async move {
                let held = async {
                    let mut buf = [0u8; 1024];
                    if let Behaviour::Dribble(every) = behaviour {
                        let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\n").await;
                        for i in 0.. {
                            match tokio::time::timeout(every, stream.read(&mut buf)).await {
                                Ok(Ok(0) | Err(_)) => return,
                                Ok(Ok(_)) => {}
                                Err(_) => {
                                    let line = format!("X-Slow-{i}: 1\r\n");
                                    if stream.write_all(line.as_bytes()).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                };
                tokio::time::timeout(give_up.saturating_sub(opened.elapsed()), held)
                    .await
                    .ok()
                    .map(|()| opened.elapsed())
            })));
        }
        let mut closed = Vec::new();
        for task in tasks {
            closed.push(match task {
                Some(task) => task.await.ok().flatten(),
                None => None,
            });
        }
        closed
    })
}
