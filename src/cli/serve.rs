//! `arnmap serve`: the reference service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use arnmap::service::{ServeConfig, build_state, serve, shutdown_signal};

use super::{EXIT_FAILED, EXIT_POLICY};

/// `arnmap serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A RON configuration file (see `ServeConfig`); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]. Port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Data directory: SQLite store and signing keys [default: ./data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The store several replicas share, `postgres://USER@HOST:PORT/DB`,
    /// instead of the SQLite file in the data directory.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Policy files or directories [default: policies/].
    #[arg(long = "policies", num_args = 1..)]
    pub policies: Vec<PathBuf>,
    /// Serve an allowlisted STS host from another URL: `HOST=URL` (tests,
    /// private endpoints). The URL must be https, or http on loopback.
    #[arg(long = "sts-override", value_name = "HOST=URL")]
    pub sts_override: Vec<String>,
}

/// Runs the service until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> ExitCode {
    // A large policy's rules and source on huge pages (arnmap::huge_pages):
    // returns only when it did not execute again.
    let reexec_failed = arnmap::huge_pages::reexec_with_huge_page_heap();
    init_logging();
    if let Some(e) = reexec_failed {
        tracing::warn!(error = %e, "could not restart with the heap on huge pages; going on without");
    }
    tracing::info!(
        huge_pages = arnmap::huge_pages::heap_on_huge_pages(),
        "heap on transparent huge pages (ARNMAP_HUGE_PAGES=0 turns it off)"
    );
    let mut config = match &args.config {
        Some(path) => match ServeConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_POLICY);
            }
        },
        None => ServeConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(store) = args.store {
        config.store = Some(store);
    }
    if !args.policies.is_empty() {
        config.policies = args.policies;
    }
    for spec in &args.sts_override {
        let Some((host, url)) = spec.split_once('=') else {
            eprintln!("error: --sts-override takes HOST=URL, not {spec:?}");
            return ExitCode::from(EXIT_POLICY);
        };
        config
            .verifier
            .sts
            .overrides
            .insert(host.to_owned(), url.to_owned());
    }
    let state = match build_state(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_POLICY);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let listen = state.config.listen;
    // The synchronous PostgreSQL client blocks on its own runtime when
    // dropped, which panics inside this one: the last reference to the
    // state (and its store) is dropped below, after the runtime.
    let keep = Arc::clone(&state);
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        // Tests and scripts read this line to learn the port.
        eprintln!("arnmap serve: listening on http://{local}");
        serve(state, listener, shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    });
    drop(runtime);
    drop(keep);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ARNMAP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // No ANSI colours: every control character but an event's final newline
    // is escaped (`EscapedStderr`), colours included, so that nothing a
    // request carries can start a line or rewrite a terminal.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| EscapedStderr)
        .with_ansi(false)
        .try_init();
}

/// Standard error, with every control character of an event escaped as
/// `\u{..}` except the newline that ends it. The formatter writes each event
/// with one `write_all` of the whole line, so a newline anywhere else came
/// from a field: it is escaped too. Defence in depth: the audit fields are
/// already quoted and escaped where they are recorded.
struct EscapedStderr;

impl std::io::Write for EscapedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (line, end) = match text.strip_suffix('\n') {
            Some(line) => (line, "\n"),
            None => (&*text, ""),
        };
        let mut out = String::with_capacity(text.len() + 2);
        for c in line.chars() {
            if c.is_control() && c != '\t' {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            } else {
                out.push(c);
            }
        }
        out.push_str(end);
        std::io::stderr().write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
