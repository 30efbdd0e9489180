//! `arnmap serve` configuration: a RON file, every field defaulted, flags
//! override it.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::auth::token::TokenConfig;
use crate::auth::verifier::VerifierConfig;

/// The service configuration. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Where to listen. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// The data directory: the SQLite store and the signing keys. Default `data`.
    pub data_dir: PathBuf,
    /// The store, when it is not the SQLite file in `data_dir`:
    /// `Some("postgres://USER@HOST:PORT/DB")`, the PostgreSQL store several
    /// replicas share (feature `postgres`). Default `None`: SQLite in
    /// `data_dir`. The signing keys stay in `data_dir` either way.
    pub store: Option<String>,
    /// Policy files or directories loaded at start. Default `["policies"]`.
    pub policies: Vec<PathBuf>,
    /// Proof pre-checks, STS transport and replay protection.
    pub verifier: VerifierConfig,
    /// Token issuer, audience, lifetime, algorithm, keys.
    pub token: TokenConfig,
    /// Request limits.
    pub limits: Limits,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            store: None,
            policies: vec![PathBuf::from("policies")],
            verifier: VerifierConfig::default(),
            token: TokenConfig::default(),
            limits: Limits::default(),
        }
    }
}

/// Request limits. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body, bytes. Default 64 KiB.
    pub max_body_bytes: usize,
    /// Largest total of header names and values, bytes. Default 32 KiB
    /// (a proof is at most 16 KiB by default).
    pub max_header_bytes: usize,
    /// Sustained token exchanges per second per org. Default 50. Only
    /// tokens count: a proof STS did not confirm, or a caller the policy did
    /// not map, is charged to its client (below), never to the org it names.
    /// With a PostgreSQL store the budget is shared by every replica (while
    /// the database is unreachable, each replica keeps its own).
    pub exchanges_per_second: u32,
    /// Exchanges an org may make in a burst. Default 100.
    pub exchange_burst: u32,
    /// Sustained failed exchanges per second per client, per replica (never
    /// shared through the store: it is charged before any work). Default 1. A failure
    /// is a refusal for which the client answers: no or a malformed proof, a
    /// failed pre-check, an org without rules, STS refusing the proof, a
    /// replay, a caller not mapped or denied. Past its budget a client gets
    /// 429 `client_rate_limited` with `Retry-After`, before any STS call.
    pub client_failures_per_second: u32,
    /// Failed exchanges a client may make in a burst. Default 20.
    pub client_failure_burst: u32,
    /// The request header that names the client, e.g. `Some("X-Forwarded-For")`
    /// (its last comma-separated address is used). Default `None`: the
    /// client is the connection's peer address (IPv6 by /64). Set it **only**
    /// behind a proxy that sets or appends this header on every request;
    /// otherwise every client can name itself anew and escape its budget.
    pub client_ip_header: Option<String>,
    /// Whole-request timeout, seconds. Default 30 (STS retries included).
    pub request_timeout_secs: u64,
    /// How long a graceful shutdown waits for requests in flight, seconds. Default 10.
    pub shutdown_grace_secs: u64,
    /// A request head (request line and headers) must arrive within this
    /// many seconds of its first byte, else the connection is closed.
    /// Default 10.
    pub header_read_timeout_secs: u64,
    /// A connection with no request in flight on which no byte arrives for
    /// this many seconds (a silent new connection, an idle keep-alive one) is
    /// closed. Default 30.
    pub idle_timeout_secs: u64,
    /// Open connections at most; past it a new connection gets a 503
    /// `too_many_connections` and is closed. Default 512. Lowered at start,
    /// with a warning, to fit the open-file limit (`ulimit -n`) less 64.
    pub max_connections: usize,
    /// Open connections per client address (IPv6 by /64) at most; past it,
    /// as above. Default 32. Behind a proxy every connection comes from the
    /// proxy: raise this to `max_connections` there.
    pub max_connections_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            max_header_bytes: 32 * 1024,
            exchanges_per_second: 50,
            exchange_burst: 100,
            client_failures_per_second: 1,
            client_failure_burst: 20,
            client_ip_header: None,
            request_timeout_secs: 30,
            shutdown_grace_secs: 10,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            max_connections: 512,
            max_connections_per_client: 32,
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The RON does not parse or has unknown fields.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, with position.
        message: String,
    },
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

impl ServeConfig {
    /// Reads a RON configuration file.
    pub fn from_file(path: &std::path::Path) -> Result<ServeConfig, ServeConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ServeConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let config: ServeConfig = ron::from_str(&text).map_err(|e| ServeConfigError::Parse {
            path: shown,
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges that serde cannot.
    pub fn validate(&self) -> Result<(), ServeConfigError> {
        let l = &self.limits;
        if l.exchanges_per_second == 0 || l.exchange_burst == 0 {
            return Err(ServeConfigError::Invalid(
                "limits.exchanges_per_second and limits.exchange_burst must be at least 1".into(),
            ));
        }
        if l.client_failures_per_second == 0 || l.client_failure_burst == 0 {
            return Err(ServeConfigError::Invalid(
                "limits.client_failures_per_second and limits.client_failure_burst must be at least 1"
                    .into(),
            ));
        }
        if let Some(name) = &l.client_ip_header
            && axum::http::HeaderName::from_bytes(name.as_bytes()).is_err()
        {
            return Err(ServeConfigError::Invalid(format!(
                "limits.client_ip_header: `{name}` is not a header name"
            )));
        }
        if l.request_timeout_secs == 0 || l.max_body_bytes == 0 || l.max_header_bytes < 1024 {
            return Err(ServeConfigError::Invalid(
                "limits: request_timeout_secs and max_body_bytes must be positive, \
                 max_header_bytes at least 1024"
                    .into(),
            ));
        }
        if l.header_read_timeout_secs == 0
            || l.idle_timeout_secs == 0
            || l.max_connections == 0
            || l.max_connections_per_client == 0
        {
            return Err(ServeConfigError::Invalid(
                "limits: header_read_timeout_secs, idle_timeout_secs, max_connections and \
                 max_connections_per_client must be at least 1"
                    .into(),
            ));
        }
        if let Some(store) = &self.store
            && !super::store::is_postgres_url(store)
        {
            return Err(ServeConfigError::Invalid(format!(
                "store: expected postgres://USER@HOST:PORT/DB, not {:?}",
                super::store::redact(store)
            )));
        }
        if self.policies.is_empty() {
            return Err(ServeConfigError::Invalid(
                "policies: give at least one policy file or directory".into(),
            ));
        }
        Ok(())
    }
}
