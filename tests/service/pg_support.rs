//! A private PostgreSQL cluster for one test: `initdb` into a temp dir owned
//! by the `postgres` user (the server refuses to run as root), trust auth,
//! a free port on 127.0.0.1, no Unix socket outside the temp dir; stopped
//! (`pg_ctl stop -m fast`) and removed when dropped.
//!
//! The server binaries come from `ARNMAP_PG_BIN`, else
//! `/usr/lib/postgresql/15/bin`, else the newest `/usr/lib/postgresql/*/bin`.
//! Without them a test is skipped with a message, except under `CI=true`,
//! where it fails (`.ci/run` installs `postgresql-15`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running cluster; dropped: stopped and removed.
pub struct PgCluster {
    bin: PathBuf,
    root: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
}

fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("ARNMAP_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let preferred = Path::new("/usr/lib/postgresql/15/bin");
    if preferred.join("initdb").is_file() {
        return Some(preferred.to_owned());
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

static CLUSTERS: AtomicUsize = AtomicUsize::new(0);

impl PgCluster {
    /// Starts a cluster, or returns `None` (after saying why) when the server
    /// binaries are missing and `CI` is not `true`.
    pub fn start() -> Option<PgCluster> {
        let Some(bin) = bin_dir() else {
            let why = "the PostgreSQL server binaries are missing (/usr/lib/postgresql/15/bin; \
                       apt-get install postgresql-15, or set ARNMAP_PG_BIN)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}");
            }
            eprintln!("skipped: {why}");
            return None;
        };
        let as_postgres = is_root();
        let root = std::env::temp_dir().join(format!(
            "arnmap-pg-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("cluster dir");
        let mut cluster = PgCluster {
            bin,
            root,
            port: 0,
            as_postgres,
        };
        if as_postgres {
            cluster.check(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&cluster.root),
            );
        }
        let data = cluster.data().display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
            ],
        );
        // A port picked free can be taken before the server binds it: retry.
        for _ in 0..5 {
            cluster.port = free_port();
            let options = cluster.options();
            let log = cluster.root.join("server.log").display().to_string();
            let out = cluster.output(
                "pg_ctl",
                &[
                    "start", "-w", "-t", "60", "-D", &data, "-l", &log, "-o", &options,
                ],
            );
            if out.status.success() {
                return Some(cluster);
            }
            eprintln!(
                "pg_ctl start failed on port {}: {}{}",
                cluster.port,
                String::from_utf8_lossy(&out.stdout),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("could not start PostgreSQL");
    }

    /// The server options: port, sockets, no fsync.
    fn options(&self) -> String {
        format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} \
             -c fsync=off -c full_page_writes=off -c max_connections=60",
            self.port,
            self.root.display()
        )
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn output(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .current_dir(&self.root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.output(program, args);
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn check(&self, command: &mut Command) {
        let status = command.status().expect("run");
        assert!(status.success(), "{command:?} failed");
    }

    /// Creates database `name`; returns its URL.
    pub fn create_db(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name],
        );
        self.url(name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl PgCluster {
    /// Stops the server (`pg_ctl stop -m fast`), keeping its data.
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["stop", "-D", &data, "-m", "fast", "-w"]);
    }

    /// Starts again a server [`PgCluster::stop`] stopped: same data, port
    /// and options.
    pub fn start_again(&self) {
        let data = self.data().display().to_string();
        let log = self.root.join("server.log").display().to_string();
        let options = self.options();
        self.run(
            "pg_ctl",
            &[
                "start", "-D", &data, "-w", "-t", "60", "-l", &log, "-o", &options,
            ],
        );
    }

    /// Restarts the server (`pg_ctl restart -m fast`): same data, same port
    /// and options (pg_ctl reuses the ones it was started with).
    pub fn restart(&self) {
        let data = self.data().display().to_string();
        let log = self.root.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "restart", "-D", &data, "-m", "fast", "-w", "-t", "60", "-l", &log,
            ],
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-D", &data, "-m", "fast", "-w"])
            .current_dir(&self.root)
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
