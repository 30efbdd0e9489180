//! Router-independent request guards: the request deadline, and a JSON:API
//! body on every error the framework answers by itself (405, 413, a body
//! that cannot be read, …).
//!
//! Persona-mapping writes are not cut off by the deadline from outside: a
//! write abandoned half-way could still commit. They get the deadline
//! ([`Deadline`]) and check it themselves just before the commit, inside the
//! store's transaction: a write either commits within its deadline and says
//! so, or is rolled back and answers 408. Whatever status the client gets is
//! the truth.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::jsonapi::ApiError;

/// When a request must be answered by; a request extension.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

impl Deadline {
    /// Is it still before the deadline?
    pub fn open(self) -> bool {
        Instant::now() < self.0
    }

    /// The time left (zero once past).
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// Does this request write persona mappings (and so enforce its own deadline)?
fn is_mapping_write(request: &Request) -> bool {
    matches!(*request.method(), Method::POST | Method::DELETE)
        && request
            .uri()
            .path()
            .starts_with("/api/v2/cloud_auth/aws/persona_mapping")
}

/// The 408 of a request that ran out of time; nothing was written.
pub fn timed_out() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request did not complete within the server's time limit; nothing was changed",
    )
}

/// The request deadline: other requests are cut off at it with a JSON:API
/// 408; persona-mapping writes get it as a [`Deadline`] extension and
/// enforce it before they commit.
pub async fn deadline(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let limit = Duration::from_secs(state.config.limits.request_timeout_secs);
    let deadline = Deadline(Instant::now() + limit);
    if is_mapping_write(&request) {
        request.extensions_mut().insert(deadline);
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out().into_response(),
    }
}

/// Gives every error response without a JSON body one (JSON:API `errors`),
/// keeping its status and headers.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not take this method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported media type"),
        s if s.is_server_error() => ("internal", "the server could not complete the request"),
        _ => ("bad_request", "the request could not be read"),
    };
    let mut fixed = ApiError::new(status, code, detail).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name, value.clone());
        }
    }
    fixed
}
