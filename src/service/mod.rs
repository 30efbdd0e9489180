//! The reference service `arnmap serve` (docs/semantics.md §6): the token exchange
//! Datadog's clients speak, the persona-mapping API, JWKS, health and metrics.
//!
//! Endpoints:
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/v2/delegated-token` | `Authorization: Delegated <proof>` → a token (200), 401 bad proof, 403 not mapped / denied, 429 org or client rate limited, 503 STS unavailable |
//! | `GET/POST /api/v2/cloud_auth/aws/persona_mapping` | list / create (201; 400 with `source.pointer`; 409 duplicate) |
//! | `GET/DELETE /api/v2/cloud_auth/aws/persona_mapping/{id}` | get (200) / delete (204) |
//! | `GET /.well-known/jwks.json` | the token verification keys |
//! | `GET /healthz` | liveness |
//! | `GET /readyz` | readiness: whether the stored mappings are checked, and the quarantined orgs |
//! | `GET /metrics` | Prometheus text: exchanges by outcome, STS latency |

pub(crate) mod auth;
mod budget;
pub(crate) mod clients;
pub(crate) mod config;
pub(crate) mod conn;
pub(crate) mod guard;
pub(crate) mod jsonapi;
pub(crate) mod mappings;
pub(crate) mod metrics;
pub(crate) mod policies;
mod replay;
pub(crate) mod store;
pub(crate) mod sync;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use crate::auth::exchange::{Refusal, TokenExchange};
use crate::auth::token::keys::create_private_dir;
use crate::auth::token::{IssueError, KeyPair, KeyRing, KeyStoreError, TokenIssuer};
use crate::auth::verifier::{ConfigError, Verifier};
use crate::engine::reload::{ReloadError, prepare};
use crate::policy::source::{LoadError, SourceMap};

pub use config::{Limits, ServeConfig, ServeConfigError};
use jsonapi::ApiError;
use metrics::Metrics;
use policies::OrgPolicies;
pub use store::{Permission, Store, StoreError};

/// Everything a request handler needs. Shared as `Arc<AppState>`.
pub struct AppState {
    /// The proof → token pipeline.
    pub exchange: TokenExchange<Arc<OrgPolicies>>,
    /// The policies in force, per org.
    pub policies: Arc<OrgPolicies>,
    /// The store.
    pub store: Arc<Store>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Per-org exchange rate limit (tokens issued): the budget with SQLite,
    /// and with PostgreSQL while the database cannot be reached.
    pub limiter: DefaultKeyedRateLimiter<String>,
    /// The per-org budget every replica shares (PostgreSQL).
    pub(crate) budget: budget::SharedBudget,
    /// Per-client budget of failed exchanges.
    pub(crate) client_failures: clients::FailureBudget,
    /// Serialises persona-mapping writes per org (compile, store, swap).
    write_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The mappings in force, per org (their fingerprints): what the store
    /// is compared with to catch up on other replicas' writes.
    pub(crate) in_force: sync::InForce,
    /// Set once the stored mappings have been linted against the files.
    checked: std::sync::atomic::AtomicBool,
    /// When the other replicas' public keys were last read for an unknown
    /// kid (a shared store).
    pub(crate) keys_read: std::sync::Mutex<Option<Instant>>,
    /// Whether the shared store answered the listener's last check.
    pub(crate) store_up: std::sync::atomic::AtomicBool,
    /// The configuration in force.
    pub config: ServeConfig,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ServeConfigError),
    /// The verifier configuration is invalid.
    #[error("verifier configuration: {0}")]
    Verifier(#[from] ConfigError),
    /// The policy files could not be read.
    #[error("policies: {0}")]
    PolicyFiles(#[from] LoadError),
    /// The policy files do not compile, lint or pass their tests.
    #[error("policies:\n{rendered}")]
    Policies {
        /// Why.
        #[source]
        error: ReloadError,
        /// Every diagnostic, rendered against the sources.
        rendered: String,
    },
    /// Stored mappings no longer compile or lint with the policy files (no
    /// longer returned: such an org is quarantined and the others serve).
    #[error(
        "the stored persona mappings of org {org} no longer compile or lint with the policy files:\n{rendered}"
    )]
    StoredMappings {
        /// The org.
        org: String,
        /// Every diagnostic.
        rendered: String,
    },
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The keys could not be read, made or stored.
    #[error("{0}")]
    Keys(#[from] KeyStoreError),
    /// The token issuer could not be built.
    #[error("{0}")]
    Token(#[from] IssueError),
    /// I/O (data dir, listener).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let context = context.into();
    move |source| ServeError::Io { context, source }
}

/// Creates the data dir (mode 0700) if needed.
pub fn ensure_data_dir(dir: &Path) -> Result<(), ServeError> {
    create_private_dir(dir).map_err(io(format!("creating {}", dir.display())))
}

/// The key ring: configured PEM files, or the generated ring in `DATA/keys`.
pub(crate) fn key_ring(config: &ServeConfig) -> Result<KeyRing, ServeError> {
    let t = &config.token;
    match &t.signing_key {
        Some(path) => {
            let read = |p: &Path| -> Result<KeyPair, ServeError> {
                let pem =
                    std::fs::read_to_string(p).map_err(io(format!("reading {}", p.display())))?;
                Ok(KeyPair::from_pem(&pem, &p.display().to_string())?)
            };
            let signing = read(path)?;
            let others = t
                .verification_keys
                .iter()
                .map(|p| read(p))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(KeyRing::new(signing, others))
        }
        None => Ok(KeyRing::open_or_create(
            &config.data_dir.join("keys"),
            t.algorithm,
        )?),
    }
}

/// Builds the whole service state from a configuration: data dir, store,
/// keys, policy files, stored mappings, verifier.
pub fn build_state(config: ServeConfig) -> Result<Arc<AppState>, ServeError> {
    config.validate()?;
    ensure_data_dir(&config.data_dir)?;
    let store = Arc::new(match &config.store {
        Some(url) => Store::connect(url)?,
        None => Store::open(&config.data_dir)?,
    });
    let issuer = Arc::new(TokenIssuer::new(config.token.clone(), key_ring(&config)?)?);
    if store.is_shared() {
        // The private keys stay in this replica's data dir; the public keys
        // go to the store, so every replica verifies this one's tokens.
        for key in issuer.ring().keys() {
            let jwk = serde_json::to_string(key.jwk()).map_err(|e| {
                ServeError::Store(StoreError::Postgres(format!("encoding a JWK: {e}")))
            })?;
            store.publish_signing_key(key.kid(), &format!("{:?}", key.algorithm()), &jwk)?;
        }
        issuer.set_peer_keys(&store.signing_keys()?);
    }
    let sources = load_policy_files(&config.policies)?;
    let compiled = prepare(&sources).map_err(|error| ServeError::Policies {
        rendered: error.render(false),
        error,
    })?;
    let policies = Arc::new(OrgPolicies::new(sources, compiled));
    // Compiling each org's mappings (and running its tests) is needed to
    // answer correctly; linting them against the files is not, and runs
    // after the service listens ([`check_stored_mappings`]).
    let in_force = sync::InForce::default();
    for org in store.orgs_with_mappings()? {
        let mappings = store.mappings(&org)?;
        sync::apply(&policies, &in_force, &org, &mappings, false);
    }
    let mut verifier = Verifier::new(config.verifier.clone())?;
    if config.verifier.replay.enabled && store.is_shared() {
        verifier =
            verifier.with_shared_replay(Arc::new(replay::StoreReplay::new(Arc::clone(&store))));
    }
    let verifier = Arc::new(verifier);
    let metrics = Arc::new(Metrics::new());
    let observer = Arc::clone(&metrics);
    let exchange = TokenExchange::new(verifier, Arc::clone(&policies), issuer)
        .with_sts_observer(Arc::new(move |d| observer.sts(d)));
    let l = &config.limits;
    let per_second = NonZeroU32::new(l.exchanges_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(l.exchange_burst).unwrap_or(NonZeroU32::MIN);
    let limiter = RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst));
    Ok(Arc::new(AppState {
        exchange,
        policies,
        store,
        metrics,
        limiter,
        budget: budget::SharedBudget::default(),
        client_failures: clients::FailureBudget::new(
            l.client_failures_per_second,
            l.client_failure_burst,
        ),
        write_locks: std::sync::Mutex::new(HashMap::new()),
        in_force,
        checked: std::sync::atomic::AtomicBool::new(false),
        keys_read: std::sync::Mutex::new(None),
        store_up: std::sync::atomic::AtomicBool::new(true),
        config,
    }))
}

/// The policy files: a directory without `*.policy` files contributes none
/// (an API-only deployment configures every mapping through the API).
fn load_policy_files(paths: &[std::path::PathBuf]) -> Result<SourceMap, ServeError> {
    let mut kept = Vec::new();
    for path in paths {
        match SourceMap::load(std::slice::from_ref(path)) {
            Err(LoadError::EmptyDirectory(dir)) => {
                tracing::info!(dir = %dir.display(), "no *.policy file: every mapping comes from the API");
            }
            Err(e) => return Err(e.into()),
            Ok(_) => kept.push(path.clone()),
        }
    }
    Ok(SourceMap::load(&kept)?)
}

/// The first error's code and message, for `/readyz`.
pub(crate) fn first_error(diags: &crate::policy::diagnostic::Diagnostics) -> String {
    diags
        .0
        .iter()
        .find(|d| d.is_error())
        .map_or("the stored mappings were refused".into(), |d| {
            format!("{}: {}", d.code.as_str(), d.message)
        })
}

/// Lints every org's stored mappings against the policy files (what a change
/// of the files can break) and quarantines an org whose mappings now conflict
/// with them. Runs after the service listens, without holding the orgs'
/// write locks while it lints.
pub(crate) fn check_stored_mappings(state: &AppState) {
    let orgs = match state.store.orgs_with_mappings() {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::error!(error = %e, "store failure while checking the stored mappings");
            return;
        }
    };
    for org in orgs {
        // Checked without the org's write lock (writes go on), then confirmed
        // under it: the mappings must be the ones checked.
        for _ in 0..3 {
            if state.policies.is_quarantined(&org) {
                break;
            }
            let mappings = match state.store.mappings(&org) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(error = %e, "store failure while checking the stored mappings");
                    break;
                }
            };
            let checked = state
                .policies
                .compile_stored(&org, &mappings)
                .and_then(|own| state.policies.lint_stored(&org, &mappings, &own));
            let Err((sources, diags)) = checked else {
                break;
            };
            let lock = state.org_write_lock(&org);
            let _writer = lock.blocking_lock();
            let unchanged = state
                .store
                .mappings(&org)
                .is_ok_and(|now| now.iter().map(|m| &m.id).eq(mappings.iter().map(|m| &m.id)));
            if !unchanged {
                continue;
            }
            let rendered = diags.render(&sources, false);
            tracing::error!(org = %org, diagnostics = %rendered, "the stored persona mappings of this org no longer lint with the policy files; the org is quarantined (its exchanges get 503 org_unavailable)");
            state.policies.quarantine(&org, first_error(&diags));
            break;
        }
    }
    state
        .checked
        .store(true, std::sync::atomic::Ordering::Release);
    tracing::info!("stored persona mappings checked against the policy files");
}

/// The router, with every limit applied.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let limits = state.config.limits.clone();
    Router::new()
        .route("/api/v2/delegated-token", post(delegated_token))
        .route(
            "/api/v2/cloud_auth/aws/persona_mapping",
            get(mappings::list).post(mappings::create),
        )
        .route(
            "/api/v2/cloud_auth/aws/persona_mapping/{id}",
            get(mappings::get).delete(mappings::delete),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            limit_headers,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            guard::deadline,
        ))
        .layer(middleware::from_fn(guard::json_errors))
        .with_state(state)
}

async fn limit_headers(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if size > state.config.limits.max_header_bytes {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request headers are {size} bytes; the limit is {}",
                state.config.limits.max_header_bytes
            ),
        )
        .into_response();
    }
    next.run(request).await
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn healthz() -> Response {
    jsonapi::json(StatusCode::OK, &json!({ "status": "ok" }))
}

/// Readiness: `checking` until the stored mappings are linted against the
/// files, then `ready`, or `degraded` with the quarantined orgs (whose
/// exchanges fail closed while every other org serves); with a shared store,
/// `store`: `ok` or `unavailable` (as the listener last found it).
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let checked = state.checked.load(std::sync::atomic::Ordering::Acquire);
    let quarantined: Vec<serde_json::Value> = state
        .policies
        .quarantined()
        .into_iter()
        .map(|(org, reason)| json!({ "org": org, "reason": reason }))
        .collect();
    let status = match (checked, quarantined.is_empty()) {
        (false, _) => "checking",
        (true, true) => "ready",
        (true, false) => "degraded",
    };
    let mut body = json!({ "status": status, "quarantined": quarantined });
    // A shared store: whether it answers (exchanges go on from the policy
    // in force when it does not; writes get 503 store_unavailable).
    if state.store.is_shared() {
        let up = state.store_up.load(std::sync::atomic::Ordering::Acquire);
        if let Some(fields) = body.as_object_mut() {
            fields.insert("store".into(), json!(if up { "ok" } else { "unavailable" }));
        }
    }
    jsonapi::json(StatusCode::OK, &body)
}

async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    let set = serde_json::to_value(state.exchange.issuer().jwks()).unwrap_or(json!({"keys": []}));
    jsonapi::json(StatusCode::OK, &set)
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

impl AppState {
    /// The lock that serialises persona-mapping writes of `org`.
    pub fn org_write_lock(&self, org: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.write_locks.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(locks.entry(org.to_owned()).or_default())
    }
}

async fn delegated_token(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |c| c.0.ip());
    let client = clients::client_of(
        state.config.limits.client_ip_header.as_deref(),
        headers,
        peer,
    );
    // A unit of the client's failure budget is reserved before any work and
    // given back unless the exchange failed by the client's doing: a client
    // past its budget is refused here, before decoding or asking STS.
    if let Err(secs) = state.client_failures.reserve(client, Instant::now()) {
        state.metrics.exchange("client_rate_limited");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "client_rate_limited",
            format!("too many failed exchanges from this client; retry in {secs} s"),
        )
        .retry_after(secs));
    }
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(proof) = auth.strip_prefix("Delegated ") else {
        state.metrics.exchange("missing_proof");
        return Err(ApiError::unauthorized(
            "missing_proof",
            "send Authorization: Delegated <proof>",
        ));
    };
    let proof = proof.to_owned();
    let worker = Arc::clone(&state);
    let result = tokio::task::spawn_blocking(move || {
        worker
            .exchange
            .exchange_gated(&proof, SystemTime::now(), |org| worker.rate_limit(org))
    })
    .await;
    let client_answers = matches!(&result, Ok(Err(e)) if e.charged_to_client());
    if !client_answers {
        state.client_failures.refund(client, Instant::now());
    }
    let result = result.map_err(|_| ApiError::internal())?;
    match result {
        Ok(done) => {
            state.metrics.exchange("issued");
            let claims = &done.token.claims;
            Ok(jsonapi::json(
                StatusCode::OK,
                &json!({
                    "data": {
                        "type": "delegated_token",
                        "id": claims.jti,
                        "attributes": {
                            "access_token": done.token.token,
                            "expires": claims.exp.to_string(),
                        }
                    }
                }),
            ))
        }
        Err(e) => {
            let code = e.code();
            state.metrics.exchange(&code);
            Err(match e.refusal() {
                Refusal::Unauthenticated => ApiError::unauthorized(&code, e.to_string()),
                Refusal::Forbidden => ApiError::forbidden(&code, e.to_string()),
                Refusal::TooMany(secs) => {
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, &code, e.to_string())
                        .retry_after(secs)
                }
                Refusal::Unavailable => {
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, &code, e.to_string())
                        .retry_after(1)
                }
                Refusal::Internal => {
                    tracing::error!(error = %e, "token exchange failed internally");
                    ApiError::internal()
                }
            })
        }
    }
}

/// Serves until `shutdown` resolves, then drains requests in flight for at
/// most the configured grace period. Connections are capped (globally and
/// per client) and closed when idle or too slow to send a request head
/// (`limits`).
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let limits = state.config.limits.clone();
    let checker = Arc::clone(&state);
    tokio::task::spawn_blocking(move || check_stored_mappings(&checker));
    // Other replicas' mapping writes (a shared store only).
    sync::spawn(&state);
    let app = router(state);
    conn::run(listener, app, &limits, shutdown)
        .await
        .map_err(io("serving"))
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; draining");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::identity::CallerIdentity;
    use crate::engine::decision::Decision;
    use crate::rule::condition::Caller;
    use axum::extract::State;
    use axum::http::{HeaderMap, HeaderValue};

    const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";

    fn config(dir: &Path) -> ServeConfig {
        let policies = dir.join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        ServeConfig {
            data_dir: dir.join("data"),
            policies: vec![policies],
            ..ServeConfig::default()
        }
    }

    fn decide(state: &AppState, arn: &str) -> Decision {
        let id = CallerIdentity::parse_arn(arn).unwrap();
        let caller = Caller {
            identity: &id,
            region: None,
        };
        state.policies.decide(ORG, &caller).unwrap()
    }

    /// Item 7: two overlapping mappings of equal specificity (and one account,
    /// so lint accepts them) decide by declaration order; that order is the
    /// stored sequence, so the deciding mapping is the same when written and
    /// after every restart (not the order of their random UUIDs).
    #[test]
    fn the_deciding_mapping_survives_restarts() {
        let dir = std::env::temp_dir().join(format!(
            "arnmap-order-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let state = build_state(config(&dir)).unwrap();
        let keys = state
            .store
            .create_keys(ORG, &[Permission::Read, Permission::Write])
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("dd-api-key", HeaderValue::from_str(&keys.api_key).unwrap());
        headers.insert(
            "dd-application-key",
            HeaderValue::from_str(&keys.app_key).unwrap(),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Eight pairs, each pair written within the same second: with
        // UUID order, at least one pair would flip (all eight keep their
        // order with probability 1/256).
        let pairs = 8;
        let mut written = Vec::new();
        for i in 0..pairs {
            for pattern in [format!("u{i}a*"), format!("u{i}*a")] {
                let body = serde_json::json!({"data": {"type": "aws_cloud_auth_config",
                    "attributes": {"account_identifier": format!("same{i}@example.com"),
                        "arn_pattern": format!("arn:aws:iam::123456789012:user/{pattern}")}}});
                let response = runtime
                    .block_on(mappings::create(
                        State(Arc::clone(&state)),
                        None,
                        headers.clone(),
                        body.to_string().into(),
                    ))
                    .unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
            }
            let arn = format!("arn:aws:iam::123456789012:user/u{i}aa");
            written.push((arn.clone(), decide(&state, &arn)));
        }
        drop(state);
        for _restart in 0..3 {
            let state = build_state(config(&dir)).unwrap();
            for (arn, decision) in &written {
                assert_eq!(&decide(&state, arn), decision, "{arn}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
