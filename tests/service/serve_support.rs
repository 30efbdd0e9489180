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
        let mut child = Command::new(env!("CARGO_BIN_EXE_arnmap"))
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
