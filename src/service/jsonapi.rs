//! JSON:API error bodies and responses.

use std::path::{MAIN_SEPARATOR, PathBuf};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One JSON:API error object.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorObject {
    /// The HTTP status, as a string.
    pub status: String,
    /// A stable machine-readable code.
    pub code: String,
    /// A short summary.
    pub title: String,
    /// What exactly was wrong.
    pub detail: String,
    /// Where in the request body, when it was the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// `source` of an error object.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// A JSON pointer into the request document.
    pub pointer: String,
}

/// An error response: a status, one error object, maybe a `Retry-After`.
/// Boxed so `Result<_, ApiError>` stays one pointer wide.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorParts>);

#[derive(Debug, Clone)]
struct ErrorParts {
    status: StatusCode,
    error: ErrorObject,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and detail; the title is the status's reason.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        ApiError(Box::new(ErrorParts {
            status,
            error: ErrorObject {
                status: status.as_u16().to_string(),
                code: code.to_owned(),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                detail: detail.into(),
                source: None,
            },
            retry_after: None,
        }))
    }

    /// Points at the member of the request body that was wrong.
    pub fn pointer(mut self, pointer: &str) -> ApiError {
        self.0.error.source = Some(Source {
            pointer: pointer.to_owned(),
        });
        self
    }

    /// Adds `Retry-After`.
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.0.retry_after = Some(secs.max(1));
        self
    }

    /// 400 with a pointer.
    pub fn bad_request(code: &str, detail: impl Into<String>, pointer: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail).pointer(pointer)
    }

    /// 401.
    pub fn unauthorized(code: &str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 403.
    pub fn forbidden(code: &str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 500, with nothing internal in the body.
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; see its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ErrorParts {
            status,
            error,
            retry_after,
        } = *self.0;
        let body = serde_json::json!({ "errors": [error] });
        let mut response = (status, json_body(&body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        response
    }
}

fn json_body(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

/// A JSON response with a status.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, json_body(value)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `text` with every path under the configured policy locations made relative
/// to them (`/srv/arnmap/policies/base.policy:4` → `base.policy:4`), so that
/// API responses never reveal where the server keeps its files. A configured
/// directory is the base of its files; a configured file's base is its parent.
pub(crate) fn relative_to_policies(policies: &[PathBuf], text: &str) -> String {
    let mut prefixes: Vec<String> = Vec::new();
    for configured in policies {
        let base = if configured.is_dir() {
            Some(configured.as_path())
        } else {
            configured.parent()
        };
        let Some(base) = base.filter(|b| !b.as_os_str().is_empty()) else {
            continue;
        };
        let canonical = std::fs::canonicalize(base).ok();
        for dir in std::iter::once(base).chain(canonical.as_deref()) {
            let mut prefix = dir.display().to_string();
            if !prefix.ends_with(MAIN_SEPARATOR) {
                prefix.push(MAIN_SEPARATOR);
            }
            if prefix.len() > 1 {
                prefixes.push(prefix);
            }
        }
    }
    // The longest first, so a nested configured directory wins over its parent.
    prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
    prefixes.dedup();
    prefixes.iter().fold(text.to_owned(), |text, prefix| {
        text.replace(prefix.as_str(), "")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths_are_made_relative() {
        let dir = std::env::temp_dir().join(format!("arnmap-rel-{}", std::process::id()));
        let nested = dir.join("team");
        std::fs::create_dir_all(&nested).unwrap();
        let file = dir.join("base.policy");
        let text = format!(
            "x (at {}:4); y at {}:2:1 (help: see {}/a.policy:1)",
            file.display(),
            nested.join("t.policy").display(),
            nested.display()
        );
        let got = relative_to_policies(std::slice::from_ref(&dir), &text);
        assert_eq!(
            got,
            "x (at base.policy:4); y at team/t.policy:2:1 (help: see team/a.policy:1)"
        );
        let got = relative_to_policies(std::slice::from_ref(&file), &text);
        assert!(got.starts_with("x (at base.policy:4)"), "{got}");
        assert!(!got.contains(&dir.display().to_string()), "{got}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
